"""Python rules over pod specs that reach into the node: runtime sockets, other hostPath
volumes, host namespaces, privileged containers.

Each is a shape condition, but whether it is by design depends on which containers use it: a
hostPath volume mounted only by node-exporter, or hostPID in a pod that runs it, is what its
documentation asks for and becomes a note (infralint/checks/by_design.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from infralint.checks.by_design import hit as by_design_hit
from infralint.components.by_design import Component, needing
from infralint.graph.model import Node
from infralint.rules.meta import CheckFn, Hit, RuleContext
from infralint.shapes import as_list as _list

# A runtime socket, the directory that holds it, or /run and /var/run as a whole.
RUNTIME_SOCKET = re.compile(
    r"^/+(var/+)?run(/+(k3s/+)?(docker|containerd|crio|podman|cri-dockerd|dockershim)(\.sock)?(/.*)?)?/*$"
)
HOST_NAMESPACES = (("hostNetwork", "host_network"), ("hostPID", "host_pid"), ("hostIPC", None))


def _containers(pod: Node, *fields: str) -> Iterator[dict[str, Any]]:
    for field in fields:
        yield from (c for c in _list(pod.attrs.get(field)) if isinstance(c, dict))


def _host_paths(pod: Node) -> Iterator[tuple[int, str, str | None]]:
    """(index, host path, volume name) of each hostPath volume with a path."""
    for index, volume in enumerate(_list(pod.attrs.get("volumes"))):
        host_path = volume.get("hostPath") if isinstance(volume, dict) else None
        path = host_path.get("path") if isinstance(host_path, dict) else None
        if isinstance(path, str):
            name = volume.get("name")
            yield index, path, name if isinstance(name, str) else None


def _volume_component(pod: Node, volume: str | None, need: str, path: str | None = None) -> Component | None:
    """The component that needs the volume by design: every container mounting it runs one, and
    for a host directory, one its documentation mounts that way (read-only unless it writes
    there). An unknown sidecar sharing the mount, or a writable mount of a directory the
    component only reads, is not by design."""
    found: list[Component] = []
    for container in _containers(pod, "initContainers", "containers"):
        mounts = [m for m in _list(container.get("volumeMounts")) if isinstance(m, dict) and m.get("name") == volume]
        if not mounts:
            continue
        component = needing(container.get("image"), need)
        writable = any(m.get("readOnly") is not True for m in mounts)
        if component is None or (path is not None and not component.allows_host_path(path, writable)):
            return None
        found.append(component)
    return found[0] if found else None


def _runner(pod: Node, ctx: RuleContext) -> Node:
    return ctx.graph.nodes.get(str(pod.facts.get("workload"))) or pod


def _judged(pod: Node, ctx: RuleContext, component: Component | None, message: str, path: tuple[Any, ...]) -> Hit:
    if component is None:
        return Hit(message, path)
    return by_design_hit(ctx, _runner(pod, ctx), component, message, path)


# k8s-docker-socket-mount


def docker_socket_mount(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    for index, path, volume in _host_paths(node):
        if RUNTIME_SOCKET.search(path):
            message = f"{node.facts['object']} mounts the container runtime socket path '{path}' from the node"
            component = _volume_component(node, volume, "runtime_socket")
            yield _judged(node, ctx, component, message, ("volumes", index, "hostPath", "path"))


# k8s-host-path-mount


def host_path_mount(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    for index, path, volume in _host_paths(node):
        if not RUNTIME_SOCKET.search(path):  # k8s-docker-socket-mount reports runtime sockets
            message = f"{node.facts['object']} mounts the node directory '{path}' through a hostPath volume"
            component = _volume_component(node, volume, "host_paths", path)
            yield _judged(node, ctx, component, message, ("volumes", index, "hostPath", "path"))


# k8s-host-namespace


def host_namespace(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    for field, need in HOST_NAMESPACES:
        if node.attrs.get(field) is not True:
            continue
        message = f"{node.facts['object']} sets {field}: true and shares the node's namespace"
        # The namespace is the pod's: one container that needs it is reason enough for it.
        components = (needing(c.get("image"), need) for c in _containers(node, "containers")) if need else ()
        component = next((c for c in components if c is not None), None)
        yield _judged(node, ctx, component, message, (field,))


# k8s-privileged-container


def privileged_container(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    security = node.attrs.get("securityContext")
    if not isinstance(security, dict) or security.get("privileged") is not True:
        return
    message = f"container '{node.facts['container']}' of {node.facts['object']} runs privileged"
    # Privilege is the container's own: only its image can need it by design.
    component = needing(node.attrs.get("image"), "privileged")
    yield _judged(node, ctx, component, message, ("securityContext", "privileged"))


CHECKS: dict[str, CheckFn] = {
    "k8s-docker-socket-mount": docker_socket_mount,
    "k8s-host-path-mount": host_path_mount,
    "k8s-host-namespace": host_namespace,
    "k8s-privileged-container": privileged_container,
}
