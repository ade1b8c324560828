"""Compose projects in the graph: which services, networks, volumes ... a service can see.

A project sees its own definitions, those of the files it includes (transitively, read by the
parser), those of the projects that include it (and what these include: not another project
that includes the same file), and for a fragment (`docker-compose.prod.yml` beside
`docker-compose.yml`, an override in a subfolder, an add-on such as `jibri.yml` run with
`-f docker-compose.yml -f jibri.yml`) those of the files it is combined with. Names a project
file leaves to its overrides (a fragment of it, or a committed `compose.override.yml.example`)
count as defined: the project runs with them. An add-on's names do not: its base runs alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
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
            if base and not other.facts.get("addon"):
                index.setdefault(f"compose/{base}", []).append(other)
        graph.indexes[_FRAGMENTS_INDEX] = index
    found: list[Node] = index.get(project.facts.get("id", project.id), [])
    return found


def related_projects(graph: Graph, project: Node) -> list[Node]:
    """This project, the projects that include it (transitively), and the projects any of these
    include (transitively). A file two projects include does not join them: from one of them,
    the other is neither an includer nor included."""
    includers = _includers(graph)
    order = _closure([project], lambda p: includers.get(p.facts.get("id", p.id), []))
    return _closure(order, lambda p: [graph.nodes.get(e["project"]) for e in p.facts.get("includes", ())])


def _closure(start: list[Node], neighbours: Callable[[Node], Iterable[Node | None]]) -> list[Node]:
    seen = {node.id for node in start}
    order = list(start)
    pending = list(start)
    while pending:
        for other in neighbours(pending.pop()):
            if other is not None and other.id not in seen:
                seen.add(other.id)
                order.append(other)
                pending.append(other)
    return order


def combined_projects(graph: Graph, project: Node) -> list[Node]:
    """The projects of the files a fragment is combined with (its base, the files declaring
    what it leaves undefined), each with its related projects; none for a project file."""
    found: dict[str, Node] = {}
    for path in project.facts.get("combined_with") or ():
        other = graph.nodes.get(f"compose/{path}")
        for member in related_projects(graph, other) if other is not None else ():
            found.setdefault(member.id, member)
    return list(found.values())


def combined_note(project: Node) -> str:
    """For a message about an undefined name: the files a fragment was judged with."""
    files = project.facts.get("combined_with") or ()
    return f" (neither here nor in {' or '.join(files)}, which this file is combined with)" if files else ""


def visible_services(graph: Graph, project: Node) -> dict[str, Node]:
    """Service nodes by name across the related projects and the files a fragment is combined
    with (the project's own win, then those of its related projects)."""
    found: dict[str, Node] = {}
    for other in reversed(combined_projects(graph, project)):
        found.update(services(graph, other))
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


def _waited_entries(service: Node) -> dict[str, str]:
    """The service's depends_on entries Compose waits for (`required: false` ones are left out:
    a missing or failed optional dependency does not hold the service back)."""
    written = service.attrs.get("depends_on")
    entries = written if isinstance(written, dict) else {}
    found = {}
    for name, condition in service.facts.get("depends_on", {}).items():
        entry = entries.get(name)
        required = entry.get("required") if isinstance(entry, dict) else None
        if required is False or str(required).lower() == "false":
            continue
        found[name] = condition
    return found


def healthy_through(graph: Graph, service: Node, name: str) -> Node | None:
    """Another dependency of SERVICE, at any depth along depends_on, that waits for NAME to be
    healthy: Compose starts SERVICE only once that one has started, so SERVICE already waits for
    NAME to be healthy. None when no chain does (each hop must be a wait Compose keeps)."""
    return _along_depends_on(graph, service, name, lambda waits: waits.get(name) == "service_healthy")


def started_through(graph: Graph, service: Node, name: str) -> Node | None:
    """Another dependency of SERVICE, at any depth along depends_on, that itself depends on NAME
    (with any condition Compose keeps): Compose then starts NAME, and its name resolves, before
    SERVICE. None when no chain reaches NAME."""
    return _along_depends_on(graph, service, name, lambda waits: name in waits)


def _along_depends_on(graph: Graph, service: Node, name: str, accepts: Callable[[dict[str, str]], bool]) -> Node | None:
    """The first dependency of SERVICE, other than NAME, at any depth along depends_on, whose own
    waits (`_waited_entries`) ACCEPTS says yes to."""
    seen = {service.id}
    pending = [service]
    while pending:
        current = pending.pop()
        project = project_of(graph, current)
        visible = visible_services(graph, project) if project is not None else {}
        for other_name in _waited_entries(current):
            other = visible.get(other_name)
            if other_name == name or other is None or other.id in seen:
                continue
            seen.add(other.id)
            if accepts(_waited_entries(other)):
                return other
            pending.append(other)
    return None


_DEPLOYMENTS_INDEX = "compose.deployments"


def deployment(graph: Graph, project: Node) -> list[Node]:
    """The projects Compose runs together with PROJECT: its base, the fragments and add-ons
    combined with that base, and the files they include (a file that several projects include
    joins none of them). The file `docker compose up` is given first (not a fragment, add-on or
    included file), then by path; the first one's id names the deployment."""
    index = graph.indexes.get(_DEPLOYMENTS_INDEX)
    if index is None:
        index = _group_deployments(graph)
        graph.indexes[_DEPLOYMENTS_INDEX] = index
    found: list[Node] = index.get(project.id, [project])
    return found


def _group_deployments(graph: Graph) -> dict[str, list[Node]]:
    projects = {node.id: node for node in graph.of_kind("compose/project")}
    leader = {project_id: project_id for project_id in projects}

    def find(project_id: str) -> str:
        while leader[project_id] != project_id:
            leader[project_id] = leader[leader[project_id]]
            project_id = leader[project_id]
        return project_id

    def join(one: str, other: str) -> None:
        if other in projects:
            leader[find(one)] = find(other)

    includers = _includers(graph)
    for project in projects.values():
        for path in (project.facts.get("fragment_of"), *(project.facts.get("combined_with") or ())):
            if path:
                join(project.id, f"compose/{path}")
        for entry in project.facts.get("includes", ()):
            if len(includers.get(entry["project"], ())) == 1:
                join(entry["project"], project.id)
    groups: dict[str, list[Node]] = {}
    for project_id, project in projects.items():
        groups.setdefault(find(project_id), []).append(project)
    index: dict[str, list[Node]] = {}
    for members in groups.values():
        members.sort(key=lambda p: (bool(p.facts.get("fragment_of")), p.id in includers, p.id))
        for member in members:
            index[member.id] = members
    return index


def never_restarts(service: Node) -> bool:
    """`restart: "no"` or `deploy.restart_policy.condition: none` written out."""
    facts = service.facts
    return str(facts.get("restart")).lower() in ("no", "false") or facts.get("restart_policy") == "none"
