"""Suppression comments (`# infralint: ignore[...]`) and what they cover."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from infralint.findings import Finding, Severity
from infralint.graph.model import Graph, Node
from infralint.source import Span

_COMMENT = re.compile(r"#\s*infralint:\s*(ignore|ignore-file)\[([^\]]*)\]")
_SKIP_LINE = re.compile(r"^\s*(?:#.*|---.*|\.\.\.)?$")


@dataclass
class Suppression:
    path: str
    line: int  # where the comment is
    target: int | None  # the line it covers (None: the whole file)
    rule_ids: frozenset[str]
    own_line: bool = False  # an own-line comment also covers the object starting at target
    used: bool = False
    used_ids: set[str] = field(default_factory=set)  # the rule ids it actually hid (--report-unused-ignores)

    def use(self, rule_id: str) -> bool:
        self.used = True
        self.used_ids.add(rule_id)
        return True


@dataclass
class FileSuppressions:
    whole_file: list[Suppression] = field(default_factory=list)
    by_line: dict[int, list[Suppression]] = field(default_factory=dict)


def parse_comments(path: str, text: str) -> FileSuppressions:
    result = FileSuppressions()
    if "infralint:" not in text:
        return result
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if "infralint:" not in line:
            continue
        match = _COMMENT.search(line)
        if match is None:
            continue
        ids = frozenset(part.strip() for part in match.group(2).split(",") if part.strip())
        number = index + 1
        if match.group(1) == "ignore-file":
            result.whole_file.append(Suppression(path, number, None, ids))
            continue
        own_line = not line[: match.start()].strip()
        target = _next_content_line(lines, index + 1) if own_line else number
        if target is not None:
            result.by_line.setdefault(target, []).append(Suppression(path, number, target, ids, own_line))
    return result


def _next_content_line(lines: list[str], start: int) -> int | None:
    for index in range(start, len(lines)):
        if not _SKIP_LINE.match(lines[index]):
            return index + 1
    return None


def _matches(suppression: Suppression, rule_id: str) -> bool:
    return not suppression.rule_ids or rule_id in suppression.rule_ids


def apply(
    findings: list[Finding],
    comments: dict[str, FileSuppressions],
    graph: Graph,
    used_annotations: set[tuple[str, str]] | None = None,
    locate: Callable[[Node], Span] | None = None,
) -> list[Finding]:
    """Drop findings covered by a comment or by the ignore annotation of their object.

    ``used_annotations`` collects (object node id, rule id) of the annotations that hid something.
    ``locate`` gives where a node starts in the repository (a rendered object: in its template).
    """
    kept = []
    for finding in findings:
        file = comments.get(finding.span.path)
        if _annotated(finding, graph, used_annotations) or _commented(finding, file, graph, locate):
            continue
        kept.append(finding)
    return kept


def _annotated(finding: Finding, graph: Graph, used: set[tuple[str, str]] | None = None) -> bool:
    node = graph.nodes.get(finding.node_id) if finding.node_id else None
    if node is None or finding.rule_id not in node.ignored_rules:
        return False
    if used is not None:  # the annotation is on the outermost object that carries the rule
        while node.parent and finding.rule_id in getattr(graph.nodes.get(node.parent), "ignored_rules", ()):
            node = graph.nodes[node.parent]
        used.add((node.id, finding.rule_id))
    return True


def _commented(
    finding: Finding, file: FileSuppressions | None, graph: Graph, locate: Callable[[Node], Span] | None = None
) -> bool:
    if file is None:
        return False
    for suppression in file.whole_file:
        if _matches(suppression, finding.rule_id):
            return suppression.use(finding.rule_id)
    if not file.by_line:
        return False
    # The finding's own line, then the first line of each object that contains it.
    for suppression in file.by_line.get(finding.span.line or -1, ()):
        if _matches(suppression, finding.rule_id):
            return suppression.use(finding.rule_id)
    node = graph.nodes.get(finding.node_id) if finding.node_id else None
    while node is not None:
        start = locate(node) if locate is not None else node.span
        if start.path == finding.span.path:
            for suppression in file.by_line.get(start.line or -1, ()):
                if suppression.own_line and _matches(suppression, finding.rule_id):
                    return suppression.use(finding.rule_id)
        node = graph.nodes.get(node.parent) if node.parent else None
    return False


def unknown_rule_findings(
    comments: dict[str, FileSuppressions], graph: Graph, known: set[str], annotation_key: str
) -> list[Finding]:
    """A suppression naming no rule suppresses nothing: say so where it is written."""
    from infralint.findings import Severity
    from infralint.source import Span

    findings = []
    for path, file in comments.items():
        entries = file.whole_file + [s for group in file.by_line.values() for s in group]
        for suppression in entries:
            for rule_id in sorted(suppression.rule_ids - known):
                message = f"suppression names unknown rule {rule_id!r}"
                findings.append(
                    Finding(
                        "infralint-unknown-rule",
                        Severity.WARNING,
                        message,
                        Span(path, suppression.line),
                        locator=f"{suppression.line}:{rule_id}",
                    )
                )
    for node in graph.nodes.values():
        if node.parent is None and node.ignored_rules:
            for rule_id in sorted(node.ignored_rules - known):
                span = node.spans.span(("metadata", "annotations", annotation_key))
                message = f"annotation {annotation_key} names unknown rule {rule_id!r}"
                findings.append(
                    Finding("infralint-unknown-rule", Severity.WARNING, message, span, node.id, locator=rule_id)
                )
    return findings


def unused_findings(
    comments: dict[str, FileSuppressions],
    graph: Graph,
    used_annotations: set[tuple[str, str]],
    enabled: set[str],
    annotation_key: str,
) -> list[Finding]:
    """Suppressions that hid nothing (--report-unused-ignores), at the line that writes them.

    Only rules that ran are judged: with `--select` a suppression of another rule is not unused.
    Unknown ids are left to `infralint-unknown-rule`.
    """
    findings = []
    for path, file in comments.items():
        entries = file.whole_file + [s for group in file.by_line.values() for s in group]
        for suppression in sorted(entries, key=lambda s: s.line):
            if not suppression.rule_ids:
                if not suppression.used:
                    message = "suppression of every rule matched no finding"
                    findings.append(_unused(Span(path, suppression.line), message, f"{suppression.line}:*"))
                continue
            for rule_id in sorted((suppression.rule_ids & enabled) - suppression.used_ids):
                message = f"suppression of {rule_id} matched no finding"
                findings.append(_unused(Span(path, suppression.line), message, f"{suppression.line}:{rule_id}"))
    for node in graph.nodes.values():
        if node.parent is None and node.ignored_rules:
            for rule_id in sorted((node.ignored_rules & enabled) - {r for n, r in used_annotations if n == node.id}):
                span = node.spans.span(("metadata", "annotations", annotation_key))
                message = (
                    f"annotation {annotation_key} of {node.facts.get('object', node.id)}: {rule_id} matched no finding"
                )
                findings.append(_unused(span, message, rule_id, node.id))
    return findings


def _unused(span: Span, message: str, locator: str, node_id: str | None = None) -> Finding:
    return Finding("infralint-unused-ignore", Severity.NOTE, message, span, node_id, locator=locator)
