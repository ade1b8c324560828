"""Compose hardening rules: severities, by-design notes, messages and the schema's leniency."""

from __future__ import annotations

import json
from pathlib import Path

from scanning import scan_tree, write

from infralint.checks.compose import _floating_tag
from infralint.findings import Severity
from infralint.resources import data_dir


def _findings(tmp_path: Path, text: str, rule: str) -> list[tuple[int | None, Severity, str]]:
    write(tmp_path, "compose.yaml", text)
    report = scan_tree(tmp_path, select=[rule])
    return sorted((f.span.line, f.severity, f.message) for f in report.findings if f.rule_id == rule)


def test_a_mount_of_the_root_is_an_error_and_says_it_reaches_the_runtime_socket(tmp_path: Path) -> None:
    found = _findings(
        tmp_path,
        """\
services:
  backup:
    image: example/backup:2.1
    volumes:
      - /:/host:ro
      - /etc:/host-etc:ro
""",
        "compose-sensitive-host-mount",
    )
    assert [(line, severity) for line, severity, _ in found] == [(5, Severity.ERROR), (6, Severity.WARNING)]
    assert "runtime socket /var/run/docker.sock" in found[0][2]
    assert "runtime socket" not in found[1][2]


def test_node_exporter_reading_the_host_is_a_note_naming_the_mitigation(tmp_path: Path) -> None:
    found = _findings(
        tmp_path,
        """\
services:
  node-exporter:
    image: prom/node-exporter:v1.8.2
    pid: host
    volumes:
      - /:/host:ro,rslave
""",
        "compose-sensitive-host-mount",
    )
    assert len(found) == 1
    _line, severity, message = found[0]
    assert severity == Severity.NOTE and "node-exporter needs it by design" in message and "mitigation" in message


def test_userns_mode_host_is_a_warning_and_pid_host_an_error(tmp_path: Path) -> None:
    found = _findings(
        tmp_path,
        """\
services:
  app:
    image: example/app:1.0
    pid: host
    userns_mode: host
""",
        "compose-host-namespace",
    )
    assert [(line, severity) for line, severity, _ in found] == [(4, Severity.ERROR), (5, Severity.WARNING)]


def test_schema_typo_names_the_nearest_key_at_its_own_line(tmp_path: Path) -> None:
    found = _findings(
        tmp_path,
        """\
services:
  web:
    image: nginx:1.27.2
    healthcheck:
      test: [CMD, curl, -f, http://localhost/]
      timout: 5s
""",
        "compose-schema-invalid",
    )
    assert len(found) == 1
    line, _severity, message = found[0]
    assert line == 6 and "`timout`" in message and "did you mean `timeout`?" in message


def test_schema_passes_numbers_for_strings_variables_and_empty_values(tmp_path: Path) -> None:
    found = _findings(
        tmp_path,
        """\
services:
  web:
    image: example/web:${TAG}
    user: 1000
    cpus: ${CPUS}
    command:
    networks:
      default:
    environment:
      EMPTY:
""",
        "compose-schema-invalid",
    )
    assert found == []


def test_the_schema_knows_every_key_the_parser_casts_to_a_boolean() -> None:
    schema = json.loads((data_dir("schemas") / "compose.schema.json").read_text(encoding="utf-8"))
    service = schema["$defs"]["service"]["properties"]
    for key in ("init", "privileged", "read_only", "stdin_open", "tty", "oom_kill_disable", "use_api_socket"):
        assert key in service


def test_no_service_setting_no_new_privileges_is_one_finding(tmp_path: Path) -> None:
    found = _findings(
        tmp_path,
        """\
services:
  web:
    image: example/web:1.0
  api:
    image: example/api:1.0
  db:
    image: postgres:16.4
""",
        "compose-no-new-privileges",
    )
    assert len(found) == 1 and found[0][0] == 2 and "none of the 3 services" in found[0][2]


def test_floating_tags() -> None:
    channels = ["latest", "stable", "lts", "edge", "mainline"]
    assert _floating_tag("stable-alpine", channels)
    assert _floating_tag("LTS", channels)
    assert not _floating_tag("stable-20240110-slim", channels)
    assert not _floating_tag("1.27-alpine", channels)
    assert not _floating_tag(None, channels)
