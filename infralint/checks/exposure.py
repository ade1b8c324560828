"""Cross-format rules on what a container gives the server it runs: its memory limit.

redis-maxmemory-over-limit compares Redis's `maxmemory` with the memory limit of the compose
service or k8s container that runs it. The value comes from the config file (a bind-mounted
redis.conf or a ConfigMap) unless the command line sets `--maxmemory`, which Redis applies after
the file. A finding sits where the effective value is written: the `maxmemory` line of the config,
or the `--maxmemory` argument in the compose/k8s file (also for a Redis run without any config
file), with the limit as a related location.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infralint.findings import Related
from infralint.graph.exposure import MemoryLimit, exposure_source, memory_limit, runner_label
from infralint.graph.model import Node
from infralint.graph.mounts import server_flags
from infralint.graph.redis_links import included_elsewhere
from infralint.parsers.redis_directives import memory_bytes
from infralint.rules.meta import CheckFn, Hit, RuleContext
from infralint.source import Span
from infralint.units import format_bytes

CONSEQUENCE = "the container is killed for running out of memory before Redis starts evicting keys"


def exposure_related(node: Node, ctx: RuleContext) -> tuple[Related, ...]:
    """Where the graph decided how far NODE can be reached, as a related location (or none)."""
    found = exposure_source(ctx.graph, node)
    if found is None:
        return ()
    via, path, label = found
    return (ctx.related(via, label, path),)


def reachable_from_outside(node: Node, ctx: RuleContext) -> tuple[str, tuple[Related, ...]]:
    """A message's `; reachable from outside: ...` and its related location, for a node the
    graph found reachable; ("", ()) when it has no reason to give."""
    reason = node.facts.get("exposure_reason")
    if not reason:
        return "", ()
    return f"; reachable from outside: {reason}", exposure_related(node, ctx)


def maxmemory_over_limit(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if node.kind == "redis/config":
        yield from _config_over_limit(node, ctx)
    else:
        yield from _flag_over_limit(node, ctx)


def _config_over_limit(config: Node, ctx: RuleContext) -> Iterator[Hit]:
    """`maxmemory` in the file, against each runner that does not override it on the command line."""
    amount = config.facts.get("maxmemory")
    if not amount or included_elsewhere(ctx.graph, config):
        return
    over: list[tuple[MemoryLimit, Node]] = []
    for runner_id in config.facts.get("runs_in") or ():
        runner = ctx.graph.nodes.get(runner_id)
        if runner is None or "maxmemory" in (server_flags(runner) or {}):
            continue  # the command line sets it: judged on the runner
        limit = memory_limit(runner)
        if limit is not None and amount >= limit.amount:
            over.append((limit, runner))
    if not over:
        return
    limit, runner = min(over, key=lambda pair: pair[0].amount)
    entry = _last_maxmemory(config)
    written = entry["args"][0] if entry else str(amount)
    holder = _embedded_name(config)
    others = f" (and {len(over) - 1} more that run this config)" if len(over) > 1 else ""
    message = (
        f"{holder}maxmemory {written} ({format_bytes(amount)}) is at or above the {limit.text} "
        f"({format_bytes(limit.amount)}) memory limit of {runner_label(runner)}{others}: {CONSEQUENCE}"
    )
    span = Span(entry["file"], entry["line"], entry["col"]) if entry else config.span
    yield Hit(message, span=span, related=(ctx.related(runner, "memory limit set here", limit.path),))


def _flag_over_limit(runner: Node, ctx: RuleContext) -> Iterator[Hit]:
    """`redis-server ... --maxmemory 2gb` in a service/container with a smaller memory limit."""
    flags = server_flags(runner)
    if not flags or "maxmemory" not in flags:
        return
    amount = memory_bytes(flags["maxmemory"])
    limit = memory_limit(runner)
    if not amount or limit is None or amount < limit.amount:
        return
    message = (
        f"{runner_label(runner)} starts Redis with --maxmemory {flags['maxmemory']} ({format_bytes(amount)}), "
        f"at or above its {limit.text} ({format_bytes(limit.amount)}) memory limit: {CONSEQUENCE}"
    )
    yield Hit(
        message,
        path=flag_path(runner, "maxmemory"),
        related=(ctx.related(runner, "memory limit set here", limit.path),),
    )


def flag_path(runner: Node, flag: str) -> tuple[Any, ...]:
    """The attribute path of a `--flag` value in a service's or container's command line."""
    option = f"--{flag}"
    keys = ("entrypoint", "command") if runner.kind == "compose/service" else ("command", "args")
    for key in keys:
        value = runner.attrs.get(key)
        if isinstance(value, list):
            for index, item in enumerate(value):
                text = str(item).lower()
                if text == option:
                    return (key, index + 1) if index + 1 < len(value) else (key, index)
                if option in text.split():  # `sh -c "redis-server --maxmemory 2gb"`
                    return (key, index)
        elif isinstance(value, str) and option in value.lower().split():
            return (key,)
    return ()


def _last_maxmemory(config: Node) -> dict[str, Any] | None:
    found = None
    for entry in config.attrs.get("directives") or ():
        if entry.get("setting") == "maxmemory" and entry.get("counts"):
            found = entry
    return found


def _embedded_name(config: Node) -> str:
    """`redis.conf in ConfigMap redis: ` for a config inside a manifest, else nothing."""
    holder = config.facts.get("embedded_in")
    if not holder:
        return ""
    kind, _, rest = str(holder).removeprefix("k8s/").partition("/")
    return f"{config.facts.get('embedded_key')} in {kind} {rest.rsplit('/', 1)[-1]}: "


CHECKS: dict[str, CheckFn] = {"redis-maxmemory-over-limit": maxmemory_over_limit}
