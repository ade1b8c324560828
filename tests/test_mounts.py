"""Configs belong to the containers that mount them: compose bind mounts, k8s ConfigMap volumes."""

from __future__ import annotations

from pathlib import Path

from graphs import edges, graph_of
from scanning import write

from infralint.graph.mounts import server_flags

COMPOSE = """services:
  web:
    image: nginx:1.27
    volumes:
      - ./nginx/nginx.conf:/etc/nginx/nginx.conf:ro
      - type: bind
        source: ./conf.d
        target: /etc/nginx/conf.d
  cache:
    image: redis:7.2
    command: ["redis-server", "/usr/local/etc/redis/redis.conf", "--maxmemory", "2gb"]
    volumes: ["./redis.conf:/usr/local/etc/redis/redis.conf"]
  other:
    image: redis:7.2
    command: redis-server --appendonly yes
"""


def test_compose_bind_mounts_of_files_and_folders(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", COMPOSE)
    write(tmp_path, "nginx/nginx.conf", "events {}\nhttp {\n  server {\n    listen 80;\n  }\n}\n")
    write(tmp_path, "conf.d/site.conf", "server {\n  listen 81;\n}\n")
    write(tmp_path, "redis.conf", "bind 0.0.0.0\nmaxmemory 2gb\n")
    write(tmp_path, "unmounted/redis.conf", "maxmemory 1gb\n")
    graph = graph_of(tmp_path)
    web, cache = "compose/compose.yaml/service[web]", "compose/compose.yaml/service[cache]"
    assert edges(graph, "mounts") == {
        (web, "nginx/nginx/nginx.conf"),
        (web, "nginx/conf.d/site.conf"),
        (cache, "redis/redis.conf"),
    }
    targets = {e.target: dict(e.attrs)["container_path"] for e in graph.edges if e.kind == "mounts"}
    assert targets["nginx/conf.d/site.conf"] == "/etc/nginx/conf.d/site.conf"
    assert graph.nodes["redis/redis.conf"].facts["runs_in"] == [cache]
    assert "runs_in" not in graph.nodes["redis/unmounted/redis.conf"].facts
    assert server_flags(graph.nodes[cache]) == {"maxmemory": "2gb"}
    assert server_flags(graph.nodes["compose/compose.yaml/service[other]"]) == {"appendonly": "yes"}
    assert server_flags(graph.nodes[web]) is None


K8S = """apiVersion: v1
kind: ConfigMap
metadata: {name: proxy}
data:
  nginx.conf: |
    events {}
    http {
      server {
        listen 80;
      }
    }
  redis.conf: |
    maxmemory 2gb
    bind 0.0.0.0
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      volumes:
        - name: conf
          configMap: {name: proxy}
        - name: only-redis
          configMap:
            name: proxy
            items: [{key: redis.conf, path: server.conf}]
      containers:
        - name: nginx
          image: nginx:1.27
          volumeMounts:
            - {name: conf, mountPath: /etc/nginx/nginx.conf, subPath: nginx.conf}
        - name: redis
          image: redis:7.2
          args: ["/data/conf/server.conf", "--maxmemory", "1gb"]
          command: ["redis-server"]
          volumeMounts:
            - {name: only-redis, mountPath: /data/conf}
"""


def test_k8s_config_map_volumes_with_sub_path_and_items(tmp_path: Path) -> None:
    write(tmp_path, "app.yaml", K8S)
    graph = graph_of(tmp_path)
    nginx = "k8s/Deployment/-/web/container/nginx"
    redis = "k8s/Deployment/-/web/container/redis"
    nginx_conf = next(n.id for n in graph.of_kind("nginx/config"))
    redis_conf = next(n.id for n in graph.of_kind("redis/config"))
    assert edges(graph, "mounts") == {(nginx, nginx_conf), (redis, redis_conf)}
    targets = {e.target: dict(e.attrs)["container_path"] for e in graph.edges if e.kind == "mounts"}
    assert targets == {nginx_conf: "/etc/nginx/nginx.conf", redis_conf: "/data/conf/server.conf"}
    assert server_flags(graph.nodes[redis]) == {"maxmemory": "1gb"}


def test_depends_on_edges(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        "services:\n  web:\n    image: a:1\n    depends_on:\n      db: {condition: service_healthy}\n  db:\n    image: b:1\n",
    )
    graph = graph_of(tmp_path)
    [edge] = [e for e in graph.edges if e.kind == "depends_on"]
    assert (edge.source, edge.target, dict(edge.attrs)) == (
        "compose/compose.yaml/service[web]",
        "compose/compose.yaml/service[db]",
        {"condition": "service_healthy"},
    )


def test_redis_image_entrypoint_adds_redis_server_to_flag_only_arguments(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        "services:\n  a:\n    image: redis:7.2\n    command: ['--maxmemory', '1gb']\n"
        "  b:\n    image: docker.io/library/redis:7.2-alpine\n  c:\n    image: myorg/cache:1\n    command: ['--maxmemory', '1gb']\n",
    )
    write(
        tmp_path,
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: r}\nspec:\n  containers:\n"
        "    - name: redis\n      image: redis:7.2\n      args: ['--maxmemory', '2gb']\n",
    )
    graph = graph_of(tmp_path)
    assert server_flags(graph.nodes["compose/compose.yaml/service[a]"]) == {"maxmemory": "1gb"}
    assert server_flags(graph.nodes["compose/compose.yaml/service[b]"]) == {}
    assert server_flags(graph.nodes["compose/compose.yaml/service[c]"]) is None
    assert server_flags(graph.nodes["k8s/Pod/-/r/container/redis"]) == {"maxmemory": "2gb"}
