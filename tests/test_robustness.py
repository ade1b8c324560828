"""Failure isolation and the per-file time budget.

A rule that raises is injected by swapping its check in the catalog (monkeypatch), never by
breaking real code; a parser that hangs likewise.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from scanning import POD, found, run_cli, scan_tree, write

from infralint import catalog
from infralint.deadline import DeadlineExceeded, deadline

BROKEN_RULE = "k8s-image-latest-tag"
TWO_PODS = (
    POD.replace("nginx:1.27", "nginx:latest")
    + "---\n"
    + POD.replace("name: web", "name: api", 1).replace("nginx:1.27", "nginx:latest")
)


def _misbehave_on_web(monkeypatch: pytest.MonkeyPatch, misbehave: Callable[[], None]) -> None:
    """Make BROKEN_RULE call MISBEHAVE on the Pod `web` (and work as usual everywhere else)."""
    rules = catalog.all_rules()

    def swap(rule: catalog.Rule) -> catalog.Rule:
        if rule.id != BROKEN_RULE:
            return rule
        real = rule.check

        def check(node, ctx) -> Iterator:  # type: ignore[no-untyped-def]
            if node.facts.get("name") == "web":
                misbehave()
            yield from real(node, ctx)

        return dataclasses.replace(rule, check=check)

    monkeypatch.setattr(catalog, "all_rules", lambda: tuple(swap(rule) for rule in rules))


@pytest.fixture
def broken_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """k8s-image-latest-tag raises on the Pod `web`'s container and works everywhere else."""

    def fail() -> None:
        raise ZeroDivisionError("injected failure")

    _misbehave_on_web(monkeypatch, fail)


def test_a_failing_rule_is_a_finding_naming_rule_and_object(tmp_path: Path, broken_rule: None) -> None:
    write(tmp_path, "pods.yaml", TWO_PODS)
    report = scan_tree(tmp_path)
    errors = [f for f in report.findings if f.rule_id == "infralint-rule-error"]
    assert len(errors) == 1
    [error] = errors
    assert BROKEN_RULE in error.message and "Pod/web" in error.message
    assert "ZeroDivisionError: injected failure" in error.message
    assert error.span.path == "pods.yaml" and error.span.line is not None
    assert "Traceback" not in error.message
    # The broken rule still ran on the other Pod, and the other rules ran on both.
    rules_on = {(f.rule_id, f.node_id.split("/")[-1] if f.node_id else None) for f in report.findings}
    assert any(rule == BROKEN_RULE for rule, _ in rules_on)
    assert {rule for rule, _ in rules_on} - {BROKEN_RULE, "infralint-rule-error"}, "other rules must still run"
    latest = [f for f in report.findings if f.rule_id == BROKEN_RULE]
    assert latest and all("web" not in (f.node_id or "") for f in latest)


def test_debug_adds_the_traceback(tmp_path: Path, broken_rule: None) -> None:
    write(tmp_path, "pods.yaml", TWO_PODS)
    [error] = [f for f in scan_tree(tmp_path, debug=True).findings if f.rule_id == "infralint-rule-error"]
    assert "Traceback (most recent call last)" in error.message
    assert "injected failure" in error.message
    code, output = run_cli("scan", ".", "--debug", "--no-color", cwd=tmp_path)
    assert code == 1 and "Traceback" in output


def test_rule_errors_count_like_errors_for_fail_on(tmp_path: Path, broken_rule: None) -> None:
    write(tmp_path, "pods.yaml", TWO_PODS)
    code, output = run_cli("scan", ".", "--select", BROKEN_RULE, "--fail-on", "error", cwd=tmp_path)
    assert code == 1 and "infralint-rule-error" in output
    assert "Traceback" not in output
    assert run_cli("scan", ".", "--select", BROKEN_RULE, "--fail-on", "never", cwd=tmp_path)[0] == 0


def test_strict_exits_2_on_a_rule_error(tmp_path: Path, broken_rule: None) -> None:
    write(tmp_path, "pods.yaml", TWO_PODS)
    assert run_cli("scan", ".", "--strict", cwd=tmp_path)[0] == 2
    assert run_cli("scan", ".", "--strict", "--fail-on", "never", cwd=tmp_path)[0] == 2


def test_strict_without_rule_errors_keeps_the_usual_codes(tmp_path: Path) -> None:
    write(tmp_path, "pods.yaml", TWO_PODS)
    assert run_cli("scan", ".", "--strict", cwd=tmp_path)[0] == 1
    assert run_cli("scan", ".", "--strict", "--fail-on", "never", cwd=tmp_path)[0] == 0


# -- per-file time budget ------------------------------------------------------------------


@pytest.fixture
def slow_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Redis parser spins (pure Python, interruptible) on any file containing `spin`."""
    import infralint.parsers.redis as redis_parser

    real = redis_parser.parse

    def parse(source):  # type: ignore[no-untyped-def]
        if "spin" in source.text:
            while True:
                time.sleep(0.01)
        return real(source)

    monkeypatch.setattr(redis_parser, "parse", parse)


def test_a_file_over_the_time_budget_is_a_parse_error(tmp_path: Path, slow_redis: None) -> None:
    write(tmp_path, "a/redis.conf", "port 6379\n# spin\n")
    write(tmp_path, "b/redis.conf", "port 6379\nbind 0.0.0.0\n")
    write(tmp_path, "pod.yaml", POD.replace("nginx:1.27", "nginx:latest"))
    started = time.monotonic()
    report = scan_tree(tmp_path, file_timeout=0.5)
    assert time.monotonic() - started < 10
    [slow] = [f for f in report.findings if f.span.path == "a/redis.conf"]
    assert slow.rule_id == "infralint-parse-error" and "took too long" in slow.message
    # The files after it were still parsed and judged.
    assert any(path == "b/redis.conf" for path, _, _ in found(report))
    assert ("pod.yaml", 8, BROKEN_RULE) in found(report)


def test_file_timeout_option_on_the_command_line(tmp_path: Path, slow_redis: None) -> None:
    write(tmp_path, "redis.conf", "port 6379\n# spin\n")
    code, output = run_cli("scan", ".", "--file-timeout", "0.3", "--no-color", cwd=tmp_path)
    assert code == 1 and "took too long" in output and "0.3 s" in output


def test_the_budget_leaves_no_timer_behind() -> None:
    with deadline(0.2):
        pass
    time.sleep(0.4)  # an alarm left armed would kill the test process here
    with pytest.raises(DeadlineExceeded), deadline(0.1):
        while True:
            time.sleep(0.01)


def test_off_the_main_thread_the_budget_is_not_enforced_and_nothing_breaks() -> None:
    outcome: list[str] = []

    def work() -> None:
        with deadline(0.05):
            time.sleep(0.2)
        outcome.append("done")

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(5)
    assert outcome == ["done"]


def test_no_limit_when_zero_or_none() -> None:
    for seconds in (0, None, -1):
        with deadline(seconds):
            time.sleep(0.05)
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # no timer was left armed


def test_a_parser_crash_is_an_internal_error_on_that_file_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import infralint.parsers.redis as redis_parser

    def parse(source):  # type: ignore[no-untyped-def]
        raise KeyError("injected parser failure")

    monkeypatch.setattr(redis_parser, "parse", parse)
    write(tmp_path, "redis.conf", "port 6379\n")
    write(tmp_path, "pod.yaml", POD.replace("nginx:1.27", "nginx:latest"))
    report = scan_tree(tmp_path)
    [error] = [f for f in report.findings if f.rule_id == "infralint-rule-error"]
    assert error.span.path == "redis.conf" and "KeyError" in error.message and "Traceback" not in error.message
    assert ("pod.yaml", 8, BROKEN_RULE) in found(report)
    [error] = [f for f in scan_tree(tmp_path, debug=True).findings if f.rule_id == "infralint-rule-error"]
    assert "Traceback (most recent call last)" in error.message
    assert run_cli("scan", ".", "--strict", cwd=tmp_path)[0] == 2


# -- time budget for rules -----------------------------------------------------------------


@pytest.fixture
def slow_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """k8s-image-latest-tag spins (pure Python, interruptible) on the Pod `web` only."""

    def spin() -> None:
        while True:
            time.sleep(0.01)

    _misbehave_on_web(monkeypatch, spin)


def test_a_rule_over_the_time_budget_is_stopped_on_that_object_only(tmp_path: Path, slow_rule: None) -> None:
    write(tmp_path, "pods.yaml", TWO_PODS)
    started = time.monotonic()
    report = scan_tree(tmp_path, file_timeout=0.3)
    assert time.monotonic() - started < 10
    [error] = [f for f in report.findings if f.rule_id == "infralint-rule-error"]
    assert BROKEN_RULE in error.message and "Pod/web" in error.message and "took too long" in error.message
    assert "0.3 s" in error.message
    assert error.span.path == "pods.yaml" and error.span.line == 7  # `- name: app`, the container of web
    # The slow rule went on with the other Pod, and the other rules ran on both.
    latest = [f for f in report.findings if f.rule_id == BROKEN_RULE]
    assert [f.span.line for f in latest] == [17]  # the image of the Pod `api`
    assert any(
        f.rule_id not in {BROKEN_RULE, "infralint-rule-error"} and "web" in (f.node_id or "") for f in report.findings
    )
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # the watchdog was disarmed


def test_rules_budget_on_the_command_line_and_strict(tmp_path: Path, slow_rule: None) -> None:
    write(tmp_path, "pods.yaml", TWO_PODS)
    code, output = run_cli("scan", ".", "--file-timeout", "0.2", "--no-color", cwd=tmp_path)
    assert code == 1 and "took too long on Pod/web" in output
    assert run_cli("scan", ".", "--file-timeout", "0.2", "--strict", cwd=tmp_path)[0] == 2


def test_the_watchdog_lets_short_calls_through_and_stops_a_long_one() -> None:
    from infralint.deadline import Watchdog

    stopped = 0
    with Watchdog(0.2) as watch:
        for _ in range(30):  # 0.6 s of calls in all, each well inside the budget
            watch.started = time.monotonic()
            time.sleep(0.02)
            watch.started = None
        try:
            watch.started = time.monotonic()
            while True:
                time.sleep(0.01)
        except DeadlineExceeded:
            stopped += 1
        time.sleep(0.3)  # between calls nothing is raised
    assert stopped == 1
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.default_int_handler, None)


def test_no_watchdog_when_zero_or_none() -> None:
    from infralint.deadline import Watchdog

    for seconds in (0, None, -1):
        with Watchdog(seconds) as watch:
            watch.started = time.monotonic()
            time.sleep(0.05)
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
