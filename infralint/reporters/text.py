"""Terminal output: `path:line:col: severity rule-id message`, by file, then a summary."""

from __future__ import annotations

from infralint.findings import Severity
from infralint.report import Report

_COLORS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.NOTE: "\033[36m"}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def location(path: str, line: int | None, col: int | None) -> str:
    parts = [path]
    if line is not None:
        parts.append(str(line))
        if col is not None:
            parts.append(str(col))
    return ":".join(parts)


def render(report: Report, color: bool = False, timing: bool = True, **_: object) -> str:
    lines = []
    previous_path = None
    for finding in report.findings:
        span = finding.span
        if previous_path is not None and span.path != previous_path:
            lines.append("")
        previous_path = span.path
        where = location(span.path, span.line, span.col)
        severity = finding.severity.value
        if color:
            where = f"{_BOLD}{where}{_RESET}"
            severity = f"{_COLORS[finding.severity]}{severity}{_RESET}"
            rule = f"{_DIM}{finding.rule_id}{_RESET}"
        else:
            rule = finding.rule_id
        lines.append(f"{where}: {severity} {rule} {finding.message}")
        for related in finding.related:
            lines.append(f"    {location(related.span.path, related.span.line, related.span.col)}: {related.message}")
    if lines:
        lines.append("")
    lines.append(summary(report, timing))
    return "\n".join(lines) + "\n"


def summary(report: Report, timing: bool = True) -> str:
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(report.files_by_kind.items()))
    total = sum(report.files_by_kind.values())
    counts = report.count_by_severity()
    found = ", ".join(f"{counts.get(s, 0)} {s.value}{'s' if counts.get(s, 0) != 1 else ''}" for s in Severity)
    text = f"Scanned {total} file{'s' if total != 1 else ''}"
    if kinds:
        text += f" ({kinds})"
    if report.rendered:
        text += " and rendered " + " and ".join(
            _rendered(kind, count) for kind, count in sorted(report.rendered.items())
        )
    text += f": {found}"
    if timing:
        text += f" in {report.seconds:.2f}s"
    return (
        text
        + "."
        + _repeats_summary(report)
        + _development_summary(report)
        + _stated_choices_summary(report)
        + _baseline_summary(report)
    )


def _repeats_summary(report: Report) -> str:
    """What the findings hold beyond their count: folded causes, copies kept in other folders."""
    from infralint.folding import repeated_elsewhere

    parts = []
    folded = sum(report.folded.values())
    if folded:
        if folded == 1:
            parts.append("1 more finding was folded into the one it repeats (listed under it)")
        else:
            parts.append(f"{folded} more findings were folded into the ones they repeat (listed under them)")
    repeated = repeated_elsewhere(report.findings)
    if repeated:
        verb = "repeat" if repeated != 1 else "repeats"
        parts.append(f"{repeated} of the findings {verb} an identical one in a file of the same name elsewhere")
    return "".join(f"\n{part[0].upper()}{part[1:]}." for part in parts)


def _development_summary(report: Report) -> str:
    """What development context left out: counted, so that nothing disappears silently."""
    count = sum(report.development.values())
    if not count:
        return ""
    findings = f"{count} hardening finding{'s' if count != 1 else ''}"
    return (
        f"\n{findings} in development files or configs no deployment uses not reported"
        " (development-paths; --no-development-paths shows them)."
    )


def _stated_choices_summary(report: Report) -> str:
    """What comments stating the choice left out: counted, so that nothing disappears silently."""
    count = sum(report.stated_choices.values())
    if not count:
        return ""
    findings = f"{count} finding{'s' if count != 1 else ''}"
    return f"\n{findings} left out where a comment states the choice (--show-stated-choices shows them)."


def _rendered(kind: str, count: int) -> str:
    """`helm releases` -> "1 Helm release", "2 Helm releases"; `kustomize roots` likewise."""
    noun = {"helm releases": "Helm release", "kustomize roots": "kustomize root"}.get(kind, kind)
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _baseline_summary(report: Report) -> str:
    outcome = report.baseline
    if outcome is None:
        return ""
    text = f"\n{outcome.hidden} finding{'s' if outcome.hidden != 1 else ''} hidden by the baseline ({outcome.shown or outcome.path})."
    stale = len(outcome.stale)
    if stale:
        entries = f"{stale} baseline entr{'ies' if stale != 1 else 'y'}"
        text += f"\n{entries} no longer match: --report-stale-baseline lists them, `infralint baseline create` rewrites the file."
    return text
