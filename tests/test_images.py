"""What images declare: the Dockerfile reader, the known-image data file and the one healthcheck
answer rules share."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from graphs import graph_of

from infralint.api import ScanOptions, scan
from infralint.images import built, copies, dockerfile, known
from infralint.images.health import health
from infralint.topology.model import extract


def stages(text: str, **args: str) -> list[dockerfile.Stage]:
    return dockerfile.read(text, args or None).stages


# --- the reader ------------------------------------------------------------------------------------


def test_continuations_comments_and_blank_lines_inside_them() -> None:
    text = (
        "FROM alpine:3.20\n"
        "RUN apk add \\\n"
        "# a comment inside the continuation\n"
        "\n"
        "    curl\n"
        "HEALTHCHECK --interval=5s \\\n"
        "  --timeout=2s \\\n"
        "  CMD curl -f http://localhost/ || exit 1\n"
        "EXPOSE 80\n"
    )
    found = dockerfile.instructions(text)
    assert [(i.keyword, i.line) for i in found] == [("FROM", 1), ("RUN", 2), ("HEALTHCHECK", 6), ("EXPOSE", 9)]
    check = stages(text)[0].healthcheck
    assert check == dockerfile.Healthcheck(6, False, "curl -f http://localhost/ || exit 1")


def test_escape_directive_changes_the_continuation_character() -> None:
    text = "# escape=`\nFROM mcr.microsoft.com/windows/servercore\nRUN dir `\n  C:\\\nEXPOSE 8080\n"
    (stage,) = stages(text)
    assert [p.port for p in stage.ports] == [8080]
    assert [i.keyword for i in dockerfile.instructions(text)] == ["FROM", "RUN", "EXPOSE"]


def test_heredoc_bodies_are_not_instructions() -> None:
    text = (
        "FROM debian:12\n"
        "RUN <<EOT bash\n"
        "HEALTHCHECK NONE\n"
        "FROM evil\n"
        "EOT\n"
        "COPY <<-CONF /etc/app.conf\n"
        "\tUSER nobody\n"
        "\tCONF\n"
        "USER app\n"
    )
    (stage,) = stages(text)
    assert stage.healthcheck is None
    assert stage.user == ("app", 9)
    assert stage.copies == []  # written inline: nothing comes from the build context


def test_json_and_shell_forms() -> None:
    text = (
        "FROM nginx:1.27\n"
        'COPY ["conf/nginx.conf", "conf/mime.types", "/etc/nginx/"]\n'
        "ADD --chown=nginx:nginx site /usr/share/nginx/html\n"
        'VOLUME ["/var/cache/nginx", "/var/log/nginx"]\n'
        "VOLUME /data /tmp\n"
        'HEALTHCHECK CMD ["curl", "-f", "http://localhost/"]\n'
        "EXPOSE 80/tcp 443 53/udp 8000-8002\n"
    )
    (stage,) = stages(text)
    assert [c.sources for c in stage.copies] == [("conf/nginx.conf", "conf/mime.types"), ("site",)]
    assert [c.destination for c in stage.copies] == ["/etc/nginx/", "/usr/share/nginx/html"]
    assert [v for v, _ in stage.volumes] == ["/var/cache/nginx", "/var/log/nginx", "/data", "/tmp"]
    assert stage.healthcheck is not None and stage.healthcheck.test == '["curl", "-f", "http://localhost/"]'
    assert [(p.port, p.end, p.protocol) for p in stage.ports] == [
        (80, 80, "tcp"),
        (443, 443, "tcp"),
        (53, 53, "udp"),
        (8000, 8002, "tcp"),
    ]


def test_arg_in_from_with_defaults_and_build_args() -> None:
    text = "ARG REGISTRY=docker.io\nARG TAG\nFROM ${REGISTRY}/library/python:${TAG:-3.12} AS app\n"
    assert stages(text)[0].base == "docker.io/library/python:3.12"
    assert stages(text, TAG="3.13")[0].base == "docker.io/library/python:3.13"
    # A variable without a value: the base cannot be read (never guessed).
    assert stages("FROM $BASE\n")[0].base == ""


def test_variables_from_arg_and_env_inside_a_stage() -> None:
    text = "FROM alpine\nARG UID=101\nENV PORT=8080 DATA=/srv\nEXPOSE $PORT ${METRICS}\nUSER $UID\nVOLUME $DATA\n"
    (stage,) = stages(text)
    assert [p.port for p in stage.ports] == [8080]
    assert stage.unread_ports == 1
    assert stage.user == ("101", 5)
    assert stage.volumes == [("/srv", 6)]


def test_from_names_only_earlier_stages_so_chains_cannot_cycle() -> None:
    # `FROM b AS a` after `FROM a AS b`: the first `a` is an image (no stage `a` exists yet).
    text = "FROM a AS b\nHEALTHCHECK CMD true\nFROM b AS a\nFROM a\n"
    facts = built.describe(text, "Dockerfile", ".", lookup=lambda image: None)
    assert facts is not None
    assert facts["base"] == "a"
    assert facts["healthcheck"]["has"] is True and facts["healthcheck"]["line"] == 2
    # A stage built FROM itself is an image of that name, not a loop.
    facts = built.describe("FROM loop AS loop\n", "Dockerfile", ".", lookup=lambda image: None)
    assert facts is not None and facts["base"] == "loop" and facts["healthcheck"]["has"] is None


def test_nearest_healthcheck_along_the_chain_decides() -> None:
    text = (
        "FROM python:3.12-slim AS base\n"
        "HEALTHCHECK CMD python -m health\n"
        "FROM base AS quiet\n"
        "HEALTHCHECK NONE\n"
        "FROM base AS app\n"
        "FROM quiet AS worker\n"
    )
    app = built.describe(text, "Dockerfile", ".", target="app")
    worker = built.describe(text, "Dockerfile", ".", target="worker")
    assert app is not None and app["healthcheck"]["has"] is True and app["healthcheck"]["line"] == 2
    assert worker is not None and worker["healthcheck"]["disabled"] is True and worker["healthcheck"]["line"] == 4
    assert built.describe(text, "Dockerfile", ".", target="missing") is None


def test_an_unknown_base_leaves_the_healthcheck_unknown() -> None:
    unknown = built.describe("FROM ghcr.io/example/base:1\nCOPY . /app\n", "Dockerfile", ".")
    known_none = built.describe("FROM node:22-alpine\nCOPY . /app\n", "Dockerfile", ".")
    scratch = built.describe("FROM scratch\nCOPY app /app\n", "Dockerfile", ".")
    known_has = built.describe("FROM louislam/uptime-kuma:1\n", "Dockerfile", ".")
    assert unknown is not None and unknown["healthcheck"]["has"] is None
    assert unknown["user"] is None and unknown["expose_complete"] is False
    assert known_none is not None and known_none["healthcheck"]["has"] is False
    assert scratch is not None and scratch["healthcheck"]["has"] is False and scratch["user"]["value"] == "root"
    assert known_has is not None and known_has["healthcheck"]["has"] is True


def test_copies_from_the_context_are_paths_of_the_scan() -> None:
    text = (
        "FROM golang:1.23 AS build\n"
        "COPY . /src\n"
        "FROM nginx:1.27\n"
        "COPY ./conf/nginx.conf /etc/nginx/nginx.conf\n"
        "COPY --from=build /src/bin /usr/bin/\n"
        "ADD https://example.com/file.tgz /tmp/\n"
        "COPY ../outside /x\n"
    )
    facts = built.describe(text, "proxy/Dockerfile", "proxy")
    assert facts is not None
    copied = {source for copy in facts["copies"] for source in copy["sources"]}
    # The build stage's `COPY . /src` is not in the image, a URL is not a file of the scan, and a
    # source never leaves the context (`../outside` is `outside` at its top).
    assert copied == {"proxy/conf/nginx.conf", "proxy/outside"}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# only a comment\n",
        "RUN echo no FROM\n",
        "FROM\n",
        "FROM alpine AS\n",
        "FROM alpine\nHEALTHCHECK\nEXPOSE\nUSER\nVOLUME\nCOPY\nADD x\n",
        "FROM alpine\nRUN <<EOF\nnever closed\n",
        "FROM alpine\nRUN echo \\",
        'FROM alpine\nVOLUME ["unterminated\nCOPY "a b\n',
        "FROM ${A:-${B}}\n",
        "\ufeffFROM alpine\n",
    ],
)
def test_odd_input_never_crashes(text: str) -> None:
    facts = built.describe(text, "Dockerfile", ".")
    if facts is None:
        return  # no stage to describe
    lines = text.count("\n") + 1
    health = facts["healthcheck"]
    assert health["has"] in (True, False, None)
    for line in (facts["line"], health["line"]):
        assert line is None or 1 <= line <= lines
    if "HEALTHCHECK\n" in text:  # no command: Docker refuses it, so it declares nothing
        assert health["has"] is not True


# --- known images ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "repository", "tag"),
    [
        ("redis", "redis", "latest"),
        ("redis:7.4-alpine", "redis", "7.4-alpine"),
        ("docker.io/library/redis:7", "redis", "7"),
        ("index.docker.io/valkey/valkey:8", "valkey/valkey", "8"),
        ("ghcr.io/Authelia/authelia:4.38", "ghcr.io/authelia/authelia", "4.38"),
        ("localhost:5000/app:1@sha256:abc", "localhost:5000/app", "1"),
        ("registry.example.com:5000/team/app", "registry.example.com:5000/team/app", "latest"),
    ],
)
def test_references_are_normalised_as_docker_resolves_them(image: str, repository: str, tag: str) -> None:
    reference = known.parse_reference(image)
    assert reference is not None and (reference.repository, reference.tag) == (repository, tag)


@pytest.mark.parametrize("image", ["${IMAGE}", "$REGISTRY/app:1", "", "  "])
def test_a_variable_is_never_a_known_image(image: str) -> None:
    assert known.lookup(image) is None


def test_tag_patterns_pick_the_entry() -> None:
    eighteen, seventeen, latest = (
        known.lookup("postgres:18.1"),
        known.lookup("postgres:17-alpine"),
        known.lookup("postgres"),
    )
    assert eighteen is not None and eighteen.volumes == ("/var/lib/postgresql",)
    assert seventeen is not None and seventeen.volumes == ("/var/lib/postgresql/data",)
    assert latest is not None and latest.volumes == ()  # `latest` moves: no claim about its volume


def test_the_data_file_entries_carry_a_source_and_known_fields() -> None:
    data = yaml.safe_load(known.DATA.read_text(encoding="utf-8"))
    fields = {"names", "tags", "source", "healthcheck", "expose", "user", "volumes", "listen", "server_defaults"}
    fields |= {"waits_for", "waits_source", "drops_root_to", "server_command", "entrypoint_source"}
    for item in data["images"]:
        assert set(item) <= fields, item
        assert str(item["source"]).startswith("https://"), item
        # an entrypoint that drops root is read from its own source, and names what it starts
        if "drops_root_to" in item:
            assert str(item["entrypoint_source"]).startswith("https://"), item
            assert item["server_command"], item
        assert item["names"] == [name.lower() for name in item["names"]], item


def test_official_database_images_drop_root_for_their_server() -> None:
    for image, user, server in [
        ("postgres:16.4", "postgres", "postgres"),
        ("redis:7.4", "redis", "redis-server"),
        ("mariadb:11", "mysql", "mariadbd"),
        ("mongo:7", "mongodb", "mongod"),
    ]:
        found = known.lookup(image)
        assert found is not None and (found.drops_root_to, found.server_command) == (user, server), image
    nginx = known.lookup("nginx:1.27")
    assert nginx is not None and nginx.drops_root_to is None  # its master process stays root


def test_the_facts_the_issue_names() -> None:
    redis, valkey = known.lookup("redis:7.4"), known.lookup("valkey/valkey:8.0")
    unprivileged = known.lookup("nginxinc/nginx-unprivileged:1.27-alpine")
    assert redis is not None and redis.server_defaults == {"protected-mode": "no"}
    assert valkey is not None and valkey.server_defaults == {"protected-mode": "no"}
    assert unprivileged is not None and unprivileged.listen == (8080,) and unprivileged.user == "101"
    assert known.lookup("traefik:v3.1") is not None and known.lookup("traefik:v3.1").healthcheck is False  # type: ignore[union-attr]


# --- one healthcheck answer ------------------------------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _health(root: Path, service: str) -> tuple[bool | None, bool]:
    graph = graph_of(root)
    node = next(n for n in graph.of_kind("compose/service") if n.facts["service"] == service)
    found = health(graph, node)
    return found.has, found.disabled


def test_an_image_built_elsewhere_in_the_scan_is_known_by_name(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "deploy/compose.yaml": "services:\n  api: {image: 'example/api:2.0'}\n  cache: {image: '${CACHE}'}\n",
            "build/compose.yaml": "services:\n  api:\n    image: example/api:${TAG:-dev}\n    build: ../api\n",
            "api/Dockerfile": "FROM node:22-alpine\nCOPY . /app\n",
        },
    )
    assert _health(tmp_path, "api") == (False, False)
    assert _health(tmp_path, "cache") == (None, False)


def test_two_dockerfiles_that_disagree_leave_the_image_unknown(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "run/compose.yaml": "services:\n  web: {image: 'example/web'}\n",
            "a/compose.yaml": "services:\n  web: {image: example/web, build: ../web-a}\n",
            "b/compose.yaml": "services:\n  web: {image: example/web, build: ../web-b}\n",
            "web-a/Dockerfile": "FROM node:22\nHEALTHCHECK CMD true\n",
            "web-b/Dockerfile": "FROM node:22\n",
        },
    )
    assert _health(tmp_path, "web")[0] in (True, False)  # the services that build it know their own
    graph = graph_of(tmp_path)
    runner = next(n for n in graph.of_kind("compose/service") if n.path == "run/compose.yaml")
    assert health(graph, runner).has is None


def test_compose_decides_before_the_image(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "compose.yaml": (
                "services:\n"
                "  off: {image: 'louislam/uptime-kuma:1', healthcheck: {disable: true}}\n"
                "  timings: {image: 'postgres:16', healthcheck: {interval: 5s}}\n"
                "  own: {image: 'postgres:16', healthcheck: {test: ['CMD', 'pg_isready']}}\n"
                "  unreadable: {build: ./missing}\n"
            ),
        },
    )
    assert _health(tmp_path, "off") == (False, True)
    assert _health(tmp_path, "timings") == (False, False)  # the test would come from the image: none
    assert _health(tmp_path, "own") == (True, False)
    assert _health(tmp_path, "unreadable") == (None, False)


# --- configs a Dockerfile copies in ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("copy", "expected"),
    [
        ({"sources": ["proxy/nginx.conf"], "destination": "/etc/nginx/nginx.conf"}, "/etc/nginx/nginx.conf"),
        ({"sources": ["proxy/nginx.conf"], "destination": "/etc/nginx/"}, "/etc/nginx/nginx.conf"),
        ({"sources": ["proxy/conf"], "destination": "/etc/nginx"}, "/etc/nginx/nginx.conf"),
        ({"sources": ["proxy/*.conf"], "destination": "/etc/nginx/"}, "/etc/nginx/nginx.conf"),
        ({"sources": ["proxy/nginx.conf.tpl"], "destination": "/etc/nginx/nginx.conf"}, None),
        ({"sources": ["proxy"], "destination": "/app"}, None),  # the whole context says nothing
    ],
)
def test_copied_files(copy: dict[str, object], expected: str | None) -> None:
    path = "proxy/conf/nginx.conf" if copy["sources"] == ["proxy/conf"] else "proxy/nginx.conf"
    facts = {"image_build": {"context": "proxy", "copies": [copy]}}
    found = list(copies.copied_files(facts, {path: ["config"], "other/nginx.conf": ["other"]}))
    assert found == ([("config", expected)] if expected else [])


def test_a_config_copied_into_the_image_runs_in_that_service(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "compose.yaml": "services:\n  web:\n    build: proxy\n    ports: ['80:80']\n  app:\n    build: app\n",
            "proxy/Dockerfile": "FROM nginx:1.27\nCOPY conf/ /etc/nginx/conf.d/\n",
            "proxy/conf/site.conf": "server {\n    listen 80;\n    location / { proxy_pass http://app:8000; }\n}\n",
            "proxy/unused/nginx.conf": "events {}\nhttp {\n  server {\n    listen 81;\n  }\n}\n",
            "app/Dockerfile": "FROM python:3.12-slim\nCOPY . /app\n",
            "app/nginx.conf": "events {}\nhttp {\n  server {\n    listen 82;\n  }\n}\n",
        },
    )
    graph = graph_of(tmp_path)
    runs_in = {n.path: n.facts.get("runs_in") for n in graph.of_kind("nginx/config")}
    assert runs_in == {
        "proxy/conf/site.conf": ["compose/compose.yaml/service[web]"],
        # Not copied by the Dockerfile, or copied only as part of the whole context.
        "proxy/unused/nginx.conf": None,
        "app/nginx.conf": None,
    }
    topology = extract(graph, [])
    assert topology.node("compose/compose.yaml/service[web]").role == "proxy"
    assert topology.node("nginx/proxy/unused/nginx.conf").role == "config"


def test_a_comment_in_the_dockerfile_suppresses_a_finding_that_points_there(tmp_path: Path) -> None:
    compose = "services:\n  web: {image: 'example/web:1', depends_on: [api]}\n  api: {build: ./api}\n"
    _write(tmp_path, {"compose.yaml": compose, "api/Dockerfile": "FROM louislam/uptime-kuma:1\nHEALTHCHECK NONE\n"})
    assert _scan(tmp_path) == [("api/Dockerfile", 2)]
    comment = "# infralint: ignore[compose-no-healthcheck]\n"
    _write(tmp_path, {"api/Dockerfile": f"FROM louislam/uptime-kuma:1\n{comment}HEALTHCHECK NONE\n"})
    assert _scan(tmp_path) == []


def _scan(root: Path) -> list[tuple[str, int | None]]:
    previous = os.getcwd()
    os.chdir(root)
    try:
        report = scan(["."], ScanOptions(select=["compose-no-healthcheck"]))
    finally:
        os.chdir(previous)
    return [(f.span.path, f.span.line) for f in report.findings]
