"""Kubernetes RBAC and service-account checks, judged against the ServiceAccounts the workloads use.

Rules about what a Role or ClusterRole grants report the rule entry at fault, and name who holds
it in the scan: the bindings that grant the role (cluster-wide or in one namespace) and the
workloads whose pods run as a bound ServiceAccount. Roles named `system:` are the cluster's own
and are not judged. A role or binding the scan does not hold is not judged either: nothing is
said about what is not there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from infralint.checks.k8s_references import defines_near
from infralint.findings import Related, Severity
from infralint.graph.k8s_links import (
    BUILTIN_GROUPS,
    SERVICE_ACCOUNT_USER,
    account_bindings,
    account_subjects,
    aggregation_selectors,
    nearest_named,
    referenced_roles,
    rendered_with_test_values,
    role_bindings,
    service_account_of,
    workloads_running_as,
)
from infralint.graph.model import Graph, Node
from infralint.rules.meta import CheckFn, Hit, RuleContext
from infralint.shapes import as_dict

SYSTEM = "system:"
CORE_GROUPS = ("", "*")
RBAC_GROUPS = ("rbac.authorization.k8s.io", "*")
MAX_NAMED = 3  # holders named in a message before "and N more"
MAX_RELATED = 5
# The verbs Polaris counts as "all of them" when a role lists them instead of `*`.
EVERY_VERB = frozenset({"get", "list", "watch", "create", "update", "patch", "delete"})


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


# The default user-facing ClusterRoles every cluster creates; a copy of one in a scan is the
# cluster's own definition (a chart cannot install another role of that name).
DEFAULT_CLUSTER_ROLES = frozenset({"cluster-admin", "admin", "edit", "view"})
BOOTSTRAP_LABEL = ("kubernetes.io/bootstrapping", "rbac-defaults")


def _is_system(node: Node) -> bool:
    """The cluster's own roles and bindings: `system:` names, the default ClusterRoles, and
    objects labelled as the API server's bootstrap defaults."""
    name = str(node.facts["name"])
    if name.startswith(SYSTEM):
        return True
    if node.facts["kind"] == "ClusterRole" and name in DEFAULT_CLUSTER_ROLES:
        return True
    labels = as_dict(as_dict(node.attrs.get("metadata")).get("labels"))
    key, value = BOOTSTRAP_LABEL
    return labels.get(key) == value


class Entry(NamedTuple):
    """One entry of a role's `rules`: where it is and what it lists."""

    position: int  # in the role's rules
    groups: list[str]
    resources: list[str]
    verbs: list[str]
    names: list[str]  # resourceNames

    def path(self, field: str, value: str) -> tuple[Any, ...]:
        """The path of ``value`` in the entry's ``field`` list (the line at fault)."""
        values = {"apiGroups": self.groups, "resources": self.resources, "verbs": self.verbs}[field]
        return ("rules", self.position, field, values.index(value)) if value in values else ("rules", self.position)

    def in_groups(self, groups: tuple[str, ...]) -> bool:
        return any(group in groups for group in self.groups)

    def explicit(self, field_values: list[str], wanted: tuple[str, ...] | frozenset[str]) -> list[str]:
        """The values of ``wanted`` the entry names itself (a `*` is k8s-rbac-wildcard's)."""
        return [value for value in field_values if value in wanted]


def _entries(role: Node) -> Iterator[Entry]:
    rules = role.attrs.get("rules")
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        if isinstance(rule, dict):
            yield Entry(
                index,
                _strings(rule.get("apiGroups")),
                _strings(rule.get("resources")),
                _strings(rule.get("verbs")),
                _strings(rule.get("resourceNames")),
            )


def _judged_role(role: Node) -> bool:
    """Roles the cluster ships (`system:`) are not judged, nor is the own `rules` list of an
    aggregated ClusterRole: the controller fills it from the roles it selects, judged themselves."""
    return not _is_system(role) and not aggregation_selectors(role)


# -- who holds a role: bindings, ServiceAccounts and the workloads that run as them ---------------


class Holders(NamedTuple):
    text: str  # "; bound cluster-wide by ClusterRoleBinding/x to ServiceAccount a/b, which Deployment/c runs as"
    related: tuple[Related, ...]
    cluster_wide: bool  # some ClusterRoleBinding grants it


def _holders(ctx: RuleContext, role: Node) -> Holders:
    bindings = role_bindings(ctx.graph, role)
    if not bindings:
        return Holders("", (), False)
    cluster_wide = [b for b in bindings if b.facts["kind"] == "ClusterRoleBinding"]
    where = f"bound cluster-wide by {_names(cluster_wide)}" if cluster_wide else f"bound by {_names(bindings)}"
    related = [ctx.related(b, f"{b.facts['object']} grants it here", ("roleRef", "name")) for b in bindings]
    workloads = [w for b in bindings for w in _workloads_of(ctx.graph, b)]
    workloads = list({w.id: w for w in workloads}.values())
    if workloads:
        where += f"; {_names(workloads)} {'runs' if len(workloads) == 1 else 'run'} with it"
        related += [_runs_as(ctx, w) for w in workloads]
    return Holders(f" ({where})", tuple(related[:MAX_RELATED]), bool(cluster_wide))


def _workloads_of(graph: Graph, binding: Node) -> list[Node]:
    """The workloads whose pods run as a ServiceAccount the binding grants its role to."""
    found: list[Node] = []
    for subject in account_subjects(binding):
        found += workloads_running_as(graph, binding, subject.namespace, subject.name)
    return found


def _runs_as(ctx: RuleContext, workload: Node) -> Related:
    name, path = service_account_of(workload)
    return ctx.related(
        workload, f"{workload.facts['object']} runs as ServiceAccount '{name}'", path or _pod_path(workload)
    )


def _pod_path(workload: Node) -> tuple[Any, ...]:
    return tuple(workload.facts.get("pod_spec_path") or ())


def _names(nodes: list[Node]) -> str:
    """Kind/name of each node, once (copies of one object in sibling files are one name)."""
    names = list(dict.fromkeys(node.facts["object"] for node in nodes))
    named = ", ".join(names[:MAX_NAMED])
    return named + (f" and {len(names) - MAX_NAMED} more" if len(names) > MAX_NAMED else "")


def _grant(role: Node, entry: Entry, what: str) -> str:
    return f"{role.facts['object']} grants {what} (rules[{entry.position}])"


# -- k8s-rbac-wildcard ------------------------------------------------------------------------------


def rbac_wildcard(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if not _judged_role(node):
        return
    for entry in _entries(node):
        fields = [name for name, values in _fields(entry) if "*" in values]
        if not fields or not _reaches_builtin_groups(entry):
            continue
        what = " and ".join(f"`*` in {field}" for field in fields)
        scope = _wildcard_scope(entry)
        holders = _holders(ctx, node)
        yield Hit(
            f"{_grant(node, entry, what)}: {scope}, and whatever the API adds later{holders.text}",
            path=entry.path(fields[0], "*"),
            related=holders.related,
        )


def _reaches_builtin_groups(entry: Entry) -> bool:
    """Whether the entry grants resources of the API groups Kubernetes serves itself (core, apps,
    rbac ...). `*` confined to named custom groups reaches only those: an operator's own
    CustomResourceDefinitions, or the metrics APIs, whose resources are metric names that cannot
    be listed in advance. An entry of nonResourceURLs names no group."""
    return any(group == "*" or group in BUILTIN_GROUPS for group in entry.groups)


def _fields(entry: Entry) -> list[tuple[str, list[str]]]:
    return [("verbs", entry.verbs), ("resources", entry.resources), ("apiGroups", entry.groups)]


def _wildcard_scope(entry: Entry) -> str:
    verbs = "every verb" if "*" in entry.verbs else ", ".join(entry.verbs) or "no verb"
    if "*" in entry.resources:
        groups = "every API group" if "*" in entry.groups else "API group " + _group_list(entry.groups)
        return f"{verbs} on every resource of {groups}"
    groups = "every API group" if "*" in entry.groups else _group_list(entry.groups)
    return f"{verbs} on {', '.join(entry.resources) or 'no resource'} of {groups}"


def _group_list(groups: list[str]) -> str:
    return ", ".join(f"'{group}'" if group else "'' (core)" for group in groups) or "none"


# -- k8s-cluster-admin-binding ------------------------------------------------------------------


def cluster_admin_binding(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    ref = node.attrs.get("roleRef")
    if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
        return
    if _is_system(node):
        return  # the cluster's own bindings (system:masters' cluster-admin ...)
    holders = _human_subjects(node)
    if not holders:
        return  # only the cluster's own identities (system:masters ...), or none
    if ref["name"] == "cluster-admin" and ref.get("kind") == "ClusterRole":
        role_text, related = "the cluster-admin ClusterRole", []
    else:
        found = _all_wildcard(ctx.graph, node)
        if found is None:
            return
        role, entry = found
        role_text = f"{role.facts['object']}, which grants every verb on every resource (rules[{entry.position}])"
        related = [ctx.related(role, f"{role.facts['object']} grants everything here", entry.path("resources", "*"))]
    where = "cluster-wide" if node.facts["kind"] == "ClusterRoleBinding" else f"in namespace {_namespace(node)}"
    workloads = _workloads_of(ctx.graph, node)
    text = f"{node.facts['object']} grants {role_text} {where} to {', '.join(holders)}"
    if workloads:
        text += f"; {_names(workloads)} {'runs' if len(workloads) == 1 else 'run'} with it"
        related += [_runs_as(ctx, w) for w in workloads]
    yield Hit(text, path=("roleRef", "name"), related=tuple(related[:MAX_RELATED]))


def _namespace(node: Node) -> str:
    return node.facts["namespace"] or "(the one it is applied to)"


def _human_subjects(binding: Node) -> list[str]:
    """The subjects that are not the cluster's own identities (`system:*` users and groups;
    a ServiceAccount named as the user `system:serviceaccount:...` counts as the account)."""
    found = []
    subjects = binding.attrs.get("subjects")
    for subject in subjects if isinstance(subjects, list) else []:
        if not isinstance(subject, dict) or not isinstance(subject.get("name"), str):
            continue
        kind, name = subject.get("kind"), subject["name"]
        if kind == "ServiceAccount":
            namespace = subject.get("namespace") or binding.facts["namespace"]
            found.append(f"ServiceAccount {namespace}/{name}" if namespace else f"ServiceAccount {name}")
        elif not name.startswith(SYSTEM) or name.startswith(SERVICE_ACCOUNT_USER):
            found.append(f"{kind} {name}")
    return found


def _all_wildcard(graph: Graph, binding: Node) -> tuple[Node, Entry] | None:
    """The role the binding grants (or one aggregated into it) and its entry that grants every
    verb on every resource of every API group, as Polaris counts it (`*`, or the seven verbs)."""
    for role in referenced_roles(graph, binding):
        for candidate in [role, *graph.outgoing(role, "aggregates")]:
            for entry in _entries(candidate):
                every_verb = "*" in entry.verbs or set(entry.verbs) >= EVERY_VERB
                if "*" in entry.groups and "*" in entry.resources and every_verb:
                    return candidate, entry
    return None


# -- k8s-rbac-pod-exec --------------------------------------------------------------------------

EXEC_RESOURCES = ("pods/exec", "pods/attach", "nodes/proxy")
EXEC_REASONS = {
    "pods/exec": "runs commands in the containers of other pods",
    "pods/attach": "attaches to the containers of other pods",
    "nodes/proxy": "reaches the kubelet API of the nodes, which runs commands in any of their pods",
    "pods": "starts pods that mount any Secret or run as any ServiceAccount of the namespace",
}


def rbac_pod_exec(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if not _judged_role(node):
        return
    for entry in _entries(node):
        if not entry.in_groups(CORE_GROUPS):
            continue
        grants = []
        access = entry.explicit(entry.verbs, ("get", "create"))
        if access:
            grants += [(resource, access) for resource in entry.explicit(entry.resources, EXEC_RESOURCES)]
        if "create" in entry.verbs and "pods" in entry.resources:
            grants.append(("pods", ["create"]))
        if not grants:
            continue
        what = "; ".join(f"{'/'.join(verbs)} on {resource}" for resource, verbs in grants)
        reasons = "; ".join(dict.fromkeys(EXEC_REASONS[resource] for resource, _verbs in grants))
        holders = _holders(ctx, node)
        yield Hit(
            f"{_grant(node, entry, what)}: its holder {reasons}{holders.text}",
            path=entry.path("resources", grants[0][0]),
            related=holders.related,
        )


# -- k8s-rbac-secrets-read ----------------------------------------------------------------------

READ_VERBS = ("get", "list", "watch")


def rbac_secrets_read(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if not _judged_role(node):
        return
    for entry in _entries(node):
        verbs = entry.explicit(entry.verbs, READ_VERBS)
        if not verbs or "secrets" not in entry.resources or not entry.in_groups(CORE_GROUPS) or entry.names:
            continue  # resourceNames: only the Secrets it names
        holders = _holders(ctx, node)
        if holders.cluster_wide:
            reach = "the Secrets of every namespace, service-account tokens included"
        elif node.facts["kind"] == "ClusterRole" and not holders.text:
            reach = "every Secret of the namespaces it is bound in (of all of them, bound by a ClusterRoleBinding)"
        else:
            reach = "every Secret of the namespace, service-account tokens included"
        yield Hit(
            f"{_grant(node, entry, '/'.join(verbs) + ' on secrets')}: it reads {reach}{holders.text}",
            path=entry.path("resources", "secrets"),
            related=holders.related,
        )


# -- k8s-rbac-escalation-verbs ------------------------------------------------------------------

ROLE_RESOURCES = ("roles", "clusterroles")
IDENTITY_RESOURCES = ("users", "groups", "serviceaccounts", "uids")
WEBHOOK_RESOURCES = ("mutatingwebhookconfigurations", "validatingwebhookconfigurations")
WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
# Signers whose certificates authenticate to the API server as whoever the CSR names.
CLIENT_SIGNERS = (
    "kubernetes.io/kube-apiserver-client",
    "kubernetes.io/kube-apiserver-client-kubelet",
    "kubernetes.io/*",
)


def rbac_escalation_verbs(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if not _judged_role(node):
        return
    for entry in _entries(node):
        found = list(_escalations(entry))
        if not found:
            continue
        holders = _holders(ctx, node)
        what = "; ".join(grant.what for grant in found)
        reasons = "; ".join(dict.fromkeys(grant.reason for grant in found))
        yield Hit(
            f"{_grant(node, entry, what)}: its holder {reasons}{holders.text}",
            path=entry.path("resources", found[0].resource),
            related=holders.related,
        )


class Escalation(NamedTuple):
    what: str  # "bind on clusterroles"
    resource: str  # the one at fault
    reason: str


def _escalations(entry: Entry) -> Iterator[Escalation]:
    """Each way the entry lets its holder raise its rights."""
    if entry.in_groups(RBAC_GROUPS):
        verbs = entry.explicit(entry.verbs, ("escalate", "bind"))
        for resource in entry.explicit(entry.resources, ROLE_RESOURCES) if verbs else ():
            yield Escalation(f"{'/'.join(verbs)} on {resource}", resource, "grants itself roles beyond its own rights")
    if "impersonate" in entry.verbs and not entry.names:
        for resource in entry.resources:
            if resource in IDENTITY_RESOURCES or resource.startswith("userextras"):
                reason = "acts as any user, group or ServiceAccount, system:masters included"
                yield Escalation(f"impersonate on any of {resource}", resource, reason)
    if "approve" in entry.verbs and "signers" in entry.resources and _any_client_signer(entry.names):
        which = "of any name" if not entry.names else "that sign API client certificates"
        reason = "approves certificates that authenticate to the API as any user"
        yield Escalation(f"approve on signers {which}", "signers", reason)
    if entry.in_groups(("admissionregistration.k8s.io", "*")):
        writes = entry.explicit(entry.verbs, WRITE_VERBS)
        if entry.names:  # resourceNames limits all but create (its name is not known in advance)
            writes = [verb for verb in writes if verb == "create"]
        for resource in entry.explicit(entry.resources, WEBHOOK_RESOURCES) if writes else ():
            reason = "intercepts, rewrites or waves through the API requests the webhooks match"
            yield Escalation(f"{'/'.join(writes)} on {resource}", resource, reason)


def _any_client_signer(names: list[str]) -> bool:
    return not names or any(name in CLIENT_SIGNERS for name in names)


# -- service accounts -----------------------------------------------------------------------------


def _pod_spec(workload: Node) -> dict[str, Any]:
    data: Any = workload.attrs
    for key in _pod_path(workload):
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def automount_service_account_token(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """Warning when a binding of the scan grants the account a role (the token carries it); a
    note when none does. `automountServiceAccountToken` written on the pod, true or false, is a
    decision and wins over its account's."""
    own = _pod_spec(node).get("automountServiceAccountToken")
    if isinstance(own, bool):
        return
    name, path = service_account_of(node)
    accounts = nearest_named(ctx.graph, node, "ServiceAccount", name)
    if any(account.attrs.get("automountServiceAccountToken") is False for account in accounts):
        return
    mounts = f"{node.facts['object']} mounts the API token of ServiceAccount '{name}' in every container"
    grants = account_bindings(ctx.graph, node, node.facts["namespace"], name)
    if not grants:
        yield Hit(
            f"{mounts}, though no binding in the scan grants that account anything: if the pods do not call "
            "the API, leave it out",
            path=path or _pod_path(node),
            severity=Severity.NOTE,
            cause=_one_account_cause(node, name),
        )
        return
    bindings = [binding for binding, _index in grants]
    yield Hit(
        f"{mounts}, and {_names(bindings)} {_grant_verb(bindings)} that account roles: whoever gets into any of "
        "them acts with those rights (mount it only where the API is called)",
        path=path or _pod_path(node),
        related=tuple(
            ctx.related(
                binding, f"{binding.facts['object']} grants ServiceAccount '{name}' a role here", ("subjects", index)
            )
            for binding, index in grants[:MAX_RELATED]
        ),
    )


def _one_account_cause(node: Node, account: str) -> str:
    """Pods of one namespace (or, without one, one folder) that run as one ServiceAccount nothing
    grants anything: `automountServiceAccountToken: false` on that account fixes them all."""
    scope = node.facts.get("render_scope") or node.facts.get("namespace") or node.path.rpartition("/")[0]
    return f"automount-unused:{scope}:{account}"


def _grant_verb(bindings: list[Node]) -> str:
    return "grants" if len({binding.facts["object"] for binding in bindings}) == 1 else "grant"


def service_account_missing(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    name, path = service_account_of(node)
    if path is None or name == "default":
        return  # every namespace has its `default` account
    if nearest_named(ctx.graph, node, "ServiceAccount", name) or not defines_near(ctx.graph, "ServiceAccount", node):
        return
    if rendered_with_test_values(node):
        return  # test values name accounts made outside the chart
    yield Hit(
        f"{node.facts['object']} runs as ServiceAccount '{name}', which the scan does not define (it defines other "
        "ServiceAccounts there): the API refuses to create its pods",
        path=path,
    )


def default_service_account(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    name, path = service_account_of(node)
    if name != "default":
        return
    grants = account_bindings(ctx.graph, node, node.facts["namespace"], "default")
    if not grants:
        return
    bindings = [binding for binding, _index in grants]
    yield Hit(
        f"{node.facts['object']} runs as the namespace's `default` ServiceAccount, which {_names(bindings)} "
        f"{_grant_verb(bindings)} roles: every pod of the namespace that names no account gets them too",
        path=path or _pod_path(node),
        related=tuple(
            ctx.related(
                binding, f"{binding.facts['object']} grants the `default` account a role here", ("subjects", index)
            )
            for binding, index in grants[:MAX_RELATED]
        ),
    )


CHECKS: dict[str, CheckFn] = {
    "k8s-rbac-wildcard": rbac_wildcard,
    "k8s-cluster-admin-binding": cluster_admin_binding,
    "k8s-rbac-pod-exec": rbac_pod_exec,
    "k8s-rbac-secrets-read": rbac_secrets_read,
    "k8s-rbac-escalation-verbs": rbac_escalation_verbs,
    "k8s-automount-service-account-token": automount_service_account_token,
    "k8s-service-account-missing": service_account_missing,
    "k8s-default-service-account": default_service_account,
}
