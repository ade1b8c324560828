"""haproxy.cfg held in a ConfigMap: parsed as HAProxy, findings at the lines of the YAML file."""

from __future__ import annotations

from pathlib import Path

from infralint.api import ScanOptions, scan

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: haproxy
  namespace: edge
data:
  haproxy.cfg: |
    global
        maxconn 2000

    defaults
        mode http
        option forwardfor
        timeout connect 5s
        timeout client 30s
        timeout server 30s

    frontend web
        bind :8080
        http-request redirect scheme https unless { ssl_fc }
        default_backend app

    backend app
        server app1 10.0.0.11:8080
        server app2 10.0.0.12:8080 check

    # infralint: ignore[haproxy-single-server-backend] one replica behind a Service
    backend api
        server api1 api.edge.svc:8080 check

    backend legacy
        server old1 10.0.0.31:8080 # infralint: ignore[haproxy-server-no-health-check] being removed
  other-key: "not a config"
"""


def _scan(tmp_path: Path, text: str, select: list[str], in_dir) -> list[tuple[str, int | None, int | None, str]]:
    (tmp_path / "haproxy-configmap.yaml").write_text(text, encoding="utf-8")
    in_dir(tmp_path)
    report = scan(["."], ScanOptions(select=select))
    return sorted((f.rule_id, f.span.line, f.span.col, f.message) for f in report.findings)


def test_findings_point_at_the_yaml_lines(tmp_path: Path, in_dir) -> None:
    found = _scan(tmp_path, CONFIGMAP, ["haproxy-server-no-health-check", "haproxy-no-retries-redispatch"], in_dir)
    assert [(rule, line, col) for rule, line, col, _ in found] == [
        ("haproxy-no-retries-redispatch", 23, 5),  # `backend app`, indented 4 in the YAML block
        ("haproxy-server-no-health-check", 24, 9),  # `server app1`
    ]
    assert "server 'app1' in backend 'app'" in found[1][3]


def test_suppression_comments_inside_the_embedded_config(tmp_path: Path, in_dir) -> None:
    found = _scan(tmp_path, CONFIGMAP, ["haproxy-single-server-backend", "haproxy-server-no-health-check"], in_dir)
    rules_and_lines = [(rule, line) for rule, line, _, _ in found]
    assert ("haproxy-single-server-backend", 28) not in rules_and_lines  # own-line comment above `backend api`
    assert ("haproxy-server-no-health-check", 32) not in rules_and_lines  # end-of-line comment on the server
    assert ("haproxy-single-server-backend", 31) in rules_and_lines  # `backend legacy` still reported
    assert ("haproxy-server-no-health-check", 24) in rules_and_lines


def test_parse_errors_inside_the_embedded_config(tmp_path: Path, in_dir) -> None:
    broken = CONFIGMAP.replace("        bind :8080\n", '        bind "127.0.0.1:8080\n')
    found = _scan(tmp_path, broken, ["infralint-parse-error"], in_dir)
    assert [(rule, line, col) for rule, line, col, _ in found] == [("infralint-parse-error", 19, 14)]
    assert "unmatched double quote" in found[0][3]


def test_embedded_config_without_final_newline_is_not_an_error(tmp_path: Path, in_dir) -> None:
    stripped = CONFIGMAP.replace("  haproxy.cfg: |\n", "  haproxy.cfg: |-\n")
    found = _scan(tmp_path, stripped, ["infralint-parse-error"], in_dir)
    assert found == []


def test_backends_resolve_within_the_configmap(tmp_path: Path, in_dir) -> None:
    text = CONFIGMAP.replace("default_backend app", "default_backend missing")
    found = _scan(tmp_path, text, ["haproxy-undefined-backend"], in_dir)
    assert [(rule, line) for rule, line, _, _ in found] == [("haproxy-undefined-backend", 21)]
