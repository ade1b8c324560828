"""HAProxy edges inside one scan: proxies route to the backends their use_backend and
default_backend lines name. Backends are looked up among the files haproxy would load together
(one folder, or one ConfigMap), kept in graph.indexes["haproxy_backends"][group][name]."""

from __future__ import annotations

from infralint.graph.model import Graph, Node


def link(graph: Graph) -> None:
    backends: dict[str, dict[str, Node]] = {}
    for node in graph.of_kind("haproxy/backend-side"):
        name = node.facts.get("name")
        group = node.facts.get("config_group")
        if isinstance(name, str) and isinstance(group, str):
            backends.setdefault(group, {}).setdefault(name, node)
    graph.indexes["haproxy_backends"] = backends
    for node in graph.of_kind("haproxy/proxy", "haproxy/defaults"):
        known = backends.get(node.facts.get("config_group") or "", {})
        for ref in node.attrs.get("backend_refs", []):
            target = known.get(ref["target"])
            if target is not None and not ref["dynamic"]:
                graph.link(node, target, "routes_to", keyword=ref["keyword"], line=ref["line"])
