"""One root cause, one finding: shared causes and shared lines fold into one finding."""

from __future__ import annotations

from pathlib import Path

from scanning import deployment, found, run_cli, scan_tree, write

from infralint.folding import MERGED_ROLE

HEALTH_RULES = ("compose-no-healthcheck", "nginx-upstream-no-health-signal", "compose-proxy-depends-not-healthy")

COMPOSE = """services:
  proxy:
    image: nginx:1.27
    volumes:
      - ./nginx/nginx.conf:/etc/nginx/nginx.conf:ro
    depends_on: [web]
  web:{comment}
    build: ./web
"""
NGINX = """events {}
http {
  server {
    listen 80;
    location / {
      proxy_pass http://web:8000;
    }
  }
}
"""


def _health_project(root: Path, comment: str = "") -> None:
    write(root, "compose.yaml", COMPOSE.format(comment=comment))
    write(root, "nginx/nginx.conf", NGINX)
    write(root, "web/Dockerfile", 'FROM python:3.12-slim\nCMD ["python", "-m", "http.server", "8000"]\n')


def test_a_service_without_healthcheck_is_reported_once_at_the_service(tmp_path: Path) -> None:
    _health_project(tmp_path)
    report = scan_tree(tmp_path, select=HEALTH_RULES)
    assert found(report) == {("compose.yaml", 7, "compose-no-healthcheck")}
    [finding] = report.findings
    merged = {(r.span.path, r.span.line, r.message.split(":")[0]) for r in finding.related if r.role == MERGED_ROLE}
    assert merged == {
        ("compose.yaml", 6, "compose-proxy-depends-not-healthy"),
        ("nginx/nginx.conf", 6, "nginx-upstream-no-health-signal"),
    }
    assert "compose-proxy-depends-not-healthy at compose.yaml:6" in finding.message
    assert "nginx-upstream-no-health-signal at nginx/nginx.conf:6" in finding.message
    assert report.folded == {"compose-proxy-depends-not-healthy": 1, "nginx-upstream-no-health-signal": 1}


def test_each_rule_of_a_cause_stays_suppressible(tmp_path: Path) -> None:
    # The finding at the fix is suppressed: the other two still fold into one, kept at the first
    # (the proxy's depends_on: warning outranks note, then file order).
    _health_project(tmp_path, comment="  # infralint: ignore[compose-no-healthcheck] readiness is external")
    report = scan_tree(tmp_path, select=HEALTH_RULES)
    rules = sorted(f.rule_id for f in report.findings)
    assert len(rules) == 1 and rules[0] != "compose-no-healthcheck"
    assert sum(report.folded.values()) == 1


def test_a_deselected_rule_absorbs_nothing(tmp_path: Path) -> None:
    _health_project(tmp_path)
    report = scan_tree(tmp_path, select=("nginx-upstream-no-health-signal",))
    assert found(report) == {("nginx/nginx.conf", 6, "nginx-upstream-no-health-signal")}
    assert not report.folded


def test_a_service_with_a_healthcheck_keeps_the_depends_on_finding_apart(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        COMPOSE.format(comment="").replace(
            "    build: ./web\n", "    build: ./web\n    healthcheck:\n      test: [CMD, true]\n"
        ),
    )
    write(tmp_path, "nginx/nginx.conf", NGINX)
    report = scan_tree(tmp_path, select=HEALTH_RULES)
    assert found(report) == set()  # short depends_on on a checked service is compose-depends-on-not-healthy's
    report = scan_tree(tmp_path, select=(*HEALTH_RULES, "compose-depends-on-not-healthy"))
    assert found(report) == {("compose.yaml", 6, "compose-depends-on-not-healthy")}


def test_pre_commit_on_the_proxy_config_still_shows_the_folded_finding(tmp_path: Path) -> None:
    _health_project(tmp_path)
    report = scan_tree(tmp_path, select=HEALTH_RULES, report_only=["nginx/nginx.conf"])
    assert found(report) == {("compose.yaml", 7, "compose-no-healthcheck")}


ANCHORED = """x-app: &app
  image: example/app:latest
  restart: always
services:
  a:
    <<: *app
  b:
    <<: *app
  c:
    <<: *app
  d:
    image: example/other:latest
"""


def test_one_rule_at_one_line_for_many_objects_is_one_finding(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", ANCHORED)
    report = scan_tree(tmp_path, select=("compose-image-latest-tag",))
    assert found(report) == {
        ("compose.yaml", 2, "compose-image-latest-tag"),
        ("compose.yaml", 12, "compose-image-latest-tag"),
    }
    anchored = next(f for f in report.findings if f.span.line == 2)
    assert anchored.message.endswith("(this line holds it for 2 more objects too: service 'b', service 'c')")
    assert report.folded == {"compose-image-latest-tag": 2}


def test_the_summary_counts_folded_and_repeated_findings(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", ANCHORED)
    for variant in ("blue", "green"):
        write(tmp_path, f"{variant}/compose.yaml", ANCHORED)
    code, output = run_cli("scan", ".", "--select", "compose-image-latest-tag", cwd=tmp_path)
    assert code == 1
    assert "10 more findings were folded into the ones they repeat (listed under them)." in output
    assert "compose.yaml:2:3: warning compose-image-latest-tag" in output.splitlines()[0]


def test_copies_of_one_compose_file_fold_into_the_one_nearest_the_top(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", ANCHORED)
    for variant in ("blue", "green"):
        write(tmp_path, f"{variant}/compose.yaml", ANCHORED)
    report = scan_tree(tmp_path, select=("compose-image-latest-tag",))
    assert found(report) == {
        ("compose.yaml", 2, "compose-image-latest-tag"),
        ("compose.yaml", 12, "compose-image-latest-tag"),
    }
    latest = next(f for f in report.findings if f.span.line == 12)
    assert latest.message.endswith("(also in 2 identical copies: blue/compose.yaml:12, green/compose.yaml:12)")
    assert {(r.span.path, r.span.line, r.role) for r in latest.related} == {
        ("blue/compose.yaml", 12, MERGED_ROLE),
        ("green/compose.yaml", 12, MERGED_ROLE),
    }


def test_a_copy_that_differs_is_judged_on_its_own(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", ANCHORED)
    write(
        tmp_path,
        "blue/compose.yaml",
        ANCHORED.replace("example/other:latest", "example/other:latest\n    restart: always"),
    )
    report = scan_tree(tmp_path, select=("compose-image-latest-tag",))
    assert ("blue/compose.yaml", 12, "compose-image-latest-tag") in found(report)


BASE_DEPLOYMENT = deployment("example/api:1.4.2")


def test_a_committed_build_of_a_kustomize_root_folds_into_its_source(tmp_path: Path) -> None:
    """argo-cd commits install.yaml, the output of its kustomize root, beside the bases."""
    write(tmp_path, "base/deployment.yaml", BASE_DEPLOYMENT)
    write(tmp_path, "base/kustomization.yaml", "resources: [deployment.yaml]\n")
    write(tmp_path, "install.yaml", "---\n" + BASE_DEPLOYMENT)
    write(tmp_path, "namespace-install.yaml", "# generated\n---\n" + BASE_DEPLOYMENT)
    report = scan_tree(tmp_path, select=("k8s-missing-memory-limit",))
    assert found(report) == {("base/deployment.yaml", 14, "k8s-missing-memory-limit")}
    kept = report.findings[0]
    assert "(also in 2 identical copies: install.yaml:15, namespace-install.yaml:16)" in kept.message
    assert {(r.span.path, r.span.line) for r in kept.related if r.role == MERGED_ROLE} == {
        ("install.yaml", 15),
        ("namespace-install.yaml", 16),
    }
    assert report.folded == {"k8s-missing-memory-limit": 2}


def test_a_proxy_and_the_container_without_readiness_probe_fold_into_the_container(tmp_path: Path) -> None:
    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "nginx-upstream-no-health-signal" / "bad-k8s"
    write(tmp_path, "app.yaml", (fixture / "app.yaml").read_text(encoding="utf-8"))
    report = scan_tree(tmp_path, select=("k8s-missing-readiness-probe", "nginx-upstream-no-health-signal"))
    assert found(report) == {("app.yaml", 35, "k8s-missing-readiness-probe")}
    assert [r.message.split(":")[0] for r in report.findings[0].related] == ["nginx-upstream-no-health-signal"]


VARIANT = """services:
  broker:
    image: valkey/valkey:9-alpine
  db:
    image: {db}
  web:
    image: example/web:latest
    depends_on: [broker, db]
"""


def test_one_claim_in_sibling_variants_is_one_finding_at_the_shortest_name(tmp_path: Path) -> None:
    """A folder of alternatives a user picks one of: the same fault in each is one finding."""
    write(tmp_path, "compose/docker-compose.postgres.yml", VARIANT.format(db="postgres:18"))
    write(tmp_path, "compose/docker-compose.mariadb.yml", VARIANT.format(db="mariadb:12"))
    write(tmp_path, "other/docker-compose.yml", VARIANT.format(db="postgres:18").replace("web:", "api:"))
    report = scan_tree(tmp_path, select=("compose-image-latest-tag",))
    assert found(report) == {
        ("compose/docker-compose.mariadb.yml", 7, "compose-image-latest-tag"),
        ("other/docker-compose.yml", 7, "compose-image-latest-tag"),
    }
    kept = next(f for f in report.findings if f.span.path.startswith("compose/"))
    assert kept.message.endswith("(the same in 1 sibling file: compose/docker-compose.postgres.yml:7)")
    assert [(r.span.path, r.span.line, r.role) for r in kept.related] == [
        ("compose/docker-compose.postgres.yml", 7, MERGED_ROLE)
    ]


BARE_POD = """apiVersion: v1
kind: Pod
metadata:
  name: bare
spec:
  containers:
    - name: app
      image: example/app:1.2.3
"""


def test_a_container_without_resources_or_security_context_is_one_finding_per_missing_block(
    tmp_path: Path,
) -> None:
    write(tmp_path, "pod.yaml", BARE_POD)
    rules = (
        "k8s-missing-memory-limit",
        "k8s-missing-resource-requests",
        "k8s-run-as-root",
        "k8s-privilege-escalation",
        "k8s-writable-root-filesystem",
    )
    report = scan_tree(tmp_path, select=rules)
    assert found(report) == {("pod.yaml", 7, "k8s-missing-memory-limit"), ("pod.yaml", 7, "k8s-run-as-root")}
    assert report.folded == {
        "k8s-missing-resource-requests": 1,
        "k8s-privilege-escalation": 1,
        "k8s-writable-root-filesystem": 1,
    }


def test_a_partly_written_block_keeps_each_finding(tmp_path: Path) -> None:
    partial = (
        BARE_POD + "      resources:\n        limits: {cpu: 500m}\n      securityContext:\n        runAsNonRoot: true\n"
    )
    write(tmp_path, "pod.yaml", partial)
    report = scan_tree(
        tmp_path,
        select=("k8s-missing-memory-limit", "k8s-missing-resource-requests", "k8s-privilege-escalation"),
    )
    assert found(report) == {
        ("pod.yaml", 10, "k8s-missing-memory-limit"),
        ("pod.yaml", 9, "k8s-missing-resource-requests"),
        ("pod.yaml", 11, "k8s-privilege-escalation"),
    }
    assert not report.folded


def test_a_cause_folded_into_a_copy_keeps_every_folded_finding(tmp_path: Path) -> None:
    """The copy's requests finding sits at the same place as its memory-limit one: both stay."""
    write(tmp_path, "a/pod.yaml", BARE_POD)
    write(tmp_path, "b/pod.yaml", BARE_POD)
    report = scan_tree(tmp_path, select=("k8s-missing-memory-limit", "k8s-missing-resource-requests"))
    assert found(report) == {("a/pod.yaml", 7, "k8s-missing-memory-limit")}
    merged = sorted((r.span.path, r.message.split(":", 1)[0]) for r in report.findings[0].related)
    assert merged == [
        ("a/pod.yaml", "k8s-missing-resource-requests"),
        ("b/pod.yaml", "k8s-missing-memory-limit"),
        ("b/pod.yaml", "k8s-missing-resource-requests"),
    ]
    assert report.folded == {"k8s-missing-memory-limit": 1, "k8s-missing-resource-requests": 2}
