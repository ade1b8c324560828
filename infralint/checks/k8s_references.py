"""Graph rules over Kubernetes references: selectors, ports, backends, scale targets, config.

A reference is judged dangling only when the scan holds the context that would define it
(workloads for selectors, Services for Ingress backends, some ConfigMap for a ConfigMap name).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from infralint.findings import Related, Severity
from infralint.graph.k8s_links import (
    defined_elsewhere,
    exists,
    ingress_backends,
    is_empty_selector,
    key_references,
    labels_set_at_run_time,
    made_by_operator,
    nearest_named,
    patches_of,
    pod_running_custom_resources,
    rendered_with_test_values,
    same_namespace,
    selected_in_other_renders,
    selectors_linked,
    workload_references,
)
from infralint.graph.model import RENDER_LABEL, Graph, Node
from infralint.parsers.result import dig
from infralint.rules.meta import CheckFn, Hit, RuleContext

SCALABLE_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"})
MAX_RELATED = 5


def _spec(node: Node) -> dict[str, Any]:
    spec = node.attrs.get("spec")
    return spec if isinstance(spec, dict) else {}


def _defines(graph: Graph, kind: str, namespace: str | None) -> bool:
    """Whether the scan holds some object of this kind in a namespace compatible with ``namespace``."""
    group = "k8s/workload" if kind == "workload" else f"k8s/{kind}"
    return any(same_namespace(node.facts["namespace"], namespace) for node in graph.of_kind(group))


def defines_near(graph: Graph, kind: str, node: Node) -> bool:
    """Whether the scan defines some object of ``kind`` where ``node`` would look for it.

    Without a namespace on either side, only objects in the node's folder tree (its folder, a
    parent or a subfolder) count: unrelated apps of a monorepo are not context for each other.
    """
    namespaces, anywhere, unnamespaced = _definitions(graph, kind)
    namespace = node.facts["namespace"]
    folder = posixpath.dirname(node.path)
    if namespace is None:
        return anywhere.related(folder)
    return namespace in namespaces or unnamespaced.related(folder)


class FolderSet:
    """The folders that hold some object, to tell in a few lookups whether any of them is a
    given folder, one of its parents or one of its subfolders."""

    def __init__(self) -> None:
        self.folders: set[str] = set()
        self.with_parents: set[str] = set()  # each folder and every parent of it

    def add(self, folder: str) -> None:
        self.folders.add(folder)
        self.with_parents.add(folder)
        self.with_parents.update(folder[:index] for index, char in enumerate(folder) if char == "/")

    def related(self, folder: str) -> bool:
        if not self.folders:
            return False
        if folder in _ROOTS or not self.folders.isdisjoint(_ROOTS) or folder in self.with_parents:
            return True  # the scan root relates to all; so does the folder itself or a subfolder
        return any(folder[:index] in self.folders for index, char in enumerate(folder) if char == "/")


_ROOTS = frozenset({"", "."})
K8S_DEFINITIONS = "k8s_definitions_by_kind"


def _definitions(graph: Graph, kind: str) -> tuple[set[str], FolderSet, FolderSet]:
    """For the objects of ``kind``: their namespaces, the folders of all of them, and the
    folders of those without a namespace. Built once per kind."""
    built = graph.indexes.setdefault(K8S_DEFINITIONS, {})
    if kind not in built:
        namespaces, anywhere, unnamespaced = set(), FolderSet(), FolderSet()
        for other in graph.of_kind(f"k8s/{kind}"):
            folder = posixpath.dirname(other.path)
            anywhere.add(folder)
            if other.facts["namespace"] is None:
                unnamespaced.add(folder)
            else:
                namespaces.add(other.facts["namespace"])
        built[kind] = (namespaces, anywhere, unnamespaced)
    return built[kind]


def _holds_the_pods(graph: Graph, namespace: str | None) -> bool:
    """Whether the scan shows every pod a selector in ``namespace`` could match (and the
    selectors were linked: a scan too dense for that judges none)."""
    return (
        selectors_linked(graph)
        and _defines(graph, "workload", namespace)
        and not pod_running_custom_resources(graph, namespace)
    )


def _labels(selector: dict[str, Any]) -> str:
    """A selector as `app=web, tier In (a, b)`: plain maps (Services) and LabelSelectors alike."""
    if "matchLabels" in selector or "matchExpressions" in selector:
        labels, expressions = selector.get("matchLabels") or {}, selector.get("matchExpressions") or []
    else:
        labels, expressions = selector, []
    parts = [f"{key}={value}" for key, value in labels.items()] if isinstance(labels, dict) else []
    for expression in expressions if isinstance(expressions, list) else []:
        if isinstance(expression, dict):
            values = ", ".join(str(v) for v in expression.get("values") or [])
            parts.append(f"{expression.get('key')} {expression.get('operator')}" + (f" ({values})" if values else ""))
    return ", ".join(parts) or "{}"


# -- selectors that match nothing -------------------------------------------------------------


def service_selects_nothing(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    spec = _spec(node)
    selector = spec.get("selector")
    if spec.get("type") == "ExternalName" or not isinstance(selector, dict) or not selector:
        return  # no selector: endpoints are managed by hand or by another controller
    yield from _selects_nothing(node, ctx, selector, ("spec", "selector"), "selects no pods")


def pdb_selects_nothing(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    selector = _spec(node).get("selector")
    if isinstance(selector, dict):
        yield from _selects_nothing(node, ctx, selector, ("spec", "selector"), "selects no pods")


def networkpolicy_selects_nothing(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    selector = _spec(node).get("podSelector")
    if not isinstance(selector, dict) or is_empty_selector(selector):
        return  # an empty podSelector means every pod of the namespace
    yield from _selects_nothing(node, ctx, selector, ("spec", "podSelector"), "applies to no pods")


def _selects_nothing(
    node: Node, ctx: RuleContext, selector: dict[str, Any], path: tuple[str, ...], verdict: str
) -> Iterator[Hit]:
    """An error when no pod template in the scan matches; a note when templates match only with
    labels a controller or the app sets once the pods run (the selector may well be right)."""
    selected = ctx.graph.outgoing(node, "selects")
    if not selected:
        elsewhere = selected_in_other_renders(ctx.graph, node)
        if elsewhere:
            yield _selects_another_deployment(node, ctx, elsewhere, path, verdict)
        elif _holds_the_pods(ctx.graph, node.facts["namespace"]):
            yield Hit(
                f"{node.facts['object']} {verdict}: no pod template in the scan has the labels {_labels(selector)}",
                path=path,
            )
        return
    late = {workload.id: labels_set_at_run_time(ctx.graph, node, workload) for workload in selected}
    if not all(late.values()):
        return  # some template matches on its own labels
    setters: dict[str, str] = {}
    for labels in late.values():
        setters.update(labels)
    keys = ", ".join(f"'{key}' (set by {setter})" for key, setter in sorted(setters.items()))
    names = ", ".join(workload.facts["object"] for workload in selected)
    yield Hit(
        f"{node.facts['object']} matches the pods of {names} only through labels set at run time, "
        f"not in their template: {keys}",
        path=path,
        severity=Severity.NOTE,
        related=tuple(
            ctx.related(
                workload, f"the pod template of {workload.facts['object']} sets its labels here", _labels_path(workload)
            )
            for workload in selected[:MAX_RELATED]
        ),
    )


def _selects_another_deployment(
    node: Node, ctx: RuleContext, workloads: list[Node], path: tuple[str, ...], verdict: str
) -> Hit:
    """A note: the only pods with the labels belong to a Helm release or kustomize root that
    this file is not part of (a Service beside a kustomization that does not list it), or the
    other way round. Applied together they match; the scan cannot tell whether they are."""
    names = ", ".join(_rendered_by(workload) for workload in workloads[:MAX_RELATED])
    own = node.facts.get(RENDER_LABEL)
    one = len(workloads) == 1
    if own:
        why = f"{own} does not include {'it' if one else 'them'}"
    else:
        why = f"and {'that render does' if one else 'those renders do'} not include this file"
    return Hit(
        f"{node.facts['object']} {verdict} of its own deployment: only {names} "
        f"{'has' if one else 'have'} the labels {_labels(dig(node.attrs, path))}, {why}; "
        "if they are deployed together, list both in the same kustomization or chart",
        path=path,
        severity=Severity.NOTE,
        related=tuple(
            ctx.related(
                workload, f"the pod template of {workload.facts['object']} sets its labels here", _labels_path(workload)
            )
            for workload in workloads[:MAX_RELATED]
        ),
    )


def _rendered_by(node: Node) -> str:
    """`Deployment/web (rendered by kustomize root app)`, or `Deployment/web (a plain manifest)`."""
    label = node.facts.get(RENDER_LABEL)
    return f"{node.facts['object']} ({f'rendered by {label}' if label else 'a plain manifest'})"


def _labels_path(workload: Node) -> tuple[Any, ...]:
    """Where a workload's pod template sets its labels (a Pod's own metadata for a Pod)."""
    return (*tuple(workload.facts.get("pod_spec_path") or ())[:-1], "metadata", "labels")


# -- Service ports ----------------------------------------------------------------------------


class DeclaredPort(NamedTuple):
    number: Any
    name: Any
    protocol: str
    container: Node


def _serving_containers(graph: Graph, workload: Node) -> list[Node]:
    """App containers, plus sidecars (init containers that keep running)."""
    return [
        child
        for child in graph.children(workload)
        if "k8s/app-container" in child.kinds
        or ("k8s/init-container" in child.kinds and child.attrs.get("restartPolicy") == "Always")
    ]


def _declared_ports(graph: Graph, workload: Node) -> list[DeclaredPort]:
    declared = []
    for container in _serving_containers(graph, workload):
        for port in container.attrs.get("ports") or []:
            if isinstance(port, dict):
                protocol = str(port.get("protocol") or "TCP")
                declared.append(DeclaredPort(port.get("containerPort"), port.get("name"), protocol, container))
    return declared


def _as_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdecimal():
        return int(value)
    return None


def service_port_mismatch(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    workloads = ctx.graph.outgoing(node, "selects")
    ports = _spec(node).get("ports")
    if not workloads or not isinstance(ports, list):
        return
    declared = {workload.id: _declared_ports(ctx.graph, workload) for workload in workloads}
    names = ", ".join(workload.facts["object"] for workload in workloads)
    for index, port in enumerate(ports):
        if not isinstance(port, dict):
            continue
        key = "targetPort" if "targetPort" in port else "port"
        target = port.get(key)
        protocol = str(port.get("protocol") or "TCP")
        number = _as_number(target)
        severity = None
        if number is not None:
            if _number_served(ctx.graph, workloads, declared, number):
                continue
            # The number reaches the pod whatever ports[] says (it is informational): only the
            # image knows whether something listens there.
            severity = Severity.WARNING
            message = (
                f"{node.facts['object']} sends {key} {number} to pods that declare other ports ({names}): "
                f"traffic still reaches port {number}; check that the image listens there, and declare it"
            )
        elif _PORT_NAME.match(str(target)):
            if any(p.name == target and p.protocol == protocol for w in workloads for p in declared[w.id]):
                continue
            message = (
                f"{node.facts['object']} sends {key} '{target}' to pods without a {protocol} port of that name "
                f"({names}): the Service gets no endpoints for it"
            )
        else:
            continue  # not a valid port name: a placeholder filled in at deploy time
        containers = [p.container for ports_of in declared.values() for p in ports_of]
        related = _related_containers(ctx, containers or _all_containers(ctx.graph, workloads))
        yield Hit(message, path=("spec", "ports", index, key), related=related, severity=severity)


# IANA service name, as Kubernetes validates port names: the only names a targetPort can match.
_PORT_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,14}$")


def _number_served(graph: Graph, workloads: list[Node], declared: dict[str, list[DeclaredPort]], number: int) -> bool:
    """A number reaches the pod whether declared or not: it is judged only against pods that
    declare their ports and do not mention it in their command line or environment either."""
    for workload in workloads:
        if not declared[workload.id] or any(p.number == number for p in declared[workload.id]):
            return True
        mention = re.compile(rf"(?<![0-9]){number}(?![0-9])")
        if any(_mentions(container.attrs, mention) for container in _serving_containers(graph, workload)):
            return True
    return False


def _mentions(container: dict[str, Any], pattern: re.Pattern[str]) -> bool:
    """Whether args, command, env values or a probe mention the port (`--metrics-bind-address=:8443`)."""
    texts = [*(container.get("command") or []), *(container.get("args") or [])]
    texts += [env.get("value") for env in container.get("env") or [] if isinstance(env, dict)]
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        for handler in ("httpGet", "tcpSocket", "grpc"):
            texts.append(str(dig(container, (probe, handler, "port"))))
    return any(isinstance(text, str) and pattern.search(text) for text in texts)


def _all_containers(graph: Graph, workloads: list[Node]) -> list[Node]:
    return [c for w in workloads for c in _serving_containers(graph, w)]


def _related_containers(ctx: RuleContext, containers: list[Node]) -> tuple[Any, ...]:
    seen: dict[str, Node] = {}
    for container in containers:
        seen.setdefault(container.id, container)
    return tuple(
        ctx.related(c, f"container '{c.facts['container']}' of {c.facts['object']} declares its ports here", ("ports",))
        for c in list(seen.values())[:MAX_RELATED]
    )


# -- Ingress backends -------------------------------------------------------------------------


def ingress_backend_missing(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    namespace = node.facts["namespace"]
    if not _defines(ctx.graph, "Service", namespace):
        return
    for backend, path in ingress_backends(node):
        raw = dig(node.attrs, path)
        v1 = isinstance(raw, dict) and isinstance(raw.get("service"), dict)
        name_path = (*path, "service", "name") if v1 else (*path, "serviceName")
        port = backend.get("port")
        if port == "use-annotation":
            continue  # AWS load balancer controller: an action defined in an annotation
        services = nearest_named(ctx.graph, node, "Service", backend["service"])
        if not services and (
            made_by_operator(ctx.graph, namespace, backend["service"]) or rendered_with_test_values(node)
        ):
            continue
        if not services:
            yield Hit(
                f"{node.facts['object']} routes to Service '{backend['service']}', which the scan does not define",
                path=name_path,
            )
            continue
        if port is None or any(_service_has_port(service, port) for service in services):
            continue
        port_key = ("port", "number" if _as_number(port) is not None else "name")
        port_path = (*path, "service", *port_key) if v1 else (*path, "servicePort")
        service = services[0]
        yield Hit(
            f"{node.facts['object']} routes to port {port} of Service '{backend['service']}', which has no such port",
            path=port_path,
            related=(ctx.related(service, f"{service.facts['object']} defines its ports here", ("spec", "ports")),),
        )


def _service_has_port(service: Node, port: Any) -> bool:
    ports = _spec(service).get("ports")
    if not isinstance(ports, list) or not ports:
        return True  # nothing to compare with (ExternalName, or ports set elsewhere)
    number = _as_number(port)
    for entry in ports:
        if not isinstance(entry, dict):
            continue
        if number is not None and _as_number(entry.get("port")) == number:
            return True
        if number is None and entry.get("name") == port:
            return True
    return False


# -- autoscalers ------------------------------------------------------------------------------


def hpa_target_missing(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    target = _spec(node).get("scaleTargetRef")
    if not isinstance(target, dict) or not isinstance(target.get("name"), str):
        return
    if ctx.graph.outgoing(node, "scales"):
        return
    kind = str(target.get("kind") or "")
    namespace = node.facts["namespace"]
    context = "workload" if kind in SCALABLE_KINDS else kind
    if not kind or not _defines(ctx.graph, context, namespace) or rendered_with_test_values(node):
        return  # a custom resource kind, no workloads to judge by, or a name from test values
    yield Hit(
        f"{node.facts['object']} scales {kind} '{target['name']}', which the scan does not define",
        path=("spec", "scaleTargetRef", "name"),
    )


class UtilizationMetric(NamedTuple):
    resource: str  # cpu or memory
    container: str | None  # a ContainerResource metric names one container
    path: tuple[Any, ...]


def utilization_metrics(hpa: Node) -> Iterator[UtilizationMetric]:
    """Metrics of an HPA that are a percentage of the pods' requests, defaults included."""
    spec = _spec(hpa)
    if hpa.facts["apiVersion"] == "autoscaling/v1":
        key = "targetCPUUtilizationPercentage"
        yield UtilizationMetric("cpu", None, ("spec", key) if key in spec else ("spec",))
        return
    metrics = spec.get("metrics")
    if not metrics:
        yield UtilizationMetric("cpu", None, ("spec",))  # the default: 80% average CPU utilization
        return
    for index, metric in enumerate(metrics if isinstance(metrics, list) else []):
        if not isinstance(metric, dict):
            continue
        for key in ("resource", "containerResource"):
            source = metric.get(key)
            if not isinstance(source, dict) or source.get("name") not in ("cpu", "memory"):
                continue
            target = source.get("target")
            by_target = isinstance(target, dict) and target.get("type") == "Utilization"
            if by_target or "targetAverageUtilization" in source:  # the latter: autoscaling/v2beta1
                container = source.get("container") if key == "containerResource" else None
                path = ("spec", "metrics", index, key, "name")
                yield UtilizationMetric(str(source["name"]), str(container) if container else None, path)


def hpa_without_requests(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    targets = ctx.graph.outgoing(node, "scales")
    if not targets:
        return
    for metric in utilization_metrics(node):
        for workload in targets:
            lacking = [
                container
                for container in _serving_containers(ctx.graph, workload)
                if (metric.container is None or container.facts["container"] == metric.container)
                and not _has_request(container, metric.resource)
                and not _patched_request(ctx.graph, workload, container, metric.resource)
            ]
            if not lacking:
                continue
            names = ", ".join(f"'{c.facts['container']}'" for c in lacking)
            who = f"containers {names} have" if len(lacking) > 1 else f"container {names} has"
            yield Hit(
                f"{node.facts['object']} scales {workload.facts['object']} on {metric.resource} utilization, "
                f"but {who} no {metric.resource} request (nor limit): the autoscaler cannot "
                "compute utilization and will not scale",
                path=metric.path,
                related=tuple(
                    ctx.related(
                        c, f"container '{c.facts['container']}' sets no {metric.resource} request", ("resources",)
                    )
                    for c in lacking[:MAX_RELATED]
                ),
            )


def _has_request(container: Node, resource: str) -> bool:
    requests = dig(container.attrs, ("resources", "requests"))
    return isinstance(requests, dict) and requests.get(resource) not in (None, "")


def _patched_request(graph: Graph, workload: Node, container: Node, resource: str) -> bool:
    """Whether a kustomize patch of the workload in the scan sets the request for this container."""
    facts = workload.facts
    for patch in patches_of(graph, facts["kind"], facts["namespace"], facts["name"]):
        if patch is workload:
            continue
        for other in _serving_containers(graph, patch):
            if other.facts["container"] == container.facts["container"] and _has_request(other, resource):
                return True
    return False


# -- ConfigMaps and Secrets -------------------------------------------------------------------


def missing_configmap_or_secret(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    namespace = node.facts["namespace"]
    for ref in workload_references(node):
        if ref.kind not in ("ConfigMap", "Secret") or ref.optional or "imagePullSecrets" in ref.path:
            continue  # kubelet starts pods without a missing pull secret; optional refs may be absent
        if exists(ctx.graph, ref.kind, namespace, ref.name) or defined_elsewhere(
            ctx.graph, ref.kind, namespace, ref.name
        ):
            continue
        if not defines_near(ctx.graph, ref.kind, node) or _unused_volume(node.attrs, ref.path):
            continue
        if rendered_with_test_values(node):
            continue  # test values name objects made outside the chart
        yield Hit(
            f"{node.facts['object']} uses {ref.kind} '{ref.name}', which the scan does not define: "
            "the pod will not start",
            path=ref.path,
        )
    yield from _missing_keys(ctx.graph, node)


# Secret types whose keys a controller fills in after the object is created.
FILLED_SECRET_TYPES = frozenset({"kubernetes.io/service-account-token"})


def _missing_keys(graph: Graph, node: Node) -> Iterator[Hit]:
    """A key the workload reads from a ConfigMap or Secret of the scan that has no such key: the
    container is not created (CreateContainerConfigError) until someone adds it. Judged only when
    every object of that name near the workload lists its keys in full (no generator, patch or
    controller that adds more, and not an empty object someone fills in later)."""
    namespace = node.facts["namespace"]
    for ref in key_references(node):
        if ref.optional or defined_elsewhere(graph, ref.kind, namespace, ref.name):
            continue
        holders = nearest_named(graph, node, ref.kind, ref.name)
        if not holders or patches_of(graph, ref.kind, namespace, ref.name):
            continue
        key_sets = [_keys(holder) for holder in holders]
        if any(keys is None or ref.key in keys for keys in key_sets):
            continue
        holder = holders[0]
        known = ", ".join(sorted(key_sets[0] or ())) or "none"
        yield Hit(
            f"{node.facts['object']} reads key '{ref.key}' of {ref.kind} '{ref.name}', which has no such key"
            f" (its keys: {known}): the container will not start",
            path=ref.path,
            severity=Severity.WARNING,  # the object is in the scan: only its keys are wrong
            related=(Related(holder.spans.span(()), f"{ref.kind} '{ref.name}' defined here"),),
        )


def _keys(holder: Node) -> set[str] | None:
    """The keys a ConfigMap or Secret object holds, or None when the scan cannot know them all."""
    attrs = holder.attrs
    if attrs.get("type") in FILLED_SECRET_TYPES or holder.facts.get("patch"):
        return None
    keys: set[str] = set()
    for field_name in ("data", "stringData", "binaryData"):
        value = attrs.get(field_name)
        if value is None:
            continue
        if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
            return None  # a templated or broken block: its keys are not known
        keys.update(value)
    return keys or None  # an empty object is filled in by someone else


def _unused_volume(attrs: dict[str, Any], path: tuple[Any, ...]) -> bool:
    """Whether PATH names a pod volume that no container mounts: the kubelet only sets up the
    volumes a container uses (volumeMounts or volumeDevices), so a missing source there stops nothing."""
    if "volumes" not in path:
        return False
    at = path.index("volumes")
    spec: Any = attrs
    for key in path[:at]:
        spec = spec.get(key) if isinstance(spec, dict) else spec[key] if isinstance(spec, list) else None
        if spec is None:
            return False
    volumes = spec.get("volumes") if isinstance(spec, dict) else None
    index = path[at + 1] if len(path) > at + 1 else None
    if not isinstance(volumes, list) or not isinstance(index, int) or index >= len(volumes):
        return False
    name = volumes[index].get("name") if isinstance(volumes[index], dict) else None
    used = {
        mount.get("name")
        for field in ("initContainers", "containers", "ephemeralContainers")
        for container in spec.get(field) or []
        if isinstance(container, dict)
        for key in ("volumeMounts", "volumeDevices")
        for mount in container.get(key) or []
        if isinstance(mount, dict)
    }
    return name is not None and name not in used


CHECKS: dict[str, CheckFn] = {
    "k8s-service-selects-nothing": service_selects_nothing,
    "k8s-service-port-mismatch": service_port_mismatch,
    "k8s-ingress-backend-missing": ingress_backend_missing,
    "k8s-hpa-target-missing": hpa_target_missing,
    "k8s-hpa-without-requests": hpa_without_requests,
    "k8s-pdb-selects-nothing": pdb_selects_nothing,
    "k8s-networkpolicy-selects-nothing": networkpolicy_selects_nothing,
    "k8s-missing-configmap-or-secret": missing_configmap_or_secret,
}
