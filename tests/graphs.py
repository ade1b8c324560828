"""Build the graph of a temporary tree, the way a scan does, for linker tests."""

from __future__ import annotations

import os
from pathlib import Path

from infralint import discover
from infralint.graph.build import build
from infralint.graph.model import Graph
from infralint.parsers.registry import parser_for


def graph_of(root: Path) -> Graph:
    previous = os.getcwd()
    os.chdir(root)
    try:
        nodes = []
        for absolute in discover.walk(["."], str(root)):
            source = discover.read(absolute, str(root), discover.DEFAULT_MAX_BYTES)
            if source is None or isinstance(source, discover.InputProblem):
                continue
            parse = parser_for(source.kind)
            if parse is not None:
                nodes += parse(source).nodes
        return build(nodes)
    finally:
        os.chdir(previous)


def edges(graph: Graph, kind: str) -> set[tuple[str, str]]:
    return {(e.source, e.target) for e in graph.edges if e.kind == kind}
