"""Baseline files: the findings a project has accepted for now, so a scan reports only new ones.

An entry is a finding's fingerprint (file + object + rule + what inside the object, no line
numbers: Finding.fingerprint), so edits elsewhere in a file keep it matching. The rule, path,
object and message are stored beside it for the humans who read the file. The format is
schemas/baseline.schema.json; the output is sorted and carries no dates, so the same findings
always give the same bytes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from infralint.findings import Finding, Severity
from infralint.source import Span

FORMAT_VERSION = 1
DEFAULT_FILE = ".infralint-baseline.json"
STALE_RULE = "infralint-baseline-stale"


class BaselineError(ValueError):
    """The baseline file cannot be used; the message names it."""


@dataclass(frozen=True)
class Entry:
    fingerprint: str
    rule: str
    path: str
    object: str | None
    message: str


@dataclass
class Baseline:
    path: str  # as given (absolute, or relative to the working directory)
    entries: dict[str, Entry]
    lines: dict[str, int] = field(default_factory=dict)  # fingerprint -> line in the file


@dataclass
class Outcome:
    """What a baseline did in one scan (carried by the Report)."""

    path: str  # relative to the scan root, where stale-entry findings point
    hidden: int = 0
    stale: list[Entry] = field(default_factory=list)
    shown: str = ""  # the file as the summary names it (relative to the working directory)


def entries_of(findings: Iterable[Finding]) -> list[Entry]:
    by_fingerprint: dict[str, Entry] = {}
    for finding in sorted(findings, key=Finding.sort_key):
        by_fingerprint.setdefault(
            finding.fingerprint,
            Entry(finding.fingerprint, finding.rule_id, finding.span.path, finding.node_id, finding.message),
        )
    return sorted(by_fingerprint.values(), key=lambda e: (e.path, e.rule, e.object or "", e.fingerprint))


def render(findings: Iterable[Finding]) -> str:
    document = {
        "version": FORMAT_VERSION,
        "findings": [
            {"fingerprint": e.fingerprint, "rule": e.rule, "path": e.path, "object": e.object, "message": e.message}
            for e in entries_of(findings)
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write(path: str, findings: Iterable[Finding]) -> int:
    text = render(findings)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    return len(json.loads(text)["findings"])


@cache
def _schema() -> dict[str, Any]:
    from infralint.resources import data_dir

    loaded: dict[str, Any] = json.loads((data_dir("schemas") / "baseline.schema.json").read_text(encoding="utf-8"))
    return loaded


def load(path: str) -> Baseline:
    from infralint.config import key_name, shown

    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise BaselineError(f"{shown(path)}: baseline file not found (`infralint baseline create` writes it)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise BaselineError(f"{shown(path)}: cannot read the baseline: {error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BaselineError(f"{shown(path)}:{error.lineno}: not valid JSON: {error.msg}") from None
    from jsonschema import Draft202012Validator

    errors = sorted(Draft202012Validator(_schema()).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        raise BaselineError(f"{shown(path)}: {key_name(tuple(first.absolute_path))}: {first.message}")
    entries = {
        item["fingerprint"]: Entry(item["fingerprint"], item["rule"], item["path"], item.get("object"), item["message"])
        for item in data["findings"]
    }
    return Baseline(path, entries, _lines(text, entries))


def _lines(text: str, entries: Iterable[str]) -> dict[str, int]:
    """The line of each entry's fingerprint, so a stale entry can be pointed at."""
    lines = {}
    for fingerprint in entries:
        offset = text.find(f'"{fingerprint}"')
        if offset != -1:
            lines[fingerprint] = text.count("\n", 0, offset) + 1
    return lines


def apply(
    findings: list[Finding], baseline: Baseline, covered: Callable[[Entry], bool], root: str
) -> tuple[list[Finding], Outcome]:
    """Hide the findings the baseline lists; entries the scan could have matched but did not are stale."""
    kept, matched = [], set()
    for finding in findings:
        if finding.fingerprint in baseline.entries:
            matched.add(finding.fingerprint)
        else:
            kept.append(finding)
    stale = [e for e in baseline.entries.values() if e.fingerprint not in matched and covered(e)]
    from infralint.config import shown

    outcome = Outcome(_relative(baseline.path, root), len(findings) - len(kept), stale, shown(baseline.path))
    return kept, outcome


def stale_findings(baseline: Baseline, outcome: Outcome) -> list[Finding]:
    """One note per stale entry, at its line in the baseline file (for --report-stale-baseline)."""
    findings = []
    for entry in outcome.stale:
        where = f"{entry.path}" + (f" ({entry.object})" if entry.object else "")
        message = f"baseline entry for {entry.rule} in {where} matches no finding any more: remove it"
        span = Span(outcome.path, baseline.lines.get(entry.fingerprint))
        findings.append(Finding(STALE_RULE, Severity.NOTE, message, span, locator=entry.fingerprint))
    return findings


def _relative(path: str, root: str) -> str:
    return os.path.relpath(os.path.abspath(path), root).replace(os.sep, "/")


def covering(root: str, paths: Iterable[str], scanned: set[str], enabled: set[str]) -> Callable[[Entry], bool]:
    """Could this scan have matched the entry? Its rule ran, and its file was read, or is gone
    from a folder the scan walked. Entries of other files (a pre-commit run on a few files)
    or of rules not selected are not stale."""
    scopes = [_relative(path, root) for path in paths]

    def covered(entry: Entry) -> bool:
        if entry.rule not in enabled:
            return False
        inside = any(scope == "." or entry.path == scope or entry.path.startswith(scope + "/") for scope in scopes)
        return inside and (entry.path in scanned or not os.path.exists(os.path.join(root, entry.path)))

    return covered
