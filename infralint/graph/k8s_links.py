"""Kubernetes edges: what selects, routes to, scales and references what."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from infralint.graph.model import Graph, Node

K8S_BY_NAME = "k8s_by_name"


def same_namespace(a: str | None, b: str | None) -> bool:
    """An object without a namespace gets one at deploy time (kubectl -n, kustomize): match any."""
    return a is None or b is None or a == b


def selector_matches(selector: Any, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels + matchExpressions) or a plain map, as Services use."""
    if not isinstance(selector, dict):
        return False
    match_labels = selector.get("matchLabels")
    expressions = selector.get("matchExpressions")
    if match_labels is None and expressions is None:
        match_labels = selector  # a Service's selector is a plain map
    for key, value in (match_labels or {}).items() if isinstance(match_labels, dict) else ():
        if labels.get(str(key)) != str(value):
            return False
    for expression in expressions if isinstance(expressions, list) else ():
        if not isinstance(expression, dict) or not _expression_matches(expression, labels):
            return False
    return True


def _expression_matches(expression: dict[str, Any], labels: dict[str, str]) -> bool:
    key = str(expression.get("key"))
    operator = expression.get("operator")
    values = [str(v) for v in expression.get("values") or []]
    if operator == "In":
        return labels.get(key) in values
    if operator == "NotIn":
        return labels.get(key) not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False


def is_empty_selector(selector: Any) -> bool:
    return isinstance(selector, dict) and not selector.get("matchLabels") and not selector.get("matchExpressions")


def find(graph: Graph, kind: str, namespace: str | None, name: str) -> list[Node]:
    candidates = graph.indexes[K8S_BY_NAME].get((kind, name), ())
    return [node for node in candidates if same_namespace(node.facts["namespace"], namespace)]


def selected_workloads(graph: Graph, namespace: str | None, selector: Any, plain: bool = False) -> Iterator[Node]:
    for workload in graph.of_kind("k8s/workload"):
        if not same_namespace(workload.facts["namespace"], namespace):
            continue
        labels = workload.facts.get("pod_labels", {})
        if plain:
            if (
                isinstance(selector, dict)
                and selector
                and all(labels.get(str(k)) == str(v) for k, v in selector.items())
            ):
                yield workload
        elif selector_matches(selector, labels):
            yield workload


def _spec(node: Node) -> dict[str, Any]:
    spec = node.attrs.get("spec")
    return spec if isinstance(spec, dict) else {}


def link(graph: Graph) -> None:
    by_name: dict[tuple[str, str], list[Node]] = defaultdict(list)
    for node in graph.of_kind("k8s/object"):
        by_name[(node.facts["kind"], node.facts["name"])].append(node)
    graph.indexes[K8S_BY_NAME] = by_name

    for service in graph.of_kind("k8s/Service"):
        selector = _spec(service).get("selector")
        if isinstance(selector, dict) and selector:
            for workload in selected_workloads(graph, service.facts["namespace"], selector, plain=True):
                graph.link(service, workload, "selects")

    for budget in graph.of_kind("k8s/PodDisruptionBudget"):
        selector = _spec(budget).get("selector")
        if isinstance(selector, dict):
            for workload in selected_workloads(graph, budget.facts["namespace"], selector):
                graph.link(budget, workload, "selects")

    for policy in graph.of_kind("k8s/NetworkPolicy"):
        selector = _spec(policy).get("podSelector")
        if isinstance(selector, dict):
            for workload in selected_workloads(graph, policy.facts["namespace"], selector):
                graph.link(policy, workload, "selects")

    for hpa in graph.of_kind("k8s/HorizontalPodAutoscaler"):
        target = _spec(hpa).get("scaleTargetRef")
        if isinstance(target, dict) and isinstance(target.get("name"), str):
            for workload in find(graph, str(target.get("kind")), hpa.facts["namespace"], target["name"]):
                graph.link(hpa, workload, "scales")

    for ingress in graph.of_kind("k8s/Ingress"):
        for backend, _path in ingress_backends(ingress):
            for service in find(graph, "Service", ingress.facts["namespace"], backend["service"]):
                graph.link(ingress, service, "routes_to", port=backend.get("port"))


def ingress_backends(ingress: Node) -> Iterator[tuple[dict[str, Any], tuple[Any, ...]]]:
    """Each backend of an Ingress (networking.k8s.io/v1 or the older extensions form) and its path."""
    spec = _spec(ingress)
    candidates: list[tuple[Any, tuple[Any, ...]]] = []
    for key in ("defaultBackend", "backend"):
        if key in spec:
            candidates.append((spec[key], ("spec", key)))
    for r_index, rule in enumerate(spec.get("rules") or []):
        http = rule.get("http") if isinstance(rule, dict) else None
        paths = http.get("paths") if isinstance(http, dict) else None
        for p_index, entry in enumerate(paths or []):
            if isinstance(entry, dict) and "backend" in entry:
                candidates.append((entry["backend"], ("spec", "rules", r_index, "http", "paths", p_index, "backend")))
    for backend, path in candidates:
        if not isinstance(backend, dict):
            continue
        service = backend.get("service")
        if isinstance(service, dict) and isinstance(service.get("name"), str):
            port = service.get("port")
            port_value = None
            if isinstance(port, dict):
                port_value = port.get("number", port.get("name"))
            yield {"service": service["name"], "port": port_value}, path
        elif isinstance(backend.get("serviceName"), str):
            yield {"service": backend["serviceName"], "port": backend.get("servicePort")}, path
