"""Objects the API server refuses: apiVersion/kind pairs current Kubernetes no longer serves
(k8s-deprecated-api, facts from the deprecated API migration guide) and workload selectors
that are missing or do not match their own pod template (k8s-selector-mismatch).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from infralint.graph.k8s_links import selector_requirement_matches
from infralint.graph.model import Node
from infralint.rules.meta import CheckFn, Hit, RuleContext


class Removal(NamedTuple):
    replacement: str  # the apiVersion to use instead, or what replaces the kind altogether
    removed_in: str

    @property
    def advice(self) -> str:
        if " " in self.replacement:
            return f"replace it with {self.replacement}"
        return f"use apiVersion: {self.replacement}"


# Kinds of the old workload API groups that apps/v1 took over.
OLD_WORKLOAD_KINDS = {
    "extensions/v1beta1": ("Deployment", "DaemonSet", "ReplicaSet"),
    "apps/v1beta1": ("Deployment", "StatefulSet", "ReplicaSet", "ControllerRevision"),
    "apps/v1beta2": ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ControllerRevision"),
}


def _removals() -> dict[tuple[str, str], Removal]:
    table: dict[tuple[str, str], Removal] = {}

    def add(api_version: str, kinds: tuple[str, ...] | str, replacement: str, removed_in: str) -> None:
        for kind in (kinds,) if isinstance(kinds, str) else kinds:
            table[(api_version, kind)] = Removal(replacement, removed_in)

    # v1.14: the alpha Initializers feature went away with its API.
    add("admissionregistration.k8s.io/v1alpha1", "InitializerConfiguration", "admission webhooks", "1.14")
    # v1.16
    for api_version, kinds in OLD_WORKLOAD_KINDS.items():
        add(api_version, kinds, "apps/v1", "1.16")
    add("extensions/v1beta1", "NetworkPolicy", "networking.k8s.io/v1", "1.16")
    add("extensions/v1beta1", "PodSecurityPolicy", "Pod Security Admission (policy/v1beta1 is gone too)", "1.16")
    # v1.22
    add(
        "admissionregistration.k8s.io/v1beta1",
        ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"),
        "admissionregistration.k8s.io/v1",
        "1.22",
    )
    add("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", "apiextensions.k8s.io/v1", "1.22")
    add("apiregistration.k8s.io/v1beta1", "APIService", "apiregistration.k8s.io/v1", "1.22")
    add("authentication.k8s.io/v1beta1", "TokenReview", "authentication.k8s.io/v1", "1.22")
    add(
        "authorization.k8s.io/v1beta1",
        ("LocalSubjectAccessReview", "SelfSubjectAccessReview", "SubjectAccessReview"),
        "authorization.k8s.io/v1",
        "1.22",
    )
    add("certificates.k8s.io/v1beta1", "CertificateSigningRequest", "certificates.k8s.io/v1", "1.22")
    add("coordination.k8s.io/v1beta1", "Lease", "coordination.k8s.io/v1", "1.22")
    add("extensions/v1beta1", "Ingress", "networking.k8s.io/v1", "1.22")
    add("networking.k8s.io/v1beta1", ("Ingress", "IngressClass"), "networking.k8s.io/v1", "1.22")
    add(
        "rbac.authorization.k8s.io/v1beta1",
        ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"),
        "rbac.authorization.k8s.io/v1",
        "1.22",
    )
    add("scheduling.k8s.io/v1beta1", "PriorityClass", "scheduling.k8s.io/v1", "1.22")
    add(
        "storage.k8s.io/v1beta1",
        ("CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"),
        "storage.k8s.io/v1",
        "1.22",
    )
    # v1.25
    add("batch/v1beta1", "CronJob", "batch/v1", "1.25")
    add("discovery.k8s.io/v1beta1", "EndpointSlice", "discovery.k8s.io/v1", "1.25")
    add("events.k8s.io/v1beta1", "Event", "events.k8s.io/v1", "1.25")
    add("autoscaling/v2beta1", "HorizontalPodAutoscaler", "autoscaling/v2", "1.25")
    add("policy/v1beta1", "PodDisruptionBudget", "policy/v1", "1.25")
    add("policy/v1beta1", "PodSecurityPolicy", "Pod Security Admission (no API replaces it)", "1.25")
    add("node.k8s.io/v1beta1", "RuntimeClass", "node.k8s.io/v1", "1.25")
    # v1.26
    add("autoscaling/v2beta2", "HorizontalPodAutoscaler", "autoscaling/v2", "1.26")
    add(
        "flowcontrol.apiserver.k8s.io/v1beta1",
        ("FlowSchema", "PriorityLevelConfiguration"),
        "flowcontrol.apiserver.k8s.io/v1",
        "1.26",
    )
    # v1.27
    add("storage.k8s.io/v1beta1", "CSIStorageCapacity", "storage.k8s.io/v1", "1.27")
    # v1.29 and v1.32
    add(
        "flowcontrol.apiserver.k8s.io/v1beta2",
        ("FlowSchema", "PriorityLevelConfiguration"),
        "flowcontrol.apiserver.k8s.io/v1",
        "1.29",
    )
    add(
        "flowcontrol.apiserver.k8s.io/v1beta3",
        ("FlowSchema", "PriorityLevelConfiguration"),
        "flowcontrol.apiserver.k8s.io/v1",
        "1.32",
    )
    return table


REMOVED_APIS = _removals()


def _release(text: str) -> tuple[int, ...] | None:
    """(1, 29) from "1.29" or "v1.29"; None (no limit) for "latest" or anything unreadable."""
    parts = str(text).strip().lstrip("v").split(".")
    return tuple(int(part) for part in parts) if all(part.isdecimal() for part in parts) else None


def deprecated_api(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    api_version, kind = node.facts["apiVersion"], node.facts["kind"]
    removal = REMOVED_APIS.get((api_version, kind))
    if removal is None:
        return
    target, removed = _release(ctx.options.get("kubernetes_version", "latest")), _release(removal.removed_in)
    if target is not None and removed is not None and removed > target:
        return  # still served by the cluster version the project targets
    yield Hit(
        f"{api_version} {kind} is no longer served since Kubernetes v{removal.removed_in}: {removal.advice}",
        path=("apiVersion",),
    )


# k8s-selector-mismatch

# Controllers whose apps/v1 selector has no default: the API server requires it (the older
# extensions and apps beta versions took it from the template's labels).
SELECTOR_REQUIRED = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})
# Custom workloads (group and kind: see parsers/kubernetes.py) whose controller or webhook
# requires a LabelSelector, and refuses one that does not match the template's labels.
CUSTOM_SELECTOR_REQUIRED = frozenset({"Rollout", "CloneSet"})
# Workloads whose selector is a plain label map that defaults to the template's labels.
PLAIN_SELECTOR = frozenset({"ReplicationController", "DeploymentConfig"})
TEMPLATE_LABELS = ("spec", "template", "metadata", "labels")
_PLACEHOLDERS = ("${", "{{", "$(")


def selector_mismatch(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """The API server validates a workload's selector against its own pod template: an apps/v1
    controller needs one, and whatever is given (a Job's only with manualSelector) must match
    the template's labels. A kustomize patch never reaches here (the engine skips patches)."""
    facts = node.facts
    spec = node.attrs.get("spec")
    if not isinstance(spec, dict) or not _judged(facts["kind"], facts["apiVersion"], spec):
        return
    selector = spec.get("selector")
    required = facts["apiVersion"] == "apps/v1" or facts["kind"] in ("Job", *CUSTOM_SELECTOR_REQUIRED)
    if facts.get("kustomize_selector"):
        required = False  # a kustomization's commonLabels writes the selector at build time
    if selector is None:
        if required:
            yield _missing(node)
        return
    if not isinstance(selector, dict):
        return  # a template placeholder, or a shape the schema check of the API reports
    plain = facts["kind"] in PLAIN_SELECTOR  # a plain map that defaults to the labels
    requirements = list(_requirements(selector, plain))
    if not requirements:
        if required:
            yield Hit(
                f"{facts['object']} has an empty spec.selector: {_rejecter(facts)} rejects it (an empty selector "
                "would select every pod of the namespace)",
                path=("spec", "selector"),
            )
        return
    labels: dict[str, str] = facts.get("pod_labels", {})
    for path, requirement, described in requirements:
        invalid = _invalid_expression(requirement)
        if invalid:
            yield Hit(
                f"{facts['object']} selects {described}: {invalid}, so {_rejecter(facts)} rejects the selector",
                path=("spec", "selector", *path),
            )
            continue
        written = labels.get(str(requirement.get("key")), "")
        if _templated(described) or _templated(written) or selector_requirement_matches(requirement, labels):
            continue
        yield Hit(
            f"{facts['object']} selects {described}, but its pod template {_labels_text(labels)}: "
            f"{_rejecter(facts)} rejects it (selector does not match template labels)",
            path=("spec", "selector", *path),
            related=(ctx.related(node, "the pod template's labels", TEMPLATE_LABELS),),
        )


def _judged(kind: str, api_version: str, spec: dict[str, Any]) -> bool:
    if kind in SELECTOR_REQUIRED or kind in PLAIN_SELECTOR or kind in CUSTOM_SELECTOR_REQUIRED:
        return True  # only workload nodes reach here: a custom kind is one of its known API group
    return kind == "Job" and spec.get("manualSelector") is True  # else the controller makes the selector


def _missing(node: Node) -> Hit:
    facts = node.facts
    written = node.spans.exact(("spec", "selector")) is not None  # `selector:` with nothing under it
    if facts["kind"] == "Job":
        why = "manualSelector: true requires one"
    else:  # a document shaped like a patch that no kustomization of the scan patches with
        why = f"{facts['apiVersion']} requires one (a kustomize patch is judged where a kustomization of the scan uses it)"
    return Hit(
        f"{facts['object']} has no spec.selector: {why}, so {_rejecter(facts)} rejects it",
        path=("spec", "selector") if written else ("spec",),
    )


def _rejecter(facts: dict[str, Any]) -> str:
    """Who refuses the object: an Argo Rollout is accepted by the API server, then its controller
    refuses the spec (condition InvalidSpec) and runs nothing."""
    return "the Argo Rollouts controller" if facts["kind"] == "Rollout" else "the API server"


def _requirements(selector: dict[Any, Any], plain: bool) -> Iterator[tuple[tuple[Any, ...], dict[str, Any], str]]:
    """Each requirement of a selector: its path under `selector`, as a matchExpressions entry,
    and how a message names it."""
    match_labels = selector if plain else selector.get("matchLabels")
    prefix: tuple[Any, ...] = () if plain else ("matchLabels",)
    for key, value in match_labels.items() if isinstance(match_labels, dict) else ():
        yield (*prefix, key), {"key": key, "operator": "In", "values": [value]}, f"{key}={value}"
    expressions = [] if plain else selector.get("matchExpressions")
    for index, expression in enumerate(expressions if isinstance(expressions, list) else ()):
        if isinstance(expression, dict):
            yield ("matchExpressions", index), expression, _expression_text(expression)


SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def _invalid_expression(expression: dict[str, Any]) -> str:
    """Why the API server refuses a matchExpressions entry, or "" when it takes it."""
    operator, values = expression.get("operator"), expression.get("values")
    if operator not in SELECTOR_OPERATORS:
        return f"the operator must be one of {', '.join(SELECTOR_OPERATORS)}"
    if operator in ("In", "NotIn") and not values:
        return f"{operator} needs values"
    if operator in ("Exists", "DoesNotExist") and values:
        return f"{operator} takes no values"
    return ""


def _expression_text(expression: dict[str, Any]) -> str:
    key, operator = expression.get("key"), expression.get("operator")
    values = expression.get("values")
    if operator in ("In", "NotIn") and isinstance(values, list):
        return f"{key} {operator} ({', '.join(str(value) for value in values)})"
    return f"{key} {operator}"


def _labels_text(labels: dict[str, str]) -> str:
    if not labels:
        return "has no labels"
    return "has the labels " + ", ".join(f"{key}={value}" for key, value in sorted(labels.items()))


def _templated(text: str) -> bool:
    """Placeholders (envsubst, an unrendered template) are filled in before the API sees them."""
    return any(mark in text for mark in _PLACEHOLDERS)


CHECKS: dict[str, CheckFn] = {
    "k8s-deprecated-api": deprecated_api,
    "k8s-selector-mismatch": selector_mismatch,
}
