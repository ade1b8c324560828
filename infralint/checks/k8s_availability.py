"""Availability of replicated workloads: replica counts, disruption budgets, spreading, rollouts.

"Replicas" here is the floor a workload runs at: an autoscaler's minimum when one scales it
(it overrides spec.replicas), else spec.replicas (1 when missing).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from infralint.graph.k8s_links import (
    declared_replicas,
    looks_like_patch,
    min_replicas,
    replica_floor,
    runs_pods,
    selectors_linked,
)
from infralint.graph.model import Graph, Node
from infralint.rules.meta import CheckFn, Hit, RuleContext

_PERCENT = re.compile(r"^\s*(\d+)\s*%\s*$")
# Kinds with a `strategy.type: Recreate` that stops every old pod before starting new ones.
RECREATING_KINDS = frozenset({"Deployment", "DeploymentConfig"})
# Where a rolling update's maxUnavailable sits under spec.strategy, by kind: OpenShift keeps it in
# rollingParams, an Argo Rollout in its canary steps (blueGreen keeps the old pods until the switch).
MAX_UNAVAILABLE_PATHS = {
    "Deployment": ("rollingUpdate", "maxUnavailable"),
    "DeploymentConfig": ("rollingParams", "maxUnavailable"),
    "Rollout": ("canary", "maxUnavailable"),
}


def _spec(node: Node) -> dict[str, Any]:
    spec = node.attrs.get("spec")
    return spec if isinstance(spec, dict) else {}


def _percent(value: Any) -> int | None:
    """25 from "25%"; None for anything that is not a percentage."""
    match = _PERCENT.match(value) if isinstance(value, str) else None
    return int(match.group(1)) if match else None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _pod_spec(node: Node) -> dict[str, Any]:
    data: Any = node.attrs
    for key in node.facts.get("pod_spec_path") or ():
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def single_replica(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if "k8s/workload" not in node.kinds or not _whole_with_pods(node):
        return
    declared = declared_replicas(node)
    scalers = ctx.graph.incoming(node, "scales")
    by_rollout = bool(scalers) and all(scaler.facts["kind"] == "Rollout" for scaler in scalers)
    if declared is None or (declared == 0 and not by_rollout):
        return  # a template variable, or scaled to zero on purpose (nothing runs, nothing to lose)
    if by_rollout:  # an Argo Rollout runs this Deployment's template (workloadRef): it counts alone
        declared = 0
        if not any(min_replicas(scaler) for scaler in scalers):
            return
    minimum = int(ctx.options.get("min_replicas", 2))
    if declared >= minimum or any(min_replicas(scaler) >= minimum for scaler in scalers):
        return
    if declared == 1 and not scalers and _recreates(node):
        return  # a singleton by design: Recreate is written out so that two pods never run at once
    written = _spec(node).get("replicas") is not None
    path = ("spec", "replicas") if node.spans.exact(("spec", "replicas")) and not by_rollout else ()  # may be empty
    # Above one replica the problem is only the project's own floor (the rule option).
    below = f", fewer than the {minimum} set by the rule option min_replicas"
    if scalers:
        floor = max(min_replicas(scaler) for scaler in scalers)
        runs = "a single replica" if floor < 2 else f"only {floor} replicas"
        if by_rollout:
            message = f"{node.facts['object']} may run {runs}: {scalers[0].facts['object']} runs its pod template with replicas: {floor}"
        else:
            message = (
                f"{node.facts['object']} may run {runs}: the autoscaler that scales it allows a minimum of {floor}"
            )
        message += below if floor >= 2 else ""
    else:
        count = f"replicas: {declared}" if written else "no replicas value (so 1 replica)"
        message = f"{node.facts['object']} has {count}" + (
            ": one node drain or crash takes it down" if declared < 2 else below
        )
    related = tuple(ctx.related(scaler, _scaler_text(scaler), _min_path(scaler)) for scaler in scalers)
    yield Hit(message, path=path, related=related)


def _recreates(workload: Node) -> bool:
    """Whether a Deployment (or an OpenShift DeploymentConfig) says `strategy: {type: Recreate}`: the old
    pod stops before the new one starts, the choice for a process that must not run twice (a single
    writer, a ReadWriteOnce volume)."""
    strategy = _spec(workload).get("strategy")
    return (
        workload.facts["kind"] in RECREATING_KINDS and isinstance(strategy, dict) and strategy.get("type") == "Recreate"
    )


def _scaler_text(scaler: Node) -> str:
    if scaler.facts["kind"] == "Rollout":
        return f"{scaler.facts['object']} runs its pod template with replicas: {min_replicas(scaler)}"
    return f"{scaler.facts['object']} scales it with minimum {min_replicas(scaler)}"


def _min_path(scaler: Node) -> tuple[str, ...]:
    key = {"ScaledObject": "minReplicaCount", "Rollout": "replicas"}.get(scaler.facts["kind"], "minReplicas")
    return ("spec", key)


def _whole_with_pods(node: Node) -> bool:
    """A whole workload (not a kustomize patch) whose template makes pods (has containers)."""
    return runs_pods(node) and not looks_like_patch(node)


def _budgets(graph: Graph, workload: Node) -> list[Node]:
    return [n for n in graph.incoming(workload, "selects") if n.facts["kind"] == "PodDisruptionBudget"]


def _replicated(graph: Graph, node: Node) -> int | None:
    """The replica floor of a whole (not patch) workload when it is 2 or more."""
    if not _whole_with_pods(node):
        return None
    floor = replica_floor(graph, node)
    return floor if floor is not None and floor >= 2 else None


def no_pod_disruption_budget(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    floor = _replicated(ctx.graph, node)
    if floor is None or _budgets(ctx.graph, node) or not selectors_linked(ctx.graph):
        return
    if _one_per_node(node):
        return  # a drain empties one node, and so evicts one replica at most
    yield Hit(
        f"{node.facts['object']} runs {floor} replicas but no PodDisruptionBudget selects its pods: "
        "a node drain may evict all of them at once"
    )


HOSTNAME = "kubernetes.io/hostname"


def _one_per_node(workload: Node) -> bool:
    """Whether a required podAntiAffinity term on the node's hostname keeps the workload's own
    pods apart: a term whose matchLabels are all among the pod template's labels."""
    labels = workload.facts.get("pod_labels") or {}
    spec: Any = workload.attrs
    for key in workload.facts.get("pod_spec_path") or ():
        spec = spec.get(key) if isinstance(spec, dict) else None
    affinity = spec.get("affinity") if isinstance(spec, dict) else None
    anti = affinity.get("podAntiAffinity") if isinstance(affinity, dict) else None
    terms = anti.get("requiredDuringSchedulingIgnoredDuringExecution") if isinstance(anti, dict) else None
    for term in terms if isinstance(terms, list) else []:
        if not isinstance(term, dict) or term.get("topologyKey") != HOSTNAME:
            continue
        selector = term.get("labelSelector")
        if not isinstance(selector, dict) or selector.get("matchExpressions"):
            continue
        match = selector.get("matchLabels")
        if (
            isinstance(match, dict)
            and match
            and all(str(labels.get(str(key))) == str(value) for key, value in match.items())
        ):
            return True
    return False


def _pod_count(graph: Graph, workload: Node) -> int | None:
    """How many pods a workload keeps; None when it depends on the nodes or on completions."""
    if not _whole_with_pods(workload):
        return 0  # a patch of a workload counted elsewhere, or a template that makes no pods
    if workload.facts["kind"] == "Pod":
        return 1
    return replica_floor(graph, workload)


def pdb_blocks_eviction(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    spec = _spec(node)
    name = node.facts["object"]
    max_unavailable = spec.get("maxUnavailable")
    if "maxUnavailable" in spec and (_count(max_unavailable) == 0 or _percent(max_unavailable) == 0):
        yield Hit(
            f"{name} has maxUnavailable: {max_unavailable}: no pod may ever be evicted, so node drains hang",
            path=("spec", "maxUnavailable"),
        )
        return
    if "minAvailable" not in spec:
        return
    min_available = spec["minAvailable"]
    if (_percent(min_available) or 0) >= 100:
        yield Hit(
            f"{name} has minAvailable: {min_available}: no pod may ever be evicted, so node drains hang",
            path=("spec", "minAvailable"),
        )
        return
    yield from _min_available_hits(node, ctx, min_available)


def _min_available_hits(node: Node, ctx: RuleContext, min_available: Any) -> Iterator[Hit]:
    selected = ctx.graph.outgoing(node, "selects")
    counts = [_pod_count(ctx.graph, workload) for workload in selected]
    if not selected or any(count is None for count in counts):
        return
    pods = sum(count for count in counts if count is not None)
    percent = _percent(min_available)
    required = math.ceil(percent * pods / 100) if percent is not None else _count(min_available)
    if required is None or pods == 0 or required < pods:
        return
    names = ", ".join(workload.facts["object"] for workload in selected)
    yield Hit(
        f"{node.facts['object']} requires {required} of the {pods} pods of {names} to stay available "
        f"(minAvailable: {min_available}): none can be evicted, so node drains hang",
        path=("spec", "minAvailable"),
        related=tuple(
            ctx.related(w, f"{w.facts['object']} keeps {count} pod(s) here", ("spec", "replicas"))
            for w, count in zip(selected, counts, strict=True)
        ),
    )


def no_anti_affinity(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    floor = _replicated(ctx.graph, node)
    if floor is None:
        return
    pod_spec = _pod_spec(node)
    affinity = pod_spec.get("affinity")
    if isinstance(affinity, dict) and affinity.get("podAntiAffinity"):
        return
    if pod_spec.get("topologySpreadConstraints"):
        return
    path = (*node.facts["pod_spec_path"], "affinity")
    yield Hit(
        f"{node.facts['object']} runs {floor} replicas with neither podAntiAffinity nor "
        "topologySpreadConstraints: they may all land on one node or zone",
        path=path,
    )


def unsafe_rollout(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    floor = _replicated(ctx.graph, node)
    if floor is None:
        return
    strategy = _spec(node).get("strategy")
    if not isinstance(strategy, dict):
        return
    name, kind = node.facts["object"], node.facts["kind"]
    if strategy.get("type") == "Recreate" and kind in RECREATING_KINDS:
        yield Hit(
            f"{name} runs {floor} replicas with strategy Recreate: every rollout stops all of them first",
            path=("spec", "strategy", "type"),
        )
        return
    section, key = MAX_UNAVAILABLE_PATHS.get(kind, MAX_UNAVAILABLE_PATHS["Deployment"])
    rolling = strategy.get(section)
    value = rolling.get(key) if isinstance(rolling, dict) else None
    percent, count = _percent(value), _count(value)
    if (percent is not None and percent >= 100) or (count is not None and count >= floor):
        yield Hit(
            f"{name} allows maxUnavailable: {value} of its {floor} replicas: a rollout may stop all of them at once",
            path=("spec", "strategy", section, key),
        )


CHECKS: dict[str, CheckFn] = {
    "k8s-single-replica": single_replica,
    "k8s-no-pod-disruption-budget": no_pod_disruption_budget,
    "k8s-pdb-blocks-eviction": pdb_blocks_eviction,
    "k8s-no-anti-affinity": no_anti_affinity,
    "k8s-unsafe-rollout": unsafe_rollout,
}
