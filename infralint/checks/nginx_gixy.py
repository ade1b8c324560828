"""nginx checks gixy ships, judged with the graph's context: SSRF, access control, root exposure, if in location, regexes, resolvers, headers."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator

from infralint.checks import nginx as base
from infralint.checks.nginx import Record, at, first_arg, label, own, parent_of
from infralint.graph.model import Node
from infralint.parsers.nginx import split_host_port
from infralint.rules.meta import CheckFn, Hit, RuleContext

CHECKS: dict[str, CheckFn] = {}


def rule(rule_id: str) -> Callable[[Callable[[Node, RuleContext], Iterable[Hit]]], CheckFn]:
    """nginx.py's registration (fragments skipped, one hit per place), kept in this module's CHECKS."""

    def register(function: Callable[[Node, RuleContext], Iterable[Hit]]) -> CheckFn:
        check = base.rule(rule_id)(function)
        CHECKS[rule_id] = base.CHECKS.pop(rule_id)
        return check

    return register


# --- logging, referers, resolvers, headers -------------------------------------------------------


@rule("nginx-error-log-off")
def error_log_off(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """`error_log off` is no switch: nginx logs errors into a file named `off`."""
    for record in own(node, "error_log"):
        if first_arg(record) == "off":
            yield Hit(
                f"error_log off in {label(node)} writes errors to a file named 'off' instead of turning the log off",
                span=at(record),
            )


@rule("nginx-valid-referers-none")
def valid_referers_none(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """`none` in valid_referers lets every request without a Referer through."""
    for record in own(node, "valid_referers"):
        if "none" in record["args"]:
            yield Hit(
                f"valid_referers in {label(node)} accepts 'none': any request without a Referer passes",
                span=at(record),
            )


def _resolver_address(arg: str) -> str | None:
    """The address of a `resolver` argument (None for its parameters such as valid=30s)."""
    if "=" in arg:
        return None
    host, _, _ = split_host_port(arg)
    return host.strip("[]").lower()


@rule("nginx-external-resolver")
def external_resolver(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """A resolver on the public internet: its answers cross networks an attacker can spoof."""
    public = {str(address).lower() for address in ctx.options.get("public_resolvers", ())}
    for record in own(node, "resolver"):
        found = [a for a in map(_resolver_address, record["args"]) if a is not None and _known(a, public)]
        if found:
            yield Hit(
                f"resolver in {label(node)} uses the public DNS server {', '.join(found)}",
                span=at(record),
            )


def _known(address: str, public: set[str]) -> bool:
    try:
        return str(ipaddress.ip_address(address)) in public or address in public
    except ValueError:
        return address in public


def _header_values(record: Record) -> list[str]:
    """The header values of add_header / more_set_headers (the latter's -s/-t take an operand)."""
    args = record["args"]
    if record["name"] in ("add_header", "add_trailer"):
        return args[1:2]
    values, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("-s", "-t"):
            skip = True
        elif not arg.startswith("-"):
            values.append(arg)
    return values


@rule("nginx-add-header-multiline")
def add_header_multiline(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """A header value written over several lines: obsolete line folding, or a cut header."""
    for record in own(node, "add_header", "add_trailer", "more_set_headers"):
        for value in _header_values(record):
            if "\n" in value:
                header = first_arg(record) if record["name"] != "more_set_headers" else value.split(":", 1)[0]
                yield Hit(
                    f"{record['name']} {header.strip()} in {label(node)} has a value spanning several lines"
                    " (clients drop or cut folded header lines)",
                    span=at(record),
                )
                break
