"""Which nodes belong to copies of one object (for infralint.folding).

A repository may commit the build output of its kustomize roots or charts beside their sources,
or keep one manifest in several folders. Two top-level objects are copies when their parsed
content is identical; a node's identity is its top-level object's digest. A Kubernetes document
holds all of its object; a compose project node holds only the top-level keys, so a project is
digested with every service in it (a service is only a copy when its whole project is).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from infralint.graph.model import RENDER_SCOPE, Graph, Node

CopyIdentity = Callable[[str], "tuple[str, bool] | None"]


def copy_identity(graph: Graph) -> CopyIdentity:
    """For a node id: its top-level object's content digest and whether it was rendered."""
    digests: dict[str, str | None] = {}
    children: dict[str, list[Node]] = {}
    for node in graph.nodes.values():
        if node.parent is not None and node.kind.startswith("compose/"):
            children.setdefault(node.parent, []).append(node)

    def identity(node_id: str) -> tuple[str, bool] | None:
        node = graph.nodes.get(node_id)
        if node is None:
            return None
        top = _top(graph, node)
        if top.id not in digests:
            digests[top.id] = _digest(top, children.get(top.id, []))
        digest = digests[top.id]
        return None if digest is None else (digest, bool(top.facts.get(RENDER_SCOPE)))

    return identity


def _top(graph: Graph, node: Node) -> Node:
    seen = {node.id}
    while node.parent is not None and node.parent in graph.nodes and node.parent not in seen:
        node = graph.nodes[node.parent]
        seen.add(node.id)
    return node


def _digest(node: Node, parts: list[Node]) -> str | None:
    if not node.kind.startswith(("k8s/", "compose/")) or not isinstance(node.attrs, dict):
        return None
    content = [
        [node.kind, node.attrs],
        *sorted(([part.id.removeprefix(node.id), part.attrs] for part in parts), key=repr),
    ]
    if not node.attrs and not parts:
        return None
    try:
        text = json.dumps(content, sort_keys=True, default=repr)
    except TypeError:  # keys of mixed types (`~: x`, `1: y`) cannot be sorted as they are
        text = json.dumps(_canonical(content), default=repr)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def _canonical(value: Any) -> Any:
    """VALUE with every mapping as a list of (key, value) pairs in key order: YAML allows keys of
    mixed types (`~: x`, `1: y`), which json's sort_keys cannot order."""
    if isinstance(value, dict):
        return sorted(((repr(key), _canonical(item)) for key, item in value.items()), key=lambda pair: pair[0])
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    return value
