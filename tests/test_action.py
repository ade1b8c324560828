"""The GitHub Action (action.yml): its metadata against the documented structure, and its shell
steps run here as a runner runs them (the GITHUB_* files and variables, `${{ }}` expressions
evaluated, bash with `-eo pipefail`), installing infralint from the action's path for real."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import REPO

from infralint.api import scan
from infralint.integrations import github_action
from infralint.integrations.github_summary import MERMAID_MAX_CHARS, Summary, render

DATA = REPO / "tests" / "data" / "action"
PROJECT = DATA / "project"
CLEAN = DATA / "clean"
PACKAGE_PATHS = ("pyproject.toml", "README.md", "action.yml", "infralint", "rules", "schemas", "fixtures")
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
FIXTURE_PATHS = 'compose.yaml nginx "k8s apps"'  # a folder name with a space: shell-quoted


def action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    return data


# --- metadata --------------------------------------------------------------------------------


def test_action_metadata_follows_the_documented_structure() -> None:
    schema = json.loads((DATA / "action-metadata.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(action()), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_schema_rejects_what_github_rejects() -> None:
    schema = json.loads((DATA / "action-metadata.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    good = {
        "name": "x",
        "description": "y",
        "runs": {"using": "composite", "steps": [{"run": "true", "shell": "bash"}]},
    }
    assert validator.is_valid(good)
    no_shell = {**good, "runs": {"using": "composite", "steps": [{"run": "true"}]}}
    both = {**good, "runs": {"using": "composite", "steps": [{"run": "true", "shell": "bash", "uses": "a/b@v1"}]}}
    input_without_description = {**good, "inputs": {"paths": {"default": "."}}}
    bad_colour = {**good, "branding": {"icon": "check", "color": "pink"}}
    for bad in (no_shell, both, input_without_description, bad_colour, {"name": "x", "runs": good["runs"]}):
        assert not validator.is_valid(bad), bad


def test_inputs_reach_scripts_only_through_env() -> None:
    """`${{ inputs.x }}` pasted into `run:` would let a crafted input run shell code."""
    for step in action()["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], step.get("name")


def test_expressions_name_defined_inputs_and_earlier_step_outputs() -> None:
    meta = action()
    inputs = set(meta["inputs"])
    seen_steps: set[str] = set()
    for step in meta["runs"]["steps"]:
        texts = [str(v) for v in (step.get("env") or {}).values()] + [str(v) for v in (step.get("with") or {}).values()]
        texts.append(str(step.get("if", "")))
        for text in texts:
            for expression in EXPRESSION.findall(text) or [text]:
                for name in re.findall(r"\binputs\.([\w-]+)", expression):
                    assert name in inputs, expression
                for step_id in re.findall(r"\bsteps\.([\w-]+)\.", expression):
                    assert step_id in seen_steps, expression
        if "id" in step:
            seen_steps.add(step["id"])
    for output in meta["outputs"].values():
        assert re.fullmatch(r"\$\{\{ steps\.scan\.outputs\.[\w-]+ \}\}", output["value"])


# --- a runner, locally -----------------------------------------------------------------------


@dataclass
class StepRun:
    name: str
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]


@dataclass
class Runner:
    """What a runner gives a composite action's steps: GITHUB_* files and variables, expressions."""

    tmp: Path
    action_path: Path
    workspace: Path
    inputs: dict[str, str]
    step_outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    runs: list[StepRun] = field(default_factory=list)
    exit_code: int | None = None

    def __post_init__(self) -> None:
        self.temp = self.tmp / "runner-temp"
        self.temp.mkdir(parents=True, exist_ok=True)
        self.summary = self.tmp / "step-summary.md"
        self.summary.touch()
        defaults = {name: spec.get("default", "") for name, spec in action()["inputs"].items()}
        unknown = set(self.inputs) - set(defaults)
        assert not unknown, f"no such inputs: {unknown}"
        self.inputs = {**defaults, **self.inputs}

    def evaluate(self, text: str) -> str:
        return EXPRESSION.sub(lambda match: self.value(match.group(1)), text)

    def value(self, expression: str) -> str:
        if match := re.fullmatch(r"inputs\.([\w-]+)", expression):
            return self.inputs[match.group(1)]
        if match := re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression):
            return self.step_outputs.get(match.group(1), {}).get(match.group(2), "")
        known = {"runner.temp": str(self.temp), "github.action_path": str(self.action_path)}
        if expression in known:
            return known[expression]
        raise AssertionError(f"the test runner does not evaluate ${{{{ {expression} }}}}")

    def condition(self, expression: str) -> bool:
        match = re.fullmatch(r"inputs\.([\w-]+)\s*==\s*'([^']*)'", expression.strip())
        assert match, f"the test runner does not evaluate the condition {expression!r}"
        return self.inputs[match.group(1)] == match.group(2)

    def environment(self, step_env: Mapping[str, str], output_file: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "INFRALINT_"))}
        env.update(
            CI="true",
            GITHUB_ACTIONS="true",
            GITHUB_WORKSPACE=str(self.workspace),
            GITHUB_ACTION_PATH=str(self.action_path),
            GITHUB_STEP_SUMMARY=str(self.summary),
            GITHUB_OUTPUT=str(output_file),
            GITHUB_SERVER_URL="https://github.com",
            GITHUB_REPOSITORY="octo/shop",
            GITHUB_SHA="0123456789abcdef0123456789abcdef01234567",
            RUNNER_TEMP=str(self.temp),
            RUNNER_OS="Linux",
        )
        env.update({name: self.evaluate(str(value)) for name, value in step_env.items()})
        return env

    def run(self, only: set[str] | None = None, skip: frozenset[str] = frozenset()) -> int:
        """Run the steps in order, as GitHub does: stop at the first that fails; return its code.

        ``only``/``skip`` pick steps by id (the install step runs once for the whole module)."""
        self.exit_code = self._run(only, skip)
        return self.exit_code

    def _run(self, only: set[str] | None, skip: frozenset[str]) -> int:
        for index, step in enumerate(action()["runs"]["steps"]):
            if (only is not None and step.get("id") not in only) or step.get("id") in skip:
                continue
            if "if" in step and not self.condition(str(step["if"])):
                continue
            assert "uses" not in step, f"step {step.get('name')} runs another action: not runnable here"
            assert step["shell"] == "bash"
            script = self.temp / f"step-{index}.sh"
            script.write_text(step["run"], encoding="utf-8")
            output_file = self.temp / f"output-{index}"
            output_file.touch()
            result = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=self.workspace,
                env=self.environment(step.get("env") or {}, output_file),
                capture_output=True,
                text=True,
                timeout=600,
            )
            outputs = parse_output_file(output_file.read_text(encoding="utf-8"))
            if "id" in step:
                self.step_outputs[step["id"]] = outputs
            self.runs.append(StepRun(step.get("name", ""), result.returncode, result.stdout, result.stderr, outputs))
            if result.returncode != 0:
                return result.returncode
        return 0

    def action_outputs(self) -> dict[str, str]:
        return {name: self.evaluate(spec["value"]) for name, spec in action()["outputs"].items()}

    def log(self) -> str:
        return "\n".join(f"== {r.name} (exit {r.returncode})\n{r.stdout}{r.stderr}" for r in self.runs)


def parse_output_file(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT: `name=value` lines, or `name<<DELIMITER` ... `DELIMITER` blocks."""
    outputs: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            for inner in lines:
                if inner == delimiter:
                    break
                block.append(inner)
            outputs[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


def copy_package(destination: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    destination.mkdir(parents=True)
    for name in PACKAGE_PATHS:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=ignore)
        else:
            shutil.copy2(source, destination / name)
    return destination


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The install step, run once: a venv in RUNNER_TEMP with infralint from the action's path."""
    tmp = tmp_path_factory.mktemp("action-install")
    action_path = copy_package(tmp / "action")
    runner = Runner(tmp, action_path, tmp, {})
    code = runner.run(only={"install"})
    if code != 0 and not os.environ.get("CI") and "pip" in runner.log():
        pytest.skip(f"installing infralint into a venv failed (offline?):\n{runner.log()[-2000:]}")
    assert code == 0, runner.log()
    python = runner.step_outputs["install"]["python"]
    help_text = subprocess.run([python, "-m", "infralint", "scan", "--help"], capture_output=True, text=True).stdout
    graph = subprocess.run([python, "-m", "infralint", "graph", "--help"], capture_output=True, text=True)
    formats = re.search(r"--format \[([^\]]*)\]", help_text)
    return {
        "action_path": action_path,
        "outputs": runner.step_outputs["install"],
        "github_format": bool(formats) and "github" in formats.group(1).split("|"),
        "graph": graph.returncode == 0,
    }


def run_action(tmp: Path, installed: dict[str, Any], project: Path, inputs: dict[str, str]) -> Runner:
    workspace = tmp / "workspace"
    shutil.copytree(project, workspace)
    runner = Runner(tmp, installed["action_path"], workspace, inputs)
    runner.step_outputs["install"] = installed["outputs"]
    runner.run(skip=frozenset({"install"}))
    return runner


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory: pytest.TempPathFactory, installed: dict[str, Any]) -> Runner:
    tmp = tmp_path_factory.mktemp("action-failing")
    # The default log format is `github`; an infralint from before `--format github` gets `text`.
    log_format = "github" if installed["github_format"] else "text"
    return run_action(tmp, installed, PROJECT, {"paths": FIXTURE_PATHS, "category": "infra/tiny", "format": log_format})


def expected_findings(project: Path, paths: list[str]):
    previous = os.getcwd()
    os.chdir(project)
    try:
        return scan(paths).findings
    finally:
        os.chdir(previous)


def test_install_step_installs_the_actions_own_source(installed: dict[str, Any]) -> None:
    python = Path(installed["outputs"]["python"])
    assert python.is_file()
    version = subprocess.run([str(python), "-m", "infralint", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and "infralint" in version.stdout


def test_action_fails_on_warnings_after_writing_everything(failing_run: Runner) -> None:
    assert failing_run.exit_code == 1, failing_run.log()
    assert [r.name for r in failing_run.runs] == ["Scan", "Apply fail-on"]  # the upload step is off
    assert failing_run.runs[0].returncode == 0  # the scan step itself succeeds ...
    assert failing_run.runs[-1].returncode == 1  # ... the last step applies fail-on


def test_sarif_file_holds_every_finding(failing_run: Runner) -> None:
    expected = expected_findings(PROJECT, ["compose.yaml", "nginx", "k8s apps"])
    sarif_path = failing_run.workspace / "infralint.sarif"
    sarif = json.loads(sarif_path.read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    (run,) = sarif["runs"]
    assert run["automationDetails"]["id"].rstrip("/") == "infra/tiny"  # "category/" names a category
    located = set()
    for r in run["results"]:
        where = r["locations"][0]["physicalLocation"]
        located.add((r["ruleId"], where["artifactLocation"]["uri"], where["region"]["startLine"]))
    assert located == {(f.rule_id, f.span.path, f.span.line) for f in expected}
    assert ("k8s-image-latest-tag", "k8s apps/web.yaml", 18) in located
    assert ("compose-secret-in-environment", "compose.yaml", 19) in located


def test_outputs_give_the_sarif_path_and_the_counts(failing_run: Runner) -> None:
    expected = expected_findings(PROJECT, ["compose.yaml", "nginx", "k8s apps"])
    outputs = failing_run.action_outputs()
    assert outputs["sarif-file"] == str(failing_run.workspace / "infralint.sarif")
    assert int(outputs["findings"]) == len(expected)
    for level, name in (("error", "errors"), ("warning", "warnings"), ("note", "notes")):
        assert int(outputs[name]) == sum(1 for f in expected if f.severity.value == level), name
    assert outputs["exit-code"] == "1"


def test_summary_counts_rules_top_findings_and_topology(failing_run: Runner, installed: dict[str, Any]) -> None:
    expected = expected_findings(PROJECT, ["compose.yaml", "nginx", "k8s apps"])
    text = failing_run.summary.read_text(encoding="utf-8")
    levels = {level: sum(1 for f in expected if f.severity.value == level) for level in ("error", "warning", "note")}
    assert text.startswith(
        f"## infralint: {levels['error']} error, {levels['warning']} warnings, {levels['note']} notes"
    )
    assert "Result: **failed**: findings at or above `fail-on` (the configuration's, else `warning`)." in text
    for level, number in levels.items():
        assert f"| {level} | {number} |" in text
    rules = {f.rule_id for f in expected}
    for rule_id in rules:
        assert re.search(rf"^\| \[{re.escape(rule_id)}\]\(https://[^)]+\) \| ", text, re.M), rule_id
    # The error comes first among the top findings, linked to the file at the commit.
    first_row = text.split("| --- | --- | --- | --- |\n", 1)[1].splitlines()[0]
    assert first_row.startswith("| error | [compose-secret-in-environment]")
    assert "(https://github.com/octo/shop/blob/0123456789abcdef0123456789abcdef01234567/compose.yaml#L19)" in first_row
    assert "### Topology" in text
    if not installed["graph"]:
        pytest.skip("this infralint has no `graph` command yet: the summary says so instead of a diagram")
    block = re.search(r"```mermaid\n(.*?)\n```", text, re.S)
    assert block, text
    assert block.group(1).startswith(("flowchart", "graph"))


def test_log_carries_workflow_annotations(failing_run: Runner, installed: dict[str, Any]) -> None:
    if not installed["github_format"]:
        pytest.skip("this infralint has no `--format github` yet")
    log = failing_run.runs[0].stdout
    assert "::error file=compose.yaml,line=19" in log
    assert "::warning file=k8s apps/web.yaml,line=18" in log


def test_fail_on_never_passes(tmp_path: Path, installed: dict[str, Any]) -> None:
    runner = run_action(tmp_path, installed, PROJECT, {"paths": FIXTURE_PATHS, "fail-on": "never", "format": "text"})
    assert runner.exit_code == 0, runner.log()
    assert int(runner.action_outputs()["findings"]) > 0
    assert "Result: **passed** (`fail-on: never`)." in runner.summary.read_text(encoding="utf-8")


def test_config_input_reaches_the_scans(tmp_path: Path, installed: dict[str, Any]) -> None:
    """A config file outside the scanned folders: its ignore and fail-on decide the run."""
    config = tmp_path / "infralint-ci.yaml"
    config.write_text('ignore: ["k8s"]\nfail-on: never\n', encoding="utf-8")
    inputs = {"paths": FIXTURE_PATHS, "config": str(config), "format": "text"}
    runner = run_action(tmp_path, installed, PROJECT, inputs)
    sarif = json.loads((runner.workspace / "infralint.sarif").read_text(encoding="utf-8"))
    rules = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert rules and not any(rule.startswith("k8s-") for rule in rules)
    assert runner.exit_code == 0, runner.log()  # findings, but the config's fail-on is never
    assert "Result: **passed** under `fail-on` (the configuration's, else `warning`)." in runner.summary.read_text()


def test_clean_project_passes_with_an_empty_result_list(tmp_path: Path, installed: dict[str, Any]) -> None:
    runner = run_action(tmp_path, installed, CLEAN, {"sarif-file": "reports/out.sarif", "format": "text"})
    assert runner.exit_code == 0, runner.log()
    sarif = json.loads((runner.workspace / "reports" / "out.sarif").read_text(encoding="utf-8"))
    assert sarif["runs"][0]["results"] == []
    outputs = runner.action_outputs()
    assert (outputs["findings"], outputs["errors"], outputs["exit-code"]) == ("0", "0", "0")
    text = runner.summary.read_text(encoding="utf-8")
    assert text.startswith("## infralint: no findings")
    assert "| Severity | Rule | Location | Message |" not in text


def test_crafted_inputs_stay_data(tmp_path: Path, installed: dict[str, Any]) -> None:
    """Paths and arguments holding shell syntax are never run by a shell."""
    crafted = {"paths": "$(touch pwned-1) ';touch pwned-2;'", "args": "`touch pwned-3`", "format": "text"}
    runner = run_action(tmp_path, installed, CLEAN, crafted)
    assert runner.exit_code == 2, runner.log()  # no such paths: a usage error
    assert not list(runner.workspace.glob("pwned*")) and not list(tmp_path.glob("pwned*"))
    assert runner.runs[-1].outputs.get("exit-code") == "2"


# --- the summary and the step module, in process ---------------------------------------------


def sarif_with(results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "infralint", "rules": []}}, "results": results}]}


def result(rule: str, level: str, message: str, uri: str = "a.yaml", line: int = 1) -> dict[str, Any]:
    location = {"physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": line}}}
    return {"ruleId": rule, "level": level, "message": {"text": message}, "locations": [location]}


def test_summary_escapes_text_from_scanned_files() -> None:
    hostile = "a | b <script>alert(1)</script>\n# heading [link](javascript:x) `code`"
    text = render(Summary.from_sarif(sarif_with([result("k8s-x", "error", hostile, uri="x|y.yaml")])))
    row = next(line for line in text.splitlines() if line.startswith("| error | k8s-x"))
    assert "<script>" not in text and "&lt;script&gt;" in row
    assert row.count(" | ") == 3  # the message's pipe is escaped: still four cells
    assert "\n# heading" not in text and "\\[link\\]" in row


def test_summary_keeps_the_top_findings_and_says_how_many_more() -> None:
    results = [result("r-note", "note", f"n{i}", line=i) for i in range(1, 15)] + [result("r-err", "error", "e")]
    text = render(Summary.from_sarif(sarif_with(results)), top=5)
    assert "### Top 5 findings" in text
    rows = [
        line for line in text.split("### Top 5 findings")[1].splitlines() if line.startswith("| ") and "---" not in line
    ]
    assert rows[1].startswith("| error | r-err")  # rows[0] is the header
    assert "10 more in the SARIF log" in text


def test_summary_leaves_out_a_diagram_too_large_to_render() -> None:
    huge = "flowchart LR\n" + "  a --> b\n" * (MERMAID_MAX_CHARS // 9)
    text = render(Summary.from_sarif(sarif_with([])), huge)
    assert "```mermaid" not in text and "run `infralint graph` locally" in text
    fenced = render(Summary.from_sarif(sarif_with([])), 'flowchart LR\n  a["```"] --> b')
    assert "````mermaid" in fenced


def test_summary_module_runs_as_a_script(tmp_path: Path) -> None:
    sarif = tmp_path / "in.sarif"
    sarif.write_text(json.dumps(sarif_with([result("r", "warning", "m")])), encoding="utf-8")
    mermaid = tmp_path / "g.mmd"
    mermaid.write_text("flowchart LR\n  a --> b\n", encoding="utf-8")
    command = [sys.executable, "-m", "infralint.integrations.github_summary", str(sarif), "--mermaid", str(mermaid)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("## infralint: 0 errors, 1 warning, 0 notes")
    assert "```mermaid\nflowchart LR\n  a --> b\n```" in done.stdout


def test_step_inputs_are_split_like_a_shell_but_never_run() -> None:
    inputs = github_action.Inputs.from_env(
        {
            "INFRALINT_PATHS": 'k8s\n"my apps" compose.yaml',
            "INFRALINT_ARGS": "--select k8s",
            "INFRALINT_CONFIG": "c.yaml",
        }
    )
    assert inputs.paths == ["k8s", "my apps", "compose.yaml"]
    to_sarif, verdict = github_action.scan_commands(inputs)
    common = ["--config", "c.yaml", "--select", "k8s"]
    assert to_sarif[4:] == [
        "k8s",
        "my apps",
        "compose.yaml",
        "--format",
        "sarif",
        "--output",
        "infralint.sarif",
        "--fail-on",
        "never",
        *common,
    ]
    assert verdict[-4:] == common and "--fail-on" not in verdict  # the config's fail-on, else warning
    assert github_action.graph_command(inputs)[-2:] == ["--config", "c.yaml"]
    _, verdict = github_action.scan_commands(github_action.Inputs.from_env({"INFRALINT_FAIL_ON": "error"}))
    assert verdict[-2:] == ["--fail-on", "error"]
    with pytest.raises(github_action.InputError, match="INFRALINT_PATHS"):
        github_action.Inputs.from_env({"INFRALINT_PATHS": '"unclosed'})
    with pytest.raises(github_action.InputError, match="INFRALINT_SUMMARY"):
        github_action.Inputs.from_env({"INFRALINT_SUMMARY": "yes"})


# --- the documented workflow -----------------------------------------------------------------


def documented_yaml_blocks() -> list[Any]:
    import textwrap

    text = (REPO / "docs" / "github-action.md").read_text(encoding="utf-8")
    return [yaml.safe_load(textwrap.dedent(block)) for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def steps_of(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, list):
        return document
    return [step for job in document["jobs"].values() for step in job["steps"]]


def test_documented_workflows_use_the_actions_real_inputs_and_outputs() -> None:
    meta = action()
    blocks = documented_yaml_blocks()
    assert blocks and "jobs" in blocks[0]
    uses_action = 0
    for step in (s for block in blocks for s in steps_of(block)):
        if str(step.get("uses", "")).startswith("infralint/infralint@"):
            uses_action += 1
            assert set(step.get("with") or {}) <= set(meta["inputs"]), step
        text = json.dumps(step)
        for output in re.findall(r"steps\.infralint\.outputs\.([\w-]+)", text):
            assert output in meta["outputs"], output
    assert uses_action == 2
    workflow = blocks[0]
    job = next(iter(workflow["jobs"].values()))
    assert job["permissions"]["security-events"] == "write"
    upload = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@"))
    assert "!cancelled()" in upload["if"]  # still uploads when the scan step failed on findings
