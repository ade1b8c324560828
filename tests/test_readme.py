"""The README's snippets work as written: commands, configuration, hook and workflow."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from infralint import config

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w*)\n(.*?)```", README, flags=re.DOTALL)


def _yaml_blocks(marker: str) -> list[str]:
    return [body for lang, body in BLOCKS if lang == "yaml" and marker in body]


def test_the_two_commands_come_first() -> None:
    first = [body for lang, body in BLOCKS if lang == "sh"][:2]
    assert "pip install -q '.[helm]' && .venv/bin/infralint scan examples/" in first[0]
    assert "pip install -q -e '.[test]' && .venv/bin/python -m pytest" in first[1]


def test_configuration_example_is_valid(tmp_path: Path) -> None:
    [body] = _yaml_blocks("# .infralint.yaml")
    path = tmp_path / ".infralint.yaml"
    path.write_text(body, encoding="utf-8")
    loaded = config.load(str(path))
    config.validate(loaded)  # raises ConfigError naming file, line and key
    assert loaded.data["target-versions"]["kubernetes"] == "1.29"
    assert set(loaded.data) >= {"select", "ignore", "severity", "per-path-ignores", "rules", "baseline"}


def test_pre_commit_snippet_names_the_hook() -> None:
    [body] = _yaml_blocks("# .pre-commit-config.yaml")
    hook_ids = {hook["id"] for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    used = {hook["id"] for repo in yaml.safe_load(body)["repos"] for hook in repo["hooks"]}
    assert used <= hook_ids


def test_workflow_snippet_uses_the_action_inputs_and_outputs() -> None:
    [body] = _yaml_blocks("upload-sarif@v3")
    action = yaml.safe_load((REPO / "action.yml").read_text())
    steps = yaml.safe_load(body)["steps"]
    ours = next(step for step in steps if str(step.get("uses", "")).startswith("infralint/infralint@"))
    assert set(ours["with"]) <= set(action["inputs"])
    for output in re.findall(r"steps\.infralint\.outputs\.([\w-]+)", body):
        assert output in action["outputs"]


def _commands() -> list[list[str]]:
    """Every `infralint scan/graph ...` line in the README's shell and CI snippets."""
    commands = []
    for lang, body in BLOCKS:
        if lang not in ("sh", "yaml"):
            continue
        for line in body.splitlines():
            line = line.strip().lstrip("-").strip()
            if line.startswith("infralint "):
                words = shlex.split(line.split(" #", 1)[0])
                if words[1] in ("scan", "graph", "baseline"):
                    commands.append(words)
    for inline in re.findall(r"`(infralint (?:scan|graph)[^`]*)`", README):
        if not re.search(r"\b[A-Z]{3,}\b|\[", inline):  # placeholders such as FILE or [PATH ...]
            commands.append(shlex.split(inline))
    return commands


def test_documented_commands_run_in_order_on_the_example(tmp_path: Path) -> None:
    """In README order, in one copy of the example: `baseline create` comes before its use."""
    shutil.copytree(REPO / "examples" / "compose-shop", tmp_path, dirs_exist_ok=True)
    commands = _commands()
    assert len(commands) >= 5
    for words in commands:
        done = subprocess.run(
            [sys.executable, "-m", "infralint", *words[1:]], cwd=tmp_path, capture_output=True, text=True, check=False
        )
        assert done.returncode in (0, 1), (words, done.stderr)
        assert "Traceback" not in done.stderr
        if "--output" in words:
            assert (tmp_path / words[words.index("--output") + 1]).stat().st_size > 0
