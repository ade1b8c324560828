"""Which texts are claimed as nginx, HAProxy or Redis: in ConfigMap data and in files whose
name leaves the kind open. Only evidence of the format counts; other syntaxes are never parsed."""

from __future__ import annotations

from pathlib import Path

import pytest
from scanning import found, scan_tree, write

from infralint import discover, sniff
from infralint.parsers.kubernetes import embedded_kind

NOMAD_HCL = "server {\n  enabled          = true\n  bootstrap_expect = 3\n}\n"
HCL_LISTEN = 'server {\n  listen      = "0.0.0.0:8080"\n  server_name = "api"\n}\n'
CADDY_MAP = "example.com {\n  map {host} {backend} {\n    default web:80\n  }\n  reverse_proxy {backend}\n}\n"
UNBOUND = "server:\n  interface: 0.0.0.0\n  access-control: 10.0.0.0/8 allow\n"
FLUENT_BIT = "[SERVICE]\n    Flush 1\n    Log_Level info\n[INPUT]\n    Name tail\n    Path /var/log/*.log\n"
VECTOR_TOML = '[sources.logs]\ntype = "file"\ninclude = ["/var/log/*.log"]\n'
BIND = 'options {\n  directory "/var/cache/bind";\n  listen-on { any; };\n};\ninclude "/etc/bind/local";\n'
JAVASCRIPT = 'function handler(r) {\n  if (r.uri == "/") {\n    return r.return(200);\n  }\n}\n'
SQL = "set search_path = public;\ncreate table t (id int);\n"
TERRAFORM_BACKEND = 'backend "s3" {\n  bucket = "state"\n}\n'
PROSE = "listen to the logs before paging anyone\n  then open a ticket\n"


@pytest.mark.parametrize(
    "text",
    [
        NOMAD_HCL,
        HCL_LISTEN,
        CADDY_MAP,
        UNBOUND,
        FLUENT_BIT,
        VECTOR_TOML,
        BIND,
        JAVASCRIPT,
        SQL,
        TERRAFORM_BACKEND,
        PROSE,
    ],
    ids=["nomad", "hcl-listen", "caddy", "unbound", "fluent-bit", "vector", "bind", "js", "sql", "terraform", "prose"],
)
def test_other_formats_are_not_claimed(text: str) -> None:
    assert sniff.kind_by_content("data.conf", text) is None
    assert embedded_kind("default.conf", text) is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("server {\n    listen 80;\n}\n", "nginx"),
        ("server {\n    root /srv;\n    location = /health {\n        return 200;\n    }\n}\n", "nginx"),
        ("map $http_upgrade $connection_upgrade {\n    default upgrade;\n}\n", "nginx"),
        ("include snippets/headers.conf;\ninclude snippets/cache.conf;\n", "nginx"),  # an include list
        ("location /api {\n    content_by_lua_block {\n        ngx.var.x = 1\n    }\n}\n", "nginx"),  # OpenResty
        ("frontend web\n    bind :80\n    mode http\n    default_backend app\n", "haproxy"),
        ("global\n    maxconn 100\n", "haproxy"),
        ("maxmemory 1gb\nappendonly yes\nsave 900 1\n", "redis"),
    ],
)
def test_formats_are_claimed_on_their_own_evidence(text: str, kind: str) -> None:
    assert sniff.kind_by_content("data.conf", text) == kind
    assert embedded_kind("default.conf", text) == kind


def test_a_name_that_says_the_format_lowers_the_bar_but_not_past_other_syntaxes() -> None:
    flattened = "global chroot /var/lib/haproxy user haproxy group haproxy maxconn 4000\n"
    assert sniff.kind_by_content("lb.cfg", flattened) is None
    assert sniff.kind_by_content("tests/haproxy_flat.cfg", flattened) == "haproxy"
    assert sniff.kind_by_content("nginx-site.conf", "index index.html;\nroot /srv;\n") == "nginx"
    assert sniff.kind_by_content("nginx-site.conf", NOMAD_HCL) is None
    assert embedded_kind("nginx.conf", NOMAD_HCL) == "nginx"  # the exact name settles it: errors are real


def test_a_name_that_says_another_format_is_never_claimed_by_content() -> None:
    nginx_like = "server {\n    listen 80;\n    server_name a;\n}\n"
    for key in ("Caddyfile", "unbound.conf", "fluent-bit.conf", "agent.hcl", "vector.toml", "init.sql"):
        assert embedded_kind(key, nginx_like) is None


CONFIGMAPS = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: edge
data:
  agent.conf: |
    server {
      enabled = true
    }
  site.conf: |
    example.com {
      map {host} {backend} {
        default web:80
      }
    }
  default.conf: |
    server {
        listen 80;
        server_name files.example.com;
        location /files/ {
            autoindex on;
        }
    }
"""


def test_configmap_keys_of_other_formats_beside_a_real_nginx_one(tmp_path: Path) -> None:
    write(tmp_path, "cm.yaml", CONFIGMAPS)
    report = scan_tree(tmp_path, select=["infralint", "nginx-autoindex"])
    assert found(report) == {("cm.yaml", 21, "nginx-autoindex")}
    assert report.graph is not None
    keys = {node.facts.get("embedded_key") for node in report.graph.nodes.values() if node.kind.startswith("nginx/")}
    assert keys == {"default.conf"}


def test_a_conf_file_with_a_server_block_in_hcl_is_not_nginx(tmp_path: Path) -> None:
    path = write(tmp_path, "server.conf", NOMAD_HCL)
    source = discover.read(str(path), str(tmp_path), discover.DEFAULT_MAX_BYTES)
    assert source is None or source.kind is None  # type: ignore[union-attr]
    report = scan_tree(tmp_path, select=["infralint"])
    assert found(report) == set()
