"""The Compose parser: projects built once from their base file, override files merged as
`docker compose` merges them, extends, include, anchors, interpolation, and positions that
point into the file each value was written in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scanning import write

from infralint import discover
from infralint.graph.model import Node
from infralint.parsers.compose import parse
from infralint.parsers.result import ParseResult
from infralint.source import SourceFile


def parse_file(root: Path, name: str) -> ParseResult:
    source = discover.read(str(root / name), str(root), discover.DEFAULT_MAX_BYTES)
    assert isinstance(source, SourceFile), source
    return parse(source)


def by_id(result: ParseResult) -> dict[str, Node]:
    return {node.id: node for node in result.nodes}


def service(result: ParseResult, name: str, project: str = "compose/compose.yaml") -> Node:
    return by_id(result)[f"{project}/service[{name}]"]


def where(node: Node, *path: Any) -> tuple[str, int | None]:
    span = node.spans.span(path)
    return span.path, span.line


BASE = """\
services:
  web:
    image: example/web:1.0
    command: run --serve
    ports:
      - "8080:80"
    environment:
      - A=1
      - B=2
    volumes:
      - ./static:/srv/static
      - data:/data
    dns: 1.1.1.1
    labels:
      tier: front
volumes:
  data: {}
"""

OVERRIDE = """\
services:
  web:
    command: ["run", "--debug"]
    ports:
      - "8080:80"
      - "127.0.0.1:9090:90"
    environment:
      B: "3"
      C: 4
    volumes:
      - other:/data
    dns:
      - 8.8.8.8
  admin:
    image: example/admin:1.0
volumes:
  other: {}
"""


@pytest.fixture
def merged(tmp_path: Path) -> ParseResult:
    write(tmp_path, "compose.yaml", BASE)
    write(tmp_path, "compose.override.yaml", OVERRIDE)
    return parse_file(tmp_path, "compose.yaml")


def test_override_merges_onto_base(merged: ParseResult) -> None:
    web = service(merged, "web")
    assert web.attrs["command"] == ["run", "--debug"]  # replaced, not appended
    assert web.attrs["ports"] == ["8080:80", "127.0.0.1:9090:90"]  # the same mapping once
    assert web.attrs["environment"] == {"A": "1", "B": "3", "C": "4"}  # list and map merged by name
    assert web.attrs["volumes"] == ["./static:/srv/static", "other:/data"]  # same target replaced in place
    assert web.attrs["dns"] == ["1.1.1.1", "8.8.8.8"]  # appended
    assert web.attrs["labels"] == {"tier": "front"}
    assert web.facts["command"] == ["run", "--debug"]
    assert web.facts["files"] == ["compose.override.yaml", "compose.yaml"]
    assert "compose/compose.yaml/service[admin]" in by_id(merged)
    assert {"compose/compose.yaml/volume[data]", "compose/compose.yaml/volume[other]"} <= set(by_id(merged))


def test_positions_point_into_the_file_that_wrote_the_value(merged: ParseResult) -> None:
    web = service(merged, "web")
    assert where(web) == ("compose.yaml", 2)
    assert web.path == "compose.yaml"
    assert where(web, "image") == ("compose.yaml", 3)
    assert where(web, "command") == ("compose.override.yaml", 3)
    assert where(web, "environment", "A") == ("compose.yaml", 8)
    assert where(web, "environment", "B") == ("compose.override.yaml", 8)
    assert where(web, "ports", 0) == ("compose.override.yaml", 5)
    assert where(web, "ports", 1) == ("compose.override.yaml", 6)
    assert where(web, "volumes", 0) == ("compose.yaml", 11)
    assert where(web, "volumes", 1) == ("compose.override.yaml", 11)
    assert where(web, "healthcheck") == ("compose.yaml", 2)  # missing: the service's line
    admin = service(merged, "admin")
    assert where(admin) == ("compose.override.yaml", 14)


def test_the_override_file_alone_yields_nothing_when_its_base_is_beside_it(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", BASE)
    write(tmp_path, "compose.override.yaml", OVERRIDE)
    assert parse_file(tmp_path, "compose.override.yaml").nodes == []


def test_an_override_file_reports_its_own_yaml_errors_either_way(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", BASE)
    write(tmp_path, "compose.override.yaml", "services:\n  web: [broken\n")
    from_override = parse_file(tmp_path, "compose.override.yaml").findings
    from_base = parse_file(tmp_path, "compose.yaml").findings
    assert [(f.rule_id, f.span.path, f.span.line) for f in from_override] == [
        ("infralint-parse-error", "compose.override.yaml", 3)
    ]
    assert [f.fingerprint for f in from_base] == [f.fingerprint for f in from_override]


def test_an_override_without_its_base_is_a_partial_project(tmp_path: Path) -> None:
    write(tmp_path, "compose.override.yaml", OVERRIDE)
    result = parse_file(tmp_path, "compose.override.yaml")
    project = by_id(result)["compose/compose.override.yaml"]
    assert project.facts["partial"] is True
    assert service(result, "web", "compose/compose.override.yaml").facts["fragment"] is True


def test_compose_pairs_any_default_base_with_any_default_override(tmp_path: Path) -> None:
    write(tmp_path, "docker-compose.yml", "services:\n  web:\n    image: a:1\n")
    write(tmp_path, "docker-compose.override.yml", "services:\n  web:\n    restart: always\n")
    web = service(parse_file(tmp_path, "docker-compose.yml"), "web", "compose/docker-compose.yml")
    assert web.attrs == {"image": "a:1", "restart": "always"}


def test_only_the_file_compose_picks_gets_the_override(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "services:\n  web:\n    image: a:1\n")
    write(tmp_path, "docker-compose.yml", "services:\n  web:\n    image: b:1\n")
    write(tmp_path, "compose.override.yaml", "services:\n  web:\n    restart: always\n")
    picked = service(parse_file(tmp_path, "compose.yaml"), "web")
    other = service(parse_file(tmp_path, "docker-compose.yml"), "web", "compose/docker-compose.yml")
    assert picked.attrs.get("restart") == "always"
    assert "restart" not in other.attrs


def test_a_named_stem_has_its_own_override(tmp_path: Path) -> None:
    write(tmp_path, "docker-compose.dev.yml", "services:\n  web:\n    image: a:1\n")
    write(tmp_path, "docker-compose.dev.override.yml", "services:\n  web:\n    restart: always\n")
    result = parse_file(tmp_path, "docker-compose.dev.yml")
    assert service(result, "web", "compose/docker-compose.dev.yml").attrs["restart"] == "always"
    assert parse_file(tmp_path, "docker-compose.dev.override.yml").nodes == []


def test_a_fragment_beside_the_project_file_is_resolved_against_it(tmp_path: Path) -> None:
    write(tmp_path, "docker-compose.yml", "services:\n  web:\n    image: a:1\n  db:\n    image: postgres:16\n")
    write(tmp_path, "docker-compose.prod.yml", "services:\n  web:\n    restart: always\n  extra:\n    image: b:1\n")
    result = parse_file(tmp_path, "docker-compose.prod.yml")
    project = by_id(result)["compose/docker-compose.prod.yml"]
    assert project.facts["fragment_of"] == "docker-compose.yml"
    assert project.facts["base_defined"]["services"] == ["db", "web"]
    assert service(result, "web", project.id).facts["fragment"] is True
    assert service(result, "extra", project.id).facts["fragment"] is False


def test_compose_file_in_the_env_names_the_files_of_the_project(tmp_path: Path) -> None:
    write(tmp_path, ".env", "COMPOSE_PATH_SEPARATOR=,\nCOMPOSE_FILE=compose.yaml,ci/ci.yaml\n")
    write(tmp_path, "compose.yaml", "services:\n  web:\n    image: web:1\n")
    write(tmp_path, "ci/ci.yaml", "services:\n  web:\n    image: web:2\n    volumes: [./conf:/conf]\n")
    # Not listed: `docker compose` does not load it while COMPOSE_FILE is set.
    write(tmp_path, "compose.override.yaml", "services:\n  web:\n    restart: always\n")
    result = parse_file(tmp_path, "compose.yaml")
    web = service(result, "web")
    assert web.facts["files"] == ["ci/ci.yaml", "compose.yaml"]
    assert web.attrs["image"] == "web:2" and "restart" not in web.attrs
    assert web.facts["bind_mounts"][0]["source"] == "conf"  # from the project directory
    assert by_id(result)["compose/compose.yaml"].facts["files"] == ["compose.yaml", "ci/ci.yaml"]
    assert parse_file(tmp_path, "ci/ci.yaml").nodes == []
    assert by_id(parse_file(tmp_path, "compose.override.yaml"))["compose/compose.override.yaml"].facts["partial"]


def test_a_file_that_completes_a_base_above_it_is_judged_from_the_base_folder(tmp_path: Path) -> None:
    write(tmp_path, ".env", "CONF=conf\n")
    write(tmp_path, "compose.yaml", "services:\n  web:\n    image: web:1\n  db:\n    image: db:1\n")
    write(tmp_path, "deploy/ci/extra.yaml", "services:\n  web:\n    volumes:\n      - ./${CONF}/a.yml:/a.yml\n")
    result = parse_file(tmp_path, "deploy/ci/extra.yaml")
    project = by_id(result)["compose/deploy/ci/extra.yaml"]
    assert project.facts["fragment_of"] == "compose.yaml"
    assert project.facts["directory"] == ""
    assert project.facts["partial"] is True
    assert project.facts["base_defined"]["services"] == ["db", "web"]
    web = service(result, "web", project.id)
    assert web.facts["fragment"] is True
    assert web.facts["bind_mounts"][0]["source"] == "conf/a.yml"  # .env and paths of the base folder
    # The base's own parse is unchanged.
    assert [n.id for n in parse_file(tmp_path, "compose.yaml").nodes][:2] == [
        "compose/compose.yaml",
        "compose/compose.yaml/service[web]",
    ]


def test_a_file_that_can_run_alone_is_its_own_project(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "services:\n  web:\n    image: web:1\n")
    write(tmp_path, "tools/compose.yaml", "services:\n  web:\n    image: web:1\n    volumes: [./a:/a]\n")
    write(tmp_path, "other/compose.yaml", "services:\n  api:\n    environment: {A: '1'}\n")
    tools = by_id(parse_file(tmp_path, "tools/compose.yaml"))["compose/tools/compose.yaml"]
    assert tools.facts["fragment_of"] is None and tools.facts["directory"] == "tools"
    # No base defines `api`: not an override of anything.
    other = by_id(parse_file(tmp_path, "other/compose.yaml"))["compose/other/compose.yaml"]
    assert other.facts["fragment_of"] is None


def test_templates_of_the_override_are_read_for_their_names(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "services:\n  web:\n    image: web:1\n")
    write(tmp_path, "compose.override.yaml.example", "secrets:\n  key:\n    file: ./key\n")
    project = by_id(parse_file(tmp_path, "compose.yaml"))["compose/compose.yaml"]
    assert [(t["file"], t["defined"]["secrets"]) for t in project.facts["templates"]] == [
        ("compose.override.yaml.example", ["key"])
    ]


def test_reset_and_override_tags(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        "services:\n  app:\n    image: a:1\n    ports: ['8080:80']\n    environment:\n      FOO: bar\n"
        "    volumes: ['./a:/a']\n",
    )
    write(
        tmp_path,
        "compose.override.yaml",
        "services:\n  app:\n    ports: !reset []\n    environment:\n      FOO: !reset null\n"
        "    volumes: !override\n      - ./b:/b\n",
    )
    app = service(parse_file(tmp_path, "compose.yaml"), "app")
    assert "ports" not in app.attrs
    assert app.attrs["environment"] == {}
    assert app.attrs["volumes"] == ["./b:/b"]
    assert where(app, "volumes", 0) == ("compose.override.yaml", 7)


def test_logging_merges_only_with_the_same_driver(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        "services:\n  a:\n    image: a:1\n    logging: {driver: json-file, options: {max-size: 1m}}\n"
        "  b:\n    image: b:1\n    logging: {driver: json-file, options: {max-size: 1m}}\n",
    )
    write(
        tmp_path,
        "compose.override.yaml",
        "services:\n  a:\n    logging: {options: {max-file: '3'}}\n  b:\n    logging: {driver: syslog}\n",
    )
    result = parse_file(tmp_path, "compose.yaml")
    assert service(result, "a").attrs["logging"] == {
        "driver": "json-file",
        "options": {"max-size": "1m", "max-file": "3"},
    }
    assert service(result, "b").attrs["logging"] == {"driver": "syslog"}


def test_anchor_merges_keep_local_lines(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        """\
x-base: &base
  image: base:1
  restart: always
  deploy:
    resources:
      limits: {memory: 1g}
services:
  web:
    <<: *base
    image: web:2
    deploy:
      replicas: 2
""",
    )
    web = service(parse_file(tmp_path, "compose.yaml"), "web")
    assert web.attrs["image"] == "web:2"
    assert web.attrs["deploy"] == {"replicas": 2}  # `<<` is shallow: the local deploy wins whole
    assert where(web, "image") == ("compose.yaml", 10)
    assert where(web, "restart") == ("compose.yaml", 3)  # inherited: the anchor's line
    assert where(web, "deploy", "replicas") == ("compose.yaml", 12)
    assert where(web, "deploy", "resources") == ("compose.yaml", 11)  # not in the value: no stale line
    assert web.facts["memory_limit"] is None


def test_extends_in_the_same_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        """\
services:
  base:
    image: app:1
    environment: {A: "1", B: "2"}
    mem_limit: 256m
  web:
    extends: base
    environment: {B: "3"}
  worker:
    extends:
      service: web
    command: work
""",
    )
    result = parse_file(tmp_path, "compose.yaml")
    web = service(result, "web")
    assert "extends" not in web.attrs
    assert web.attrs["environment"] == {"A": "1", "B": "3"}
    assert web.facts["memory_limit"] == 256 * 2**20
    assert where(web) == ("compose.yaml", 6)
    assert where(web, "mem_limit") == ("compose.yaml", 5)
    assert where(web, "extends") == ("compose.yaml", 7)
    worker = service(result, "worker")
    assert worker.attrs["environment"] == {"A": "1", "B": "3"}
    assert worker.attrs["command"] == "work"
    assert worker.facts["extends"] == {"service": "web", "file": None, "found": True}


def test_extends_from_another_file_keeps_that_files_lines_and_folder(tmp_path: Path) -> None:
    write(
        tmp_path,
        "common/services.yml",
        "services:\n  base:\n    image: app:${TAG}\n    volumes:\n      - ./conf/app.yml:/etc/app.yml:ro\n",
    )
    write(tmp_path, "common/conf/app.yml", "a: 1\n")
    write(tmp_path, ".env", "TAG=7\n")
    write(
        tmp_path,
        "compose.yaml",
        "services:\n  web:\n    extends:\n      file: common/services.yml\n      service: base\n    restart: always\n",
    )
    web = service(parse_file(tmp_path, "compose.yaml"), "web")
    assert web.attrs["image"] == "app:7"  # the project's .env applies to the extended file
    assert where(web, "image") == ("common/services.yml", 3)
    assert where(web, "restart") == ("compose.yaml", 6)
    [mount] = web.facts["bind_mounts"]
    assert mount["source"] == "common/conf/app.yml"  # relative to the file that wrote it
    assert mount["exists"] is True


def test_extends_problems(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        """\
services:
  loop-a:
    image: a:1
    extends: loop-b
  loop-b:
    extends: loop-a
  self:
    image: s:1
    extends: self
  lost:
    image: l:1
    extends: nowhere
  far:
    image: f:1
    extends:
      file: missing.yml
      service: x
""",
    )
    result = parse_file(tmp_path, "compose.yaml")
    assert service(result, "lost").facts["extends"] == {"service": "nowhere", "file": None, "found": False}
    assert where(service(result, "lost"), "extends") == ("compose.yaml", 12)
    [finding] = result.findings
    assert (finding.rule_id, finding.span.line) == ("infralint-include-not-found", 16)  # the `file:` line
    assert "missing.yml" in finding.message
    assert service(result, "self").attrs == {"image": "s:1"}


def test_include_names_are_visible_and_problems_reported(tmp_path: Path) -> None:
    write(tmp_path, "infra/compose.yaml", "include: [more.yaml]\nservices:\n  cache:\n    image: redis:7\n")
    write(tmp_path, "infra/more.yaml", "services:\n  queue:\n    image: rabbitmq:3\nnetworks:\n  bus: {}\n")
    write(
        tmp_path,
        "compose.yaml",
        """\
include:
  - infra/compose.yaml
  - path: missing.yaml
  - path:
      - /etc/passwd
  - oci://registry.example.com/app:1
services:
  web:
    image: web:1
""",
    )
    result = parse_file(tmp_path, "compose.yaml")
    project = by_id(result)["compose/compose.yaml"]
    assert project.facts["included"]["services"] == ["cache", "queue"]
    assert project.facts["included"]["networks"] == ["bus"]
    assert [entry["project"] for entry in project.facts["includes"]] == ["compose/infra/compose.yaml"]
    assert sorted((f.rule_id, f.span.line) for f in result.findings) == [
        ("infralint-include-not-found", 3),
        ("infralint-include-not-found", 5),
    ]
    outside = next(f for f in result.findings if f.span.line == 5)
    assert "outside the scan root" in outside.message
    # The included file's own parse builds its nodes (ids from its own path).
    assert "compose/infra/compose.yaml/service[cache]" in by_id(parse_file(tmp_path, "infra/compose.yaml"))


def test_interpolation_uses_the_env_file_beside_the_base_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FROM_SHELL", "leak")
    write(tmp_path, ".env", "TAG=2.1\nDATA=./state\n")
    write(
        tmp_path,
        "compose.yaml",
        """\
services:
  web:
    image: "example/web:${TAG:-dev}"
    environment:
      SHELL_VALUE: ${FROM_SHELL}
      LITERAL: "pa$$word"
    volumes:
      - ${DATA}/db:/db
      - ${UNSET}/x:/x
      - ${PWD}/conf:/conf
""",
    )
    web = service(parse_file(tmp_path, "compose.yaml"), "web")
    assert web.attrs["image"] == "example/web:2.1"
    assert web.attrs["environment"] == {"SHELL_VALUE": "", "LITERAL": "pa$word"}
    assert web.facts["environment"]["SHELL_VALUE"]["literal"] is False
    assert web.facts["environment"]["LITERAL"]["literal"] is True
    mounts = {m["target"]: m for m in web.facts["bind_mounts"]}
    assert mounts["/db"]["source"] == "state/db"
    assert mounts["/db"]["unresolved"] is False
    assert mounts["/x"]["unresolved"] is True
    assert mounts["/conf"]["source"] == "conf"
    assert by_id(parse_file(tmp_path, "compose.yaml"))["compose/compose.yaml"].facts["env_file"] == ".env"
    assert web.facts["interpolated"]['["image"]'] == {"raw": "example/web:${TAG:-dev}", "references": 1, "missing": 0}


def test_unquoted_ports_are_read_as_compose_reads_them(tmp_path: Path) -> None:
    # YAML 1.1 reads `22:22` as the base-60 number 1342; Compose sees the string.
    write(
        tmp_path,
        "compose.yaml",
        "services:\n  ssh:\n    image: s:1\n    ports:\n      - 22:22\n      - 2222:22\n    expose: [53:53]\n",
    )
    ssh = service(parse_file(tmp_path, "compose.yaml"), "ssh")
    assert ssh.attrs["ports"] == ["22:22", "2222:22"]
    assert [(p["published"], p["target"]) for p in ssh.facts["ports"]] == [(22, 22), (2222, 22)]


def test_scalars_are_read_as_yaml_1_2(tmp_path: Path) -> None:
    # Only true/false are booleans in YAML 1.2; Compose's boolean fields still take yes/no.
    write(tmp_path, ".env", "PRIV=yes\n")
    write(
        tmp_path,
        "compose.yaml",
        """\
services:
  app:
    image: a:1
    restart: no
    privileged: ${PRIV}
    read_only: off
    tty: TRUE
    environment:
      DEBUG: yes
      VERBOSE: on
      COLOR: true
    volumes:
      - {type: bind, source: ./conf, target: /conf, read_only: Yes, bind: {create_host_path: n}}
    labels:
      on: y
networks:
  edge:
    external: yes
""",
    )
    app = service(parse_file(tmp_path, "compose.yaml"), "app")
    assert app.facts["restart"] == "no"
    assert (app.attrs["privileged"], app.attrs["read_only"], app.attrs["tty"]) == (True, False, True)
    assert app.attrs["environment"] == {"DEBUG": "yes", "VERBOSE": "on", "COLOR": "true"}
    assert app.attrs["labels"] == {"on": "y"}
    assert app.facts["bind_mounts"][0]["read_only"] is True
    assert app.facts["bind_mounts"][0]["create_host_path"] is False
    assert where(app, "restart") == ("compose.yaml", 4)
    project = by_id(parse_file(tmp_path, "compose.yaml"))["compose/compose.yaml"]
    assert project.attrs["networks"]["edge"]["external"] is True


def test_missing_bind_sources_know_whether_git_ignores_them(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "*.local.yml\nruntime/\n")
    write(tmp_path, "deploy/.gitignore", "*.env\n!shared.env\n")
    write(
        tmp_path,
        "compose.yaml",
        """\
services:
  app:
    image: a:1
    volumes:
      - ./app.local.yml:/a
      - ./runtime/state/x.yml:/b
      - ./deploy/prod.env:/c
      - ./deploy/shared.env:/d
      - ./app.yml:/e
""",
    )
    mounts = service(parse_file(tmp_path, "compose.yaml"), "app").facts["bind_mounts"]
    assert [m["gitignored"] for m in mounts] == [True, True, True, False, False]


def test_facts(tmp_path: Path) -> None:
    write(tmp_path, "api/Dockerfile", "FROM python:3.12\nHEALTHCHECK CMD curl -f http://localhost/\n")
    write(tmp_path, "nginx/nginx.conf", "events {}\n")
    write(
        tmp_path,
        "compose.yaml",
        """\
name: Shop
services:
  web:
    image: registry.example.com:5000/shop/web:1.4@sha256:abc
    container_name: shop-web
    ports:
      - "127.0.0.1:8080:80"
      - target: 443
        published: 8443
    expose: ["9000", 9100]
    networks:
      front:
        aliases: [www]
      back:
    volumes:
      - ./nginx/nginx.conf:/etc/nginx/nginx.conf:ro
      - /var/run/docker.sock:/var/run/docker.sock
      - cache:/cache
    depends_on:
      api:
        condition: service_healthy
    deploy:
      replicas: 3
      resources:
        limits:
          memory: 512M
    mem_limit: 1g
    restart: unless-stopped
    entrypoint: /bin/sh -c "exec web"
  api:
    build: ./api
    depends_on: [db]
    network_mode: host
  db:
    image: postgres:16
    healthcheck:
      test: ["NONE"]
networks:
  front: {}
  back: {}
volumes:
  cache: {}
""",
    )
    result = parse_file(tmp_path, "compose.yaml")
    project = by_id(result)["compose/compose.yaml"]
    assert project.kinds == ("compose/project",)
    assert project.facts["name"] == "Shop"
    web = service(result, "web")
    assert web.kinds == ("compose/service",)
    assert web.parent == project.id
    facts = web.facts
    assert (facts["image_name"], facts["image_tag"], facts["image_digest"]) == (
        "registry.example.com:5000/shop/web",
        "1.4",
        "sha256:abc",
    )
    assert [(p["host_ip"], p["published"], p["target"], p["path"], p["all_interfaces"]) for p in facts["ports"]] == [
        ("127.0.0.1", 8080, 80, ("ports", 0), False),
        (None, 8443, 443, ("ports", 1), True),
    ]
    assert [e["port"] for e in facts["expose"]] == [9000, 9100]
    assert facts["networks"]["front"]["aliases"] == ["www"]
    assert facts["dns_names"] == ["shop-web", "web", "www"]
    assert set(facts["networks"]) == {"front", "back"}
    assert facts["memory_limit"] == 512 * 2**20  # deploy wins over mem_limit
    assert facts["memory_limit_path"] == ("deploy", "resources", "limits", "memory")
    assert facts["depends_on"] == {"api": "service_healthy"}
    assert facts["replicas"] == 3
    assert facts["restart"] == "unless-stopped"
    assert facts["container_name"] == "shop-web"
    assert facts["entrypoint"] == ["/bin/sh", "-c", "exec web"]
    binds = {m["target"]: m for m in facts["bind_mounts"]}
    assert binds["/etc/nginx/nginx.conf"] == {
        **binds["/etc/nginx/nginx.conf"],
        "source": "nginx/nginx.conf",
        "inside_root": True,
        "exists": True,
        "read_only": True,
    }
    assert binds["/var/run/docker.sock"]["inside_root"] is False
    assert [v["source"] for v in facts["volume_mounts"]] == ["cache"]
    api = service(result, "api")
    assert api.facts["healthcheck"]["has"] is True  # from its Dockerfile
    assert api.facts["depends_on"] == {"db": "service_started"}
    assert api.facts["networks"] == {}
    db = service(result, "db")
    assert db.facts["healthcheck"]["disabled"] is True
    assert (db.facts["healthcheck"]["present"], db.facts["healthcheck"]["has"]) == (False, False)
    assert web.facts["healthcheck"]["present"] is False
    assert db.facts["networks"] == {"default": {"aliases": [], "path": None}}
    assert {n.id for n in result.nodes if n.kind == "compose/network"} == {
        "compose/compose.yaml/network[front]",
        "compose/compose.yaml/network[back]",
    }


def test_project_name_defaults_to_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "My App!"
    write(folder, "compose.yaml", "services:\n  web:\n    image: a:1\n")
    project = by_id(parse_file(tmp_path, "My App!/compose.yaml"))["compose/My App!/compose.yaml"]
    assert project.facts["name"] == "myapp"


def test_documents_of_one_file_merge_in_order(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "services:\n  web:\n    image: a:1\n---\nservices:\n  web:\n    restart: always\n")
    assert service(parse_file(tmp_path, "compose.yaml"), "web").attrs == {"image": "a:1", "restart": "always"}


def test_a_template_is_not_a_parse_error(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "services:\n  web:\n    image: {{ image }}\n")
    result = parse_file(tmp_path, "compose.yaml")
    assert [f.rule_id for f in result.findings] == ["infralint-unsupported-template"]
    assert result.nodes == []


def test_provider_services_and_fragments(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        "services:\n  model:\n    provider: {type: model}\n  half:\n    environment: {A: '1'}\n  full:\n    image: a:1\n",
    )
    result = parse_file(tmp_path, "compose.yaml")
    assert service(result, "model").facts["provider"] is True
    assert service(result, "half").facts["fragment"] is True
    assert service(result, "full").facts["fragment"] is False
