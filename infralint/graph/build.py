"""Build the graph: every parser's nodes, then the linkers' edges."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from infralint.graph.model import Graph, Node

LINKERS = (
    "infralint.graph.k8s_links",
    "infralint.graph.nginx_links",
    "infralint.graph.haproxy_links",
    "infralint.graph.redis_links",
    "infralint.graph.compose_links",
    # Cross-format joins run last: they read what the format linkers built.
    "infralint.graph.mounts",
    "infralint.graph.exposure",
    "infralint.graph.upstreams",
)


def build(nodes: Iterable[Node]) -> Graph:
    graph = Graph()
    renamed: dict[str, str] = {}
    for node in nodes:
        if node.parent in renamed:
            old_parent = node.parent
            new_parent = renamed[old_parent]
            node.parent = new_parent
            if node.id.startswith(old_parent + "/"):
                node.id = new_parent + node.id[len(old_parent) :]
        original = node.id
        graph.add(node)
        if node.id != original:
            renamed[original] = node.id
        if node.parent is not None and node.parent in graph.nodes:
            graph.link(graph.nodes[node.parent], node, "contains")
    for module_name in LINKERS:
        importlib.import_module(module_name).link(graph)
    return graph
