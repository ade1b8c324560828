"""Graph + findings -> Topology: the infrastructure as a reviewer draws it.

The scan's graph holds every nginx location, HAProxy section, k8s container and pod spec. The
diagram folds them into the things that run:

- a compose service or a k8s workload is one box; its containers, pod spec and the server
  configs it mounts (nginx, HAProxy, Redis, with all their blocks) fold into it, so a service
  that runs an nginx config *is* the proxy;
- a ClusterIP Service that selects exactly one workload, which no other ClusterIP Service
  selects, folds into that workload's box (its ports become a line of the label). Nearly every
  Deployment has such a Service of the same name: two boxes per app would double the diagram and
  add one arrow that says nothing. A Service that fronts several workloads, none, or shares its
  workload with another Service keeps a box of its own and `selects` arrows, because there the
  structure is the point;
- entry points are boxes of their own: the host ports a compose project publishes (one box per
  host address), k8s Ingresses, and NodePort/LoadBalancer Services;
- a server config that nothing in the scan mounts folds into the compose service whose build
  context holds it (its Dockerfile copies it in), else it is a ``config`` box; upstream hosts the scan
  cannot place (public names, IP addresses) are ``external`` boxes.

Findings count on the box their node folds into; findings on objects that are not drawn
(a compose project, a ConfigMap, a NetworkPolicy of several workloads) count on their group.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from infralint.findings import Finding
from infralint.graph.model import RENDER_LABEL, RENDER_SCOPE, Edge, Graph, Node

ROLES = ("entry", "proxy", "service", "datastore", "config", "external")
SEVERITIES = ("error", "warning", "note")
EDGE_KINDS = ("exposes", "routes_to", "selects", "depends_on")
CONFIG_KINDS = ("nginx/config", "haproxy/config", "redis/config", "redis/sentinel")
CONFIG_NAMES = {
    "nginx/config": "nginx config",
    "haproxy/config": "HAProxy config",
    "redis/config": "Redis config",
    "redis/sentinel": "Sentinel config",
}

# Stateful backing services, by the last segment of the image name: databases, caches, search
# engines, queues. Exact names only: `redis_exporter` or `postgres-backup` are not datastores.
DATASTORE_IMAGES = frozenset(
    {
        "redis", "redis-stack", "redis-stack-server", "valkey", "keydb", "dragonfly",
        "postgres", "postgresql", "postgis", "timescaledb", "mysql", "mysql-server", "mariadb",
        "percona", "percona-server", "mongo", "mongodb", "mongodb-community-server", "memcached",
        "elasticsearch", "opensearch", "cassandra", "scylla", "couchdb", "couchbase", "clickhouse",
        "clickhouse-server", "influxdb", "neo4j", "etcd", "minio", "rabbitmq", "kafka", "zookeeper",
        "nats", "cockroach", "solr", "meilisearch", "qdrant",
    }
)  # fmt: skip
PROXY_IMAGES = frozenset({"nginx", "nginx-unprivileged", "openresty", "haproxy", "traefik", "envoy", "caddy"})
SERVER_COMMANDS = {"redis-server": "datastore", "nginx": "proxy", "haproxy": "proxy"}
LOOPBACK_HOSTS = frozenset({"localhost", "::1", "[::1]", "ip6-localhost"})
ENTRY_SERVICE_TYPES = ("NodePort", "LoadBalancer")
MAX_EXTERNALS_PER_BOX = 8  # more upstream hosts than this fold into one "N more hosts" box
MAX_EDGE_PORTS = 4  # an edge label lists at most this many ports, then "+N"
TIMES = "\u00d7"  # the multiplication sign, as in "Deployment x2" drawn with it


@dataclass
class TopoNode:
    id: str
    label: str
    role: str  # one of ROLES
    kind: str  # what it is in a few words: "compose service", "Deployment", "Ingress"
    group: str | None = None
    details: list[str] = field(default_factory=list)  # short lines under the label
    severity: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))
    exposure: str | None = None  # public / internal / loopback, when the scan knows
    sources: list[str] = field(default_factory=list)  # graph node ids drawn as this box

    @property
    def worst(self) -> str | None:
        return next((name for name in SEVERITIES if self.severity[name]), None)

    def lines(self) -> list[str]:
        """What a box shows: its name, its details, then its findings."""
        counts = severity_text(self.severity)
        lines = [self.label, *self.details, *([counts] if counts else [])]
        return [part for line in lines for part in (line.splitlines() or [""])]


@dataclass
class TopoEdge:
    source: str
    target: str
    kind: str  # one of EDGE_KINDS
    label: str = ""


@dataclass
class TopoGroup:
    id: str
    label: str
    kind: str  # compose-project or k8s-namespace
    severity: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))

    def title(self) -> str:
        counts = severity_text(self.severity)
        return f"{self.label} · {counts}" if counts else self.label


@dataclass
class Topology:
    groups: list[TopoGroup]
    nodes: list[TopoNode]
    edges: list[TopoEdge]
    totals: dict[str, int]  # every finding of the scan, by severity
    unplaced: dict[str, int]  # findings on no box and no group (input errors, files of no box)

    def node(self, node_id: str) -> TopoNode:
        return next(node for node in self.nodes if node.id == node_id)

    def members(self) -> dict[str | None, list[TopoNode]]:
        """Nodes by group id (None: drawn outside any group), in node order."""
        grouped: dict[str | None, list[TopoNode]] = defaultdict(list)
        for node in self.nodes:
            grouped[node.group].append(node)
        return grouped

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "groups": [vars(group).copy() for group in self.groups],
            "nodes": [
                {**{key: value for key, value in vars(node).items()}, "worst": node.worst} for node in self.nodes
            ],
            "edges": [vars(edge).copy() for edge in self.edges],
            "totals": dict(self.totals),
            "unplaced": dict(self.unplaced),
        }


def severity_text(counts: dict[str, int]) -> str:
    """'2 errors, 1 warning' (zeros left out; empty when clean)."""
    parts = []
    for name in SEVERITIES:
        count = counts.get(name, 0)
        if count:
            parts.append(f"{count} {name}{'' if count == 1 else 's'}")
    return ", ".join(parts)


def render_ids(ids: Iterable[str], prefix: str) -> dict[str, str]:
    """Identifiers safe for Mermaid and DOT ([A-Za-z0-9_]), stable: a clash gets a suffix in
    sorted order, so the same ids always give the same names."""
    result: dict[str, str] = {}
    taken: set[str] = set()
    for original in sorted(set(ids)):
        base = prefix + (re.sub(r"[^A-Za-z0-9]+", "_", original).strip("_") or "x")
        name, n = base, 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        taken.add(name)
        result[original] = name
    return result


def extract(graph: Graph, findings: Iterable[Finding]) -> Topology:
    builder = _Builder(graph)
    builder.compose()
    builder.kubernetes()
    builder.configs()
    builder.attach_k8s_satellites()
    builder.traffic()
    builder.external_upstreams()
    builder.dependencies()
    builder.exposure_entries()
    builder.count(findings)
    return builder.result()


class _Builder:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.boxes: dict[str, TopoNode] = {}
        self.groups: dict[str, TopoGroup] = {}
        self.owners: dict[str, list[str]] = {}  # graph node id -> the boxes it is drawn in
        self.edges: dict[tuple[str, str, str], set[str]] = {}
        self.out: dict[str, list[Edge]] = defaultdict(list)
        for edge in graph.edges:
            self.out[edge.source].append(edge)
        self.totals = dict.fromkeys(SEVERITIES, 0)
        self.unplaced = dict.fromkeys(SEVERITIES, 0)
        self._cache: dict[str, list[str]] = {}

    # -- boxes ----------------------------------------------------------------------------

    def box(self, box_id: str, label: str, role: str, kind: str, group: str | None, **extra: Any) -> TopoNode:
        node = self.boxes.get(box_id)
        if node is None:
            node = self.boxes[box_id] = TopoNode(box_id, label, role, kind, group, **extra)
        return node

    def own(self, graph_id: str, box_id: str) -> None:
        owners = self.owners.setdefault(graph_id, [])
        if box_id not in owners:
            owners.append(box_id)
        self._cache.clear()
        sources = self.boxes[box_id].sources
        if graph_id not in sources:
            sources.append(graph_id)

    def edge(self, source: str, target: str, kind: str, label: str = "") -> None:
        if source == target:
            return
        labels = self.edges.setdefault((source, target, kind), set())
        if label:
            labels.add(label)

    def group(self, group_id: str, label: str, kind: str) -> str:
        if group_id not in self.groups:
            self.groups[group_id] = TopoGroup(group_id, label, kind)
        return group_id

    # -- compose --------------------------------------------------------------------------

    def compose(self) -> None:
        for service in self.graph.of_kind("compose/service"):
            facts = service.facts
            if facts.get("fragment") or facts.get("patch"):
                continue  # an override's partial service: drawn where its base defines it
            group = self._compose_group(service)
            image = str(facts.get("image") or _build_text(service.attrs.get("build")))
            replicas = facts.get("replicas")
            details = [f"{image} {TIMES}{replicas}" if isinstance(replicas, int) and replicas != 1 else image]
            box = self.box(
                service.id,
                str(facts.get("name") or service.id),
                self._role([service], [str(facts.get("image") or "")], _programs(facts, ("entrypoint", "command"))),
                "compose service",
                group,
                details=details,
                exposure=_exposure(service),
            )
            self.own(service.id, box.id)
            for port in facts.get("ports") or ():
                if isinstance(port, dict):
                    entry = self._compose_entry(group, port)
                    self.edge(entry, box.id, "exposes", _compose_port_label(port))

    def _compose_group(self, service: Node) -> str:
        project_id = str(service.facts.get("project") or service.parent or "")
        name = str(service.facts.get("project_name") or project_id)
        return self.group(project_id, f"compose project {name}", "compose-project")

    def _compose_entry(self, group: str, port: dict[str, Any]) -> str:
        address = "*" if port.get("all_interfaces") else str(port.get("host_ip") or "*")
        if address == "*":
            label, exposure = "all interfaces", "public"
        elif _is_loopback(address):
            label, exposure = f"{address} only (loopback)", "loopback"
        else:
            label, exposure = f"{address} only", "public"
        entry_id = f"entry:{group}:{address}"
        self.box(entry_id, "published ports", "entry", "published ports", group, details=[label], exposure=exposure)
        return entry_id

    # -- kubernetes -----------------------------------------------------------------------

    def kubernetes(self) -> None:
        for workload in self.graph.of_kind("k8s/workload"):
            if not workload.facts.get("patch"):
                self._workload(workload)
        services = [s for s in self.graph.of_kind("k8s/Service") if not s.facts.get("patch")]
        fronting: dict[str, int] = defaultdict(int)  # workload box -> ClusterIP Services selecting it
        for service in services:
            if _service_type(service) not in ENTRY_SERVICE_TYPES:
                for target in self._selected(service):
                    fronting[target] += 1
        for service in services:
            self._service(service, fronting)
        for ingress in self.graph.of_kind("k8s/Ingress"):
            if not ingress.facts.get("patch"):
                self._ingress(ingress)

    def _k8s_group(self, node: Node) -> str:
        namespace = node.facts.get("namespace")
        label = f"namespace {namespace}" if namespace else "k8s (no namespace)"
        rendered = _render_group(node)
        if rendered is not None:  # a release or kustomize root is drawn as its own deployment
            group_id, render_label = rendered
            return self.group(group_id, f"{render_label}, {label}", "k8s-render")
        return self.group(f"k8s/namespace/{namespace or ''}", label, "k8s-namespace")

    def _workload(self, workload: Node) -> None:
        facts = workload.facts
        containers = [c for c in self.graph.children(workload) if "k8s/container" in c.kinds]
        apps = [c for c in containers if "k8s/app-container" in c.kinds] or containers
        images = [str(c.attrs.get("image") or "") for c in apps]
        kind = str(facts.get("kind") or workload.kind.removeprefix("k8s/"))
        replicas = facts.get("replicas")
        details = [f"{kind} {TIMES}{replicas}" if isinstance(replicas, int) and replicas != 1 else kind]
        if images and images[0]:
            details.append(images[0] + (f" +{len(images) - 1}" if len(images) > 1 else ""))
        commands = [word for c in apps for word in _programs(c.attrs, ("command", "args"))]
        box = self.box(
            workload.id,
            str(facts.get("name") or workload.id),
            self._role(containers, images, commands),
            kind,
            self._k8s_group(workload),
            details=details,
            exposure=_exposure(workload),
        )
        self.own(workload.id, box.id)
        for child in self.graph.children(workload):
            self.own(child.id, box.id)

    def _selected(self, service: Node) -> list[str]:
        return sorted({box for target in self.graph.outgoing(service, "selects") for box in self.boxes_of(target.id)})

    def _service(self, service: Node, fronting: dict[str, int]) -> None:
        spec = _spec(service)
        service_type = _service_type(service)
        selected = self._selected(service)
        ports = [p for p in spec.get("ports") or () if isinstance(p, dict)]
        name = str(service.facts.get("name") or service.id)
        group = self._k8s_group(service)
        if service_type in ENTRY_SERVICE_TYPES:
            details = [service_type, _service_ports(ports)]
            node_ports = sorted({f":{p['nodePort']}" for p in ports if p.get("nodePort") is not None}, key=_port_key)
            if node_ports:
                details.append(f"node port {_join(node_ports)}")
            box = self.box(service.id, name, "entry", f"Service ({service_type})", group, details=details)
            box.exposure = _exposure(service) or "public"
        elif len(selected) == 1 and fronting[selected[0]] == 1:
            workload = self.boxes[selected[0]]
            workload.details.append(f"Service {name} {_service_ports(ports)}".rstrip())
            self.own(service.id, workload.id)
            return
        else:
            details = ["Service", _service_ports(ports)] if ports else ["Service"]
            if service_type == "ExternalName":
                details = ["Service", f"ExternalName {spec.get('externalName')}"]
            box = self.box(service.id, name, "service", "Service", group, details=details, exposure=_exposure(service))
        self.own(service.id, box.id)
        label = _join(sorted({_port_token(p.get("targetPort", p.get("port"))) for p in ports} - {""}, key=_port_key))
        for target in selected:
            self.edge(box.id, target, "selects", label)

    def _ingress(self, ingress: Node) -> None:
        spec = _spec(ingress)
        hosts = sorted({str(r["host"]) for r in spec.get("rules") or () if isinstance(r, dict) and r.get("host")})
        details = ["Ingress"]
        if hosts:
            details.append(", ".join(hosts[:2]) + (f" +{len(hosts) - 2}" if len(hosts) > 2 else ""))
        if spec.get("tls"):
            details.append("TLS")
        name = str(ingress.facts.get("name") or ingress.id)
        box = self.box(ingress.id, name, "entry", "Ingress", self._k8s_group(ingress), details=details)
        box.exposure = _exposure(ingress) or "public"
        self.own(ingress.id, box.id)

    def attach_k8s_satellites(self) -> None:
        """HPAs, PDBs, NetworkPolicies, ConfigMaps and Secrets of one workload count on its box."""
        for node in self.graph.of_kind("k8s/object"):
            if node.id in self.owners or node.facts.get("patch"):
                continue
            related = [t for e in self.out.get(node.id, ()) if e.kind in ("selects", "scales") for t in [e.target]]
            if node.kind in ("k8s/ConfigMap", "k8s/Secret"):
                related += [w.id for w in self.graph.incoming(node, "references")]
            boxes = {box for target in related for box in self.owners.get(target, ())}
            if len(boxes) == 1:
                self.owners[node.id] = sorted(boxes)

    # -- server configs -------------------------------------------------------------------

    def configs(self) -> None:
        for config in self.graph.of_kind(*CONFIG_KINDS):
            runners = self._runner_boxes(config, set())
            if runners:
                for runner in runners:
                    self.own(config.id, runner)
                continue
            if config.facts.get("included_by") in self.graph.nodes:
                continue  # drawn with the config that includes it
            group = None
            holder = self.graph.nodes.get(str(config.facts.get("embedded_in") or ""))
            if holder is not None:
                group = self._k8s_group(holder)
            else:
                builder = self._built_into(config)
                if builder is not None:
                    self._fold_built_config(config, builder)
                    continue
            label = str(config.facts.get("file") or config.facts.get("config") or config.path)
            box = self.box(config.id, label, "config", CONFIG_NAMES[config.kind], group, exposure=_exposure(config))
            self.own(config.id, box.id)
        # Included files that nothing runs on its own fold into their includer's box.
        for config in self.graph.of_kind(*CONFIG_KINDS):
            if config.id not in self.owners:
                root = self._including_root(config)
                if root is not None and root.id in self.owners:
                    for owner in self.owners[root.id]:
                        self.own(config.id, owner)

    def _built_into(self, config: Node) -> str | None:
        """The compose service whose build context holds this config file, for a Dockerfile the
        scan could not read (one it reads attaches what it COPYs as a runner): the deepest such
        context, when only one service builds from it. A context that is the project's own folder
        holds every file, and says nothing."""
        candidates: list[tuple[int, str]] = []
        for service in self.graph.of_kind("compose/service"):
            if service.id not in self.boxes or isinstance(service.facts.get("image_build"), dict):
                continue  # its Dockerfile was read: what it copies in already runs there (graph/mounts.py)
            build = service.attrs.get("build")
            context = build.get("context") if isinstance(build, dict) else build
            if not isinstance(context, str) or "$" in context or "://" in context or context.startswith("git@"):
                continue
            home = posixpath.dirname(service.path)
            folder = posixpath.normpath(posixpath.join(home, context))
            if folder in (posixpath.normpath(home or "."), ".") or folder.startswith("../"):
                continue
            if config.path.startswith(folder + "/"):
                candidates.append((folder.count("/"), service.id))
        if not candidates:
            return None
        deepest = max(depth for depth, _ in candidates)
        services = [service for depth, service in candidates if depth == deepest]
        return services[0] if len(services) == 1 else None

    def _fold_built_config(self, config: Node, service: str) -> None:
        self.own(config.id, service)
        box = self.boxes[service]
        if box.role == "service":
            box.role = "datastore" if config.kind.startswith("redis/") else "proxy"

    def _runner_boxes(self, config: Node, seen: set[str]) -> list[str]:
        if config.id in seen:
            return []
        seen.add(config.id)
        boxes = sorted({box for runner in config.facts.get("runs_in") or () for box in self.owners.get(runner, ())})
        if boxes:
            return boxes
        includer = self.graph.nodes.get(str(config.facts.get("included_by") or ""))
        return self._runner_boxes(includer, seen) if includer is not None else []

    def _including_root(self, config: Node) -> Node | None:
        seen = {config.id}
        node = config
        while True:
            parent = self.graph.nodes.get(str(node.facts.get("included_by") or ""))
            if parent is None or parent.id in seen:
                return node if node is not config else None
            seen.add(parent.id)
            node = parent

    # -- roles ----------------------------------------------------------------------------

    def _role(self, runners: list[Node], images: list[str], commands: list[str]) -> str:
        mounted = {c.kind for runner in runners for c in self.graph.outgoing(runner, "mounts")}
        if mounted & {"nginx/config", "haproxy/config"}:
            return "proxy"
        if mounted & {"redis/config", "redis/sentinel"}:
            return "datastore"
        names = {_image_name(image) for image in images if image}
        roles = {SERVER_COMMANDS.get(posix_basename(command)) for command in commands}
        if names & DATASTORE_IMAGES or "datastore" in roles:
            return "datastore"
        if names & PROXY_IMAGES or "proxy" in roles:
            return "proxy"
        return "service"

    # -- edges ----------------------------------------------------------------------------

    def boxes_of(self, graph_id: str | None) -> list[str]:
        """The boxes a graph node is drawn in: its own, or its nearest owned ancestor's."""
        if graph_id is None:
            return []
        cached = self._cache.get(graph_id)
        if cached is not None:
            return cached
        chain = []
        current: str | None = graph_id
        found: list[str] = []
        while current is not None and current not in chain:
            if current in self.owners:
                found = self.owners[current]
                break
            chain.append(current)
            node = self.graph.nodes.get(current)
            current = node.parent if node is not None else None
        for visited in chain:
            self._cache[visited] = found
        return found

    def traffic(self) -> None:
        """Ingress -> Service and proxy -> upstream: routes_to (and proxies_to) between boxes."""
        self._cache.clear()
        for edge in self.graph.edges:
            if edge.kind not in ("routes_to", "proxies_to"):
                continue
            label = _port_token(dict(edge.attrs).get("port"))
            for source in self.boxes_of(edge.source):
                for target in self.boxes_of(edge.target):
                    self.edge(source, target, "routes_to", label)

    def external_upstreams(self) -> None:
        """Upstream hosts nothing in the scan answers to (public names, IPs): external boxes."""
        targets: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        kinds = ("nginx/location", "nginx/stream-server", "nginx/upstream", "haproxy/backend-side")
        for node in self.graph.of_kind(*kinds):
            sources = self.boxes_of(node.id)
            if not sources:
                continue
            for host, port in self._unresolved_targets(node):
                for source in sources:
                    targets[source][host].add(port)
        for source, hosts in sorted(targets.items()):
            names = sorted(hosts)
            shown = names if len(names) <= MAX_EXTERNALS_PER_BOX else names[: MAX_EXTERNALS_PER_BOX - 1]
            for host in shown:
                external = self.box(f"external:{host}", host, "external", "host outside the scan", None)
                external.details = ["external"]
                for port in hosts[host]:
                    self.edge(source, external.id, "routes_to", port)
            rest = names[len(shown) :]
            if rest:
                more = self.box(f"external:{source}:more", f"{len(rest)} more hosts", "external", "hosts", None)
                more.details = [", ".join(rest[:3]) + (", ..." if len(rest) > 3 else "")]
                self.edge(source, more.id, "routes_to")

    def _unresolved_targets(self, node: Node) -> Iterator[tuple[str, str]]:
        routed = {
            str(dict(e.attrs).get("host") or "").lower() for e in self.out.get(node.id, ()) if e.kind == "routes_to"
        }
        upstreams = {str(u.facts.get("name") or "").lower() for u in self.graph.outgoing(node, "proxies_to")}
        facts = node.facts
        entries = facts.get("proxy_targets") if node.kind in ("nginx/location", "nginx/stream-server") else None
        if entries is None:
            entries = facts.get("servers")
        for entry in entries or ():
            if not isinstance(entry, dict) or entry.get("unix") or entry.get("is_variable") or entry.get("variable"):
                continue
            host = str(entry.get("host") or "").lower()
            if not host or "$" in host or host in routed or host in upstreams or _is_local(host):
                continue
            port = entry.get("port")
            if port is None:
                port = entry.get("default_port")
            if port is None and node.kind == "nginx/upstream":
                port = 80  # nginx's default for an upstream server without one
            yield host, _port_token(port)

    def dependencies(self) -> None:
        """compose depends_on, where no traffic edge already joins the two boxes."""
        for edge in self.graph.edges:
            if edge.kind != "depends_on":
                continue
            for source in self.boxes_of(edge.source):
                for target in self.boxes_of(edge.target):
                    if (source, target, "routes_to") not in self.edges:
                        self.edge(source, target, "depends_on", "depends on")

    def exposure_entries(self) -> None:
        """A box the exposure linker calls public that no entry point reaches (host network,
        hostNetwork pods) gets an entry of its own naming the reason."""
        reached = self._reached_from_entries()
        for box in list(self.boxes.values()):
            if box.role in ("entry", "external") or box.exposure != "public" or box.id in reached:
                continue
            public = [
                self.graph.nodes[s].facts for s in box.sources if self.graph.nodes[s].facts.get("exposure") == "public"
            ]
            reasons = sorted({str(facts.get("exposure_reason") or "") for facts in public} - {""})
            entry = self.box(f"entry:{box.id}", "public", "entry", "exposure", box.group, exposure="public")
            entry.details = reasons[:2]
            self.edge(entry.id, box.id, "exposes")

    def _reached_from_entries(self) -> set[str]:
        following: dict[str, list[str]] = defaultdict(list)
        for source, target, kind in self.edges:
            if kind != "depends_on":
                following[source].append(target)
        todo = [box.id for box in self.boxes.values() if box.role == "entry"]
        reached: set[str] = set()
        while todo:
            current = todo.pop()
            for target in following.get(current, ()):
                if target not in reached:
                    reached.add(target)
                    todo.append(target)
        return reached

    # -- findings -------------------------------------------------------------------------

    def count(self, findings: Iterable[Finding]) -> None:
        by_file = self._boxes_by_file()
        for finding in findings:
            severity = getattr(finding.severity, "value", finding.severity)
            if severity not in self.totals:
                continue
            self.totals[severity] += 1
            boxes = self.boxes_of(finding.node_id)
            if boxes:
                for box in boxes:
                    self.boxes[box].severity[severity] += 1
                continue
            group = self._group_of(finding.node_id)
            if group is None and finding.node_id is None:
                group, boxes = self._placed_by_file(by_file.get(finding.span.path, set()))
                for box in boxes:
                    self.boxes[box].severity[severity] += 1
                if boxes:
                    continue
            if group is not None:
                self.groups[group].severity[severity] += 1
            else:
                self.unplaced[severity] += 1

    def _group_of(self, graph_id: str | None) -> str | None:
        node = self.graph.nodes.get(graph_id or "")
        while node is not None:
            if "compose/project" in node.kinds or "compose/service" in node.kinds:
                group = str(node.facts.get("project") or node.id)
            elif node.kind.startswith("k8s/") and "namespace" in node.facts:
                rendered = _render_group(node)
                group = rendered[0] if rendered else f"k8s/namespace/{node.facts.get('namespace') or ''}"
            else:
                node = self.graph.nodes.get(node.parent or "")
                continue
            return group if group in self.groups and self._group_used(group) else None
        return None

    def _group_used(self, group: str) -> bool:
        return any(box.group == group for box in self.boxes.values())

    def _boxes_by_file(self) -> dict[str, set[str]]:
        files: dict[str, set[str]] = defaultdict(set)
        for graph_id, boxes in self.owners.items():
            node = self.graph.nodes.get(graph_id)
            if node is not None:
                files[node.path].update(boxes)
        return files

    def _placed_by_file(self, boxes: set[str]) -> tuple[str | None, list[str]]:
        """A finding on a file but on no node (a parse error): its box when the file has one,
        else its group when all the file's boxes share one."""
        if len(boxes) == 1:
            return None, sorted(boxes)
        groups = {self.boxes[box].group for box in boxes}
        if len(groups) == 1:
            return groups.pop(), []
        return None, []

    # -- result ---------------------------------------------------------------------------

    def result(self) -> Topology:
        used = {box.group for box in self.boxes.values()}
        groups = sorted((g for g in self.groups.values() if g.id in used), key=lambda g: g.id)
        _disambiguate(groups)
        for box in self.boxes.values():
            box.sources.sort()
        nodes = sorted(self.boxes.values(), key=lambda n: n.id)
        edges = [
            TopoEdge(source, target, kind, _join(sorted(labels, key=_port_key)))
            for (source, target, kind), labels in sorted(self.edges.items())
        ]
        return Topology(groups, nodes, edges, self.totals, self.unplaced)


def _disambiguate(groups: list[TopoGroup]) -> None:
    """Two compose projects of one name (two folders): their labels name their folder too."""
    counts: dict[str, int] = defaultdict(int)
    for group in groups:
        counts[group.label] += 1
    for group in groups:
        if counts[group.label] > 1 and group.kind == "compose-project":
            group.label += f" ({group.id.removeprefix('compose/')})"


def _join(labels: list[str]) -> str:
    if len(labels) > MAX_EDGE_PORTS:
        return ", ".join(labels[: MAX_EDGE_PORTS - 1]) + f" +{len(labels) - MAX_EDGE_PORTS + 1}"
    return ", ".join(labels)


def _port_key(label: str) -> tuple[int, str]:
    match = re.search(r"\d+", label)
    return (int(match.group()) if match else 1 << 30, label)


def _port_token(port: Any) -> str:
    if port is None or port == "" or isinstance(port, bool):
        return ""
    return f":{port}"


def _range(start: Any, end: Any) -> str:
    return f"{start}-{end}" if end not in (None, start) else str(start)


def _compose_port_label(port: dict[str, Any]) -> str:
    inner = _range(port.get("target"), port.get("target_end"))
    published = port.get("published")
    outer = _range(published, port.get("published_end")) if published is not None else "*"
    label = f":{inner}" if outer == inner else f":{outer}→{inner}"
    protocol = port.get("protocol")
    return label + (f"/{protocol}" if protocol and protocol != "tcp" else "")


def _service_ports(ports: list[dict[str, Any]]) -> str:
    tokens = []
    for port in ports:
        number, target = port.get("port"), port.get("targetPort")
        tokens.append(f":{number}" if target in (None, number) else f":{number}→{target}")
    return _join(sorted(set(tokens), key=_port_key))


def _build_text(build: Any) -> str:
    context = build.get("context") if isinstance(build, dict) else build
    if isinstance(context, str) and context:
        return f"built from {context}"
    return "built from source" if build else "no image"


def _spec(node: Node) -> dict[str, Any]:
    spec = node.attrs.get("spec")
    return spec if isinstance(spec, dict) else {}


def _service_type(service: Node) -> str:
    return str(_spec(service).get("type") or "ClusterIP")


def _exposure(node: Node) -> str | None:
    value = node.facts.get("exposure")
    return value if value in ("public", "internal", "loopback") else None


def _programs(attrs: dict[str, Any], keys: tuple[str, str]) -> list[str]:
    """The first word of a compose service's entrypoint and command (a container's command and
    args): the program it starts, when the config overrides the image's."""
    words: list[str] = []
    for key in keys:
        value = attrs.get(key)
        if isinstance(value, str) and value.split():
            words.append(value.split()[0])
        elif isinstance(value, list) and value:
            words.append(str(value[0]))
    return words


def posix_basename(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _image_name(image: str) -> str:
    """`docker.io/bitnami/postgresql:16@sha256:...` -> `postgresql`."""
    image = image.split("@", 1)[0]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[0].lower()


def _is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    return host in LOOPBACK_HOSTS or host == "::1" or host.startswith("127.")


def _is_local(host: str) -> bool:
    """A loopback or wildcard address: the proxy's own container or pod, not another box."""
    if _is_loopback(host) or host == "*":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return address.is_unspecified or address.is_loopback


def _render_group(node: Node) -> tuple[str, str] | None:
    """(group id, label) of a rendered object: its release or kustomize root, and its namespace."""
    scope = node.facts.get(RENDER_SCOPE)
    if scope is None:
        return None
    return f"render/{scope}/{node.facts.get('namespace') or ''}", str(node.facts.get(RENDER_LABEL, scope))
