"""Findings and severities."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum

from infralint.source import Span


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.ERROR: 3, Severity.WARNING: 2, Severity.NOTE: 1}


@dataclass(frozen=True)
class Related:
    """Another place a finding points at ("Service defined here")."""

    span: Span
    message: str
    # "values": the values entry behind a rendered value; "root": a kustomize root the finding
    # holds in. A commit that changes such a file is shown the finding (pre-commit mode).
    role: str = ""


@dataclass
class Finding:
    rule_id: str
    severity: Severity
    message: str
    span: Span
    node_id: str | None = None
    related: tuple[Related, ...] = ()
    # What inside the node is at fault (an attribute path); keeps fingerprints distinct
    # when one rule reports twice on one node, without using line numbers.
    locator: str = ""
    fingerprint: str = field(default="", compare=False)
    # A key naming the root cause this finding shares with findings of other rules, and whether
    # this one sits where that cause is fixed (see infralint.folding).
    cause: str = field(default="", compare=False)
    fix_here: bool = field(default=False, compare=False)
    # The object as a reader names it ("service 'web'", "Deployment/api").
    subject: str = field(default="", compare=False)
    # Nodes of other renders this finding also speaks for (merged at one repository line).
    merged_nodes: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not self.fingerprint:
            self.fingerprint = compute_fingerprint(self.rule_id, self.span.path, self.node_id, self.locator)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.span.path, self.span.line or 0, self.span.col or 0, self.rule_id, self.message)


def compute_fingerprint(rule_id: str, path: str, node_id: str | None, locator: str) -> str:
    """File + object + rule (+ what inside it): no line numbers, so unrelated edits keep it."""
    raw = "\x1f".join((rule_id, path, node_id or "", locator))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]
