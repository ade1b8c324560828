"""redis.conf held in a ConfigMap: parsed as Redis, findings at the manifest's lines, suppressions inside."""

from __future__ import annotations

from pathlib import Path

from scanning import found, scan_tree, write

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: redis-config
data:
  app.properties: |
    cache.host=redis
  redis.conf: |
    # cache for the web tier
    bind 0.0.0.0
    maxmemory 256mb
    maxmemory-policy allkeys-lru
    maxmemroy-samples 5
    appendonly on
"""


def test_findings_point_at_the_manifest_lines(tmp_path: Path) -> None:
    write(tmp_path, "cm.yaml", CONFIGMAP)
    report = scan_tree(tmp_path, select=["redis"])
    assert found(report) == {
        ("cm.yaml", 10, "redis-bind-all-interfaces"),
        ("cm.yaml", 10, "redis-no-auth"),
        ("cm.yaml", 10, "redis-dangerous-commands"),  # the first directive: nothing renamed anywhere
        ("cm.yaml", 13, "redis-unknown-directive"),
        ("cm.yaml", 14, "infralint-parse-error"),
        ("cm.yaml", 10, "redis-no-tls"),
    }
    by_rule = {f.rule_id: f for f in report.findings}
    assert by_rule["redis-unknown-directive"].span.col == 5  # the directive, after the block's indent
    assert by_rule["infralint-parse-error"].span.col == 16  # the value 'on'
    assert "did you mean 'maxmemory-samples'" in by_rule["redis-unknown-directive"].message
    assert by_rule["redis-unknown-directive"].message.startswith("redis.conf in ConfigMap redis-config: ")


def test_node_ids_and_parent(tmp_path: Path) -> None:
    from infralint.parsers.kubernetes import parse
    from infralint.source import SourceFile

    source = SourceFile("cm.yaml", str(tmp_path / "cm.yaml"), CONFIGMAP, "k8s", root=str(tmp_path))
    nodes = {node.id: node for node in parse(source).nodes}
    redis = nodes["redis/cm.yaml#redis.conf"]
    assert redis.kinds == ("redis/config",)
    assert redis.parent == "k8s/ConfigMap/-/redis-config"
    assert redis.facts["embedded_in"] == "k8s/ConfigMap/-/redis-config"
    assert redis.span.line == 9


def test_suppression_inside_the_embedded_text(tmp_path: Path) -> None:
    text = CONFIGMAP.replace(
        "    bind 0.0.0.0\n",
        "    # infralint: ignore[redis-bind-all-interfaces] only reachable through the pod network\n    bind 0.0.0.0\n",
    )
    write(tmp_path, "cm.yaml", text)
    report = scan_tree(tmp_path, select=["redis-bind-all-interfaces", "redis-no-tls"])
    assert found(report) == {("cm.yaml", 11, "redis-no-tls"), ("cm.yaml", 15, "infralint-parse-error")}


def test_content_sniffed_key_and_keep_chomping(tmp_path: Path) -> None:
    # The Kubernetes docs' example key, and a `|+` block as in GKE's samples.
    write(
        tmp_path,
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: example-redis-config\ndata:\n"
        "  redis-config: |+\n    maxmemory 2mb\n    maxmemory-policy allkeys-lru\n    protected-mode no\n\n",
    )
    report = scan_tree(tmp_path, select=["redis-protected-mode-off", "redis-no-maxmemory"])
    assert found(report) == {("cm.yaml", 9, "redis-protected-mode-off")}


def test_quoted_value_pins_findings_to_the_key_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "cm.yaml",
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: r\ndata:\n  redis.conf: "bind 0.0.0.0\\nmaxmemory 1gb\\n"\n',
    )
    report = scan_tree(tmp_path, select=["redis-bind-all-interfaces"])
    assert found(report) == {("cm.yaml", 6, "redis-bind-all-interfaces")}


def test_sentinel_in_a_configmap_is_not_linted_as_a_server(tmp_path: Path) -> None:
    write(
        tmp_path,
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sentinel\ndata:\n  sentinel.conf: |\n"
        "    port 26379\n    protected-mode no\n    sentinel monitor mymaster redis-0.redis 6379 2\n",
    )
    report = scan_tree(tmp_path, select=["redis"])
    assert found(report) == set()
