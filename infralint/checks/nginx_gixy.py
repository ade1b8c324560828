"""nginx checks gixy ships, judged with the graph's context: SSRF, access control, root exposure, if in location, regexes, resolvers, headers."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from infralint.checks import nginx as base
from infralint.checks.haproxy_hardening import changing_target as changing_address
from infralint.checks.nginx import (
    Record,
    _scope,
    accepts_any_host,
    at,
    client_controlled,
    effective,
    enclosing_server,
    first_arg,
    label,
    own,
    parent_of,
)
from infralint.graph.model import Graph, Node
from infralint.graph.upstreams import RESOLVED, routes_from
from infralint.parsers.nginx import PASS_DIRECTIVES, split_host_port
from infralint.parsers.nginx_regex import can_match as regex_can_match
from infralint.parsers.nginx_regex import group_number, sre
from infralint.parsers.nginx_regex import may_be_empty as regex_may_be_empty
from infralint.parsers.nginx_regex import parse as parse_regex
from infralint.parsers.nginx_values import VARIABLE, Scope, if_regex, trace, with_enclosing_ifs
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


# --- access control ------------------------------------------------------------------------------


def _access_blocks(node: Node) -> Iterator[list[Record]]:
    """The directive lists that hold an access list of their own: the node's block and its
    limit_except blocks (an `if` cannot hold allow/deny)."""
    records: list[Record] = node.attrs.get("directives", [])
    yield records
    for record in records:
        if record["name"] == "limit_except" and "block" in record:
            yield record["block"]


def _denies_all(record: Record) -> bool:
    return record["name"] == "deny" and first_arg(record) in ("all", "0.0.0.0/0") and len(record["args"]) == 1


@rule("nginx-allow-without-deny")
def allow_without_deny(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """`allow` rules that no `deny all` closes: nginx lets every other address in anyway."""
    for records in _access_blocks(node):
        allows = [r for r in records if r["name"] == "allow" and first_arg(r) != "all"]
        if not allows or any(_denies_all(r) for r in records):
            continue
        # nginx does not merge access lists: a block with allow/deny of its own drops the
        # parent's, so a `deny all` above does not apply here.
        above = _inherited_deny_all(ctx, node) if records is node.attrs.get("directives") else False
        reason = " (the deny all above is replaced by this block's own list)" if above else ""
        yield Hit(
            f"allow {first_arg(allows[0])} in {label(node)} has no deny all after it: every other address is"
            f" allowed too{reason}",
            span=at(allows[0]),
        )


def _inherited_deny_all(ctx: RuleContext, node: Node) -> bool:
    parent = parent_of(ctx.graph, node)
    return parent is not None and any(_denies_all(r) for r in parent.attrs.get("effective", {}).get("deny", []))


# --- roots ---------------------------------------------------------------------------------------


@rule("nginx-root-exposure")
def root_exposure(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """root or alias at / or at a system folder: the files of the whole machine are served."""
    folders = {str(f).rstrip("/") for f in ctx.options.get("system_folders", ())}
    for record in own(node, "root", "alias"):
        path = first_arg(record)
        if "$" in path or not path.startswith("/"):
            continue
        folder = "/" + path.strip("/") if path.strip("/") else "/"
        if folder == "/" or folder in folders:
            yield Hit(f"{record['name']} {path} in {label(node)} serves the system folder {folder}", span=at(record))


# --- if in location ------------------------------------------------------------------------------

_ENDING_FLAGS = frozenset({"last", "break", "redirect", "permanent"})


def _safe_in_if(record: Record) -> bool:
    """Directives that act at once and leave the location's configuration alone."""
    name = record["name"]
    if name in ("return", "set", "break"):
        return True
    if name == "rewrite":
        return len(record["args"]) >= 3 and record["args"][-1] in _ENDING_FLAGS
    return name == "if"  # judged by what it holds


def _unsafe_in_ifs(records: list[Record]) -> Iterator[Record]:
    for record in records:
        if record["name"] != "if" or "block" not in record:
            continue
        for inner in record["block"]:
            if not _safe_in_if(inner):
                yield inner
        yield from _unsafe_in_ifs(record["block"])


@rule("nginx-if-in-location")
def if_in_location(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """`if` in a location doing more than return, rewrite ... last/break or set."""
    if node.kind != "nginx/location":
        return
    for record in _unsafe_in_ifs(node.attrs.get("directives", [])):
        what = "rewrite without last or break" if record["name"] == "rewrite" else record["name"]
        yield Hit(
            f"{what} inside if in {label(node)}: an if in a location makes a new configuration of its own"
            " (only return, rewrite ... last/break and set are safe there)",
            span=at(record),
        )


# --- default server ------------------------------------------------------------------------------


def _listen_key(entry: Record) -> tuple[str, object] | None:
    if entry.get("placeholder") or entry.get("port") is None:
        return None
    address = str(entry["address"]).lower()
    if address in ("*", "0.0.0.0"):
        address = "*"
    return address, entry["port"]


@rule("nginx-no-default-server")
def no_default_server(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """Several servers on one address and port, none marked default_server: the first one read
    answers every unknown Host, whichever file happens to come first."""
    if node.kind != "nginx/http":
        return
    servers = [c for c in ctx.graph.children(node) if c.kind == "nginx/server"]
    by_address: dict[tuple[str, object], list[tuple[Node, Record]]] = {}
    for server in servers:
        for entry in server.facts.get("listen", ()):
            key = _listen_key(entry)
            if key is not None:
                by_address.setdefault(key, []).append((server, entry))
    for (address, port), found in by_address.items():
        if len({id(s) for s, _ in found}) < 2 or any(e.get("default_server") for _, e in found):
            continue
        first, entry = found[0]
        span = at(entry) if "line" in entry else first.span
        yield Hit(
            f"{len(found)} servers listen on {address}:{port} and none is default_server: {label(first)},"
            " the first read, answers requests for unknown hosts",
            span=span,
        )


# --- captures ------------------------------------------------------------------------------------

_REWRITE_MODULE = frozenset({"rewrite", "return", "set", "break", "if"})


def _script_directive(name: str) -> bool:
    """Directives whose arguments are code of another language, where `$1` is not nginx's."""
    return "_by_lua" in name or name.startswith(("js_", "perl"))


def _captures_used(record: Record, args: list[str]) -> list[str]:
    found = []
    for arg in args:
        for match in VARIABLE.finditer(arg):
            number = match.group(2) or match.group(1)
            if number and number.isdecimal():
                found.append(number)
    return found


def _missing_capture(pattern: str, used: list[str]) -> str | None:
    """The first `$N` beyond PATTERN's groups (None when all exist or the pattern is unknown)."""
    parsed = parse_regex(pattern)
    if parsed is None:
        return None
    return next((n for n in used if int(n) > parsed.groups), None)


def _capture_hit(node: Node, record: Record, pattern: str, args: list[str]) -> Hit | None:
    missing = _missing_capture(pattern, _captures_used(record, args))
    if missing is None:
        return None
    groups = parse_regex(pattern).groups  # type: ignore[union-attr]
    return Hit(
        f"{record['name']} in {label(node)} uses ${missing} but the regex {pattern} has"
        f" {groups} capture group{'s' if groups != 1 else ''}: ${missing} is always empty",
        span=at(record),
    )


def _invalid_captures(node: Node, records: list[Record], pattern: str | None, content: str | None) -> Iterator[Hit]:
    """PATTERN: the regex that matched last for rewrite-module directives, as they run in order;
    CONTENT: the one the block's other directives (run later, at content phase) see."""
    for record in records:
        name, args = record["name"], record["args"]
        if name == "rewrite" and len(args) >= 2:
            hit = _capture_hit(node, record, args[0], args[1:2])
            pattern = None  # matched or not: which regex set the captures is unknown from here
        elif name == "if" and "block" in record:
            regex = if_regex(record)
            inner = regex.pattern if regex is not None else pattern
            has_rewrite = any(r["name"] == "rewrite" for r in record["block"])
            yield from _invalid_captures(node, record["block"], inner, None if has_rewrite else inner)
            if regex is not None:
                pattern = None
            continue
        elif name in _REWRITE_MODULE:
            hit = _capture_hit(node, record, pattern, args) if pattern else None
        elif "block" in record or _script_directive(name):
            continue
        else:
            hit = _capture_hit(node, record, content, args) if content else None
        if hit is not None:
            yield hit


@rule("nginx-invalid-capture")
def invalid_capture(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """`$N` beyond the groups of the regex that set the captures: the value is empty."""
    records: list[Record] = node.attrs.get("directives", [])
    pattern = str(node.facts.get("uri")) if node.kind == "nginx/location" and node.facts.get("regex") else None
    other_regex = any(r["name"] == "rewrite" or if_regex(r) is not None for r in own(node))
    yield from _invalid_captures(node, records, pattern, None if other_regex else pattern)


# --- proxy_pass URI, return before access --------------------------------------------------------


def _proxy_uri(url: str) -> str | None:
    """The URI part of a proxy_pass URL without variables (None when it has none)."""
    _, sep, rest = url.partition("://")
    if not sep or "$" in url or rest.startswith("unix:"):
        return None
    slash = rest.find("/")
    return rest[slash:] if slash >= 0 else None


@rule("nginx-proxy-pass-normalized")
def proxy_pass_normalized(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """proxy_pass with a URI part: nginx sends the normalised, decoded path, not the client's."""
    if node.kind != "nginx/location":
        return
    for record in own(node, "proxy_pass"):
        uri = _proxy_uri(first_arg(record))
        if uri is not None:
            yield Hit(
                f"proxy_pass {first_arg(record)} in {label(node)} has a URI part ({uri}): nginx decodes and"
                " normalises the path (%2F, ../) before sending it upstream",
                span=at(record),
            )


def _protection(node: Node) -> str | None:
    """What guards the block in the access phase: allow/deny, auth_basic or auth_request."""
    if effective(node, "deny"):
        return "allow/deny"
    for name in ("auth_basic", "auth_request"):
        if any(first_arg(r).lower() != "off" for r in effective(node, name)):
            return name
    return None


def _answers_content(record: Record) -> bool:
    """A return that sends a page or a redirect; one that answers with an error leaks nothing."""
    code = first_arg(record)
    if not code.isdecimal():
        return True  # `return URL` is a 302
    return int(code) < 400


@rule("nginx-return-bypasses-access")
def return_bypasses_access(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """`return` runs in the rewrite phase, before allow/deny and auth are checked."""
    if node.kind not in ("nginx/server", "nginx/location"):
        return
    protection = _protection(node)
    if protection is None:
        return
    for record in own(node, "return"):
        if _answers_content(record):
            yield Hit(
                f"return {' '.join(record['args'])} in {label(node)} answers before {protection} is checked:"
                " the response reaches every client",
                span=at(record),
            )


# --- origin and referer regexes ------------------------------------------------------------------

_ORIGIN_VARIABLES = frozenset({"$http_origin", "$http_referer"})
_QUANTIFIERS = frozenset("*+?{")


def _syntax(pattern: str) -> Iterator[tuple[int, str, bool]]:
    """(index, char, escaped) of each character of PATTERN outside a character class: an
    escaped one is the character after a backslash."""
    escaped = in_class = False
    for index, char in enumerate(pattern):
        if escaped:
            escaped = False
            if not in_class:
                yield index, char, True
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        else:
            yield index, char, False


def _literal_dot(pattern: str) -> bool:
    """A `.` outside a class and unescaped that is meant as the domain separator (not `.*`)."""
    return any(
        char == "." and not escaped and pattern[index + 1 : index + 2] not in _QUANTIFIERS
        for index, char, escaped in _syntax(pattern)
    )


def _end_anchored(pattern: str) -> bool:
    """Ends with `$`, or with the `/` that closes the host (a referer's path may follow)."""
    text = pattern.rstrip()
    return (text.endswith("$") and not text.endswith("\\$")) or text.endswith(("\\z", "/"))


def _alternatives(pattern: str) -> list[str]:
    """The top-level branches of PATTERN (`a|b`), not those inside groups or classes."""
    branches, start, depth = [], 0, 0
    for index, char, escaped in _syntax(pattern):
        if escaped:
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif char == "|" and depth == 0:
            branches.append(pattern[start:index])
            start = index + 1
    branches.append(pattern[start:])
    return branches


_SCHEME_END = re.compile(r":(?:\\)?/(?:\\)?/")


def _host_wildcard(branch: str) -> bool:
    """A `.*` or `.+` in the host part (before the `/` that ends it): it also matches `/`, so
    any site whose path or query ends with the trusted name is accepted."""
    scheme = _SCHEME_END.search(branch)
    host = branch[scheme.end() :] if scheme else branch.lstrip("^")
    for index, char, escaped in _syntax(host):
        if char == "/":
            return False  # `/` or `\/` ends the host
        if not escaped and char == "." and host[index + 1 : index + 2] in ("*", "+"):
            return True
    return False


_SCHEME_START = re.compile(r"\(?(?:https?|\(?https?\)?|https\??)\)?:")


def _start_unanchored(branch: str, variable: str) -> bool:
    """No `^`: a referer holds the whole URL, so the trusted name can follow the attacker's own;
    an Origin is only scheme://host[:port], so a branch that starts with the scheme is safe."""
    if branch.startswith(("^", "\\A")):
        return False
    return variable == "$http_referer" or not _SCHEME_START.match(branch)


def _origin_regex_flaws(pattern: str, variable: str) -> list[str]:
    flaws = []
    branches = _alternatives(pattern)
    if _literal_dot(pattern):
        flaws.append("an unescaped dot (matches any character)")
    if any(_start_unanchored(branch, variable) for branch in branches):
        flaws.append("no start anchor (^)" if len(branches) == 1 else "a branch without a start anchor (^)")
    if any(not _end_anchored(branch) for branch in branches):
        flaws.append("no end anchor ($)" if len(branches) == 1 else "a branch without an end anchor ($)")
    # An Origin has no path: a host wildcard there can only match a subdomain.
    if variable == "$http_referer" and any(_host_wildcard(branch) for branch in branches):
        flaws.append("a wildcard in the host (.* also matches /)")
    return flaws


def _origin_regexes(node: Node) -> Iterator[tuple[Record, str, str]]:
    """(record, variable, pattern) for if conditions and map entries testing Origin or Referer."""
    for record in own(node):
        args = record["args"]
        if record["name"] == "if" and len(args) == 3 and args[1] in ("~", "~*", "!~", "!~*"):
            if args[0] in _ORIGIN_VARIABLES:
                yield record, args[0], args[2]
        elif record["name"] == "map" and args and args[0] in _ORIGIN_VARIABLES and "block" in record:
            for entry in record["block"]:
                key = entry["name"]
                if key.startswith("~"):
                    yield entry, args[0], key[2:] if key.startswith("~*") else key[1:]


@rule("nginx-origin-regex")
def origin_regex(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """A regex meant to accept trusted origins or referers that also accepts other sites."""
    for record, variable, pattern in _origin_regexes(node):
        flaws = _origin_regex_flaws(pattern, variable)
        if flaws:
            yield Hit(
                f"{variable} in {label(node)} is matched by {pattern}, which has {' and '.join(flaws)}:"
                " other sites' origins match it too",
                span=at(record),
            )


# --- SSRF ----------------------------------------------------------------------------------------


# Variables that always start with `/` or `?`: written after a host, they are path and query.
_PATH_VARIABLES = frozenset({"request_uri", "uri", "document_uri", "is_args"})


def _authority(url: str) -> str:
    """The scheme, host and port part of a *_pass target (all of it when a variable comes first)."""
    _, sep, rest = url.partition("://")
    if not sep:
        return url if url.startswith("$") else ""
    end = len(rest)
    slash = rest.find("/")
    if slash >= 0:
        end = slash
    for match in VARIABLE.finditer(rest[:end]):
        name = match.group(1) or match.group(3)
        if name in _PATH_VARIABLES and match.start() > 0:
            end = match.start()
            break
    return url[: len(url) - len(rest) + end]


def _host_is_client_chosen(graph: Graph, node: Node) -> bool:
    """$host is the client's when the server takes any name or is the default of its address."""
    server = enclosing_server(graph, node)
    if server is None:
        return True
    default = any(e.get("default_server") for e in server.facts.get("listen", ()))
    return default or accepts_any_host(server)


def _expansions(value: str, sets: dict[str, list[str]], depth: int = 0) -> Iterator[str]:
    """VALUE with the variables `set` in scope replaced by what they hold (each alternative), so
    that the scheme and host of `set $u "http://app$request_uri"; proxy_pass $u;` are seen."""
    for match in VARIABLE.finditer(value):
        name = match.group(1) or match.group(3)
        if name in sets and depth < 4:
            for assigned in sets[name][:4]:
                yield from _expansions(value[: match.start()] + assigned + value[match.end() :], sets, depth + 1)
            return
    yield value


def _client_source(authority: str, scope: Scope, client: Callable[[str], bool]) -> str | None:
    """The client input the authority is built from: a capture of the regex that matched last
    (escaped or not, it still names the host) or a variable traced to client input."""
    for match in VARIABLE.finditer(authority):
        name = match.group(1) or match.group(2) or match.group(3)
        if any(group_number(regex.pattern, name) for regex in scope.regexes[:1] if name.isdecimal()):
            return f"the capture {match.group(0)}"
        if not name.isdecimal() and any(group_number(regex.pattern, name) for regex in scope.regexes):
            return f"the capture {match.group(0)}"
    chain = trace(authority, scope, client, None)
    return chain[-1] if chain is not None else None


@rule("nginx-ssrf")
def ssrf(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """A *_pass whose scheme, host or port comes from the request: the client picks the upstream."""
    if node.kind != "nginx/location" or own(node, "internal"):
        return
    host_open = _host_is_client_chosen(ctx.graph, node)

    def client(name: str) -> bool:
        return client_controlled(name) or (host_open and name == "host")

    for record, ifs in with_enclosing_ifs(node.attrs.get("directives", [])):
        if record["name"] not in PASS_DIRECTIVES or not record["args"]:
            continue
        scope = _scope(ctx.graph, node, ifs)
        for url in _expansions(first_arg(record), scope.sets):
            authority = _authority(url)
            source = _client_source(authority, scope, client) if authority else None
            if source is not None:
                yield Hit(
                    f"{record['name']} {first_arg(record)} in {label(node)} takes its upstream from {source},"
                    " which the client sets: requests can be sent to any host",
                    span=at(record),
                )
                break


# --- ReDoS ---------------------------------------------------------------------------------------

_ASCII = range(128)


def _chars(items: list[Any]) -> frozenset[int]:
    """The ASCII characters ITEMS can match (a sample alphabet, enough to see overlaps)."""
    return frozenset(c for c in _ASCII if regex_can_match(list(items), False, c))


def _unbounded(op: Any, value: Any) -> bool:
    return op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and value[1] == sre.MAXREPEAT


def _children(op: Any, value: Any) -> list[list[Any]]:
    """The sub-sequences of one regex item."""
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        return [list(value[2])]
    if op is sre.SUBPATTERN:
        return [list(value[3])]
    if op is sre.BRANCH:
        return [list(branch) for branch in value[1]]
    return []


def _inner_repeats(items: list[Any]) -> list[tuple[Any, Any]]:
    found: list[tuple[Any, Any]] = []
    for op, value in items:
        if _unbounded(op, value):
            found.append((op, value))
        for child in _children(op, value):
            found.extend(_inner_repeats(child))
    return found


def _separated(body: list[Any], inner: list[tuple[Any, Any]]) -> bool:
    """The body holds a required item no inner repeat can match: each turn is delimited by it."""
    repeated = frozenset().union(*(_chars(list(v[2])) for _, v in inner))
    for op, value in body:
        if op in (sre.LITERAL, sre.IN, sre.NOT_LITERAL) and not (_chars([(op, value)]) & repeated):
            return True
    return False


def _redos_flaw(items: list[Any]) -> str | None:
    """Nested unbounded quantifiers without a delimiter, or two adjacent unbounded repeats whose
    characters overlap: both make the backtracking engine try exponentially (or polynomially)
    many ways on a non-matching input."""
    previous: frozenset[int] | None = None
    for item in items:
        op, value = _as_repeat(item)
        if _unbounded(op, value):
            body = list(value[2])
            inner = _inner_repeats(body)
            if inner and not _separated(_flatten_groups(body), inner):
                return "nested quantifiers"
            chars = _chars(body)
            if previous is not None and previous & chars:
                return "adjacent quantifiers matching the same characters"
            previous = chars
        elif not regex_may_be_empty(op, value):
            previous = None
        for child in _children(op, value):
            flaw = _redos_flaw(child)
            if flaw:
                return flaw
    return None


def _as_repeat(item: Any) -> Any:
    """A group holding one repeat stands for that repeat (`(.*)` next to `.*`)."""
    op, value = item
    if op is sre.SUBPATTERN and len(value[3]) == 1 and _unbounded(*value[3][0]):
        return value[3][0]
    return item


def _flatten_groups(items: list[Any]) -> list[Any]:
    """A body whose only item is a group: the group's items (the usual `(...)+` form)."""
    if len(items) == 1 and items[0][0] is sre.SUBPATTERN:
        return list(items[0][1][3])
    return items


def _node_regexes(node: Node) -> Iterator[tuple[Record | None, str, str]]:
    """(record or None for the block itself, what, pattern) for the regexes a block holds."""
    if node.kind == "nginx/location" and node.facts.get("regex"):
        yield None, "location", str(node.facts.get("uri"))
    for record in own(node):
        regex = if_regex(record)
        if regex is not None:
            yield record, "if", regex.pattern
        elif record["name"] == "server_name":
            for name in record["args"]:
                if name.startswith("~"):
                    yield record, "server_name", name[1:]
        elif record["name"] == "map" and "block" in record:
            for entry in record["block"]:
                if entry["name"].startswith("~"):
                    yield entry, "map", entry["name"][2:] if entry["name"].startswith("~*") else entry["name"][1:]


@rule("nginx-regex-redos")
def regex_redos(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """A regex with nested or overlapping quantifiers that a crafted request makes backtrack."""
    for record, what, pattern in _node_regexes(node):
        parsed = parse_regex(pattern)
        if parsed is None:
            continue
        flaw = _redos_flaw(parsed.items)
        if flaw:
            yield Hit(
                f"{what} regex {pattern} in {label(node)} has {flaw}: a crafted request can make it backtrack"
                " for a long time",
                span=at(record) if record is not None else None,
            )


# --- names resolved once, at start -------------------------------------------------------------


def _re_resolved(node: Node, line: tuple[Any, Any]) -> bool:
    """The upstream `server` written at LINE carries `resolve`: nginx follows its DNS changes."""
    return any(
        server["resolve"] for server in node.facts.get("servers") or () if (server["path"], server["line"]) == line
    )


@rule("nginx-static-upstream-dns")
def static_upstream_dns(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """A literal host resolved once, at start, that names a target whose address changes."""
    for route in routes_from(ctx.graph, node):
        reference = route.reference
        if route.status != RESOLVED:
            continue
        if reference.directive == "server" and _re_resolved(node, (reference.span.path, reference.span.line)):
            continue
        for target in route.targets:
            why = changing_address(target)
            if why is None:
                continue
            fix = "add `resolve` to the server line" if reference.directive == "server" else "use a variable"
            yield Hit(
                f"{reference.directive} {reference.raw} in {label(node)}: {why}, but nginx resolves the name"
                f" once, at start, and keeps sending traffic to the old address ({fix} with a resolver)",
                span=reference.span,
                related=(ctx.related(target, "the name resolves to this"),),
            )
            break
