"""The rendering step as one scan uses it: settings from the configuration, rendered sources
parsed into nodes that know their release or root, problems as findings, and the translator."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from infralint.findings import Finding
from infralint.graph.model import RENDER_LABEL, RENDER_SCOPE, Node
from infralint.parsers.result import ParseResult, input_finding
from infralint.render.step import HOOK_ANNOTATION, MAX_OBJECTS, RenderSettings, RenderStep, is_consumed
from infralint.render.step import run as run_step
from infralint.source import Span

SCOPE_FACT = RENDER_SCOPE  # nodes of one release or root link only to each other and to plain files
RENDER_TIMEOUT_FACTOR = 3  # a render does the work of many files: it gets this many file timeouts


def render_settings(config: Any, root: str) -> RenderSettings:
    """The `helm:` and `kustomize:` tables of the configuration (paths relative to its folder)."""
    settings = RenderSettings()
    if config is None:
        return settings
    helm = config.get("helm") or {}
    settings.helm = helm.get("renderer", "auto")
    settings.release = helm.get("release")
    settings.namespace = helm.get("namespace") or "default"
    settings.ci_values = bool(helm.get("ci-values", False))
    settings.config_path = config.path
    for key, chart in (helm.get("charts") or {}).items():
        folder = os.path.normpath(os.path.join(config.folder, key))
        positions = {
            path[len(config.prefix) + 3 :]: config.position(path[len(config.prefix) :])
            for path in config.positions
            if tuple(path[len(config.prefix) : len(config.prefix) + 3]) == ("helm", "charts", key)
        }
        settings.charts[folder] = {**chart, "_positions": positions}
    kustomize = config.get("kustomize") or {}
    settings.kustomize = kustomize.get("build", "auto")
    settings.kustomize_load_anywhere = kustomize.get("load-restrictor") == "none"
    return settings


@dataclass
class RenderSession:
    root: str
    step: RenderStep

    @classmethod
    def start(cls, root: str, walked: list[str], config: Any, options: Any) -> RenderSession:
        settings = render_settings(config, root)
        timeout = options.file_timeout * RENDER_TIMEOUT_FACTOR if options.file_timeout else None
        max_bytes = max(options.max_bytes * 4, 20 * 1024 * 1024)
        return cls(root, run_step(root, walked, settings, timeout, max_bytes))

    def is_consumed(self, absolute: str) -> bool:
        return is_consumed(absolute, self.step)

    def kind_of(self, absolute: str) -> str:
        """How the summary counts a file a render read: `helm` (in a chart) or `kustomize`."""
        return "kustomize" if absolute in self.step.consumed else "helm"

    def counts(self) -> dict[str, int]:
        return dict(self.step.counts)

    def read_texts(self) -> dict[str, str]:
        return self.step.read_texts

    def problem_findings(self) -> list[Finding]:
        findings = []
        for problem in self.step.problems:
            span = Span(problem.path, problem.line, problem.col)
            findings.append(input_finding(problem.rule_id, problem.message, span))
        return findings

    def parse(self, seconds: float | None, debug: bool) -> ParseResult:
        """Parse every rendered text as Kubernetes YAML; mark each node with its release or root."""
        from infralint.api import parse_safely
        from infralint.parsers.kubernetes import parse

        result = ParseResult()
        objects: dict[str, int] = {}
        for virtual in self.step.sources:
            parsed = parse_safely(parse, virtual.source, seconds, debug)
            nodes = _without_test_hooks(parsed.nodes)
            objects[virtual.scope.id] = objects.get(virtual.scope.id, 0) + sum(1 for n in nodes if n.parent is None)
            if objects[virtual.scope.id] > MAX_OBJECTS:
                continue
            label = (
                f"Helm {virtual.scope.label}"
                if virtual.scope.kind == "helm"
                else f"kustomize root {virtual.scope.label}"
            )
            for node in nodes:
                node.facts[SCOPE_FACT] = virtual.scope.id
                node.facts[RENDER_LABEL] = label
            result.nodes.extend(nodes)
            result.findings.extend(parsed.findings)
        for scope_id, count in objects.items():
            if count > MAX_OBJECTS:
                result.nodes = [n for n in result.nodes if n.facts.get(SCOPE_FACT) != scope_id]
                scope = next(v.scope for v in self.step.sources if v.scope.id == scope_id)
                message = f"{scope.label} renders {count:,} objects, over the limit of {MAX_OBJECTS:,}: not judged"
                result.findings.append(input_finding("infralint-render-error", message, scope.anchor))
        return result

    def translator(self, graph: Any) -> Any:
        from infralint.render.translate import Translator

        return Translator(self.step, graph)


def _without_test_hooks(nodes: list[Node]) -> list[Node]:
    """`helm test` pods are not part of a release's deployment: they are left out."""
    dropped = {node.id for node in nodes if node.parent is None and _is_test_hook(node)}
    if not dropped:
        return nodes
    return [node for node in nodes if node.id not in dropped and not _under(node, dropped)]


def _is_test_hook(node: Node) -> bool:
    hooks = str(_annotations(node).get(HOOK_ANNOTATION, "")).replace(" ", "").split(",")
    return "test" in hooks or "test-success" in hooks


def _under(node: Node, dropped: set[str]) -> bool:
    return node.parent in dropped or any(node.id.startswith(ident + "/") for ident in dropped)


def _annotations(node: Node) -> dict[str, Any]:
    metadata = node.attrs.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    return annotations if isinstance(annotations, dict) else {}
