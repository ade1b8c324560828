"""kustomize: kustomization files are objects; the files they apply as patches are not judged alone."""

from __future__ import annotations

from pathlib import Path

from scanning import found, scan_tree, write

PATCH = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx
"""


def test_patch_files_are_not_linted_alone(tmp_path: Path) -> None:
    write(tmp_path, "overlay/kustomization.yaml", "resources: [../base]\npatches:\n  - path: replicas.yaml\n")
    write(tmp_path, "overlay/replicas.yaml", PATCH)
    write(tmp_path, "other/deploy.yaml", PATCH)
    report = scan_tree(tmp_path, select=["k8s-image-latest-tag"], render=False)  # as without a kustomize binary
    assert found(report) == {("other/deploy.yaml", 10, "k8s-image-latest-tag")}


def test_a_kustomization_without_api_version_defines_its_generated_secrets(tmp_path: Path) -> None:
    write(tmp_path, "app/kustomization.yaml", "secretGenerator:\n  - name: db\n    literals: [password=x]\n")
    write(tmp_path, "app/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: tls}\n")
    write(
        tmp_path,
        "app/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n    - name: web\n      image: nginx:1\n"
        "      envFrom:\n        - secretRef: {name: db}\n        - secretRef: {name: missing}\n",
    )
    report = scan_tree(tmp_path, select=["k8s-missing-configmap-or-secret"])
    assert report.files_by_kind["k8s"] == 3
    assert found(report) == {("app/pod.yaml", 10, "k8s-missing-configmap-or-secret")}
