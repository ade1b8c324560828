"""The command line: scan, rules, explain."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from infralint import __version__
from infralint.reporters import REPORTERS

FAIL_ON = ("error", "warning", "note", "never")
EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
# The peer tools `rules --peer` knows (infralint.rules.peers.TOOLS; not imported: start-up time).
PEER_TOOLS = ("kube-linter", "polaris", "checkov", "kics", "gixy", "hapr", "dclint")
CONFIG_HELP = "Settings file (default: .infralint.yaml/.yml or pyproject.toml [tool.infralint], from the scan root up)."
no_default_excludes_option = click.option(
    "--no-default-excludes",
    is_flag=True,
    help="Walk vendored and test folders too (vendor/, third_party/, test/, tests/, testdata/, e2e/, fixtures/ ...), "
    "which are skipped by default (the config's default-excludes).",
)
no_development_paths_option = click.option(
    "--no-development-paths",
    is_flag=True,
    help="Report every finding in development files too (devenv/, docker-compose.dev.yml, test-nginx.conf ...), "
    "where by default only correctness findings are (the config's development-paths).",
)
show_stated_choices_option = click.option(
    "--show-stated-choices",
    is_flag=True,
    help="Report hardening and best-practice findings whose line carries a comment stating the choice "
    "(`# on purpose`, `# needed by ...`), which are counted but not listed by default (the config's stated-choices).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="infralint")
def main() -> None:
    """Lint Kubernetes, Compose, nginx, HAProxy and Redis configs as one graph."""


def _progress_printer() -> Any:
    if not sys.stderr.isatty():
        return None

    def show(count: int) -> None:
        if count % 50 == 0:
            sys.stderr.write(f"\rinfralint: {count} files read")
            sys.stderr.flush()

    return show


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, file_okay=True, dir_okay=True))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(list(REPORTERS)),
    default="text",
    show_default=True,
    help="sarif: GitHub code scanning; github: Actions annotations; junit: CI test reports; gitlab: Code Quality.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write the report to FILE.")
@click.option("--select", multiple=True, help="Rule ids or prefixes to run (repeat or comma-separate).")
@click.option("--ignore", multiple=True, help="Rule ids or prefixes to skip (repeat or comma-separate).")
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default=None,
    help="Lowest severity that fails the run (exit 1). Default: the config's fail-on, else warning.",
)
@click.option("--no-color", is_flag=True, help="Plain text even on a terminal.")
@click.option("--sarif-category", default=None, help="SARIF automationDetails.id (one per analysis).")
@click.option("--max-file-size", type=int, default=None, help="Skip files over this many bytes (default 5 MiB).")
@click.option("--debug", is_flag=True, help="Include tracebacks of internal rule errors.")
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 2 when a rule or parser failed internally (infralint-rule-error), whatever --fail-on says.",
)
@click.option(
    "--file-timeout",
    type=float,
    default=None,
    help="Seconds one file may take to parse, or one rule to judge one object, before it is reported "
    "and skipped (default 10; 0: no limit).",
)
@click.option(
    "--with-context",
    is_flag=True,
    help="Report only on PATHS, judged with their project context (their folder, compose and k8s files "
    "above them, what kustomizations and compose mounts reference): the pre-commit hook's mode.",
)
@click.option(
    "--no-render",
    is_flag=True,
    help="Judge files as they are: render no Helm chart and build no kustomize root.",
)
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False), help=CONFIG_HELP)
@click.option("--no-config", is_flag=True, help="Read no config file.")
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(dir_okay=False),
    help="Hide the findings listed in FILE (default: the config's baseline).",
)
@click.option("--report-stale-baseline", is_flag=True, help="List baseline entries that match no finding any more.")
@click.option("--report-unused-ignores", is_flag=True, help="Report suppressions that hid no finding.")
@no_default_excludes_option
@no_development_paths_option
@show_stated_choices_option
def scan(
    paths: tuple[str, ...],
    output_format: str,
    output: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    fail_on: str,
    no_color: bool,
    sarif_category: str | None,
    max_file_size: int | None,
    debug: bool,
    strict: bool,
    file_timeout: float | None,
    with_context: bool,
    no_render: bool,
    config_file: str | None,
    no_config: bool,
    baseline_file: str | None,
    report_stale_baseline: bool,
    report_unused_ignores: bool,
    no_default_excludes: bool,
    no_development_paths: bool,
    show_stated_choices: bool,
) -> None:
    """Scan PATHS (default: the current folder) and report findings."""
    from infralint.api import ScanOptions
    from infralint.api import scan as run_scan
    from infralint.baseline import BaselineError
    from infralint.reporters import reporter
    from infralint.selection import UnknownSelector

    options = ScanOptions(select=_split(select), ignore=_split(ignore), debug=debug, progress=_progress_printer())
    options.config, options.baseline = _project_config(paths, config_file, no_config), baseline_file
    options.report_stale_baseline, options.report_unused_ignores = report_stale_baseline, report_unused_ignores
    if max_file_size is not None:
        options.max_bytes = max_file_size
    if file_timeout is not None:
        options.file_timeout = file_timeout
    options.render = not no_render
    options.default_excludes = False if no_default_excludes else None
    options.development_paths = False if no_development_paths else None
    options.stated_choices = False if show_stated_choices else None
    try:
        targets = list(paths) or ["."]
        if with_context:
            from infralint.context import expand

            options.report_only, targets = targets, expand(targets)
        report = run_scan(targets, options)
    except (UnknownSelector, BaselineError) as error:
        raise click.UsageError(str(error)) from None
    if options.progress is not None:
        sys.stderr.write("\r\033[K")
    to_terminal = output is None and sys.stdout.isatty()
    color = output_format == "text" and to_terminal and not no_color and "NO_COLOR" not in os.environ
    text = reporter(output_format)(report, color=color, category=sarif_category)
    if output:
        with open(output, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        if output_format != "text":
            from infralint.reporters.text import summary

            click.echo(summary(report), err=True)
    else:
        click.echo(text, nl=False)
    if strict and any(f.rule_id == "infralint-rule-error" for f in report.findings):
        sys.exit(EXIT_USAGE)  # the scan itself is in doubt: not the same as "findings"
    sys.exit(exit_code(report, fail_on or (options.config and options.config.get("fail-on")) or "warning"))


@main.command("graph")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, file_okay=True, dir_okay=True))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["mermaid", "dot", "json"]),
    default="mermaid",
    show_default=True,
    help="mermaid (GitHub renders it in Markdown), dot (Graphviz) or json.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write the diagram to FILE.")
@click.option("--select", multiple=True, help="Rule ids or prefixes whose findings count (repeat or comma-separate).")
@click.option("--ignore", multiple=True, help="Rule ids or prefixes to leave out (repeat or comma-separate).")
@click.option("--max-file-size", type=int, default=None, help="Skip files over this many bytes (default 5 MiB).")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False), help=CONFIG_HELP)
@click.option("--no-config", is_flag=True, help="Read no config file.")
@no_default_excludes_option
@no_development_paths_option
@show_stated_choices_option
def graph_command(
    paths: tuple[str, ...],
    output_format: str,
    output: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    max_file_size: int | None,
    config_file: str | None,
    no_config: bool,
    no_default_excludes: bool,
    no_development_paths: bool,
    show_stated_choices: bool,
) -> None:
    """Draw the infrastructure PATHS define: entry points, proxies, services, datastores, the
    ports between them and each box's findings (counted as `scan` reports them: the project's
    config and baseline apply)."""
    import importlib

    from infralint.api import ScanOptions
    from infralint.api import scan as run_scan
    from infralint.baseline import BaselineError
    from infralint.graph.model import Graph
    from infralint.selection import UnknownSelector
    from infralint.topology.model import extract

    options = ScanOptions(select=_split(select), ignore=_split(ignore), progress=_progress_printer())
    options.config = _project_config(paths, config_file, no_config)
    options.default_excludes = False if no_default_excludes else None
    options.development_paths = False if no_development_paths else None
    options.stated_choices = False if show_stated_choices else None
    if max_file_size is not None:
        options.max_bytes = max_file_size
    try:
        report = run_scan(list(paths) or ["."], options)
    except (UnknownSelector, BaselineError) as error:
        raise click.UsageError(str(error)) from None
    if options.progress is not None:
        sys.stderr.write("\r\033[K")
    renderer = importlib.import_module(f"infralint.topology.{_GRAPH_RENDERERS[output_format]}")
    text = renderer.render(extract(report.graph or Graph(), report.findings))
    if output:
        with open(output, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    else:
        click.echo(text, nl=False)


_GRAPH_RENDERERS = {"mermaid": "mermaid", "dot": "dot", "json": "json_format"}


def exit_code(report: Any, fail_on: str) -> int:
    if fail_on == "never":
        return EXIT_CLEAN
    from infralint.findings import Severity

    threshold = Severity(fail_on).rank
    return EXIT_FINDINGS if any(f.severity.rank >= threshold for f in report.findings) else EXIT_CLEAN


def _split(values: tuple[str, ...]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@main.command("rules")
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True
)
@click.option(
    "--peer",
    type=click.Choice(PEER_TOOLS),
    help="List that tool's checks with the infralint rule(s) for each and the ones without a counterpart "
    "(for a team migrating its suppressions).",
)
def list_rules(output_format: str, peer: str | None) -> None:
    """List every rule: id, severity, default on/off and summary (json and markdown: with the peer checks)."""
    from infralint.catalog import all_metas

    metas = list(all_metas())
    if peer is not None or output_format != "text":
        from infralint.rules import peers as peer_catalogs

        try:
            tools = peer_catalogs.peer_tools()
        except peer_catalogs.PeerCatalogError as error:
            click.echo(f"infralint: {error}", err=True)
            sys.exit(EXIT_USAGE)
        if peer is not None:
            if peer not in tools:
                raise click.UsageError(
                    f"no catalog of {peer}'s checks is packaged (catalogs: {', '.join(tools) or 'none'})"
                )
            click.echo(_peer_listing(peer_catalogs.coverage(tools[peer], metas), output_format), nl=False)
            return
        click.echo(_rules_listing(metas, tools, output_format), nl=False)
        return
    width = max(len(m.id) for m in metas)
    for meta in metas:
        state = "on " if meta.default_enabled else "off"
        pss = f" [Pod Security Standards: {meta.pss}]" if meta.pss else ""
        click.echo(f"{meta.id:<{width}}  {meta.severity.value:<7}  {state}  {meta.summary}{pss}")


def _rules_listing(metas: list[Any], tools: Any, output_format: str) -> str:
    from infralint.rules.peers import rule_peers

    if output_format == "json":
        import json

        rows = [
            {
                "id": m.id,
                "severity": m.severity.value,
                "default_enabled": m.default_enabled,
                "summary": m.summary,
                "tags": list(m.tags),
                "scope": list(m.scope),
                "graph": m.graph,
                "pss": {"profile": m.pss.profile, "control": m.pss.control} if m.pss else None,
                "peers": {
                    tool: [{"id": c.id, "name": c.name or None, "url": c.url or None} for c in checks]
                    for tool, checks in rule_peers(m, tools)
                },
            }
            for m in metas
        ]
        return json.dumps(rows, indent=2) + "\n"
    from infralint.docs import markdown_cell, peer_links

    out = ["| id | severity | default | summary | peers |", "|---|---|---|---|---|"]
    for m in metas:
        peers = "; ".join(f"{title}: {links}" for title, links in peer_links(m, tools))
        out.append(
            f"| {m.id} | {m.severity.value} | {'on' if m.default_enabled else 'off'} "
            f"| {markdown_cell(m.summary)} | {markdown_cell(peers)} |"
        )
    return "\n".join(out) + "\n"


def _peer_listing(cover: Any, output_format: str) -> str:
    """One peer tool's checks in catalog order with the infralint rules for each."""
    if output_format == "json":
        import json

        def row(r: Any) -> dict[str, Any]:
            rules = [{"id": m.id, "severity": m.severity.value, "default_enabled": m.default_enabled} for m in r.rules]
            return {"id": r.check.id, "name": r.check.name or None, "url": r.check.url or None, "rules": rules}

        data = {
            "tool": cover.tool.tool,
            "title": cover.tool.title,
            "sources": [{"source": s.source, "version": s.version} for s in cover.tool.sources],
            "checks": [row(r) for r in cover.rows],
            "unknown": [row(r) for r in cover.unknown],
            "coverage": {"covered": cover.covered, "total": cover.total},
            "summary": cover.summary(),
        }
        return json.dumps(data, indent=2) + "\n"
    if output_format == "markdown":
        from infralint.docs import peer_table

        table = peer_table(cover, rule_link=lambda rule_id: f"`{rule_id}`")
        return "\n".join([f"## {cover.tool.title}", "", *table]) + "\n"
    width = max((len(r.check.id) for r in cover.rows + cover.unknown), default=0)
    lines = [
        f"{cover.tool.title}: checks read from {', '.join(f'{s.source} at {s.version}' for s in cover.tool.sources)}"
    ]
    for r in cover.rows:
        rules = ", ".join(m.id + ("" if m.default_enabled else " (off by default)") for m in r.rules)
        name = f"  [{r.check.name}]" if r.check.name and r.check.name != r.check.id else ""
        lines.append(f"{r.check.id:<{width}}  -> {rules or 'no counterpart'}{name}")
    for r in cover.unknown:
        lines.append(
            f"{r.check.id:<{width}}  -> {', '.join(m.id for m in r.rules)}  [not in the {cover.tool.title} catalog]"
        )
    lines.append(cover.summary())
    return "\n".join(lines) + "\n"


@main.command()
@click.argument("rule_id")
def explain(rule_id: str) -> None:
    """Explain RULE_ID: why it matters, how to fix it, and examples."""
    from infralint.catalog import meta_by_id
    from infralint.docs import explain_text

    meta = meta_by_id().get(rule_id)
    if meta is None:
        raise click.UsageError(f"unknown rule {rule_id!r} (see `infralint rules`)")
    click.echo(explain_text(meta), nl=False)


def _project_config(paths: tuple[str, ...], config_file: str | None, no_config: bool) -> Any:
    """The config a scan of PATHS reads; a config that cannot be used is a usage error (exit 2)."""
    from infralint.config import ConfigError, discover_and_load

    if config_file and no_config:
        raise click.UsageError("--config and --no-config exclude each other")
    try:
        return discover_and_load(list(paths) or ["."], config_file, no_config)
    except ConfigError as error:
        raise click.UsageError(str(error)) from None


@main.group("baseline")
def baseline_group() -> None:
    """Accept the current findings, so that scans report only new ones."""


@baseline_group.command("create")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, file_okay=True, dir_okay=True))
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    help="File to write (default: the config's baseline, else .infralint-baseline.json).",
)
@click.option("--select", multiple=True, help="Rule ids or prefixes to run (repeat or comma-separate).")
@click.option("--ignore", multiple=True, help="Rule ids or prefixes to skip (repeat or comma-separate).")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False), help=CONFIG_HELP)
@click.option("--no-config", is_flag=True, help="Read no config file.")
@click.option("--max-file-size", type=int, default=None, help="Skip files over this many bytes (default 5 MiB).")
@no_default_excludes_option
@no_development_paths_option
@show_stated_choices_option
def baseline_create(
    paths: tuple[str, ...],
    output: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    config_file: str | None,
    no_config: bool,
    max_file_size: int | None,
    no_default_excludes: bool,
    no_development_paths: bool,
    show_stated_choices: bool,
) -> None:
    """Scan PATHS like `scan` does and write the fingerprints of every finding to a baseline file."""
    from infralint import baseline
    from infralint.api import ScanOptions
    from infralint.api import scan as run_scan
    from infralint.selection import UnknownSelector

    config = _project_config(paths, config_file, no_config)
    # baseline="": the scan must see every finding, not hide those of the current baseline.
    options = ScanOptions(select=_split(select), ignore=_split(ignore), config=config, baseline="")
    options.default_excludes = False if no_default_excludes else None
    options.development_paths = False if no_development_paths else None
    options.stated_choices = False if show_stated_choices else None
    if max_file_size is not None:
        options.max_bytes = max_file_size
    try:
        report = run_scan(list(paths) or ["."], options)
    except UnknownSelector as error:
        raise click.UsageError(str(error)) from None
    if output is None:
        output = config.resolve(config.get("baseline")) if config and config.get("baseline") else baseline.DEFAULT_FILE
    count = baseline.write(output, report.findings)
    total = len(report.findings)
    shared = f" for {total} findings (some share a fingerprint)" if total != count else ""
    click.echo(f"infralint: wrote {count} baseline entr{'ies' if count != 1 else 'y'}{shared} to {output}", err=True)


def run() -> None:
    """Entry point that turns unexpected errors into exit code 2, not a traceback."""
    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except Exception as error:
        click.echo(f"infralint: internal error: {type(error).__name__}: {error}", err=True)
        sys.exit(EXIT_USAGE)
