"""Hostile HAProxy input: findings, never a crash or a hang."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from infralint.api import ScanOptions, scan
from infralint.parsers.haproxy import MAX_ERRORS, parse
from infralint.source import SourceFile


def parse_text(text: str):
    return parse(SourceFile("haproxy.cfg", "/nonexistent/haproxy.cfg", text, "haproxy"))


def errors(text: str) -> list[tuple[int | None, int | None, str]]:
    return [(f.span.line, f.span.col, f.message) for f in parse_text(text).findings]


def timed(text: str, limit: float = 5.0):
    started = time.perf_counter()
    result = parse_text(text)
    assert time.perf_counter() - started < limit
    return result


def test_five_megabyte_single_line_inside_a_section() -> None:
    text = "global\n    description " + "x" * (5 * 1024 * 1024) + "\n"
    result = timed(text)
    assert result.findings == []
    assert len(result.nodes) == 2


def test_five_megabyte_single_line_without_newline_or_section() -> None:
    result = timed("a" * (5 * 1024 * 1024))
    messages = [f.message for f in result.findings]
    assert len(messages) == 2 and "outside any section" in messages[0] and "missing newline" in messages[1]


def test_five_megabyte_line_of_words_stops_at_the_word_limit() -> None:
    result = timed("global\n    description " + "w " * (2 * 1024 * 1024) + "\n")
    assert [(f.span.line, "too many words" in f.message) for f in result.findings] == [(2, True)]


@pytest.mark.parametrize(
    "line",
    [
        "\"'" * 500_000,  # alternating quotes
        "'\"" * 500_000 + "'",  # one unclosed single quote around everything
        "\\" * 1_000_000,  # a million backslashes
        '"' + "${A}" * 200_000 + '"',  # many variables
        '"' + "${" * 200_000,  # unclosed variable braces
        "\\x4" * 100_000,  # broken hex escapes
        "{ " * 100_000 + "}" * 10,  # unbalanced anonymous ACL braces
    ],
)
def test_deep_or_long_quoting(line: str) -> None:
    result = timed("global\n    description " + line + "\n")
    assert all(f.rule_id == "infralint-parse-error" for f in result.findings)
    assert all(f.span.line == 2 for f in result.findings)


def test_nul_bytes_are_reported_where_they_are() -> None:
    found = errors("global\n    maxconn 10\x00\n    daemon\n")
    assert [(line, col) for line, col, _ in found] == [(2, 15)]
    assert "NUL" in found[0][2]


def test_nul_bytes_in_a_file_named_haproxy_cfg(tmp_path: Path, in_dir) -> None:
    (tmp_path / "haproxy.cfg").write_bytes(b"global\n    maxconn 10\x00\n")
    in_dir(tmp_path)
    report = scan(["."], ScanOptions(select=["infralint-parse-error"]))
    assert [(f.rule_id, f.span.line) for f in report.findings] == [("infralint-parse-error", 2)]


def test_many_errors_are_capped() -> None:
    text = "\n".join(f"garbage{i} x" for i in range(100_000)) + "\n"
    result = timed(text)
    assert len(result.findings) == MAX_ERRORS
    assert "not reported" in result.findings[-1].message


def test_deeply_nested_if_blocks() -> None:
    text = ".if 1\n" * 50_000 + "global\n    maxconn 1\n" + ".endif\n" * 50_000
    result = timed(text)
    assert result.findings == []


def test_binary_garbage_that_is_valid_utf8() -> None:
    text = "global\n" + "".join(chr(c) for c in range(1, 0x3000) if c not in (0x0A, 0x0D)) + "\n"
    result = timed(text)
    assert [node.kind for node in result.nodes][:2] == ["haproxy/config", "haproxy/global"]
    assert all(finding.span.line == 2 for finding in result.findings)


def test_twenty_thousand_sections() -> None:
    text = "".join(f"backend b{i}\n    server s 10.0.0.1:80\n" for i in range(20_000))
    result = timed(text, limit=20.0)
    assert len(result.nodes) == 20_001
