"""One root cause, one finding.

Two kinds of findings say one thing several times, and each is folded into one finding that keeps
the others as related locations (role "merged", so pre-commit still shows it for their files):

- Findings that name the same cause (`Finding.cause`): a service without a healthcheck is
  reported by compose-no-healthcheck, by the proxy rules that route to it and by the proxy's
  depends_on rule. The finding at the place of the fix (`fix_here`) is kept.
- One rule at one line for several objects: a YAML anchor shared by 20 services, a template line
  that a `range` turns into many objects. One edit at that line fixes them all.

Folding runs after suppression and rule selection, so each rule id stays suppressible on its own:
a suppressed or deselected finding never absorbs the others.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from infralint.findings import Finding, Related
from infralint.source import Span

MERGED_ROLE = "merged"
_LISTED = 5  # objects named in a message before "and N more"
MessageFn = Callable[[Finding, list[Finding]], str]
RelatedFn = Callable[[Finding, Finding], Related]  # (kept, folded)
Locate = Callable[[str], "Span | None"]


def fold(findings: list[Finding], locate: Locate = lambda node_id: None) -> tuple[list[Finding], Counter[str]]:
    """FINDINGS (sorted) with shared causes and shared lines folded; and how many findings of each
    rule were folded into another. LOCATE gives an object's own place, where a finding folded into
    a shared line points (each folded finding stays one related location of the one kept)."""
    folded: Counter[str] = Counter()
    findings = _fold_groups(findings, _by_cause(findings), _cause_message, _cause_related, folded)
    line_related = partial(_line_related, locate)
    findings = _fold_groups(findings, _by_line(findings), _line_message, line_related, folded)
    return findings, folded


def _by_cause(findings: list[Finding]) -> list[list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for index, finding in enumerate(findings):
        if finding.cause:
            groups[finding.cause].append(index)
    return [group for group in groups.values() if len(group) > 1]


def _by_line(findings: list[Finding]) -> list[list[int]]:
    # Findings of different kustomize roots are different deployments: each keeps its own.
    groups: dict[tuple[str, str, int, int | None, frozenset[Span]], list[int]] = defaultdict(list)
    for index, finding in enumerate(findings):
        span = finding.span
        if finding.node_id is not None and span.line is not None:
            roots = frozenset(r.span for r in finding.related if r.role == "root")
            groups[(finding.rule_id, span.path, span.line, span.col, roots)].append(index)
    return [group for group in groups.values() if len({findings[i].node_id for i in group}) > 1]


def _fold_groups(
    findings: list[Finding],
    groups: list[list[int]],
    message: MessageFn,
    pointer: RelatedFn,
    folded: Counter[str],
) -> list[Finding]:
    if not groups:
        return findings
    replaced: dict[int, Finding] = {}
    dropped: set[int] = set()
    for group in groups:
        keeper_index = min(group, key=lambda i: (not findings[i].fix_here, -findings[i].severity.rank, i))
        keeper = findings[keeper_index]
        others = [findings[i] for i in group if i != keeper_index]
        replaced[keeper_index] = _absorb(keeper, others, message, pointer)
        dropped.update(i for i in group if i != keeper_index)
        folded.update(other.rule_id for other in others)
    return [replaced.get(i, finding) for i, finding in enumerate(findings) if i not in dropped]


def _absorb(keeper: Finding, others: list[Finding], message: MessageFn, pointer: RelatedFn) -> Finding:
    severity = max((keeper, *others), key=lambda f: f.severity.rank).severity
    # A folded finding replaces a plain pointer at its own place ("proxy depends on it here").
    places = {other.span for other in others}
    related = [r for r in keeper.related if r.role or r.span not in places]
    related.extend(pointer(keeper, other) for other in others)
    return replace(keeper, severity=severity, message=message(keeper, others), related=tuple(related))


def _cause_related(keeper: Finding, other: Finding) -> Related:
    return Related(other.span, f"{other.rule_id}: {other.message}", MERGED_ROLE)


def _line_related(locate: Locate, keeper: Finding, other: Finding) -> Related:
    """The folded object's own place: the message already says what is wrong at the line."""
    place = locate(other.node_id) if other.node_id else None
    name = other.subject or other.node_id
    return Related(place or other.span, f"{other.rule_id}: {name} takes it from {_where(keeper)}", MERGED_ROLE)


def _where(finding: Finding) -> str:
    span = finding.span
    return f"{span.path}:{span.line}" if span.line is not None else span.path


def _cause_message(keeper: Finding, others: list[Finding]) -> str:
    places = "; ".join(f"{other.rule_id} at {_where(other)}" for other in others)
    return f"{keeper.message} (the same cause, reported once: {places})"


def _line_message(keeper: Finding, others: list[Finding]) -> str:
    names = [other.subject or other.node_id or "?" for other in others]
    count = len(names)
    return (
        f"{keeper.message} (this line holds it for {count} more object{'s' if count != 1 else ''} too: {listed(names)})"
    )


def listed(names: list[str]) -> str:
    """NAMES for a message: the first few, then how many more."""
    shown = ", ".join(names[:_LISTED])
    return shown + (f" and {len(names) - _LISTED} more" if len(names) > _LISTED else "")


def repeated_elsewhere(findings: list[Finding]) -> int:
    """How many findings repeat an identical one (rule, message, line, file name) found in another
    file: the same manifest kept in several folders of a repository."""
    seen: Counter[tuple[str, str, int | None, str]] = Counter()
    for finding in findings:
        name = finding.span.path.rsplit("/", 1)[-1]
        seen[(finding.rule_id, finding.message, finding.span.line, name)] += 1
    return sum(count - 1 for count in seen.values() if count > 1)
