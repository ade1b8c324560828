"""JSON output; its shape is schemas/findings.schema.json. Byte-identical across runs."""

from __future__ import annotations

import json
from typing import Any

from infralint.findings import Severity
from infralint.report import Report
from infralint.source import Span

FORMAT_VERSION = 1


def _span(span: Span) -> dict[str, Any]:
    data: dict[str, Any] = {"path": span.path}
    if span.line is not None:
        data["line"] = span.line
    if span.col is not None:
        data["column"] = span.col
    return data


def document(report: Report) -> dict[str, Any]:
    counts = report.count_by_severity()
    return {
        "version": FORMAT_VERSION,
        "tool": {"name": "infralint", "version": report.tool_version},
        "summary": {
            "files": dict(sorted(report.files_by_kind.items())),
            "rendered": dict(sorted(report.rendered.items())),
            "findings": {severity.value: counts.get(severity, 0) for severity in Severity},
            "total": len(report.findings),
            **_development(report),
            **_stated_choices(report),
            **_baseline(report),
        },
        "findings": [
            {
                "rule": finding.rule_id,
                "severity": finding.severity.value,
                "message": finding.message,
                "location": _span(finding.span),
                "object": finding.node_id,
                "fingerprint": finding.fingerprint,
                "related": [{"message": r.message, "location": _span(r.span)} for r in finding.related],
            }
            for finding in report.findings
        ],
    }


def _development(report: Report) -> dict[str, Any]:
    """Present when development context left findings out (not in findings, not in total)."""
    if not report.development:
        return {}
    by_rule = dict(sorted(report.development.items()))
    return {"development": {"hidden": sum(by_rule.values()), "by_rule": by_rule}}


def _stated_choices(report: Report) -> dict[str, Any]:
    """Present when findings were left out because a comment at their place states the choice
    (not in findings, not in total)."""
    if not report.stated_choices:
        return {}
    by_rule = dict(sorted(report.stated_choices.items()))
    return {"stated_choices": {"hidden": sum(by_rule.values()), "by_rule": by_rule}}


def _baseline(report: Report) -> dict[str, Any]:
    outcome = report.baseline
    if outcome is None:
        return {}
    return {"baseline": {"path": outcome.path, "hidden": outcome.hidden, "stale": len(outcome.stale)}}


def render(report: Report, **_: Any) -> str:
    return json.dumps(document(report), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
