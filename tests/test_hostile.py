"""Hostile input becomes findings with real locations; nothing crashes, hangs or reads outside the root."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from scanning import POD, found, scan_tree, write

from infralint import discover


def _alias_bomb() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n"
        + "\n".join("  " + line for line in lines)
        + "\n"
    )


def test_invalid_yaml_is_a_parse_error_at_its_line(tmp_path: Path) -> None:
    write(tmp_path, "bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [web\n  labels: {}\n")
    report = scan_tree(tmp_path)
    [finding] = report.findings
    assert finding.rule_id == "infralint-parse-error"
    assert finding.span.path == "bad.yaml"
    assert finding.span.line == 5
    assert "not valid YAML" in finding.message


def test_alias_bomb_is_bounded(tmp_path: Path) -> None:
    write(tmp_path, "bomb.yaml", _alias_bomb())
    started = time.perf_counter()
    report = scan_tree(tmp_path)
    assert time.perf_counter() - started < 10
    [finding] = report.findings
    assert finding.rule_id == "infralint-parse-error"
    assert "alias" in finding.message
    assert finding.span.line is not None and 5 <= finding.span.line <= 14


def test_ten_thousand_deep_flow_nesting(tmp_path: Path) -> None:
    depth = 10_000
    write(
        tmp_path,
        "deep.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: " + "[" * depth + "]" * depth,
    )
    report = scan_tree(tmp_path)
    assert found(report) == {("deep.yaml", 4, "infralint-parse-error")}
    # Our depth cap, or libyaml's own where the bundled libyaml has one: both are findings.
    assert "nesting" in report.findings[0].message


def test_deep_block_nesting(tmp_path: Path) -> None:
    # Block nesting grows quadratically in bytes: 2,000 levels is already 2 MB.
    body = "".join(" " * (i + 1) + f"k{i}:\n" for i in range(2_000))
    write(tmp_path, "deep.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n" + body)
    report = scan_tree(tmp_path)
    [finding] = report.findings
    assert finding.rule_id == "infralint-parse-error" and "nesting" in finding.message
    assert finding.span.line is not None and 100 < finding.span.line < 1100


def test_binary_bytes_point_at_the_first_nul(tmp_path: Path) -> None:
    write(tmp_path, "binary.yaml", b"apiVersion: v1\nkind: Pod\n\x00\x01\x02garbage")
    report = scan_tree(tmp_path)
    assert found(report) == {("binary.yaml", 3, "infralint-parse-error")}
    assert "binary" in report.findings[0].message


def test_non_utf8_text_points_at_the_bad_byte(tmp_path: Path) -> None:
    write(tmp_path, "latin1.yaml", "apiVersion: v1\nkind: ConfigMap\ndata:\n  city: Z\u00fcrich\n".encode("latin-1"))
    report = scan_tree(tmp_path)
    [finding] = report.findings
    assert (finding.span.line, finding.span.col) == (4, 10)
    assert "UTF-8" in finding.message


def test_empty_file_is_a_note(tmp_path: Path) -> None:
    write(tmp_path, "empty.yaml", "")
    write(tmp_path, "comments-only.yaml", "# placeholder\n")
    report = scan_tree(tmp_path)
    assert found(report) == {("empty.yaml", None, "infralint-empty-file")}


def test_symlink_loop_is_reported_not_followed(tmp_path: Path) -> None:
    os.symlink("b.yaml", tmp_path / "a.yaml")
    os.symlink("a.yaml", tmp_path / "b.yaml")
    os.symlink(".", tmp_path / "self")  # a folder loop: never walked
    report = scan_tree(tmp_path)
    assert found(report) == {
        ("a.yaml", None, "infralint-unreadable-file"),
        ("b.yaml", None, "infralint-unreadable-file"),
    }
    assert all("symlink loop" in f.message for f in report.findings)


def test_symlink_outside_the_root_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, "secret.yaml", POD)
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside / "secret.yaml", root / "link.yaml")
    report = scan_tree(root)
    assert found(report) == {("link.yaml", None, "infralint-unreadable-file")}
    assert "outside the scan root" in report.findings[0].message


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "locked.yaml", POD)
    write(tmp_path, "ok.yaml", POD)
    real_read = Path.read_bytes

    def deny(self: Path) -> bytes:
        if self.name == "locked.yaml":
            raise PermissionError(13, "Permission denied")
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", deny)
    report = scan_tree(tmp_path, select=["k8s-image-latest-tag"])
    assert found(report) == {("locked.yaml", None, "infralint-unreadable-file")}
    assert "Permission denied" in report.findings[0].message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    report = scan_tree(tmp_path)
    assert found(report) == {("pipe.yaml", None, "infralint-unreadable-file")}


def test_oversized_file_is_skipped(tmp_path: Path) -> None:
    write(tmp_path, "huge.yaml", POD + "# " + "x" * 2000 + "\n")
    report = scan_tree(tmp_path, max_bytes=1000)
    assert found(report) == {("huge.yaml", None, "infralint-file-too-large")}


def test_a_hostile_file_does_not_stop_the_scan(tmp_path: Path) -> None:
    write(tmp_path, "a-broken.yaml", "apiVersion: v1\nkind: Pod\nspec: [\n")
    write(tmp_path, "b-pod.yaml", POD.replace("nginx:1.27", "nginx"))
    report = scan_tree(tmp_path, select=["k8s-image-latest-tag"])
    assert found(report) == {("a-broken.yaml", 4, "infralint-parse-error"), ("b-pod.yaml", 8, "k8s-image-latest-tag")}


def test_decode_handles_boms_and_crlf() -> None:
    text, problem, _, _ = discover.decode("\ufeffa: 1\r\nb: 2\r\n".encode())
    assert problem is None and text == "a: 1\nb: 2\n"
    text, problem, _, _ = discover.decode("a: 1\n".encode("utf-16"))
    assert problem is None and text == "a: 1\n"
