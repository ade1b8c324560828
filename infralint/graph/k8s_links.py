"""Kubernetes edges: what selects, routes to, scales and references what."""

from __future__ import annotations

import functools
import posixpath
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from infralint.graph.k8s_run_time_labels import run_time_labels
from infralint.graph.model import RENDER_SCOPE, Graph, Node
from infralint.parsers.result import dig

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


def selector_requirement_matches(requirement: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether labels meet one matchExpressions entry (a matchLabels pair is `In` its one value)."""
    return _expression_matches(requirement, labels)


def is_empty_selector(selector: Any) -> bool:
    return isinstance(selector, dict) and not selector.get("matchLabels") and not selector.get("matchExpressions")


def find(graph: Graph, kind: str, namespace: str | None, name: str) -> list[Node]:
    candidates = graph.indexes[K8S_BY_NAME].get((kind, name), ())
    return [node for node in candidates if same_namespace(node.facts["namespace"], namespace)]


K8S_NAMESPACES_BY_NAME = "k8s_namespaces_by_name"


def exists(graph: Graph, kind: str, namespace: str | None, name: str) -> bool:
    """Whether ``find`` finds anything, without looking at every object of that name."""
    table = graph.indexes.get(K8S_NAMESPACES_BY_NAME)
    if table is None:
        table = graph.indexes[K8S_NAMESPACES_BY_NAME] = defaultdict(set)
        for (kind_, name_), nodes in graph.indexes[K8S_BY_NAME].items():
            table[(kind_, name_)].update(node.facts["namespace"] for node in nodes)
    namespaces = table.get((kind, name), set())
    return bool(namespaces) and (namespace is None or None in namespaces or namespace in namespaces)


K8S_PATCHES_BY_NAME = "k8s_patches_by_name"


def patches_of(graph: Graph, kind: str, namespace: str | None, name: str) -> list[Node]:
    """The kustomize patches in the scan for an object (few, however many objects share a name)."""
    table = graph.indexes.get(K8S_PATCHES_BY_NAME)
    if table is None:
        table = graph.indexes[K8S_PATCHES_BY_NAME] = defaultdict(list)
        for key, nodes in graph.indexes[K8S_BY_NAME].items():
            table[key].extend(node for node in nodes if looks_like_patch(node))
    return [node for node in table.get((kind, name), ()) if same_namespace(node.facts["namespace"], namespace)]


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
    for part_a, part_b in zip(_folders(a), _folders(b), strict=False):
        if part_a != part_b:
            break
        shared += 1
    return (not looks_like_patch(other), a == b, shared)


@functools.lru_cache(maxsize=1 << 16)
def _folders(path: str) -> tuple[str, ...]:
    """The folders of a file's path, cached: a selector ranks many workloads of the same files."""
    return tuple(path.split("/")[:-1])


_OWN_NAMESPACE = "\x00own"


def nearest_named(graph: Graph, node: Node, kind: str, name: str, namespace: str | None = _OWN_NAMESPACE) -> list[Node]:
    """``nearest(node, find(graph, kind, namespace, name))``, without ranking every one of a name
    many apps use: the search goes from the node's folder outwards. The namespace defaults to the
    node's own."""
    if namespace == _OWN_NAMESPACE:
        namespace = node.facts.get("namespace")
    candidates = graph.indexes[K8S_BY_NAME].get((kind, name), ())
    if len(candidates) <= FEW_CANDIDATES:
        return nearest(node, [other for other in candidates if same_namespace(other.facts["namespace"], namespace)])
    by_folder = graph.indexes.setdefault(K8S_BY_NAME_AND_FOLDER, {})
    if (kind, name) not in by_folder:
        by_folder[(kind, name)] = _by_folder(candidates)
    return _nearest_accepted(
        node,
        by_folder[(kind, name)],
        lambda other: same_namespace(other.facts["namespace"], namespace),
        limit=MAX_NAME_MATCHES,
    )


FEW_CANDIDATES = 8  # ranking this many is cheaper than indexing them by folder
# A name means one object per namespace; equally near objects of one name are kustomize bases
# and overlays, a handful at most. Past this many, a name is not followed further (thousands of
# ConfigMaps named alike, each referenced by thousands of workloads, would be millions of edges).
MAX_NAME_MATCHES = 16
K8S_BY_NAME_AND_FOLDER = "k8s_by_name_and_folder"


def _by_folder(nodes: Iterable[Node]) -> dict[tuple[str, ...], list[Node]]:
    """The nodes under each folder (as a tuple of folder names) at any depth, in their order,
    and those of each file (under _file_key)."""
    found: dict[tuple[str, ...], list[Node]] = defaultdict(list)
    for node in nodes:
        folders = _folders(node.path)
        for depth in range(len(folders) + 1):
            found[folders[:depth]].append(node)
        found[_file_key(node.path)].append(node)
    return found


def _file_key(path: str) -> tuple[str, ...]:
    """A file's entry in a _by_folder table: no folder tuple can end with a NUL-marked name."""
    return (*_folders(path), "\x00" + path)


def nearest_selected(
    graph: Graph,
    node: Node,
    selector: Any,
    plain: bool = False,
    looked_at: list[int] | None = None,
    matches: Callable[[Node], bool] | None = None,
    other_renders: bool = False,
) -> list[Node]:
    """The workloads ``node`` selects, in scan order: those of its own namespace, and of the rest
    the nearest (as ``nearest`` ranks them).

    When either side has no namespace the match rests on a guess (it gets one at deploy time),
    so, as for names, only the closest matches in the file tree count: two apps of a monorepo
    that both label their pods `app: web` do not select each other's pods.
    ``looked_at``, when given, has the number of candidate workloads examined added to it.
    ``matches``, when given, judges each candidate the selector's labels found instead of the
    selector itself. Only workloads of the node's own render (or, for a plain manifest, plain
    workloads) are candidates, as only they can be linked; ``other_renders`` asks for the
    workloads of the other renders and plain files instead.
    """
    namespace = node.facts["namespace"]
    if not isinstance(selector, dict) or (plain and not selector):
        return []
    index = _workload_index(graph)
    label = _rarest_label(index, selector, plain)
    labels_match = matches or _matcher(selector, plain)
    scope = node.facts.get(RENDER_SCOPE)

    def accept(workload: Node) -> bool:
        return (workload.facts.get(RENDER_SCOPE) != scope) is other_renders and labels_match(workload)

    certain: list[Node] = []  # the selector's own namespace: no guess
    if namespace is not None:
        candidates = index.by_label_namespace.get((label, namespace), ())
        certain = [workload for workload in candidates if accept(workload)]
        if looked_at is not None:
            looked_at[0] += len(candidates)

    def guess(workload: Node) -> bool:
        return (namespace is None or workload.facts["namespace"] is None) and accept(workload)

    guessed = _nearest_accepted(node, index.by_folder(label), guess, looked_at)
    return sorted(certain + guessed, key=lambda workload: index.position[id(workload)])


def _matcher(selector: dict[Any, Any], plain: bool) -> Callable[[Node], bool]:
    ordinals = bool(_selector_keys(selector) & ORDINAL_LABELS)
    return lambda workload: _workload_matches(workload, selector, plain, ordinals)


def _nearest_accepted(
    node: Node,
    by_folder: dict[tuple[str, ...], list[Node]],
    accept: Callable[[Node], bool],
    looked_at: list[int] | None = None,
    limit: int | None = None,
) -> list[Node]:
    """``nearest(node, accepted)`` for the workloads of ``by_folder`` that ``accept`` takes, found
    from the closest folder outwards: the search stops at the first folder holding a match, and
    at ``limit`` matches when one is given."""
    verdicts: dict[int, tuple[bool, bool]] = {}  # accepted, whole object (not a patch)

    def verdict(workload: Node) -> tuple[bool, bool]:
        found = verdicts.get(id(workload))
        if found is None:
            found = verdicts[id(workload)] = (accept(workload), not looks_like_patch(workload))
            if looked_at is not None:
                looked_at[0] += 1
        return found

    folders = _folders(node.path)
    prefixes = [folders[:depth] for depth in range(len(folders), -1, -1)]  # deepest first
    same_file = by_folder.get(_file_key(node.path), ())
    patches: list[Node] = []  # the nearest accepted patches, in case no whole object is accepted
    for group in (same_file, *(by_folder.get(prefix, ()) for prefix in prefixes)):
        whole: list[Node] = []
        accepted_patches: list[Node] = []
        for other in group:
            taken, is_whole = verdict(other)
            if taken:
                (whole if is_whole else accepted_patches).append(other)
                if limit is not None and len(whole) >= limit:
                    break
        if whole:
            return whole
        if not patches:
            patches = accepted_patches[:limit]
    return patches


def selected_workloads(graph: Graph, namespace: str | None, selector: Any, plain: bool = False) -> Iterator[Node]:
    """Workloads in a compatible namespace whose pods ``selector`` matches, in scan order.

    ``plain`` is a Service's selector (a plain map; empty selects nothing). Candidates come from
    the label index through the selector's rarest label; only selectors without a usable label
    (expressions only, empty, pod names) look at every workload.
    """
    if not isinstance(selector, dict) or (plain and not selector):
        return
    ordinals = bool(_selector_keys(selector) & ORDINAL_LABELS)
    index = _workload_index(graph)
    candidates = index.by_label.get(_rarest_label(index, selector, plain), ())
    for workload in candidates:
        if same_namespace(workload.facts["namespace"], namespace) and _workload_matches(
            workload, selector, plain, ordinals
        ):
            yield workload


K8S_WORKLOAD_INDEX = "k8s_workloads_by_pod_label"
Label = tuple[str, str] | None  # a (key, value) pod label; None stands for all workloads


class WorkloadIndex:
    """Workloads by each label all their pods carry, so a selector looks only at workloads
    with its rarest label rather than at every one (None: every workload)."""

    def __init__(self, graph: Graph) -> None:
        self.position: dict[int, int] = {}  # id(workload) -> its place in scan order
        self.by_label: dict[Label, list[Node]] = defaultdict(list)
        self.by_label_namespace: dict[tuple[Label, str], list[Node]] = defaultdict(list)
        self._by_folder: dict[Label, dict[tuple[str, ...], list[Node]]] = {}
        for position, workload in enumerate(w for w in graph.of_kind("k8s/workload") if runs_pods(w)):
            self.position[id(workload)] = position
            namespace = workload.facts["namespace"]
            for label in (None, *_base_labels(workload).items()):
                self.by_label[label].append(workload)
                if namespace is not None:
                    self.by_label_namespace[(label, namespace)].append(workload)

    def by_folder(self, label: Label) -> dict[tuple[str, ...], list[Node]]:
        """The workloads with this label under each folder (as folder names), at any depth."""
        found = self._by_folder.get(label)
        if found is None:
            found = self._by_folder[label] = _by_folder(self.by_label.get(label, ()))
        return found


def _workload_index(graph: Graph) -> WorkloadIndex:
    index = graph.indexes.get(K8S_WORKLOAD_INDEX)
    if index is None:
        index = graph.indexes[K8S_WORKLOAD_INDEX] = WorkloadIndex(graph)
    return index


def _rarest_label(index: WorkloadIndex, selector: dict[Any, Any], plain: bool) -> Label:
    """The label the selector requires that fewest workloads carry; None when it requires none
    the index holds (matchExpressions only, empty, pod names only)."""
    labels = _required_labels(selector, plain)
    return min(labels, key=lambda label: len(index.by_label.get(label, ())), default=None)


def _required_labels(selector: dict[Any, Any], plain: bool) -> list[tuple[str, str]]:
    """The label equalities a selector requires, but for pod names and ordinals (not indexed)."""
    required: Any = selector
    if not plain:
        required = selector.get("matchLabels")
        if required is None and selector.get("matchExpressions") is None:
            required = selector  # a plain map where a LabelSelector is expected
    if not isinstance(required, dict):
        return []
    return [(str(key), str(value)) for key, value in required.items() if str(key) not in ORDINAL_LABELS]


def _workload_matches(workload: Node, selector: dict[Any, Any], plain: bool, ordinals: bool) -> bool:
    labels = _base_labels(workload)
    if not ordinals or workload.facts["kind"] != "StatefulSet":
        return _labels_match(selector, labels, plain)
    name = workload.facts["name"]
    return any(
        _labels_match(selector, {**labels, **_pod_labels(name, ordinal)}, plain)
        for ordinal in _telling_ordinals(workload, selector)
    )


def _labels_match(selector: dict[Any, Any], labels: dict[str, str], plain: bool) -> bool:
    if plain:
        return all(labels.get(str(key)) == str(value) for key, value in selector.items())
    return selector_matches(selector, labels)


def _telling_ordinals(workload: Node, selector: dict[Any, Any]) -> list[int]:
    """The ordinals whose pods could differ in matching ``selector``, instead of all of them.

    Every pod whose name and index the selector does not mention matches it the same way, so
    the ordinals it names (within the replica count) and one it does not name decide.
    """
    name, count = workload.facts["name"], _ordinal_count(workload)
    named = set()
    for value in _ordinal_values(selector):
        ordinal = _parse_ordinal(value, name)
        if ordinal is not None and ordinal < count:
            named.add(ordinal)
    unnamed = next((ordinal for ordinal in range(count) if ordinal not in named), None)
    return sorted(named) + ([] if unnamed is None else [unnamed])


def _ordinal_values(selector: dict[Any, Any]) -> Iterator[str]:
    for key, value in selector.items():
        if str(key) in ORDINAL_LABELS:
            yield str(value)
    match_labels = selector.get("matchLabels")
    if isinstance(match_labels, dict):
        yield from (str(value) for key, value in match_labels.items() if str(key) in ORDINAL_LABELS)
    expressions = selector.get("matchExpressions")
    for expression in expressions if isinstance(expressions, list) else ():
        if isinstance(expression, dict) and str(expression.get("key")) in ORDINAL_LABELS:
            yield from (str(value) for value in expression.get("values") or [])


def _parse_ordinal(value: str, name: str) -> int | None:
    """3 from the pod name `<name>-3` or the index `3`."""
    digits = value.removeprefix(f"{name}-")
    if digits.isascii() and digits.isdecimal() and len(digits) < 10:
        return int(digits)
    return None


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


def _base_labels(workload: Node) -> dict[str, str]:
    """The labels every pod of a workload carries: the template's, plus the Job controller's (and
    OpenShift's `deploymentconfig`, the name of the DeploymentConfig)."""
    labels: dict[str, str] = workload.facts.get("pod_labels", {})
    if workload.facts["kind"] == "Job":
        name = workload.facts["name"]
        return {**labels, "job-name": name, "batch.kubernetes.io/job-name": name}
    if workload.facts["kind"] == "DeploymentConfig":
        return {**labels, "deploymentconfig": workload.facts["name"]}
    return labels


def _ordinal_count(workload: Node) -> int:
    replicas = declared_replicas(workload)
    return MAX_ORDINALS if replicas is None else min(max(replicas, 1), MAX_ORDINALS)


def _pod_labels(name: str, ordinal: int) -> dict[str, str]:
    return {"statefulset.kubernetes.io/pod-name": f"{name}-{ordinal}", "apps.kubernetes.io/pod-index": str(ordinal)}


def pod_label_sets(workload: Node, ordinals: bool = True) -> Iterator[dict[str, str]]:
    """The label sets a workload's pods carry: the template's, plus what the controller adds.

    The Job controller labels its pods with the Job's name, and a StatefulSet labels each pod
    with its own name and ordinal; Services and budgets select by those too. Without
    ``ordinals`` a StatefulSet yields its template labels once (selectors that do not name a pod).
    """
    labels = _base_labels(workload)
    if workload.facts["kind"] == "StatefulSet" and ordinals:
        name = workload.facts["name"]
        for ordinal in range(_ordinal_count(workload)):
            yield {**labels, **_pod_labels(name, ordinal)}
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


def mark_kustomize_selectors(graph: Graph) -> None:
    """Workloads whose selector kustomize writes: `commonLabels` (and `labels` with
    includeSelectors) add a selector to every workload the kustomization builds, making one
    where there is none. Marks them (fact `kustomize_selector`) when the build is not run."""
    kustomizations = list(graph.of_kind("k8s/Kustomization"))
    if not kustomizations:
        return
    by_folder = {posixpath.dirname(node.path): node for node in kustomizations}
    files: set[str] = set()
    for kustomization in kustomizations:
        if _writes_selectors(kustomization.attrs):
            files |= _built_files(kustomization, by_folder, set())
    for node in graph.of_kind("k8s/workload"):
        if node.path in files:
            node.facts["kustomize_selector"] = True


def _writes_selectors(attrs: dict[str, Any]) -> bool:
    if isinstance(attrs.get("commonLabels"), dict) and attrs["commonLabels"]:
        return True
    labels = attrs.get("labels")
    return any(
        isinstance(entry, dict) and entry.get("includeSelectors") is True and entry.get("pairs")
        for entry in (labels if isinstance(labels, list) else ())
    )


def _built_files(kustomization: Node, by_folder: dict[str, Node], seen: set[str]) -> set[str]:
    """The files a kustomization's resources and components name, through the kustomizations
    of the folders they name (read as written, not built)."""
    folder = posixpath.dirname(kustomization.path)
    if folder in seen:
        return set()
    seen.add(folder)
    files: set[str] = set()
    for key in ("resources", "bases", "components"):
        entries = kustomization.attrs.get(key)
        for entry in entries if isinstance(entries, list) else ():
            if not isinstance(entry, str) or "://" in entry:
                continue
            target = posixpath.normpath(posixpath.join(folder, entry))
            inner = by_folder.get(target)
            if inner is not None:
                files |= _built_files(inner, by_folder, seen)
            else:
                files.add(target)
    return files


def link(graph: Graph) -> None:
    mark_patches(graph)
    mark_kustomize_selectors(graph)
    by_name: dict[tuple[str, str], list[Node]] = defaultdict(list)
    for node in graph.of_kind("k8s/object"):
        by_name[(node.facts["kind"], node.facts["name"])].append(node)
    graph.indexes[K8S_BY_NAME] = by_name

    _link_selectors(graph)

    for hpa in graph.of_kind("k8s/HorizontalPodAutoscaler"):
        target = _spec(hpa).get("scaleTargetRef")
        if isinstance(target, dict) and isinstance(target.get("name"), str):
            for workload in nearest_named(graph, hpa, str(target.get("kind")), target["name"]):
                graph.link(hpa, workload, "scales")

    for ingress in graph.of_kind("k8s/Ingress"):
        for backend, _path in ingress_backends(ingress):
            for service in nearest_named(graph, ingress, "Service", backend["service"]):
                graph.link(ingress, service, "routes_to", port=backend.get("port"))

    # KEDA drives an HPA of its own; its ScaledObject states the replica floor.
    for scaled in graph.of_kind("k8s/ScaledObject"):
        target = _spec(scaled).get("scaleTargetRef")
        if isinstance(target, dict) and isinstance(target.get("name"), str):
            kind = str(target.get("kind") or "Deployment")
            for workload in nearest_named(graph, scaled, kind, target["name"]):
                graph.link(scaled, workload, "scales")

    # An Argo Rollout with spec.workloadRef runs the pods of that Deployment's template, with its own
    # replica count (the Deployment itself is scaled down), or its autoscaler's: those scale the
    # Deployment's pods. Not linked when the count is a placeholder.
    for rollout in graph.of_kind("k8s/Rollout"):
        ref = _spec(rollout).get("workloadRef")
        if not (str(rollout.facts["apiVersion"]).startswith("argoproj.io/") and isinstance(ref, dict) and _named(ref)):
            continue
        scalers = graph.incoming(rollout, "scales") or ([rollout] if declared_replicas(rollout) is not None else [])
        for workload in nearest_named(graph, rollout, str(ref.get("kind") or "Deployment"), ref["name"]):
            for scaler in scalers:
                graph.link(scaler, workload, "scales")

    for workload in graph.of_kind("k8s/workload"):
        for ref in workload_references(workload):
            for target in nearest_named(graph, workload, ref.kind, ref.name):
                graph.link(workload, target, "references", path=ref.path, optional=ref.optional)

    link_rbac(graph)


# What linking selectors may cost in a scan: candidate workloads looked at plus pairs linked,
# at most 100 per Kubernetes object scanned and never less than a million. Real trees stay far
# below (30,000 files copied from the corpus need 130,000; a namespace of 500 workloads with 50
# catch-all NetworkPolicies, 25,000); 5,000 Services selecting the same 5,000 pods would need
# 25 million edges, and minutes and gigabytes to build and judge them.
MIN_SELECTOR_WORK = 1_000_000
SELECTOR_WORK_PER_OBJECT = 100
K8S_SELECTORS_SKIPPED = "k8s_selectors_skipped"
# (kind, where its pod selector is in spec, a plain map as Services have it)
_SELECTORS: tuple[tuple[str, str, bool], ...] = (
    ("k8s/Service", "selector", True),
    ("k8s/PodDisruptionBudget", "selector", False),
    ("k8s/NetworkPolicy", "podSelector", False),
)


def _link_selectors(graph: Graph) -> None:
    """Services, PodDisruptionBudgets and NetworkPolicies `selects` the workloads whose pods they
    match; past selector_budget() none is linked (graph.indexes[K8S_SELECTORS_SKIPPED] holds
    the selector where the budget ran out), so no rule judges from part of them."""
    budget = selector_budget(graph)
    work = [0]  # candidate workloads looked at, and pairs found
    found: list[tuple[Node, list[Node]]] = []
    at_run_time: dict[tuple[str, str], dict[str, str]] = {}
    in_other_renders: dict[str, list[Node]] = {}
    for kind, key, plain in _SELECTORS:
        for node in graph.of_kind(kind):
            selector = _spec(node).get(key)
            if not isinstance(selector, dict) or (plain and not selector):
                continue
            selected = nearest_selected(graph, node, selector, plain=plain, looked_at=work)
            if not selected:
                selected, missing = _selected_at_run_time(graph, node, selector, plain, work)
                at_run_time.update({(node.id, workload_id): labels for workload_id, labels in missing.items()})
            if not selected:
                elsewhere = nearest_selected(graph, node, selector, plain=plain, looked_at=work, other_renders=True)
                if elsewhere:
                    in_other_renders[node.id] = elsewhere
            work[0] += len(selected)
            if work[0] > budget:
                graph.indexes[K8S_SELECTORS_SKIPPED] = node
                return
            found.append((node, selected))
    graph.indexes[K8S_RUN_TIME_MATCHES] = at_run_time
    graph.indexes[K8S_SELECTED_IN_OTHER_RENDERS] = in_other_renders
    for node, selected in found:
        for workload in selected:
            graph.link(node, workload, "selects")


K8S_RUN_TIME_MATCHES = "k8s_selected_by_run_time_labels"
K8S_SELECTED_IN_OTHER_RENDERS = "k8s_selected_in_other_renders"


def selected_in_other_renders(graph: Graph, selector_node: Node) -> list[Node]:
    """The workloads a selector that selects nothing in its own deployment would match in another:
    a plain Service beside a kustomize root that does not list it, whose Deployment the root
    renders. Graph.link never joins the two; whether they are applied together is not known."""
    return list(graph.indexes.get(K8S_SELECTED_IN_OTHER_RENDERS, {}).get(selector_node.id, ()))


def selectors_of(graph: Graph, workload: Node, kind: str) -> list[Node]:
    """The selectors of ``kind`` (k8s/Service ...) that select ``workload``, in its own deployment
    or, for a workload no such selector links, from another render or plain file."""
    linked = [node for node in graph.incoming(workload, "selects") if kind in node.kinds]
    if linked:
        return linked
    table = graph.indexes.get(K8S_SELECTORS_BY_OTHER_RENDERS)
    if table is None:
        table = graph.indexes[K8S_SELECTORS_BY_OTHER_RENDERS] = defaultdict(list)
        for node_id, workloads in graph.indexes.get(K8S_SELECTED_IN_OTHER_RENDERS, {}).items():
            for other in workloads:
                table[other.id].append(graph.nodes[node_id])
    return [node for node in table.get(workload.id, ()) if kind in node.kinds]


K8S_SELECTORS_BY_OTHER_RENDERS = "k8s_selectors_by_other_renders"
K8S_RUN_TIME_LABELS = "k8s_run_time_labels_by_workload"
K8S_RUN_TIME_KEYS = "k8s_run_time_label_keys"


def labels_set_at_run_time(graph: Graph, selector_node: Node, workload: Node) -> dict[str, str]:
    """The labels (key: who sets it) through which ``selector_node`` selects ``workload``'s pods
    that its pod template does not carry; empty when the template's labels match on their own."""
    return dict(graph.indexes.get(K8S_RUN_TIME_MATCHES, {}).get((selector_node.id, workload.id), {}))


def _selected_at_run_time(
    graph: Graph, node: Node, selector: dict[Any, Any], plain: bool, looked_at: list[int]
) -> tuple[list[Node], dict[str, dict[str, str]]]:
    """The workloads a selector that matches no pod template matches once the pods run: every
    label it asks for that the template lacks is one a controller or the app sets on the pods
    (see k8s_run_time_labels), and the rest of the selector matches the template.
    Returns the workloads and, by workload id, the labels their templates lack."""
    by_workload = _run_time_labels_by_workload(graph)
    possible = _selector_keys(selector) & graph.indexes[K8S_RUN_TIME_KEYS]
    if not possible:
        return [], {}
    anchored = _without_keys(selector, possible, plain)
    if plain:  # candidates are looked up by the labels left, which may be none (all workloads)
        anchored = {"matchLabels": anchored}
    found: dict[str, dict[str, str]] = {}

    def matches(workload: Node) -> bool:
        absent = {key for key in possible if key not in _base_labels(workload)}
        run_time = by_workload.get(workload.id, {})
        if not absent or not absent <= run_time.keys():
            return False
        rest = _without_keys(selector, absent, plain)
        if not _workload_matches(workload, rest, plain, bool(_selector_keys(rest) & ORDINAL_LABELS)):
            return False
        found[workload.id] = {key: run_time[key] for key in sorted(absent)}
        return True

    selected = nearest_selected(graph, node, anchored, looked_at=looked_at, matches=matches)
    return selected, {workload.id: found[workload.id] for workload in selected}


def _without_keys(selector: dict[Any, Any], keys: set[str], plain: bool) -> dict[Any, Any]:
    """The selector without its requirements on ``keys``."""
    if plain or ("matchLabels" not in selector and "matchExpressions" not in selector):
        return {key: value for key, value in selector.items() if str(key) not in keys}
    reduced = dict(selector)
    match_labels = selector.get("matchLabels")
    if isinstance(match_labels, dict):
        reduced["matchLabels"] = {key: value for key, value in match_labels.items() if str(key) not in keys}
    expressions = selector.get("matchExpressions")
    if isinstance(expressions, list):
        reduced["matchExpressions"] = [
            item for item in expressions if not (isinstance(item, dict) and str(item.get("key")) in keys)
        ]
    return reduced


def _run_time_labels_by_workload(graph: Graph) -> dict[str, dict[str, str]]:
    """For each workload whose pods get labels at run time, those labels (key: who sets them)."""
    table = graph.indexes.get(K8S_RUN_TIME_LABELS)
    if table is None:
        table = graph.indexes[K8S_RUN_TIME_LABELS] = {}
        for workload in graph.of_kind("k8s/workload"):
            owner = dig(workload.attrs, tuple(workload.facts.get("pod_spec_path") or ())[:-2])
            containers = [child.attrs for child in graph.children(workload) if "k8s/container" in child.kinds]
            labels = run_time_labels(workload.facts["kind"], owner if isinstance(owner, dict) else {}, containers)
            if labels:
                table[workload.id] = labels
        graph.indexes[K8S_RUN_TIME_KEYS] = {key for labels in table.values() for key in labels}
    return table


def selector_budget(graph: Graph) -> int:
    return max(MIN_SELECTOR_WORK, SELECTOR_WORK_PER_OBJECT * sum(1 for _ in graph.of_kind("k8s/object")))


def selectors_linked(graph: Graph) -> bool:
    """Whether every selector was linked (False when the scan was too dense: see selector_budget)."""
    return graph.indexes.get(K8S_SELECTORS_SKIPPED) is None


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


class KeyReference(NamedTuple):
    """A workload's use of one key of a ConfigMap or Secret (env valueFrom, volume items)."""

    kind: str
    name: str
    key: str
    path: tuple[Any, ...]  # of the key, inside the workload object
    optional: bool


def key_references(workload: Node) -> Iterator[KeyReference]:
    spec, base = _pod_spec(workload)
    for index, volume in _items(spec, "volumes"):
        for field_name, kind, name_key in (("configMap", "ConfigMap", "name"), ("secret", "Secret", "secretName")):
            source = _dict_at(volume, field_name)
            name = _named(source, name_key)
            for i_index, item in _items(source, "items"):
                key = _named(item, "key")
                if name and key:
                    path = (*base, "volumes", index, field_name, "items", i_index, "key")
                    yield KeyReference(kind, name, key, path, _optional(source))
    for field_name in ("initContainers", "containers", "ephemeralContainers"):
        for index, container in _items(spec, field_name):
            for e_index, env in _items(container, "env"):
                value_from = _dict_at(env, "valueFrom")
                for ref_key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                    ref = _dict_at(value_from, ref_key)
                    name, key = _named(ref), _named(ref, "key")
                    if name and key:
                        path = (*base, field_name, index, "env", e_index, "valueFrom", ref_key, "key")
                        yield KeyReference(kind, name, key, path, _optional(ref))


def looks_like_patch(node: Node) -> bool:
    """A document a kustomization of the scan applies as a patch (see mark_patches), not a whole object.

    Patches state only what they change, so "missing" fields say nothing about what is deployed.
    How a document looks does not make it one: an apps/v1 workload without its selector that no
    kustomization patches with is a workload the API rejects (k8s-selector-mismatch).
    """
    return bool(node.facts.get("patch"))


def runs_pods(workload: Node) -> bool:
    """Whether a workload's pod template makes pods: the API rejects one without containers, so
    it counts as no pods for selectors and budgets. A patch is judged merged with what it patches."""
    return bool(workload.facts.get("containers")) or looks_like_patch(workload)


def declared_replicas(node: Node) -> int | None:
    """spec.replicas as written: 1 when absent or null, None when it is not a number (an envsubst
    `${REPLICAS}`)."""
    spec = _spec(node)
    if spec.get("replicas") is None:
        return 0 if node.facts.get("kind") == "DeploymentConfig" else 1  # OpenShift does not default it
    value = spec["replicas"]
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def min_replicas(scaler: Node) -> int:
    """The replica floor an autoscaler keeps: HPA minReplicas (default 1), KEDA minReplicaCount (default 0);
    an Argo Rollout that runs a Deployment's template (workloadRef), its own replicas."""
    spec = _spec(scaler)
    if scaler.facts["kind"] == "Rollout":
        return declared_replicas(scaler) or 0  # linked only when the count is known
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
    if created_at_run_time(graph, kind, namespace, name):
        return True
    return kind == "Secret" and made_by_operator(graph, namespace, name)


K8S_CREATED_AT_RUN_TIME = "k8s_created_at_run_time"
# The resources of the core API group a workload may make for itself, and their kinds.
RUN_TIME_KINDS = {"secrets": "Secret", "configmaps": "ConfigMap"}


def created_at_run_time(graph: Graph, kind: str, namespace: str | None, name: str) -> bool:
    """Whether a workload of the scan is allowed to create this Secret or ConfigMap itself.

    The RBAC of the scan must let a ServiceAccount that some workload runs as `create` the kind,
    and the same Role or ClusterRole must name it in resourceNames (RBAC cannot limit `create`
    by name, so the name says which object the grant is for): Argo CD's Redis init container
    makes its password Secret that way. A grant to create any Secret is not enough.
    """
    table = graph.indexes.get(K8S_CREATED_AT_RUN_TIME)
    if table is None:
        table = graph.indexes[K8S_CREATED_AT_RUN_TIME] = _run_time_creations(graph)
    return any(same_namespace(ns, namespace) for ns in table.get((kind, name), ()))


def _run_time_creations(graph: Graph) -> dict[tuple[str, str], list[str | None]]:
    """(kind, name) -> the namespaces where a workload's ServiceAccount may create it."""
    accounts = _accounts_in_use(graph)
    created: dict[tuple[str, str], list[str | None]] = defaultdict(list)
    for binding in graph.of_kind("k8s/RoleBinding", "k8s/ClusterRoleBinding"):
        if not any(_account_in_use(accounts, subject) for subject in _account_subjects(binding)):
            continue
        namespace = binding.facts["namespace"] if binding.facts["kind"] == "RoleBinding" else None
        for role in _bound_roles(graph, binding):
            where = role.facts["namespace"] if role.facts["kind"] == "Role" else namespace
            for made in _named_creations(role):
                created[made].append(where)
    return dict(created)


def _accounts_in_use(graph: Graph) -> set[tuple[str | None, str]]:
    """(namespace, name) of the ServiceAccount each workload runs as (`default` unless named)."""
    accounts = set()
    for workload in graph.of_kind("k8s/workload"):
        names = [ref.name for ref in workload_references(workload) if ref.kind == "ServiceAccount"]
        accounts.add((workload.facts["namespace"], names[0] if names else "default"))
    return accounts


def _account_subjects(binding: Node) -> Iterator[tuple[str | None, str]]:
    for _index, subject in _items(binding.attrs, "subjects"):
        if isinstance(subject, dict) and subject.get("kind") == "ServiceAccount" and _named(subject):
            namespace = subject.get("namespace")
            yield (namespace if isinstance(namespace, str) else binding.facts["namespace"]), subject["name"]


def _account_in_use(accounts: set[tuple[str | None, str]], subject: tuple[str | None, str]) -> bool:
    namespace, name = subject
    return any(theirs == name and same_namespace(ns, namespace) for ns, theirs in accounts)


def _bound_roles(graph: Graph, binding: Node) -> list[Node]:
    ref = _dict_at(binding.attrs, "roleRef")
    kind, name = ref.get("kind"), _named(ref)
    if kind not in ("Role", "ClusterRole") or name is None:
        return []
    if kind == "ClusterRole":
        return find(graph, "ClusterRole", None, name)
    return find(graph, "Role", binding.facts["namespace"], name)


def _named_creations(role: Node) -> Iterator[tuple[str, str]]:
    """(kind, name) for each Secret or ConfigMap the role may create and names in resourceNames."""
    creatable: set[str] = set()
    names: dict[str, set[str]] = defaultdict(set)
    for _index, rule in _items(role.attrs, "rules"):
        if not isinstance(rule, dict) or not _listed(rule, "apiGroups", ""):
            continue
        for resource in RUN_TIME_KINDS:
            if not _listed(rule, "resources", resource):
                continue
            if _listed(rule, "verbs", "create"):
                creatable.add(resource)
            names[resource].update(str(name) for name in rule.get("resourceNames") or [] if isinstance(name, str))
    for resource in sorted(creatable):
        for name in sorted(names[resource]):
            yield RUN_TIME_KINDS[resource], name


def _listed(rule: dict[str, Any], key: str, value: str) -> bool:
    """Whether an RBAC rule's list names ``value`` (or `*`)."""
    values = rule.get(key)
    return isinstance(values, list) and (value in values or "*" in values)


def made_by_operator(graph: Graph, namespace: str | None, name: str) -> bool:
    """Whether a custom resource of the scan likely makes the object of this name.

    Operators name what they make after their resource: Secrets `<user>.<cluster>.credentials...`
    (Zalando), `<cluster>-app` (CloudNativePG), `redb-<database>` (Redis Enterprise), `<user>`
    (Strimzi), Services `<kibana>-kb-http` (ECK). So a custom resource counts when its name is
    a run of this name's `.`/`-` separated parts.
    """
    custom = graph.indexes.get(K8S_CUSTOM_BY_NAME)
    if custom is None:
        custom = graph.indexes[K8S_CUSTOM_BY_NAME] = _custom_resources_by_name(graph)
    return any(same_namespace(theirs, namespace) for part in _separated_runs(name) for theirs in custom.get(part, ()))


K8S_CUSTOM_BY_NAME = "k8s_custom_resources_by_name"


def _custom_resources_by_name(graph: Graph) -> dict[str, list[str | None]]:
    """The namespaces of the scan's custom resources, by resource name."""
    custom: dict[str, list[str | None]] = defaultdict(list)
    for node in graph.of_kind("k8s/object"):
        if _is_custom(node):
            custom[node.facts["name"]].append(node.facts["namespace"])
    return dict(custom)


def _separated_runs(name: str) -> set[str]:
    """Every substring of ``name`` that starts and ends at its start, end or a `.`/`-`."""
    separators = [index for index, char in enumerate(name) if char in ".-"]
    starts = [0, *(index + 1 for index in separators)]
    ends = [*separators, len(name)]
    return {name[start:end] for start in starts for end in ends if end > start}


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
    by_namespace = graph.indexes.get(K8S_POD_RUNNING_CRS)
    if by_namespace is None:  # None: all of them, as an object without a namespace may be anywhere
        by_namespace = graph.indexes[K8S_POD_RUNNING_CRS] = {
            None: [
                node
                for node in graph.of_kind("k8s/object")
                if _is_custom(node) and "k8s/workload" not in node.kinds and _mentions_pods(_spec(node), 4)
            ]
        }
    if namespace not in by_namespace:
        by_namespace[namespace] = [
            node for node in by_namespace[None] if same_namespace(node.facts["namespace"], namespace)
        ]
    return list(by_namespace[namespace])


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


# RBAC: which roles a binding grants, to which ServiceAccounts, and which workloads run as them.
# A binding `binds` the Role or ClusterRole of its roleRef and `grants` each ServiceAccount
# subject the scan defines (edge attribute `subject`: its index); an aggregated ClusterRole
# `aggregates` the ClusterRoles its selectors match. A workload `references` its ServiceAccount
# (linked above). Accounts the scan only names (`default`, one made elsewhere) are found through
# account_bindings() and workloads_running_as(), which need no ServiceAccount object.
K8S_BINDINGS_BY_ACCOUNT = "k8s_bindings_by_account"
K8S_WORKLOADS_BY_ACCOUNT = "k8s_workloads_by_account"
RBAC_BINDINGS = ("k8s/RoleBinding", "k8s/ClusterRoleBinding")


class AccountSubject(NamedTuple):
    """A ServiceAccount a binding names: its namespace (None: unknown), name and subject index."""

    namespace: str | None
    name: str
    position: int  # in the binding's subjects


def link_rbac(graph: Graph) -> None:
    for binding in graph.of_kind(*RBAC_BINDINGS):
        for role in referenced_roles(graph, binding):
            graph.link(binding, role, "binds")
        for subject in account_subjects(binding):
            for account in nearest_named(graph, binding, "ServiceAccount", subject.name, subject.namespace):
                graph.link(binding, account, "grants", subject=subject.position)
    _link_aggregations(graph)


def referenced_roles(graph: Graph, binding: Node) -> list[Node]:
    """The Role or ClusterRole a binding's roleRef names, nearest first (none when not in the scan)."""
    ref = _dict_at(binding.attrs, "roleRef")
    kind, name = ref.get("kind"), _named(ref)
    if name is None or kind not in ("Role", "ClusterRole"):
        return []
    return nearest_named(graph, binding, kind, name, None if kind == "ClusterRole" else _OWN_NAMESPACE)


def account_subjects(binding: Node) -> Iterator[AccountSubject]:
    """The ServiceAccounts a binding names, as ServiceAccount subjects or as their user names
    (`system:serviceaccount:<namespace>:<name>`). A RoleBinding's subject defaults to its namespace."""
    own = binding.facts["namespace"] if binding.facts["kind"] == "RoleBinding" else None
    for index, subject in _items(binding.attrs, "subjects"):
        if not isinstance(subject, dict) or not _named(subject):
            continue
        name = subject["name"]
        if subject.get("kind") == "ServiceAccount":
            namespace = subject.get("namespace")
            yield AccountSubject(namespace if isinstance(namespace, str) and namespace else own, name, index)
        elif subject.get("kind") == "User" and name.startswith(SERVICE_ACCOUNT_USER):
            namespace, _, account = name.removeprefix(SERVICE_ACCOUNT_USER).partition(":")
            if account:
                yield AccountSubject(namespace, account, index)


SERVICE_ACCOUNT_USER = "system:serviceaccount:"


def _link_aggregations(graph: Graph) -> None:
    aggregated = [role for role in graph.of_kind("k8s/ClusterRole") if aggregation_selectors(role)]
    if not aggregated:
        return
    roles = list(graph.of_kind("k8s/ClusterRole"))
    for role in aggregated:
        selectors = aggregation_selectors(role)
        for other in roles:
            labels = _dict_at(_dict_at(other.attrs, "metadata"), "labels")
            if other is not role and any(
                selector_matches(s, {str(k): str(v) for k, v in labels.items()}) for s in selectors
            ):
                graph.link(role, other, "aggregates")


def aggregation_selectors(role: Node) -> list[dict[str, Any]]:
    """The clusterRoleSelectors of an aggregated ClusterRole (empty for any other role)."""
    selectors = _dict_at(role.attrs, "aggregationRule").get("clusterRoleSelectors")
    return [s for s in selectors if isinstance(s, dict) and s] if isinstance(selectors, list) else []


def role_bindings(graph: Graph, role: Node) -> list[Node]:
    """The bindings of the scan that grant ``role``: its own, and those of the aggregated
    ClusterRoles that take its rules in."""
    found = list(graph.incoming(role, "binds"))
    for aggregate in graph.incoming(role, "aggregates"):
        found += [binding for binding in graph.incoming(aggregate, "binds") if binding not in found]
    return found


def service_account_of(workload: Node) -> tuple[str, tuple[Any, ...] | None]:
    """The name of the ServiceAccount a workload's pods run as, and the path of the field that
    names it (None: not named, so `default`)."""
    spec, base = _pod_spec(workload)
    for key in ("serviceAccountName", "serviceAccount"):  # as workload_references names it
        account = spec.get(key)
        if isinstance(account, str) and account:
            return account, (*base, key)
    return "default", None


def account_bindings(graph: Graph, node: Node, namespace: str | None, name: str) -> list[tuple[Node, int]]:
    """The bindings of the scan (with the subject index) that grant the ServiceAccount ``name`` of
    ``namespace``, as ``node`` (a workload or a ServiceAccount) sees it: without a namespace on
    either side, only bindings of its own render and folder tree count."""
    table = graph.indexes.get(K8S_BINDINGS_BY_ACCOUNT)
    if table is None:
        table = graph.indexes[K8S_BINDINGS_BY_ACCOUNT] = defaultdict(list)
        for binding in graph.of_kind(*RBAC_BINDINGS):
            for subject in account_subjects(binding):
                table[subject.name].append((binding, subject))
    return [
        (binding, subject.position)
        for binding, subject in table.get(name, ())
        if _same_deployment(node, namespace, binding, subject.namespace)
    ]


def workloads_running_as(graph: Graph, node: Node, namespace: str | None, name: str) -> list[Node]:
    """The workloads whose pods run as the ServiceAccount ``name`` of ``namespace``, as ``node`` (a
    binding) sees them: without a namespace on either side, only its own render and folder tree."""
    table = graph.indexes.get(K8S_WORKLOADS_BY_ACCOUNT)
    if table is None:
        table = graph.indexes[K8S_WORKLOADS_BY_ACCOUNT] = defaultdict(list)
        for workload in graph.of_kind("k8s/workload"):
            if not looks_like_patch(workload):
                table[service_account_of(workload)[0]].append(workload)
    return [w for w in table.get(name, ()) if _same_deployment(node, namespace, w, w.facts["namespace"])]


def _same_deployment(node: Node, namespace: str | None, other: Node, other_namespace: str | None) -> bool:
    """Whether ``other`` (in ``other_namespace``) and ``node`` (seen in ``namespace``) are deployed
    together: same render, compatible namespaces, and, when either namespace is a guess or
    `default` (which examples of unrelated apps all name), files of one folder tree (unrelated
    apps of a monorepo do not share a `default` account)."""
    if node.facts.get(RENDER_SCOPE) != other.facts.get(RENDER_SCOPE) or not same_namespace(namespace, other_namespace):
        return False
    if namespace not in (None, "default") and other_namespace not in (None, "default"):
        return True
    mine, theirs = _folders(node.path), _folders(other.path)
    shorter = min(len(mine), len(theirs))
    return mine[:shorter] == theirs[:shorter]


def pods_may_match(graph: Graph, workload: Node, selector: Any) -> bool:
    """Whether a LabelSelector (a NetworkPolicy's podSelector or peer) matches some pod of
    ``workload``: the template's labels, those the controllers add (a Job's name, a StatefulSet
    pod's name and ordinal), or, as selectors are linked, labels set once the pods run
    (`pod-template-hash`, Spilo's `spilo-role` ...), whose value the scan cannot know."""
    if not isinstance(selector, dict):
        return False
    if _workload_matches(workload, selector, False, bool(_selector_keys(selector) & ORDINAL_LABELS)):
        return True
    run_time = _run_time_labels_by_workload(graph).get(workload.id, {})
    absent = {key for key in _selector_keys(selector) if key in run_time and key not in _base_labels(workload)}
    if not absent:
        return False
    rest = _without_keys(selector, absent, False)
    return _workload_matches(workload, rest, False, bool(_selector_keys(rest) & ORDINAL_LABELS))


def rendered_with_test_values(node: Node) -> bool:
    """Whether NODE comes only from Helm releases rendered with test values files (the chart's
    `ci/*-values.yaml`, render scope `helm:<chart>@<release>[<files>]`). Such files exercise
    template branches with made-up names of objects that live outside the chart (an
    `existingSecret`, an extra Ingress path), so a name they give that the scan does not define
    is not missing from any real deployment."""
    scope = str(node.facts.get("render_scope") or "")
    if not scope.startswith("helm:"):
        return False
    tag = scope.partition("@")[2]
    if "[" not in tag or not tag.endswith("]"):
        return False  # the chart's own values.yaml
    files = tag[tag.index("[") + 1 : -1].split(", ")
    return all(file.endswith((".yaml", ".yml", ".json")) for file in files)  # `[prod]`: a named set
