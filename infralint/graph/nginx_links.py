"""nginx edges inside one scan.

- A file the scan found on its own that a scanned config also includes was parsed twice: once as
  a stand-alone fragment, once in place inside the including config. The in-place reading is the
  true one (it inherits http/server settings), so the stand-alone reading's nodes get
  ``facts["included_by"]`` and the nginx checks skip them: one finding per problem, judged in
  context. Only configs that nothing else includes count as includers, so a cycle of fragments
  keeps its readings.
- ``proxy_pass http://name`` (and grpc/fastcgi/uwsgi/scgi) -> the `upstream name` block of the same
  config: edge ``proxies_to`` with the directive and its position.
"""

from __future__ import annotations

from collections import defaultdict

from infralint.graph.model import Graph, Node

UPSTREAM_INDEX = "nginx/upstreams"  # graph.indexes key: {(config id, protocol, name): upstream node}


def link(graph: Graph) -> None:
    configs = list(graph.of_kind("nginx/config"))
    if not configs:
        return
    _mark_included(graph, configs)
    _link_upstreams(graph)


def _mark_included(graph: Graph, configs: list[Node]) -> None:
    readers: dict[str, list[Node]] = defaultdict(list)  # file -> configs that include it
    for config in configs:
        for path in config.facts.get("includes", ()):
            readers[path].append(config)
    roots = [c for c in configs if not c.facts.get("embedded") and not readers.get(c.facts["file"])]
    shadowed: dict[str, str] = {}
    for config in configs:
        if config.facts.get("embedded"):
            continue
        includers = [r for r in readers.get(config.facts["file"], ()) if r in roots and r is not config]
        if includers:
            shadowed[config.id] = includers[0].id
    if not shadowed:
        return
    for node in graph.of_kind("nginx/block"):
        includer = shadowed.get(node.facts.get("config", ""))
        if includer is not None:
            node.facts["included_by"] = includer


def upstream_for(graph: Graph, node: Node, host: str, protocol: str = "http") -> Node | None:
    """The `upstream` block of the node's config named ``host``, if any."""
    index = graph.indexes.get(UPSTREAM_INDEX, {})
    result: Node | None = index.get((node.facts.get("config"), protocol, host))
    return result


def _link_upstreams(graph: Graph) -> None:
    index: dict[tuple[str, str, str], Node] = {}
    for block in graph.of_kind("nginx/upstream"):
        key = (block.facts.get("config", ""), block.facts.get("protocol", "http"), block.facts.get("name", ""))
        index.setdefault(key, block)
    graph.indexes[UPSTREAM_INDEX] = index
    if not index:
        return
    for node in graph.of_kind("nginx/block"):
        protocol = "stream" if node.kind == "nginx/stream-server" else "http"
        for target in node.facts.get("proxy_targets", ()):
            if target["is_variable"] or target["unix"]:
                continue
            upstream = upstream_for(graph, node, target["host"], protocol)
            if upstream is not None:
                graph.link(node, upstream, "proxies_to", directive=target["directive"], line=target["line"])
