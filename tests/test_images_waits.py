"""Reading a service's start-up for the services it waits for (infralint/images/waits.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infralint.images import built, waits
from infralint.images.dockerfile import read as read_dockerfile


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _read(absolute: str) -> str | None:
    try:
        with open(absolute, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def _facts(root: Path, context: str | None, **extra: Any) -> dict[str, Any]:
    """Service facts as the compose parser makes them, for a service built from CONTEXT."""
    facts: dict[str, Any] = {"image": None, "build": context is not None, "entrypoint": None, "command": None}
    if context is not None:
        text = (root / context / "Dockerfile").read_text()
        facts["image_build"] = built.describe(text, f"{context}/Dockerfile", context)
    environment = extra.pop("environment", {})
    facts["environment"] = {name: {"value": value} for name, value in environment.items()}
    facts.update(extra)
    return facts


def _hosts(root: Path, facts: dict[str, Any]) -> set[str]:
    return {host for probe in waits.start_waits(facts, str(root), _read) for host in probe["hosts"]}


def _service(root: Path, script: str, **extra: Any) -> set[str]:
    """The hosts waited for by an image whose ENTRYPOINT runs SCRIPT."""
    _write(
        root,
        {
            "app/Dockerfile": 'FROM alpine:3.20\nCOPY entrypoint.sh /entrypoint.sh\nENTRYPOINT ["/entrypoint.sh"]\n',
            "app/entrypoint.sh": script,
        },
    )
    return _hosts(root, _facts(root, "app", **extra))


# --- the Dockerfile's start command ---------------------------------------------------------------


def test_entrypoint_and_cmd_are_read_in_both_forms() -> None:
    stage = read_dockerfile('FROM alpine\nENTRYPOINT ["/init", "--"]\nCMD exec app --port 80\n').stages[0]
    assert stage.entrypoint is not None and stage.entrypoint.words == ("/init", "--")
    assert stage.cmd is not None and stage.cmd.words == ("/bin/sh", "-c", "exec app --port 80")


def test_an_entrypoint_set_in_a_later_stage_drops_the_cmd_of_its_base() -> None:
    text = 'FROM alpine AS base\nCMD ["base"]\nFROM base\nENTRYPOINT ["/start.sh"]\n'
    start = built.describe(text, "Dockerfile", ".")["start"]  # type: ignore[index]
    assert start["entrypoint"] == ["/start.sh"] and start["cmd"] is None


# --- loops and probes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "script",
    [
        '#!/bin/sh\nuntil mysqladmin ping -h db --silent; do sleep 1; done\nexec "$@"\n',
        "#!/bin/sh\nwhile ! mariadb-admin status -hdb; do\n  sleep 1\ndone\n",
        "#!/bin/bash\nuntil pg_isready --host=db -p 5432; do sleep 1; done\n",
        '#!/bin/bash\nuntil [[ $(redis-cli -h db -p 6379 PING) == "PONG" ]]; do sleep 1; done\n',
        "#!/bin/sh\nuntil nc -z -w 2 db 5432; do sleep 1; done\n",
        "#!/bin/sh\nuntil curl -fsS http://db:8080/health; do sleep 1; done\n",
        "#!/bin/sh\nuntil mongosh --host db --eval 'db.runCommand({ping: 1})'; do sleep 1; done\n",
        "#!/bin/sh\nwhile true; do\n  if pg_isready -h db; then\n    break\n  fi\n  sleep 1\ndone\n",
        "#!/bin/sh\n/usr/local/bin/wait-for-it.sh db:5432 -t 60 -- echo ready\n",
        "#!/bin/sh\ndockerize -wait tcp://db:5432 -timeout 60s\n",
    ],
)
def test_a_readiness_probe_in_a_wait_loop_names_the_host(tmp_path: Path, script: str) -> None:
    assert _service(tmp_path, script) == {"db"}


@pytest.mark.parametrize(
    "script",
    [
        "#!/bin/sh\nuntil ping -c1 db; do sleep 1; done\n",  # answers once the container is up
        "#!/bin/sh\nwhile pg_isready -h db; do sleep 60; done\n",  # runs while it answers: a monitor
        "#!/bin/sh\nwhile true; do pg_isready -h db; sleep 60; done\n",  # never leaves: a monitor
        "#!/bin/sh\npg_isready -h db\n",  # once, not a wait
        "#!/bin/sh\n# until pg_isready -h db; do sleep 1; done\n",  # a comment
        "#!/usr/bin/env python3\nwhile not ready('db'):\n    until = 1\n",  # not shell
    ],
)
def test_no_wait_without_a_probe_in_a_loop_that_waits(tmp_path: Path, script: str) -> None:
    assert _service(tmp_path, script) == set()


def test_the_host_comes_from_assignments_the_environment_and_defaults(tmp_path: Path) -> None:
    script = (
        "#!/bin/bash\n"
        'host="${DB_HOST:-localhost}"\n'
        'until pg_isready -h "$host"; do sleep 1; done\n'
        "until redis-cli -h ${CACHE_HOST:-cache} ping; do sleep 1; done\n"
        "until nc -z $QUEUE_HOST 5672; do sleep 1; done\n"
    )
    assert _service(tmp_path, script, environment={"DB_HOST": "postgres"}) == {"postgres", "cache"}


def test_each_branch_of_an_assignment_is_a_value(tmp_path: Path) -> None:
    script = (
        "#!/bin/bash\n"
        'if [[ ! -z ${REPLICA} ]]; then\n  CLI="redis-cli -h ${REPLICA}"\nelse\n  CLI="redis-cli -h redis"\nfi\n'
        'until [[ $(${CLI} PING) == "PONG" ]]; do sleep 2; done\n'
    )
    assert _service(tmp_path, script, environment={"REPLICA": ""}) == {"redis"}


def test_a_socket_probe_is_kept(tmp_path: Path) -> None:
    script = "#!/bin/sh\nwhile ! mysqladmin status --socket=/run/mysqld/mysqld.sock; do sleep 1; done\n"
    _service(tmp_path, script)
    probes = waits.start_waits(_facts(tmp_path, "app"), str(tmp_path), _read)
    assert probes[0]["sockets"] == ["/run/mysqld/mysqld.sock"] and probes[0]["line"] == 2


# --- following the start-up ----------------------------------------------------------------------


def test_scripts_run_or_sourced_are_followed_two_steps_deep(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "app/Dockerfile": 'FROM alpine\nCOPY bin/ /opt/bin/\nCMD ["/opt/bin/start.sh"]\n',
            "app/bin/start.sh": "#!/bin/sh\n. /opt/bin/one.sh\nexec app\n",
            "app/bin/one.sh": "#!/bin/sh\nbash /opt/bin/two.sh\nuntil pg_isready -h one; do sleep 1; done\n",
            "app/bin/two.sh": "#!/bin/sh\n/opt/bin/three.sh\nuntil pg_isready -h two; do sleep 1; done\n",
            "app/bin/three.sh": "#!/bin/sh\nuntil pg_isready -h three; do sleep 1; done\n",
        },
    )
    assert _hosts(tmp_path, _facts(tmp_path, "app")) == {"one", "two"}


def test_a_compose_entrypoint_replaces_the_image_start_and_may_be_bind_mounted(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "app/Dockerfile": 'FROM alpine\nCOPY start.sh /start.sh\nENTRYPOINT ["/start.sh"]\n',
            "app/start.sh": "#!/bin/sh\nuntil pg_isready -h image; do sleep 1; done\n",
            "wait.sh": "#!/bin/sh\nuntil pg_isready -h mounted; do sleep 1; done\n",
        },
    )
    mounts = [{"source": "wait.sh", "target": "/wait.sh", "inside_root": True}]
    facts = _facts(tmp_path, "app", entrypoint=["sh", "/wait.sh"], bind_mounts=mounts)
    assert _hosts(tmp_path, facts) == {"mounted"}
    # A published image: only what compose runs is read.
    facts = _facts(tmp_path, None, image="postgres:16", command=["/wait.sh"], bind_mounts=mounts)
    assert _hosts(tmp_path, facts) == {"mounted"}


def test_supervisord_programs_are_followed(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "app/Dockerfile": (
                "FROM alpine\nCOPY supervisord.conf /etc/supervisor/supervisord.conf\nCOPY run.sh /opt/run.sh\n"
                'CMD ["/usr/bin/supervisord", "-c", "/etc/supervisor/supervisord.conf"]\n'
            ),
            "app/supervisord.conf": "[supervisord]\nnodaemon=true\n\n[program:app]\ncommand=/opt/run.sh\n",
            "app/run.sh": "#!/bin/bash\nwhile ! mysqladmin ping -h db; do sleep 1; done\n",
        },
    )
    assert _hosts(tmp_path, _facts(tmp_path, "app")) == {"db"}


def test_an_image_is_matched_to_the_one_folder_of_its_name(tmp_path: Path) -> None:
    script = "#!/bin/sh\nuntil pg_isready -h db; do sleep 1; done\n"
    _write(
        tmp_path,
        {
            "docker/worker/Dockerfile": 'FROM alpine\nCOPY start.sh /start.sh\nCMD ["/start.sh"]\n',
            "docker/worker/start.sh": script,
        },
    )
    assert _hosts(tmp_path, _facts(tmp_path, None, image="ghcr.io/acme/worker:1.2")) == {"db"}
    # An official image is not built here, whatever the folder is called.
    assert _hosts(tmp_path, _facts(tmp_path, None, image="worker:1.2")) == set()
    # Two folders of that name: the scan cannot tell which builds it.
    two = tmp_path / "two"
    _write(two, {"a/worker/Dockerfile": 'FROM alpine\nCOPY start.sh /start.sh\nCMD ["/start.sh"]\n'})
    _write(two, {"a/worker/start.sh": script, "b/worker/Dockerfile": 'FROM alpine\nCMD ["/start.sh"]\n'})
    assert _hosts(two, _facts(two, None, image="ghcr.io/acme/worker:1.2")) == set()
    # A scan of several repositories matches within the top folder of the compose file.
    facts = _facts(two, None, image="ghcr.io/acme/worker:1.2", files=["a/compose.yaml"])
    assert _hosts(two, facts) == {"db"}


def test_a_known_image_waits_for_the_host_its_variable_names(tmp_path: Path) -> None:
    image = "ghcr.io/paperless-ngx/paperless-ngx:2.15"
    facts = _facts(tmp_path, None, image=image, environment={"PAPERLESS_REDIS": "redis://broker:6379/0"})
    assert _hosts(tmp_path, facts) == {"broker"}  # no PAPERLESS_DBHOST: SQLite, no wait
    facts = _facts(tmp_path, None, image=image, environment={"PAPERLESS_DBHOST": "db"})
    assert _hosts(tmp_path, facts) == {"db", "localhost"}  # the Redis default


# --- matching a dependency ------------------------------------------------------------------------


def test_waited_for_matches_names_aliases_and_shared_sockets() -> None:
    dependent = {
        "start_waits": [
            {"tool": "redis-cli", "hosts": ["cache"], "sockets": []},
            {"tool": "mysqladmin", "hosts": [], "sockets": ["/var/run/mysqld/mysqld.sock"]},
        ],
        "volume_mounts": [{"source": "mysql-socket", "target": "/var/run/mysqld/"}],
    }
    redis = {"service": "redis-main", "dns_names": ["redis-main", "cache"]}
    mysql = {"service": "mysql", "dns_names": ["mysql"], "volume_mounts": [{"source": "mysql-socket", "target": "/x"}]}
    other = {"service": "mysql", "dns_names": ["mysql"], "volume_mounts": [{"source": "data", "target": "/x"}]}
    assert waits.waited_for(dependent, redis) is not None
    assert waits.waited_for(dependent, mysql) is not None
    assert waits.waited_for(dependent, other) is None


def test_a_shell_entrypoint_takes_its_script_from_the_command(tmp_path: Path) -> None:
    command = ["until nc -z cache 6379; do sleep 1; done; exec app"]
    facts = _facts(tmp_path, None, image="example/app:1", entrypoint=["bash", "-c"], command=command)
    assert _hosts(tmp_path, facts) == {"cache"}
