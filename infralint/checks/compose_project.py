"""Compose projects in the graph: which services, networks, volumes ... a service can see.

A project sees its own definitions, those of the files it includes (transitively, read by the
parser), those of the projects that include it, and for a fragment (`docker-compose.prod.yml`
beside `docker-compose.yml`, or an override in a subfolder) those of the project file it is
combined with. Names a project file leaves to its overrides (a fragment of it, or a committed
`compose.override.yml.example`) count as defined: the project runs with them.
"""

from __future__ import annotations

from typing import Any

from infralint.graph.model import Graph, Node

_INCLUDERS_INDEX = "compose.includers"
_FRAGMENTS_INDEX = "compose.fragments"


def project_of(graph: Graph, node: Node) -> Node | None:
    if node.kind == "compose/project":
        return node
    return graph.nodes.get(node.parent) if node.parent else None


def services(graph: Graph, project: Node) -> dict[str, Node]:
    return {n.facts["service"]: n for n in graph.children(project) if n.kind == "compose/service"}


def _includers(graph: Graph) -> dict[str, list[Node]]:
    """Included project id -> projects whose `include:` names it (built once per graph)."""
    index = graph.indexes.get(_INCLUDERS_INDEX)
    if index is None:
        index = {}
        for project in graph.of_kind("compose/project"):
            for entry in project.facts.get("includes", ()):
                index.setdefault(entry["project"], []).append(project)
        graph.indexes[_INCLUDERS_INDEX] = index
    found: dict[str, list[Node]] = index
    return found


def fragments_of(graph: Graph, project: Node) -> list[Node]:
    """Projects built from files that complete this one (their `fragment_of` is its file)."""
    index = graph.indexes.get(_FRAGMENTS_INDEX)
    if index is None:
        index = {}
        for other in graph.of_kind("compose/project"):
            base = other.facts.get("fragment_of")
            if base:
                index.setdefault(f"compose/{base}", []).append(other)
        graph.indexes[_FRAGMENTS_INDEX] = index
    found: list[Node] = index.get(project.facts.get("id", project.id), [])
    return found


def related_projects(graph: Graph, project: Node) -> list[Node]:
    """This project, the projects it includes and the projects that include it (transitively)."""
    seen = {project.id}
    order = [project]
    pending = [project]
    includers = _includers(graph)
    while pending:
        current = pending.pop()
        neighbours = [graph.nodes.get(entry["project"]) for entry in current.facts.get("includes", ())]
        neighbours += includers.get(current.facts.get("id", current.id), [])
        for other in neighbours:
            if other is not None and other.id not in seen:
                seen.add(other.id)
                order.append(other)
                pending.append(other)
    return order


def visible_services(graph: Graph, project: Node) -> dict[str, Node]:
    """Service nodes by name across the related projects (the project's own win)."""
    found: dict[str, Node] = {}
    for other in reversed(related_projects(graph, project)):
        found.update(services(graph, other))
    return found


def defined_names(graph: Graph, project: Node, key: str) -> set[str] | None:
    """Names of `key` (services, networks, volumes, secrets, configs) the project can use, or
    None when the project cannot be judged (a file of it failed to parse, or it is an override
    whose base is not here)."""
    facts = project.facts
    if facts.get("partial") and facts.get("base_defined") is None:
        return None
    names: set[str] = set()
    for other in related_projects(graph, project):
        other_facts: dict[str, Any] = other.facts
        names.update(other_facts.get("defined", {}).get(key, ()))
        names.update(other_facts.get("included", {}).get(key, ()))
    names.update((facts.get("base_defined") or {}).get(key, ()))
    for fragment in fragments_of(graph, project):
        names.update(fragment.facts.get("defined", {}).get(key, ()))
    for template in facts.get("templates") or ():
        names.update(template["defined"].get(key, ()))
    return names


def dependents(graph: Graph, service: Node) -> list[tuple[Node, str]]:
    """(service, condition) for every service that names this one in `depends_on`."""
    project = project_of(graph, service)
    if project is None:
        return []
    name = service.facts["service"]
    found = []
    for other in related_projects(graph, project):
        for candidate in services(graph, other).values():
            condition = candidate.facts.get("depends_on", {}).get(name)
            if condition is not None and candidate is not service:
                found.append((candidate, condition))
    return found


def is_one_shot(graph: Graph, service: Node) -> bool:
    """A service others wait on to finish (`service_completed_successfully`): a job."""
    return any(condition == "service_completed_successfully" for _, condition in dependents(graph, service))
