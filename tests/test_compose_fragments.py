"""Compose files run together with another one: add-ons (`-f docker-compose.yml -f jibri.yml`)
that bring services of their own and use names only another file declares, and projects that
include the same file without becoming one project."""

from __future__ import annotations

from pathlib import Path

from scanning import found, scan_tree, write

from infralint import discover
from infralint.checks import compose_project as projects
from infralint.graph.model import Node
from infralint.parsers import compose_yaml
from infralint.parsers.compose import parse
from infralint.parsers.compose_files import referenced_names
from infralint.parsers.result import ParseResult
from infralint.source import SourceFile

BASE = """\
services:
  web:
    image: web:1
    networks: [meet]
  prosody:
    image: prosody:1
    networks: [meet]
    healthcheck:
      test: [CMD, true]
networks:
  meet:
volumes:
  recordings:
"""


def parse_file(root: Path, name: str) -> ParseResult:
    source = discover.read(str(root / name), str(root), discover.DEFAULT_MAX_BYTES)
    assert isinstance(source, SourceFile), source
    return parse(source)


def project(result: ParseResult, name: str) -> Node:
    return next(node for node in result.nodes if node.id == f"compose/{name}")


def test_the_names_a_file_uses_in_every_form() -> None:
    text = """\
services:
  a:
    image: a:1
    depends_on: [b]
    links: ["c:alias"]
    volumes_from: [d, "container:outside"]
    networks: {front: {}, default: {}}
    volumes: [data:/data, ./here:/here, /abs:/abs, {type: volume, source: logs, target: /l}, /anon]
    secrets: [key, {source: cert}]
    configs: [{source: conf}, "${CONFIG}"]
  e:
    image: e:1
    depends_on: {f: {condition: service_healthy}}
    network_mode: service:g
    networks: [ignored]
    ipc: service:h
"""
    names = referenced_names(compose_yaml.load(text))
    assert names == {
        "services": {"b", "c", "d", "f", "g", "h"},
        "networks": {"front"},
        "volumes": {"data", "logs"},
        "secrets": {"key", "cert"},
        "configs": {"conf"},
    }


def test_an_addon_is_judged_with_the_project_file_of_its_folder(tmp_path: Path) -> None:
    write(tmp_path, "docker-compose.yml", BASE)
    write(
        tmp_path, "jibri.yml", "services:\n  jibri:\n    image: j:1\n    depends_on: [prosody]\n    networks: [meet]\n"
    )
    addon = project(parse_file(tmp_path, "jibri.yml"), "jibri.yml")
    assert addon.facts["fragment_of"] == "docker-compose.yml"
    assert addon.facts["addon"] is True
    assert addon.facts["combined_with"] == ["docker-compose.yml"]
    assert addon.facts["base_defined"]["networks"] == ["meet"]
    assert found(scan_tree(tmp_path, select=["compose-undefined-reference"])) == set()


def test_an_addon_in_a_subfolder_starts_its_paths_from_the_base_folder(tmp_path: Path) -> None:
    write(tmp_path, "docker-compose.yml", BASE)
    write(tmp_path, ".env", "DATA=data\n")
    write(
        tmp_path,
        "extras/db/db.yml",
        "services:\n  db:\n    image: db:1\n    networks: [meet]\n    volumes: ['./extras/db/${DATA}:/data']\n",
    )
    result = parse_file(tmp_path, "extras/db/db.yml")
    addon = project(result, "extras/db/db.yml")
    assert addon.facts["directory"] == ""
    db = next(node for node in result.nodes if node.id.endswith("service[db]"))
    assert db.facts["bind_mounts"][0]["source"] == "extras/db/data"
    assert db.facts["fragment"] is False  # a service of its own: judged like any other


def test_a_file_that_needs_no_other_stays_its_own_project(tmp_path: Path) -> None:
    write(tmp_path, "docker-compose.yml", BASE)
    write(tmp_path, "tools.yml", "services:\n  tool:\n    image: t:1\n    volumes: ['./x:/x']\n")
    tools = project(parse_file(tmp_path, "tools.yml"), "tools.yml")
    assert tools.facts["fragment_of"] is None and tools.facts["combined_with"] == []


def test_names_of_the_base_and_of_a_file_beside_count_and_the_rest_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "docker-compose.yml", BASE)
    write(tmp_path, "metrics.yml", "services:\n  metrics:\n    image: m:1\nvolumes:\n  metrics-data:\n")
    write(
        tmp_path,
        "grafana.yml",
        "services:\n  grafana:\n    image: g:1\n    networks: [meet]\n"
        "    volumes: [metrics-data:/m, recordings:/r, typo:/t]\n",
    )
    report = scan_tree(tmp_path, select=["compose-undefined-reference"])
    assert found(report) == {("grafana.yml", 5, "compose-undefined-reference")}
    (finding,) = report.findings
    assert "typo" in finding.message
    assert "neither here nor in docker-compose.yml or metrics.yml" in finding.message


def test_the_base_does_not_use_the_names_of_an_addon(tmp_path: Path) -> None:
    # `docker compose up` runs the base alone: a name only an add-on declares is undefined there.
    write(
        tmp_path,
        "docker-compose.yml",
        BASE.replace("networks: [meet]\n  prosody", "networks: [meet, extra]\n  prosody"),
    )
    write(tmp_path, "extra.yml", "services:\n  x:\n    image: x:1\n    networks: [meet]\nnetworks:\n  extra:\n")
    report = scan_tree(tmp_path, select=["compose-undefined-reference"])
    assert found(report) == {("docker-compose.yml", 4, "compose-undefined-reference")}


def test_an_addon_dependency_resolves_to_the_base_service(tmp_path: Path) -> None:
    write(tmp_path, "docker-compose.yml", BASE)
    write(tmp_path, "jigasi.yml", "services:\n  jigasi:\n    image: j:1\n    depends_on: [prosody]\n")
    report = scan_tree(tmp_path, select=["compose-depends-on-not-healthy"])
    assert found(report) == {("jigasi.yml", 4, "compose-depends-on-not-healthy")}
    (finding,) = report.findings
    assert [(r.span.path, r.span.line) for r in finding.related] == [("docker-compose.yml", 5)]


def test_projects_including_the_same_file_stay_apart(tmp_path: Path) -> None:
    write(
        tmp_path,
        "docker-compose.yml",
        "include: [services/redis.yaml]\nservices:\n  web:\n    image: w:1\nnetworks:\n  backend:\n",
    )
    write(tmp_path, "services/redis.yaml", "services:\n  redis:\n    image: redis:7.4\n")
    write(
        tmp_path,
        "dev/docker-compose.yml",
        "include: [../services/redis.yaml]\nservices:\n  app:\n    image: a:1\n    depends_on: [web]\n"
        "    networks: [backend]\n",
    )
    report = scan_tree(tmp_path, select=["compose-undefined-reference"])
    assert found(report) == {
        ("dev/docker-compose.yml", 5, "compose-undefined-reference"),
        ("dev/docker-compose.yml", 6, "compose-undefined-reference"),
    }
    graph = report.graph
    assert graph is not None
    dev = graph.nodes["compose/dev/docker-compose.yml"]
    assert sorted(projects.visible_services(graph, dev)) == ["app", "redis"]
    shared = graph.nodes["compose/services/redis.yaml"]
    assert {p.id for p in projects.related_projects(graph, shared)} == {
        "compose/services/redis.yaml",
        "compose/docker-compose.yml",
        "compose/dev/docker-compose.yml",
    }


def test_a_file_the_project_file_includes_is_no_addon(tmp_path: Path) -> None:
    # Included, it keeps its own folder for relative paths and its services are judged in it.
    write(
        tmp_path,
        "compose.yaml",
        "include: [services/redis.yaml]\nservices:\n  web:\n    image: w:1\nnetworks:\n  backend:\n",
    )
    write(tmp_path, "services/redis.yaml", "services:\n  redis:\n    image: r:1\n    networks: [backend]\n")
    result = parse_file(tmp_path, "services/redis.yaml")
    included = project(result, "services/redis.yaml")
    assert included.facts["fragment_of"] is None and included.facts["directory"] == "services"
    redis = next(node for node in result.nodes if node.id.endswith("service[redis]"))
    assert redis.facts["fragment"] is False
    assert found(scan_tree(tmp_path, select=["compose-undefined-reference"])) == set()


def test_a_project_file_that_completes_services_above_is_an_addon(tmp_path: Path) -> None:
    write(tmp_path, "deploy/docker-compose.yml", BASE)
    write(
        tmp_path,
        "deploy/jibri/docker-compose.yml",
        "services:\n  jibri:\n    image: j:1\n    networks: [meet]\n"
        "  web:\n    environment: [JIBRI=jibri]\n",  # only completes the base's `web`
    )
    addon = project(parse_file(tmp_path, "deploy/jibri/docker-compose.yml"), "deploy/jibri/docker-compose.yml")
    assert addon.facts["fragment_of"] == "deploy/docker-compose.yml"
    assert addon.facts["addon"] is True
    assert addon.facts["directory"] == "deploy"
    assert found(scan_tree(tmp_path, select=["compose-undefined-reference"])) == set()


def test_a_partial_service_nothing_above_runs_leaves_the_file_alone(tmp_path: Path) -> None:
    write(tmp_path, "deploy/docker-compose.yml", BASE)
    write(
        tmp_path,
        "deploy/tools/docker-compose.yml",
        "services:\n  tool:\n    image: t:1\n    networks: [meet]\n  helper:\n    environment: [A=1]\n",
    )
    tools = project(parse_file(tmp_path, "deploy/tools/docker-compose.yml"), "deploy/tools/docker-compose.yml")
    assert tools.facts["fragment_of"] is None and tools.facts["addon"] is False
    assert found(scan_tree(tmp_path, select=["compose-undefined-reference"])) == {
        ("deploy/tools/docker-compose.yml", 4, "compose-undefined-reference")
    }
