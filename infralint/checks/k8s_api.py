"""k8s-deprecated-api: apiVersion/kind pairs that current Kubernetes no longer serves.

Facts from the Kubernetes deprecated API migration guide (removed APIs by release).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

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


CHECKS: dict[str, CheckFn] = {"k8s-deprecated-api": deprecated_api}
