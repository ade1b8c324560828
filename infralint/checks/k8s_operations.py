"""Kubernetes correctness and operations checks every peer ships: duplicate env, Jobs and CronJobs, probe protocols, ingress-nginx snippets, secrets in ConfigMaps.

The Job and CronJob field checks (k8s-job-no-ttl, k8s-cronjob-no-deadline,
k8s-cronjob-concurrency) are declarative: see their rules/k8s/*.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from infralint.checks.k8s_containers import container_label, port_number, probe_ports
from infralint.graph.model import Node
from infralint.rules.meta import CheckFn, Hit, RuleContext
from infralint.shapes import as_dict as _dict
from infralint.shapes import as_list as _list

# k8s-duplicate-env


def duplicate_env(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """Every entry after the first of a name, at its name (the last one is what runs)."""
    seen: set[str] = set()
    for index, item in enumerate(_list(node.attrs.get("env"))):
        name = _dict(item).get("name")
        if not isinstance(name, str):
            continue
        if name in seen:
            yield Hit(
                f"{container_label(node)} sets env var {name} twice: only the last entry counts", ("env", index, "name")
            )
        seen.add(name)


# k8s-cronjob-invalid-schedule
# The grammar of the cron parser the API server validates schedules with (robfig/cron v3,
# standard five fields with descriptors).

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_DAYS = {name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# (name, lowest, highest, names) per field, in order.
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 6, _DAYS),
)
_MACROS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
_GO_DURATION = re.compile(r"[-+]?(?:0|(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)")
# An IANA zone name as a shape (Area/City, UTC, Etc/GMT+5): the zone database is not consulted.
_ZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*")
# A value a template or envsubst fills in later.
_PLACEHOLDER = re.compile(r"\{\{|\$\{|\$\(|^\$[A-Za-z_]")


def _number(text: str, names: dict[str, int]) -> int | None:
    if text.lower() in names:
        return names[text.lower()]
    return int(text) if text.isascii() and text.isdecimal() else None


def _range_error(part: str, field: tuple[str, int, int, dict[str, int]]) -> str | None:
    """Why one comma-separated part of a field is refused, or None."""
    name, lowest, highest, names = field
    range_text, *steps = part.split("/")
    if len(steps) > 1:
        return f"'{part}' has more than one step"
    bounds = range_text.split("-")
    if bounds[0] in ("*", "?"):
        start, end = lowest, highest
    else:
        if len(bounds) > 2:
            return f"'{part}' is not a range"
        numbers = [number for number in (_number(bound, names) for bound in bounds) if number is not None]
        if len(numbers) != len(bounds):
            return f"'{part}' is not a {name} value"
        start, end = numbers[0], numbers[-1]
        if steps and len(bounds) == 1:
            end = highest  # `5/15`: from 5 to the end, every 15
    if steps:
        step = _number(steps[0], {})
        if step is None or step == 0:
            return f"'{part}' has a step that is not a positive number"
    if start < lowest or end > highest:
        return f"'{part}' is outside {lowest}-{highest} for the {name}"
    if start > end:
        return f"'{part}' starts after it ends"
    return None


def schedule_error(schedule: str) -> str | None:
    """Why Kubernetes' cron parser refuses SCHEDULE, or None when it parses."""
    spec = schedule
    if not spec:
        return "it is empty"
    if spec.startswith(("TZ=", "CRON_TZ=")):
        zone, _, spec = spec.partition(" ")
        name = zone.partition("=")[2]
        if name and not _ZONE.fullmatch(name):  # an empty name is UTC to Go's time package
            return f"'{zone}' does not name a time zone"
        spec = spec.strip()
    if spec.startswith("@"):
        if spec in _MACROS:
            return None
        if spec.startswith("@every "):
            duration = spec[len("@every ") :]
            return None if _GO_DURATION.fullmatch(duration) else f"'{duration}' is not a duration"
        return f"'{spec}' is not a known macro"
    fields = spec.split()
    if len(fields) != 5:
        return f"it has {len(fields)} fields, not 5 (minute hour day-of-month month day-of-week)"
    for text, field in zip(fields, _FIELDS, strict=True):
        for part in text.split(","):
            error = _range_error(part, field)
            if error:
                return error
    return None


def cronjob_invalid_schedule(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if not str(node.facts.get("apiVersion", "")).startswith("batch/"):
        return
    schedule = _dict(node.attrs.get("spec")).get("schedule")
    if not isinstance(schedule, str) or _PLACEHOLDER.search(schedule):
        return  # no schedule at all is the schema's to refuse; a template is judged once rendered
    error = schedule_error(schedule)
    if error:
        yield Hit(
            f"{node.facts['object']} has a schedule cron cannot parse ({schedule!r}): {error}", ("spec", "schedule")
        )


# k8s-probe-protocol-mismatch


def _protocol(port: dict[str, Any]) -> str:
    protocol = port.get("protocol", "TCP")
    return protocol.upper() if isinstance(protocol, str) else "TCP"


def _pod_tcp_numbers(node: Node, ctx: RuleContext) -> set[int]:
    """Port numbers some container of the pod declares over TCP (the default protocol)."""
    workload = ctx.graph.nodes.get(node.parent) if node.parent else None
    containers = (
        [sibling.attrs for sibling in ctx.graph.children(workload) if "k8s/container" in sibling.kinds]
        if workload
        else []
    )
    numbers: set[int] = set()
    for container in containers or [node.attrs]:
        for port in _list(container.get("ports")):
            port = _dict(port)
            number = port_number(port.get("containerPort"))
            if number is not None and _protocol(port) == "TCP":
                numbers.add(number)
    return numbers


def _udp_port(node: Node, ctx: RuleContext, probed: Any) -> str | None:
    """How to name the probed port when the container declares it UDP only, else None."""
    ports = [_dict(port) for port in _list(node.attrs.get("ports"))]
    number = port_number(probed)
    if number is None:
        if not isinstance(probed, str):
            return None
        named = [port for port in ports if port.get("name") == probed]
        if named and _protocol(named[0]) == "UDP":
            return f"'{probed}' ({named[0].get('containerPort')}/UDP)"
        return None
    udp = any(port_number(port.get("containerPort")) == number and _protocol(port) == "UDP" for port in ports)
    if udp and number not in _pod_tcp_numbers(node, ctx):
        return f"{number}/UDP"
    return None


def probe_protocol_mismatch(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    for probe_name, handler, spec in probe_ports(node):
        described = _udp_port(node, ctx, spec["port"])
        if described:
            yield Hit(
                f"{probe_name} of {container_label(node)} connects over TCP ({handler}) to port {described}: "
                "nothing answers, so the probe always fails",
                (probe_name, handler, "port"),
            )


# k8s-ingress-nginx-snippet

_SNIPPET_ANNOTATION = re.compile(r"nginx\.ingress\.kubernetes\.io/[a-z0-9-]+-snippet")


def ingress_nginx_snippet(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    annotations = _dict(_dict(node.attrs.get("metadata")).get("annotations"))
    for key, value in annotations.items():
        if not isinstance(key, str) or not _SNIPPET_ANNOTATION.fullmatch(key):
            continue
        if value is None or not str(value).strip():
            continue  # an empty snippet injects nothing
        yield Hit(
            f"{node.facts['object']} injects raw nginx configuration into the shared controller with {key}",
            ("metadata", "annotations", key),
        )


CHECKS: dict[str, CheckFn] = {
    "k8s-duplicate-env": duplicate_env,
    "k8s-cronjob-invalid-schedule": cronjob_invalid_schedule,
    "k8s-probe-protocol-mismatch": probe_protocol_mismatch,
    "k8s-ingress-nginx-snippet": ingress_nginx_snippet,
}
