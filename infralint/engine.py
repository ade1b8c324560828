"""Run the enabled rules over the graph's nodes; each rule sees the whole graph."""

from __future__ import annotations

import traceback
from collections.abc import Iterable

from infralint.findings import Finding, Severity
from infralint.graph.model import Graph, Node
from infralint.rules.meta import Hit, Rule, RuleContext


def run(
    graph: Graph, rules: Iterable[Rule], options: dict[str, dict[str, object]], debug: bool = False
) -> list[Finding]:
    findings: list[Finding] = []
    for rule in rules:
        if not rule.meta.scope:
            continue
        context = RuleContext(graph, {**rule.meta.options, **options.get(rule.id, {})})
        for node in graph.of_kind(*rule.meta.scope):
            if node.facts.get("patch"):  # a kustomize patch is judged merged, not alone
                continue
            try:
                for hit in rule.check(node, context):
                    findings.append(to_finding(rule, node, hit))
            except Exception as error:  # one broken rule must not stop the scan
                findings.append(_rule_error(rule, node, error, debug))
    return findings


def to_finding(rule: Rule, node: Node, hit: Hit) -> Finding:
    span = hit.span or node.spans.span(hit.path)
    locator = ".".join(str(part) for part in hit.path) if hit.span is None else f"@{span.path}:{hit.message}"
    return Finding(rule.id, hit.severity or rule.meta.severity, hit.message, span, node.id, hit.related, locator)


def _rule_error(rule: Rule, node: Node, error: Exception, debug: bool) -> Finding:
    readable = node.facts.get("object")  # "Deployment/web": what a user looks for in the file
    where = f"{readable} ({node.id})" if readable else node.id
    message = f"rule {rule.id} failed on {where}: {type(error).__name__}: {error}"
    if debug:
        message += "\n" + traceback.format_exc()
    return Finding("infralint-rule-error", Severity.ERROR, message, node.span, node.id, locator=rule.id)
