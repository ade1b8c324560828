"""Cross-format exposure (filled in with the graph rules)."""

from __future__ import annotations

from infralint.graph.model import Graph


def link(graph: Graph) -> None:
    return None
