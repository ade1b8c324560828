"""NetworkPolicy coverage rules: namespaces as the scan sees them, selectors evaluated or left
alone, and the messages, for cases the fixtures do not spell out."""

from __future__ import annotations

from pathlib import Path

import pytest
from scanning import scan_tree, write

from infralint.checks.k8s_network_policy import _judgeable, _named_namespaces

NO_POLICY = "k8s-no-network-policy"
PEER = "k8s-networkpolicy-peer-selects-nothing"


def deployment(name: str, namespace: str | None = None, labels: str = "") -> str:
    ns = f"\n  namespace: {namespace}" if namespace else ""
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}{ns}
spec:
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}{labels}}}
    spec:
      containers:
        - name: app
          image: example/{name}:1.0.0
"""


def policy(name: str, selector: str, namespace: str | None = None, extra: str = "") -> str:
    ns = f"\n  namespace: {namespace}" if namespace else ""
    return f"""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {name}{ns}
spec:
  podSelector: {selector}
{extra}"""


def findings(root: Path, rule: str) -> list[tuple[str, int | None, str]]:
    report = scan_tree(root, select=[rule])
    return sorted((f.span.path, f.span.line, f.message) for f in report.findings if f.rule_id == rule)


def test_default_deny_silences_a_namespace_of_many_unselected_workloads(tmp_path: Path) -> None:
    docs = [deployment(f"svc{i}", "shop") for i in range(12)]
    docs.append(policy("only-svc0", "{matchLabels: {app: svc0}}", "shop"))
    write(tmp_path, "all.yaml", "---\n".join(docs))
    assert len(findings(tmp_path, NO_POLICY)) == 11  # one finding per unselected workload
    write(tmp_path, "deny.yaml", policy("default-deny", "{}", "shop", "  policyTypes: [Ingress, Egress]\n"))
    assert findings(tmp_path, NO_POLICY) == []


def test_message_names_the_namespace_and_its_policies(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", deployment("web", "shop") + "---\n" + policy("api", "{matchLabels: {app: api}}", "shop"))
    [(path, line, message)] = findings(tmp_path, NO_POLICY)
    assert (path, line) == ("a.yaml", 1)
    assert message == (
        "Deployment/web is selected by no NetworkPolicy, while namespace shop has 1 NetworkPolicy (api) "
        "for other pods: its pods accept all ingress and may send all egress traffic"
    )


def test_a_policy_of_another_namespace_is_no_context(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", deployment("web", "shop") + "---\n" + policy("api", "{matchLabels: {app: api}}", "data"))
    assert findings(tmp_path, NO_POLICY) == []


def test_default_namespace_needs_the_same_folder_tree(tmp_path: Path) -> None:
    """`default` is what unrelated examples all name: a policy of another app is no context."""
    write(tmp_path, "one/web.yaml", deployment("web", "default"))
    write(tmp_path, "two/policy.yaml", policy("api", "{matchLabels: {app: api}}", "default"))
    assert findings(tmp_path, NO_POLICY) == []
    write(tmp_path, "one/policy.yaml", policy("db", "{matchLabels: {app: db}}"))
    assert [path for path, _, _ in findings(tmp_path, NO_POLICY)] == ["one/web.yaml"]


def test_a_policy_in_a_parent_folder_counts_for_workloads_below(tmp_path: Path) -> None:
    write(tmp_path, "app/deny.yaml", policy("deny", "{}"))
    write(tmp_path, "app/web/web.yaml", deployment("web"))
    write(tmp_path, "app/api/api.yaml", deployment("api"))
    assert findings(tmp_path, NO_POLICY) == []


def test_selected_through_a_run_time_label(tmp_path: Path) -> None:
    """A podSelector on `pod-template-hash` matches the pods once they run."""
    selector = "{matchLabels: {app: web, pod-template-hash: 5d4f8b7c9}}"
    write(tmp_path, "a.yaml", deployment("web", "shop") + "---\n" + policy("web", selector, "shop"))
    assert findings(tmp_path, NO_POLICY) == []


def test_statefulset_pod_name_selects_one_pod(tmp_path: Path) -> None:
    statefulset = (
        deployment("db", "data")
        .replace("Deployment", "StatefulSet")
        .replace("spec:\n  selector", "spec:\n  replicas: 3\n  serviceName: db\n  selector", 1)
    )
    selector = "{matchLabels: {statefulset.kubernetes.io/pod-name: db-0}}"
    write(tmp_path, "a.yaml", statefulset + "---\n" + policy("primary", selector, "data"))
    assert findings(tmp_path, NO_POLICY) == []


def test_peer_message_counts_the_workloads(tmp_path: Path) -> None:
    extra = """  ingress:
    - from:
        - podSelector:
            matchLabels: {app: frontend}
"""
    docs = [
        deployment("api", "shop"),
        deployment("web", "shop"),
        policy("api", "{matchLabels: {app: api}}", "shop", extra),
    ]
    write(tmp_path, "a.yaml", "---\n".join(docs))
    [(_path, line, message)] = findings(tmp_path, PEER)
    assert line == 42  # the peer's podSelector
    assert message.startswith(
        "NetworkPolicy/api admits traffic from pods with app=frontend, which match no pod of the 2 workloads "
        "in namespace shop:"
    )


def test_peer_in_a_named_namespace_the_scan_holds_no_workloads_of(tmp_path: Path) -> None:
    extra = """  egress:
    - to:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: data}}
          podSelector: {matchLabels: {app: postgres}}
"""
    write(
        tmp_path,
        "a.yaml",
        deployment("api", "shop") + "---\n" + policy("api", "{matchLabels: {app: api}}", "shop", extra),
    )
    assert findings(tmp_path, PEER) == []
    write(tmp_path, "b.yaml", deployment("redis", "data"))
    assert len(findings(tmp_path, PEER)) == 1


def test_peer_in_a_namespace_with_operator_run_pods_is_not_judged(tmp_path: Path) -> None:
    extra = """  ingress:
    - from:
        - podSelector: {matchLabels: {cluster-name: main-db}}
"""
    cluster = """apiVersion: acid.zalan.do/v1
kind: postgresql
metadata:
  name: main-db
  namespace: shop
spec:
  numberOfInstances: 2
  volume: {size: 1Gi}
  resources: {requests: {cpu: 100m}}
"""
    docs = [deployment("api", "shop"), policy("api", "{matchLabels: {app: api}}", "shop", extra)]
    write(tmp_path, "a.yaml", "---\n".join(docs))
    assert len(findings(tmp_path, PEER)) == 1
    write(tmp_path, "db.yaml", cluster)
    assert findings(tmp_path, PEER) == []


@pytest.mark.parametrize(
    ("selector", "names"),
    [
        ({"matchLabels": {"kubernetes.io/metadata.name": "data"}}, ["data"]),
        (
            {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["a", "b"]}]},
            ["a", "b"],
        ),
        (
            {
                "matchLabels": {"kubernetes.io/metadata.name": "a"},
                "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["a", "b"]}],
            },
            ["a"],
        ),
        ({}, None),  # every namespace
        ({"matchLabels": {"team": "payments"}}, None),
        ({"matchLabels": {"kubernetes.io/metadata.name": "a", "team": "x"}}, None),
        ({"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["a"]}]}, None),
        ("monitoring", None),
    ],
)
def test_named_namespaces(selector: object, names: list[str] | None) -> None:
    assert _named_namespaces(selector) == names


@pytest.mark.parametrize(
    ("selector", "judgeable"),
    [
        ({"matchLabels": {"app": "web"}}, True),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["x"]}]}, True),
        ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["x"]}]}, True),
        ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, True),
        ({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}, False),
        ({"matchExpressions": [{"key": "a", "operator": "In"}]}, False),
        ({"matchExpressions": "app in (web)"}, False),
        ({"matchLabels": {"app": "{{ .Values.app }}"}}, False),
        ({"matchLabels": {"app": "${APP}"}}, False),
        (None, False),
    ],
)
def test_judgeable(selector: object, judgeable: bool) -> None:
    assert _judgeable(selector) is judgeable


def test_a_policy_without_namespace_judges_named_namespaces_only_in_its_own_folder(tmp_path: Path) -> None:
    """It covers them (no finding), but is no context to judge them by when it lies elsewhere."""
    write(tmp_path, "policy.yaml", policy("api", "{matchLabels: {app: api}}"))
    write(tmp_path, "apps/web.yaml", deployment("web", "shop"))
    assert findings(tmp_path, NO_POLICY) == []
    write(tmp_path, "apps/policy.yaml", policy("db", "{matchLabels: {app: db}}"))
    assert [path for path, _, _ in findings(tmp_path, NO_POLICY)] == ["apps/web.yaml"]


def test_a_peer_is_judged_against_workloads_surely_in_its_namespace(tmp_path: Path) -> None:
    extra = """  ingress:
    - from:
        - podSelector: {matchLabels: {app: frontend}}
"""
    write(tmp_path, "web.yaml", deployment("web"))
    write(tmp_path, "shop/policy.yaml", policy("api", "{matchLabels: {app: api}}", "shop", extra))
    assert findings(tmp_path, PEER) == []
    write(tmp_path, "shop/api.yaml", deployment("api"))
    [(_path, _line, message)] = findings(tmp_path, PEER)
    assert "the 2 workloads in namespace shop (2 of them without a namespace of their own)" in message


def test_an_overlay_without_the_policies_is_not_judged_by_another_overlay(tmp_path: Path) -> None:
    """Two overlays of one base into the same namespace are two deployments (two clusters, say):
    the overlay that adds the policies component is judged, the other is not."""
    from infralint.render.kustomize import find_binary

    if find_binary() is None:
        pytest.skip("no kustomize or kubectl")
    write(tmp_path, "base/web.yaml", deployment("web"))
    write(tmp_path, "base/worker.yaml", deployment("worker"))
    write(tmp_path, "base/kustomization.yaml", "resources:\n  - web.yaml\n  - worker.yaml\n")
    write(tmp_path, "policies/web.yaml", policy("web", "{matchLabels: {app: web}}"))
    write(
        tmp_path,
        "policies/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - web.yaml\n",
    )
    write(tmp_path, "overlays/dev/kustomization.yaml", "namespace: shop\nresources:\n  - ../../base\n")
    write(
        tmp_path,
        "overlays/prod/kustomization.yaml",
        "namespace: shop\nresources:\n  - ../../base\ncomponents:\n  - ../../policies\n",
    )
    report = scan_tree(tmp_path, select=[NO_POLICY])
    [finding] = report.findings
    assert finding.span.path == "base/worker.yaml"
    assert finding.message.endswith("[in kustomize root overlays/prod]")
