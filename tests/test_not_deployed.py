"""A config file that no deployment of the scan runs, while that deployment runs another component
for its role (Caddy instead of nginx, nginx with another config, Redis with another config or
none), is not deployed: it gets only correctness and input checks, as development files do."""

from __future__ import annotations

from pathlib import Path

import pytest
from scanning import found, scan_tree, write

from infralint.development import component_of, names_folder, names_path

CADDY_COMPOSE = """services:
  proxy:
    image: caddy:2.8
    ports: ["443:443"]
    volumes:
      - ./Caddyfile:/etc/caddy/Caddyfile:ro
  app:
    image: registry.example.com/app:1.4.2
"""

NGINX_COMPOSE = """services:
  proxy:
    image: nginx:1.27
    ports: ["443:443"]
    volumes:
      - ./nginx/prod.conf:/etc/nginx/nginx.conf:ro
  app:
    image: registry.example.com/app:1.4.2
"""

NO_PROXY_COMPOSE = """services:
  app:
    image: registry.example.com/app:1.4.2
    ports: ["8080:8080"]
"""

# server_tokens, plain http, timeouts, static DNS: hardening; $2 with one capture: correctness.
NGINX = """events {}
http {
  server {
    listen 80;
    location ~ ^/api/(.*)$ {
      proxy_pass http://app:8080/$2;
    }
  }
}
"""
NGINX_CORRECTNESS = {("nginx/nginx.conf", 6, "nginx-invalid-capture")}


def _nginx(report: object, path: str = "nginx/") -> set[tuple[str, int | None, str]]:
    return {f for f in found(report) if f[0].startswith(path)}  # type: ignore[arg-type]


def _hardening(report: object, path: str) -> set[str]:
    return {rule for file, _line, rule in found(report) if file == path} - {"nginx-invalid-capture"}  # type: ignore[arg-type]


def _caddy_tree(root: Path) -> None:
    write(root, "compose.yaml", CADDY_COMPOSE)
    write(root, "Caddyfile", "example.com {\n  reverse_proxy app:8080\n}\n")
    write(root, "nginx/nginx.conf", NGINX)


# --- left out -----------------------------------------------------------------------------------


def test_an_nginx_config_nothing_uses_beside_a_caddy_deployment_keeps_its_correctness_findings_only(
    tmp_path: Path,
) -> None:
    _caddy_tree(tmp_path)
    report = scan_tree(tmp_path)
    assert _nginx(report) == NGINX_CORRECTNESS
    assert report.development["nginx-server-tokens"] == 1
    assert report.development["nginx-plain-http-server"] == 1
    # The compose project itself is judged as before.
    assert ("compose.yaml", 2, "compose-no-resource-limits") in found(report)


def test_no_development_paths_reports_it_again(tmp_path: Path) -> None:
    _caddy_tree(tmp_path)
    report = scan_tree(tmp_path, development_paths=False)
    assert {"nginx-server-tokens", "nginx-plain-http-server"} <= _hardening(report, "nginx/nginx.conf")
    assert not report.development


def test_an_old_nginx_config_beside_the_one_nginx_mounts_is_left_out(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", NGINX_COMPOSE)
    write(tmp_path, "nginx/prod.conf", NGINX)
    write(tmp_path, "nginx/old.conf", NGINX)
    report = scan_tree(tmp_path)
    assert _nginx(report, "nginx/old.conf") == {("nginx/old.conf", 6, "nginx-invalid-capture")}
    assert "nginx-server-tokens" in _hardening(report, "nginx/prod.conf")


def test_a_config_in_a_top_level_folder_beside_the_deployment_folder_of_a_repository(tmp_path: Path) -> None:
    # deploy-sourcegraph-docker: nginx/nginx.conf kept in sync with upstream, docker-compose/ runs caddy.
    (tmp_path / ".git").mkdir()
    write(tmp_path, "docker-compose/docker-compose.yaml", CADDY_COMPOSE)
    write(tmp_path, "docker-compose/Caddyfile", "example.com {\n  reverse_proxy app:8080\n}\n")
    # Its own fragments say whom they belong to: that is not a use.
    write(tmp_path, "nginx/nginx.conf", NGINX.replace("events {}", "events {}\ninclude nginx/main.conf;"))
    write(tmp_path, "nginx/nginx/main.conf", "# included in the main context by nginx.conf\nworker_processes 2;\n")
    assert _nginx(scan_tree(tmp_path)) == {("nginx/nginx.conf", 7, "nginx-invalid-capture")}


def test_a_kubernetes_nginx_with_its_configmap_leaves_an_old_config_file_out(tmp_path: Path) -> None:
    write(tmp_path, "deploy.yaml", K8S_NGINX)
    write(tmp_path, "nginx/nginx.conf", NGINX)
    report = scan_tree(tmp_path, select=["nginx"])
    assert _nginx(report) == NGINX_CORRECTNESS
    assert ("deploy.yaml", 23, "nginx-server-tokens") in found(report)  # the ConfigMap's config is judged


def test_a_redis_config_beside_a_redis_run_without_one(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "services:\n  cache:\n    image: redis:7.2\n")
    write(tmp_path, "redis/redis.conf", REDIS)
    report = scan_tree(tmp_path, select=["redis"])
    assert _hardening(report, "redis/redis.conf") == set()
    assert report.development


def test_an_haproxy_config_beside_a_traefik_deployment(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", CADDY_COMPOSE.replace("caddy:2.8", "traefik:v3.1"))
    write(tmp_path, "haproxy/haproxy.cfg", HAPROXY)
    report = scan_tree(tmp_path, select=["haproxy"])
    assert found(report) == set()
    assert report.development


# --- judged -------------------------------------------------------------------------------------


def test_a_repository_of_nginx_configs_only_is_judged(tmp_path: Path) -> None:
    write(tmp_path, "nginx/nginx.conf", NGINX)
    write(tmp_path, "nginx/example.conf", NGINX)
    report = scan_tree(tmp_path)
    assert {"nginx-server-tokens", "nginx-plain-http-server"} <= _hardening(report, "nginx/nginx.conf")
    assert not report.development


def test_a_deployment_that_runs_no_proxy_leaves_the_nginx_config_judged(tmp_path: Path) -> None:
    # A self-hosting repository: the nginx config is for the host's nginx, in front of the compose app.
    write(tmp_path, "compose.yaml", NO_PROXY_COMPOSE)
    write(tmp_path, "nginx/nginx.conf", NGINX)
    report = scan_tree(tmp_path)
    assert {"nginx-server-tokens", "nginx-plain-http-server"} <= _hardening(report, "nginx/nginx.conf")


def test_a_config_a_dockerfile_copies_is_judged(tmp_path: Path) -> None:
    _caddy_tree(tmp_path)
    write(tmp_path, "nginx/Dockerfile", "FROM nginx:1.27\nCOPY nginx.conf /etc/nginx/nginx.conf\n")
    assert {"nginx-server-tokens", "nginx-plain-http-server"} <= _hardening(scan_tree(tmp_path), "nginx/nginx.conf")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deploy.sh", "scp nginx/nginx.conf host:/etc/nginx/nginx.conf\n"),
        ("README.md", "Behind your own nginx, use `nginx.conf` from the nginx folder.\n"),
        (
            ".github/workflows/deploy.yml",
            "on: push\njobs:\n  x:\n    steps:\n      - run: cp ./nginx/nginx.conf /srv\n",
        ),
        ("k8s/kustomization.yaml", "configMapGenerator:\n  - name: web\n    files: [../nginx/nginx.conf]\n"),
    ],
)
def test_a_config_a_script_a_workflow_or_the_docs_name_is_judged(tmp_path: Path, name: str, text: str) -> None:
    _caddy_tree(tmp_path)
    write(tmp_path, name, text)
    assert "nginx-server-tokens" in _hardening(scan_tree(tmp_path), "nginx/nginx.conf")


def test_a_config_offered_as_an_example_is_judged(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", CADDY_COMPOSE)
    write(tmp_path, "examples/nginx/site.conf", NGINX)
    assert "nginx-server-tokens" in _hardening(scan_tree(tmp_path), "examples/nginx/site.conf")


def test_an_nginx_run_with_a_config_the_scan_does_not_see_keeps_the_file_judged(tmp_path: Path) -> None:
    # A service mounts a path from a variable with no value (mattermost/docker's
    # `${NGINX_CONFIG_PATH}:/etc/nginx/conf.d`): it may well be this file.
    _caddy_tree(tmp_path)
    write(tmp_path, "compose.yaml", CADDY_COMPOSE + "    volumes:\n      - ${APP_CONFIG_PATH}:/etc/app:ro\n")
    assert "nginx-server-tokens" in _hardening(scan_tree(tmp_path), "nginx/nginx.conf")
    # An nginx with no config of the scan at all (the image's own, or a generated one) neither.
    write(tmp_path, "compose.yaml", CADDY_COMPOSE + "  web:\n    image: nginx:1.27\n")
    assert "nginx-server-tokens" in _hardening(scan_tree(tmp_path), "nginx/nginx.conf")


def test_a_deployment_in_another_folder_of_an_unknown_repository_does_not_count(tmp_path: Path) -> None:
    # Without a `.git` or `.github` the scan root may hold several projects side by side.
    write(tmp_path, "app-one/compose.yaml", CADDY_COMPOSE)
    write(tmp_path, "app-two/nginx/nginx.conf", NGINX)
    assert "nginx-server-tokens" in _hardening(scan_tree(tmp_path), "app-two/nginx/nginx.conf")


def test_a_deep_config_of_another_service_of_a_repository_is_judged(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path, "services/web/compose.yaml", CADDY_COMPOSE)
    write(tmp_path, "services/legacy/nginx/nginx.conf", NGINX)
    assert "nginx-server-tokens" in _hardening(scan_tree(tmp_path), "services/legacy/nginx/nginx.conf")


def test_a_redis_run_with_a_config_file_the_scan_does_not_hold_keeps_the_file_judged(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        "services:\n  cache:\n    image: redis:7.2\n    command: redis-server /usr/local/etc/redis/redis.conf\n",
    )
    write(tmp_path, "redis/redis.conf", REDIS)
    report = scan_tree(tmp_path, select=["redis"])
    assert _hardening(report, "redis/redis.conf")
    assert not report.development


# --- pieces -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "component"),
    [
        ("nginx:1.27-alpine", "nginx"),
        ("docker.io/nginxinc/nginx-unprivileged:stable", "nginx"),
        ("openresty/openresty:alpine", "nginx"),
        ("caddy:2", "caddy"),
        ("lucaslorentz/caddy-docker-proxy:ci-alpine", "caddy"),
        ("traefik:v3.1@sha256:abc", "traefik"),
        ("envoyproxy/envoy:v1.31-latest", "envoy"),
        ("haproxytech/haproxy-alpine:3.0", "haproxy"),
        ("valkey/valkey:8", "redis"),
        ("bitnami/redis:7.2", "redis"),
        ("nginx/nginx-prometheus-exporter:1.1", None),
        ("oliver006/redis_exporter", None),
        ("${PROXY_IMAGE}", None),
        (None, None),
    ],
)
def test_component_of(image: str | None, component: str | None) -> None:
    assert component_of(image) == component


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("cp nginx/nginx.conf /etc/nginx/", True),
        ("cp ./nginx/nginx.conf /etc/nginx/", True),
        ("cp ../../nginx/nginx.conf .", True),
        ('cp "$ROOT/nginx/nginx.conf" .', True),
        ("edit nginx.conf to taste", True),
        ("- ./proxy/nginx.conf:/etc/nginx/nginx.conf:ro", False),
        ("include /etc/nginx/nginx.conf;", False),
        ("nginx.conf.bak and my-nginx.conf", False),
        ("see deploy/nginx/nginx.conf", False),
    ],
)
def test_names_path(text: str, named: bool) -> None:
    assert names_path(text, "nginx/nginx.conf") is named


K8S_NGINX = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: nginx
          image: nginx:1.27
          volumeMounts:
            - {name: conf, mountPath: /etc/nginx/conf.d}
      volumes:
        - name: conf
          configMap: {name: web-nginx}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-nginx}
data:
  default.conf: |
    server {
      listen 8080;
      location / { root /usr/share/nginx/html; }
    }
"""

REDIS = """bind 0.0.0.0
protected-mode no
port 6379
"""

HAPROXY = """global
    log stdout format raw local0

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend web
    bind :80
    default_backend app

backend app
    server app1 app:8080
"""


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("cp -r nginx/ /etc/nginx/", True),
        ("kubectl create configmap web --from-file=./nginx", True),
        ("for f in deploy/../nginx/*.conf; do", True),
        ("- ./nginx/prod.conf:/etc/nginx/nginx.conf:ro", False),
        ("include /etc/nginx/conf.d/*.conf;", False),
        ("we use nginx", False),
        ("root /usr/share/nginx/html;", False),
    ],
)
def test_names_folder(text: str, named: bool) -> None:
    assert names_folder(text, "nginx") is named


def test_a_deployment_in_a_folder_below_the_config(tmp_path: Path) -> None:
    write(tmp_path, "deploy/compose/compose.yaml", CADDY_COMPOSE)
    write(tmp_path, "deploy/compose/Caddyfile", "example.com {\n  reverse_proxy app:8080\n}\n")
    write(tmp_path, "deploy/nginx.conf", NGINX)
    assert {f for f in found(scan_tree(tmp_path)) if f[0] == "deploy/nginx.conf"} == {
        ("deploy/nginx.conf", 6, "nginx-invalid-capture")
    }
    # A script beside the config that installs it on a host is a use.
    write(tmp_path, "deploy/install.sh", "install -m 644 nginx.conf /etc/nginx/nginx.conf\n")
    assert "nginx-server-tokens" in _hardening(scan_tree(tmp_path), "deploy/nginx.conf")
