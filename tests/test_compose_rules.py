"""Compose rules across files: includes, fragments beside their project file, suppressions."""

from __future__ import annotations

from pathlib import Path

from scanning import found, scan_tree, write


def test_an_included_service_is_defined_and_judged_in_its_own_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        """\
include:
  - infra/compose.yaml
services:
  web:
    image: web:1.0
    ports: ["8080:80"]
    depends_on:
      db:
        condition: service_healthy
      cache:
        condition: service_healthy
""",
    )
    write(
        tmp_path,
        "infra/compose.yaml",
        """\
services:
  db:
    image: postgres:16.4
    healthcheck:
      test: pg_isready
  cache:
    image: redis:7.4
    ports: ["8080:6379"]
""",
    )
    report = scan_tree(
        tmp_path,
        select=[
            "compose-undefined-reference",
            "compose-healthy-without-healthcheck",
            "compose-duplicate-host-port",
        ],
    )
    assert found(report) == {
        ("compose.yaml", 11, "compose-healthy-without-healthcheck"),
        ("infra/compose.yaml", 8, "compose-duplicate-host-port"),
    }
    healthy = next(f for f in report.findings if f.rule_id == "compose-healthy-without-healthcheck")
    assert [(r.span.path, r.span.line) for r in healthy.related] == [("infra/compose.yaml", 6)]
    clash = next(f for f in report.findings if f.rule_id == "compose-duplicate-host-port")
    assert [(r.span.path, r.span.line) for r in clash.related] == [("compose.yaml", 6)]


def test_an_included_file_may_use_what_its_includer_defines(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "include: [app/compose.yaml]\nnetworks:\n  shared: {}\n")
    write(tmp_path, "app/compose.yaml", "services:\n  app:\n    image: a:1\n    networks: [shared]\n")
    assert found(scan_tree(tmp_path, select=["compose-undefined-reference"])) == set()


def test_a_fragment_is_combined_with_the_project_file_beside_it(tmp_path: Path) -> None:
    write(
        tmp_path,
        "docker-compose.yml",
        "services:\n  web:\n    image: web:1.0\n    restart: always\n  db:\n    image: postgres:16.4\n",
    )
    write(
        tmp_path,
        "docker-compose.prod.yml",
        """\
services:
  web:
    depends_on: [db]
    mem_limit: 1g
  typo:
    image: t:1.0
    depends_on: [dbb]
""",
    )
    report = scan_tree(
        tmp_path,
        "docker-compose.prod.yml",
        select=["compose-undefined-reference", "compose-no-restart-policy", "compose-no-healthcheck"],
    )
    assert found(report) == {
        ("docker-compose.prod.yml", 5, "compose-no-restart-policy"),
        ("docker-compose.prod.yml", 7, "compose-undefined-reference"),
    }


def test_an_own_line_comment_before_a_service_covers_it(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        """\
services:
  # infralint: ignore[compose-privileged, compose-image-latest-tag] a lab machine
  lab:
    image: lab
    privileged: true
  web:
    image: web
""",
    )
    report = scan_tree(tmp_path, select=["compose-privileged", "compose-image-latest-tag"])
    assert found(report) == {("compose.yaml", 7, "compose-image-latest-tag")}


def test_findings_in_the_override_file_can_be_suppressed_there(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "services:\n  web:\n    image: w:1\n")
    write(
        tmp_path,
        "compose.override.yaml",
        "services:\n  web:\n    privileged: true  # infralint: ignore[compose-privileged] debugging only\n",
    )
    assert found(scan_tree(tmp_path, select=["compose-privileged"])) == set()


def test_scan_results_do_not_depend_on_the_shell_environment(tmp_path: Path, monkeypatch) -> None:
    write(tmp_path, "compose.yaml", "services:\n  web:\n    image: nginx:${TAG}\n")
    first = found(scan_tree(tmp_path, select=["compose-image-latest-tag"]))
    monkeypatch.setenv("TAG", "latest")
    assert found(scan_tree(tmp_path, select=["compose-image-latest-tag"])) == first == set()


STARTED_ONLY = ("compose-depends-on-not-healthy", "compose-proxy-depends-not-healthy")


def _proxy_waiting_for_start(root: Path) -> None:
    write(
        root,
        "compose.yaml",
        """\
services:
  proxy:
    image: nginx:1.27
    volumes: ["./nginx.conf:/etc/nginx/conf.d/default.conf:ro"]
    depends_on: [api]
  api:
    image: example/api:1.4
    healthcheck: {test: ["CMD", "/bin/api", "health"]}
""",
    )
    write(root, "nginx.conf", "server {\n  listen 80;\n  location / { proxy_pass http://api:8000; }\n}\n")
    # A partial 'api' completing compose.yaml: never what nginx reaches.
    write(root, "ops/compose.yaml", "services:\n  api:\n    ports: ['8000:8000']\n")


def test_a_proxy_waiting_only_for_a_healthchecked_backend_is_one_finding(tmp_path: Path) -> None:
    _proxy_waiting_for_start(tmp_path)
    report = scan_tree(tmp_path, select=list(STARTED_ONLY))
    assert found(report) == {("compose.yaml", 5, "compose-depends-on-not-healthy")}
    assert [(r.span.path, r.span.line) for r in report.findings[0].related] == [("compose.yaml", 6)]


def test_both_depends_on_rules_share_a_cause_when_they_meet(tmp_path: Path, monkeypatch) -> None:
    """Should the proxy's route and the depends_on entry ever name different definitions of the
    backend, the two rules still report the one `condition` to change once, at that line."""
    from infralint.graph import upstreams

    monkeypatch.setattr(upstreams.ComposeContext, "_best", lambda self, found: list(found))
    _proxy_waiting_for_start(tmp_path)
    report = scan_tree(tmp_path, select=list(STARTED_ONLY))
    assert found(report) == {("compose.yaml", 5, "compose-depends-on-not-healthy")}
    merged = [r.message for r in report.findings[0].related if r.role == "merged"]
    assert [m.split(":")[0] for m in merged] == ["compose-proxy-depends-not-healthy"]
    alone = scan_tree(tmp_path, select=["compose-proxy-depends-not-healthy"])
    assert found(alone) == {("compose.yaml", 5, "compose-proxy-depends-not-healthy")}
