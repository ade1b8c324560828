"""A setting no service of a deployment writes is one finding; one a few services lack is one each.

compose-no-resource-limits and compose-no-restart-policy judge the deployment Compose runs (the
base file with its overrides, the files it includes, its fragments and add-ons).
"""

from __future__ import annotations

from pathlib import Path

from scanning import found, scan_tree, write

from infralint.findings import Finding, Related, Severity
from infralint.folding import MERGED_ROLE, STATED_CAUSE, fold
from infralint.source import Span

LIMITS = "compose-no-resource-limits"
RESTART = "compose-no-restart-policy"


def _services(*names: str, extra: str = "") -> str:
    return "services:\n" + "".join(f"  {name}:\n    image: example/{name}:1.0\n{extra}" for name in names)


def test_a_project_that_sets_no_limit_is_one_finding_at_its_first_service(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", _services("web", "worker", "db", "cache", "proxy", "mailer", "search"))
    report = scan_tree(tmp_path, select=[LIMITS, RESTART])
    assert found(report) == {("compose.yaml", 2, LIMITS), ("compose.yaml", 2, RESTART)}
    limits = next(f for f in report.findings if f.rule_id == LIMITS)
    assert limits.message == (
        "none of the 7 services of this project sets a memory limit: a leak in one can take the host's "
        "memory from all (web, worker, db, cache, proxy and 2 more)"
    )
    assert [(r.span.line, r.role) for r in limits.related] == [(line, MERGED_ROLE) for line in (4, 6, 8, 10, 12, 14)]
    assert limits.related[0].message == f"{LIMITS}: service 'worker', one of them"
    assert report.folded == {LIMITS: 6, RESTART: 6}


def test_the_deployment_spans_the_override_and_included_files(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "include:\n  - monitoring.yaml\n" + _services("web", "db"))
    write(tmp_path, "compose.override.yaml", _services("mailer"))
    write(tmp_path, "monitoring.yaml", _services("exporter"))
    report = scan_tree(tmp_path, select=[LIMITS])
    assert found(report) == {("compose.yaml", 4, LIMITS)}
    (finding,) = report.findings
    assert "none of the 4 services" in finding.message
    assert {r.span.path for r in finding.related} == {"compose.yaml", "compose.override.yaml", "monitoring.yaml"}


def test_a_commit_changing_a_folded_service_still_shows_the_project_finding(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", _services("web", "db"))
    write(tmp_path, "compose.override.yaml", _services("mailer"))
    report = scan_tree(tmp_path, select=[LIMITS], report_only=["compose.override.yaml"])
    assert found(report) == {("compose.yaml", 2, LIMITS)}


def test_separate_projects_are_each_one_finding(tmp_path: Path) -> None:
    write(tmp_path, "shop/compose.yaml", _services("web", "db"))
    write(tmp_path, "blog/compose.yaml", _services("blog", "db"))  # not a copy: copies fold
    report = scan_tree(tmp_path, select=[LIMITS])
    assert found(report) == {("shop/compose.yaml", 2, LIMITS), ("blog/compose.yaml", 2, LIMITS)}


def test_services_lacking_what_others_set_are_each_an_oversight(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        """\
services:
  db:
    image: postgres:17.2
    mem_limit: 1g
    restart: always
  worker:
    image: example/worker:1.0
  cache:
    image: redis:7.4
""",
    )
    report = scan_tree(tmp_path, select=[LIMITS, RESTART])
    assert found(report, LIMITS) == {("compose.yaml", 6, LIMITS), ("compose.yaml", 8, LIMITS)}
    worker = next(f for f in report.findings if f.rule_id == LIMITS)
    assert worker.message == (
        "service 'worker' has no memory limit (`deploy.resources.limits.memory` or `mem_limit`), "
        "while 1 other service of this project sets one (db)"
    )
    assert not worker.related and not report.folded


def test_a_lone_service_keeps_its_own_message(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", _services("web"))
    report = scan_tree(tmp_path, select=[LIMITS])
    assert [f.message for f in report.findings] == [
        "service 'web' has no memory limit (`deploy.resources.limits.memory` or `mem_limit`)"
    ]


def test_an_unlimited_value_is_reported_at_its_line_apart_from_the_project_finding(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", _services("web", "worker") + "  cache:\n    image: redis:7.4\n    mem_limit: -1\n")
    report = scan_tree(tmp_path, select=[LIMITS])
    assert found(report) == {("compose.yaml", 2, LIMITS), ("compose.yaml", 8, LIMITS)}
    assert "none of the 2 services" in report.findings[0].message


def test_a_service_written_never_to_restart_is_a_job_only_beside_services_that_restart(tmp_path: Path) -> None:
    # Beside a service that restarts, `restart: "no"` marks a run-once job: no memory limit asked.
    write(
        tmp_path,
        "jobs/compose.yaml",
        _services("web")
        + '    restart: always\n    mem_limit: 1g\n  setup:\n    image: example/setup:1.0\n    restart: "no"\n',
    )
    # Alone, it may be a server that is simply not restarted: still judged.
    write(tmp_path, "api/compose.yaml", 'services:\n  api:\n    image: example/api:1.0\n    restart: "no"\n')
    report = scan_tree(tmp_path, select=[LIMITS])
    assert found(report) == {("api/compose.yaml", 2, LIMITS)}


def test_a_stated_cause_keeps_the_kept_findings_message() -> None:
    def finding(line: int, name: str) -> Finding:
        made = Finding(LIMITS, Severity.WARNING, "none of the 2 services ...", Span("compose.yaml", line), f"n{line}")
        made.cause, made.fix_here, made.subject = f"{STATED_CAUSE}{LIMITS}:p", line == 2, f"service '{name}'"
        return made

    folded, counts = fold([finding(2, "web"), finding(5, "db")])
    assert [f.message for f in folded] == ["none of the 2 services ..."]
    assert folded[0].related == (Related(Span("compose.yaml", 5), f"{LIMITS}: service 'db', one of them", MERGED_ROLE),)
    assert counts == {LIMITS: 1}


def test_a_copy_of_a_project_keeps_the_places_its_finding_had_folded(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        write(tmp_path, f"{folder}/compose.yaml", "include:\n  - child.yaml\n" + _services("web"))
        write(tmp_path, f"{folder}/child.yaml", _services("included"))
    report = scan_tree(tmp_path, select=[LIMITS])
    (finding,) = report.findings
    assert {(r.span.path, r.span.line) for r in finding.related} >= {("a/child.yaml", 2), ("b/child.yaml", 2)}
    changed = scan_tree(tmp_path, select=[LIMITS], report_only=["b/child.yaml"])
    assert len(changed.findings) == 1
