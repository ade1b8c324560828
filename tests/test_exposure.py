"""Exposure: who reaches compose services, k8s pods and the configs they run; memory limits of Redis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphs import graph_of
from scanning import scan_tree, write

from infralint.findings import Severity
from infralint.graph.model import Graph

CACHE = "compose/compose.yaml/service[cache]"


def _facts(graph: Graph, node_id: str) -> dict[str, Any]:
    return graph.nodes[node_id].facts


def _level(graph: Graph, node_id: str) -> str | None:
    return graph.nodes[node_id].facts.get("exposure")


def _compose_redis(root: Path, service: str, conf: str = "bind 0.0.0.0\n") -> Graph:
    """A project whose `cache` service runs ./redis.conf; SERVICE is the rest of its definition."""
    head = (
        "services:\n  cache:\n    image: redis:7.2\n"
        '    command: ["redis-server", "/etc/redis/redis.conf"]\n'
        '    volumes: ["./redis.conf:/etc/redis/redis.conf:ro"]\n'
    )
    write(root, "compose.yaml", head + service)
    write(root, "redis.conf", conf)
    return graph_of(root)


@pytest.mark.parametrize(
    ("ports", "level", "reason"),
    [
        ('    ports: ["6379:6379"]\n', "public", "publishes 6379:6379 on all host interfaces"),
        ('    ports: ["0.0.0.0:16379:6379"]\n', "public", "publishes 0.0.0.0:16379:6379 on all host interfaces"),
        ('    ports: ["[::]:6379:6379"]\n', "public", "on all host interfaces"),
        ('    ports: ["10.0.0.5:6379:6379"]\n', "public", "on host address 10.0.0.5"),
        ('    ports: ["6379"]\n', "public", "6379 (on a random host port)"),
        ('    ports: ["6370-6380:6370-6380"]\n', "public", "6370-6380:6370-6380"),
        ('    ports: ["127.0.0.1:6379:6379"]\n', "loopback", "on the host's loopback only"),
        ('    ports: ["[::1]:6379:6379"]\n', "loopback", "loopback only"),
        ("    ports: [{target: 6379, published: 6379, host_ip: 127.0.0.1}]\n", "loopback", "loopback only"),
        ("", "internal", "does not publish port 6379"),
        ('    ports: ["6379:6379/udp"]\n', "internal", "does not publish port 6379"),
        ('    ports: ["8001:8001"]\n', "internal", "does not publish port 6379"),  # another port
        ("    network_mode: host\n", "public", "network_mode: host"),
    ],
)
def test_compose_redis_exposure_follows_its_port(tmp_path: Path, ports: str, level: str, reason: str) -> None:
    graph = _compose_redis(tmp_path, ports)
    facts = _facts(graph, "redis/redis.conf")
    assert facts["exposure"] == level
    assert reason in facts["exposure_reason"]


def test_compose_service_level_and_shared_network(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        "services:\n"
        "  vpn:\n    image: example/vpn:1\n    ports: ['6379:6379']\n"
        "  cache:\n    image: redis:7.2\n    network_mode: 'service:vpn'\n"
        "    command: ['redis-server', '/etc/redis/redis.conf']\n"
        "    volumes: ['./redis.conf:/etc/redis/redis.conf']\n"
        "  local:\n    image: example/tool:1\n    ports: ['127.0.0.1:9000:9000', '127.0.0.1:9001:9001']\n"
        "  quiet:\n    image: example/job:1\n"
        "  isolated:\n    image: example/job:1\n    network_mode: none\n",
    )
    write(tmp_path, "redis.conf", "port 6379\n")
    graph = graph_of(tmp_path)
    service = "compose/compose.yaml/service[{}]".format
    assert _level(graph, service("vpn")) == "public"
    assert _level(graph, service("local")) == "loopback"
    assert _level(graph, service("quiet")) == "internal"
    assert _level(graph, service("isolated")) == "loopback"
    # network_mode: service:vpn shares the vpn container's network: its published ports count
    assert _level(graph, "redis/redis.conf") == "public"
    assert _facts(graph, "redis/redis.conf")["exposure_via"] == service("vpn")


def test_redis_bound_to_loopback_or_unix_socket_only_is_loopback(tmp_path: Path) -> None:
    graph = _compose_redis(tmp_path, '    ports: ["6379:6379"]\n', "bind 127.0.0.1 -::1\n")
    assert _level(graph, CACHE) == "public"  # the service publishes ...
    assert _level(graph, "redis/redis.conf") == "loopback"  # ... but Redis listens on loopback only
    graph = _compose_redis(tmp_path, '    ports: ["6379:6379"]\n', "port 0\nunixsocket /run/redis.sock\n")
    assert _level(graph, "redis/redis.conf") == "loopback"


def test_redis_port_from_the_command_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        "services:\n  cache:\n    image: redis:7.2\n"
        "    command: redis-server /etc/redis/redis.conf --port 7000\n"
        "    ports: ['6379:6379']\n"
        "    volumes: ['./redis.conf:/etc/redis/redis.conf']\n",
    )
    write(tmp_path, "redis.conf", "port 6379\n")
    assert _level(graph_of(tmp_path), "redis/redis.conf") == "internal"  # 7000 is not published


def test_config_run_by_several_services_takes_the_most_exposed(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        "services:\n"
        "  a:\n    image: redis:7.2\n    volumes: ['./redis.conf:/etc/redis/redis.conf']\n"
        "    mem_limit: 2g\n"
        "  b:\n    image: redis:7.2\n    volumes: ['./redis.conf:/etc/redis/redis.conf']\n"
        "    ports: ['6379:6379']\n    mem_limit: 512m\n"
        "  c:\n    image: redis:7.2\n    volumes: ['./redis.conf:/etc/redis/redis.conf']\n",
    )
    write(tmp_path, "redis.conf", "maxmemory 1gb\n")
    write(tmp_path, "other/redis.conf", "maxmemory 1gb\n")
    graph = graph_of(tmp_path)
    facts = _facts(graph, "redis/redis.conf")
    assert facts["exposure"] == "public"
    assert facts["exposure_via"] == "compose/compose.yaml/service[b]"
    # the smallest limit of the services that run it
    assert (facts["memory_limit"], facts["memory_limit_of"]) == (512 * 2**20, "compose/compose.yaml/service[b]")
    assert (facts["memory_limit_text"], facts["memory_limit_path"]) == ("512m", ("mem_limit",))
    assert facts["memory_limit_label"] == "service 'b'"
    # a config nothing in the scan runs keeps the parser's blanks: rules judge by its binds
    assert _facts(graph, "redis/other/redis.conf")["exposure"] is None
    assert _facts(graph, "redis/other/redis.conf")["memory_limit"] is None


K8S_REDIS = """apiVersion: v1
kind: ConfigMap
metadata: {name: redis-config}
data:
  redis.conf: |
    bind 0.0.0.0
    maxmemory 2gb
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: redis}
spec:
  selector: {matchLabels: {app: redis}}
  template:
    metadata: {labels: {app: redis}}
    spec:
      containers:
        - name: redis
          image: redis:7.2
          command: [redis-server, /etc/redis/redis.conf]
          ports: [{name: redis, containerPort: 6379}]
          resources: {limits: {memory: 1Gi}}
          volumeMounts: [{name: config, mountPath: /etc/redis}]
        - name: exporter
          image: oliver006/redis_exporter:v1.62.0
          ports: [{name: metrics, containerPort: 9121}]
          resources: {limits: {memory: 128Mi}}
      volumes: [{name: config, configMap: {name: redis-config}}]
"""
REDIS_CONTAINER = "k8s/StatefulSet/-/redis/container/redis"
EXPORTER = "k8s/StatefulSet/-/redis/container/exporter"
REDIS_CONF = "redis/redis.yaml#redis.conf"


def _service(spec: str, name: str = "redis") -> str:
    return f"---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}}}\nspec:\n  selector: {{app: redis}}\n{spec}"


@pytest.mark.parametrize(
    ("services", "redis", "exporter", "reason"),
    [
        ("", "internal", "internal", "no NodePort/LoadBalancer Service, Ingress or hostPort leads to port 6379"),
        (_service("  ports: [{port: 6379, targetPort: redis}]\n"), "internal", "internal", "Service redis (ClusterIP)"),
        (
            _service("  type: LoadBalancer\n  ports: [{port: 6379, targetPort: redis}]\n"),
            "public",
            "internal",
            "Service redis (LoadBalancer) port 6379 leads to port 6379",
        ),
        (_service("  type: NodePort\n  ports: [{port: 6379}]\n"), "public", "internal", "(NodePort)"),
        (
            _service("  externalIPs: [203.0.113.7]\n  ports: [{port: 6379}]\n"),
            "public",
            "internal",
            "(ClusterIP with externalIPs)",
        ),
        (  # a LoadBalancer for the metrics port only
            _service("  type: LoadBalancer\n  ports: [{port: 9121, targetPort: metrics}]\n", "metrics"),
            "internal",
            "public",
            "no NodePort/LoadBalancer Service",
        ),
        (_service("  type: LoadBalancer\n  ports: [{port: 6379, protocol: UDP}]\n"), "internal", "internal", ""),
    ],
)
def test_k8s_exposure_through_services(tmp_path: Path, services: str, redis: str, exporter: str, reason: str) -> None:
    write(tmp_path, "redis.yaml", K8S_REDIS + services)
    graph = graph_of(tmp_path)
    assert _level(graph, REDIS_CONF) == redis
    assert _level(graph, REDIS_CONTAINER) == redis
    assert _level(graph, EXPORTER) == exporter
    assert _level(graph, "k8s/StatefulSet/-/redis") == ("public" if "public" in (redis, exporter) else "internal")
    assert reason in _facts(graph, REDIS_CONF)["exposure_reason"]
    facts = _facts(graph, REDIS_CONF)
    assert (facts["memory_limit"], facts["memory_limit_of"], facts["memory_limit_text"]) == (
        2**30,
        REDIS_CONTAINER,
        "1Gi",
    )


def test_k8s_host_network_and_host_port(tmp_path: Path) -> None:
    host_network = K8S_REDIS.replace("      containers:\n", "      hostNetwork: true\n      containers:\n", 1)
    write(tmp_path, "redis.yaml", host_network)
    graph = graph_of(tmp_path)
    assert _level(graph, REDIS_CONF) == _level(graph, EXPORTER) == "public"
    assert "hostNetwork: true" in _facts(graph, REDIS_CONF)["exposure_reason"]
    host_port = K8S_REDIS.replace(
        "{name: redis, containerPort: 6379}", "{name: redis, containerPort: 6379, hostPort: 6379}"
    )
    write(tmp_path, "redis.yaml", host_port)
    graph = graph_of(tmp_path)
    assert _level(graph, REDIS_CONF) == "public" and _level(graph, EXPORTER) == "internal"
    assert _facts(graph, REDIS_CONF)["exposure_path"] == ("ports", 0, "hostPort")


INGRESS = """---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
    - http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: redis, port: {name: http}}}}
"""
HTTP_ROUTE = """---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs: [{name: gateway}]
  rules:
    - backendRefs: [{name: redis, port: 8080}]
"""


@pytest.mark.parametrize("route", [INGRESS, HTTP_ROUTE])
def test_ingress_and_gateway_routes_reach_only_the_ports_they_name(tmp_path: Path, route: str) -> None:
    services = _service("  ports:\n    - {name: http, port: 8080, targetPort: 9121}\n    - {name: redis, port: 6379}\n")
    write(tmp_path, "redis.yaml", K8S_REDIS + services + route)
    graph = graph_of(tmp_path)
    assert _level(graph, EXPORTER) == "public"
    assert _facts(graph, EXPORTER)["exposure_reason"].endswith("routes to Service redis port 8080")
    assert _level(graph, REDIS_CONF) == "internal"


NGINX_POD = """apiVersion: v1
kind: ConfigMap
metadata: {name: web}
data:
  default.conf: |
    server {
        listen 8080;
        root /srv;
    }
    server {
        listen 8443 ssl;
        root /srv;
    }
    server {
        listen 127.0.0.1:8081;
        location /status { stub_status; }
    }
---
apiVersion: apps/v1
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
          ports: [{name: http, containerPort: 8080}, {name: https, containerPort: 8443}]
          volumeMounts: [{name: conf, mountPath: /etc/nginx/conf.d}]
      volumes: [{name: conf, configMap: {name: web}}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
"""


def _nginx_servers(graph: Graph) -> dict[int, dict[str, Any]]:
    return {n.facts["listen"][0]["port"]: n.facts for n in graph.of_kind("nginx/server")}


def test_nginx_servers_judged_per_listen_port(tmp_path: Path) -> None:
    spec = "  type: LoadBalancer\n  selector: {app: web}\n  ports: [{port: 443, targetPort: https}]\n"
    write(tmp_path, "web.yaml", NGINX_POD + spec)
    servers = _nginx_servers(graph_of(tmp_path))
    assert servers[8443]["exposed"] is True and servers[8443]["listen"][0]["direct"] is True
    assert servers[8080]["exposed"] is False and servers[8080]["exposure"] == "internal"
    assert servers[8080]["listen"][0]["reachable"] is False
    assert servers[8081]["exposed"] is False and servers[8081]["exposure"] == "loopback"


def test_nginx_behind_an_ingress_is_public_but_not_direct(tmp_path: Path) -> None:
    spec = "  selector: {app: web}\n  ports: [{name: http, port: 80, targetPort: http}]\n"
    ingress = INGRESS.replace("name: redis", "name: web")
    write(tmp_path, "web.yaml", NGINX_POD + spec + ingress)
    servers = _nginx_servers(graph_of(tmp_path))
    assert servers[8080]["exposed"] is True  # the Ingress leads there ...
    entry = servers[8080]["listen"][0]
    assert (entry["reachable"], entry["direct"]) == (True, False)  # ... through its controller


def test_nginx_not_run_by_anything_keeps_the_hook_unset(tmp_path: Path) -> None:
    write(tmp_path, "nginx.conf", "events {}\nhttp {\n  server {\n    listen 80;\n  }\n}\n")
    [server] = graph_of(tmp_path).of_kind("nginx/server")
    assert server.facts["exposed"] is None and "exposure" not in server.facts


def test_included_nginx_fragment_runs_where_its_includer_runs(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        "services:\n  web:\n    image: nginx:1.27\n    ports: ['80:80']\n    volumes: ['./nginx:/etc/nginx:ro']\n",
    )
    write(tmp_path, "nginx/nginx.conf", "events {}\nhttp {\n  include conf.d/*.conf;\n}\n")
    write(tmp_path, "nginx/conf.d/a.conf", "server {\n  listen 80;\n}\nserver {\n  listen 81;\n}\n")
    graph = graph_of(tmp_path)
    exposed = {
        (n.facts["config"], n.facts["listen"][0]["port"]): n.facts["exposed"] for n in graph.of_kind("nginx/server")
    }
    assert exposed == {
        ("nginx/nginx/nginx.conf", 80): True,
        ("nginx/nginx/nginx.conf", 81): False,
        ("nginx/nginx/conf.d/a.conf", 80): True,
        ("nginx/nginx/conf.d/a.conf", 81): False,
    }


HAPROXY = """defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend web
    bind :8000-8010
    bind 127.0.0.1:9000
    default_backend app

frontend admin
    bind :9999
    bind /run/haproxy/admin.sock
    default_backend app

frontend dynamic
    bind ":${PORT}"
    default_backend app

backend app
    server a app:80
"""


def test_haproxy_binds_ranges_and_sockets(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        "services:\n  lb:\n    image: haproxy:2.9\n    ports: ['80:8005']\n"
        "    volumes: ['./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro']\n",
    )
    write(tmp_path, "haproxy.cfg", HAPROXY)
    graph = graph_of(tmp_path)
    proxies = {
        n.facts.get("name") or n.id.rsplit("[", 1)[-1].rstrip("]"): n for n in graph.of_kind("haproxy/frontend-side")
    }
    web, admin, dynamic = (proxies[name] for name in ("web", "admin", "dynamic"))
    assert web.facts["exposed"] is True and web.facts["exposure"] == "public"
    assert [bind.get("reachable") for bind in web.attrs["binds"]] == [True, False]
    assert admin.facts["exposed"] is False  # port 9999 unpublished; the unix socket is no port
    assert dynamic.facts["exposed"] is None  # a port from a variable: unknown


def _no_auth(root: Path) -> list[tuple[int | None, Severity]]:
    report = scan_tree(root, select=["redis-no-auth"])
    return [(f.span.line, f.severity) for f in report.findings]


@pytest.mark.parametrize(
    ("service", "severity"),
    [
        ('    ports: ["6379:6379"]\n', Severity.ERROR),
        ("    network_mode: host\n", Severity.ERROR),
        ("", Severity.WARNING),
        ('    ports: ["127.0.0.1:6379:6379"]\n', Severity.WARNING),
        ('    ports: ["8001:8001"]\n', Severity.WARNING),
    ],
)
def test_redis_no_auth_severity_follows_exposure_in_compose(tmp_path: Path, service: str, severity: Severity) -> None:
    _compose_redis(tmp_path, service)
    assert _no_auth(tmp_path) == [(1, severity)]


def test_redis_no_auth_severity_in_k8s(tmp_path: Path) -> None:
    write(tmp_path, "redis.yaml", K8S_REDIS + _service("  ports: [{port: 6379}]\n"))
    assert _no_auth(tmp_path) == [(6, Severity.WARNING)]
    write(tmp_path, "redis.yaml", K8S_REDIS + _service("  type: LoadBalancer\n  ports: [{port: 6379}]\n"))
    assert _no_auth(tmp_path) == [(6, Severity.ERROR)]


def test_redis_no_auth_without_a_runner_or_bound_to_loopback(tmp_path: Path) -> None:
    write(tmp_path, "redis.conf", "bind 0.0.0.0\n")
    assert _no_auth(tmp_path) == [(1, Severity.ERROR)]  # nothing known: the bind address decides
    _compose_redis(tmp_path, '    ports: ["6379:6379"]\n', "bind 127.0.0.1\n")
    assert _no_auth(tmp_path) == []


def test_redis_no_auth_password_on_the_command_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        "services:\n"
        "  a:\n    image: redis:7.2\n    command: redis-server /r/redis.conf --requirepass secret\n"
        "    volumes: ['./redis.conf:/r/redis.conf']\n"
        "  b:\n    image: redis:7.2\n    command: redis-server /r/redis.conf\n"
        "    volumes: ['./redis.conf:/r/redis.conf']\n",
    )
    write(tmp_path, "redis.conf", "bind 0.0.0.0\n")
    assert _no_auth(tmp_path) == [(1, Severity.WARNING)]  # b starts it without a password
    write(
        tmp_path,
        "compose.yaml",
        (tmp_path / "compose.yaml").read_text().replace("/r/redis.conf\n", "/r/redis.conf --requirepass x\n"),
    )
    assert _no_auth(tmp_path) == []


ODD = """apiVersion: v1
kind: Service
metadata: {name: odd}
spec: {type: LoadBalancer, selector: {app: odd}, ports: "6379", externalIPs: 3}
---
apiVersion: v1
kind: Service
metadata: {name: odd2}
spec: {type: [NodePort], selector: {app: odd}, ports: [7, {targetPort: [1]}, {port: x}, {port: 80, targetPort: 99999}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: odd}
spec: {rules: [{backendRefs: [{name: [odd]}, 3, {kind: Service}]}, 4]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: odd}
spec:
  selector: {matchLabels: {app: odd}}
  template:
    metadata: {labels: {app: odd}}
    spec:
      hostNetwork: "yes"
      containers:
        - name: odd
          image: redis:7.2
          ports: [6379, {containerPort: "http", hostPort: true}, {containerPort: 8080, hostPort: -1}]
          resources: {limits: {memory: lots}}
"""


def test_odd_shapes_do_not_break_the_linker(tmp_path: Path) -> None:
    write(tmp_path, "odd.yaml", ODD)
    write(
        tmp_path,
        "compose.yaml",
        "services:\n"
        "  a:\n    image: redis:7.2\n    network_mode: 'service:b'\n"
        "  b:\n    image: redis:7.2\n    network_mode: 'service:a'\n"
        "  c:\n    image: redis:7.2\n    network_mode: 'service:'\n"
        "  d:\n    image: redis:7.2\n    network_mode: 'container:abc123'\n    ports: [{target: 6379}]\n",
    )
    graph = graph_of(tmp_path)
    assert _level(graph, "k8s/Deployment/-/odd") == "internal"
    assert {_level(graph, f"compose/compose.yaml/service[{name}]") for name in "abcd"} == {None}
