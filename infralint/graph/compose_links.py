"""Compose edges: a service `depends_on` another (attrs: the condition)."""

from __future__ import annotations

from infralint.graph.model import Graph


def link(graph: Graph) -> None:
    by_project: dict[str | None, dict[str, str]] = {}
    for service in graph.of_kind("compose/service"):
        project = service.parent
        by_project.setdefault(project, {})[str(service.facts.get("name"))] = service.id
    for service in graph.of_kind("compose/service"):
        names = by_project.get(service.parent, {})
        for name, condition in (service.facts.get("depends_on") or {}).items():
            target = names.get(name)
            if target is not None:
                graph.link(service, graph.nodes[target], "depends_on", condition=condition)
