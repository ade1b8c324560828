"""Kubernetes Pod Security Standards controls not covered elsewhere: host ports, seccomp,
capabilities, sysctls, proc mount, AppArmor, SELinux, volume types, Windows host process.

The rules run over pod specs rather than container nodes: the standards judge ephemeral
containers too, and those are no container nodes. A securityContext field the pod sets and a
container may override is judged the way the kubelet applies it (the container's own value
wins): where the container writes it, at the container; where the pod's value is what runs, once
at the pod, naming the containers that inherit it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from infralint.checks.k8s_containers import capability_name, no_security_context_cause
from infralint.findings import Severity
from infralint.graph.model import Node
from infralint.rules.meta import CheckFn, Hit, RuleContext
from infralint.shapes import as_dict as _dict
from infralint.shapes import as_list as _list

CONTAINER_LISTS = (
    ("initContainers", "init container"),
    ("containers", "container"),
    ("ephemeralContainers", "ephemeral container"),
)


@dataclass(frozen=True)
class Container:
    field: str  # initContainers, containers or ephemeralContainers
    index: int
    label: str  # "init container 'migrate'"
    name: str
    spec: dict[str, Any]

    @property
    def path(self) -> tuple[Any, ...]:
        return (self.field, self.index)

    @property
    def security(self) -> dict[str, Any]:
        return _dict(self.spec.get("securityContext"))

    def security_path(self) -> tuple[Any, ...]:
        """Where to report a container-level field that is missing: its securityContext key
        when it has one, else the container itself."""
        return (*self.path, "securityContext") if "securityContext" in self.spec else self.path


def containers(pod: Node) -> Iterator[Container]:
    for field, kind in CONTAINER_LISTS:
        for index, spec in enumerate(_list(pod.attrs.get(field))):
            if isinstance(spec, dict):
                written = spec.get("name")
                name = written if isinstance(written, str) else f"#{index}"
                yield Container(field, index, f"{kind} '{name}'", name, spec)


def _of(pod: Node) -> str:
    return str(pod.facts["object"])


def _pod_security(pod: Node) -> dict[str, Any]:
    return _dict(pod.attrs.get("securityContext"))


def _windows(pod: Node) -> bool:
    """Pods for Windows nodes: the standards exempt them from the Linux-only controls."""
    return _dict(pod.attrs.get("os")).get("name") == "windows"


def _set(value: Any) -> bool:
    return value is not None  # a null field counts as absent


def _names(items: list[Container]) -> str:
    shown = ", ".join(f"'{item.name}'" for item in items[:3])
    return shown + (f" and {len(items) - 3} more" if len(items) > 3 else "")


@dataclass(frozen=True)
class Place:
    """One written value of a pod-or-container securityContext field that decides what runs."""

    value: Any
    path: tuple[Any, ...]  # the field, relative to the pod spec
    who: str  # "container 'web' of Deployment/shop", "Deployment/shop (for containers 'a', 'b')"


def effective_places(pod: Node, field: str) -> Iterator[Place]:
    """Each place where FIELD (of securityContext) is written and in effect: every container
    that sets its own, and the pod's value once when some container does not override it (or
    there are none)."""
    inheriting = []
    for container in containers(pod):
        own = container.security.get(field)
        if _set(own):
            yield Place(own, (*container.path, "securityContext", field), f"{container.label} of {_of(pod)}")
        else:
            inheriting.append(container)
    pod_value = _pod_security(pod).get(field)
    if _set(pod_value) and (inheriting or not any(True for _ in containers(pod))):
        whom = f" (for {_names(inheriting)})" if inheriting else ""
        yield Place(pod_value, ("securityContext", field), f"{_of(pod)}{whom}")


def _pod_metadata(pod: Node, ctx: RuleContext) -> tuple[Node | None, tuple[Any, ...]]:
    """The workload node and the path (in it) of the pod template's metadata."""
    # The parent, not facts["workload"]: the graph renames the second of two objects of one id.
    workload = ctx.graph.nodes.get(pod.parent) if pod.parent else None
    if workload is None:
        return None, ()
    pod_path = tuple(pod.facts.get("pod_spec_path") or ())
    return workload, (*pod_path[:-1], "metadata")


def _pod_annotations(pod: Node, ctx: RuleContext) -> Iterator[tuple[str, Any, Node, tuple[Any, ...]]]:
    workload, metadata_path = _pod_metadata(pod, ctx)
    if workload is None:
        return
    metadata: Any = workload.attrs
    for key in metadata_path:
        metadata = _dict(metadata).get(key)
    for key, value in _dict(_dict(metadata).get("annotations")).items():
        yield str(key), value, workload, (*metadata_path, "annotations", key)


# k8s-host-port


def port_number(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value)
    return None  # a placeholder such as ${HOST_PORT}: cannot be judged


def host_port(pod: Node, ctx: RuleContext) -> Iterator[Hit]:
    host_network = pod.attrs.get("hostNetwork") is True
    for container in containers(pod):
        for index, port in enumerate(_list(container.spec.get("ports"))):
            port = _dict(port)
            number = port_number(port.get("hostPort"))
            if not number:
                continue
            if host_network and number == port_number(port.get("containerPort")):
                continue  # what hostNetwork implies anyway: k8s-host-namespace reports that
            yield Hit(
                f"{container.label} of {_of(pod)} binds port {number} of every node it runs on (hostPort)",
                (*container.path, "ports", index, "hostPort"),
            )


# k8s-seccomp-unconfined, k8s-seccomp-not-set

CONFINING_SECCOMP = frozenset({"RuntimeDefault", "Localhost"})
UNCONFINED_SECCOMP_ANNOTATIONS = (
    "seccomp.security.alpha.kubernetes.io/pod",
    "container.seccomp.security.alpha.kubernetes.io/",
)


def _seccomp_type(profile: Any) -> Any:
    return _dict(profile).get("type")


def seccomp_unconfined(pod: Node, ctx: RuleContext) -> Iterator[Hit]:
    for place in effective_places(pod, "seccompProfile"):
        if _seccomp_type(place.value) == "Unconfined":
            yield Hit(f"{place.who} runs without a seccomp filter (seccompProfile Unconfined)", (*place.path, "type"))
    for key, value, workload, path in _pod_annotations(pod, ctx):
        if key.startswith(UNCONFINED_SECCOMP_ANNOTATIONS) and value == "unconfined":
            yield Hit(f"{_of(pod)} runs without a seccomp filter ({key}: unconfined)", span=workload.spans.span(path))


def seccomp_not_set(pod: Node, ctx: RuleContext) -> Iterator[Hit]:
    if _windows(pod):
        return
    pod_type = _seccomp_type(_pod_security(pod).get("seccompProfile"))
    if pod_type in CONFINING_SECCOMP:
        return  # every container without its own profile inherits it
    all_containers = list(containers(pod))
    lacking = [c for c in all_containers if not _set(_seccomp_type(c.security.get("seccompProfile")))]
    if not lacking or pod_type == "Unconfined":
        return  # an Unconfined pod is k8s-seccomp-unconfined's
    advice = "set seccompProfile {type: RuntimeDefault} on the pod"
    if len(lacking) == len(all_containers):
        path = ("securityContext",) if "securityContext" in pod.attrs else ()
        # A pod of one bare container: the same block that k8s-run-as-root asks for fixes it.
        cause = _bare_container_cause(pod, ctx, lacking[0]) if len(lacking) == 1 else ""
        yield Hit(f"neither {_of(pod)} nor its containers set a seccomp profile: {advice}", path, cause=cause)
        return
    for container in lacking:
        yield Hit(
            f"{container.label} of {_of(pod)} sets no seccomp profile, unlike the other containers: {advice}",
            container.security_path(),
            cause=_bare_container_cause(pod, ctx, container),
        )


def _bare_container_cause(pod: Node, ctx: RuleContext, container: Container) -> str:
    """The cause k8s-run-as-root names for a container without any securityContext: one block
    fixes all the restricted container fields, so they are one finding."""
    if container.field == "ephemeralContainers":
        return ""
    kind = "initContainer" if container.field == "initContainers" else "container"
    node = ctx.graph.nodes.get(f"{pod.parent}/{kind}/{container.name}")
    return no_security_context_cause(node) if node is not None else ""


# k8s-capabilities-not-dropped, k8s-dangerous-capabilities

# What container runtimes grant by default: the standards' baseline allows adding these back.
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
RESTRICTED_ADD = frozenset({"NET_BIND_SERVICE"})


def capabilities_not_dropped(pod: Node, ctx: RuleContext) -> Iterator[Hit]:
    if _windows(pod):
        return
    for container in containers(pod):
        capabilities = _dict(container.security.get("capabilities"))
        where = f"{container.label} of {_of(pod)}"
        drop = _list(capabilities.get("drop"))
        if not any(isinstance(name, str) and capability_name(name) == "ALL" for name in drop):
            if "drop" in capabilities:
                path: tuple[Any, ...] = (*container.path, "securityContext", "capabilities", "drop")
            elif "capabilities" in container.security:
                path = (*container.path, "securityContext", "capabilities")
            else:
                path = container.security_path()
            yield Hit(
                f"{where} does not drop ALL capabilities: it keeps the runtime's defaults (CHOWN, SETUID, KILL ...)",
                path,
                cause=_bare_container_cause(pod, ctx, container),
            )
        for index, name in enumerate(_list(capabilities.get("add"))):
            # Additions beyond the baseline set are k8s-dangerous-capabilities' findings.
            if isinstance(name, str) and capability_name(name) in BASELINE_CAPABILITIES - RESTRICTED_ADD:
                yield Hit(
                    f"{where} adds capability {name}; the restricted profile allows adding NET_BIND_SERVICE only",
                    (*container.path, "securityContext", "capabilities", "add", index),
                )


# k8s-unsafe-sysctl


def unsafe_sysctl(pod: Node, ctx: RuleContext) -> Iterator[Hit]:
    allowed = set(ctx.options.get("sysctls", ()))
    for index, sysctl in enumerate(_list(_pod_security(pod).get("sysctls"))):
        name = _dict(sysctl).get("name")
        if isinstance(name, str) and name not in allowed:
            yield Hit(
                f"{_of(pod)} sets sysctl {name}, which is not on the safe list: it may reach beyond the pod",
                ("securityContext", "sysctls", index, "name"),
            )


# k8s-unmasked-proc-mount


def unmasked_proc_mount(pod: Node, ctx: RuleContext) -> Iterator[Hit]:
    for container in containers(pod):
        mount = container.security.get("procMount")
        if mount is None or mount == "Default":
            continue
        path = (*container.path, "securityContext", "procMount")
        if mount == "Unmasked":
            yield Hit(f"{container.label} of {_of(pod)} mounts /proc unmasked (procMount: Unmasked)", path)
        else:  # the baseline allows only Default; the API knows no third type
            yield Hit(f"{container.label} of {_of(pod)} sets procMount: {mount}, where only Default is allowed", path)


# k8s-apparmor-unconfined

APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


def apparmor_unconfined(pod: Node, ctx: RuleContext) -> Iterator[Hit]:
    for place in effective_places(pod, "appArmorProfile"):
        if _dict(place.value).get("type") == "Unconfined":
            yield Hit(f"{place.who} runs without AppArmor (appArmorProfile Unconfined)", (*place.path, "type"))
    for key, value, workload, path in _pod_annotations(pod, ctx):
        if key.startswith(APPARMOR_ANNOTATION) and value == "unconfined":
            container = key[len(APPARMOR_ANNOTATION) :]
            yield Hit(
                f"container '{container}' of {_of(pod)} runs without AppArmor ({key}: unconfined)",
                span=workload.spans.span(path),
            )


# k8s-selinux-override


def selinux_override(pod: Node, ctx: RuleContext) -> Iterator[Hit]:
    allowed_types = set(ctx.options.get("types", ()))
    for place in effective_places(pod, "seLinuxOptions"):
        options = _dict(place.value)
        for key in ("user", "role"):
            if options.get(key):
                yield Hit(
                    f"{place.who} sets a custom SELinux {key} '{options[key]}'",
                    (*place.path, key),
                )
        selinux_type = options.get("type")
        if isinstance(selinux_type, str) and selinux_type and selinux_type not in allowed_types:
            yield Hit(
                f"{place.who} runs as SELinux type '{selinux_type}', outside the container types",
                (*place.path, "type"),
            )


# k8s-restricted-volume-type


def restricted_volume_type(pod: Node, ctx: RuleContext) -> Iterator[Hit]:
    allowed = set(ctx.options.get("types", ()))
    for index, volume in enumerate(_list(pod.attrs.get("volumes"))):
        volume = _dict(volume)
        for kind in volume:
            if kind == "name" or kind in allowed or volume[kind] is None:
                continue
            if kind == "hostPath":
                continue  # k8s-host-path-mount and k8s-docker-socket-mount report these
            name = volume.get("name")
            if kind == "gitRepo":
                yield Hit(
                    f"{_of(pod)} uses a gitRepo volume '{name}': deprecated, and it runs git on the node "
                    "(CVE-2024-10220); clone in an init container into an emptyDir instead",
                    ("volumes", index, kind),
                    severity=Severity.WARNING,
                )
                continue
            yield Hit(
                f"{_of(pod)} mounts volume '{name}' of type {kind}, which the restricted profile does not allow: "
                "use a persistentVolumeClaim or a CSI driver",
                ("volumes", index, kind),
            )


# k8s-windows-host-process


def windows_host_process(pod: Node, ctx: RuleContext) -> Iterator[Hit]:
    for place in effective_places(pod, "windowsOptions"):
        if _dict(place.value).get("hostProcess") is True:
            yield Hit(
                f"{place.who} runs as a Windows HostProcess container, with the node's privileges",
                (*place.path, "hostProcess"),
            )


CHECKS: dict[str, CheckFn] = {
    "k8s-host-port": host_port,
    "k8s-seccomp-unconfined": seccomp_unconfined,
    "k8s-seccomp-not-set": seccomp_not_set,
    "k8s-capabilities-not-dropped": capabilities_not_dropped,
    "k8s-unsafe-sysctl": unsafe_sysctl,
    "k8s-unmasked-proc-mount": unmasked_proc_mount,
    "k8s-apparmor-unconfined": apparmor_unconfined,
    "k8s-selinux-override": selinux_override,
    "k8s-restricted-volume-type": restricted_volume_type,
    "k8s-windows-host-process": windows_host_process,
}
