"""RBAC links (binding -> role, binding -> ServiceAccount, aggregation) and what the RBAC and
service-account rules say about who holds a grant."""

from __future__ import annotations

from pathlib import Path

from graphs import edges, graph_of
from scanning import scan_tree, write

from infralint.graph.k8s_links import account_bindings, workloads_running_as

RBAC = """\
apiVersion: v1
kind: ServiceAccount
metadata: {name: sync, namespace: tools}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader, labels: {rbac.example.com/aggregate-to-ops: "true"}}
rules:
  - apiGroups: [""]
    resources: [secrets]
    verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ops}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {rbac.example.com/aggregate-to-ops: "true"}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ops}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ops}
subjects:
  - {kind: ServiceAccount, name: sync, namespace: tools}
  - {kind: User, name: "system:serviceaccount:tools:backup"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: sync, namespace: tools}
spec:
  selector: {matchLabels: {app: sync}}
  template:
    metadata: {labels: {app: sync}}
    spec:
      serviceAccountName: sync
      containers: [{name: sync, image: "registry.example.com/sync:1.0"}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: backup, namespace: tools}
spec:
  schedule: "0 2 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          serviceAccountName: backup
          restartPolicy: OnFailure
          containers: [{name: backup, image: "registry.example.com/backup:1.0"}]
"""


def test_bindings_link_roles_accounts_and_aggregated_roles(tmp_path: Path) -> None:
    write(tmp_path, "rbac.yaml", RBAC)
    graph = graph_of(tmp_path)
    assert edges(graph, "binds") == {("k8s/ClusterRoleBinding/-/ops", "k8s/ClusterRole/-/ops")}
    assert edges(graph, "grants") == {("k8s/ClusterRoleBinding/-/ops", "k8s/ServiceAccount/tools/sync")}
    assert edges(graph, "aggregates") == {("k8s/ClusterRole/-/ops", "k8s/ClusterRole/-/reader")}
    binding = graph.nodes["k8s/ClusterRoleBinding/-/ops"]
    workload = graph.nodes["k8s/CronJob/tools/backup"]
    # An account the scan only names (as a user name) is found without a ServiceAccount object.
    assert account_bindings(graph, workload, "tools", "backup") == [(binding, 1)]
    assert [w.id for w in workloads_running_as(graph, binding, "tools", "backup")] == ["k8s/CronJob/tools/backup"]
    assert account_bindings(graph, workload, "other", "backup") == []


def test_secrets_read_through_aggregation_names_the_holders(tmp_path: Path) -> None:
    write(tmp_path, "rbac.yaml", RBAC)
    report = scan_tree(tmp_path, select=["k8s-rbac-secrets-read"])
    [finding] = report.findings
    assert finding.span.line == 10
    assert "the Secrets of every namespace" in finding.message
    assert "bound cluster-wide by ClusterRoleBinding/ops" in finding.message
    assert "Deployment/sync, CronJob/backup run with it" in finding.message
    assert {related.span.line for related in finding.related} == {22, 35, 47}  # roleRef, each serviceAccountName


def test_automount_warns_with_the_binding_that_grants_the_account(tmp_path: Path) -> None:
    write(tmp_path, "rbac.yaml", RBAC)
    report = scan_tree(tmp_path, select=["k8s-automount-service-account-token"])
    by_object = {f.message.split(" ", 1)[0]: f for f in report.findings}
    assert set(by_object) == {"Deployment/sync", "CronJob/backup"}
    assert all(f.severity.value == "warning" for f in report.findings)
    assert "ClusterRoleBinding/ops grants that account roles" in by_object["CronJob/backup"].message


def test_cluster_admin_binding_names_the_workload_and_the_scope(tmp_path: Path) -> None:
    write(
        tmp_path,
        "admin.yaml",
        RBAC
        + """\
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: sync-admin, namespace: tools}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: sync}]
""",
    )
    report = scan_tree(tmp_path, select=["k8s-cluster-admin-binding"])
    [finding] = report.findings
    assert finding.message.startswith(
        "RoleBinding/sync-admin grants the cluster-admin ClusterRole in namespace tools to ServiceAccount tools/sync"
    )
    assert "Deployment/sync runs with it" in finding.message


def test_default_account_of_unnamed_namespaces_is_judged_within_one_app(tmp_path: Path) -> None:
    binding = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: default-view}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: default}]
"""
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: web, image: web:1}]\n"
    write(tmp_path, "blog/rbac.yaml", binding)
    write(tmp_path, "blog/pod.yaml", pod)
    write(tmp_path, "shop/pod.yaml", pod)
    report = scan_tree(tmp_path, select=["k8s-default-service-account"])
    assert [(f.span.path, f.span.line) for f in report.findings] == [("blog/pod.yaml", 4)]
