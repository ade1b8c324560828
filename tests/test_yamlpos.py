"""YAML with positions: merges, tags, block scalars."""

from __future__ import annotations

from infralint.parsers.yamlpos import load_documents

MERGED = """base: &base
  image: nginx
  resources:
    limits: {memory: 1Gi}
web:
  <<: *base
  image: nginx:1.27
"""


def test_local_keys_beside_a_merge_keep_their_own_lines() -> None:
    [doc] = load_documents(MERGED)
    assert doc.data["web"] == {"image": "nginx:1.27", "resources": {"limits": {"memory": "1Gi"}}}
    assert doc.positions[("web", "image")][0] == 7
    assert doc.positions[("web", "resources")][0] == 3  # inherited: the anchor's line
    assert doc.positions[("web", "resources", "limits", "memory")][0] == 4


def test_first_merge_source_wins() -> None:
    [doc] = load_documents("a: &a {x: 1}\nb: &b {x: 2, y: 3}\nc:\n  <<: [*a, *b]\n")
    assert doc.data["c"] == {"x": 1, "y": 3}
    assert doc.positions[("c", "x")][0] == 1
    assert doc.positions[("c", "y")][0] == 2


def test_local_tags_and_block_scalars_are_recorded() -> None:
    [doc] = load_documents("ports: !reset []\nconf: |\n  line one\n  line two\n")
    assert doc.tags == {("ports",): "!reset"}
    assert doc.blocks[("conf",)] == ("|", 2)
