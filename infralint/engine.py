"""Run the enabled rules over the graph's nodes; each rule sees the whole graph."""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterable

from infralint.findings import Finding, Severity
from infralint.graph.model import Graph, Node
from infralint.rules.meta import Hit, Rule, RuleContext


def run(
    graph: Graph,
    rules: Iterable[Rule],
    options: dict[str, dict[str, object]],
    debug: bool = False,
    seconds: float | None = None,
) -> list[Finding]:
    """Findings of RULES on GRAPH. A rule that raises, or runs past SECONDS on one object, is an
    infralint-rule-error on that object; the rule goes on with the next object."""
    from infralint.deadline import DeadlineExceeded, Watchdog

    findings: list[Finding] = []
    with Watchdog(seconds) as watch:
        for rule in rules:
            if not rule.meta.scope:
                continue
            context = RuleContext(graph, {**rule.meta.options, **options.get(rule.id, {})})
            for node in graph.of_kind(*rule.meta.scope):
                if node.facts.get("patch"):  # a kustomize patch is judged merged, not alone
                    continue
                try:
                    watch.started = time.monotonic()
                    for hit in rule.check(node, context):
                        findings.append(to_finding(rule, node, hit))
                    watch.started = None
                except DeadlineExceeded:
                    watch.started = None
                    findings.append(_rule_timeout(rule, node, seconds))
                except Exception as error:  # one broken rule must not stop the scan
                    watch.started = None
                    findings.append(_rule_error(rule, node, error, debug))
    return findings


def to_finding(rule: Rule, node: Node, hit: Hit) -> Finding:
    span = hit.span or node.spans.span(hit.path)
    locator = ".".join(str(part) for part in hit.path) if hit.span is None else f"@{span.path}:{hit.message}"
    severity = hit.severity or rule.meta.severity
    finding = Finding(rule.id, severity, hit.message, span, node.id, hit.related, locator)
    finding.cause, finding.fix_here, finding.subject = hit.cause, hit.fix_here, subject(node)
    return finding


def subject(node: Node) -> str:
    """The object as its file names it: a manifest's Kind/name, a compose service, a proxy section."""
    facts = node.facts
    if facts.get("container") and facts.get("object"):
        return f"container '{facts['container']}' of {facts['object']}"
    if facts.get("object"):
        return str(facts["object"])
    if facts.get("service"):
        return f"service '{facts['service']}'"
    if facts.get("section"):
        name = node.attrs.get("name")
        return f"{facts['section']} '{name}'" if name else str(facts["section"])
    return node.id


def _where(node: Node) -> str:
    readable = node.facts.get("object")  # "Deployment/web": what a user looks for in the file
    return f"{readable} ({node.id})" if readable else node.id


def _rule_timeout(rule: Rule, node: Node, seconds: float | None) -> Finding:
    message = f"rule {rule.id} took too long on {_where(node)} (over {seconds:g} s): stopped"
    return Finding("infralint-rule-error", Severity.ERROR, message, node.span, node.id, locator=rule.id)


def _rule_error(rule: Rule, node: Node, error: Exception, debug: bool) -> Finding:
    message = f"rule {rule.id} failed on {_where(node)}: {type(error).__name__}: {error}"
    if debug:
        message += "\n" + traceback.format_exc()
    return Finding("infralint-rule-error", Severity.ERROR, message, node.span, node.id, locator=rule.id)
