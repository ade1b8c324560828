"""nginx rules that stay quiet where their advice would change nothing (the precision audit)."""

from __future__ import annotations

from pathlib import Path

from scanning import found, scan_tree, write

PROXY_COMPOSE = """\
services:
  proxy:
    image: nginx:1.27
    volumes:
      - ./nginx.conf:/etc/nginx/conf.d/default.conf:ro
  api:
    image: example/api:1.4
"""


def test_host_spoofing_in_a_snippet_whose_server_is_unknown_is_still_reported(tmp_path: Path) -> None:
    write(
        tmp_path, "snippets/proxy.conf", "proxy_set_header Host $http_host;\nproxy_set_header X-Real-IP $remote_addr;\n"
    )
    report = scan_tree(tmp_path, select=["nginx-host-header-spoofing"])
    assert found(report) == {("snippets/proxy.conf", 1, "nginx-host-header-spoofing")}


def test_host_spoofing_follows_the_server_that_includes_the_snippet(tmp_path: Path) -> None:
    write(tmp_path, "proxy.conf", "proxy_set_header Host $http_host;\n")
    write(
        tmp_path,
        "nginx.conf",
        "events {}\nhttp {\n"
        "    server { listen 80; server_name _; location / { include proxy.conf; proxy_pass http://10.0.0.1; } }\n"
        "    server { listen 80; server_name app.example.com; location / { include proxy.conf; proxy_pass http://10.0.0.2; } }\n"
        "}\n",
    )
    report = scan_tree(tmp_path, select=["nginx-host-header-spoofing"])
    assert found(report) == {("proxy.conf", 1, "nginx-host-header-spoofing")}  # once, for the named server


def test_single_server_naming_a_compose_service_is_not_reported(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", PROXY_COMPOSE)
    write(
        tmp_path,
        "nginx.conf",
        "upstream api { server api:8000; }\n"
        "upstream gone { server billing:8000; }\n"  # no such service in the project
        "server { listen 80; location / { proxy_pass http://api; } location /b/ { proxy_pass http://gone; } }\n",
    )
    report = scan_tree(tmp_path, select=["nginx-upstream-single-server"])
    assert found(report) == {("nginx.conf", 2, "nginx-upstream-single-server")}
