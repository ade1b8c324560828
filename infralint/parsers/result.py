"""What every parser returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from infralint.findings import Finding, Severity
from infralint.graph.model import Node
from infralint.source import Span


@dataclass
class ParseResult:
    nodes: list[Node] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    documents: int = 0
    # Texts of other files the parser read (includes), by relative path: their suppression
    # comments count even when discovery does not scan those files on their own.
    extra_texts: dict[str, str] = field(default_factory=dict)


def input_finding(rule_id: str, message: str, span: Span) -> Finding:
    """A finding about the input itself; its severity comes from the rule's metadata."""
    return Finding(rule_id, Severity.ERROR, message, span, locator=message)
