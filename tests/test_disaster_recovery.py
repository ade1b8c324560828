"""Disaster-recovery rules: where a datastore's data directory is, and whether it outlives the
container (compose) or the pod (Kubernetes), in the cases the fixtures do not spell out."""

from __future__ import annotations

from pathlib import Path

import pytest
from scanning import scan_tree, write

from infralint.images import datastores

K8S = "k8s-datastore-ephemeral-storage"
COMPOSE = "compose-datastore-no-volume"


def _messages(root: Path, rule: str) -> list[tuple[int | None, str]]:
    report = scan_tree(root, select=[rule])
    return sorted((f.span.line, f.message) for f in report.findings if f.rule_id == rule)


def _deployment(container: str, volumes: str = "", kind: str = "Deployment", extra: str = "") -> str:
    return f"""apiVersion: apps/v1
kind: {kind}
metadata:
  name: db
spec:
  selector:
    matchLabels: {{app: db}}
  template:
    metadata:
      labels: {{app: db}}
    spec:
      containers:
{container}
{volumes}
{extra}"""


@pytest.mark.parametrize(
    ("repository", "engine", "data"),
    [
        ("postgres", "postgres", "/var/lib/postgresql/data"),
        ("postgis/postgis", "postgres", "/var/lib/postgresql/data"),
        ("bitnami/postgresql", "postgres", "/bitnami/postgresql"),
        ("mysql", "mysql", "/var/lib/mysql"),
        ("mongo", "mongo", "/data/db"),
        ("docker.elastic.co/elasticsearch/elasticsearch", "elasticsearch", "/usr/share/elasticsearch/data"),
        ("valkey/valkey", "redis", "/data"),
    ],
)
def test_the_shared_image_data_names_engine_and_directory(repository: str, engine: str, data: str) -> None:
    store = datastores.lookup(repository)
    assert store is not None
    assert (store.engine, store.data) == (engine, data)


@pytest.mark.parametrize(
    "repository", ["nginx", "bitnami/redis", "postgres-exporter", "prometheuscommunity/postgres-exporter"]
)
def test_images_that_are_not_judged(repository: str) -> None:
    assert datastores.lookup(repository) is None


def test_pgdata_expanded_from_another_variable_is_followed(tmp_path: Path) -> None:
    container = """        - name: postgres
          image: postgres:16
          env:
            - {name: ROOT, value: /srv}
            - {name: PGDATA, value: $(ROOT)/pgdata}
          volumeMounts:
            - {name: data, mountPath: /var/lib/postgresql/data}"""
    volumes = "      volumes:\n        - {name: data, persistentVolumeClaim: {claimName: db}}"
    write(tmp_path, "db.yaml", _deployment(container, volumes))
    [(line, message)] = _messages(tmp_path, K8S)
    assert line == 13
    assert "/srv/pgdata with no volume mounted there" in message


def test_pgdata_referring_to_an_unknown_variable_is_not_judged(tmp_path: Path) -> None:
    container = """        - name: postgres
          image: postgres:16
          env:
            - {name: PGDATA, value: $(FROM_ELSEWHERE)/pgdata}"""
    write(tmp_path, "db.yaml", _deployment(container))
    assert _messages(tmp_path, K8S) == []


def test_redis_config_dir_is_the_data_directory(tmp_path: Path) -> None:
    config_map = """apiVersion: v1
kind: ConfigMap
metadata:
  name: queue
data:
  redis.conf: |
    appendonly yes
    dir /var/lib/redis
---
"""
    container = """        - name: redis
          image: redis:7.4
          command: ["redis-server", "/etc/redis/redis.conf"]
          volumeMounts:
            - {name: config, mountPath: /etc/redis}
            - {name: data, mountPath: /data}"""
    volumes = """      volumes:
        - {name: config, configMap: {name: queue}}
        - {name: data, persistentVolumeClaim: {claimName: queue}}"""
    write(tmp_path, "queue.yaml", config_map + _deployment(container, volumes))
    [(_, message)] = _messages(tmp_path, K8S)
    assert "keeps its data in /var/lib/redis with no volume mounted there" in message


def test_statefulset_without_claim_templates_is_told_to_add_one(tmp_path: Path) -> None:
    container = """        - name: mongo
          image: mongo:7.0"""
    write(tmp_path, "db.yaml", _deployment(container, kind="StatefulSet"))
    [(_, message)] = _messages(tmp_path, K8S)
    assert "the StatefulSet has no volumeClaimTemplates: add one and mount it at /data/db" in message


def test_single_replica_deployment_is_not_told_about_sharing_a_claim(tmp_path: Path) -> None:
    container = """        - name: mongo
          image: mongo:7.0"""
    write(tmp_path, "db.yaml", _deployment(container))
    [(_, message)] = _messages(tmp_path, K8S)
    assert "replicas cannot share" not in message
    assert "mount a PersistentVolumeClaim there" in message


def test_projected_volumes_at_the_data_directory_are_not_judged(tmp_path: Path) -> None:
    container = """        - name: mysql
          image: mysql:8.4
          volumeMounts:
            - {name: seed, mountPath: /var/lib/mysql}"""
    volumes = "      volumes:\n        - {name: seed, configMap: {name: seed}}"
    write(tmp_path, "db.yaml", _deployment(container, volumes))
    assert _messages(tmp_path, K8S) == []


@pytest.mark.parametrize(
    "command",
    [
        '["docker-entrypoint.sh", "postgres", "-c", "max_connections=200"]',
        '["postgres"]',
        '["sh", "-c", "exec /usr/local/bin/docker-entrypoint.sh postgres"]',
    ],
)
def test_commands_that_start_the_server_are_judged(tmp_path: Path, command: str) -> None:
    container = f"""        - name: postgres
          image: postgres:16
          command: {command}"""
    write(tmp_path, "db.yaml", _deployment(container))
    assert len(_messages(tmp_path, K8S)) == 1


def test_compose_follows_the_servers_own_data_option(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        """services:
  kept:
    image: mongo:7.0
    command: ["mongod", "--dbpath", "/srv/mongo"]
    volumes: ["mongo:/srv/mongo"]
  lost:
    image: mariadb:11.4
    command: --datadir=/srv/mysql
    volumes: ["mysql:/var/lib/mysql"]
volumes:
  mongo:
  mysql:
""",
    )
    [(line, message)] = _messages(tmp_path, COMPOSE)
    assert line == 6
    assert "keeps its data in /srv/mysql" in message
