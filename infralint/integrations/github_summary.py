"""The job summary of the GitHub Action: Markdown for $GITHUB_STEP_SUMMARY, read from a SARIF log.

Reading the SARIF file the action uploads, not the report object, keeps the summary and code
scanning in agreement and lets the summary be rebuilt from any saved log:

    python -m infralint.integrations.github_summary results.sarif [--mermaid topology.mmd]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LEVELS = ("error", "warning", "note")
PLURAL = {"error": "errors", "warning": "warnings", "note": "notes"}
TOP_FINDINGS = 10
# Mermaid refuses diagrams over 50,000 characters (its maxTextSize); GitHub then shows an error box.
MERMAID_MAX_CHARS = 50_000
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


@dataclass
class Finding:
    rule_id: str
    level: str
    message: str
    path: str
    line: int | None


@dataclass
class Summary:
    findings: list[Finding]
    rule_help: dict[str, str] = field(default_factory=dict)  # rule id -> helpUri
    category: str | None = None

    @classmethod
    def from_sarif(cls, sarif: dict[str, Any]) -> Summary:
        findings: list[Finding] = []
        rule_help: dict[str, str] = {}
        category = None
        for run in sarif.get("runs") or []:
            category = category or (run.get("automationDetails") or {}).get("id")
            for rule in ((run.get("tool") or {}).get("driver") or {}).get("rules") or []:
                if rule.get("id") and rule.get("helpUri"):
                    rule_help[rule["id"]] = rule["helpUri"]
            findings += [_finding(result) for result in run.get("results") or []]
        findings.sort(key=lambda f: (_rank(f.level), f.path, f.line or 0, f.rule_id))
        return cls(findings, rule_help, category)

    def by_level(self) -> Counter[str]:
        return Counter(f.level for f in self.findings)

    def by_rule(self) -> Counter[tuple[str, str]]:
        return Counter((f.rule_id, f.level) for f in self.findings)

    def counts(self) -> dict[str, int]:
        """The action's outputs: findings, errors, warnings, notes."""
        levels = self.by_level()
        return {"findings": len(self.findings), **{PLURAL[level]: levels[level] for level in LEVELS}}


def _finding(result: dict[str, Any]) -> Finding:
    location = ((result.get("locations") or [{}])[0]).get("physicalLocation") or {}
    return Finding(
        rule_id=str(result.get("ruleId") or "?"),
        level=str(result.get("level") or "warning"),  # SARIF's default level
        message=str((result.get("message") or {}).get("text") or ""),
        path=str((location.get("artifactLocation") or {}).get("uri") or ""),
        line=(location.get("region") or {}).get("startLine"),
    )


def _rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


def render(
    summary: Summary,
    mermaid: str | None = None,
    *,
    mermaid_note: str | None = None,
    verdict: str | None = None,
    top: int = TOP_FINDINGS,
    link: str | None = None,
) -> str:
    """The Markdown: headline, counts by severity and by rule, the top findings, the topology.

    ``link`` is a URL prefix for file links (``https://github.com/OWNER/REPO/blob/SHA/``).
    """
    parts = [_headline(summary, verdict)]
    if summary.findings:
        parts += [_severity_table(summary), _rule_table(summary), _top_table(summary, top, link)]
    parts.append(_topology(mermaid, mermaid_note))
    return "\n\n".join(part for part in parts if part) + "\n"


def _headline(summary: Summary, verdict: str | None) -> str:
    levels = summary.by_level()
    counted = ", ".join(_count(levels[level], level) for level in LEVELS)
    title = f"## infralint: {counted}" if summary.findings else "## infralint: no findings"
    lines = [title]
    if summary.category:
        lines.append(f"Analysis category: {_cell(summary.category)}")
    if verdict:
        lines.append(verdict)
    return "\n\n".join(lines)


def _count(number: int, level: str) -> str:
    return f"{number} {level if number == 1 else PLURAL.get(level, level)}"


def _severity_table(summary: Summary) -> str:
    levels = summary.by_level()
    rows = [f"| {level} | {levels[level]} |" for level in sorted(levels, key=_rank)]
    return "\n".join(["### By severity", "", "| Severity | Findings |", "| --- | ---: |", *rows])


def _rule_table(summary: Summary) -> str:
    ordered = sorted(summary.by_rule().items(), key=lambda item: (_rank(item[0][1]), -item[1], item[0][0]))
    rows = [f"| {_rule(rule_id, summary)} | {level} | {number} |" for (rule_id, level), number in ordered]
    return "\n".join(["### By rule", "", "| Rule | Severity | Findings |", "| --- | --- | ---: |", *rows])


def _top_table(summary: Summary, top: int, link: str | None) -> str:
    shown = summary.findings[:top]
    heading = "### Top findings" if len(shown) == len(summary.findings) else f"### Top {len(shown)} findings"
    rows = [f"| {f.level} | {_rule(f.rule_id, summary)} | {_location(f, link)} | {_cell(f.message)} |" for f in shown]
    table = "\n".join([heading, "", "| Severity | Rule | Location | Message |", "| --- | --- | --- | --- |", *rows])
    hidden = len(summary.findings) - len(shown)
    if hidden:
        table += f"\n\n{hidden} more in the SARIF log and the workflow annotations."
    return table


def _rule(rule_id: str, summary: Summary) -> str:
    url = summary.rule_help.get(rule_id)
    return f"[{_cell(rule_id)}]({url})" if url and _is_web_url(url) else _cell(rule_id)


def _location(finding: Finding, link: str | None) -> str:
    text = f"{finding.path}:{finding.line}" if finding.line else finding.path
    if link and finding.path and not finding.path.startswith(("/", "..")) and "://" not in finding.path:
        anchor = f"#L{finding.line}" if finding.line else ""
        return f"[{_cell(text)}]({link}{_url_path(finding.path)}{anchor})"
    return _cell(text)


def _url_path(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


def _is_web_url(url: str) -> bool:
    return url.startswith(("https://", "http://")) and not any(c in url for c in " ()<>")


def _cell(text: str) -> str:
    """Text safe in a Markdown table cell: no HTML, no markup, one line."""
    flat = " ".join(str(text).split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def _topology(mermaid: str | None, note: str | None) -> str:
    lines = ["### Topology"]
    if mermaid and len(mermaid) > MERMAID_MAX_CHARS:
        note = f"The diagram has {len(mermaid):,} characters, more than GitHub's Mermaid renders: run `infralint graph` locally."
        mermaid = None
    if mermaid:
        fence = "`" * max(3, _longest_backtick_run(mermaid) + 1)
        lines += ["", f"{fence}mermaid", mermaid.rstrip("\n"), fence]
    if note:
        lines += ["", _cell(note).replace("\\`", "`")]
    return "\n".join(lines) if len(lines) > 1 else ""


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infralint.integrations.github_summary", description=__doc__)
    parser.add_argument("sarif", type=Path, help="the SARIF log of a scan")
    parser.add_argument("--mermaid", type=Path, help="a file holding `infralint graph --format mermaid` output")
    parser.add_argument("--top", type=int, default=TOP_FINDINGS, help="how many findings to list")
    args = parser.parse_args(argv)
    summary = Summary.from_sarif(json.loads(args.sarif.read_text(encoding="utf-8")))
    mermaid = args.mermaid.read_text(encoding="utf-8") if args.mermaid else None
    sys.stdout.write(render(summary, mermaid, top=args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
