"""redis edges inside one scan (filled in with the parser)."""

from __future__ import annotations

from infralint.graph.model import Graph


def link(graph: Graph) -> None:
    return None
