"""scan(paths) -> Report: the one entry point the CLI and the tests use."""

from __future__ import annotations

import gc
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from infralint import __version__, discover
from infralint.findings import Finding
from infralint.report import Report
from infralint.source import SourceFile, Span


@dataclass
class ScanOptions:
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    max_bytes: int = discover.DEFAULT_MAX_BYTES
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    debug: bool = False
    progress: Callable[[int], None] | None = None  # called with the count of files read so far
    # Paths (files or folders) to report on; the other paths scanned are only context (pre-commit).
    report_only: Sequence[str] | None = None
    # Adoption: the project's config file (infralint.config.Config; the fields above win over it),
    # a baseline file of accepted findings (else the config's), and what to report about both.
    config: Any = None
    baseline: str | None = None
    report_unused_ignores: bool = False
    report_stale_baseline: bool = False
    # Seconds one file's parse, or one rule on one object, may take before it is reported
    # "took too long" and skipped (None/0: no limit). A chart or kustomize render gets three times this.
    file_timeout: float | None = 10.0
    # Render Helm charts and build kustomize roots (when a renderer is available); False: judge
    # plain files only, as `--no-render` asks.
    render: bool = True
    # Skip vendored and test folders while walking (None: as the config says, by default yes);
    # False scans them too, as `--no-default-excludes` asks.
    default_excludes: bool | None = None
    # Report only correctness findings in development files (None: as the config's
    # `development-paths` says, by default the built-in globs); False reports everything, as
    # `--no-development-paths` asks.
    development_paths: bool | None = None
    # Leave out advice findings whose place carries a comment stating the choice (None: as the
    # config's `stated-choices` says, by default yes); False lists them, as `--show-stated-choices` asks.
    stated_choices: bool | None = None


def scan(paths: Sequence[str], options: ScanOptions | None = None) -> Report:
    """Scan PATHS. The cyclic garbage collector is paused for the scan: it builds millions of
    small objects that all live until the report, so collections would only re-walk them (a
    third of the scan time on large trees); the previous state is restored afterwards."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _scan(paths, options)
    finally:
        if collecting:
            gc.enable()


def _scan(paths: Sequence[str], options: ScanOptions | None) -> Report:
    from infralint import baseline, catalog, engine, suppress
    from infralint import config as project_config
    from infralint.development import leave_out
    from infralint.graph.build import build
    from infralint.parsers.registry import parser_for
    from infralint.selection import enabled_rules

    options = options or ScanOptions()
    started = time.perf_counter()
    settings = project_config.settings(options, catalog.all_metas())
    accepted = baseline.load(settings.baseline) if settings.baseline else None
    metas = settings.with_severities(enabled_rules(catalog.all_metas(), settings.select, settings.ignore))
    enabled_ids = {meta.id for meta in metas}
    root = discover.scan_root(list(paths) or ["."])
    real_paths = discover.RealPaths(root)  # the root and each folder resolved once, not per file
    report_only = options.report_only
    if report_only is not None:  # pre-commit mode: the config's `exclude` holds for the given files too
        from infralint.context import not_excluded

        report_only = not_excluded(report_only, settings.excluded(root))
        paths = not_excluded(paths, settings.excluded(root)) if report_only else paths  # all excluded: report none
    input_findings: list[Finding] = []
    nodes = []
    comments = {}
    files_by_kind: Counter[str] = Counter()
    scanned: set[str] = set()  # files read, for stale baseline entries
    walked = list(discover.walk(list(paths) or ["."], root, settings.excluded(root)))
    rendering = _render(root, walked, settings, options)
    for count, absolute in enumerate(walked, 1):
        if options.progress is not None:
            options.progress(count)
        if rendering is not None and rendering.is_consumed(absolute):
            scanned.add(os.path.relpath(absolute, root).replace(os.sep, "/"))
            files_by_kind[rendering.kind_of(absolute)] += 1
            continue
        source = discover.read(absolute, root, options.max_bytes, real_paths)
        if source is None:
            continue
        scanned.add(source.path)
        if isinstance(source, discover.InputProblem):
            files_by_kind["unreadable"] += 1
            span = Span(source.path, source.line, source.col)
            input_findings.append(
                Finding(
                    source.rule_id,
                    catalog.meta_by_id()[source.rule_id].severity,
                    source.message,
                    span,
                    locator=source.message,
                )
            )
            continue
        parse = parser_for(source.kind)
        if parse is None:
            continue
        files_by_kind[source.kind] += 1
        result = parse_safely(parse, source, options.file_timeout, options.debug)
        nodes.extend(result.nodes)
        input_findings.extend(result.findings)
        comments[source.path] = suppress.parse_comments(source.path, source.text)
        for path, text in result.extra_texts.items():
            if path not in comments:
                comments[path] = suppress.parse_comments(path, text)

    if rendering is not None:
        rendered = rendering.parse(options.file_timeout, options.debug)
        nodes.extend(rendered.nodes)
        input_findings.extend(rendered.findings)
        input_findings.extend(rendering.problem_findings())
        for path, text in rendering.read_texts().items():
            if path not in comments:
                comments[path] = suppress.parse_comments(path, text)
    graph = build(nodes)
    input_findings += _graph_findings(graph)
    rules = [rule for rule in catalog.all_rules() if rule.id in enabled_ids]
    findings = engine.run(graph, rules, settings.rule_options, options.debug, options.file_timeout)
    severities = catalog.meta_by_id()
    for finding in input_findings:
        meta = severities.get(finding.rule_id)
        if meta is not None:
            finding.severity = meta.severity
            finding.cause = finding.cause or meta.cause  # e.g. every chart not fetched: one note
    from infralint.parsers.kubernetes import IGNORE_ANNOTATION

    input_findings += suppress.unknown_rule_findings(comments, graph, set(severities), IGNORE_ANNOTATION)
    input_findings += settings.unknown_rule_findings(root)
    findings.extend(f for f in input_findings if f.rule_id in enabled_ids or f.rule_id not in severities)
    locate = None
    if rendering is not None:
        translator = rendering.translator(graph)
        findings, locate = translator.findings(findings), translator.node_span
    used_annotations: set[tuple[str, str]] = set()
    findings = suppress.apply(findings, comments, graph, used_annotations, locate)
    findings = settings.apply_path_ignores(findings, root)
    findings, development = leave_out(findings, settings.development(root), metas, graph, root)
    stated: Counter[str] = Counter()
    if settings.stated_choices:
        from infralint import stated_choices

        findings, stated = stated_choices.leave_out(findings, metas, root, _node_locator(graph, locate))
    if options.report_unused_ignores and "infralint-unused-ignore" in enabled_ids:
        unused = suppress.unused_findings(comments, graph, used_annotations, enabled_ids, IGNORE_ANNOTATION)
        findings += translator.findings(unused) if rendering is not None else unused
        findings += settings.unused_path_ignore_findings(root, enabled_ids)
    findings = _dedupe(sorted(findings, key=Finding.sort_key))
    from infralint.folding import fold
    from infralint.graph.copies import copy_identity

    findings, folded = fold(findings, _node_locator(graph, locate), copy_identity(graph))
    if report_only is not None:
        from infralint.context import touching

        findings = touching(findings, report_only, root)
    outcome = None
    if accepted is not None:
        scopes = options.report_only if options.report_only is not None else list(paths) or ["."]
        covered = baseline.covering(root, scopes, scanned, enabled_ids)
        findings, outcome = baseline.apply(findings, accepted, covered, root)
        if options.report_stale_baseline and baseline.STALE_RULE in enabled_ids:
            findings = sorted(findings + baseline.stale_findings(accepted, outcome), key=Finding.sort_key)
    settings.apply_severities(findings)
    return Report(
        root=root,
        findings=findings,
        rules=metas,
        files_by_kind=files_by_kind,
        seconds=time.perf_counter() - started,
        tool_version=__version__,
        graph=graph,
        baseline=outcome,
        rendered=rendering.counts() if rendering is not None else {},
        folded=folded,
        development=development,
        stated_choices=stated,
    )


def _render(root: str, walked: list[str], settings: Any, options: ScanOptions) -> Any:
    """The rendering step (charts, kustomize roots), or None when the scan has nothing to render:
    a scan without charts and kustomizations does not even import it."""
    if not options.render or not any(_renderable_name(path) for path in walked):
        return None
    from infralint.render.session import RenderSession

    return RenderSession.start(root, walked, settings.config, options)


def _renderable_name(path: str) -> bool:
    name = os.path.basename(path)
    return name in ("Chart.yaml", "Chart.yml") or name.lower() in ("kustomization.yaml", "kustomization.yml")


def parse_safely(
    parse: Callable[[SourceFile], Any], source: SourceFile, seconds: float | None = None, debug: bool = False
) -> Any:
    """A parser bug on one file becomes a finding on that file; the scan goes on."""
    from infralint.deadline import DeadlineExceeded, deadline
    from infralint.parsers.result import ParseResult, input_finding

    try:
        with deadline(seconds):
            return parse(source)
    except DeadlineExceeded:
        result = ParseResult()
        message = f"took too long to parse (over {seconds:g} s): skipped"
        result.findings.append(input_finding("infralint-parse-error", message, Span(source.path)))
        return result
    except RecursionError:
        result = ParseResult()
        result.findings.append(input_finding("infralint-parse-error", "nesting too deep to parse", Span(source.path)))
        return result
    except Exception as error:
        result = ParseResult()
        message = f"internal error while parsing: {type(error).__name__}: {error}"
        if debug:
            import traceback

            message += "\n" + traceback.format_exc()
        result.findings.append(input_finding("infralint-rule-error", message, Span(source.path)))
        return result


def _graph_findings(graph: Any) -> list[Finding]:
    """What the graph could not link within its bounds (see k8s_links.selector_budget)."""
    from infralint import catalog
    from infralint.graph.k8s_links import K8S_SELECTORS_SKIPPED, selector_budget

    node = graph.indexes.get(K8S_SELECTORS_SKIPPED)
    if node is None:
        return []
    message = (
        f"the selectors of this scan need more than {selector_budget(graph):,} workload comparisons in all "
        f"(reached at {node.facts.get('object', node.id)}): none is linked, and the checks that follow "
        "selectors are off for this scan"
    )
    rule_id = "infralint-graph-too-large"
    return [Finding(rule_id, catalog.meta_by_id()[rule_id].severity, message, node.span, node.id, locator=rule_id)]


def _node_locator(graph: Any, locate: Callable[[Any], Span] | None) -> Callable[[str], Span | None]:
    """A node's own place by its id (in the repository's files when it was rendered)."""

    def node_span(node_id: str) -> Span | None:
        node = graph.nodes.get(node_id)
        if node is None:
            return None
        return locate(node) if locate is not None else node.span

    return node_span


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for finding in findings:
        key = (finding.fingerprint, finding.message)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique
