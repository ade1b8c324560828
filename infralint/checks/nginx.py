"""nginx rules. They read the records and effective directives the parser resolved
(infralint/parsers/nginx.py) and the proxies_to edges of infralint/graph/nginx_links.py.

Findings sit on the directive at fault (its own file and line, also inside an included file) or
on the block's first line when something is missing. A snippet included in several places is
one finding, not one per includer; a fragment already read inside a scanned config is judged
there only (its stand-alone reading carries ``included_by``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from infralint.checks.exposure import reachable_from_outside
from infralint.findings import Related
from infralint.graph.model import Graph, Node
from infralint.graph.upstreams import RESOLVED, routes_from
from infralint.parsers.nginx import PASS_DIRECTIVES, is_https_redirect, walk_records
from infralint.parsers.nginx_regex import capture_can_hold, capture_start
from infralint.parsers.nginx_values import (
    VARIABLE,
    Regex,
    Scope,
    if_regex,
    maps_in,
    sets_in,
    trace,
    with_enclosing_ifs,
)
from infralint.rules.meta import CheckFn, Hit, RuleContext
from infralint.source import Span

Record = dict[str, Any]
CHECKS: dict[str, CheckFn] = {}
_REPORTED = "nginx/reported"  # graph.indexes key: (rule, path, line, col) already reported


def rule(rule_id: str) -> Callable[[Callable[[Node, RuleContext], Iterable[Hit]]], CheckFn]:
    """Register a check; skip stand-alone readings of included fragments; one hit per place."""

    def register(function: Callable[[Node, RuleContext], Iterable[Hit]]) -> CheckFn:
        def check(node: Node, ctx: RuleContext) -> Iterator[Hit]:
            if node.facts.get("included_by"):
                return
            reported: set[tuple[str, str, int | None, int | None]] = ctx.graph.indexes.setdefault(_REPORTED, set())
            for hit in function(node, ctx):
                span = hit.span or node.spans.span(hit.path)
                key = (rule_id, span.path, span.line, span.col)
                if key not in reported:
                    reported.add(key)
                    yield hit

        check.__doc__ = function.__doc__
        CHECKS[rule_id] = check
        return check

    return register


# --- helpers -------------------------------------------------------------------------------------


def at(record: Record) -> Span:
    return Span(record["path"], record["line"], record["col"])


def own(node: Node, *names: str) -> list[Record]:
    """Records written in the node's block (and its if/limit_except blocks), by name."""
    return [r for r in walk_records(node.attrs.get("directives", [])) if not names or r["name"] in names]


def top_own(node: Node, name: str) -> list[Record]:
    """Records written directly in the node's block, not inside its if blocks."""
    return [r for r in node.attrs.get("directives", []) if r["name"] == name]


def effective(node: Node, name: str) -> list[Record]:
    records: list[Record] = node.attrs.get("effective", {}).get(name, [])
    return records


def first_arg(record: Record) -> str:
    return record["args"][0] if record["args"] else ""


def label(node: Node) -> str:
    return str(node.facts.get("label") or node.id)


def parent_of(graph: Graph, node: Node) -> Node | None:
    parent = graph.nodes.get(node.parent) if node.parent else None
    return parent if parent is not None and parent.kind.startswith("nginx/") else None


def descendants(graph: Graph, node: Node) -> Iterator[Node]:
    for child in graph.children(node):
        if child.kind.startswith("nginx/"):
            yield child
            yield from descendants(graph, child)


def enclosing_server(graph: Graph, node: Node) -> Node | None:
    current: Node | None = node
    while current is not None and current.kind != "nginx/server":
        current = parent_of(graph, current)
    return current


def header_names(records: Iterable[Record]) -> list[str]:
    return [first_arg(r).lower() for r in records if r["args"]]


def sets_header(node: Node, header: str, include_own: bool = True) -> bool:
    """The header is in the node's effective add_header list (or set by headers-more)."""
    header = header.lower()
    records = effective(node, "add_header") + (own(node, "add_header") if include_own else [])
    if header in header_names(records):
        return True
    more = effective(node, "more_set_headers") + own(node, "more_set_headers")
    return any(arg.lower().lstrip("'\"").startswith(header + ":") for r in more for arg in r["args"])


def scope_unknown(node: Node) -> bool:
    """The node comes from a snippet for a server/location we do not have: inherited values unknown."""
    return bool(node.facts.get("partial_scope"))


def is_exposed(node: Node) -> bool:
    """False only when the graph knows the server is internal (hook for the exposure linker)."""
    return node.facts.get("exposed") is not False


# --- TLS -----------------------------------------------------------------------------------------

WEAK_PROTOCOLS = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1")


@rule("nginx-weak-tls-protocols")
def weak_tls_protocols(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """ssl_protocols enabling a protocol with known breaks."""
    for record in own(node, "ssl_protocols"):
        weak = [arg for arg in record["args"] if arg in WEAK_PROTOCOLS]
        if weak:
            yield Hit(f"ssl_protocols in {label(node)} enables {', '.join(weak)}", span=at(record))


# OpenSSL cipher-string words and suite-name parts that select broken suites.
_WEAK_CIPHER_WORDS = {
    "NULL": "NULL (no encryption)",
    "ENULL": "NULL (no encryption)",
    "ANULL": "anonymous (no authentication)",
    "ADH": "anonymous (no authentication)",
    "AECDH": "anonymous (no authentication)",
    "EXP": "EXPORT",
    "EXPORT": "EXPORT",
    "LOW": "LOW (DES)",
    "RC4": "RC4",
    "DES": "DES",
    "3DES": "3DES",
    "MD5": "MD5",
}
_WEAK_CIPHER_PART = re.compile(r"(?:^|[-_])(NULL|EXPORT\d*|EXP|RC4|DES-CBC3|3DES|DES|MD5|ADH|AECDH)(?:[-_]|$)")


def weak_cipher_families(value: str) -> list[str]:
    """Families of broken suites a cipher string leaves enabled (``!X`` removes X for good)."""
    enabled: dict[str, str] = {}
    killed: set[str] = set()
    for element in re.split(r"[:, ]+", value.strip()):
        if not element:
            continue
        sign = element[0] if element[0] in "!-+" else ""
        for part in element.lstrip("!-+").split("+"):
            family = _cipher_family(part)
            if family is None:
                continue
            if sign == "!":
                killed.add(family)
                enabled.pop(family, None)
            elif sign == "-":
                enabled.pop(family, None)
            elif sign == "" and family not in killed:
                enabled[family] = part
    return sorted(set(enabled))


def _cipher_family(part: str) -> str | None:
    upper = part.upper()
    if upper in _WEAK_CIPHER_WORDS:
        return _WEAK_CIPHER_WORDS[upper]
    if upper.startswith("EXPORT"):
        return "EXPORT"
    match = _WEAK_CIPHER_PART.search(upper)
    if match is None:
        return None
    word = match.group(1)
    if word == "DES-CBC3":
        return "3DES"
    return _WEAK_CIPHER_WORDS.get(word, "EXPORT" if word.startswith("EXP") else word)


@rule("nginx-weak-ciphers")
def weak_ciphers(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """ssl_ciphers leaving broken suites enabled."""
    for record in own(node, "ssl_ciphers"):
        families = weak_cipher_families(" ".join(record["args"]))
        if families:
            yield Hit(f"ssl_ciphers in {label(node)} allows {', '.join(families)} suites", span=at(record))


def _rejects_handshakes(node: Node) -> bool:
    return any(first_arg(r).lower() == "on" for r in effective(node, "ssl_reject_handshake"))


@rule("nginx-ssl-certificate-missing")
def ssl_certificate_missing(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """A TLS listener with no certificate in scope."""
    if not node.facts.get("ssl") or effective(node, "ssl_certificate") or _rejects_handshakes(node):
        return
    ssl_listens = [e for e in node.facts.get("listen", ()) if e.get("ssl") and "line" in e]
    span = Span(ssl_listens[0]["path"], ssl_listens[0]["line"], ssl_listens[0]["col"]) if ssl_listens else None
    yield Hit(f"{label(node)} listens with TLS but no ssl_certificate is in scope", span=span)


@rule("nginx-plain-http-server")
def plain_http_server(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """A server answering plain HTTP with content instead of a redirect to https."""
    # A listener the graph knows no published port or NodePort/LoadBalancer Service leads to
    # (`direct` False) is internal or reached through an Ingress: the proxy in front holds TLS.
    outside = [
        e for e in node.facts.get("plain_http_listens", ()) if not e["loopback"] and e.get("direct") is not False
    ]
    if not outside or not is_exposed(node) or node.facts.get("redirects_to_https") or node.facts.get("refuses"):
        return
    if _every_location_redirects(ctx.graph, node) or _behind_a_proxy(ctx.graph, node):
        return
    entry = outside[0]
    span = Span(entry["path"], entry["line"], entry["col"]) if "line" in entry else None
    where = f"listen {entry['raw']}" if not entry.get("implicit") else "no listen: *:80"
    message = f"{label(node)} serves content over plain HTTP ({where}) instead of redirecting to https"
    related: tuple[Related, ...] = ()
    if entry.get("direct"):
        reach, related = reachable_from_outside(node, ctx)
        message += reach
    yield Hit(message, span=span, related=related)


_ACME = "/.well-known/acme-challenge"
_PROXY_SIGNS = ("set_real_ip_from", "real_ip_header")


def _behind_a_proxy(graph: Graph, server: Node) -> bool:
    """The server trusts a proxy in front of it: it takes the client's scheme from
    X-Forwarded-Proto or the client's address from set_real_ip_from. That proxy is where TLS ends
    and where plain HTTP is redirected; this server only ever sees its requests."""
    blocks: list[Node] = [server, *descendants(graph, server)]
    parent = parent_of(graph, server)
    while parent is not None:
        blocks.append(parent)
        parent = parent_of(graph, parent)
    for block in blocks:
        for record in walk_records(block.attrs.get("directives", [])):
            if record["name"] in _PROXY_SIGNS or any("$http_x_forwarded_proto" in arg for arg in record["args"]):
                return True
    return False


def _every_location_redirects(graph: Graph, server: Node) -> bool:
    """All paths answer with an https redirect or a refusal (ACME challenge paths aside)."""
    locations = [child for child in graph.children(server) if child.kind == "nginx/location"]
    if not any(loc.facts.get("uri", "").rstrip("/") in ("", "/") or loc.facts.get("uri") == "/" for loc in locations):
        return False
    for location in locations:
        if location.facts.get("uri", "").startswith(_ACME) or location.facts.get("modifier") == "@":
            continue
        returns = own(location, "return", "rewrite")
        if not any(is_https_redirect(r) for r in returns) and not any(
            r["name"] == "return" and first_arg(r) in ("403", "404", "444") for r in returns
        ):
            return False
    return True


@rule("nginx-missing-hsts")
def missing_hsts(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """A TLS server that never sends Strict-Transport-Security."""
    if not node.facts.get("ssl") or _rejects_handshakes(node) or node.facts.get("refuses"):
        return
    if sets_header(node, "strict-transport-security") or any(
        sets_header(child, "strict-transport-security") for child in descendants(ctx.graph, node)
    ):
        yield from _weak_hsts(node, ctx)
        return
    yield Hit(f"{label(node)} serves TLS without a Strict-Transport-Security header")


_MAX_AGE = re.compile(r"(?:^|;)\s*max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


def _hsts_values(node: Node) -> Iterator[tuple[Record, str]]:
    """(record, header value) of each Strict-Transport-Security the node sends or inherits."""
    for record in effective(node, "add_header") + own(node, "add_header"):
        if first_arg(record).lower() == "strict-transport-security" and len(record["args"]) > 1:
            yield record, record["args"][1]
    for record in effective(node, "more_set_headers") + own(node, "more_set_headers"):
        for arg in record["args"]:
            name, _, value = arg.strip("'\"").partition(":")
            if name.strip().lower() == "strict-transport-security":
                yield record, value


def _weak_hsts(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """A literal max-age below the floor: browsers forget the https pin too soon (0 removes it)."""
    floor = int(ctx.options.get("min_max_age", 15768000))
    for scope in (node, *descendants(ctx.graph, node)):
        for record, value in _hsts_values(scope):
            if VARIABLE.search(value):
                continue  # built at run time: the value is not ours to judge
            match = _MAX_AGE.search(value)
            seconds = int(match.group(1)) if match else None
            if seconds is None or seconds < floor:
                shown = f"max-age={seconds}" if seconds is not None else "no max-age"
                yield Hit(
                    f"Strict-Transport-Security with {shown}: under {floor} seconds the https pin expires too soon",
                    span=at(record),
                )


@rule("nginx-server-tokens")
def server_tokens(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """Version disclosure: server_tokens not off."""
    for record in own(node, "server_tokens"):
        if first_arg(record).lower() != "off" and not record.get("placeholder"):
            yield Hit(
                f"server_tokens {first_arg(record)} in {label(node)} discloses the nginx version", span=at(record)
            )
    if node.kind == "nginx/http" and not top_own(node, "server_tokens"):
        servers = [c for c in ctx.graph.children(node) if c.kind == "nginx/server"]
        if not servers or any(not effective(s, "server_tokens") for s in servers):
            yield Hit("server_tokens is not set in http (the default, on, discloses the nginx version)")
    elif node.kind == "nginx/server" and not effective(node, "server_tokens"):
        parent = parent_of(ctx.graph, node)
        if parent is None or parent.kind != "nginx/http":  # a server of a conf.d fragment
            yield Hit(f"server_tokens is not set for {label(node)} (the default, on, discloses the nginx version)")


# --- headers -------------------------------------------------------------------------------------


@rule("nginx-add-header-redefinition")
def add_header_redefinition(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """add_header (or add_trailer) in a nested block drops every one of the levels above, unless
    add_header_inherit (add_trailer_inherit) says merge or off (nginx 1.29.3+)."""
    # A snippet written for a location or server block has levels of its own: its `if` blocks.
    snippet = node.kind == "nginx/config" and node.facts.get("context") in _BLOCK_SNIPPETS
    if node.kind not in ("nginx/server", "nginx/location") and not snippet:
        return
    parent = None if snippet else parent_of(ctx.graph, node)
    for directive in ("add_header", "add_trailer"):
        inherited = _sent(ctx.graph, parent, directive) if parent is not None else []
        mine = top_own(node, directive)
        if inherited and mine and _inherit_mode(node.attrs.get("directives", []), node, directive) == "on":
            hit = _dropped_headers(inherited, mine, label(node), directive)
            if hit:
                yield hit
        # An `if` block is a nested level of its own, with the node's headers as the ones above it.
        for record in node.attrs.get("directives", []):
            if record["name"] == "if" and "block" in record:
                inside = [r for r in record["block"] if r["name"] == directive]
                above = _sent(ctx.graph, node, directive)
                if inside and above and _inherit_mode(record["block"], node, directive) == "on":
                    hit = _dropped_headers(above, inside, f"the if block of {label(node)}", directive)
                    if hit:
                        yield hit


_BLOCK_SNIPPETS = frozenset({"http/server", "http/location"})


def _inherit_mode(block: list[Record], node: Node, directive: str) -> str:
    """on (the default: replace), merge or off, from the block's own *_inherit or the one the
    node inherits (the mode itself inherits the usual way)."""
    name = f"{directive}_inherit"
    records = [r for r in block if r["name"] == name] or effective(node, name)
    return first_arg(records[-1]).lower() if records else "on"


def _sent(graph: Graph, node: Node, directive: str) -> list[Record]:
    """The add_header (add_trailer) records that apply at the node's level, following
    add_header_inherit: merge appends the parent's list to the node's own, off drops it."""
    mine = top_own(node, directive)
    mode = _inherit_mode(node.attrs.get("directives", []), node, directive)
    parent = parent_of(graph, node)
    if mode == "off" or parent is None or (mine and mode != "merge"):
        return mine
    return _sent(graph, parent, directive) + mine


def _dropped_headers(inherited: list[Record], mine: list[Record], where: str, directive: str) -> Hit | None:
    kept = set(header_names(mine))
    dropped = [name for name in dict.fromkeys(header_names(inherited)) if name not in kept]
    if not dropped:
        return None
    shown = ", ".join(first_arg(r) for r in inherited if first_arg(r).lower() in dropped)
    what = "headers" if directive == "add_header" else "trailers"
    return Hit(f"{directive} in {where} drops the inherited {what} {shown}", span=at(mine[0]))


# server_name values that match no request or every one: a server named only by these answers
# whatever Host it is the default server for (`_` is the usual "no name").
_CATCH_ALL_NAMES = frozenset({"", "_", "*", "~.*", "~^.*", "~^.*$", "~.+", "~^.+$", "~^(.*)$", "~^(.+)$"})


def accepts_any_host(server: Node) -> bool:
    """The server has no specific server_name: any Host reaches it, and `$host` is then as
    client-controlled as `$http_host`."""
    return all(name in _CATCH_ALL_NAMES for name in server.facts.get("server_names", ()))


def _host_is_open_anyway(graph: Graph, node: Node) -> bool:
    """Every server the directive applies to accepts any Host (False when no server is known)."""
    if node.kind in ("nginx/server", "nginx/location"):
        server = enclosing_server(graph, node)
        return server is not None and accepts_any_host(server)
    servers = [child for child in descendants(graph, node) if child.kind == "nginx/server"]
    return bool(servers) and all(accepts_any_host(server) for server in servers)


@rule("nginx-host-header-spoofing")
def host_header_spoofing(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """proxy_set_header Host from a value the client chooses, in a server with specific names."""
    for record, ifs in with_enclosing_ifs(node.attrs.get("directives", [])):
        args = record["args"]
        if record["name"] != "proxy_set_header" or len(args) < 2 or args[0].lower() != "host":
            continue
        chain = trace(args[1], _scope(ctx.graph, node, ifs), client_controlled, None)
        if chain is None or _host_is_open_anyway(ctx.graph, node):
            continue  # in a catch-all server $host carries the same client value: the fix is a server_name list
        yield Hit(
            f"proxy_set_header Host {args[1]} in {label(node)} forwards a client-controlled Host header"
            + _through(chain),
            span=at(record),
        )


# nginx variables whose value the client writes as it likes: its headers, cookies, query and
# path. `$host` is not one: it is the server name unless the request names one it accepts.
_CLIENT_PREFIXES = ("http_", "arg_", "cookie_")
_CLIENT_VARIABLES = frozenset({"args", "query_string", "request_uri", "uri", "document_uri", "request", "request_body"})
# Variables nginx fills from the URL-decoded path: `%0d%0a` in the request is a real CR LF here.
_DECODED_VARIABLES = frozenset({"uri", "document_uri"})


def client_controlled(name: str) -> bool:
    return name.startswith(_CLIENT_PREFIXES) or name in _CLIENT_VARIABLES


def _through(chain: list[str]) -> str:
    """` (through $a from $b)` for a value that reaches the directive through other variables."""
    if len(chain) < 2:
        return ""
    middle = chain[1:-1]
    via = f"through {', '.join(middle)} " if middle else ""
    return f" ({via}from {chain[-1]})"


def _scope(graph: Graph, node: Node, ifs: tuple[Record, ...]) -> Scope:
    """What the variables of a directive written in NODE (inside IFS) can refer to: the regexes
    that may have matched last, the `set`s of its block and those around it, the config's maps."""
    regexes = [regex for regex in map(if_regex, ifs) if regex is not None]
    sets: dict[str, list[str]] = {}
    current: Node | None = node
    while current is not None:
        if current.facts.get("regex"):
            regexes.append(Regex(str(current.facts.get("uri"))))
        for name, values in sets_in(current.attrs.get("directives", [])).items():
            sets.setdefault(name, []).extend(values)
        current = parent_of(graph, current)
    return Scope(regexes, sets, _config_maps(graph, node))


_MAPS = "nginx/maps"  # graph.indexes key: config id -> {variable: map record}


def _config_maps(graph: Graph, node: Node) -> dict[str, Record]:
    """The maps of the config NODE belongs to (maps are global to its http block)."""
    index: dict[str, dict[str, Record]] | None = graph.indexes.get(_MAPS)
    if index is None:  # every config's maps in one pass over the nginx nodes
        index = graph.indexes[_MAPS] = {}
        for other in graph.nodes.values():
            if other.kind not in ("nginx/http", "nginx/config"):
                continue
            found = index.setdefault(str(other.facts.get("config", "")), {})
            found.update(maps_in(other.attrs.get("directives", [])))
    return index.get(str(node.facts.get("config", "")), {})


# Directives whose value is written into a response header, which a client may split on a CR as
# well as on a LF; the others (proxy_pass, proxy_set_header) go into the request sent upstream,
# which servers split on LF.
_RESPONSE_SIDE = frozenset({"add_header", "return", "rewrite"})
_REDIRECT_CODES = frozenset({"301", "302", "303", "307", "308"})


@rule("nginx-http-splitting")
def http_splitting(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """Decoded URI parts (may hold CR/LF) in a header, redirect or upstream request, also through
    set, map and the captures of location, if and map regexes."""
    for record, ifs in with_enclosing_ifs(node.attrs.get("directives", [])):
        value = _split_target(record)
        if value is None or "$" not in value:
            continue
        scope = _scope(ctx.graph, node, ifs)
        if record["name"] == "rewrite":  # its numbered captures are escaped again; named ones are not
            scope = Scope([Regex(record["args"][0]), *scope.regexes], scope.sets, scope.maps, escaped_captures=True)
        breaks = ("\n", "\r") if record["name"] in _RESPONSE_SIDE else ("\n",)
        for char in breaks:
            chain = trace(value, scope, _DECODED_VARIABLES.__contains__, _capture_holding(char, scope))
            if chain is not None:
                what = "a line break" if char == "\n" else "a carriage return"
                yield Hit(
                    f"{record['name']} in {label(node)} uses {chain[0]}{_through(chain)}, which is URL-decoded"
                    f" and can carry {what}",
                    span=at(record),
                )
                break


def _split_target(record: Record) -> str | None:
    """The value of a directive that becomes a header line or the upstream request line."""
    args, name = record["args"], record["name"]
    if name in ("add_header", "proxy_set_header"):
        return args[1] if len(args) >= 2 else None
    if name == "proxy_pass":
        return args[0] if args else None
    if name == "rewrite":  # only a redirect's replacement leaves nginx, as the Location header
        redirect = any(flag in ("redirect", "permanent") for flag in args[2:])
        if len(args) >= 2 and (redirect or args[1].startswith(("http://", "https://", "$scheme"))):
            return args[1]
        return None
    if name != "return":
        return None
    if len(args) == 2 and args[0] in _REDIRECT_CODES:
        return args[1]
    if len(args) == 1 and not args[0].isdecimal():
        return args[0]
    return None


def _capture_holding(char: str, scope: Scope) -> Callable[[Regex, str], bool]:
    """Whether a capture can hold CHAR: its group allows it, and the text the regex matched can
    hold it (the decoded path; for an if or map regex, the variable it tests)."""

    def holds(regex: Regex, group: str) -> bool:
        if not capture_can_hold(regex.pattern, group, char):
            return False
        if regex.subject is None:
            return True
        subject_scope = Scope([], scope.sets, scope.maps)
        return trace(regex.subject, subject_scope, _DECODED_VARIABLES.__contains__, holds) is not None

    return holds


# --- locations and content -----------------------------------------------------------------------


@rule("nginx-alias-traversal")
def alias_traversal(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """A prefix location without a trailing slash whose alias ends with one; a regex location
    whose alias puts a capture that may start with `..` right after a folder of the alias."""
    if node.kind != "nginx/location":
        return
    if node.facts.get("regex"):
        yield from _regex_alias_traversal(node)
        return
    if node.facts.get("modifier") not in ("", "^~"):
        return
    uri = str(node.facts.get("uri", ""))
    if not uri or uri.endswith("/"):
        return
    for record in own(node, "alias"):
        if first_arg(record).endswith("/"):
            yield Hit(
                f"location {uri} has alias {first_arg(record)}: {uri}../ reaches the folder above the alias",
                span=at(record),
            )


def _regex_alias_traversal(node: Node) -> Iterator[Hit]:
    """nginx resolves `/../` in the path before matching, so a capture can climb out of the alias
    only when the location lets it start with `..` glued to the text before it (`/img(.*)`)
    while the alias puts it right after a folder (`alias /srv/img/$1`); an alias that starts
    with a capture that may hold a `/` or start with `.` lets the request name any path."""
    pattern = str(node.facts.get("uri", ""))
    where = str(node.facts.get("match", pattern))
    for record in own(node, "alias"):
        alias = first_arg(record)
        for found in VARIABLE.finditer(alias):
            group = found.group(1) or found.group(2) or found.group(3)
            start = capture_start(pattern, group)
            if start is None:
                continue
            before = alias[: found.start()]
            if not before and (start.dot_first or capture_can_hold(pattern, group, "/")):
                yield Hit(f"location {where} has alias {alias}: the request chooses the path it reads", span=at(record))
                break
            if before.endswith("/") and start.dot_first and not (start.after_slash or start.slash_first):
                yield Hit(
                    f"location {where} has alias {alias}: {found.group(0)} may start with `..`, which reaches"
                    f" the folder above {before}",
                    span=at(record),
                )
                break


@rule("nginx-autoindex")
def autoindex(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """Directory listings switched on."""
    for record in own(node, "autoindex"):
        if first_arg(record).lower() == "on":
            yield Hit(f"autoindex on in {label(node)} lists directory contents", span=at(record))


def _restricted(node: Node) -> bool:
    if effective(node, "deny") or own(node, "internal"):
        return True
    if any(first_arg(r).lower() != "off" for r in effective(node, "auth_basic") + own(node, "auth_basic")):
        return True
    return any(first_arg(r).lower() != "off" for r in effective(node, "auth_request") + own(node, "auth_request"))


@rule("nginx-status-page-public")
def status_page_public(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """stub_status open to anyone who can reach the server."""
    if node.kind != "nginx/location" or scope_unknown(node):
        return
    server = enclosing_server(ctx.graph, node)
    if server is not None and (server.facts.get("loopback_only") or not is_exposed(server)):
        return
    for record in own(node, "stub_status"):
        if first_arg(record).lower() != "off" and not _restricted(node):
            yield Hit(f"stub_status in {label(node)} has no allow/deny or auth", span=at(record))


_STATIC_EXTENSIONS = re.compile(
    r"(?<![A-Za-z])(?:css|js|mjs|png|jpe?g|gif|svgz?|ico|webp|avif|woff2?|ttf|otf|eot|mp4|webm)(?![A-Za-z])", re.I
)
_STATIC_FOLDERS = frozenset({"static", "assets", "images", "img", "css", "js", "fonts", "media", "dist", "build"})


def serves_static_assets(node: Node) -> bool:
    if own(node, *PASS_DIRECTIVES) or own(node, "return") or own(node, "internal"):
        return False
    if any(first_arg(r) == "all" for r in own(node, "deny")):
        return False
    uri = str(node.facts.get("uri", ""))
    if node.facts.get("regex"):
        return "\\." in uri and _STATIC_EXTENSIONS.search(uri) is not None
    if node.facts.get("modifier") in ("", "^~"):
        first = uri.strip("/").split("/", 1)[0].lower()
        return first in _STATIC_FOLDERS
    return False


def _sets_cache_lifetime(node: Node) -> bool:
    if effective(node, "expires") or own(node, "expires"):
        return True  # `expires off` written out is a decision too (assets that must be revalidated)
    return sets_header(node, "cache-control")


@rule("nginx-static-no-expires")
def static_no_expires(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """Static assets served without a cache lifetime."""
    if node.kind != "nginx/location" or scope_unknown(node):
        return
    if not serves_static_assets(node) or _sets_cache_lifetime(node):
        return
    yield Hit(f"{label(node)} serves static assets without expires or a Cache-Control header")


# --- proxies and upstreams -----------------------------------------------------------------------


@rule("nginx-upstream-single-server")
def upstream_single_server(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """An upstream that is one server with no backup."""
    if node.kind != "nginx/upstream":
        return
    servers = node.facts.get("servers", [])
    active = [s for s in servers if not s["down"] and not s["backup"]]
    if len(active) != 1 or any(s["backup"] for s in servers):
        return
    only = active[0]
    if (
        only["unix"]
        or only["resolve"]
        or only["is_variable"]
        or only["host"] in ("localhost", "::1")
        or (str(only["host"]).startswith("127."))
    ):
        return  # a local socket/process, or membership managed by DNS
    if _names_a_service(ctx.graph, node, only):
        return  # redundancy lives behind the name (replicas, endpoints), not in this block
    yield Hit(f"{label(node)} has a single server ({only['raw']}) and no backup")


def _names_a_service(graph: Graph, upstream: Node, server: dict[str, Any]) -> bool:
    """The server's name resolves, through the graph, to a compose service or a Kubernetes
    Service (graph/upstreams.py), which load-balances over its own replicas."""
    return any(
        route.status == RESOLVED and route.targets
        for route in routes_from(graph, upstream)
        if (route.reference.span.path, route.reference.span.line) == (server["path"], server["line"])
    )


@rule("nginx-upstream-no-keepalive")
def upstream_no_keepalive(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """An HTTP upstream that opens a new connection per request."""
    if node.kind != "nginx/upstream" or node.facts.get("protocol") != "http" or node.facts.get("keepalive"):
        return
    if not node.facts.get("servers"):
        return
    users = list(ctx.graph.incoming(node, "proxies_to"))
    if users and all(_upgrades_connection(user) for user in users):
        return  # WebSocket only: each connection is upgraded and held, never reused for requests
    yield Hit(f"{label(node)} has no keepalive: every request opens a new upstream connection")


def _upgrades_connection(location: Node) -> bool:
    """Whether the location passes the client's Upgrade header on (a WebSocket proxy)."""
    return any(
        len(record["args"]) >= 2 and record["args"][0].lower() == "upgrade"
        for record in effective(location, "proxy_set_header")
    )


def _fails_fast(upstream: Node, graph: Graph) -> bool:
    """Whether a server of the upstream sets max_fails or fail_timeout (once per upstream: many
    locations may pass to one upstream of many servers)."""
    known = graph.indexes.setdefault("nginx/upstreams_failing_fast", {})
    if upstream.id not in known:
        servers = upstream.facts.get("servers", ())
        known[upstream.id] = any(s["max_fails"] is not None or s["fail_timeout"] is not None for s in servers)
    return bool(known[upstream.id])


@rule("nginx-proxy-no-timeouts")
def proxy_no_timeouts(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """proxy_pass with default timeouts and no passive health checks."""
    if node.kind != "nginx/location" or scope_unknown(node):
        return
    if effective(node, "proxy_connect_timeout") or effective(node, "proxy_read_timeout"):
        return
    upstreams = {str(u.facts.get("name")): u for u in ctx.graph.outgoing(node, "proxies_to")}
    for target in node.facts.get("proxy_targets", ()):
        if target["directive"] != "proxy_pass":
            continue
        upstream = upstreams.get(target["host"])
        if upstream is not None and _fails_fast(upstream, ctx.graph):
            continue
        yield Hit(
            f"proxy_pass {target['raw']} in {label(node)} has no proxy_connect_timeout/proxy_read_timeout "
            "in scope and no max_fails/fail_timeout on its servers",
            span=Span(target["path"], target["line"], target["col"]),
        )


@rule("nginx-proxy-cache-no-valid")
def proxy_cache_no_valid(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """proxy_cache on with TTLs left to the upstream's headers."""
    if node.kind != "nginx/location" or not own(node, "proxy_pass") or scope_unknown(node):
        return
    caches = [r for r in effective(node, "proxy_cache") if first_arg(r) != "off"]
    if not caches or effective(node, "proxy_cache_valid") or effective(node, "proxy_cache_key"):
        return
    record = caches[0]
    yield Hit(
        f"proxy_cache {first_arg(record)} (used by {label(node)}) has no proxy_cache_valid and no proxy_cache_key",
        span=at(record),
    )


@rule("nginx-missing-access-log")
def missing_access_log(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """access_log off on a server that proxies traffic."""
    if node.kind != "nginx/server":
        return
    logs = effective(node, "access_log")
    if not logs or any(first_arg(r) != "off" for r in logs):
        return
    proxies = node.facts.get("proxy_targets") or any(
        child.facts.get("proxy_targets") for child in descendants(ctx.graph, node)
    )
    if proxies:
        yield Hit(f"access_log off in {label(node)}, which proxies traffic: no request log", span=at(logs[0]))
