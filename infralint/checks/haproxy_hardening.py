"""HAProxy hardening checks from HAProxy's manual: ciphers, timeouts, logging, passwords, TLS
verification, the stats socket, removed keywords, PROXY protocol, HTTP parsing, HSTS,
X-Forwarded-For, persistence cookies and server names resolved once.

A value written wrongly is reported on the line that writes it (a `defaults` line once, not once
per proxy after it); a setting every proxy of a defaults section lacks is reported once, at that
defaults section (the `absence` pattern of the core HAProxy rules)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from infralint.checks.exposure import reachable_from_outside
from infralint.checks.haproxy import absence, is_http, keyword_rules, option_enabled, section_label
from infralint.checks.nginx import weak_cipher_families
from infralint.findings import Severity
from infralint.graph import upstreams
from infralint.graph.model import Node
from infralint.parsers import haproxy_model as model
from infralint.rules.meta import CheckFn, Hit, RuleContext

# -- helpers --------------------------------------------------------------------------------------


def _directives(node: Node) -> Iterator[tuple[int, str, list[str]]]:
    """The section's own lines: (index, keyword, arguments)."""
    for index, directive in enumerate(node.attrs.get("directives", [])):
        yield index, directive["keyword"], directive["args"]


def _arg_path(index: int, arg: int) -> tuple[Any, ...]:
    return ("directives", index, "args", arg)


# Where the options of a line start, after the keyword: `bind ADDR`, `server NAME ADDR`, ...
_OPTIONS_FROM = {"bind": 1, "server": 2, "server-template": 3, "default-server": 0}


def _line_options(keyword: str, args: list[str]) -> Iterator[tuple[int, str, str | None]]:
    """(argument index, option, its value) of a bind/server/default-server line."""
    start = _OPTIONS_FROM.get(keyword)
    if start is None:
        return
    valued = model.BIND_VALUE_OPTIONS if keyword == "bind" else model.SERVER_VALUE_OPTIONS
    index = start
    while index < len(args):
        name = args[index]
        if name in valued and index + 1 < len(args):
            yield index, name, args[index + 1]
            index += 2
            continue
        yield index, name, None
        index += 1


def _header_rule(node: Node, keywords: tuple[str, ...], actions: tuple[str, ...], header: str) -> bool:
    """An http-request/-response rule with one of ACTIONS on HEADER (own or from defaults)."""
    for keyword in keywords:
        for rule in keyword_rules(node, keyword):
            args = rule["args"]
            if len(args) > 1 and args[0] in actions and args[1].lower() == header:
                return True
    return False


def _routed_backends(node: Node, ctx: RuleContext) -> list[Node] | None:
    """The HAProxy backends NODE sends requests to, or None when a rule picks one at run time."""
    if any(ref["dynamic"] for ref in node.attrs.get("backend_refs", [])):
        return None
    return [target for target in ctx.graph.outgoing(node, "routes_to") if target.kind.startswith("haproxy/")]


def _serves(node: Node, ctx: RuleContext) -> bool:
    """Requests reach a server from here: its own servers (a listen) or a backend it routes to."""
    if "haproxy/backend-side" in node.kinds and node.attrs.get("servers"):
        return True
    backends = _routed_backends(node, ctx)
    return backends is None or bool(backends)


def _tls_binds(node: Node) -> list[dict[str, Any]]:
    return [bind for bind in node.attrs.get("binds", []) if bind["ssl"] and not bind["loopback"]]


def _takers(defaults: Node, ctx: RuleContext) -> list[Node]:
    """The proxies that take DEFAULTS, directly or through a defaults section built `from` it."""
    config = ctx.graph.nodes.get(defaults.parent or "")
    peers = ctx.graph.children(config) if config is not None else []
    found = []
    for proxy in peers:
        if "haproxy/proxy" not in proxy.kinds:
            continue
        current, seen = proxy.attrs.get("defaults"), set()
        while current and current not in seen:
            if current == defaults.id:
                found.append(proxy)
                break
            seen.add(current)
            parent = ctx.graph.nodes.get(current)
            current = parent.attrs.get("defaults") if parent is not None else None
    return found


def _reaches_a_proxy(node: Node, ctx: RuleContext, holds: Callable[[Node], bool]) -> bool:
    """A value written in NODE is in effect somewhere: NODE is a proxy, or a defaults section
    with a proxy that keeps it (HOLDS) rather than overriding it."""
    if "haproxy/defaults" not in node.kinds:
        return True
    return any(holds(proxy) for proxy in _takers(node, ctx))


def _only_local_clients(node: Node) -> bool:
    """Every bind is a loopback address or a local socket (or there is none)."""
    return all(bind["loopback"] for bind in node.attrs.get("binds", []))


# -- haproxy-weak-ciphers -------------------------------------------------------------------------

_GLOBAL_CIPHERS = ("ssl-default-bind-ciphers", "ssl-default-server-ciphers")


def weak_ciphers(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    for index, keyword, args in _directives(node):
        if keyword in _GLOBAL_CIPHERS and args:
            yield from _judge_ciphers(node, keyword, args[0], _arg_path(index, 0))
            continue
        for position, name, value in _line_options(keyword, args):
            if name == "ciphers" and value is not None:
                where = f"{keyword} {args[0]}" if keyword != "default-server" else keyword
                yield from _judge_ciphers(node, f"ciphers on {where}", value, _arg_path(index, position + 1))


def _judge_ciphers(node: Node, what: str, value: str, path: tuple[Any, ...]) -> Iterator[Hit]:
    families = weak_cipher_families(value)
    if families:
        yield Hit(f"{what} in {section_label(node)} allows {', '.join(families)} suites", path)


# -- haproxy-no-http-request-timeout --------------------------------------------------------------


def _http_request_timeout_gap(node: Node) -> str | None:
    if not is_http(node) or node.attrs.get("disabled") or _only_local_clients(node):
        return None
    return "" if "http-request" in node.attrs.get("timeouts", {}) else "timeout http-request"


def no_http_request_timeout(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    yield from absence(
        node,
        ctx,
        ("http-request-timeout", "haproxy/frontend-side"),
        _http_request_timeout_gap,
        lambda who, _: (
            f"{who} has no 'timeout http-request': a client that sends its headers a byte at a time"
            " holds a connection for as long as 'timeout client' allows per byte (slowloris)"
        ),
    )


# -- haproxy-no-logging ---------------------------------------------------------------------------


def _turns_logging_off(node: Node, ctx: RuleContext) -> bool:
    """`no log` in the proxy or in a defaults section it takes: logging is off by decision."""
    seen: set[str] = set()
    current: Node | None = node
    while current is not None and current.id not in seen:
        seen.add(current.id)
        if any(keyword == "no" and args[:1] == ["log"] for _, keyword, args in _directives(current)):
            return True
        current = ctx.graph.nodes.get(current.attrs.get("defaults") or "")
    return False


def _logging_gap(node: Node, ctx: RuleContext) -> str | None:
    if node.attrs.get("disabled") or not node.attrs.get("binds"):
        return None
    if keyword_rules(node, "log") or _turns_logging_off(node, ctx):
        return ""
    return "log"


def _proxies_logging_through(node: Node, ctx: RuleContext) -> list[Node]:
    """The proxies a global section serves: those of its own file, or, for a file holding only
    global settings, those of the files loaded with it (one folder, one ConfigMap)."""
    proxies = [proxy for proxy in ctx.graph.of_kind("haproxy/frontend-side") if not proxy.attrs.get("disabled")]
    own = [proxy for proxy in proxies if proxy.facts.get("config") == node.facts.get("config")]
    if own:
        return own
    group = node.facts.get("config_group")
    return [proxy for proxy in proxies if proxy.facts.get("config_group") == group]


def _uses_global_log(proxy: Node) -> bool:
    return any(rule["args"][:1] == ["global"] for rule in keyword_rules(proxy, "log"))


def no_logging(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if "haproxy/global" in node.kinds:
        yield from _global_without_log(node, ctx)
        return
    yield from absence(
        node,
        ctx,
        ("logging", "haproxy/frontend-side"),
        lambda proxy: _logging_gap(proxy, ctx),
        lambda who, _: f"{who} logs nothing: neither 'log global' nor a 'log' target of its own",
    )


def _global_without_log(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if any(keyword == "log" for _, keyword, _ in _directives(node)):
        return
    relying = [proxy for proxy in _proxies_logging_through(node, ctx) if _uses_global_log(proxy)]
    if not relying:
        return  # no proxy logs through it (those with no log at all are reported themselves)
    names = ", ".join(section_label(proxy) for proxy in relying[:3]) + (" ..." if len(relying) > 3 else "")
    message = f"global sets no 'log' target, so 'log global' in {names} logs nothing (nor do HAProxy's own alerts)"
    yield Hit(message)


# -- haproxy-insecure-password --------------------------------------------------------------------


def insecure_password(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    for index, keyword, args in _directives(node):
        if keyword != "user" or "insecure-password" not in args:
            continue
        at = args.index("insecure-password")
        yield Hit(
            f"user '{args[0]}' of {section_label(node)} has its password in clear text ('insecure-password'):"
            " anyone who reads the config can log in; store a hash with 'password'",
            _arg_path(index, at),
        )


# -- haproxy-server-ssl-verify-none ---------------------------------------------------------------


def server_ssl_verify_none(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if "haproxy/global" in node.kinds:
        for index, keyword, args in _directives(node):
            if keyword == "ssl-server-verify" and args[:1] == ["none"]:
                yield Hit(
                    "global 'ssl-server-verify none' turns off certificate checks of every TLS server:"
                    " anyone on the path can impersonate them",
                    _arg_path(index, 0),
                )
        return
    for index, keyword, args in _directives(node):
        if keyword not in ("server", "server-template", "default-server"):
            continue
        options = {name: (position, value) for position, name, value in _line_options(keyword, args)}
        if options.get("verify", (0, None))[1] != "none" or not _uses_tls(node, keyword, args, options):
            continue
        where = f"{keyword} {args[0]}" if keyword != "default-server" else "default-server"
        yield Hit(
            f"{where} in {section_label(node)} connects over TLS with 'verify none': the server's certificate"
            " is not checked, so anyone on the path can impersonate it",
            _arg_path(index, options["verify"][0] + 1),
        )


def _uses_tls(node: Node, keyword: str, args: list[str], options: dict[str, Any]) -> bool:
    """The line's servers speak TLS (its own `ssl`, or the effective default-server's), to an
    address of another host: a loopback sidecar or a socket has no one on the path."""
    if "no-ssl" in options:
        return False
    if keyword != "default-server":
        address = args[_OPTIONS_FROM[keyword] - 1] if len(args) >= _OPTIONS_FROM[keyword] else ""
        if model.is_loopback(model.parse_address(address)):
            return False
    return "ssl" in options or "ssl" in node.attrs.get("default_server", {})


# -- haproxy-stats-socket-exposed -----------------------------------------------------------------


def stats_socket_exposed(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    default_mode = _unix_bind_mode(node)
    for index, keyword, args in _directives(node):
        if keyword != "stats" or args[:1] != ["socket"] or len(args) < 2:
            continue
        options, where = model.options(args[2:], model.BIND_VALUE_OPTIONS)
        admin = options.get("level") == "admin"
        problem, path = _socket_problem(args[1], options, where, default_mode, index)
        if problem is None:
            continue
        if admin:
            problem += (
                "; with 'level admin' it can disable servers, change weights and read every secret of the runtime API"
            )
        yield Hit(f"stats socket {args[1]} {problem}", path, severity=Severity.ERROR if admin else None)


def _unix_bind_mode(node: Node) -> str | None:
    for _, keyword, args in _directives(node):
        if keyword == "unix-bind" and "mode" in args[:-1]:
            return args[args.index("mode") + 1]
    return None


def _socket_problem(
    address_text: str, options: dict[str, Any], where: dict[str, int], default_mode: str | None, index: int
) -> tuple[str | None, tuple[Any, ...]]:
    address = model.parse_address(address_text)
    if not address["local"]:
        if model.is_loopback(address) or "$" in address_text:
            return None, ()
        return "listens on a network address: every host that reaches it gets the runtime API", _arg_path(index, 1)
    mode = options.get("mode") if isinstance(options.get("mode"), str) else default_mode
    if mode is None or address["family"] not in ("unix",):
        return None, ()
    try:
        bits = int(mode, 8)
    except ValueError:
        return None, ()
    if not bits & 0o007:
        return None, ()
    path = _arg_path(index, where["mode"] + 3) if "mode" in where else _arg_path(index, 1)
    return f"has mode {mode}: every local user may connect to the runtime API (use 660 or stricter)", path


# -- haproxy-removed-directive --------------------------------------------------------------------

# Keywords HAProxy refuses, with the release that refuses them and what to write instead.
_REMOVED_GLOBAL = {
    "debug": ((2, 3), "start haproxy with -d instead"),
    "nbproc": ((2, 5), "remove it: HAProxy uses threads ('nbthread')"),
    "tune.chksize": ((2, 5), "remove it: checks use tune.bufsize"),
}
_HEADER_RULES = {
    "reqadd": "http-request add-header",
    "reqallow": "http-request allow",
    "reqiallow": "http-request allow",
    "reqdel": "http-request del-header",
    "reqidel": "http-request del-header",
    "reqdeny": "http-request deny",
    "reqideny": "http-request deny",
    "reqpass": "",
    "reqipass": "",
    "reqrep": "http-request replace-path, replace-uri or replace-header",
    "reqirep": "http-request replace-header",
    "reqtarpit": "http-request tarpit",
    "reqitarpit": "http-request tarpit",
    "rspadd": "http-response add-header",
    "rspdel": "http-response del-header",
    "rspidel": "http-response del-header",
    "rspdeny": "http-response deny",
    "rspideny": "http-response deny",
    "rsprep": "http-response replace-header",
    "rspirep": "http-response replace-header",
    "block": "http-request deny",
    "cliexp": "http-request replace-path, replace-uri or replace-header",
    "srvexp": "http-response replace-header",
}
_REMOVED_PROXY: dict[str, tuple[tuple[int, int], str]] = {
    "appsession": ((1, 6), "use 'cookie ... insert' or stick tables"),
    **{kw: ((2, 1), f"use '{instead}'" if instead else "remove it") for kw, instead in _HEADER_RULES.items()},
    "redispatch": ((2, 1), "use 'option redispatch'"),
    "redisp": ((2, 1), "use 'option redispatch'"),
    "clitimeout": ((2, 1), "use 'timeout client'"),
    "contimeout": ((2, 1), "use 'timeout connect'"),
    "srvtimeout": ((2, 1), "use 'timeout server'"),
    "monitor-net": ((2, 3), "use 'http-request return status 200 if { src ... }'"),
    "grace": ((2, 5), "remove it"),
    "bind-process": ((2, 7), "remove it: threads are bound with 'thread' on bind lines"),
    "dispatch": ((3, 5), "use a server with the same address"),
    "transparent": ((3, 5), "use a server with address 0.0.0.0"),
}
_REMOVED_OPTIONS = {
    "http-tunnel": ((2, 1), "remove it"),
    "forceclose": ((2, 5), "remove it, or use 'option httpclose'"),
    "http_proxy": ((2, 5), "use 'http-request set-dst' and 'http-request set-uri'"),
    "http-use-htx": ((2, 5), "remove it: HTX is the only HTTP engine"),
}
_REMOVED_BIND_OPTIONS = {"process": ((2, 7), "use 'thread'")}
# With no version known, the rule judges against the newest release line; keywords refused only
# by a later (development) line are reported when `haproxy_version` says so.
NEWEST_RELEASE = (3, 4)
_VERSION_TEXT = re.compile(r"^(\d+)(?:\.(\d+))?")


def _target_version(node: Node, ctx: RuleContext) -> tuple[int, int]:
    text = str(node.facts.get("haproxy_version") or ctx.options.get("haproxy_version") or "unknown")
    if text == "latest":
        return (99, 0)
    match = _VERSION_TEXT.match(text)
    if match is None:
        return NEWEST_RELEASE
    return int(match.group(1)), int(match.group(2) or 0)


def removed_directive(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    version = _target_version(node, ctx)
    for index, keyword, args in _directives(node):
        for found, path in _removed_in(node, index, keyword, args):
            since, instead = found
            if version < since:
                continue
            yield Hit(
                f"'{_quoted(keyword, args, path)}' in {section_label(node)} is refused by HAProxy"
                f" {since[0]}.{since[1]} and later (haproxy does not start): {instead}",
                path,
            )


def _removed_in(
    node: Node, index: int, keyword: str, args: list[str]
) -> Iterator[tuple[tuple[tuple[int, int], str], tuple[Any, ...]]]:
    if "haproxy/global" in node.kinds:
        if keyword in _REMOVED_GLOBAL:
            yield _REMOVED_GLOBAL[keyword], ("directives", index)
        return
    if "haproxy/proxy" not in node.kinds and "haproxy/defaults" not in node.kinds:
        return
    if keyword in _REMOVED_PROXY:
        yield _REMOVED_PROXY[keyword], ("directives", index)
    option_at = 1 if keyword == "no" and args[:1] == ["option"] else 0
    if (keyword == "option" or option_at) and len(args) > option_at:
        name = args[option_at]
        if name in _REMOVED_OPTIONS:
            yield _REMOVED_OPTIONS[name], _arg_path(index, option_at)
    if keyword == "mode" and args[:1] == ["health"]:
        yield ((2, 3), "use 'http-request return status 200'"), _arg_path(index, 0)
    if keyword == "bind":
        for position, name, _ in _line_options(keyword, args):
            if name in _REMOVED_BIND_OPTIONS:
                yield _REMOVED_BIND_OPTIONS[name], _arg_path(index, position)


def _quoted(keyword: str, args: list[str], path: tuple[Any, ...]) -> str:
    if len(path) == 2:
        return keyword
    word = args[path[3]]
    if keyword == "bind":
        return f"bind ... {word}"
    return f"{keyword} {' '.join(args[: path[3] + 1])}"


# -- haproxy-long-timeouts ------------------------------------------------------------------------

_TIMEOUT_SIDE = {
    "client": "haproxy/frontend-side",
    "http-request": "haproxy/frontend-side",
    "server": "haproxy/backend-side",
}
_TIME = re.compile(r"^(\d+)(us|ms|s|m|h|d)?$")
_UNIT_MS = {"us": 0.001, "ms": 1, None: 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def _milliseconds(text: str) -> float | None:
    match = _TIME.match(text.strip())
    if match is None:
        return None
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


def long_timeouts(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    limit_text = str(ctx.options.get("max_timeout") or "10m")
    limit = _milliseconds(limit_text)
    if limit is None:
        return
    for index, keyword, args in _directives(node):
        if keyword != "timeout" or len(args) < 2 or args[0] not in _TIMEOUT_SIDE:
            continue
        value = _milliseconds(args[1])
        if value is None or value <= limit:
            continue
        if not _reaches_a_proxy(node, ctx, partial(_keeps_timeout, defaults=node, name=args[0])):
            continue  # every proxy under this defaults section sets its own
        advice = (
            "long-lived connections (WebSocket, database, TCP streams) belong under 'timeout tunnel'"
            if args[0] != "http-request"
            else "a client has this long to send its request headers"
        )
        yield Hit(
            f"timeout {args[0]} {args[1]} in {section_label(node)} is above {limit_text}: idle or stalled connections"
            f" hold their slot that long; {advice}",
            _arg_path(index, 1),
        )


def _keeps_timeout(proxy: Node, defaults: Node, name: str) -> bool:
    """PROXY uses `timeout NAME` (client and http-request where clients connect, server where
    servers answer) and its effective value is the one DEFAULTS writes."""
    if _TIMEOUT_SIDE[name] not in proxy.kinds:
        return False
    span = proxy.spans.span(("timeouts", name)) if name in proxy.attrs.get("timeouts", {}) else None
    return span is not None and (defaults.span.line or 0) <= (span.line or 0) <= (defaults.end_line or 0)


# -- haproxy-untrusted-proxy-protocol -------------------------------------------------------------


def _restricts_sources(node: Node) -> bool:
    """A `tcp-request connection` rule conditioned on `src`: only those rules see the real
    address of a connection that carries a PROXY header."""
    src_acls = {acl["name"] for acl in node.attrs.get("acls", []) if str(acl["criterion"]).startswith("src")}
    for rule in keyword_rules(node, "tcp-request"):
        args, condition = rule["args"], rule["condition"]
        if args[:1] != ["connection"] or condition is None:
            continue
        terms = condition["terms"]
        if any(term.startswith("src") for term in terms) or src_acls & set(condition["acls"]):
            return True
    return False


def untrusted_proxy_protocol(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if node.attrs.get("disabled") or _restricts_sources(node):
        return
    for index, bind in enumerate(node.attrs.get("binds", [])):
        if "accept-proxy" not in bind["options"] or bind["loopback"] or not bind.get("direct"):
            continue
        reach, related = reachable_from_outside(node, ctx)
        yield Hit(
            f"bind {bind['address']} in {section_label(node)} takes the client address from a PROXY header any"
            " client can send: without a 'tcp-request connection reject' limited to the proxies in front"
            f" ('src'), anyone can claim any address{reach}",
            ("binds", index, "options", "accept-proxy"),
            related=related,
        )


# -- haproxy-unsafe-http-parsing ------------------------------------------------------------------

_UNSAFE_PARSING = re.compile(r"^accept-(invalid-http-|unsafe-violations-in-http-)(request|response)$")


def unsafe_http_parsing(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    for index, keyword, args in _directives(node):
        if keyword == "option" and args and _UNSAFE_PARSING.match(args[0]):
            side = "requests" if args[0].endswith("request") else "responses"
            # requests are parsed where clients connect, responses where servers answer
            reader = "haproxy/frontend-side" if side == "requests" else "haproxy/backend-side"
            if not _reaches_a_proxy(node, ctx, partial(_parses_unsafely, option=args[0], reader=reader)):
                continue  # every proxy under this defaults section that parses them turns it off
            yield Hit(
                f"option {args[0]} in {section_label(node)} lets malformed HTTP {side} through: the opening for"
                " request smuggling and header injection between HAProxy and the servers",
                _arg_path(index, 0),
            )


def _parses_unsafely(proxy: Node, option: str, reader: str) -> bool:
    return reader in proxy.kinds and option_enabled(proxy, option)


# -- haproxy-no-hsts ------------------------------------------------------------------------------

_HSTS = "strict-transport-security"
_SET_ACTIONS = ("set-header", "add-header")


def _sets_hsts(node: Node) -> bool:
    return _header_rule(node, ("http-response", "http-after-response"), _SET_ACTIONS, _HSTS)


def _hsts_gap(node: Node, ctx: RuleContext) -> str | None:
    if not is_http(node) or node.attrs.get("disabled") or node.facts.get("exposed") is False:
        return None
    if not _tls_binds(node) or not _serves(node, ctx):
        return None
    if _sets_hsts(node):
        return ""
    backends = _routed_backends(node, ctx)
    if backends and all(_sets_hsts(backend) for backend in backends):
        return ""
    return "Strict-Transport-Security"


def no_hsts(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    yield from absence(
        node,
        ctx,
        ("hsts", "haproxy/frontend-side"),
        lambda proxy: _hsts_gap(proxy, ctx),
        lambda who, _: (
            f"{who} serves TLS but sets no Strict-Transport-Security header: browsers keep trying plain"
            " http first, where a man in the middle can downgrade them"
        ),
    )


# -- haproxy-xff-spoofable ------------------------------------------------------------------------

_XFF = "x-forwarded-for"


def _strips_xff(node: Node) -> bool:
    return _header_rule(node, ("http-request",), ("del-header", "set-header"), _XFF)


def xff_spoofable(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if not is_http(node) or node.attrs.get("disabled") or not option_enabled(node, "forwardfor"):
        return
    if node.facts.get("exposed") is False or _only_local_clients(node):
        return  # behind a proxy of the scan's own (an Ingress) that sets the header, or local clients only
    if _strips_xff(node):
        return
    backends = _routed_backends(node, ctx)
    if backends and all(_strips_xff(backend) for backend in backends):
        return
    if not _serves(node, ctx):
        return
    if_none = "if-none" in node.attrs["options"]["forwardfor"]["args"]
    how = "keeps a client's own header instead of adding one" if if_none else "appends to the client's header"
    yield Hit(
        f"option forwardfor in {section_label(node)} {how}: an application that reads the first"
        " X-Forwarded-For address trusts what the client wrote; add 'http-request del-header X-Forwarded-For'"
        " (unless a trusted proxy in front sets it)",
        ("options", "forwardfor"),
    )


# -- haproxy-insecure-cookie ----------------------------------------------------------------------


def _serves_tls(node: Node) -> bool:
    return any(bind["ssl"] for bind in node.attrs.get("binds", []))


def _reached_over_tls(node: Node, ctx: RuleContext) -> bool:
    if _serves_tls(node):
        return True
    return any(
        _serves_tls(proxy) for proxy in ctx.graph.incoming(node, "routes_to") if proxy.kind.startswith("haproxy/")
    )


def insecure_cookie(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    args = node.attrs.get("settings", {}).get("cookie")
    if not args or "insert" not in args[1:] or node.attrs.get("disabled") or not is_http(node):
        return
    missing = [flag for flag in ("secure", "httponly") if flag not in args[1:]]
    if not missing or not _reached_over_tls(node, ctx):
        return
    effects = {"secure": "is sent over plain http too", "httponly": "is readable by the page's scripts"}
    yield Hit(
        f"persistence cookie '{args[0]}' of {section_label(node)} is served over TLS without"
        f" {' and '.join(missing)}: it {' and '.join(effects[flag] for flag in missing)}",
        ("settings", "cookie"),
    )


# -- haproxy-static-server-dns --------------------------------------------------------------------


def _has_resolvers(node: Node, server: dict[str, Any]) -> bool:
    return "resolvers" in server["options"] or "resolvers" in node.attrs.get("default_server", {})


def changing_target(target: Node) -> str | None:
    """Why TARGET's address changes while HAProxy runs, or None when it stays."""
    if target.kind == "compose/service":
        return f"service '{target.facts.get('name')}' gets a new container address when it is recreated"
    if target.kind != "k8s/Service":
        return None
    spec = target.attrs.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    name = target.facts.get("name")
    if spec.get("clusterIP") == "None":
        return f"Service '{name}' is headless: its name resolves to pod addresses, which change with every rollout"
    if spec.get("type") == "ExternalName":
        return f"Service '{name}' is an ExternalName: its name is another DNS name whose addresses may change"
    return None


def static_server_dns(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    servers = node.attrs.get("servers", [])
    for route in upstreams.routes_from(ctx.graph, node):
        if route.status != upstreams.RESOLVED or route.reference.at[:1] != ("servers",):
            continue
        server = servers[route.reference.at[1]]
        if _has_resolvers(node, server):
            continue
        for target in route.targets:
            why = changing_target(target)
            if why is None:
                continue
            yield Hit(
                f"server {server['name']} {server['address']} in {section_label(node)}: {why}, but without 'resolvers'"
                " HAProxy resolves the name once, at start, and keeps sending traffic to the old address",
                route.reference.path or ("servers", route.reference.at[1]),
                related=(ctx.related(target, "the name resolves to this"),),
            )
            break


CHECKS: dict[str, CheckFn] = {
    "haproxy-weak-ciphers": weak_ciphers,
    "haproxy-no-http-request-timeout": no_http_request_timeout,
    "haproxy-no-logging": no_logging,
    "haproxy-insecure-password": insecure_password,
    "haproxy-server-ssl-verify-none": server_ssl_verify_none,
    "haproxy-stats-socket-exposed": stats_socket_exposed,
    "haproxy-removed-directive": removed_directive,
    "haproxy-long-timeouts": long_timeouts,
    "haproxy-untrusted-proxy-protocol": untrusted_proxy_protocol,
    "haproxy-unsafe-http-parsing": unsafe_http_parsing,
    "haproxy-no-hsts": no_hsts,
    "haproxy-xff-spoofable": xff_spoofable,
    "haproxy-insecure-cookie": insecure_cookie,
    "haproxy-static-server-dns": static_server_dns,
}
