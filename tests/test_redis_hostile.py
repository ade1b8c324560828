"""Hostile Redis input: findings at real positions, never a crash, a hang or a read outside the root."""

from __future__ import annotations

import time
from pathlib import Path

from scanning import found, scan_tree, write

from infralint.parsers.redis import parse
from infralint.source import SourceFile


def _parse(text: str):
    return parse(SourceFile("redis.conf", "/nowhere/redis.conf", text, "redis"))


def test_nul_bytes(tmp_path: Path) -> None:
    # Inside a file, discovery refuses the binary content at the byte's position.
    write(tmp_path, "redis.conf", b"maxmemory 1gb\nbind 127.0.0.1\x00\n")
    report = scan_tree(tmp_path)
    [finding] = report.findings
    assert (finding.rule_id, finding.span.line, finding.span.col) == ("infralint-parse-error", 2, 15)
    # Text that reaches the parser with a NUL (a YAML "\0" escape in a ConfigMap) is a finding too.
    result = _parse("maxmemory 1gb\nbind 127.0.0.1\x00 10.0.0.1\nport 6379\n")
    [finding] = result.findings
    assert (finding.span.line, finding.span.col) == (2, 15)
    assert result.nodes[0].facts["port"] == 6379


def test_unterminated_quote_is_a_finding_and_the_rest_is_read(tmp_path: Path) -> None:
    write(tmp_path, "redis.conf", 'maxmemory 1gb\nrequirepass "unterminated\nbind 0.0.0.0\n')
    report = scan_tree(tmp_path)
    parse_errors = [f for f in report.findings if f.rule_id == "infralint-parse-error"]
    assert [(f.span.line, f.span.col) for f in parse_errors] == [(2, 13)]
    assert ("redis.conf", 3, "redis-bind-all-interfaces") in found(report)


def test_five_megabyte_lines_are_linear(tmp_path: Path) -> None:
    size = 5_000_000
    cases = [
        "requirepass " + "a" * size,
        "maxmemory-policy " + '"ab" ' * (size // 5),
        "z" * size,  # an unknown directive five megabytes long
        "x '" + "\\" * size,  # unterminated single quote full of backslashes
        'x "' + "\\x4" * (size // 3),  # unterminated double quote full of near-escapes
    ]
    for line in cases:
        started = time.perf_counter()
        result = _parse("bind 127.0.0.1\n" + line + "\n")
        assert time.perf_counter() - started < 10, line[:20]
        assert result.nodes
        for finding in result.findings:
            assert len(finding.message) < 500
    write(tmp_path, "redis.conf", "maxmemory 1gb\n" + "z" * size + "\n")
    started = time.perf_counter()
    report = scan_tree(tmp_path)
    assert time.perf_counter() - started < 10
    assert ("redis.conf", 2, "redis-unknown-directive") in found(report)


def test_include_of_etc_passwd_is_not_read(tmp_path: Path) -> None:
    write(tmp_path, "redis.conf", "maxmemory 1gb\ninclude /etc/passwd\ninclude ../../../../../../etc/passwd\n")
    report = scan_tree(tmp_path)
    assert found(report, "infralint") == {
        ("redis.conf", 2, "infralint-include-not-found"),
        ("redis.conf", 3, "infralint-include-not-found"),
    }
    assert not any(":0:0:" in f.message or "/bin/" in f.message for f in report.findings)


def test_include_cycle_terminates(tmp_path: Path) -> None:
    write(tmp_path, "redis.conf", "maxmemory 1gb\ninclude redis.conf\ninclude other.conf\n")
    write(tmp_path, "other.conf", "maxmemory-policy allkeys-lru\ninclude redis.conf\ninclude other.conf\n")
    started = time.perf_counter()
    report = scan_tree(tmp_path)
    assert time.perf_counter() - started < 5
    cycles = [f for f in report.findings if "include cycle" in f.message]
    assert {(f.span.path, f.span.line) for f in cycles} >= {("redis.conf", 2), ("other.conf", 2), ("other.conf", 3)}


def test_embedded_configs_do_not_follow_includes(tmp_path: Path) -> None:
    write(
        tmp_path,
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: redis\ndata:\n  redis.conf: |\n"
        "    include /etc/passwd\n    include /usr/local/etc/redis/extra.conf\n    maxmemory 1gb\n",
    )
    report = scan_tree(tmp_path)
    assert found(report, "infralint") == set()


def test_fifty_thousand_typos_are_bounded(tmp_path: Path) -> None:
    lines = "".join(f"maxmemory {i}mb\nmaxmemroy-{i} 1\n" for i in range(50_000))
    write(tmp_path, "redis.conf", lines)
    started = time.perf_counter()
    report = scan_tree(tmp_path, select=["redis-unknown-directive"])
    assert time.perf_counter() - started < 20
    unknown = [f for f in report.findings if f.rule_id == "redis-unknown-directive"]
    assert len(unknown) == 50_000
    assert sum("did you mean" in f.message for f in unknown) <= 100
