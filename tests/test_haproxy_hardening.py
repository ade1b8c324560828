"""HAProxy hardening rules: what their fixtures cannot show (rule options, target versions,
severities, messages)."""

from __future__ import annotations

from pathlib import Path

import pytest
from scanning import scan_tree, write

from infralint.config import load
from infralint.report import Report

PROXIES = """defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend web
    bind 127.0.0.1:8080
    default_backend app

backend app
    server app1 10.0.0.11:8080 check
"""


def _scan(tmp_path: Path, text: str, rule: str, **options: object) -> Report:
    write(tmp_path, "haproxy.cfg", text)
    return scan_tree(tmp_path, select=[rule], **options)


def _lines(report: Report) -> list[int | None]:
    return sorted(f.span.line for f in report.findings)


REMOVED = """global
    nbproc 2

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend web
    bind 127.0.0.1:8080
    bind-process 1
    default_backend app

backend app
    dispatch 10.0.0.10:8080
    reqadd X-A:\\ b
    server app1 10.0.0.11:8080 check
"""


@pytest.mark.parametrize(
    ("version", "lines"),
    [
        ("2.0", []),  # every keyword still parsed
        ("2.4", [17]),  # reqadd (2.1)
        ("2.6", [2, 17]),  # + nbproc (2.5)
        ("3.0", [2, 12, 17]),  # + bind-process (2.7)
        ("3.5", [2, 12, 16, 17]),  # + dispatch
        ("latest", [2, 12, 16, 17]),
        ("unknown", [2, 12, 17]),  # the newest release line: dispatch is not refused yet
    ],
)
def test_removed_directives_follow_the_target_version(tmp_path: Path, version: str, lines: list[int]) -> None:
    report = _scan(
        tmp_path,
        REMOVED,
        "haproxy-removed-directive",
        rule_options={"haproxy-removed-directive": {"haproxy_version": version}},
    )
    assert _lines(report) == lines


def test_removed_directive_names_the_release_and_the_replacement(tmp_path: Path) -> None:
    report = _scan(tmp_path, REMOVED, "haproxy-removed-directive")
    messages = {f.span.line: f.message for f in report.findings}
    assert "HAProxy 2.1 and later" in messages[17] and "http-request add-header" in messages[17]
    assert "HAProxy 2.5" in messages[2]


def test_target_versions_in_the_config_reach_the_rule(tmp_path: Path) -> None:
    config = write(tmp_path, ".infralint.yaml", 'target-versions:\n  haproxy: "2.4"\n')
    report = _scan(tmp_path, REMOVED, "haproxy-removed-directive", config=load(str(config)))
    assert _lines(report) == [17]


def test_long_timeouts_limit_is_an_option(tmp_path: Path) -> None:
    text = PROXIES.replace("timeout client 30s", "timeout client 1h")
    assert _lines(_scan(tmp_path, text, "haproxy-long-timeouts")) == [4]
    raised = {"haproxy-long-timeouts": {"max_timeout": "2h"}}
    assert _lines(_scan(tmp_path, text, "haproxy-long-timeouts", rule_options=raised)) == []


def test_long_timeout_in_defaults_that_every_proxy_overrides_is_not_reported(tmp_path: Path) -> None:
    text = PROXIES.replace("timeout client 30s", "timeout client 1h").replace(
        "    bind 127.0.0.1:8080\n", "    bind 127.0.0.1:8080\n    timeout client 20s\n"
    )
    assert _lines(_scan(tmp_path, text, "haproxy-long-timeouts")) == []


@pytest.mark.parametrize(
    ("line", "severity"),
    [
        ("stats socket /run/haproxy.sock mode 666 level admin", "error"),
        ("stats socket /run/haproxy.sock mode 666", "warning"),
        ("stats socket ipv4@0.0.0.0:9999 level admin", "error"),
        ("stats socket /run/haproxy.sock mode 664 level admin", "error"),
    ],
)
def test_stats_socket_with_level_admin_is_an_error(tmp_path: Path, line: str, severity: str) -> None:
    report = _scan(tmp_path, f"global\n    {line}\n\n{PROXIES}", "haproxy-stats-socket-exposed")
    assert [f.severity.value for f in report.findings] == [severity]


def test_stats_socket_finding_points_at_the_mode(tmp_path: Path) -> None:
    report = _scan(
        tmp_path, f"global\n    stats socket /run/haproxy.sock mode 666\n\n{PROXIES}", "haproxy-stats-socket-exposed"
    )
    assert [(f.span.line, f.span.col) for f in report.findings] == [(2, 41)]


def test_insecure_password_is_not_repeated_in_the_message(tmp_path: Path) -> None:
    text = "userlist admins\n    user alice insecure-password s3cr3t-value\n\n" + PROXIES
    report = _scan(tmp_path, text, "haproxy-insecure-password")
    assert len(report.findings) == 1 and "s3cr3t-value" not in report.findings[0].message


def test_global_without_log_in_a_folder_of_fragments(tmp_path: Path) -> None:
    """A file of global settings alone serves the proxies of the files loaded with it."""
    write(tmp_path, "conf.d/00-global.cfg", "global\n    maxconn 1000\n")
    write(tmp_path, "conf.d/10-proxies.cfg", PROXIES.replace("    mode http\n", "    mode http\n    log global\n"))
    report = scan_tree(tmp_path, select=["haproxy-no-logging"])
    assert {(f.span.path, f.span.line) for f in report.findings} == {("conf.d/00-global.cfg", 1)}
    assert "frontend 'web'" in report.findings[0].message


def test_weak_cipher_message_names_the_families(tmp_path: Path) -> None:
    text = "global\n    ssl-default-bind-ciphers HIGH:RC4:3DES:!aNULL\n\n" + PROXIES
    report = _scan(tmp_path, text, "haproxy-weak-ciphers")
    assert len(report.findings) == 1
    assert "3DES, RC4" in report.findings[0].message
    assert (report.findings[0].span.line, report.findings[0].span.col) == (2, 30)
