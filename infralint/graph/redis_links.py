"""Redis edges and the helpers rules (and the cross-format linkers) share.

- `includes` edges: a config -> each scanned Redis file it includes. An included file is judged
  as part of the config that includes it, not as a server of its own (`included_elsewhere`).
- Exposure: who can connect. Until the cross-format graph knows the container and its published
  ports (it will set the node's `exposure` fact), the bind addresses decide.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from infralint.graph.model import Graph, Node

REDIS_KINDS = ("redis/config", "redis/sentinel")
WILDCARDS = frozenset({"*", "0.0.0.0", "::", "::*", "0:0:0:0:0:0:0:0"})

# Values the `exposure` fact takes once a linker knows it:
#   "loopback"  only processes on the same host/pod can connect
#   "internal"  other containers or pods can (an unpublished compose port, a ClusterIP Service)
#   "public"    published to the host or beyond (ports on all interfaces, NodePort, Ingress ...)
EXPOSURES = ("loopback", "internal", "public")


def link(graph: Graph) -> None:
    by_path = {node.facts.get("config"): node for node in graph.of_kind(*REDIS_KINDS)}
    for node in list(graph.of_kind(*REDIS_KINDS)):
        for include in node.facts.get("includes") or ():
            for path in include.get("followed") or ():
                target = by_path.get(path)
                if target is not None and target is not node:
                    graph.link(node, target, "includes", line=include.get("line"))


def included_elsewhere(graph: Graph, node: Node) -> bool:
    """A fragment another scanned config includes: its lines are judged there."""
    return bool(graph.incoming(node, "includes"))


def bind_address(entry: str) -> str:
    """`-::1` -> `::1`: a leading '-' only makes the address optional."""
    return entry[1:] if entry.startswith("-") else entry


def is_wildcard(entry: str) -> bool:
    return bind_address(entry) in WILDCARDS


def is_loopback(entry: str) -> bool:
    address = bind_address(entry)
    if address.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def listens_on_tcp(facts: dict[str, Any]) -> bool:
    return bool(facts.get("bind")) and ((facts.get("port") or 0) > 0 or (facts.get("tls_port") or 0) > 0)


def exposed_addresses(facts: dict[str, Any]) -> list[str]:
    """The bind addresses other hosts can connect to (none when no TCP port is open)."""
    if not listens_on_tcp(facts):
        return []
    return [entry for entry in facts.get("bind") or () if not is_loopback(entry)]


def reachable_beyond_loopback(node: Node) -> bool:
    exposure = node.facts.get("exposure")
    if exposure in EXPOSURES:
        return exposure != "loopback" and listens_on_tcp(node.facts)
    return bool(exposed_addresses(node.facts))


def listening_on(facts: dict[str, Any]) -> str:
    """`0.0.0.0 port 6379` / `every interface (no bind) port 6379`, for messages."""
    addresses = exposed_addresses(facts)
    if not facts.get("bind_explicit"):
        where = "every interface (no bind line)"
    else:
        where = " ".join(addresses[:4]) + (" ..." if len(addresses) > 4 else "")
    ports = [f"port {facts['port']}"] if (facts.get("port") or 0) > 0 else []
    if (facts.get("tls_port") or 0) > 0:
        ports.append(f"tls-port {facts['tls_port']}")
    return f"{where}, {' and '.join(ports)}"
