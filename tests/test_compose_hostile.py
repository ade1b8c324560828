"""Hostile Compose input: findings at real lines, never a crash, a hang or a read outside the root."""

from __future__ import annotations

import os
import pathlib
import time
from pathlib import Path

import pytest
from scanning import found, scan_tree, write

from infralint import discover
from infralint.parsers.compose import parse
from infralint.parsers.result import ParseResult
from infralint.source import SourceFile


def parse_file(root: Path, name: str) -> ParseResult:
    source = discover.read(str(root / name), str(root), discover.DEFAULT_MAX_BYTES)
    assert isinstance(source, SourceFile), source
    return parse(source)


def problems(result: ParseResult) -> list[tuple[str, str, int | None]]:
    return sorted((f.rule_id, f.span.path, f.span.line) for f in result.findings)


def test_a_compose_file_that_is_a_list(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "# services as a list\n- web\n- db\n")
    result = parse_file(tmp_path, "compose.yaml")
    assert problems(result) == [("infralint-parse-error", "compose.yaml", 2)]
    assert "top level is a list" in result.findings[0].message
    assert result.nodes == []


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("name: x\nservices:\n  - web\n  - db\n", 2, "`services` must be a mapping"),
        ("services: web\n", 1, "`services` must be a mapping"),
        ("services:\n  web:\n  db:\n    image: postgres:16\n", 2, "service 'web' must be a mapping, not empty"),
        ("services:\n  web: nginx\n", 2, "service 'web' must be a mapping, not a str"),
        ("services:\n  web:\n    image: a:1\nnetworks:\n  - front\n", 4, "`networks` must be a mapping"),
        ("include: other.yaml\nservices: {}\n", 1, "`include` must be a list"),
    ],
)
def test_wrong_shapes_are_parse_errors_at_their_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    write(tmp_path, "compose.yaml", text)
    result = parse_file(tmp_path, "compose.yaml")
    [finding] = result.findings
    assert (finding.rule_id, finding.span.line) == ("infralint-parse-error", line)
    assert words in finding.message
    assert "compose/compose.yaml" in {node.id for node in result.nodes}  # the rest is still read


def test_a_service_that_is_null_does_not_hide_the_others(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "services:\n  web:\n  db:\n    image: postgres:16\n")
    ids = {node.id for node in parse_file(tmp_path, "compose.yaml").nodes}
    assert "compose/compose.yaml/service[db]" in ids
    assert "compose/compose.yaml/service[web]" not in ids


def test_odd_values_inside_services_do_not_crash(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        """\
services:
  web:
    image: [not, a, string]
    ports: "8080:80"
    volumes: {a: b}
    environment: 5
    depends_on: db
    networks: 7
    healthcheck: yes
    deploy: {resources: {limits: {memory: lots}}, replicas: many}
    mem_limit: {}
    command: {a: 1}
    extends: {file: 5}
    build: [x]
    secrets: [{}, 5, {source: 3}]
    labels: [5, "a=b"]
    cap_add: [5, null]
  12:
    image: numeric-name:1
""",
    )
    result = parse_file(tmp_path, "compose.yaml")
    assert result.findings == []
    assert "compose/compose.yaml/service[12]" in {node.id for node in result.nodes}


def test_an_alias_bomb_is_bounded(tmp_path: Path) -> None:
    lines = ['x-a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"x-a{level}: &a{level} [{refs}]")
    write(tmp_path, "compose.yaml", "services:\n  web:\n    image: a:1\n" + "\n".join(lines) + "\n")
    started = time.perf_counter()
    result = parse_file(tmp_path, "compose.yaml")
    assert time.perf_counter() - started < 10
    [finding] = result.findings
    assert finding.rule_id == "infralint-parse-error"
    assert "alias" in finding.message


def test_a_merge_key_alias_fan_out_stays_fast(tmp_path: Path) -> None:
    text = "x-base: &base\n" + "".join(f"  k{i}: {i}\n" for i in range(200)) + "services:\n"
    text += "".join(f"  s{i}:\n    <<: *base\n    image: a:{i}\n" for i in range(300))
    write(tmp_path, "compose.yaml", text)
    started = time.perf_counter()
    result = parse_file(tmp_path, "compose.yaml")
    assert time.perf_counter() - started < 20
    assert len([n for n in result.nodes if n.kind == "compose/service"]) == 300


def test_deep_nesting_is_a_parse_error(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "services:\n  web:\n    labels: " + "[" * 5000 + "]" * 5000 + "\n")
    [finding] = parse_file(tmp_path, "compose.yaml").findings
    assert finding.rule_id == "infralint-parse-error"


def test_an_include_cycle_is_reported_and_ends(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "include:\n  - a/compose.yaml\nservices:\n  web:\n    image: w:1\n")
    write(tmp_path, "a/compose.yaml", "include:\n  - ../b/compose.yaml\nservices:\n  a:\n    image: a:1\n")
    write(tmp_path, "b/compose.yaml", "include:\n  - ../a/compose.yaml\nservices:\n  b:\n    image: b:1\n")
    result = parse_file(tmp_path, "compose.yaml")
    [finding] = result.findings
    assert (finding.rule_id, finding.span.path, finding.span.line) == ("infralint-parse-error", "compose.yaml", 2)
    assert "include cycle compose.yaml -> a/compose.yaml -> b/compose.yaml -> a/compose.yaml" in finding.message


def test_a_file_including_itself(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "include:\n  - ./compose.yaml\nservices:\n  web:\n    image: w:1\n")
    [finding] = parse_file(tmp_path, "compose.yaml").findings
    assert "include cycle" in finding.message


class _Recorder:
    """Every path the file system is asked about, to prove nothing outside the root is touched."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[str] = []
        real_realpath, real_stat, real_read = os.path.realpath, os.stat, pathlib.Path.read_bytes

        def realpath(path: str, *args: object, **kwargs: object) -> str:
            self.paths.append(str(path))
            return real_realpath(path, *args, **kwargs)  # type: ignore[arg-type]

        def stat(path: str, *args: object, **kwargs: object) -> os.stat_result:
            self.paths.append(str(path))
            return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]

        def read_bytes(path: pathlib.Path) -> bytes:
            self.paths.append(str(path))
            return real_read(path)

        monkeypatch.setattr(os.path, "realpath", realpath)
        monkeypatch.setattr(os, "stat", stat)
        monkeypatch.setattr(pathlib.Path, "read_bytes", read_bytes)


def test_include_of_etc_passwd_is_a_finding_and_never_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(
        tmp_path,
        "compose.yaml",
        """\
include:
  - /etc/passwd
  - ../../../../../../etc/passwd
services:
  web:
    extends:
      file: /etc/passwd
      service: root
    image: w:1
""",
    )
    recorder = _Recorder(monkeypatch)
    result = parse_file(tmp_path, "compose.yaml")
    assert problems(result) == [
        ("infralint-include-not-found", "compose.yaml", 2),
        ("infralint-include-not-found", "compose.yaml", 3),
        ("infralint-include-not-found", "compose.yaml", 7),
    ]
    assert all("outside the scan root" in f.message for f in result.findings)
    assert not [p for p in recorder.paths if p.startswith("/etc")]


def test_compose_file_naming_files_outside_the_root_reads_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, ".env", "COMPOSE_FILE=compose.yaml:/etc/passwd:../../../../etc/passwd\n")
    write(tmp_path, "compose.yaml", "services:\n  web:\n    image: w:1\n")
    write(tmp_path, "ci/.env", "COMPOSE_FILE=/etc/passwd:ci.yaml\n")
    write(tmp_path, "ci/ci.yaml", "services:\n  web:\n    environment: {A: '1'}\n")
    recorder = _Recorder(monkeypatch)
    base = parse_file(tmp_path, "compose.yaml")
    override = parse_file(tmp_path, "ci/ci.yaml")
    assert base.findings == [] and override.findings == []
    assert [n.id for n in base.nodes] == ["compose/compose.yaml", "compose/compose.yaml/service[web]"]
    assert "compose/ci/ci.yaml" in [n.id for n in override.nodes]  # the web it completes is in compose.yaml
    assert not [p for p in recorder.paths if p.startswith("/etc")]


def test_symlinks_out_of_the_root_are_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    outside = write(tmp_path, "secret/compose.yaml", "services:\n  leak:\n    image: leak:1\n")
    write(tmp_path, "secret/.env", "TAG=leaked\n")
    root.mkdir()
    (root / "linked.yaml").symlink_to(outside)
    (root / ".env").symlink_to(tmp_path / "secret" / ".env")
    write(root, "compose.yaml", "include: [linked.yaml]\nservices:\n  web:\n    image: w:${TAG:-1}\n")
    result = parse_file(root, "compose.yaml")
    [finding] = result.findings
    assert finding.rule_id == "infralint-include-not-found"
    assert "symlink" in finding.message
    web = next(n for n in result.nodes if n.id.endswith("service[web]"))
    assert web.attrs["image"] == "w:1"  # the .env symlinked from outside was not read


def test_a_binary_override_does_not_stop_the_base(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "services:\n  web:\n    image: w:1\n")
    write(tmp_path, "compose.override.yaml", b"\x00\x01\x02services")
    result = parse_file(tmp_path, "compose.yaml")
    assert "compose/compose.yaml/service[web]" in {n.id for n in result.nodes}


def test_a_huge_port_range_is_not_expanded(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "services:\n  web:\n    image: w:1\n    ports: ['1-65535:1-65535']\n")
    [port] = next(n for n in parse_file(tmp_path, "compose.yaml").nodes if n.kind == "compose/service").facts["ports"]
    assert (port["published"], port["published_end"]) == (1, 65535)


def test_long_extends_chains_are_bounded(tmp_path: Path) -> None:
    services = "".join(f"  s{i}:\n    extends: s{i + 1}\n" for i in range(500)) + "  s500:\n    image: end:1\n"
    write(tmp_path, "compose.yaml", "services:\n" + services)
    started = time.perf_counter()
    result = parse_file(tmp_path, "compose.yaml")
    assert time.perf_counter() - started < 20
    assert len([n for n in result.nodes if n.kind == "compose/service"]) == 501


def test_a_scan_of_base_and_override_reports_each_finding_once(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "services:\n  web:\n    image: w:1\n")
    write(tmp_path, "compose.override.yaml", "services:\n  web:\n    privileged: true\n")
    report = scan_tree(tmp_path, select=["compose-privileged", "compose-no-restart-policy"])
    assert found(report, "compose") == {
        ("compose.override.yaml", 3, "compose-privileged"),
        ("compose.yaml", 2, "compose-no-restart-policy"),
    }
    assert len(report.findings) == 2
