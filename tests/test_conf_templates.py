"""Server configs that are templates for another tool are reported once, never parsed."""

from __future__ import annotations

from pathlib import Path

import pytest

from infralint.parsers.conf_templates import template_line
from tests.scanning import found, scan_tree, write

NGINX_GO_TEMPLATE = """\
worker_processes {{ .Env.NGINX_WORKER_PROCESSES | default "4" }};
events {
    worker_connections 768;
}
http {
    server {
        listen 80;
{{ if .Env.ENABLE_HTTP_REDIRECT | default "0" | toBool }}
        return 301 https://$host$request_uri;
{{ end }}
    }
}
"""

HAPROXY_JINJA = """\
global
    maxconn 100

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s

backend app
{% for host in groups['web'] %}
    server {{ host }} {{ hostvars[host].ip }}:80 check
{% endfor %}
"""

REDIS_TEMPLATE = """\
bind 0.0.0.0
port 6379
requirepass {{ .Env.REDIS_PASSWORD }}
"""


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("nginx.conf", NGINX_GO_TEMPLATE, 1),
        ("haproxy.cfg", HAPROXY_JINJA, 11),
        ("redis.conf", REDIS_TEMPLATE, 3),
    ],
)
def test_a_config_template_is_one_note_at_its_first_action(tmp_path: Path, name: str, text: str, line: int) -> None:
    write(tmp_path, name, text)
    report = scan_tree(tmp_path)
    assert found(report, "infralint-") == {(name, line, "infralint-unsupported-template")}
    # not judged: no parse error, and no rule saw nodes of it
    assert {f.rule_id for f in report.findings} == {"infralint-unsupported-template"}


def test_braces_that_are_config_syntax_are_not_a_template(tmp_path: Path) -> None:
    write(
        tmp_path,
        "nginx.conf",
        """\
http {
    map $http_accept $json {
        default '{"a":{"b":1}}';
    }
    server {
        listen 80;
        location ~ ^/v[0-9]{2}/ { return 204; }
    }
}
""",
    )
    report = scan_tree(tmp_path)
    assert not {f for f in found(report) if f[2] == "infralint-unsupported-template"}


def test_template_line_needs_an_action_closed_on_its_line() -> None:
    assert template_line("a {{ b\n}}\n") is None
    assert template_line("x\n  {%- if a %}\n") == 2
    assert template_line("set $x '{{';\n") is None
