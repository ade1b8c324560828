"""Who can reach what: the exposure of services, pods and the server configs they run.

Levels, from least to most reachable:
- ``loopback``: only the host itself (a compose port published on 127.0.0.1/::1 only), or, for a
  server config, a server that listens on loopback addresses only;
- ``internal``: no published port: other containers or pods reach it, the outside does not;
- ``public``: a compose port published on all interfaces or a non-loopback host address,
  ``network_mode: host``, a NodePort/LoadBalancer Service (or one with externalIPs), an Ingress or
  Gateway API route to a Service selecting the pods, ``hostPort``, ``hostNetwork``.

Facts set: ``exposure`` and ``exposure_reason`` (plus ``exposure_via``/``exposure_path``, the node
and attribute path where the exposure is decided, for related locations) on compose services,
k8s workloads and containers, and on the configs they run (``runs_in``; several runners: the most
exposed). Servers are judged by the ports they listen on: a Redis, nginx `server` or HAProxy
frontend is public only when a public path leads to its own port, so a container that publishes
port 443 does not expose its plain-HTTP listener on 80. nginx servers and HAProxy frontend-side
nodes also get ``exposed`` (True/False) and each listen/bind entry ``reachable``. Redis configs get
their container's memory limit (``memory_limit``, ``memory_limit_of`` ...). A config nothing in
the scan runs keeps no exposure: the rules then judge by the addresses it binds.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NamedTuple

from infralint.graph.k8s_links import ingress_backends, nearest_named
from infralint.graph.model import Graph, Node
from infralint.graph.mounts import CONFIG_KINDS, server_flags
from infralint.graph.redis_links import exposed_addresses
from infralint.quantities import parse_quantity

LEVELS = ("loopback", "internal", "public")
RANK = {level: rank for rank, level in enumerate(LEVELS)}
PUBLIC_SERVICE_TYPES = frozenset({"NodePort", "LoadBalancer"})
GATEWAY_ROUTES = ("k8s/HTTPRoute", "k8s/GRPCRoute", "k8s/TLSRoute", "k8s/TCPRoute", "k8s/UDPRoute")
MAX_RANGE = 1024  # ports of one HAProxy bind range looked at
MAX_NETWORK_HOPS = 8  # network_mode: service:x chains


@dataclass(frozen=True)
class Reach:
    """One exposure and why: the node and attribute path that decide it."""

    level: str
    reason: str
    via: str | None = None
    path: tuple[Any, ...] = ()
    # Reached from outside only through an Ingress or Gateway route: the controller in front
    # holds the client connection (and its TLS), the pod sees requests from inside the cluster.
    proxied: bool = False

    @property
    def public(self) -> bool:
        return self.level == "public"

    @property
    def direct(self) -> bool:
        """Clients outside connect to this port themselves (no Ingress controller in between)."""
        return self.public and not self.proxied

    @property
    def order(self) -> tuple[int, bool]:
        return (RANK[self.level], not self.proxied)


def most_exposed(reaches: Iterable[Reach | None]) -> Reach | None:
    """The widest reach; of equally wide ones a direct path beats one through an Ingress."""
    best: Reach | None = None
    for reach in reaches:
        if reach is not None and (best is None or reach.order > best.order):
            best = reach
    return best


def record(node: Node, reach: Reach) -> None:
    node.facts["exposure"] = reach.level
    node.facts["exposure_reason"] = reach.reason
    node.facts["exposure_via"] = reach.via
    node.facts["exposure_path"] = reach.path


def link(graph: Graph) -> None:
    exposure = _Exposure(graph)
    for service in graph.of_kind("compose/service"):
        reach = exposure.compose(service, None)
        if reach is not None:
            record(service, reach)
    for workload in graph.of_kind("k8s/workload"):
        record(workload, exposure.workload(workload))
    for container in graph.of_kind("k8s/container"):
        reach = exposure.container(container)
        if reach is not None:
            record(container, reach)
    for config in graph.of_kind(*CONFIG_KINDS):
        exposure.config(config)
    for server in graph.of_kind("nginx/server", "nginx/stream-server"):
        exposure.nginx_server(server)
    for proxy in graph.of_kind("haproxy/frontend-side"):
        exposure.haproxy_frontend(proxy)


# --- memory limits ------------------------------------------------------------------------------


class MemoryLimit(NamedTuple):
    amount: int  # bytes
    text: str  # as written: "1g", "1Gi"
    path: tuple[Any, ...]  # of the limit, in the runner node


def memory_limit(runner: Node) -> MemoryLimit | None:
    """The memory limit of a compose service or a k8s container, if it sets one."""
    if runner.kind == "compose/service":
        amount = runner.facts.get("memory_limit")
        if isinstance(amount, int) and amount > 0:
            return MemoryLimit(
                amount, str(runner.facts.get("memory_limit_raw")), tuple(runner.facts["memory_limit_path"])
            )
        return None
    resources = runner.attrs.get("resources")
    limits = resources.get("limits") if isinstance(resources, dict) else None
    value = limits.get("memory") if isinstance(limits, dict) else None
    quantity = parse_quantity(value)
    if quantity is None or quantity <= 0:
        return None
    return MemoryLimit(int(quantity // Fraction(1)), str(value), ("resources", "limits", "memory"))


def runner_label(runner: Node) -> str:
    """`service 'cache'`, `container redis of StatefulSet/cache`: how messages name a runner."""
    if runner.kind == "compose/service":
        return str(runner.facts.get("object") or runner.id)
    return f"container {runner.facts.get('container')} of {runner.facts.get('object')}"


def runners(graph: Graph, config: Node) -> list[Node]:
    """The services/containers that run a config: its own, and those of the configs including it."""
    found: list[Node] = []
    seen: set[str] = set()
    stack = [config]
    while stack:
        current = stack.pop()
        if current.id in seen:
            continue
        seen.add(current.id)
        for runner_id in current.facts.get("runs_in") or ():
            runner = graph.nodes.get(runner_id)
            if runner is not None and runner not in found:
                found.append(runner)
        includer = graph.nodes.get(str(current.facts.get("included_by")))
        if includer is not None:
            stack.append(includer)
        stack.extend(graph.incoming(current, "includes"))
    return found


def config_of(graph: Graph, node: Node) -> Node | None:
    """The config root a block (server, frontend ...) belongs to."""
    current: Node | None = node
    while current is not None:
        if any(kind in CONFIG_KINDS for kind in current.kinds):
            return current
        current = graph.nodes.get(current.parent) if current.parent else None
    return None


# --- the linker -----------------------------------------------------------------------------------


class _PodPorts:
    """What reaches the pods of one workload: host networking, and per container port the most exposed path."""

    def __init__(self) -> None:
        self.host_network: Reach | None = None
        self.ports: dict[int, Reach] = {}

    def add(self, port: int, reach: Reach) -> None:
        self.ports[port] = most_exposed((self.ports.get(port), reach)) or reach


class _Exposure:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.pods: dict[str, _PodPorts] = {}
        self._routes: dict[str, list[tuple[Node, Any, tuple[Any, ...]]]] | None = None

    # compose ------------------------------------------------------------------------------------

    def compose(self, service: Node, port: int | None, hops: int = 0) -> Reach | None:
        """The service as a whole (port None) or one of its container ports (TCP)."""
        mode = str(service.facts.get("network_mode") or "")
        label = runner_label(service)
        if mode == "host":
            return Reach("public", f"{label} uses network_mode: host", service.id, ("network_mode",))
        if mode == "none":
            return Reach("loopback", f"{label} has no network (network_mode: none)", service.id, ("network_mode",))
        if mode.startswith("service:"):
            other = self._compose_service(service, mode.removeprefix("service:"))
            if other is None or hops >= MAX_NETWORK_HOPS:
                return None
            return self.compose(other, port, hops + 1)
        if mode.startswith("container:"):
            return None  # a container the scan does not define
        mappings = [
            entry
            for entry in service.facts.get("ports") or ()
            if port is None or (entry["target"] <= port <= entry["target_end"] and entry["protocol"] == "tcp")
        ]
        public = [entry for entry in mappings if not _loopback_ip(entry.get("host_ip"))]
        if public:
            entry = public[0]
            where = "all host interfaces" if entry["all_interfaces"] else f"host address {entry['host_ip']}"
            reason = f"{label} publishes {_mapping(entry)} on {where}"
            return Reach("public", reason, service.id, tuple(entry["path"]))
        if mappings:
            entry = mappings[0]
            reason = f"{label} publishes {_mapping(entry)} on the host's loopback only"
            return Reach("loopback", reason, service.id, tuple(entry["path"]))
        what = "any port" if port is None else f"port {port}"
        reason = f"{label} does not publish {what}: only containers on its networks reach it"
        return Reach("internal", reason, service.id, ())

    def _compose_service(self, service: Node, name: str) -> Node | None:
        project = self.graph.nodes.get(service.parent) if service.parent else None
        if project is None:
            return None
        for sibling in self.graph.children(project):
            if sibling.kind == "compose/service" and sibling.facts.get("name") == name:
                return sibling
        return None

    # kubernetes ---------------------------------------------------------------------------------

    def pod_ports(self, workload: Node) -> _PodPorts:
        cached = self.pods.get(workload.id)
        if cached is not None:
            return cached
        pod = self.pods[workload.id] = _PodPorts()
        spec, base = _pod_spec(workload)
        if spec.get("hostNetwork") is True:
            label = workload.facts.get("object")
            pod.host_network = Reach("public", f"{label} uses hostNetwork: true", workload.id, (*base, "hostNetwork"))
        named = _named_ports(spec)
        for container in self.graph.children(workload):
            if container.kind != "k8s/container":
                continue
            for index, entry in enumerate(_list(container.attrs.get("ports"))):
                number, host_port = _port_number(entry.get("containerPort")), _port_number(entry.get("hostPort"))
                if number is not None and host_port is not None:
                    reason = f"container {container.facts.get('container')} maps hostPort {host_port} to {number}"
                    pod.add(number, Reach("public", reason, container.id, ("ports", index, "hostPort")))
        for service in self.graph.incoming(workload, "selects"):
            if service.kind == "k8s/Service":
                self._service_paths(pod, service, named)
        return pod

    def _service_paths(self, pod: _PodPorts, service: Node, named: dict[str, int]) -> None:
        spec = _dict(service.attrs.get("spec"))
        service_type = str(spec.get("type") or "ClusterIP")
        external_ips = spec.get("externalIPs")
        public = service_type in PUBLIC_SERVICE_TYPES or (isinstance(external_ips, list) and bool(external_ips))
        name = service.facts.get("name")
        if service_type == "ClusterIP" and spec.get("clusterIP") == "None":
            service_type = "headless"
        kind = (
            f"{service_type} with externalIPs" if service_type not in PUBLIC_SERVICE_TYPES and public else service_type
        )
        routes = self.routes().get(service.id, [])
        for index, entry in enumerate(_list(spec.get("ports"))):
            if str(entry.get("protocol") or "TCP").upper() != "TCP":
                continue
            target = _target_port(entry.get("targetPort", entry.get("port")), named)
            if target is None:
                continue
            reason = f"Service {name} ({kind}) port {entry.get('port')} leads to port {target}"
            pod.add(target, Reach("public" if public else "internal", reason, service.id, ("spec", "ports", index)))
            for route, route_port, path in routes:
                if route_port is None or route_port in (entry.get("port"), entry.get("name")):
                    reason = f"{route.facts.get('object')} routes to Service {name} port {entry.get('port')}"
                    pod.add(target, Reach("public", reason, route.id, path, proxied=True))

    def routes(self) -> dict[str, list[tuple[Node, Any, tuple[Any, ...]]]]:
        """Ingress and Gateway API routes by the Service they send traffic to: (route, port, path)."""
        if self._routes is not None:
            return self._routes
        routes: dict[str, list[tuple[Node, Any, tuple[Any, ...]]]] = {}
        for route, name, namespace, port, path in self._route_backends():
            for service in nearest_named(self.graph, route, "Service", name, namespace):
                routes.setdefault(service.id, []).append((route, port, path))
        self._routes = routes
        return routes

    def _route_backends(self) -> Iterator[tuple[Node, str, str | None, Any, tuple[Any, ...]]]:
        for ingress in self.graph.of_kind("k8s/Ingress"):
            for backend, path in ingress_backends(ingress):
                yield ingress, backend["service"], ingress.facts["namespace"], backend.get("port"), path
        for route in self.graph.of_kind(*GATEWAY_ROUTES):
            for r_index, rule in enumerate(_list(_dict(route.attrs.get("spec")).get("rules"))):
                for b_index, ref in enumerate(_list(rule.get("backendRefs"))):
                    if str(ref.get("kind") or "Service") != "Service" or not isinstance(ref.get("name"), str):
                        continue
                    namespace = ref.get("namespace") if isinstance(ref.get("namespace"), str) else None
                    path = ("spec", "rules", r_index, "backendRefs", b_index)
                    yield route, ref["name"], namespace or route.facts["namespace"], ref.get("port"), path

    def workload(self, workload: Node) -> Reach:
        pod = self.pod_ports(workload)
        best = most_exposed([pod.host_network, *pod.ports.values()])
        if best is not None:
            return best
        return Reach(
            "internal", f"no Service, Ingress or host port leads to {workload.facts.get('object')}", workload.id
        )

    def container(self, container: Node) -> Reach | None:
        workload = self.graph.nodes.get(str(container.facts.get("workload")))
        if workload is None:
            return None
        pod = self.pod_ports(workload)
        declared = _declared_ports(container)
        everyone = {p for sibling in self.graph.children(workload) for p in _declared_ports(sibling)}
        mine = [reach for port, reach in pod.ports.items() if port in declared]
        if not declared:  # it may listen on the ports no container declares
            mine += [reach for port, reach in pod.ports.items() if port not in everyone]
        best = most_exposed([pod.host_network, *mine])
        if best is not None:
            return best
        label = runner_label(container)
        return Reach("internal", f"no Service, Ingress or host port leads to {label}", container.id)

    def k8s_port(self, container: Node, port: int) -> Reach | None:
        workload = self.graph.nodes.get(str(container.facts.get("workload")))
        if workload is None:
            return None
        pod = self.pod_ports(workload)
        if pod.host_network is not None:
            return pod.host_network
        found = pod.ports.get(port)
        if found is not None:
            return found
        label = runner_label(container)
        reason = f"no NodePort/LoadBalancer Service, Ingress or hostPort leads to port {port} of {label}"
        return Reach("internal", reason, container.id)

    # what runs where ---------------------------------------------------------------------------

    def runner(self, runner: Node, port: int | None) -> Reach | None:
        if runner.kind == "compose/service":
            return self.compose(runner, port)
        if port is None:
            return self.container(runner)
        return self.k8s_port(runner, port)

    def config(self, config: Node) -> None:
        found = runners(self.graph, config)
        if not found:
            return
        if config.kind == "redis/config":
            reach = most_exposed(self._redis(config, runner) for runner in found)
            self._memory(config, found)
        else:
            reach = most_exposed(self.runner(runner, None) for runner in found)
        if reach is not None:
            record(config, reach)

    def _redis(self, config: Node, runner: Node) -> Reach | None:
        """Who reaches the Redis server this runner starts with this config (flags override the file)."""
        facts = config.facts
        flags = server_flags(runner) or {}
        ports = [
            port
            for port in (
                _flag_port(flags, "port", facts.get("port")),
                _flag_port(flags, "tls-port", facts.get("tls_port")),
            )
            if port
        ]
        label = runner_label(runner)
        if not ports:
            return Reach("loopback", f"Redis opens no TCP port in {label} (unix socket only)", config.id)
        if not exposed_addresses(facts):
            bound = " ".join(facts.get("bind") or ())
            return Reach("loopback", f"Redis binds {bound} only: clients inside {label} alone connect", config.id)
        return most_exposed(self.runner(runner, port) for port in ports)

    def _memory(self, config: Node, found: list[Node]) -> None:
        limits = [(limit, runner) for runner in found if (limit := memory_limit(runner)) is not None]
        if not limits:
            return
        limit, runner = min(limits, key=lambda pair: pair[0].amount)
        config.facts.update(
            {
                "memory_limit": limit.amount,
                "memory_limit_of": runner.id,
                "memory_limit_text": limit.text,
                "memory_limit_path": limit.path,
                "memory_limit_label": runner_label(runner),
            }
        )

    def nginx_server(self, server: Node) -> None:
        config = self.graph.nodes.get(str(server.facts.get("config")))
        found = runners(self.graph, config) if config is not None else []
        if not found:
            return
        judged = []
        for entry in server.facts.get("listen") or ():
            if entry.get("unix") or entry.get("port") is None:
                continue
            if entry.get("loopback"):
                reach: Reach | None = Reach("loopback", f"listen {entry['raw']} accepts local clients only", server.id)
            else:
                reach = most_exposed(self.runner(runner, int(entry["port"])) for runner in found)
            judged.append(reach)
            _mark(entry, reach)
        self._server_verdict(server, judged)

    def haproxy_frontend(self, proxy: Node) -> None:
        config = config_of(self.graph, proxy)
        found = runners(self.graph, config) if config is not None else []
        if not found:
            return
        judged = []
        for bind in proxy.attrs.get("binds") or ():
            if bind.get("local"):
                continue  # a unix socket: no network port
            ports = _bind_ports(bind)
            reach: Reach | None
            if bind.get("loopback"):
                reach = Reach("loopback", f"bind {bind['address']} accepts local clients only", proxy.id)
            elif not ports:
                reach = None  # a port from a variable: unknown
            else:
                reach = most_exposed(self.runner(runner, port) for runner in found for port in ports)
            judged.append(reach)
            _mark(bind, reach)
        self._server_verdict(proxy, judged)

    @staticmethod
    def _server_verdict(node: Node, judged: list[Reach | None]) -> None:
        """exposed: True when a listener is public, False when every one is known and none is."""
        best = most_exposed(judged)
        if best is None:
            return
        record(node, best)
        if best.public:
            node.facts["exposed"] = True
        elif all(reach is not None for reach in judged):
            node.facts["exposed"] = False


def _mark(listener: dict[str, Any], reach: Reach | None) -> None:
    """On a listen/bind entry: `reachable` from outside at all, and `direct`ly (not via an Ingress)."""
    if reach is not None:
        listener["reachable"] = reach.public
        listener["direct"] = reach.direct


# --- small readers --------------------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _port_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdecimal():
        value = int(value)
    return value if isinstance(value, int) and 0 < value <= 65535 else None


def _target_port(value: Any, named: dict[str, int]) -> int | None:
    number = _port_number(value)
    if number is not None:
        return number
    return named.get(value) if isinstance(value, str) else None


def _pod_spec(workload: Node) -> tuple[dict[str, Any], tuple[Any, ...]]:
    path = tuple(workload.facts.get("pod_spec_path") or ())
    data: Any = workload.attrs
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return _dict(data), path


def _named_ports(spec: dict[str, Any]) -> dict[str, int]:
    named: dict[str, int] = {}
    for key in ("containers", "initContainers"):
        for container in _list(spec.get(key)):
            for entry in _list(container.get("ports")):
                number = _port_number(entry.get("containerPort"))
                if isinstance(entry.get("name"), str) and number is not None:
                    named.setdefault(entry["name"], number)
    return named


def _declared_ports(container: Node) -> set[int]:
    if container.kind != "k8s/container":
        return set()
    numbers = (_port_number(entry.get("containerPort")) for entry in _list(container.attrs.get("ports")))
    return {number for number in numbers if number is not None}


def _loopback_ip(host_ip: Any) -> bool:
    text = str(host_ip or "").strip("[]")
    if not text:
        return False
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return text == "localhost"


def _mapping(entry: dict[str, Any]) -> str:
    """A port mapping as written: `127.0.0.1:6379:6379`, `8080-8081:80-81`, `6379` (random host port)."""

    def span(start: Any, end: Any) -> str:
        return str(start) if end in (None, start) else f"{start}-{end}"

    target = span(entry["target"], entry["target_end"])
    if entry.get("published") is None:
        text = f"{target} (on a random host port)"
    else:
        text = f"{span(entry['published'], entry['published_end'])}:{target}"
    host_ip = entry.get("host_ip")
    return f"{host_ip}:{text}" if host_ip else text


def _flag_port(flags: dict[str, str], name: str, default: Any) -> int:
    value = flags.get(name)
    if value is not None and value.isdecimal():
        return int(value)
    return default if isinstance(default, int) and default > 0 else 0


def _bind_ports(bind: dict[str, Any]) -> list[int]:
    """The ports of an HAProxy bind address: one, or a range `8000-8010` (bounded)."""
    text = str(bind.get("port_text") or "")
    first, dash, last = text.partition("-")
    if dash and first.isdecimal() and last.isdecimal() and int(first) <= int(last):
        return list(range(int(first), min(int(last), int(first) + MAX_RANGE) + 1))
    port = bind.get("port")
    return [port] if isinstance(port, int) and port > 0 else []


# --- for rules -------------------------------------------------------------------------------------


def exposure_source(graph: Graph, node: Node) -> tuple[Node, tuple[Any, ...], str] | None:
    """Where the graph decided the node's exposure, for a related location: (node, path, label)."""
    via = graph.nodes.get(str(node.facts.get("exposure_via")))
    if via is None or via is node:
        return None
    path = tuple(node.facts.get("exposure_path") or ())
    if via.kind == "compose/service":
        if path[:1] == ("ports",):
            label = "port published here"
        elif path[:1] == ("network_mode",):
            label = "network mode set here"
        else:
            label = "service defined here (no port published)"
    elif via.kind == "k8s/Service":
        label = "Service port defined here"
    elif via.kind == "k8s/container":
        label = "hostPort set here" if "hostPort" in path else "container defined here"
    elif "k8s/workload" in via.kinds:
        label = "host network set here" if "hostNetwork" in path else "workload defined here"
    elif via.kind.startswith("k8s/"):
        label = "route defined here"
    else:
        label = "exposure decided here"
    return via, path, label


def published_ports(graph: Graph, node: Node) -> list[tuple[int, Reach]]:
    """Container ports of a compose service or k8s workload that are published to the outside:
    a compose port on a non-loopback host address; a NodePort/LoadBalancer Service (or one with
    externalIPs), an Ingress or Gateway route, or a hostPort. Host networking itself is left out
    (it exposes whatever the process listens on, and the rules about it say so), as is a hostPort
    under hostNetwork, which only restates the container port."""
    exposure = _Exposure(graph)
    found: list[tuple[int, Reach]] = []
    if node.kind == "compose/service":
        if str(node.facts.get("network_mode") or "") == "host":
            return found  # Docker ignores `ports` with the host network
        for entry in node.facts.get("ports") or ():
            if _loopback_ip(entry.get("host_ip")) or entry.get("protocol") != "tcp":
                continue
            reach = exposure.compose(node, int(entry["target"]))
            if reach is not None and reach.public:
                found.append((int(entry["target"]), reach))
        return found
    if "k8s/workload" in node.kinds:
        pod = exposure.pod_ports(node)
        for port, reach in sorted(pod.ports.items()):
            if reach.public and not (pod.host_network is not None and "hostPort" in reach.path):
                found.append((port, reach))
    return found
