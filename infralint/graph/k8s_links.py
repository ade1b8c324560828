"""Kubernetes edges: what selects, routes to, scales and references what."""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, NamedTuple

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


def nearest(node: Node, candidates: list[Node]) -> list[Node]:
    """Of several objects a name could mean, those closest to ``node`` in the file tree.

    Objects without a namespace match by name across the whole scan; in a repository of many
    apps, `web` in this folder is meant, not `web` of another app.
    """
    if len(candidates) < 2:
        return candidates
    ranks = [_closeness(node, other) for other in candidates]
    best = max(ranks)
    return [other for other, rank in zip(candidates, ranks, strict=True) if rank == best]


def _closeness(node: Node, other: Node) -> tuple[bool, bool, int]:
    """Whole objects before kustomize patches, then the same file, then shared leading folders."""
    a, b = node.path, other.path
    shared = 0
    for part_a, part_b in zip(a.split("/")[:-1], b.split("/")[:-1], strict=False):
        if part_a != part_b:
            break
        shared += 1
    return (not looks_like_patch(other), a == b, shared)


def selected_workloads(graph: Graph, namespace: str | None, selector: Any, plain: bool = False) -> Iterator[Node]:
    ordinals = bool(_selector_keys(selector) & ORDINAL_LABELS)
    for workload in graph.of_kind("k8s/workload"):
        if not same_namespace(workload.facts["namespace"], namespace):
            continue
        for labels in pod_label_sets(workload, ordinals):
            if plain:
                matched = (
                    isinstance(selector, dict)
                    and bool(selector)
                    and all(labels.get(str(k)) == str(v) for k, v in selector.items())
                )
            else:
                matched = selector_matches(selector, labels)
            if matched:
                yield workload
                break


MAX_ORDINALS = 1000
ORDINAL_LABELS = frozenset({"statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index"})


def _selector_keys(selector: Any) -> set[str]:
    if not isinstance(selector, dict):
        return set()
    keys = {str(key) for key in selector if key not in ("matchLabels", "matchExpressions")}
    match_labels = selector.get("matchLabels")
    if isinstance(match_labels, dict):
        keys.update(str(key) for key in match_labels)
    for expression in selector.get("matchExpressions") or []:
        if isinstance(expression, dict):
            keys.add(str(expression.get("key")))
    return keys


def pod_label_sets(workload: Node, ordinals: bool = True) -> Iterator[dict[str, str]]:
    """The label sets a workload's pods carry: the template's, plus what the controller adds.

    The Job controller labels its pods with the Job's name, and a StatefulSet labels each pod
    with its own name and ordinal; Services and budgets select by those too. Without
    ``ordinals`` a StatefulSet yields its template labels once (selectors that do not name a pod).
    """
    labels: dict[str, str] = workload.facts.get("pod_labels", {})
    kind, name = workload.facts["kind"], workload.facts["name"]
    if kind == "Job":
        yield {**labels, "job-name": name, "batch.kubernetes.io/job-name": name}
    elif kind == "StatefulSet" and ordinals:
        replicas = declared_replicas(workload)
        count = MAX_ORDINALS if replicas is None else min(max(replicas, 1), MAX_ORDINALS)
        for ordinal in range(count):
            pod = {
                "statefulset.kubernetes.io/pod-name": f"{name}-{ordinal}",
                "apps.kubernetes.io/pod-index": str(ordinal),
            }
            yield {**labels, **pod}
    else:
        yield labels


def _spec(node: Node) -> dict[str, Any]:
    spec = node.attrs.get("spec")
    return spec if isinstance(spec, dict) else {}


def kustomize_patch_files(graph: Graph) -> set[str]:
    """Files that kustomizations of the scan apply as patches (paths relative to the scan root)."""
    files: set[str] = set()
    for kustomization in graph.of_kind("k8s/Kustomization"):
        folder = posixpath.dirname(kustomization.path)
        attrs = kustomization.attrs
        entries: list[Any] = []
        for key in ("patches", "patchesJson6902"):
            entries += [item.get("path") for item in attrs.get(key) or [] if isinstance(item, dict)]
        entries += list(attrs.get("patchesStrategicMerge") or [])
        for entry in entries:
            if isinstance(entry, str) and "\n" not in entry:  # inline patches hold YAML text
                files.add(posixpath.normpath(posixpath.join(folder, entry)))
    return files


def mark_patches(graph: Graph) -> None:
    """A patch states only what it changes: it is judged merged, in the rendered output."""
    patch_files = kustomize_patch_files(graph)
    if not patch_files:
        return
    for node in graph.nodes.values():
        if node.path in patch_files and node.kind.startswith("k8s/"):
            node.facts["patch"] = True


def link(graph: Graph) -> None:
    mark_patches(graph)
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
            for workload in nearest(hpa, find(graph, str(target.get("kind")), hpa.facts["namespace"], target["name"])):
                graph.link(hpa, workload, "scales")

    for ingress in graph.of_kind("k8s/Ingress"):
        for backend, _path in ingress_backends(ingress):
            for service in nearest(ingress, find(graph, "Service", ingress.facts["namespace"], backend["service"])):
                graph.link(ingress, service, "routes_to", port=backend.get("port"))

    # KEDA drives an HPA of its own; its ScaledObject states the replica floor.
    for scaled in graph.of_kind("k8s/ScaledObject"):
        target = _spec(scaled).get("scaleTargetRef")
        if isinstance(target, dict) and isinstance(target.get("name"), str):
            kind = str(target.get("kind") or "Deployment")
            for workload in nearest(scaled, find(graph, kind, scaled.facts["namespace"], target["name"])):
                graph.link(scaled, workload, "scales")

    for workload in graph.of_kind("k8s/workload"):
        for ref in workload_references(workload):
            for target in nearest(workload, find(graph, ref.kind, workload.facts["namespace"], ref.name)):
                graph.link(workload, target, "references", path=ref.path, optional=ref.optional)


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


class Reference(NamedTuple):
    """A workload's use of a ConfigMap, Secret or ServiceAccount by name."""

    kind: str
    name: str
    path: tuple[Any, ...]  # of the name, inside the workload object
    optional: bool


def _named(ref: Any, key: str = "name") -> str | None:
    if isinstance(ref, dict) and isinstance(ref.get(key), str) and ref[key]:
        return str(ref[key])
    return None


def _optional(ref: Any) -> bool:
    return isinstance(ref, dict) and ref.get("optional") is True


def _dict_at(data: Any, key: Any) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _items(data: Any, key: str) -> Iterator[tuple[int, Any]]:
    value = data.get(key) if isinstance(data, dict) else None
    if isinstance(value, list):
        yield from enumerate(value)


def _pod_spec(workload: Node) -> tuple[dict[str, Any], tuple[Any, ...]]:
    path = tuple(workload.facts.get("pod_spec_path") or ())
    data: Any = workload.attrs
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return (data if isinstance(data, dict) else {}), path


def workload_references(workload: Node) -> Iterator[Reference]:
    """Every ConfigMap, Secret and ServiceAccount a workload's pod spec names.

    Volumes (plain and projected), env valueFrom, envFrom, imagePullSecrets and the
    service account; paths point at the name so findings land on the line at fault.
    """
    spec, base = _pod_spec(workload)
    yield from _volume_references(spec, base)
    for field_name in ("initContainers", "containers", "ephemeralContainers"):
        for index, container in _items(spec, field_name):
            yield from _container_references(container, (*base, field_name, index))
    for index, pull in _items(spec, "imagePullSecrets"):
        name = _named(pull)
        if name:
            yield Reference("Secret", name, (*base, "imagePullSecrets", index, "name"), False)
    for key in ("serviceAccountName", "serviceAccount"):
        account = spec.get(key)
        if isinstance(account, str) and account:
            yield Reference("ServiceAccount", account, (*base, key), False)
            break


def _volume_references(spec: dict[str, Any], base: tuple[Any, ...]) -> Iterator[Reference]:
    for index, volume in _items(spec, "volumes"):
        at = (*base, "volumes", index)
        config_map = _dict_at(volume, "configMap")
        if _named(config_map):
            yield Reference("ConfigMap", config_map["name"], (*at, "configMap", "name"), _optional(config_map))
        secret = _dict_at(volume, "secret")
        if _named(secret, "secretName"):
            yield Reference("Secret", secret["secretName"], (*at, "secret", "secretName"), _optional(secret))
        for s_index, source in _items(_dict_at(volume, "projected"), "sources"):
            for key, kind in (("configMap", "ConfigMap"), ("secret", "Secret")):
                ref = _dict_at(source, key)
                if _named(ref):
                    path = (*at, "projected", "sources", s_index, key, "name")
                    yield Reference(kind, ref["name"], path, _optional(ref))


def _container_references(container: Any, at: tuple[Any, ...]) -> Iterator[Reference]:
    for index, env in _items(container, "env"):
        value_from = _dict_at(env, "valueFrom")
        for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
            ref = _dict_at(value_from, key)
            if _named(ref):
                yield Reference(kind, ref["name"], (*at, "env", index, "valueFrom", key, "name"), _optional(ref))
    for index, source in _items(container, "envFrom"):
        for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            ref = _dict_at(source, key)
            if _named(ref):
                yield Reference(kind, ref["name"], (*at, "envFrom", index, key, "name"), _optional(ref))


SELECTOR_REQUIRED = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})


def looks_like_patch(node: Node) -> bool:
    """An apps/v1 controller without the selector the API requires: a kustomize patch, not a whole object.

    Patches state only what they change, so "missing" fields say nothing about what is deployed.
    """
    facts = node.facts
    if facts.get("patch"):
        return True
    return facts["apiVersion"] == "apps/v1" and facts["kind"] in SELECTOR_REQUIRED and not _spec(node).get("selector")


def declared_replicas(node: Node) -> int | None:
    """spec.replicas as written: 1 when absent, None when it is not a number (an envsubst `${REPLICAS}`)."""
    spec = _spec(node)
    if "replicas" not in spec:
        return 1
    value = spec["replicas"]
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def min_replicas(scaler: Node) -> int:
    """The replica floor an autoscaler keeps: HPA minReplicas (default 1), KEDA minReplicaCount (default 0)."""
    spec = _spec(scaler)
    if scaler.facts["kind"] == "ScaledObject":
        value, default = spec.get("minReplicaCount"), 0
    else:
        value, default = spec.get("minReplicas"), 1
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def replica_floor(graph: Graph, workload: Node) -> int | None:
    """Fewest replicas a workload runs: an autoscaler's minimum overrides spec.replicas.

    None for workloads without a replica count (DaemonSet, Job, Pod ...).
    """
    scalers = graph.incoming(workload, "scales")
    if scalers:
        return max(min_replicas(scaler) for scaler in scalers)
    if "replicas" not in workload.facts:
        return None
    return declared_replicas(workload)


K8S_GENERATED = "k8s_generated"


def defined_elsewhere(graph: Graph, kind: str, namespace: str | None, name: str) -> bool:
    """Whether another object of the scan makes this ConfigMap or Secret at deploy time.

    kustomize generators, SealedSecrets, ExternalSecrets and cert-manager Certificates create
    them, so a workload naming one is not left dangling.
    """
    generated = graph.indexes.get(K8S_GENERATED)
    if generated is None:
        generated = graph.indexes[K8S_GENERATED] = _generated_objects(graph)
    if any(same_namespace(ns, namespace) for ns in generated.get((kind, name), ())):
        return True
    return kind == "Secret" and made_by_operator(graph, namespace, name)


def made_by_operator(graph: Graph, namespace: str | None, name: str) -> bool:
    """Whether a custom resource of the scan likely makes the object of this name.

    Operators name what they make after their resource: Secrets `<user>.<cluster>.credentials...`
    (Zalando), `<cluster>-app` (CloudNativePG), `redb-<database>` (Redis Enterprise), `<user>`
    (Strimzi), Services `<kibana>-kb-http` (ECK).
    """
    for node in graph.of_kind("k8s/object"):
        if not _is_custom(node) or not same_namespace(node.facts["namespace"], namespace):
            continue
        custom = re.escape(node.facts["name"])
        if re.search(rf"(?:^|[.-]){custom}(?:$|[.-])", name):
            return True
    return False


def _generated_objects(graph: Graph) -> dict[tuple[str, str], list[str | None]]:
    generated: dict[tuple[str, str], list[str | None]] = defaultdict(list)
    for node in graph.of_kind("k8s/object"):
        namespace = node.facts["namespace"]
        for kind, name, ns in _generates(node):
            generated[(kind, name)].append(ns if ns is not None else namespace)
    return generated


def _generates(node: Node) -> Iterator[tuple[str, str, str | None]]:
    kind, attrs, spec = node.facts["kind"], node.attrs, _spec(node)
    if kind == "Kustomization":
        default_ns = attrs.get("namespace") if isinstance(attrs.get("namespace"), str) else None
        for key, made in (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")):
            for _index, item in _items(attrs, key):
                name = _named(item)
                if name:
                    ns = item.get("namespace")
                    yield made, name, ns if isinstance(ns, str) else default_ns
    elif kind == "SealedSecret":
        yield "Secret", node.facts["name"], None
        name = _named(_dict_at(_dict_at(spec, "template"), "metadata"))
        if name:
            yield "Secret", name, None
    elif kind == "ExternalSecret":
        yield "Secret", _named(_dict_at(spec, "target")) or node.facts["name"], None
    elif kind == "Certificate" and isinstance(spec.get("secretName"), str):
        yield "Secret", spec["secretName"], None


K8S_POD_RUNNING_CRS = "k8s_pod_running_custom_resources"
BUILTIN_GROUPS = frozenset(
    {
        "",
        "apps",
        "batch",
        "autoscaling",
        "policy",
        "extensions",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "apiextensions.k8s.io",
        "admissionregistration.k8s.io",
        "apiregistration.k8s.io",
        "scheduling.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "node.k8s.io",
        "certificates.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "resource.k8s.io",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "kustomize.config.k8s.io",
    }
)
# Keys that give away a custom resource whose operator runs pods (databases, Ray, LeaderWorkerSet ...).
POD_HINT_KEYS = frozenset(
    {"containers", "template", "podTemplate", "replicas", "instances", "numberOfInstances", "image", "imageName"}
)


def pod_running_custom_resources(graph: Graph, namespace: str | None) -> list[Node]:
    """Custom resources in a compatible namespace whose operator likely runs pods the scan cannot see.

    Selectors may match those pods, so "selects nothing" cannot be judged next to them.
    """
    found = graph.indexes.get(K8S_POD_RUNNING_CRS)
    if found is None:
        found = graph.indexes[K8S_POD_RUNNING_CRS] = [
            node for node in graph.of_kind("k8s/object") if _is_custom(node) and _mentions_pods(_spec(node), 4)
        ]
    return [node for node in found if same_namespace(node.facts["namespace"], namespace)]


def _is_custom(node: Node) -> bool:
    api_version = str(node.facts["apiVersion"])
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    return group not in BUILTIN_GROUPS


def _mentions_pods(data: Any, depth: int) -> bool:
    if depth < 0:
        return False
    if isinstance(data, dict):
        return any(key in POD_HINT_KEYS or _mentions_pods(value, depth - 1) for key, value in data.items())
    if isinstance(data, list):
        return any(_mentions_pods(item, depth - 1) for item in data[:20])
    return False
