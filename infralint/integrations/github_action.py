"""The scan step of the GitHub Action (action.yml), in Python so it is testable and injection-safe.

The action hands its inputs over as environment variables (never pasted into shell text) and runs
``python -m infralint.integrations.github_action``, which:

1. scans to SARIF (``--fail-on never``) for ``github/codeql-action/upload-sarif``;
2. scans again in the log format (``github``: workflow annotations) with the input's ``--fail-on``,
   whose exit code is the verdict;
3. draws the topology (``infralint graph --format mermaid``);
4. appends the job summary to ``$GITHUB_STEP_SUMMARY`` and the outputs to ``$GITHUB_OUTPUT``.

It exits 0 when the verdict is known (the action's last step exits with it, after an optional
SARIF upload) and 2 when infralint itself could not run.

Inputs (environment): INFRALINT_PATHS (whitespace-separated, shell-quoted where needed),
INFRALINT_FORMAT, INFRALINT_FAIL_ON (empty: the config's, else warning), INFRALINT_CONFIG, INFRALINT_SARIF_FILE, INFRALINT_CATEGORY,
INFRALINT_ARGS (extra scan arguments, shell-quoted), INFRALINT_SUMMARY (true/false).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from infralint.integrations.github_summary import Summary, render

EXIT_INTERNAL = 2


class InputError(ValueError):
    """An input the action cannot use; the message names it."""


@dataclass
class Inputs:
    paths: list[str]
    output_format: str
    fail_on: str
    config: str
    sarif_file: str
    category: str
    extra_args: list[str]
    summary: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        return cls(
            paths=_words(env, "INFRALINT_PATHS") or ["."],
            output_format=env.get("INFRALINT_FORMAT", "").strip() or "github",
            fail_on=env.get("INFRALINT_FAIL_ON", "").strip(),
            config=env.get("INFRALINT_CONFIG", "").strip(),
            sarif_file=env.get("INFRALINT_SARIF_FILE", "").strip() or "infralint.sarif",
            category=env.get("INFRALINT_CATEGORY", "").strip(),
            extra_args=_words(env, "INFRALINT_ARGS"),
            summary=_flag(env, "INFRALINT_SUMMARY", default=True),
        )


def _words(env: Mapping[str, str], name: str) -> list[str]:
    try:
        return shlex.split(env.get(name, ""))
    except ValueError as error:  # an unclosed quote
        raise InputError(f"{name}: {error}") from None


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("true", "false"):
        return value == "true"
    raise InputError(f"{name} must be true or false, not {value!r}")


def infralint(*args: str) -> list[str]:
    return [sys.executable, "-m", "infralint", *args]


def scan_commands(inputs: Inputs) -> tuple[list[str], list[str]]:
    """The SARIF scan and the verdict scan (log format + fail-on)."""
    common = [*(["--config", inputs.config] if inputs.config else []), *inputs.extra_args]
    category = ["--sarif-category", inputs.category] if inputs.category else []
    to_sarif = infralint(
        "scan",
        *inputs.paths,
        "--format",
        "sarif",
        "--output",
        inputs.sarif_file,
        "--fail-on",
        "never",
        *category,
        *common,
    )
    fail_on = ["--fail-on", inputs.fail_on] if inputs.fail_on else []  # else the config's, else warning
    verdict = infralint("scan", *inputs.paths, "--format", inputs.output_format, *fail_on, *common)
    return to_sarif, verdict


def graph_command(inputs: Inputs) -> list[str]:
    """The diagram counts findings per box: the same config as the scans (`args` are scan options)."""
    config = ["--config", inputs.config] if inputs.config else []
    return infralint("graph", *inputs.paths, "--format", "mermaid", *config)


def topology(inputs: Inputs) -> tuple[str | None, str | None]:
    """The Mermaid diagram, or why there is none (the summary says so; the scan still counts)."""
    result = subprocess.run(graph_command(inputs), capture_output=True, text=True)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or [f"exit code {result.returncode}"])[-1]
        return None, f"No topology: `infralint graph` failed ({reason})."
    return result.stdout, None


def verdict_line(code: int, fail_on: str) -> str:
    threshold = f"`{fail_on}`" if fail_on else "`fail-on` (the configuration's, else `warning`)"
    if code not in (0, 1):
        return f"Result: **error**: infralint exited with {code} (see the log)."
    if fail_on == "never":
        return "Result: **passed** (`fail-on: never`)."
    if code == 0 and not fail_on:
        return f"Result: **passed** under {threshold}."
    if code == 0:
        return f"Result: **passed**: no finding at or above {threshold}."
    return f"Result: **failed**: findings at or above {threshold}."


def github_link(env: Mapping[str, str]) -> str | None:
    """`https://github.com/OWNER/REPO/blob/SHA/` when the runner says where the code is."""
    server, repository, sha = (env.get(k, "") for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"))
    if server and repository and sha:
        return f"{server.rstrip('/')}/{repository}/blob/{sha}/"
    return None


def write_outputs(path: str | None, values: Mapping[str, str | int]) -> None:
    """`name=value` lines for $GITHUB_OUTPUT (values here never hold a newline)."""
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        for name, value in values.items():
            text = str(value)
            if "\n" in text or "\r" in text:
                raise ValueError(f"output {name} holds a line break")
            handle.write(f"{name}={text}\n")


def append_summary(path: str | None, markdown: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(markdown)


def run(env: Mapping[str, str]) -> int:
    inputs = Inputs.from_env(env)
    to_sarif, verdict_scan = scan_commands(inputs)
    Path(inputs.sarif_file).parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    if subprocess.run(to_sarif).returncode != 0:
        print("::error title=infralint::the SARIF scan failed: see the log above", flush=True)
        write_outputs(env.get("GITHUB_OUTPUT"), {"exit-code": EXIT_INTERNAL})
        return EXIT_INTERNAL
    code = subprocess.run(verdict_scan).returncode
    summary = Summary.from_sarif(json.loads(Path(inputs.sarif_file).read_text(encoding="utf-8")))
    if inputs.summary:
        mermaid, note = topology(inputs)
        markdown = render(
            summary, mermaid, mermaid_note=note, verdict=verdict_line(code, inputs.fail_on), link=github_link(env)
        )
        append_summary(env.get("GITHUB_STEP_SUMMARY"), markdown)
    write_outputs(
        env.get("GITHUB_OUTPUT"),
        {"sarif-file": os.path.abspath(inputs.sarif_file), **summary.counts(), "exit-code": code},
    )
    return 0 if code in (0, 1) else EXIT_INTERNAL


def main(argv: Sequence[str] | None = None) -> int:
    if argv:
        print(__doc__, file=sys.stderr)
        return EXIT_INTERNAL
    try:
        return run(os.environ)
    except InputError as error:
        text = str(error).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")  # one workflow command
        print(f"::error title=infralint::{text}", flush=True)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
