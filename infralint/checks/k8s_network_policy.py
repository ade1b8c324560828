"""NetworkPolicy coverage: workloads no policy isolates, and policy peers that select no pod.

Which objects share a namespace, as the scan sees it: an explicit namespace (other than
`default`) is the same wherever it is written. An object without one gets it at deploy time
(`kubectl -n`, kustomize, a Helm release), and `default` is what examples of unrelated apps
all name, so such an object shares a namespace only with objects of its own render (a Helm
release or kustomize root renders into one namespace) or of its folder tree (its folder, a
parent or a subfolder): unrelated apps of a monorepo are no context for each other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from infralint.graph.k8s_links import (
    declared_replicas,
    is_empty_selector,
    looks_like_patch,
    pod_running_custom_resources,
    pods_may_match,
    runs_pods,
    same_namespace,
    selectors_linked,
    selectors_of,
)
from infralint.graph.model import RENDER_SCOPE, Graph, Node
from infralint.rules.meta import CheckFn, Hit, RuleContext

MAX_NAMED = 5  # policies named in a message, and related locations
OPERATORS = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})
# The label the API server sets on every Namespace: the one namespaceSelector the scan can resolve.
NAMESPACE_NAME = "kubernetes.io/metadata.name"
PLACEHOLDER_MARKS = ("{{", "${", "<")
Folders = tuple[str, ...]


class NamespaceIndex:
    """Objects of one kind, found by the namespace they share with a given node (see the
    module docstring) in a few lookups instead of a pass over all of them."""

    def __init__(self, nodes: Iterable[Node]) -> None:
        self.order: dict[str, int] = {}
        self.by_namespace: dict[str, list[Node]] = defaultdict(list)  # explicit, not `default`
        self.by_scope: dict[Any, list[Node]] = defaultdict(list)  # by render (releases and roots only)
        self.under: dict[Folders, list[Node]] = defaultdict(list)  # in a folder or any subfolder of it
        self.at: dict[Folders, list[Node]] = defaultdict(list)  # in that very folder
        for position, node in enumerate(nodes):
            self.order[node.id] = position
            namespace = node.facts["namespace"]
            if not _loose(namespace):
                self.by_namespace[namespace].append(node)
            scope = node.facts.get(RENDER_SCOPE)
            if scope is not None:
                self.by_scope[scope].append(node)
            folders = _folders(node.path)
            self.at[folders].append(node)
            for depth in range(len(folders) + 1):
                self.under[folders[:depth]].append(node)

    def sharing_namespace(self, node: Node) -> list[Node]:
        """The objects in the namespace ``node`` is deployed to, in scan order."""
        namespace = node.facts["namespace"]
        found: dict[str, Node] = {}
        if not _loose(namespace):
            found.update((other.id, other) for other in self.by_namespace.get(namespace, ()))
        for other in self._related(node):
            if other.id not in found and same_namespace(namespace, other.facts["namespace"]):
                found[other.id] = other
        return sorted(found.values(), key=lambda other: self.order[other.id])

    def _related(self, node: Node) -> Iterator[Node]:
        """Objects of the same render or folder tree."""
        scope = node.facts.get(RENDER_SCOPE)
        if scope is not None:
            yield from self.by_scope.get(scope, ())
        folders = _folders(node.path)
        yield from self.under.get(folders, ())
        for depth in range(len(folders)):
            yield from self.at.get(folders[:depth], ())


def _surely_together(node: Node, other: Node) -> bool:
    """Whether two objects the index finds in one namespace are there for certain enough to judge
    by: they are of the same render (or both plain files), and when only one of them names its
    namespace, of one render or one folder (a policy without a namespace in a parent folder may
    be applied anywhere)."""
    scope, other_scope = node.facts.get(RENDER_SCOPE), other.facts.get(RENDER_SCOPE)
    if scope != other_scope:
        return False  # two renders (overlays of one base, say) are two deployments, maybe to two clusters
    if _loose(node.facts["namespace"]) == _loose(other.facts["namespace"]):
        return True
    return scope is not None or _folders(node.path) == _folders(other.path)


def _loose(namespace: str | None) -> bool:
    return namespace is None or namespace == "default"


def _folders(path: str) -> Folders:
    parts = path.split("/")[:-1]
    return tuple(part for part in parts if part not in ("", "."))


POLICY_INDEX = "k8s_network_policies_by_namespace"
WORKLOAD_INDEX = "k8s_pod_workloads_by_namespace"


def _policy_index(graph: Graph) -> NamespaceIndex:
    index = graph.indexes.get(POLICY_INDEX)
    if index is None:
        index = graph.indexes[POLICY_INDEX] = NamespaceIndex(graph.of_kind("k8s/NetworkPolicy"))
    return index


def _workload_index(graph: Graph) -> NamespaceIndex:
    """Workloads whose template makes pods (kustomize patches included: they count with what they patch)."""
    index = graph.indexes.get(WORKLOAD_INDEX)
    if index is None:
        workloads = (node for node in graph.of_kind("k8s/workload") if runs_pods(node))
        index = graph.indexes[WORKLOAD_INDEX] = NamespaceIndex(workloads)
    return index


def _spec(node: Node) -> dict[str, Any]:
    spec = node.attrs.get("spec")
    return spec if isinstance(spec, dict) else {}


def _judgeable(selector: Any) -> bool:
    """A LabelSelector the scan can evaluate: known operators only, no template placeholders."""
    if not isinstance(selector, dict):
        return False
    labels, expressions = selector.get("matchLabels"), selector.get("matchExpressions")
    if labels is not None and not isinstance(labels, dict):
        return False
    if expressions is not None and not isinstance(expressions, list):
        return False
    for expression in expressions or ():
        if not isinstance(expression, dict) or expression.get("operator") not in OPERATORS:
            return False
        if expression.get("operator") in ("In", "NotIn") and not isinstance(expression.get("values"), list):
            return False
    return not any(mark in str(selector) for mark in PLACEHOLDER_MARKS)


def _selector_text(selector: dict[str, Any]) -> str:
    """`app=web, tier In (a, b)`."""
    labels = selector.get("matchLabels")
    parts = [f"{key}={value}" for key, value in labels.items()] if isinstance(labels, dict) else []
    for expression in selector.get("matchExpressions") or []:
        if isinstance(expression, dict):
            values = ", ".join(str(value) for value in expression.get("values") or [])
            parts.append(f"{expression.get('key')} {expression.get('operator')}" + (f" ({values})" if values else ""))
    return ", ".join(parts) or "{}"


def _namespace_text(namespace: str | None) -> str:
    return f"namespace {namespace}" if namespace is not None else "its namespace"


def _names(nodes: list[Node]) -> str:
    names = ", ".join(node.facts["name"] for node in nodes[:MAX_NAMED])
    return names + (f" and {len(nodes) - MAX_NAMED} more" if len(nodes) > MAX_NAMED else "")


# -- workloads no policy selects --------------------------------------------------------------


def no_network_policy(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    graph = ctx.graph
    if not runs_pods(node) or looks_like_patch(node) or not selectors_linked(graph):
        return
    if declared_replicas(node) == 0:
        return  # scaled to zero: no pods to isolate (a stub another workload stands in for)
    if _pod_spec(node).get("hostNetwork") is True:
        return  # NetworkPolicies do not apply to pods on the node's network
    if _is_hook(node):
        return  # a Job Helm or Argo CD runs for a few seconds around a release, serving nothing
    if selectors_of(graph, node, "k8s/NetworkPolicy"):
        return
    around = _policy_index(graph).sharing_namespace(node)
    policies = [policy for policy in around if _surely_together(node, policy)]
    if not policies:
        return  # no policy in this namespace: the scan does not show how its traffic is meant to be kept
    for policy in around:
        selector = _spec(policy).get("podSelector")
        if selector is None or is_empty_selector(selector) or not _judgeable(selector):
            return  # every pod of the namespace (podSelector is required; absent reads as {}), or unknown
        if pods_may_match(graph, node, selector):
            return
    namespace = node.facts["namespace"]
    where = _namespace_text(namespace)
    count = f"NetworkPolic{'y' if len(policies) == 1 else 'ies'}"
    yield Hit(
        f"{node.facts['object']} is selected by no NetworkPolicy, while {where} has {len(policies)} {count} "
        f"({_names(policies)}) for other pods: its pods accept all ingress and may send all egress traffic",
        related=tuple(
            ctx.related(
                policy,
                f"{policy.facts['object']} selects {_selector_text(_spec(policy).get('podSelector') or {})}",
                ("spec", "podSelector"),
            )
            for policy in policies[:MAX_NAMED]
        ),
    )


HOOK_ANNOTATIONS = ("helm.sh/hook", "argocd.argoproj.io/hook")


def _is_hook(node: Node) -> bool:
    annotations = (
        node.attrs.get("metadata", {}).get("annotations") if isinstance(node.attrs.get("metadata"), dict) else None
    )
    return isinstance(annotations, dict) and any(key in annotations for key in HOOK_ANNOTATIONS)


def _pod_spec(node: Node) -> dict[str, Any]:
    data: Any = node.attrs
    for key in node.facts.get("pod_spec_path") or ():
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


# -- peers that select no pod -----------------------------------------------------------------


def peer_selects_nothing(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    graph = ctx.graph
    if not selectors_linked(graph):
        return
    spec = _spec(node)
    workloads: dict[str | None, list[Node]] = {}  # by namespace, looked up once per policy
    for direction, key, verb in (("ingress", "from", "admits traffic from"), ("egress", "to", "allows traffic to")):
        rules = spec.get(direction)
        for index, rule in enumerate(rules if isinstance(rules, list) else ()):
            peers = rule.get(key) if isinstance(rule, dict) else None
            for position, peer in enumerate(peers if isinstance(peers, list) else ()):
                if not isinstance(peer, dict) or "podSelector" not in peer:
                    continue
                path = ("spec", direction, index, key, position, "podSelector")
                hit = _judge_peer(graph, node, peer, path, verb, workloads)
                if hit is not None:
                    yield hit


def _judge_peer(
    graph: Graph,
    policy: Node,
    peer: dict[str, Any],
    path: tuple[Any, ...],
    verb: str,
    known: dict[str | None, list[Node]],
) -> Hit | None:
    selector = peer["podSelector"]
    if not isinstance(selector, dict) or is_empty_selector(selector) or not _judgeable(selector):
        return None  # every pod (of the namespaces), or a selector the scan cannot evaluate
    if "namespaceSelector" in peer:
        namespaces = _named_namespaces(peer["namespaceSelector"])
        if namespaces is None:
            return None  # namespaces picked by labels the scan cannot see
    else:
        namespaces = [policy.facts["namespace"]]
    counted = []
    for namespace in namespaces:
        if namespace not in known:
            known[namespace] = _workloads_in(graph, policy, namespace)
        workloads = known[namespace]
        whole = [workload for workload in workloads if not looks_like_patch(workload)]
        if not any(_surely_in(workload, policy, namespace) for workload in whole):
            return None  # the pods may live where the scan does not look
        if pod_running_custom_resources(graph, namespace):
            return None  # the pods may live where the scan does not look
        if any(pods_may_match(graph, workload, selector) for workload in workloads):
            return None
        counted.append(_counted(whole, namespace))
    return Hit(
        f"{policy.facts['object']} {verb} pods with {_selector_text(selector)}, which match no pod of "
        f"{' or '.join(counted)}: this peer allows nothing, and pods it was meant for (labels renamed on one "
        "side?) are not allowed",
        path=path,
    )


def _surely_in(workload: Node, policy: Node, namespace: str | None) -> bool:
    if namespace == policy.facts["namespace"]:
        return _surely_together(policy, workload)
    return bool(workload.facts["namespace"] == namespace)


def _counted(workloads: list[Node], namespace: str | None) -> str:
    """`the 3 workloads in namespace shop`, saying how many of them have no namespace of their own."""
    loose = sum(1 for workload in workloads if workload.facts["namespace"] != namespace)
    text = f"the {len(workloads)} workload{'s' if len(workloads) > 1 else ''} in {_namespace_text(namespace)}"
    if namespace is not None and loose:
        text += f" ({loose} of them without a namespace of their own)"
    return text


def _named_namespaces(selector: Any) -> list[str] | None:
    """The namespaces a namespaceSelector picks by name (`kubernetes.io/metadata.name`), when
    that is all it asks; None when it picks them by other labels, or all of them."""
    if not isinstance(selector, dict) or not _judgeable(selector):
        return None
    labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if set(labels) - {NAMESPACE_NAME}:
        return None
    names: set[str] | None = {str(labels[NAMESPACE_NAME])} if NAMESPACE_NAME in labels else None
    for expression in expressions:
        if expression.get("key") != NAMESPACE_NAME or expression.get("operator") != "In":
            return None
        values = {str(value) for value in expression.get("values") or []}
        names = values if names is None else names & values
    return sorted(names) if names is not None else None


def _workloads_in(graph: Graph, policy: Node, namespace: str | None) -> list[Node]:
    """The workloads whose pods a peer of ``policy`` may select in ``namespace`` (the policy's own
    namespace as the scan sees it, or one a namespaceSelector names)."""
    index = _workload_index(graph)
    if namespace == policy.facts["namespace"]:
        return index.sharing_namespace(policy)
    if namespace is None or namespace == "default":
        return []  # a named `default` is not told apart from unrelated examples: not judged
    found = list(index.by_namespace.get(namespace, ()))
    # Workloads without a namespace beside the policy may be deployed to that namespace too.
    found += [workload for workload in index.sharing_namespace(policy) if workload.facts["namespace"] is None]
    return found


CHECKS: dict[str, CheckFn] = {
    "k8s-no-network-policy": no_network_policy,
    "k8s-networkpolicy-peer-selects-nothing": peer_selects_nothing,
}
