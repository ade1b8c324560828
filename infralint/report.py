"""The result of a scan, as every reporter receives it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from infralint.findings import Finding, Severity
from infralint.rules.meta import RuleMeta

if TYPE_CHECKING:
    from infralint.baseline import Outcome
    from infralint.graph.model import Graph


@dataclass
class Report:
    root: str
    findings: list[Finding]
    rules: list[RuleMeta]  # the enabled rules
    files_by_kind: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    tool_version: str = ""
    graph: Graph | None = field(default=None, repr=False)  # what the scan found, for `infralint graph`
    baseline: Outcome | None = None  # what --baseline hid and which of its entries are stale
    rendered: dict[str, int] = field(default_factory=dict)  # "helm releases", "kustomize roots"
    folded: Counter[str] = field(default_factory=Counter)  # per rule: findings folded into another
    # Per rule: production-hardening findings not reported because they are in development files.
    development: Counter[str] = field(default_factory=Counter)
    # Per rule: advice findings not reported because a comment at their place states the choice.
    stated_choices: Counter[str] = field(default_factory=Counter)

    def count_by_severity(self) -> Counter[Severity]:
        return Counter(finding.severity for finding in self.findings)
