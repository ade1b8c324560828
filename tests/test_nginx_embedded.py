"""nginx.conf held in a ConfigMap: parsed as nginx, findings at the lines (and columns) of the YAML file."""

from __future__ import annotations

from pathlib import Path

from scanning import scan_tree, write

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-nginx
  namespace: shop
data:
  nginx.conf: |
    events {}
    http {
        server_tokens off;
        include /etc/nginx/mime.types;
        include /etc/nginx/conf.d/*.conf;
        server {
            listen 8080;
            location /files/ {
                autoindex on;
            }
            location /status {
                stub_status; # infralint: ignore[nginx-status-page-public] scraped through the pod network
            }
        }
        # infralint: ignore[nginx-autoindex] a public mirror
        server {
            listen 8081;
            autoindex on;
            location /static {
                alias /srv/static/;
            }
        }
    }
  default.conf: "server {\\n  listen 80;\\n  autoindex on;\\n}\\n"
  other: plain text
"""


def _found(report) -> list[tuple[str, str, int | None, int | None]]:
    return sorted((f.rule_id, f.span.path, f.span.line, f.span.col) for f in report.findings)


def test_findings_point_at_the_yaml_lines_and_columns(tmp_path: Path) -> None:
    write(tmp_path, "configmap.yaml", CONFIGMAP)
    report = scan_tree(tmp_path, select=["nginx-autoindex", "nginx-alias-traversal", "infralint"])
    assert _found(report) == [
        ("nginx-alias-traversal", "configmap.yaml", 27, 17),  # `alias`, indented 16 in the YAML block
        ("nginx-autoindex", "configmap.yaml", 16, 17),  # `autoindex on` of the first server
        ("nginx-autoindex", "configmap.yaml", 31, 44),  # inside the quoted value: its own column
    ]
    [alias] = [f for f in report.findings if f.rule_id == "nginx-alias-traversal"]
    assert alias.node_id == "nginx/configmap.yaml#nginx.conf/server[:8081]/location[/static]"


def test_includes_of_embedded_configs_are_neither_followed_nor_reported(tmp_path: Path) -> None:
    write(tmp_path, "configmap.yaml", CONFIGMAP)
    report = scan_tree(tmp_path, select=["infralint"])
    assert [f for f in report.findings if f.rule_id.startswith("infralint-include")] == []


def test_suppressions_inside_the_embedded_text(tmp_path: Path) -> None:
    """The end-of-line comment covers the stub_status line; the own-line one the whole second server."""
    write(tmp_path, "configmap.yaml", CONFIGMAP)
    report = scan_tree(tmp_path, select=["nginx-status-page-public", "nginx-autoindex"])
    assert _found(report) == [
        ("nginx-autoindex", "configmap.yaml", 16, 17),
        ("nginx-autoindex", "configmap.yaml", 31, 44),
    ]


def test_nodes_hang_under_the_configmap(tmp_path: Path) -> None:
    from infralint.graph.build import build
    from infralint.parsers import kubernetes
    from infralint.source import SourceFile

    write(tmp_path, "configmap.yaml", CONFIGMAP)
    source = SourceFile("configmap.yaml", str(tmp_path / "configmap.yaml"), CONFIGMAP, "k8s", root=str(tmp_path))
    graph = build(kubernetes.parse(source).nodes)
    config = graph.nodes["nginx/configmap.yaml#nginx.conf"]
    assert config.parent == "k8s/ConfigMap/shop/web-nginx"
    assert config.facts["embedded"] and config.facts["embedded_in"] == "k8s/ConfigMap/shop/web-nginx"
    assert config.span.line == 8
    server = graph.nodes["nginx/configmap.yaml#nginx.conf/server[:8080]"]
    assert (server.span.line, server.span.col, server.end_line) == (13, 9, 21)
    assert "nginx/configmap.yaml#default.conf/server[:80]" in graph.nodes


def test_a_syntax_error_in_embedded_text_points_into_the_yaml(tmp_path: Path) -> None:
    text = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: broken
data:
  nginx.conf: |
    events {}
    http {
        server {
            listen 80
        }
    }
"""
    write(tmp_path, "configmap.yaml", text)
    report = scan_tree(tmp_path, select=["infralint"])
    assert _found(report) == [("infralint-parse-error", "configmap.yaml", 11, 9)]


def test_a_quoted_value_maps_every_finding_to_its_character(tmp_path: Path) -> None:
    text = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: quoted
data:
  site.conf: "server {\\n  listen 80;\\n  autoindex on;\\n  location /x { alias /srv/x/; }\\n}\\n"
"""
    write(tmp_path, "configmap.yaml", text)
    report = scan_tree(tmp_path, select=["nginx-autoindex", "nginx-alias-traversal", "infralint"])
    line = text.splitlines()[5]
    assert _found(report) == [
        ("nginx-alias-traversal", "configmap.yaml", 6, line.index("alias /srv") + 1),
        ("nginx-autoindex", "configmap.yaml", 6, line.index("autoindex") + 1),
    ]
