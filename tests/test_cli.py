"""The command line as a user runs it: exit codes, formats, byte-identical output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from scanning import POD, write

from infralint import __version__
from infralint.cli import main

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(
        tmp_path,
        "clean.yaml",
        POD.replace("image: nginx:1.27", "image: nginx:1.27\n      resources: {limits: {memory: 64Mi}}"),
    )
    write(tmp_path, "latest.yaml", POD.replace("nginx:1.27", "nginx:latest"))
    write(tmp_path, "broken.yaml", "apiVersion: v1\nkind: Pod\nspec: [\n")
    return tmp_path


def run(*args: str, cwd: Path | None = None) -> tuple[int, str]:
    runner = CliRunner()
    previous = os.getcwd()
    if cwd:
        os.chdir(cwd)
    try:
        result = runner.invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(previous)
    return result.exit_code, result.output


def test_version() -> None:
    assert run("--version") == (0, f"infralint, version {__version__}\n")


def test_rules_lists_every_rule_with_severity_and_default() -> None:
    code, out = run("rules")
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith("k8s-image-latest-tag "))
    assert line.split()[1:3] == ["warning", "on"]


def test_explain_shows_rationale_remediation_and_examples() -> None:
    code, out = run("explain", "k8s-image-latest-tag")
    assert code == 0
    assert "Why it matters:" in out and "How to fix it:" in out
    assert "Example (bad: bad.yaml)" in out and "Example (good: good.yaml)" in out


def test_explain_unknown_rule_is_a_usage_error() -> None:
    assert run("explain", "k8s-nope")[0] == 2


def test_exit_codes_follow_fail_on(project: Path) -> None:
    assert run("scan", "clean.yaml", "--select", "k8s-image-latest-tag,k8s-missing-memory-limit", cwd=project)[0] == 0
    assert run("scan", "latest.yaml", "--select", "k8s-image-latest-tag", cwd=project)[0] == 1
    assert run("scan", "latest.yaml", "--select", "k8s-image-latest-tag", "--fail-on", "error", cwd=project)[0] == 0
    assert run("scan", "broken.yaml", "--fail-on", "error", cwd=project)[0] == 1
    assert run("scan", ".", "--fail-on", "never", cwd=project)[0] == 0


def test_usage_errors_exit_2(project: Path) -> None:
    assert run("scan", "missing-dir", cwd=project)[0] == 2
    assert run("scan", ".", "--select", "k8s-no-such-rule", cwd=project)[0] == 2
    assert run("scan", ".", "--format", "xml", cwd=project)[0] == 2


def test_text_output_is_path_line_col_severity_rule_message(project: Path) -> None:
    _, out = run("scan", "latest.yaml", "--select", "k8s-image-latest-tag", cwd=project)
    lines = out.splitlines()
    assert (
        lines[0]
        == "latest.yaml:8:7: warning k8s-image-latest-tag container 'app' of Pod/web uses image 'nginx:latest' without a pinned tag"
    )
    assert lines[-1].startswith("Scanned 1 file (1 k8s): 0 errors, 1 warning, 0 notes in ")


def test_json_output_matches_its_schema(project: Path) -> None:
    _, out = run("scan", ".", "--format", "json", cwd=project)
    data = json.loads(out)
    schema = json.loads((REPO / "schemas" / "findings.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    assert list(Draft202012Validator(schema).iter_errors(data)) == []
    assert data["summary"]["files"] == {"k8s": 3}
    assert {(f["location"]["path"], f["location"].get("line"), f["rule"]) for f in data["findings"]} >= {
        ("broken.yaml", 4, "infralint-parse-error"),
        ("latest.yaml", 8, "k8s-image-latest-tag"),
    }


def test_output_file(project: Path) -> None:
    code, _ = run("scan", ".", "--format", "sarif", "--output", "out.sarif", cwd=project)
    assert code == 1
    assert json.loads((project / "out.sarif").read_text())["version"] == "2.1.0"


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_output_is_byte_identical_across_runs_and_hash_seeds(project: Path, fmt: str) -> None:
    outputs = set()
    for seed in ("1", "2", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "NO_COLOR": "1"}
        cmd = [sys.executable, "-m", "infralint", "scan", ".", "--format", fmt]
        done = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 1, done.stderr
        text = done.stdout
        if fmt == "text":  # the summary line carries the time taken
            text = text.rsplit(" in ", 1)[0]
        outputs.add(text)
    assert len(outputs) == 1


def test_python_dash_m_has_no_traceback_on_bad_usage(project: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "infralint", "scan", "--nope"], cwd=project, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
