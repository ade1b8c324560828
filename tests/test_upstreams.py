"""Upstream resolution: proxy hosts resolved to compose services and k8s Services, in context."""

from __future__ import annotations

from pathlib import Path

from graphs import edges, graph_of
from scanning import write

from infralint.graph.model import Graph, Node
from infralint.graph.upstreams import (
    RESOLVED,
    UNJUDGED,
    UNRESOLVED,
    accepted_ports,
    left_alone,
    resolve,
    routes_from,
    routes_to,
)

NGINX = "events {{}}\nhttp {{\n  server {{\n    listen 80;\n{locations}  }}\n}}\n"


def nginx(*targets: str) -> str:
    locations = "".join(f"    location /{i}/ {{ proxy_pass {t}; }}\n" for i, t in enumerate(targets))
    return NGINX.format(locations=locations)


def outcomes(graph: Graph) -> dict[str, tuple[str, list[str]]]:
    """host -> (status, target ids) of every reference in the graph."""
    found = {}
    for node in graph.nodes.values():
        for route in routes_from(graph, node):
            found[route.reference.host] = (route.status, [t.id for t in route.targets])
    return found


COMPOSE = """services:
  proxy:
    image: nginx:1.27
    volumes: ["./nginx/nginx.conf:/etc/nginx/nginx.conf:ro"]
    links: ["api:old-api"]
    extra_hosts: ["gateway:10.0.0.1"]
  api:
    image: example/api:1
    container_name: api-1
    expose: ["8000"]
    networks:
      default:
        aliases: [backend, api.internal]
  web:
    image: example/web:1
    ports: ["8080-8081:3000-3001/tcp"]
"""
API, WEB = "compose/compose.yaml/service[api]", "compose/compose.yaml/service[web]"


def test_compose_names_aliases_and_links(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", COMPOSE)
    write(
        tmp_path,
        "nginx/nginx.conf",
        nginx(
            "http://api:8000",
            "http://API-1:8000",
            "http://backend:8000",
            "http://api.internal:8000",
            "http://old-api:8000",
            "http://gateway:80",
            "http://missing:80",
            "https://example.com",
            "http://127.0.0.1:80",
            "http://$upstream",
        ),
    )
    graph = graph_of(tmp_path)
    found = outcomes(graph)
    for host in ("api", "API-1", "backend", "api.internal", "old-api"):
        assert found[host] == (RESOLVED, [API]), host
    assert found["gateway"][0] == UNJUDGED
    assert found["missing"] == (UNRESOLVED, [])
    assert found["example.com"][0] == UNJUDGED
    assert found["127.0.0.1"][0] == UNJUDGED
    assert "$upstream" not in found  # variables are not references
    assert ("nginx/nginx/nginx.conf/server[:80]/location[/0/]", API) in edges(graph, "routes_to")


def test_routes_to_edges_carry_host_port_and_whether_the_port_is_served(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", COMPOSE)
    write(tmp_path, "nginx/nginx.conf", nginx("http://web:3001", "http://web:8080", "http://api"))
    graph = graph_of(tmp_path)
    attrs = {(e.source, dict(e.attrs)["port"]): dict(e.attrs) for e in graph.edges if e.kind == "routes_to"}
    location = "nginx/nginx/nginx.conf/server[:80]/location[/{}/]"
    assert attrs[(location.format(0), 3001)] == {
        "host": "web",
        "port": 3001,
        "resolved_port": True,
        "at": ("directives", 0),
    }
    assert attrs[(location.format(1), 8080)]["resolved_port"] is False  # the host side of the mapping
    assert attrs[(location.format(2), 80)]["resolved_port"] is False  # no port: http means 80
    assert [r.reference.host for r in routes_to(graph, graph.nodes[WEB])] == ["web", "web"]


def test_accepted_ports_of_compose_services(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        """services:
  mapped: {image: a, ports: ["8080-8081:3000-3001", "9000"], expose: ["7000-7001/udp"]}
  bare: {image: b}
  unknown: {image: c, ports: ["${PORT}:${PORT}"]}
""",
    )
    services = {n.facts["service"]: n for n in graph_of(tmp_path).of_kind("compose/service")}
    assert accepted_ports(services["mapped"]) == [(3000, 3001), (9000, 9000), (7000, 7001)]
    assert accepted_ports(services["bare"]) is None  # the image's EXPOSE is not visible
    assert accepted_ports(services["unknown"]) is None


def test_override_include_and_fragment_services_count(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "include: [sub/compose.yaml]\nservices:\n  proxy:\n    image: nginx\n")
    write(tmp_path, "compose.override.yaml", "services:\n  extra: {image: e}\n")
    write(tmp_path, "compose.debug.yaml", "services:\n  debugger: {image: d}\n")
    write(tmp_path, "sub/compose.yaml", "services:\n  inc: {image: i}\n")
    write(
        tmp_path,
        "nginx/default.conf",
        "server {\n  listen 80;\n  location / { proxy_pass http://inc; }\n"
        "  location /e/ { proxy_pass http://extra; }\n  location /d/ { proxy_pass http://debugger; }\n"
        "  location /x/ { proxy_pass http://nope; }\n}\n",
    )
    found = outcomes(graph_of(tmp_path))
    assert found["inc"] == (RESOLVED, ["compose/sub/compose.yaml/service[inc]"])
    assert found["extra"] == (RESOLVED, ["compose/compose.yaml/service[extra]"])
    assert found["debugger"][0] == RESOLVED
    assert found["nope"][0] == UNRESOLVED  # unmounted, but the project's folder holds the config


def test_no_context_leaves_names_alone(tmp_path: Path) -> None:
    write(tmp_path, "nginx/nginx.conf", nginx("http://backend:8080"))
    write(tmp_path, "other/compose.yaml", "services:\n  api: {image: a}\n")  # not an ancestor folder
    graph = graph_of(tmp_path)
    assert outcomes(graph)["backend"][0] == UNJUDGED
    assert resolve(graph, graph.nodes["nginx/nginx/nginx.conf"], "backend") is None


def test_a_project_that_failed_to_parse_is_not_judged(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "services:\n  proxy: {image: nginx\n")
    write(tmp_path, "default.conf", "server { listen 80; location / { proxy_pass http://api; } }\n")
    assert outcomes(graph_of(tmp_path)).get("api", (UNJUDGED,))[0] == UNJUDGED


def test_external_network_and_host_network_are_not_judged(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        """services:
  proxy:
    image: nginx
    volumes: ["./a.conf:/etc/nginx/conf.d/a.conf"]
    networks: [edge]
  hostnet:
    image: nginx
    network_mode: host
    volumes: ["./b.conf:/etc/nginx/conf.d/b.conf"]
networks:
  edge: {external: true}
""",
    )
    write(tmp_path, "a.conf", "server { listen 80; location / { proxy_pass http://blog:2368; } }\n")
    write(tmp_path, "b.conf", "server { listen 81; location / { proxy_pass http://wiki:3000; } }\n")
    found = outcomes(graph_of(tmp_path))
    assert found["blog"][0] == UNJUDGED
    assert found["wiki"][0] == UNJUDGED


def test_nginx_upstream_block_names_are_not_hosts(tmp_path: Path) -> None:
    write(
        tmp_path, "compose.yaml", "services:\n  proxy:\n    image: nginx\n    volumes: ['./conf.d:/etc/nginx/conf.d']\n"
    )
    write(tmp_path, "conf.d/upstreams.conf", "upstream app { server app-1:80; }\n")
    write(tmp_path, "conf.d/site.conf", "server { listen 80; location / { proxy_pass http://app; } }\n")
    found = outcomes(graph_of(tmp_path))
    assert "app" not in found  # the block of a sibling file loaded by the same nginx
    assert found["app-1"][0] == UNRESOLVED


def test_an_upstream_server_named_like_its_block_is_a_host(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", COMPOSE)
    write(
        tmp_path,
        "nginx/nginx.conf",
        "events {}\nhttp {\n  upstream api { server api:8001; }\n"
        "  server { listen 80; location / { proxy_pass http://api; } }\n}\n",
    )
    graph = graph_of(tmp_path)
    found = outcomes(graph)
    assert found == {"api": (RESOLVED, [API])}  # the server line; proxy_pass names the block
    assert ("nginx/nginx/nginx.conf/upstream[api]", API) in edges(graph, "routes_to")


K8S = """apiVersion: v1
kind: ConfigMap
metadata: {name: proxy, namespace: shop}
data:
  default.conf: |
    server {
      listen 80;
      location /a/ { proxy_pass http://web; }
      location /b/ { proxy_pass http://api.backend; }
      location /c/ { proxy_pass http://api.backend.svc; }
      location /d/ { proxy_pass http://api.backend.svc.cluster.local:8080; }
      location /e/ { proxy_pass http://db-0.db:5432; }
      location /f/ { proxy_pass http://api:8080; }
      location /g/ { proxy_pass http://gone.backend.svc.cluster.local; }
      location /h/ { proxy_pass http://x.finance.svc.cluster.local; }
      location /i/ { proxy_pass http://www.example.org; }
    }
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec: {clusterIP: None, selector: {app: db}, ports: [{port: 5432}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: backend}
spec: {selector: {app: api}, ports: [{port: 8080}]}
"""


def test_kubernetes_service_dns_forms_and_namespaces(tmp_path: Path) -> None:
    write(tmp_path, "app.yaml", K8S)
    found = outcomes(graph_of(tmp_path))
    api = ["k8s/Service/backend/api"]
    assert found["web"] == (RESOLVED, ["k8s/Service/shop/web"])
    for host in ("api.backend", "api.backend.svc", "api.backend.svc.cluster.local"):
        assert found[host] == (RESOLVED, api), host
    assert found["db-0.db"] == (RESOLVED, ["k8s/Service/shop/db"])  # a pod of the headless Service
    assert found["api"] == (UNRESOLVED, [])  # a short name reads the config's own namespace
    assert found["gone.backend.svc.cluster.local"] == (UNRESOLVED, [])
    assert found["x.finance.svc.cluster.local"][0] == UNJUDGED  # no Services of that namespace
    assert found["www.example.org"][0] == UNJUDGED


def test_built_in_services_are_not_judged(tmp_path: Path) -> None:
    write(
        tmp_path,
        "app.yaml",
        K8S.replace("http://www.example.org", "https://kubernetes.default.svc").replace(
            "namespace: backend", "namespace: default"
        ),
    )
    assert outcomes(graph_of(tmp_path))["kubernetes.default.svc"][0] == UNJUDGED


def test_the_pod_namespace_wins_and_unnamespaced_services_count_only_nearby(tmp_path: Path) -> None:
    write(
        tmp_path,
        "app/proxy.yaml",
        """apiVersion: v1
kind: ConfigMap
metadata: {name: proxy}
data:
  default.conf: |
    server {
      listen 80;
      location / { proxy_pass http://web; }
      location /x/ { proxy_pass http://nope; }
    }
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: proxy, namespace: front}
spec:
  selector: {matchLabels: {app: proxy}}
  template:
    metadata: {labels: {app: proxy}}
    spec:
      containers:
        - name: nginx
          image: nginx
          volumeMounts: [{name: c, mountPath: /etc/nginx/conf.d}]
      volumes: [{name: c, configMap: {name: proxy}}]
""",
    )
    write(
        tmp_path,
        "elsewhere/svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: other}\nspec: {ports: [{port: 80}]}\n",
    )
    graph = graph_of(tmp_path)
    found = outcomes(graph)
    assert found["nope"][0] == UNJUDGED  # only a far-away Service without a namespace: no context
    write(
        tmp_path,
        "app/web.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: front}\nspec: {ports: [{port: 80}]}\n",
    )
    found = outcomes(graph_of(tmp_path))
    assert found["web"] == (RESOLVED, ["k8s/Service/front/web"])
    assert found["nope"] == (UNRESOLVED, [])


def test_left_alone() -> None:
    assert left_alone("localhost") and left_alone("10.1.2.3") and left_alone("[::1]") and left_alone("::")
    assert left_alone("<pg-node1-ip>") and left_alone("{{ backend }}") and left_alone("%BACKEND%")
    assert left_alone("api") is None and left_alone("api.example.com") is None and left_alone("a") is None


def test_haproxy_servers(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        COMPOSE.replace("nginx/nginx.conf:/etc/nginx/nginx.conf", "haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg"),
    )
    write(
        tmp_path,
        "haproxy.cfg",
        "defaults\n  mode http\nbackend b\n  server s1 api:8000 check\n  server s2 gone:80\n  server s3 10.0.0.2:80\n"
        "  server s4 ${HOST}:80\n  server s5 web\n",
    )
    graph = graph_of(tmp_path)
    found = outcomes(graph)
    assert found["api"] == (RESOLVED, [API])
    assert found["gone"] == (UNRESOLVED, [])
    assert found["web"] == (RESOLVED, [WEB])
    assert set(found) == {"api", "gone", "web"}  # addresses and variables are no references
    backend: Node = graph.nodes["haproxy/haproxy.cfg/backend[b]"]
    ports = {r.reference.host: r.reference.port for r in routes_from(graph, backend)}
    assert ports["web"] is None  # no port: HAProxy uses the client's
    assert routes_from(graph, backend)[0].reference.span.col == 13  # the address, not the keyword


def test_a_mounted_snippet_read_inside_an_unmounted_config_keeps_its_runner(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        """services:
  proxy:
    image: nginx
    volumes: ["./conf.d:/etc/nginx/conf.d:ro"]
    networks: [edge]
  api: {image: a, networks: [edge]}
networks:
  edge: {external: true}
""",
    )
    write(tmp_path, "nginx.conf", "events {}\nhttp {\n  include conf.d/*.conf;\n}\n")  # the image's, kept for reference
    write(
        tmp_path,
        "conf.d/site.conf",
        "server {\n  listen 80;\n  location / { proxy_pass http://api; }\n"
        "  location /b/ { proxy_pass http://blog; }\n}\n",
    )
    graph = graph_of(tmp_path)
    found = outcomes(graph)
    assert found["api"][0] == RESOLVED
    assert found["blog"][0] == UNJUDGED  # the runner's external network, though nginx.conf runs nowhere
    from infralint.graph.upstreams import routes_of_config

    assert {r.reference.host for r in routes_of_config(graph, "nginx/conf.d/site.conf")} == {"api", "blog"}


MOUNTING_PROJECT = """include: [services/cache.yaml]
services:
  proxy:
    image: nginx:1.27
    volumes: ["./config/nginx.conf:/etc/nginx/conf.d/default.conf:ro"]
  web:
    image: example/web:1
    healthcheck: {{test: ["CMD", "true"]}}
{extra}"""
WEB_HERE = "compose/docker-compose.yml/service[web]"


def _mounting_project(root: Path, extra: str = "") -> None:
    write(root, "docker-compose.yml", MOUNTING_PROJECT.format(extra=extra))
    write(root, "services/cache.yaml", "services:\n  cache: {image: 'redis:7.2'}\n")
    write(root, "config/nginx.conf", nginx("http://web:8000", "http://tools"))


def test_a_name_resolves_in_the_deployment_that_mounts_the_config(tmp_path: Path) -> None:
    """Another project that includes the same file is another deployment: its 'web' is not the
    one the mounting project's proxy reaches."""
    _mounting_project(tmp_path)
    write(tmp_path, "dev/docker-compose.yml", "include: [../services/cache.yaml]\nservices:\n  web: {build: .}\n")
    assert outcomes(graph_of(tmp_path))["web"] == (RESOLVED, [WEB_HERE])


def test_an_override_partial_service_is_never_a_target(tmp_path: Path) -> None:
    """A file completing the base (`-f docker-compose.yml -f dev/docker-compose.yml`) holds a
    partial 'web': the name means the base's service, which the merge keeps whole."""
    _mounting_project(tmp_path)
    write(tmp_path, "dev/docker-compose.yml", "services:\n  web:\n    ports: ['8000:8000']\n")
    assert outcomes(graph_of(tmp_path))["web"] == (RESOLVED, [WEB_HERE])


def test_a_name_the_deployment_lacks_still_resolves_in_the_folder(tmp_path: Path) -> None:
    """A service only an alternative file of the folder defines is still found there."""
    _mounting_project(tmp_path)
    write(tmp_path, "docker-compose.tools.yml", "services:\n  tools: {image: 'example/tools:1'}\n")
    assert outcomes(graph_of(tmp_path))["tools"] == (RESOLVED, ["compose/docker-compose.tools.yml/service[tools]"])
