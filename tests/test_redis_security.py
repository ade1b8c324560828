"""Redis security rules of the second catalog: severities by exposure and password, version-dependent
defaults, and the primary a replica names, found through the graph."""

from __future__ import annotations

from pathlib import Path

from scanning import scan_tree, write

from infralint.checks import redis as checks
from infralint.checks import redis_security as security
from infralint.findings import Severity
from infralint.graph.model import Graph
from infralint.parsers.redis import parse
from infralint.rules.meta import RuleContext
from infralint.source import SourceFile

PASSWORD = 'requirepass "4f1c8a0e9b7d2c6a5e3f1b8d7c9a0e2f"\n'


def _node(text: str, options: dict[str, object] | None = None):
    [node] = parse(SourceFile("redis.conf", "/nowhere/redis.conf", text, "redis")).nodes
    graph = Graph()
    graph.add(node)
    return node, RuleContext(graph, options or {})


def _severities(check, text: str, exposure: str | None = None) -> list[Severity | None]:
    node, ctx = _node(text)
    node.facts["exposure"] = exposure
    return [hit.severity for hit in check(node, ctx)]


def test_protected_configs_severity_follows_password_and_reach() -> None:
    check = security.protected_configs_enabled
    assert _severities(check, "bind 0.0.0.0\nenable-module-command yes\n") == [None]  # the rule's error
    assert _severities(check, "bind 0.0.0.0\n" + PASSWORD + "enable-module-command yes\n") == [Severity.WARNING]
    assert _severities(check, "bind 0.0.0.0\nenable-module-command local\n") == [Severity.NOTE]
    # Loopback only: `yes` reaches no more clients than `local` would.
    assert _severities(check, "bind 127.0.0.1\nenable-debug-command yes\n") == [Severity.NOTE]
    assert _severities(check, "bind 0.0.0.0\nenable-protected-configs no\n") == []


def test_weak_password_is_judged_by_reach_and_never_echoed() -> None:
    node, ctx = _node("bind 0.0.0.0\nrequirepass s3cr3t-pw\n")
    [hit] = security.weak_password(node, ctx)
    assert "9 characters" in hit.message and "s3cr3t-pw" not in hit.message
    assert _severities(security.weak_password, "bind 0.0.0.0\nrequirepass foobared\n", "internal") == [Severity.WARNING]
    assert _severities(security.weak_password, "bind 127.0.0.1\nrequirepass foobared\n") == []
    node, ctx = _node("bind 0.0.0.0\nrequirepass foobared\n")
    assert "s3cr3t" not in str(node.attrs) and "foobared" not in str(node.attrs)  # facts hold verdicts only


def test_dangerous_commands_lists_the_new_commands_and_debug_module_before_7() -> None:
    renamed = "".join(f'rename-command {c} ""\n' for c in ("FLUSHALL", "FLUSHDB", "CONFIG", "KEYS"))
    node, ctx = _node("bind 0.0.0.0\n" + PASSWORD + renamed)
    [hit] = checks.dangerous_commands(node, ctx)
    assert hit.message.startswith("SHUTDOWN, REPLICAOF, SLAVEOF, MIGRATE neither renamed")
    node, ctx = _node("bind 0.0.0.0\n" + PASSWORD + renamed, {"redis_version": "6.2"})
    [hit] = checks.dangerous_commands(node, ctx)
    assert hit.message.startswith("DEBUG, SHUTDOWN, MODULE, REPLICAOF, SLAVEOF, MIGRATE neither")
    node, ctx = _node("bind 0.0.0.0\nuser default on >x ~* &* +@all -@dangerous\n")
    assert not list(checks.dangerous_commands(node, ctx))  # every one of them is in @dangerous


REPLICA_SET = """apiVersion: v1
kind: ConfigMap
metadata:
  name: redis
  namespace: cache
data:
  primary.conf: |
    bind * -::*
    maxmemory 256mb
    requirepass "4f1c8a0e9b7d2c6a5e3f1b8d7c9a0e2f"
  replica.conf: |
    bind * -::*
    maxmemory 256mb
    replicaof redis-primary 6379
---
apiVersion: v1
kind: Service
metadata:
  name: redis-primary
  namespace: cache
spec:
  selector: {app: redis-primary}
  ports: [{port: 6379}]
"""


def _workload(name: str, key: str) -> str:
    return f"""---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: cache
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
        - name: redis
          image: redis:7.2
          command: ["redis-server", "/etc/redis/redis.conf"]
          volumeMounts: [{{name: conf, mountPath: /etc/redis}}]
      volumes:
        - name: conf
          configMap: {{name: redis, items: [{{key: {key}, path: redis.conf}}]}}
"""


def test_replica_finds_its_primary_through_a_kubernetes_service(tmp_path: Path) -> None:
    write(
        tmp_path,
        "redis.yaml",
        REPLICA_SET + _workload("redis-primary", "primary.conf") + _workload("redis-replica", "replica.conf"),
    )
    report = scan_tree(tmp_path, select=["redis-replica-no-masterauth"])
    [finding] = report.findings
    assert finding.severity == Severity.ERROR and finding.span.line == 14
    assert "the primary config" in finding.message and "sets requirepass" in finding.message
    assert [related.span.line for related in finding.related] == [10]
