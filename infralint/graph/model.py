"""Node, Edge and Graph: plain data that rules read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from infralint.parsers.yamlpos import Path, Pos
from infralint.source import Span

RENDER_SCOPE = "render_scope"  # the release or kustomize root a rendered node belongs to
RENDER_LABEL = "render_label"  # how a diagram names it: "Helm release web (values.yaml)"


class SpanMap:
    """Positions of a node's attributes, looked up by attribute path.

    A container node shares its document's position table through a prefix instead of
    copying it; ``extra`` holds positions of derived (effective) attributes.
    """

    __slots__ = ("extra", "file", "prefix", "table")

    def __init__(
        self, file: str, table: dict[Path, Pos], prefix: Path = (), extra: dict[Path, Pos] | None = None
    ) -> None:
        self.file = file
        self.table = table
        self.prefix = prefix
        self.extra = extra or {}

    def find(self, path: Path) -> Pos | None:
        """Position of ``path`` or of its nearest ancestor that has one."""
        path = tuple(path)
        while True:
            pos = self.extra.get(path)
            if pos is None:
                pos = self.table.get(self.prefix + path)
            if pos is not None:
                return pos
            if not path:
                return None
            path = path[:-1]

    def exact(self, path: Path) -> Pos | None:
        path = tuple(path)
        return self.extra.get(path) or self.table.get(self.prefix + path)

    def span(self, path: Path = ()) -> Span:
        pos = self.find(path)
        if pos is None:
            return Span(self.file)
        return Span(self.file, pos[0], pos[1])


@dataclass
class Node:
    """One thing in the infrastructure: a k8s object, a container, a compose service ...

    ``kinds`` holds the node's own kind first, then the groups it belongs to
    (``k8s/Deployment``, ``k8s/workload``, ``k8s/object``) so rule scopes can name either.
    """

    id: str
    kinds: tuple[str, ...]
    attrs: dict[str, Any]
    spans: SpanMap
    facts: dict[str, Any] = field(default_factory=dict)  # for message templates and linkers
    parent: str | None = None
    end_line: int | None = None
    ignored_rules: frozenset[str] = frozenset()  # from annotations on the object

    @property
    def kind(self) -> str:
        return self.kinds[0]

    @property
    def span(self) -> Span:
        return self.spans.span(())

    @property
    def path(self) -> str:
        return self.spans.file


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str  # selects, routes_to, targets, references, ...
    attrs: tuple[tuple[str, Any], ...] = ()


class Graph:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self._repeats: dict[str, int] = {}
        self._by_kind: dict[str, list[Node]] = defaultdict(list)
        self.edges: list[Edge] = []
        self._out: dict[str, list[Edge]] = defaultdict(list)
        self._in: dict[str, list[Edge]] = defaultdict(list)
        # Lookup tables linkers build once for rules (e.g. k8s objects by kind and name).
        self.indexes: dict[str, Any] = {}

    def add(self, node: Node) -> Node:
        """Add a node; a second node with the same id gets a stable suffix."""
        if node.id in self.nodes:
            # Counted per id, so a name shared by thousands of objects stays linear.
            n = self._repeats.get(node.id, 1) + 1
            while f"{node.id}~{n}" in self.nodes:
                n += 1
            self._repeats[node.id] = n
            node.id = f"{node.id}~{n}"
        self.nodes[node.id] = node
        for kind in node.kinds:
            self._by_kind[kind].append(node)
        return node

    def of_kind(self, *kinds: str) -> Iterator[Node]:
        if len(kinds) == 1:
            yield from self._by_kind.get(kinds[0], ())
            return
        seen: set[str] = set()
        for kind in kinds:
            for node in self._by_kind.get(kind, ()):
                if node.id not in seen:
                    seen.add(node.id)
                    yield node

    def link(self, source: Node, target: Node, kind: str, **attrs: Any) -> Edge:
        """Add an edge. Objects of two different renders (two releases of a chart, two kustomize
        roots), or of a render and a plain manifest, are never linked: each is judged as its own
        deployment."""
        edge = Edge(source.id, target.id, kind, tuple(sorted(attrs.items())))
        scope, other = source.facts.get(RENDER_SCOPE), target.facts.get(RENDER_SCOPE)
        if scope != other and ((scope is not None and other is not None) or (_is_k8s(source) and _is_k8s(target))):
            # A rendered object and a plain manifest are two deployments too (a component file
            # no root uses is not part of the root); other formats reach into a render freely.
            return edge
        self.edges.append(edge)
        self._out[source.id].append(edge)
        self._in[target.id].append(edge)
        return edge

    def outgoing(self, node: Node, kind: str | None = None) -> list[Node]:
        return [self.nodes[e.target] for e in self._out.get(node.id, ()) if kind is None or e.kind == kind]

    def incoming(self, node: Node, kind: str | None = None) -> list[Node]:
        return [self.nodes[e.source] for e in self._in.get(node.id, ()) if kind is None or e.kind == kind]

    def children(self, node: Node) -> list[Node]:
        return self.outgoing(node, "contains")

    def extend(self, nodes: Iterable[Node]) -> None:
        for node in nodes:
            self.add(node)


def _is_k8s(node: Node) -> bool:
    return node.kind.startswith("k8s/")
