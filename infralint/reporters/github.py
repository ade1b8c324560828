"""GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` annotation per finding.

The runner reads each stdout line that starts with `::`; it splits the properties on `,` and
ends them at the next `::`, then undoes the `%XX` escapes below. Escaping CR and LF also keeps
text taken from a scanned file from starting a workflow command of its own.
"""

from __future__ import annotations

from typing import Any

from infralint.findings import Finding, Severity
from infralint.report import Report
from infralint.reporters.text import location, summary

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}
# GitHub shows this many annotations of each kind for a step and drops the rest from the view.
SHOWN_PER_KIND = 10


def escape_data(text: str) -> str:
    """The message after `::`: percent first, so the escapes themselves survive."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value: the message escapes, plus the `:` and `,` that end properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _properties(finding: Finding) -> list[tuple[str, str]]:
    span = finding.span
    props = [("file", span.path)]
    if span.line is not None:
        end_line = span.end_line or span.line
        # GitHub takes columns only for an annotation on a single line.
        one_line = span.col is not None and end_line == span.line
        props.append(("line", str(span.line)))
        if one_line:
            props.append(("col", str(span.col)))
        props.append(("endLine", str(end_line)))
        if one_line and span.end_col is not None:
            props.append(("endColumn", str(span.end_col)))
    props.append(("title", finding.rule_id))
    return props


def _message(finding: Finding) -> str:
    lines = [finding.message]
    for related in finding.related:
        where = location(related.span.path, related.span.line, related.span.col)
        lines.append(f"{where}: {related.message}")
    return "\n".join(lines)


def command(finding: Finding) -> str:
    props = ",".join(f"{name}={escape_property(value)}" for name, value in _properties(finding))
    return f"::{COMMANDS[finding.severity]} {props}::{escape_data(_message(finding))}"


def render(report: Report, **_: Any) -> str:
    lines = [command(finding) for finding in report.findings]
    # Plain log lines (not commands): the counts, without the run time, so output is reproducible.
    lines.append("infralint: " + summary(report, timing=False))
    if any(count > SHOWN_PER_KIND for count in report.count_by_severity().values()):
        lines.append(
            f"infralint: GitHub shows {SHOWN_PER_KIND} annotations of each kind per step; every finding is in this log."
        )
    return "\n".join(lines) + "\n"
