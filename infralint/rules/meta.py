"""Rule metadata and the interface every rule implements."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from infralint.findings import Related, Severity
from infralint.source import Span

if TYPE_CHECKING:
    from infralint.graph.model import Graph, Node


@dataclass(frozen=True)
class PssControl:
    """The Kubernetes Pod Security Standards control a rule implements, and the profile
    (baseline or restricted) that first requires it."""

    profile: str
    control: str

    def __str__(self) -> str:
        return f"{self.control} ({self.profile})"


@dataclass(frozen=True)
class RuleMeta:
    """One record per rule: drives selection, `rules`, `explain`, SARIF and the docs."""

    id: str
    severity: Severity
    summary: str
    rationale: str
    remediation: str
    tags: tuple[str, ...]
    references: tuple[str, ...]
    scope: tuple[str, ...]
    default_enabled: bool
    message: str
    graph: bool = False
    where: dict[str, Any] | None = None
    require: dict[str, Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    cause: str = ""  # declarative rules: see infralint.folding
    # Whether the rule is reported in development files (infralint.development); None: by its tags.
    development: bool | None = None
    pss: PssControl | None = None
    # Peer tool -> the ids of its checks this rule corresponds to (rules/peers/<tool>.yaml).
    peers: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def domain(self) -> str:
        return self.id.split("-", 1)[0]

    @property
    def declarative(self) -> bool:
        return self.require is not None


@dataclass
class Hit:
    """What a check reports: a message and where inside the node (or an explicit span)."""

    message: str
    path: tuple[Any, ...] = ()
    span: Span | None = None
    related: tuple[Related, ...] = ()
    # Exposure-aware rules lower or raise their severity for this finding (None: the rule's own).
    severity: Severity | None = None
    # The root cause shared with other rules' findings, and whether the fix is made here
    # (infralint.folding keeps one finding per cause).
    cause: str = ""
    fix_here: bool = False


@dataclass
class RuleContext:
    graph: Graph
    options: dict[str, Any]

    def related(self, node: Node, message: str, path: tuple[Any, ...] = ()) -> Related:
        return Related(node.spans.span(path), message)


CheckFn = Callable[["Node", RuleContext], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    meta: RuleMeta
    check: CheckFn

    @property
    def id(self) -> str:
        return self.meta.id


def render(template: str, facts: dict[str, Any], **extra: Any) -> str:
    """Fill ``{name}`` placeholders from a node's facts; unknown names stay visible."""
    return template.format_map(_KeepUnknown({**facts, **extra}))


class _KeepUnknown(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
