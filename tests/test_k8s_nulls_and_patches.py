"""A null field is no field; a patch is what a kustomization patches with; a pod template
without containers makes no pods."""

from __future__ import annotations

from pathlib import Path

from scanning import found, scan_tree, write

from infralint.parsers.kubernetes import drop_nulls

WEB = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
"""

# Shaped like a patch: no selector, no labels, only what it changes.
PATCH = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.27
"""


def test_nulls_are_dropped_but_string_maps_keep_their_keys() -> None:
    data = {
        "spec": {
            "replicas": None,
            "selector": {"matchLabels": {"app": None}},
            "template": {
                "metadata": {"labels": {"tier": None}, "annotations": {"note": None}},
                "spec": {"securityContext": None, "containers": [{"name": "a", "resources": {"limits": None}}]},
            },
        },
        "data": {"key": None},
    }
    drop_nulls(data)
    assert data == {
        "spec": {
            "selector": {"matchLabels": {"app": None}},
            "template": {
                "metadata": {"labels": {"tier": None}, "annotations": {"note": None}},
                "spec": {"containers": [{"name": "a", "resources": {}}]},
            },
        },
        "data": {"key": None},
    }


def test_a_service_selector_is_a_string_map() -> None:
    data = {"spec": {"selector": {"app": None}, "clusterIP": None}}
    drop_nulls(data)
    assert data == {"spec": {"selector": {"app": None}}}


def test_a_null_field_inherits_the_pods_value(tmp_path: Path) -> None:
    write(
        tmp_path,
        "web.yaml",
        WEB.replace("      containers:", "      securityContext: {runAsNonRoot: true}\n      containers:")
        + "          securityContext: {runAsNonRoot: null, allowPrivilegeEscalation: false}\n",
    )
    assert not found(scan_tree(tmp_path, select=["k8s-run-as-root"]))


def test_a_null_request_is_defaulted_from_the_limit(tmp_path: Path) -> None:
    resources = "          resources:\n            requests: {cpu: null, memory: null}\n            limits: {cpu: 1, memory: 1Gi}\n"
    write(tmp_path, "web.yaml", WEB + resources)
    assert not found(scan_tree(tmp_path, select=["k8s-missing-resource-requests"]))


def test_a_custom_resource_keeps_its_nulls(tmp_path: Path) -> None:
    """A null in a HelmRelease's values unsets a chart default: it is data, not a missing field."""
    from infralint.parsers.kubernetes import parse
    from infralint.source import SourceFile

    text = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: x}\nspec:\n  values: {a: null}\n"
    (node,) = parse(SourceFile("x.yaml", str(tmp_path / "x.yaml"), text, "k8s")).nodes
    assert node.attrs["spec"]["values"] == {"a": None}


def test_only_a_document_a_kustomization_patches_with_is_a_patch(tmp_path: Path) -> None:
    write(tmp_path, "base/web.yaml", WEB)
    write(tmp_path, "base/kustomization.yaml", "resources: [web.yaml]\n")
    write(tmp_path, "prod/kustomization.yaml", "resources: [../base]\npatchesStrategicMerge: [replicas.yaml]\n")
    write(tmp_path, "prod/replicas.yaml", PATCH)
    write(tmp_path, "staging/kustomization.yaml", "resources: [../base]\npatches:\n  - path: ./patches/replicas.yaml\n")
    write(tmp_path, "staging/patches/replicas.yaml", PATCH)
    write(tmp_path, "unused/replicas.yaml", PATCH)
    report = scan_tree(tmp_path, render=False, select=["k8s-selector-mismatch", "k8s-no-pod-disruption-budget"])
    assert found(report) == {
        ("base/web.yaml", 1, "k8s-no-pod-disruption-budget"),
        ("unused/replicas.yaml", 1, "k8s-no-pod-disruption-budget"),
        ("unused/replicas.yaml", 5, "k8s-selector-mismatch"),
    }


def test_a_template_without_containers_is_no_pod(tmp_path: Path) -> None:
    """Neither a Service nor a budget selects it, and a budget counts no pods of it."""
    empty = WEB.replace(
        "      containers:\n        - name: web\n          image: nginx:1.27\n", "      containers: []\n"
    )
    write(tmp_path, "empty.yaml", empty)
    write(tmp_path, "api.yaml", WEB.replace("web", "api"))
    write(
        tmp_path,
        "web-pdb.yaml",
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\n"
        "spec:\n  minAvailable: 1\n  selector: {matchLabels: {app: web}}\n",
    )
    report = scan_tree(
        tmp_path, render=False, select=["k8s-pdb-selects-nothing", "k8s-single-replica", "k8s-no-pod-disruption-budget"]
    )
    assert found(report) == {
        ("web-pdb.yaml", 6, "k8s-pdb-selects-nothing"),
        ("api.yaml", 1, "k8s-no-pod-disruption-budget"),
    }


def test_kustomize_common_labels_write_the_selector(tmp_path: Path) -> None:
    """Judged unbuilt, a workload a kustomization gives commonLabels (or labels with
    includeSelectors) has the selector kustomize writes; another one has none."""
    write(tmp_path, "base/kustomization.yaml", "resources: [web.yaml]\n")
    write(tmp_path, "base/web.yaml", PATCH)
    write(tmp_path, "prod/kustomization.yaml", "resources: [../base]\ncommonLabels: {app: web}\n")
    write(
        tmp_path,
        "api/kustomization.yaml",
        "resources: [api.yaml]\nlabels:\n  - pairs: {app: api}\n    includeSelectors: true\n",
    )
    write(tmp_path, "api/api.yaml", PATCH.replace("web", "api"))
    write(tmp_path, "jobs/kustomization.yaml", "resources: [worker.yaml]\nlabels:\n  - pairs: {app: worker}\n")
    write(tmp_path, "jobs/worker.yaml", PATCH.replace("web", "worker"))
    report = scan_tree(tmp_path, render=False, select=["k8s-selector-mismatch"])
    assert found(report) == {("jobs/worker.yaml", 5, "k8s-selector-mismatch")}
