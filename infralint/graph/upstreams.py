"""Where proxies send traffic: nginx `*_pass` targets and `upstream` servers, HAProxy `server` lines.

Each host is resolved in the context the config runs in:

- compose: the projects of the services that mount the config, else the project whose folder
  holds the config (its own folder or the nearest ancestor with one). A name is a service name,
  a `container_name` or a network alias of the project (with the files it includes, the
  fragments beside it and the projects in the same folder), or a `links` alias of the runner.
- Kubernetes: a config embedded in a ConfigMap or mounted into a pod resolves Service names in
  the namespace of the pod (else of the ConfigMap): `name`, `name.ns`, `name.ns.svc`,
  `name.ns.svc.cluster.local`, and `pod.name` forms of a headless Service.

A host is judged "unresolved" only when the scan holds the context that should define it (a
readable compose project, or Services in that namespace near the config); variables, unix
sockets, IP addresses, `localhost`, public names (dotted, and not a compose name nor a
Kubernetes Service form), nginx `upstream` block names and names the runner gets elsewhere
(`extra_hosts`, `external_links`, an external network) are left alone.

Edges: `nginx/location | nginx/upstream | nginx/stream-server | haproxy backend-side -routes_to->
compose/service | k8s/Service` (attrs host, port, resolved_port, at). Every reference, resolved
or not, is kept in ``graph.indexes[ROUTES]`` for the rules: see routes_from(), routes_of_config(),
routes_to().
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from infralint.checks import compose_project as projects
from infralint.graph.k8s_links import made_by_operator, nearest_named, same_namespace
from infralint.graph.model import Graph, Node
from infralint.source import Span

ROUTES = "upstreams/routes"  # graph.indexes key: Routes
RESOLVED, UNRESOLVED, UNJUDGED = "resolved", "unresolved", "unjudged"
NGINX_PASS = ("proxy_pass", "grpc_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "memcached_pass")
_WRITTEN_PORT = re.compile(r":(\d+)$")
_HOST_NAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?")


# -- references: what a config says it sends traffic to ----------------------------------------


@dataclass(frozen=True)
class Reference:
    """One host a proxy sends traffic to, where it is written."""

    source: Node  # the location, stream server, upstream block or HAProxy backend/listen
    config: str  # id of the config node the source belongs to
    directive: str  # proxy_pass, grpc_pass ..., `server` (nginx upstream), `server` (HAProxy)
    raw: str  # the address as written
    host: str
    port: int | None  # where the traffic goes: the written port or the scheme's default
    port_written: bool
    span: Span  # the directive (nginx) or the address (HAProxy)
    at: tuple[Any, ...]  # attribute path of the directive in the source node
    path: tuple[Any, ...] | None = None  # attribute path of the address (HAProxy), for Hit(path=)
    checked: bool = False  # the proxy health-checks this server itself (HAProxy `check`)

    @property
    def software(self) -> str:
        return "haproxy" if self.source.kind.startswith("haproxy/") else "nginx"

    @property
    def written(self) -> str:
        """How the finding names the reference: `proxy_pass http://api:8000`, `server s1 api:8000`."""
        if self.software == "haproxy":
            return f"server {self.raw}"
        return f"{self.directive} {self.raw}"


def references(graph: Graph) -> Iterator[Reference]:
    for node in graph.of_kind("nginx/block"):
        if not node.facts.get("included_by"):
            yield from _nginx_references(node)
    for node in graph.of_kind("haproxy/backend-side"):
        yield from _haproxy_references(node)


def _nginx_references(node: Node) -> Iterator[Reference]:
    config = str(node.facts.get("config") or node.id)
    record_paths = _record_paths(node)
    for target in node.facts.get("proxy_targets") or ():
        if target.get("unix") or target.get("is_variable") or not target.get("host"):
            continue
        port = target.get("port")
        written = port is not None
        if port is None and target.get("directive") in ("proxy_pass", "grpc_pass"):
            port = target.get("default_port")
        yield Reference(
            node,
            config,
            str(target["directive"]),
            str(target["raw"]),
            str(target["host"]),
            port,
            written,
            Span(target["path"], target["line"], target["col"]),
            record_paths.get(_place(target), ()),
        )
    for server in node.facts.get("servers") or () if node.kind == "nginx/upstream" else ():
        raw = str(server.get("raw") or "")
        address = raw.split()[0] if raw else ""
        if server.get("unix") or server.get("is_variable") or not server.get("host") or "service=" in raw:
            continue  # `service=` asks DNS for SRV records: the name is not a host
        written = bool(_WRITTEN_PORT.search(address))
        yield Reference(
            node,
            config,
            "server",
            address,
            str(server["host"]),
            server.get("port") if written or node.facts.get("protocol") == "http" else None,
            written,
            Span(server["path"], server["line"], server["col"]),
            record_paths.get(_place(server), ()),
        )


def _place(record: dict[str, Any]) -> tuple[Any, Any, Any]:
    return (record.get("path"), record.get("line"), record.get("col"))


def _record_paths(node: Node) -> dict[tuple[Any, Any, Any], tuple[Any, ...]]:
    """The attribute path of each directive record of the node, by where it is written (one walk
    for the node, not one per reference: an upstream may hold thousands of servers)."""
    paths: dict[tuple[Any, Any, Any], tuple[Any, ...]] = {}

    def walk(records: Any, prefix: tuple[Any, ...]) -> None:  # nesting is bounded by the parser
        for index, record in enumerate(records if isinstance(records, list) else ()):
            here = (*prefix, index)
            paths.setdefault(_place(record), here)
            walk(record.get("block"), (*here, "block"))

    walk(node.attrs.get("directives"), ("directives",))
    return paths


def _haproxy_references(node: Node) -> Iterator[Reference]:
    config = str(node.facts.get("config") or node.id)
    for index, server in enumerate(node.facts.get("servers") or ()):
        host = server.get("host")
        if server.get("family") != "hostname" or not host or "$" in str(host):
            continue
        port_text = server.get("port_text")
        written = port_text is not None
        port = int(port_text) if isinstance(port_text, str) and port_text.isdecimal() else None
        path = ("servers", index, "address")
        yield Reference(
            node,
            config,
            "server",
            f"{server.get('name')} {server.get('address')}",
            str(host),
            port,
            written,
            node.spans.span(path),
            ("servers", index),
            path,
            checked=bool(server.get("check")),
        )


# -- contexts: where a config runs, and so what its names can mean --------------------------------


@dataclass
class Outcome:
    status: str  # RESOLVED, UNRESOLVED or UNJUDGED
    targets: list[Node] = field(default_factory=list)
    why: str = ""  # why the host is left alone (UNJUDGED), or what was looked for (UNRESOLVED)


@dataclass
class ComposeContext:
    projects: list[Node]
    names: dict[str, list[Node]]  # DNS name -> services answering to it
    judgeable: bool  # every project of it was read whole
    runner: Node | None = None
    elsewhere: frozenset[str] = frozenset()  # names the runner gets from extra_hosts / external_links
    hostnames: frozenset[str] = frozenset()  # services' `hostname`s
    external_network: str | None = None  # a network shared with projects the scan may not hold
    own: frozenset[str] = frozenset()  # ids of the projects that run with the runner (its deployment)

    @property
    def label(self) -> str:
        names = sorted({str(p.facts.get("project_name") or p.id) for p in self.projects})
        return "compose project " + ", ".join(f"'{n}'" for n in names)

    def resolve(self, graph: Graph, host: str) -> Outcome:
        found = self.names.get(host)
        if found:
            return Outcome(RESOLVED, self._best(found))
        if host in self.elsewhere:
            return Outcome(UNJUDGED, why="the runner names it in extra_hosts or external_links")
        if host in self.hostnames:
            return Outcome(
                UNJUDGED, why="a service's `hostname` (whether other containers resolve it depends on the engine)"
            )
        if "." in host:
            return Outcome(UNJUDGED, why="a name outside the compose project")
        if self.runner is not None and self.runner.attrs.get("network_mode") is not None:
            return Outcome(UNJUDGED, why="the runner does not use the project's networks")
        if self.external_network is not None:
            return Outcome(UNJUDGED, why=f"network '{self.external_network}' is shared with other projects")
        if not self.judgeable:
            return Outcome(UNJUDGED, why="a file of the project could not be read whole")
        return Outcome(UNRESOLVED, why=f"no service, container_name or network alias of {self.label} is named '{host}'")

    def _best(self, found: list[Node]) -> list[Node]:
        """The services a name reaches where the config runs: those of the runner's own deployment
        when it defines the name (not a same-named service of another project of the folder), and
        never a partial definition that only completes a service defined in full beside it (an
        override's `web: {ports: ...}`): the full one holds what the merged service has."""
        complete = [service for service in found if not service.facts.get("fragment")] or list(found)
        own = [service for service in complete if service.parent in self.own]
        return own or complete


@dataclass
class K8sContext:
    namespace: str | None
    anchor: Node  # the workload running the config, else the ConfigMap holding it

    @property
    def label(self) -> str:
        return f"namespace '{self.namespace}'" if self.namespace else "the Kubernetes objects near it"

    def resolve(self, graph: Graph, host: str) -> Outcome:
        judged_forms = []
        for name, namespace, judged in _service_forms(graph, host, self.namespace):
            found = nearest_named(graph, self.anchor, "Service", name, namespace)
            if found:
                return Outcome(RESOLVED, found)
            if judged:
                judged_forms.append((name, namespace))
        if not judged_forms:
            return Outcome(UNJUDGED, why="not a Service name of the scan's namespaces")
        for name, namespace in judged_forms:
            if (name, namespace) in BUILT_IN_SERVICES:
                return Outcome(UNJUDGED, why="a Service every cluster has")
            if not _holds_services(graph, namespace, self.anchor, self.namespace):
                where = f"of namespace '{namespace}'" if namespace else "near the config"
                return Outcome(UNJUDGED, why=f"the scan holds no Services {where}")
            if made_by_operator(graph, namespace, name):
                return Outcome(UNJUDGED, why="a custom resource of the scan likely makes it")
        name, namespace = judged_forms[0]
        where = f"namespace '{namespace}'" if namespace else "the config's namespace"
        return Outcome(UNRESOLVED, why=f"the scan defines no Service '{name}' in {where}")


Context = ComposeContext | K8sContext
# Services a cluster makes itself: the API server and cluster DNS.
BUILT_IN_SERVICES = frozenset({("kubernetes", "default"), ("kube-dns", "kube-system")})


def _service_forms(graph: Graph, host: str, namespace: str | None) -> list[tuple[str, str | None, bool]]:
    """(Service name, namespace, judged) a host can mean: `judged` when the form surely names a Service."""
    labels = host.split(".")
    if "svc" in labels:
        before = labels[: labels.index("svc")]
        if len(before) == 2:  # name.ns.svc[.cluster.local]
            return [(before[0], before[1], True)]
        if len(before) == 3:  # pod.name.ns.svc[...]: a pod of a headless Service
            return [(before[1], before[2], True)]
        return []
    if len(labels) == 1:
        return [(host, namespace, True)]
    if len(labels) == 2:
        first, second = labels
        # name.ns when `ns` is a namespace of the scan; else pod.name of a headless Service
        return [(first, second, second in _namespaces(graph)), (second, namespace, False)]
    return []


NAMESPACES = "upstreams/namespaces"


def _namespaces(graph: Graph) -> set[str]:
    known = graph.indexes.get(NAMESPACES)
    if known is None:
        known = {str(n.facts["namespace"]) for n in graph.of_kind("k8s/object") if n.facts.get("namespace")}
        known |= {str(n.facts["name"]) for n in graph.of_kind("k8s/Namespace")}
        graph.indexes[NAMESPACES] = known
    return known


def _holds_services(graph: Graph, namespace: str | None, anchor: Node, own: str | None) -> bool:
    """Whether the scan holds Services where this host would be defined.

    A namespace named in the host counts when some Service states it. Services without a
    namespace get one at deploy time, so they count only near the config (its folder, a parent
    or a subfolder) and only for the config's own namespace: unrelated apps of a monorepo are
    not context for each other.
    """
    for service in graph.of_kind("k8s/Service"):
        theirs = service.facts["namespace"]
        if namespace is not None and theirs == namespace:
            return True
        near = _related_folders(anchor.path, service.path)
        if theirs is None and near and (namespace is None or namespace == own):
            return True
        if namespace is None and near and same_namespace(theirs, own):
            return True
    return False


def _related_folders(a: str, b: str) -> bool:
    folder_a, folder_b = posixpath.dirname(a), posixpath.dirname(b)
    return _within(folder_a, folder_b) or _within(folder_b, folder_a)


def _within(folder: str, ancestor: str) -> bool:
    return ancestor in ("", ".") or folder == ancestor or folder.startswith(ancestor + "/")


def contexts(graph: Graph, config: Node) -> list[Context]:
    """The contexts a config's names are read in; empty when the scan holds none."""
    runners = [graph.nodes[r] for r in config.facts.get("runs_in") or () if r in graph.nodes]
    found: list[Context] = []
    for runner in runners:
        if runner.kind == "compose/service":
            project = projects.project_of(graph, runner)
            if project is not None:
                context = _compose_context(graph, compose_family(graph, project), runner)
                context.own = frozenset(member.id for member in deployment(graph, project))
                found.append(context)
        elif runner.kind == "k8s/container":
            workload = graph.nodes.get(str(runner.facts.get("workload")))
            holder = graph.nodes.get(str(config.facts.get("embedded_in")))
            anchor = workload or holder or runner
            namespace = (workload.facts.get("namespace") if workload else None) or (
                holder.facts.get("namespace") if holder else None
            )
            found.append(K8sContext(namespace, anchor))
    if found:
        return found
    holder = graph.nodes.get(str(config.facts.get("embedded_in")))
    if holder is not None:
        return [K8sContext(holder.facts.get("namespace"), holder)]
    family = _projects_around(graph, posixpath.dirname(str(config.facts.get("file") or config.path)))
    return [_compose_context(graph, family, None)] if family else []


PROJECTS_BY_FOLDER = "upstreams/projects_by_folder"


def _projects_in(graph: Graph, folder: str) -> list[Node]:
    index = graph.indexes.get(PROJECTS_BY_FOLDER)
    if index is None:
        index = defaultdict(list)
        for project in graph.of_kind("compose/project"):
            index[str(project.facts.get("directory") or "")].append(project)
        graph.indexes[PROJECTS_BY_FOLDER] = index
    found: list[Node] = index.get(folder, [])
    return found


def _projects_around(graph: Graph, folder: str) -> list[Node]:
    """The projects of the config's folder, else of its nearest ancestor that has some."""
    while True:
        here = _projects_in(graph, folder)
        if here:
            return compose_family(graph, here[0])
        if folder in ("", "."):
            return []
        folder = posixpath.dirname(folder)


def compose_family(graph: Graph, project: Node | None) -> list[Node]:
    """The project, the projects of its folder (fragments, alternatives run together), and the
    projects any of them include or are included by."""
    if project is None:
        return []
    seeds = [project, *_projects_in(graph, str(project.facts.get("directory") or ""))]
    family: dict[str, Node] = {}
    for seed in seeds:
        for member in projects.related_projects(graph, seed):
            family.setdefault(member.id, member)
    return list(family.values())


INCLUDERS = "upstreams/includers"


def _includers(graph: Graph, project: Node) -> list[Node]:
    index = graph.indexes.get(INCLUDERS)
    if index is None:
        index = defaultdict(list)
        for other in graph.of_kind("compose/project"):
            for entry in other.facts.get("includes", ()):
                index[str(entry["project"])].append(other)
        graph.indexes[INCLUDERS] = index
    found: list[Node] = index.get(str(project.facts.get("id", project.id)), [])
    return found


def deployment(graph: Graph, project: Node) -> list[Node]:
    """The projects one `docker compose up` runs together with PROJECT: the base it completes,
    the projects that include it, and whatever these include. Unlike compose_family, not the
    other projects that include the same file (a `dev/` project including `services/redis.yaml`
    is another deployment), nor the alternative files of the folder."""
    tops: dict[str, Node] = {}
    pending = [project]
    while pending:
        current = pending.pop()
        if current.id in tops:
            continue
        tops[current.id] = current
        base_file = current.facts.get("fragment_of")
        base = graph.nodes.get(f"compose/{base_file}") if base_file else None
        pending += ([base] if base is not None else []) + _includers(graph, current)
    members = dict(tops)
    pending = list(tops.values())
    while pending:
        for entry in pending.pop().facts.get("includes", ()):
            included = graph.nodes.get(str(entry["project"]))
            if included is not None and included.id not in members:
                members[included.id] = included
                pending.append(included)
    return list(members.values())


def _compose_context(graph: Graph, family: list[Node], runner: Node | None) -> ComposeContext:
    names: dict[str, list[Node]] = defaultdict(list)
    for project in family:
        for service in projects.services(graph, project).values():
            for name in service.facts.get("dns_names") or ():
                if service not in names[str(name).lower()]:
                    names[str(name).lower()].append(service)
    judgeable = all(projects.defined_names(graph, p, "services") is not None for p in family)
    context = ComposeContext(family, dict(names), judgeable, runner, hostnames=_hostnames(graph, family))
    if runner is not None:
        _runner_names(runner, context)
        context.external_network = _external_network(graph, runner)
    return context


def _hostnames(graph: Graph, family: list[Node]) -> frozenset[str]:
    found = set()
    for project in family:
        for service in projects.services(graph, project).values():
            hostname, domain = service.attrs.get("hostname"), service.attrs.get("domainname")
            if isinstance(hostname, str) and hostname:
                found.add(hostname.lower())
                if isinstance(domain, str) and domain:
                    found.add(f"{hostname}.{domain}".lower())
    return frozenset(found)


def _runner_names(runner: Node, context: ComposeContext) -> None:
    """`links` aliases resolve to their service; extra_hosts and external_links come from elsewhere."""
    elsewhere: set[str] = set()
    for link in _list(runner.attrs.get("links")):
        service, _, alias = str(link).partition(":")
        if alias and service.lower() in context.names:
            context.names.setdefault(alias.lower(), context.names[service.lower()])
    for link in _list(runner.attrs.get("external_links")):
        elsewhere.update(part.lower() for part in str(link).split(":"))
    hosts = runner.attrs.get("extra_hosts")
    entries = hosts.keys() if isinstance(hosts, dict) else _list(hosts)
    for entry in entries:
        elsewhere.add(re.split(r"[:=]", str(entry), maxsplit=1)[0].strip().lower())
    context.elsewhere = frozenset(elsewhere)


def _external_network(graph: Graph, runner: Node) -> str | None:
    """A network of the runner that the project declares external (shared with other projects)."""
    project = projects.project_of(graph, runner)
    declared = project.attrs.get("networks") if project is not None else None
    if not isinstance(declared, dict):
        return None
    for name in runner.facts.get("networks") or {}:
        entry = declared.get(name)
        if isinstance(entry, dict) and entry.get("external") not in (None, False):
            return str(name)
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# -- judging one reference ----------------------------------------------------------------------


def left_alone(host: str) -> str | None:
    """Why a host is never judged (an address, loopback), or None."""
    bare = host.strip("[]")
    if bare.lower() == "localhost" or bare == "*":
        return "loopback"
    if ":" in bare:
        return "an IPv6 address"  # host names never hold a colon
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        if not _HOST_NAME.fullmatch(bare):
            return "not a host name (a template placeholder?)"
        return None
    return "an IP address"


def resolve(graph: Graph, config_node: Node, host: str) -> list[Node] | None:
    """The compose services or k8s Services ``host`` names where ``config_node`` runs.

    ``config_node`` may be the config or any node inside it. Returns the targets, [] when the
    scan holds the context that should define the name and it does not, None when it cannot
    judge (no context, or a host left alone).
    """
    config = graph.nodes.get(str(config_node.facts.get("config") or config_node.id), config_node)
    outcome = _judge(graph, contexts(graph, config), host)
    if outcome.status == RESOLVED:
        return outcome.targets
    return [] if outcome.status == UNRESOLVED else None


def _judge(graph: Graph, found: list[Context], host: str) -> Outcome:
    host = host.lower().rstrip(".")
    reason = left_alone(host)
    if reason is not None:
        return Outcome(UNJUDGED, why=reason)
    if not found:
        return Outcome(UNJUDGED, why="the scan holds nothing the config runs in")
    outcomes = [context.resolve(graph, host) for context in found]
    targets: list[Node] = []
    for outcome in outcomes:
        targets += [t for t in outcome.targets if t not in targets]
    if targets:
        return Outcome(RESOLVED, targets)
    unjudged = next((o for o in outcomes if o.status == UNJUDGED), None)
    if unjudged is not None:
        return unjudged
    reasons = list(dict.fromkeys(o.why for o in outcomes))
    return Outcome(UNRESOLVED, why="; ".join(reasons))


# -- ports --------------------------------------------------------------------------------------


def accepted_ports(target: Node) -> list[tuple[int, int]] | None:
    """Port ranges a target is known to accept, or None when any port may be right.

    compose: `expose` entries and the container side of `ports`; a service declaring neither
    (its image exposes ports we do not see), or with an entry we cannot read, accepts any.
    k8s: the Service's `port`s; a headless or ExternalName Service, or one without ports, any.
    """
    if target.kind == "compose/service":
        return _compose_ports(target)
    if target.kind == "k8s/Service":
        return _service_ports(target)
    return None


def _compose_ports(service: Node) -> list[tuple[int, int]] | None:
    facts, attrs = service.facts, service.attrs
    written = _list(attrs.get("ports")) + _list(attrs.get("expose"))
    read = list(facts.get("ports") or ()) + list(facts.get("expose") or ())
    if not written or len(written) != len(read) or _unset_variable(service, ("ports", "expose")):
        return None
    ranges = [(p["target"], p.get("target_end") or p["target"]) for p in facts.get("ports") or ()]
    ranges += [(e["port"], e.get("end") or e["port"]) for e in facts.get("expose") or ()]
    return ranges


def _unset_variable(service: Node, fields: tuple[str, ...]) -> bool:
    """Whether a field's entry comes from a variable the scan does not know."""
    for key, entry in (service.facts.get("interpolated") or {}).items():
        if entry.get("missing") and any(key.startswith(f'["{name}"') for name in fields):
            return True
    return False


def _service_ports(service: Node) -> list[tuple[int, int]] | None:
    spec = service.attrs.get("spec")
    if not isinstance(spec, dict) or spec.get("clusterIP") == "None" or spec.get("type") == "ExternalName":
        return None
    written = [entry.get("port") for entry in _list(spec.get("ports")) if isinstance(entry, dict)]
    ports = [p for p in written if isinstance(p, int) and not isinstance(p, bool)]
    if not ports or len(ports) != len(written):
        return None  # none, or one the scan cannot read (a template)
    return [(p, p) for p in ports]


def port_accepted(target: Node, port: int | None) -> bool:
    ranges = accepted_ports(target)
    return port is None or ranges is None or any(low <= port <= high for low, high in ranges)


def describe_ports(ranges: Iterable[tuple[int, int]]) -> str:
    parts = sorted({str(low) if low == high else f"{low}-{high}" for low, high in ranges}, key=_port_order)
    return ", ".join(parts)


def _port_order(text: str) -> int:
    return int(text.split("-", 1)[0])


# -- routes: every reference with its outcome ---------------------------------------------------


@dataclass
class Route:
    reference: Reference
    status: str
    targets: list[Node]
    contexts: list[Context]
    why: str = ""

    @property
    def context_label(self) -> str:
        labels = []
        for context in self.contexts:
            if context.label not in labels:
                labels.append(context.label)
        return " / ".join(labels)


@dataclass
class Routes:
    by_source: dict[str, list[Route]] = field(default_factory=lambda: defaultdict(list))
    by_config: dict[str, list[Route]] = field(default_factory=lambda: defaultdict(list))
    by_target: dict[str, list[Route]] = field(default_factory=lambda: defaultdict(list))


def routes(graph: Graph) -> Routes:
    found: Routes | None = graph.indexes.get(ROUTES)
    if found is None:
        found = graph.indexes[ROUTES] = Routes()
    return found


def routes_from(graph: Graph, node: Node) -> list[Route]:
    """The references written in a location / stream server / upstream / HAProxy backend."""
    return routes(graph).by_source.get(node.id, [])


def routes_of_config(graph: Graph, config_id: str) -> list[Route]:
    return routes(graph).by_config.get(config_id, [])


def routes_to(graph: Graph, target: Node) -> list[Route]:
    """The resolved references that send traffic to a compose service or k8s Service."""
    return routes(graph).by_target.get(target.id, [])


def link(graph: Graph) -> None:
    index = routes(graph)
    cache: dict[str, list[Context]] = {}
    upstream_names = _UpstreamNames(graph)
    for reference in references(graph):
        config = graph.nodes.get(reference.config)
        if config is None:
            continue
        if reference.directive in NGINX_PASS and upstream_names.known(config, reference.host):
            continue  # an `upstream` block: nginx_links joins it (a `server` line always names a host)
        home = _file_config(graph, reference)
        runs = config if config.facts.get("runs_in") or home is None else home
        if runs.id not in cache:
            cache[runs.id] = contexts(graph, runs)
        found = cache[runs.id]
        outcome = _judge(graph, found, reference.host)
        route = Route(reference, outcome.status, outcome.targets, found, outcome.why)
        index.by_source[reference.source.id].append(route)
        index.by_config[reference.config].append(route)
        if home is not None and home is not config:
            index.by_config[home.id].append(route)
        for target in outcome.targets:
            index.by_target[target.id].append(route)
            graph.link(
                reference.source,
                target,
                "routes_to",
                host=reference.host,
                port=reference.port,
                resolved_port=port_accepted(target, reference.port),
                at=reference.at,
            )


def _file_config(graph: Graph, reference: Reference) -> Node | None:
    """The stand-alone reading of the file a directive is written in, when it is an included
    file: a container may mount that file (conf.d/site.conf) rather than the config including it."""
    if reference.software != "nginx":
        return None
    home = graph.nodes.get(f"nginx/{reference.span.path}")
    return home if home is not None and home.id != reference.config and home.kind == "nginx/config" else None


class _UpstreamNames:
    """nginx `upstream` block names a config can use: its own, and those of the configs loaded
    with it (the same folder, the same ConfigMap, the same container)."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.by_group: dict[tuple[str, str], set[str]] = defaultdict(set)
        for block in graph.of_kind("nginx/upstream"):
            config = graph.nodes.get(str(block.facts.get("config")))
            name = str(block.facts.get("name") or "").lower()
            if config is not None and name:
                for group in self.groups(config):
                    self.by_group[group].add(name)

    def groups(self, config: Node) -> list[tuple[str, str]]:
        facts = config.facts
        found = [("config", config.id)]
        if facts.get("embedded_in"):
            found.append(("configmap", str(facts["embedded_in"])))
        else:
            found.append(("folder", posixpath.dirname(str(facts.get("file") or config.path))))
        found += [("runner", str(r)) for r in facts.get("runs_in") or ()]
        return found

    def known(self, config: Node, host: str) -> bool:
        host = host.lower()
        return any(host in self.by_group.get(group, ()) for group in self.groups(config))
