"""Findings on rendered objects, moved to the repository lines that produced them.

A rule reports at a line of rendered text (a virtual path); here that becomes the template,
base, patch or overlay line behind it, with the values entry that set the value as a related
location. The same problem found in several renders (values sets of one chart, overlays of one
base) is one finding at that line, which names every release or root it holds in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from infralint.findings import Finding, Related
from infralint.render.model import RenderedText
from infralint.source import Span

if TYPE_CHECKING:
    from infralint.graph.model import Graph, Node
    from infralint.render.step import RenderStep, Scope

RENDER_ERROR = "infralint-render-error"


class Translator:
    def __init__(self, step: RenderStep, graph: Graph | None = None) -> None:
        self.step = step
        self.graph = graph
        self._lines: dict[str, list[str]] = {}  # source files split once, for column checks
        self._mentions = (
            re.compile("|".join(re.escape(path) for path in sorted(step.texts, key=len, reverse=True)) + r":(\d+)")
            if step.texts
            else None
        )

    def is_virtual(self, path: str) -> bool:
        return path in self.step.texts

    def span(self, span: Span, fallback: Span | None = None, item: bool = False) -> Span:
        """The repository position behind SPAN (unchanged when it is not in rendered text).
        ITEM: SPAN is where an object or list item starts, not one of its keys."""
        text = self.step.texts.get(span.path)
        if text is None:
            return span
        scalar = text.scalars.get(span.line) if span.line is not None else None
        placed = scalar.place(span.line, span.col) if scalar is not None and span.line is not None else None
        if scalar is not None and placed is not None:  # a character of a config held in a string
            return Span(scalar.path, *placed)
        origin = (text.items.get(span.line) if item and span.line is not None else None) or text.origin(span.line)
        if origin is not None:
            return Span(origin.path, origin.line, self._within_line(origin.path, origin.line, origin.column(span.col)))
        if fallback is not None and fallback.path == span.path and fallback.line != span.line:
            return self.span(fallback)
        return _first_origin(text)

    def _within_line(self, path: str, line: int, col: int | None) -> int | None:
        """COL when it lies in the template's literal text. A shifted column is only right before
        the line's first action: past it, the rendered text is what an action printed
        (`{{ .Values.conf | quote }}`), and the place is that action's `{{`."""
        source = self.step.read_texts.get(path)
        if col is None or source is None:
            return col
        lines = self._lines.get(path)
        if lines is None:
            lines = self._lines[path] = source.splitlines()
        if not 0 < line <= len(lines):
            return col
        text = lines[line - 1]
        first = text.find("{{")
        if first < 0 or col <= first + 1:
            return col if col <= len(text) else None
        return text.rfind("{{", 0, col + 1) + 1

    def node_span(self, node: Node) -> Span:
        return self.span(node.span, item=True)

    def findings(self, findings: Iterable[Finding]) -> list[Finding]:
        """Translate, then merge what several renders found at one line."""
        translated: list[tuple[Finding, Scope | None, str]] = []
        for finding in findings:
            scope = self.step.scopes.get(finding.span.path)
            translated.append((self._translate(finding), scope, self._shape(finding)))
        return _merge(translated)

    def _shape(self, finding: Finding) -> str:
        """The message with the object's own names left out: what must be equal for findings of
        two renders to be one (`prod-web` and `staging-web` of one base are; 6 and 2 replicas are not)."""
        node = self.graph.nodes.get(finding.node_id) if self.graph is not None and finding.node_id else None
        shape = finding.message
        names: set[str] = set()
        while node is not None:
            names.update(str(node.facts[key]) for key in ("object", "name", "workload") if node.facts.get(key))
            node = self.graph.nodes.get(node.parent) if self.graph is not None and node.parent else None
        for name in sorted(names, key=len, reverse=True):
            shape = shape.replace(name, "\0")
        return shape

    def _translate(self, finding: Finding) -> Finding:
        if not self.is_virtual(finding.span.path) and not any(self.is_virtual(r.span.path) for r in finding.related):
            return finding
        fallback = self._node_fallback(finding)
        text = self.step.texts.get(finding.span.path)
        span = self.span(finding.span, fallback, item=not finding.locator)
        related = [Related(self.span(r.span), self._message(r.message), r.role) for r in finding.related]
        if text is not None and _names_a_key(finding):
            related += _values_related(text, finding.span.line)
        rule_id, message = finding.rule_id, self._message(finding.message)
        if rule_id == "infralint-parse-error" and text is not None:
            rule_id, message = (
                RENDER_ERROR,
                f"the rendered output is not valid YAML: {message.removeprefix('not valid YAML: ')}",
            )
        # replace keeps the cause and subject folding needs; the fingerprint follows the new path
        return replace(
            finding, rule_id=rule_id, message=message, span=span, related=_unique(related, span), fingerprint=""
        )

    def _node_fallback(self, finding: Finding) -> Span | None:
        if self.graph is None or finding.node_id is None:
            return None
        node = self.graph.nodes.get(finding.node_id)
        while node is not None and node.parent and node.path == finding.span.path and node.span.line is None:
            node = self.graph.nodes.get(node.parent)
        return node.span if node is not None else None

    def _message(self, message: str) -> str:
        """A rendered position written in a message ("at x@rel/templates/a.yaml:12") becomes the real one."""
        if self._mentions is None or "@" not in message:
            return message

        def real(match: re.Match[str]) -> str:
            virtual = match.group(0).rsplit(":", 1)[0]
            span = self.span(Span(virtual, int(match.group(1))))
            return f"{span.path}:{span.line}" if span.line else span.path

        return self._mentions.sub(real, message)


def _names_a_key(finding: Finding) -> bool:
    """Whether the finding is about a key's value (`replicas`, `image`), not about the object
    that starts on the line: a container without a probe is not the fault of its `name` value."""
    return bool(finding.locator) and not finding.locator.startswith("@")


def _first_origin(text: RenderedText) -> Span:
    for origin in text.lines:
        if origin is not None:
            return Span(origin.path, origin.line)
    return Span(text.home or text.name)


def _values_related(text: RenderedText, line: int | None) -> list[Related]:
    if line is None:
        return []
    return [Related(Span(v.path, v.line, v.col), f"`{v.key}` is set here", "values") for v in text.values.get(line, ())]


def _unique(related: Iterable[Related], own: Span) -> tuple[Related, ...]:
    seen = set()
    kept = []
    for entry in related:
        key = (entry.span.path, entry.span.line)
        if key in seen or (entry.span.path == own.path and entry.span.line == own.line):
            continue
        seen.add(key)
        kept.append(entry)
    return tuple(kept)


def _merge(translated: list[tuple[Finding, Scope | None, str]]) -> list[Finding]:
    """One finding per rule, repository position and message (less the objects' names), naming
    the renders it holds in.

    A line a `range` repeats yields several findings in one render (one per container, say):
    the n-th of each render are merged together, so each container is still reported.
    """
    Key = tuple[str, str, int | None, int | None, str, int]
    groups: dict[Key, list[tuple[Finding, Scope]]] = {}
    seen: dict[tuple[str, str, int | None, int | None, str, str], int] = {}
    order: list[Finding | Key] = []
    for finding, scope, shape in translated:
        if scope is None:
            order.append(finding)
            continue
        place = (finding.rule_id, finding.span.path, finding.span.line, finding.span.col, shape)
        nth = seen.get((*place, scope.id), 0)
        seen[(*place, scope.id)] = nth + 1
        key = (*place, nth)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append((finding, scope))
    merged = []
    for entry in order:
        if isinstance(entry, Finding):
            merged.append(entry)
        else:
            merged.append(_one(groups[entry]))
    return merged


def _one(group: list[tuple[Finding, Scope]]) -> Finding:
    first = group[0][0]
    scopes: list[Scope] = []
    for _, scope in group:
        if scope not in scopes:
            scopes.append(scope)
    related = list(first.related)
    for finding, _ in group[1:]:
        related += [r for r in finding.related if r not in related]
    if all(scope.kind == "kustomize" for scope in scopes):
        related += [Related(scope.anchor, f"holds in kustomize root {scope.label}", "root") for scope in scopes]
    message = f"{first.message} [{_where(scopes)}]"
    nodes = tuple(finding.node_id for finding, _ in group[1:] if finding.node_id and finding.node_id != first.node_id)
    return replace(first, message=message, related=_unique(related, first.span), fingerprint="", merged_nodes=nodes)


def _where(scopes: list[Scope]) -> str:
    helm = [scope for scope in scopes if scope.kind == "helm"]
    roots = [scope.label for scope in scopes if scope.kind == "kustomize"]
    parts = []
    if len(helm) == 1:
        parts.append(f"in {helm[0].label}")
    elif helm:
        parts.append(f"in {len(helm)} releases: " + ", ".join(scope.label.removeprefix("release ") for scope in helm))
    if len(roots) == 1:
        parts.append(f"in kustomize root {roots[0]}")
    elif roots:
        parts.append(f"in {len(roots)} kustomize roots: " + ", ".join(roots))
    return "; ".join(parts)
