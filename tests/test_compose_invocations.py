"""Lists of compose files read from CI workflows, Makefiles and scripts (never run)."""

from __future__ import annotations

import os
from pathlib import Path

from infralint.parsers import compose_invocations as ci
from infralint.parsers.compose_invocations import UNKNOWN


def _read(path: str) -> str | None:
    return Path(path).read_text() if os.path.isfile(path) else None


def _entries(lists: object) -> list[tuple[str, tuple[str, ...]]]:
    return [(os.path.basename(item.folder), item.entries) for item in lists]  # type: ignore[attr-defined]


def test_script_command_and_assignment() -> None:
    script = (
        "cd deploy\n"
        "docker compose -f compose.yaml --file=compose.prod.yaml -p shop up -d\n"
        "docker-compose -f a.yml logs -f web\n"  # `logs -f` follows the log: one file only
        "COMPOSE_FILE=base.yml:$OVERLAY/extra.yml docker compose up\n"
        "docker compose --project-directory x -f a.yml -f b.yml up\n"
    )
    found = _entries(ci.script_lists(script, "/repo", "run.sh"))
    assert found == [
        ("deploy", ("compose.yaml", "compose.prod.yaml")),
        ("deploy", ("base.yml", f"{UNKNOWN}/extra.yml")),
    ]


def test_makefile_cd_lasts_one_line_and_unknown_cd_stops() -> None:
    makefile = "up:\n\tcd ops && docker compose -f a.yml -f b.yml up\n\tdocker compose -f c.yml -f d.yml up\n"
    assert _entries(ci.script_lists(makefile, "/repo", "Makefile", cd_persists=False)) == [
        ("ops", ("a.yml", "b.yml")),
        ("repo", ("c.yml", "d.yml")),
    ]
    script = 'cd "$WORKDIR"\ndocker compose -f a.yml -f b.yml up\n'
    assert list(ci.script_lists(script, "/repo", "run.sh")) == []


def test_workflow_env_levels_and_working_directory() -> None:
    workflow = """
env:
  COMPOSE_FILE: a.yml:b.yml
jobs:
  test:
    defaults:
      run:
        working-directory: deploy
    env:
      COMPOSE_FILE: compose.yaml:${{ matrix.dir }}compose.yaml
    steps:
      - run: docker compose -f c.yml -f d.yml up
        working-directory: other
      - env:
          COMPOSE_FILE: e.yml;f.yml
        run: docker compose up
"""
    assert _entries(ci.workflow_lists(workflow, "/repo", "ci.yml")) == [
        ("repo", ("a.yml", "b.yml")),
        ("deploy", ("compose.yaml", f"{UNKNOWN}compose.yaml")),
        ("other", ("c.yml", "d.yml")),
        ("deploy", ("e.yml", "f.yml")),
    ]


def test_unknown_part_matching() -> None:
    # At the start of a segment it may stand for folders; inside a segment it stays there.
    assert ci._matches(f"{UNKNOWN}compose.yaml", "ci/certbot/compose.yaml")
    assert ci._matches(f"ci/{UNKNOWN}/compose.yaml", "ci/certbot/compose.yaml")
    assert ci._matches(f"compose.{UNKNOWN}.yaml", "compose.ci.yaml")
    assert not ci._matches(f"compose.{UNKNOWN}.yaml", "x/compose.ci.yaml")
    assert not ci._matches(f"ci/{UNKNOWN}/compose.yaml", "deploy/certbot/compose.yaml")
    assert not ci._matches(f"{UNKNOWN}/{UNKNOWN}", "ci/compose.yaml")  # all unknown: no evidence


def test_listed_before(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / "ci" / "smoke").mkdir(parents=True)
    for name in ("compose.yaml", "ci/base.yaml", "ci/smoke/compose.yaml"):
        (tmp_path / name).write_text("services: {}\n")
    (tmp_path / ".github" / "workflows" / "ci.yaml").write_text(
        "jobs:\n  t:\n    env:\n      COMPOSE_FILE: compose.yaml:ci/base.yaml:${{ matrix.dir }}compose.yaml\n"
    )
    root = str(tmp_path)
    found = ci.listed_before(os.path.join(root, "ci", "smoke", "compose.yaml"), root, _read)
    assert found == (
        [os.path.join(root, "compose.yaml"), os.path.join(root, "ci", "base.yaml")],
        ".github/workflows/ci.yaml",
    )
    assert ci.listed_before(os.path.join(root, "compose.yaml"), root, _read) is None


def test_a_script_folder_and_variables_built_on_it_are_known() -> None:
    script = (
        'DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"\n'
        'ROOT="$DIR/.."\n'
        'docker compose -f "$DIR/a.yml" -f "${DIR}/b.yml" up\n'
        'cd "$ROOT"\n'
        "docker compose -f compose.yaml -f extra/compose.yaml up\n"
        'cd "$(dirname "$0")/../other"\n'
        "docker compose -f c.yml -f d.yml up\n"
        'OTHER="$SOMEWHERE"\ncd "$OTHER"\ndocker compose -f e.yml -f f.yml up\n'
    )
    found = [(i.folder, i.entries) for i in ci.script_lists(script, "/run", "x.sh", script_folder="/repo/dev/x")]
    assert found == [
        ("/run", ("../repo/dev/x/a.yml", "../repo/dev/x/b.yml")),
        ("/repo/dev", ("compose.yaml", "extra/compose.yaml")),
        ("/repo/dev/other", ("c.yml", "d.yml")),
    ]


def test_a_nested_script_runs_from_where_its_files_exist(tmp_path: Path) -> None:
    for name in ("deploy/compose.yaml", "deploy/tracing/compose.yaml", "tools/compose.yaml", "tools/extra.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("services: {}\n")
    (tmp_path / "deploy" / "dev").mkdir()
    # from the repository root
    (tmp_path / "deploy" / "dev" / "run.sh").write_text(
        "docker compose -f deploy/compose.yaml -f deploy/tracing/compose.yaml up\n"
    )
    # from its own folder
    (tmp_path / "tools" / "up.sh").write_text("docker compose -f compose.yaml -f extra.yaml up\n")
    root = str(tmp_path)
    assert ci.listed_before(os.path.join(root, "deploy", "tracing", "compose.yaml"), root, _read) == (
        [os.path.join(root, "deploy", "compose.yaml")],
        "deploy/dev/run.sh",
    )
    assert ci.listed_before(os.path.join(root, "tools", "extra.yaml"), root, _read) == (
        [os.path.join(root, "tools", "compose.yaml")],
        "tools/up.sh",
    )


def test_scripts_are_found_in_a_bounded_walk(tmp_path: Path, monkeypatch) -> None:
    for folder in ("a", "b/c", "node_modules/x", ".hidden"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "run.sh").write_text("true\n")
    (tmp_path / "top.sh").write_text("true\n")
    names = [os.path.relpath(p, tmp_path) for p, _ in ci._sources(str(tmp_path))]
    assert names == ["top.sh", "a/run.sh", "b/c/run.sh"]
    monkeypatch.setattr(ci, "MAX_NESTED_SCRIPTS", 1)
    ci._NESTED.clear()
    assert [os.path.relpath(p, tmp_path) for p, _ in ci._sources(str(tmp_path))] == ["top.sh", "a/run.sh"]
