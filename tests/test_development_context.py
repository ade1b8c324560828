"""Development files (a devenv, a CI compose file, a Tilt overlay, a chart's test values) get only
correctness checks; their production-hardening findings are counted, not listed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scanning import deployment, found, run_cli, scan_tree, write

from infralint.catalog import meta_by_id
from infralint.development import DEFAULT_DEVELOPMENT_PATHS, DevelopmentPaths, applies_in_development

# --- which paths are development --------------------------------------------------------------

DEVELOPMENT = (
    "docker-compose.dev.yml",
    "compose.local.yaml",
    "docker-compose-local.yml",
    "docker-compose.ci.yml",
    "docker-compose.ci-test.yml",
    "docker-compose.e2e.yml",
    "deploy/test-nginx.conf",
    "nginx.dev.conf",
    "manifests/fake-teams-api.yaml",
    "k8s/mock-oauth-server.yaml",
    "stub_payments.yaml",
    "values.local.yaml",
    "local.yml",
    "docker/devenv/docker-compose.main.yml",
    "docker/devenv/files/nginx.conf",
    "docker/gitpod/files/nginx.conf",
    ".devcontainer/docker-compose.yml",
    "manifests/dev-tilt/kustomization.yaml",
    "rtcstats/localstack/localstack.yml",
    "frontend-dev/nginx.conf",
    "charts/zulip/ci/test-values.yaml",
    "demo-setups/relay-compose.yaml",
    "compose.demo.yaml",
    "compose.tests.yaml",
    "devcontainer-example/docker-compose.yml",
)
PRODUCTION = (
    "docker-compose.yml",
    "production.yml",
    "k8s/deviceplugin.yaml",
    "k8s/devices.yaml",
    "latest.yaml",
    "contest.yaml",
    "citadel.yaml",
    "k8s/node-local-dns.yaml",
    "k8s/local-path-storage.yaml",
    "gemma/deployment-local.yaml",
    "gitlab-ci-runner.yaml",
    "overlays/dev/kustomization.yaml",  # a deployment to a development cluster
    "testing/pod.yaml",
    "developer-portal.yaml",
    "charts/web/values-ci.yaml.tpl",
    "charts/web/ci/README.yaml",
    "examples/external-databases/docker-compose.override.yaml",  # what users copy
    "demographics.yaml",
)


@pytest.mark.parametrize("path", DEVELOPMENT)
def test_development_paths(path: str) -> None:
    assert DevelopmentPaths(DEFAULT_DEVELOPMENT_PATHS, lambda p: p)(path)


@pytest.mark.parametrize("path", PRODUCTION)
def test_production_paths(path: str) -> None:
    assert not DevelopmentPaths(DEFAULT_DEVELOPMENT_PATHS, lambda p: p)(path)


def test_correctness_and_input_rules_apply_in_development_the_others_do_not() -> None:
    metas = meta_by_id()
    assert applies_in_development(metas["compose-undefined-reference"])
    assert applies_in_development(metas["infralint-parse-error"])
    assert applies_in_development(metas["k8s-service-selects-nothing"])
    assert not applies_in_development(metas["compose-privileged"])
    assert not applies_in_development(metas["k8s-single-replica"])
    assert not applies_in_development(metas["nginx-server-tokens"])


def test_a_rules_development_field_overrides_its_tags() -> None:
    from dataclasses import replace

    from infralint.resources import data_dir
    from infralint.rules.loader import read_rule_file, to_meta

    data = read_rule_file(data_dir("rules") / "compose" / "compose-undefined-reference.yaml")
    assert to_meta(data).development is None
    assert not applies_in_development(to_meta({**data, "development": False}))
    assert applies_in_development(replace(meta_by_id()["compose-privileged"], development=True))


def test_explain_says_whether_a_rule_is_reported_in_development_files(tmp_path: Path) -> None:
    _code, output = run_cli("explain", "k8s-run-as-root", cwd=tmp_path)
    assert "In development files (development-paths): not reported" in output
    _code, output = run_cli("explain", "compose-undefined-reference", cwd=tmp_path)
    assert "In development files (development-paths): reported" in output


# --- compose and the configs it mounts --------------------------------------------------------

DEV_COMPOSE = """services:
  web:
    image: example/web:1.4.2
    privileged: true
    environment:
      DB_PASSWORD: hunter2
    depends_on:
      - cache
"""


def _compose_tree(root: Path) -> None:
    write(root, "dev/docker-compose.dev.yml", DEV_COMPOSE)
    write(root, "prod/docker-compose.yml", DEV_COMPOSE.replace("cache", "db"))  # not a copy: not folded


def test_a_dev_compose_file_keeps_its_correctness_findings_only(tmp_path: Path) -> None:
    _compose_tree(tmp_path)
    report = scan_tree(tmp_path)
    assert {f for f in found(report) if f[0].startswith("dev/")} == {
        ("dev/docker-compose.dev.yml", 8, "compose-undefined-reference"),
    }
    assert {f for f in found(report) if f[0].startswith("prod/")} == {
        ("prod/docker-compose.yml", 2, "compose-no-new-privileges"),
        ("prod/docker-compose.yml", 2, "compose-no-resource-limits"),
        ("prod/docker-compose.yml", 2, "compose-no-restart-policy"),
        ("prod/docker-compose.yml", 4, "compose-privileged"),
        ("prod/docker-compose.yml", 6, "compose-secret-in-environment"),
        ("prod/docker-compose.yml", 8, "compose-undefined-reference"),
    }
    assert report.development == {
        "compose-no-new-privileges": 1,
        "compose-no-resource-limits": 1,
        "compose-no-restart-policy": 1,
        "compose-privileged": 1,
        "compose-secret-in-environment": 1,
    }


def test_the_summary_counts_what_development_context_left_out(tmp_path: Path) -> None:
    _compose_tree(tmp_path)
    code, output = run_cli("scan", "--no-color", ".", cwd=tmp_path)
    assert code == 1
    assert "dev/docker-compose.dev.yml:4" not in output
    assert output.rstrip().endswith(
        "5 hardening findings in development files or configs no deployment uses not reported"
        " (development-paths; --no-development-paths shows them)."
    )
    _code, output = run_cli("scan", "--format", "json", ".", cwd=tmp_path)
    summary = json.loads(output)["summary"]
    assert summary["development"] == {
        "hidden": 5,
        "by_rule": {
            "compose-no-new-privileges": 1,
            "compose-no-resource-limits": 1,
            "compose-no-restart-policy": 1,
            "compose-privileged": 1,
            "compose-secret-in-environment": 1,
        },
    }
    assert summary["total"] == 7


def test_development_paths_can_be_turned_off(tmp_path: Path) -> None:
    _compose_tree(tmp_path)
    everything = {
        ("dev/docker-compose.dev.yml", 2, "compose-no-new-privileges"),
        ("dev/docker-compose.dev.yml", 2, "compose-no-resource-limits"),
        ("dev/docker-compose.dev.yml", 2, "compose-no-restart-policy"),
        ("dev/docker-compose.dev.yml", 4, "compose-privileged"),
        ("dev/docker-compose.dev.yml", 6, "compose-secret-in-environment"),
        ("dev/docker-compose.dev.yml", 8, "compose-undefined-reference"),
    }
    report = scan_tree(tmp_path, development_paths=False)
    assert {f for f in found(report) if f[0].startswith("dev/")} == everything
    assert not report.development
    _code, output = run_cli("scan", "--no-color", "--no-development-paths", ".", cwd=tmp_path)
    assert "dev/docker-compose.dev.yml:4:5: error compose-privileged" in output
    assert "development files" not in output
    write(tmp_path, ".infralint.yaml", "development-paths: []\n")
    _code, output = run_cli("scan", "--no-color", ".", cwd=tmp_path)
    assert "dev/docker-compose.dev.yml:4:5: error compose-privileged" in output


def test_configured_development_paths_replace_the_default(tmp_path: Path) -> None:
    _compose_tree(tmp_path)
    write(tmp_path, ".infralint.yaml", "development-paths: [prod/]\n")
    _code, output = run_cli("scan", "--no-color", ".", cwd=tmp_path)
    assert "dev/docker-compose.dev.yml:4:5: error compose-privileged" in output
    assert "prod/docker-compose.yml:4" not in output
    assert "prod/docker-compose.yml:8:9: error compose-undefined-reference" in output


def test_a_dev_file_named_on_the_command_line_is_still_a_dev_file(tmp_path: Path) -> None:
    _compose_tree(tmp_path)
    report = scan_tree(tmp_path, "dev/docker-compose.dev.yml")
    assert found(report) == {("dev/docker-compose.dev.yml", 8, "compose-undefined-reference")}


NGINX = """events {}
http {
  server {
    listen 80;
    autoindex on;
    location / {
      root /srv;
    }
  }
}
"""

MOUNTING = """services:
  proxy:
    image: nginx:1.27.2
    volumes:
      - ./nginx/nginx.conf:/etc/nginx/nginx.conf:ro
"""


def test_a_config_only_a_dev_compose_file_mounts_is_development(tmp_path: Path) -> None:
    write(tmp_path, "docker-compose.ci-test.yml", MOUNTING)
    write(tmp_path, "nginx/nginx.conf", NGINX)
    report = scan_tree(tmp_path)
    assert found(report) == set()
    assert report.development == {
        "compose-no-new-privileges": 1,
        "compose-no-resource-limits": 1,
        "compose-no-restart-policy": 1,
        "nginx-autoindex": 1,
        "nginx-server-tokens": 1,
    }


def test_a_config_a_production_compose_file_mounts_too_is_judged(tmp_path: Path) -> None:
    write(tmp_path, "docker-compose.ci-test.yml", MOUNTING)
    write(tmp_path, "deploy/docker-compose.yml", MOUNTING.replace("./nginx/", "../nginx/"))
    write(tmp_path, "nginx/nginx.conf", NGINX)
    report = scan_tree(tmp_path, select=["nginx"])
    assert found(report) == {("nginx/nginx.conf", 2, "nginx-server-tokens"), ("nginx/nginx.conf", 5, "nginx-autoindex")}


# --- kustomize roots ---------------------------------------------------------------------------

BASE_DEPLOYMENT = deployment(
    "registry.example.com/api:2.1.0", "          securityContext:\n            runAsNonRoot: true\n"
)

TILT = """resources:
  - ../base
patches:
  - target: {kind: Deployment, name: api}
    patch: |-
      - op: remove
        path: /spec/template/spec/containers/0/securityContext
"""


@pytest.fixture
def kustomize_binary() -> None:
    from infralint.render.kustomize import find_binary

    if find_binary() is None:
        pytest.skip("no kustomize or kubectl")


def _kustomize_tree(root: Path, base: str = BASE_DEPLOYMENT, tilt: str = TILT) -> None:
    write(root, "manifests/base/deployment.yaml", base)
    write(root, "manifests/base/kustomization.yaml", "resources:\n  - deployment.yaml\n")
    write(root, "manifests/prod/kustomization.yaml", "resources:\n  - ../base\n")
    write(root, "manifests/dev-tilt/kustomization.yaml", tilt)


@pytest.mark.usefixtures("kustomize_binary")
def test_a_tilt_overlay_that_removes_the_security_context_is_development(tmp_path: Path) -> None:
    _kustomize_tree(tmp_path)
    report = scan_tree(tmp_path, select=["k8s-run-as-root"])
    assert found(report) == set()
    assert report.development == {"k8s-run-as-root": 1}
    report = scan_tree(tmp_path, select=["k8s-run-as-root"], development_paths=False)
    assert found(report) == {("manifests/base/deployment.yaml", 14, "k8s-run-as-root")}
    [finding] = report.findings
    assert [r.span.path for r in finding.related if r.role == "root"] == ["manifests/dev-tilt/kustomization.yaml"]


@pytest.mark.usefixtures("kustomize_binary")
def test_a_base_finding_that_also_holds_in_a_production_root_is_kept(tmp_path: Path) -> None:
    without = BASE_DEPLOYMENT.replace("          securityContext:\n            runAsNonRoot: true\n", "")
    _kustomize_tree(tmp_path, without, "resources:\n  - ../base\n")
    report = scan_tree(tmp_path, select=["k8s-run-as-root"])
    assert found(report) == {("manifests/base/deployment.yaml", 14, "k8s-run-as-root")}
    [finding] = report.findings
    assert {r.span.path for r in finding.related if r.role == "root"} == {
        "manifests/dev-tilt/kustomization.yaml",
        "manifests/prod/kustomization.yaml",
    }
    assert not report.development


# --- Helm charts rendered with their test values -----------------------------------------------

CHART = "apiVersion: v2\nname: chat\nversion: 1.0.0\n"

CHART_DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: 2
  selector:
    matchLabels: {app: chat}
  template:
    metadata:
      labels: {app: chat}
    spec:
      containers:
        - name: chat
          image: registry.example.com/chat:8.1.0
          env:
            - name: DB_PASSWORD
              value: {{ required "a database password is required" .Values.password | quote }}
"""


@pytest.fixture
def helm_renderer() -> None:
    from infralint.render.helm import choose_backend

    if choose_backend() is None:
        pytest.skip("no Helm renderer (pip install helm-python-sdk)")


def _chart(root: Path) -> None:
    write(root, "chart/Chart.yaml", CHART)
    write(root, "chart/values.yaml", 'password: ""\n')
    write(root, "chart/templates/deployment.yaml", CHART_DEPLOYMENT)
    write(root, "chart/ci/test-values.yaml", "password: not-a-secret\n")


@pytest.mark.usefixtures("helm_renderer")
def test_a_chart_rendered_with_its_ci_test_values_is_development(tmp_path: Path) -> None:
    _chart(tmp_path)
    report = scan_tree(tmp_path, select=["k8s-secret-in-env", "k8s-missing-memory-limit"])
    assert report.rendered == {"helm releases": 1}
    assert found(report) == set()
    assert report.development == {"k8s-secret-in-env": 1, "k8s-missing-memory-limit": 1}
    report = scan_tree(tmp_path, select=["k8s-secret-in-env"], development_paths=False)
    assert found(report) == {("chart/templates/deployment.yaml", 18, "k8s-secret-in-env")}


@pytest.mark.usefixtures("helm_renderer")
def test_a_chart_rendered_with_production_values_is_judged(tmp_path: Path) -> None:
    _chart(tmp_path)
    write(tmp_path, "chart/values.yaml", "password: literal\n")
    report = scan_tree(tmp_path, select=["k8s-secret-in-env"])
    assert found(report) == {("chart/templates/deployment.yaml", 18, "k8s-secret-in-env")}
    assert not report.development


def test_a_config_a_production_image_copies_is_not_development_because_a_dev_container_mounts_it(
    tmp_path: Path,
) -> None:
    """frappe_docker: the devcontainer mounts the whole repository as its workspace, and the
    production Containerfile copies the nginx template into the frontend image."""
    write(
        tmp_path,
        "devcontainer-example/docker-compose.yml",
        "services:\n  frappe:\n    image: example/bench:5.0.0\n    volumes:\n      - ..:/workspace:cached\n",
    )
    write(
        tmp_path,
        "images/production/Containerfile",
        "FROM nginx:1.27\nCOPY resources/nginx/site.conf /templates/site.conf\n",
    )
    write(
        tmp_path,
        "resources/nginx/site.conf",
        "server {\n  listen 8080;\n  location /assets {\n    root /srv;\n  }\n}\n",
    )
    report = scan_tree(tmp_path, select=("nginx-server-tokens",))
    assert found(report) == {("resources/nginx/site.conf", 1, "nginx-server-tokens")}
