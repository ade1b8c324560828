"""nginx configs: one node per file, http, server, location, upstream (and stream blocks).

Every directive becomes a plain record ``{"name", "args", "path", "line", "col"}`` whose position
is already mapped into the outer file (a ConfigMap's YAML for embedded configs), plus ``"block"``
for blocks that are not nodes of their own (``if``, ``limit_except``, ``map``, ``types`` ...).
A node's ``attrs``:
- ``directives``: the records written in its block, includes spliced in where they stand;
- ``effective``: ``{name: [records]}`` after inheritance, as nginx resolves it: a block that sets a
  directive replaces the parent's value, and for list directives (``add_header``,
  ``proxy_set_header``, ``allow``/``deny`` ...) any occurrence replaces all the parent's ones.

Node ids follow the config's logical tree under the file that was read
(``nginx/<file>/server[example.com:443]/location[/api/]``), also for blocks that come from
included files. An included file that the scan also finds on its own is parsed as a fragment
too; the linker (infralint/graph/nginx_links.py) then marks that stand-alone reading as
``included_by`` the config that includes it, and the nginx checks skip marked nodes. That
choice (rather than ids shared between both readings) keeps one finding per problem and judges
the fragment with what it really inherits from the including config.
"""

from __future__ import annotations

import os
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from infralint.graph.model import Node, SpanMap
from infralint.parsers.result import ParseResult, bom_message, input_finding
from infralint.source import SourceFile

if TYPE_CHECKING:  # crossplane is imported when a file is parsed, not when rules load this module
    from infralint.parsers.nginx_syntax import Parsed, Stmt

Record = dict[str, Any]

# File names that discovery hands over by name alone; parse them only when they look like nginx.
AMBIGUOUS_NAMES = frozenset({"conf"})

# Directives that apply where written and are not inherited by nested blocks.
NOT_INHERITED = frozenset(
    {
        "include",
        "listen",
        "server_name",
        "proxy_pass",
        "fastcgi_pass",
        "uwsgi_pass",
        "scgi_pass",
        "grpc_pass",
        "memcached_pass",
        "return",
        "rewrite",
        "set",
        "break",
        "if",
        "try_files",
        "alias",
        "stub_status",
        "internal",
        "limit_except",
        "keepalive",
        "server",
        "zone",
    }
)
# Directives sharing one list: setting any of them in a block drops the parent's whole list.
GROUPS = {"allow": "access", "deny": "access"}

# Which blocks are nodes, by the level they appear at.
CHILD_LEVELS = {
    ("main", "http"): "http",
    ("main", "stream"): "stream",
    ("http", "server"): "server",
    ("http", "upstream"): "upstream",
    ("server", "location"): "location",
    ("location", "location"): "location",
    ("stream", "server"): "stream-server",
    ("stream", "upstream"): "upstream",
}
LEVEL_OF_CONTEXT = {
    (): "main",
    ("http",): "http",
    ("http", "server"): "server",
    ("http", "location"): "location",
    ("http", "upstream"): "upstream",
    ("stream",): "stream",
    ("stream", "server"): "stream-server",
    ("stream", "upstream"): "upstream",
}
PASS_DIRECTIVES = ("proxy_pass", "grpc_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "memcached_pass")
REDIRECT_CODES = frozenset({"301", "302", "303", "307", "308"})


def parse(source: SourceFile) -> ParseResult:
    result = ParseResult()
    name = source.embedded_key or os.path.basename(source.path)
    if name.lower() in AMBIGUOUS_NAMES:
        from infralint.sniff.nginx import sniff

        if not sniff(source.path, source.text):
            return result
    from infralint.parsers.nginx_syntax import Reader

    parsed = Reader(source).read()
    result.documents = 1
    if source.bom:
        result.findings.append(input_finding("infralint-parse-error", bom_message("nginx"), source.span(1, 1)))
    for problem in parsed.problems:
        span = problem.unit.span(problem.line, problem.col)
        result.findings.append(input_finding(problem.rule_id, problem.message, span))
    result.nodes.extend(_Builder(source, parsed).build())
    # Suppression comments live in the included files too; the scan reads them from here once
    # ParseResult has a place for other files' texts (until then, only files the scan finds).
    result.extra_texts.update(parsed.texts)
    return result


def place(unit: SourceFile, line: int, col: int | None) -> tuple[int, int | None]:
    """(line, col) in the outer file: what unit.span() gives, without building a Span."""
    return unit.place(line, col)


def record_of(stmt: Stmt) -> Record:
    line, col = place(stmt.unit, stmt.line, stmt.col)
    record: Record = {"name": stmt.name, "args": stmt.args, "path": stmt.unit.path, "line": line, "col": col}
    if stmt.includes:
        record["includes"] = list(stmt.includes)
    if stmt.placeholder:  # an envsubst template's `${NAME}`: rules do not judge the value
        record["placeholder"] = True
    if stmt.block is not None:
        record["block"] = [record_of(inner) for inner in stmt.block]
    return record


def walk_records(records: list[Record]) -> list[Record]:
    """The records and those inside their non-node blocks (if, limit_except ...), in order."""
    found: list[Record] = []
    for record in records:
        found.append(record)
        if "block" in record:
            found.extend(walk_records(record["block"]))
    return found


class _Builder:
    def __init__(self, source: SourceFile, parsed: Parsed) -> None:
        self.source = source
        self.parsed = parsed
        self.nodes: list[Node] = []
        self.levels: dict[str, str] = {}
        self.used_ids: set[str] = set()

    def build(self) -> list[Node]:
        source, parsed = self.source, self.parsed
        context = "/".join(parsed.context) or "main"
        level = LEVEL_OF_CONTEXT.get(parsed.context, context)
        last_line = max(1, source.text.count("\n") + (0 if source.text.endswith("\n") else 1))
        facts: dict[str, Any] = {
            "name": source.id_path,
            "file": source.id_path,
            "context": context,
            "fragment": parsed.context != (),
            "complete": parsed.complete,
            "includes": list(parsed.included),
            "embedded": source.embedded_in is not None,
            # A snippet meant for a server or location block we do not have: what it inherits is
            # unknown, so rules that judge a missing directive leave its blocks alone.
            "partial_scope": parsed.context not in ((), ("http",), ("stream",)),
            "label": f"config {source.id_path}",
        }
        config = self._node(f"nginx/{source.id_path}", "config", source, 1, None, last_line, None, facts)
        config.facts["config"] = config.id
        comments: dict[tuple[str, int | None], str] = {}
        for comment in parsed.comments:  # a file included twice has its comments read twice
            span = comment.unit.span(comment.line)
            comments.setdefault((span.path, span.line), comment.text)
        config.attrs["comments"] = [{"path": p, "line": line, "text": text} for (p, line), text in comments.items()]
        if not parsed.complete:
            return self.nodes  # a config nginx would refuse to load: no rules on half of it
        self._fill(config, parsed.statements, level)
        config.facts["proxy_targets"] = [
            proxy_target(record, stream=level.startswith("stream"))
            for record in walk_records(config.attrs["directives"])
            if record["name"] in PASS_DIRECTIVES and record["args"]
        ]
        self._resolve_effective()
        return self.nodes

    def _node(
        self,
        node_id: str,
        kind: str,
        unit: SourceFile,
        line: int,
        col: int | None,
        end_line: int | None,
        parent: Node | None,
        facts: dict[str, Any],
    ) -> Node:
        unique = node_id
        n = 2
        while unique in self.used_ids:
            unique = f"{node_id}#{n}"
            n += 1
        self.used_ids.add(unique)
        position = unit.position(line, col, end_line)
        spans = SpanMap(unit.span(line).path, {(): position})
        if parent is not None:
            facts.setdefault("config", parent.facts["config"])
            facts.setdefault("partial_scope", parent.facts["partial_scope"])
        node = Node(
            unique,
            (f"nginx/{kind}", "nginx/block"),
            {"directives": [], "effective": {}},
            spans,
            facts,
            parent=parent.id if parent else None,
            end_line=position[2],
        )
        self.levels[unique] = kind
        self.nodes.append(node)
        return node

    def _fill(self, node: Node, statements: list[Stmt], level: str) -> None:
        for stmt in statements:
            child_level = CHILD_LEVELS.get((level, stmt.name)) if stmt.block is not None else None
            if child_level is None:
                node.attrs["directives"].append(record_of(stmt))
                continue
            child = self._child(node, stmt, child_level)
            self._fill(child, stmt.block or [], child_level)
            _add_facts(child, child_level)

    def _child(self, parent: Node, stmt: Stmt, level: str) -> Node:
        label = _label(stmt, level)
        in_stream = self.levels.get(parent.id) == "stream"
        facts: dict[str, Any] = {"level": level, "label": _readable(label)}
        if level == "location":
            facts.update(_location_match(stmt.args))
        elif level == "upstream":
            facts["name"] = stmt.args[0] if stmt.args else ""
            facts["protocol"] = "stream" if in_stream else "http"
        return self._node(self._child_id(parent, label, level, in_stream), level, stmt.unit, stmt.line, stmt.col,
                          stmt.end_line, parent, facts)  # fmt: skip

    def _child_id(self, parent: Node, label: str, level: str, in_stream: bool) -> str:
        """Locations nest under their block; servers and upstreams are named under the file (not
        under http), stream ones under the file's stream."""
        if level in ("location", "http", "stream"):
            return f"{parent.id}/{label}"
        config = str(parent.facts["config"])
        return f"{config}/stream/{label}" if in_stream else f"{config}/{label}"

    def _resolve_effective(self) -> None:
        by_id = {node.id: node for node in self.nodes}
        for node in self.nodes:  # parents come before their children
            parent = by_id.get(node.parent) if node.parent else None
            inherited = parent.attrs["effective"] if parent is not None and self._inherits(parent, node) else {}
            node.attrs["effective"] = merge_effective(inherited, node.attrs["directives"])
        for node in self.nodes:
            if self.levels[node.id] == "server":
                _server_redirect_facts(node)

    def _inherits(self, parent: Node, node: Node) -> bool:
        """Main-context directives (user, worker_processes ...) and http settings do not flow
        into an http block or an upstream; everything else inherits from its enclosing block."""
        if self.levels[node.id] == "upstream":
            return False
        return not (self.levels[parent.id] == "config" and parent.facts["context"] == "main")


def merge_effective(inherited: dict[str, list[Record]], own: list[Record]) -> dict[str, list[Record]]:
    mine: dict[str, list[Record]] = defaultdict(list)
    for record in own:
        if "block" not in record:
            mine[record["name"]].append(record)
    touched_groups = {GROUPS[name] for name in mine if name in GROUPS}
    effective: dict[str, list[Record]] = {}
    for name, records in inherited.items():
        if name in NOT_INHERITED or name in mine or GROUPS.get(name) in touched_groups:
            continue
        effective[name] = records
    effective.update(mine)
    return effective


# --- labels and facts ----------------------------------------------------------------------------


def _first(stmt: Stmt, name: str) -> Stmt | None:
    for inner in stmt.block or ():
        if inner.name == name:
            return inner
    return None


def _readable(label: str) -> str:
    """How a block is named in messages: `location[~ ^/v[0-9]+/]` -> `location ~ ^/v[0-9]+/`.
    Only the brackets around the arguments go; those of a regex or an IPv6 address stay."""
    kind, bracket, inner = label.partition("[")
    if not bracket or not inner.endswith("]"):
        return label
    return f"{kind} {inner[:-1]}"


def _label(stmt: Stmt, level: str) -> str:
    if level in ("http", "stream"):
        return level
    if level == "upstream":
        return f"upstream[{stmt.args[0] if stmt.args else ''}]"
    if level == "location":
        return f"location[{' '.join(stmt.args)}]"
    server_name = _first(stmt, "server_name")
    names = server_name.args if server_name else []
    listen = _first(stmt, "listen")
    port = parse_listen(
        listen.args if listen else [], implicit=listen is None, placeholder=bool(listen and listen.placeholder)
    )
    where = port["address"] if port["unix"] or port["port"] is None else str(port["port"])
    name = names[0] if names and level == "server" else ""
    return f"server[{name}:{where}]"


def _location_match(args: list[str]) -> dict[str, Any]:
    modifier = args[0] if len(args) > 1 and args[0] in ("=", "~", "~*", "^~") else ""
    uri = args[-1] if args else ""
    if not modifier and uri.startswith("@"):
        modifier = "@"
    return {"match": " ".join(args), "modifier": modifier, "uri": uri, "regex": modifier in ("~", "~*")}


def _add_facts(node: Node, level: str) -> None:
    records = node.attrs["directives"]
    if level in ("server", "stream-server"):
        names = [arg for record in records if record["name"] == "server_name" for arg in record["args"]]
        listens = [record for record in records if record["name"] == "listen"]
        entries = [_with_place(parse_listen(r["args"], placeholder=bool(r.get("placeholder"))), r) for r in listens]
        entries = entries or [parse_listen([], implicit=True)]
        if level == "stream-server":
            entries = [e for e in entries if not e.get("implicit")]
        ssl_on = any(r["name"] == "ssl" and r["args"][:1] == ["on"] for r in records)
        node.facts.update(
            {
                "name": names[0] if names else "",
                "server_names": names,
                "listen": entries,
                "ssl": ssl_on or any(e["ssl"] for e in entries),
                "plain_http_listens": [
                    e for e in entries if not e["ssl"] and not e["quic"] and not ssl_on and not e["placeholder"]
                ],
                "loopback_only": bool(entries) and all(e["loopback"] for e in entries),
                # Whether clients outside can reach this server is graph knowledge (published ports,
                # Services, Ingresses): the linker of the cross-format graph sets True/False here.
                "exposed": None,
            }
        )
    if level in ("location", "stream-server", "server"):
        node.facts["proxy_targets"] = [
            proxy_target(record, stream=level == "stream-server")
            for record in walk_records(records)
            if record["name"] in PASS_DIRECTIVES and record["args"]
        ]
    if level == "upstream":
        node.facts["servers"] = [
            _with_place(upstream_server(r["args"], node.facts["protocol"]), r)
            for r in walk_records(records)
            if r["name"] == "server" and r["args"]
        ]
        keepalive = [r for r in records if r["name"] == "keepalive"]
        value = keepalive[0]["args"][0] if keepalive and keepalive[0]["args"] else None
        node.facts["keepalive"] = int(value) if value and value.isdecimal() else None


def _with_place(entry: dict[str, Any], record: Record) -> dict[str, Any]:
    entry.update({"path": record["path"], "line": record["line"], "col": record["col"]})
    return entry


def split_host_port(text: str) -> tuple[str, int | None, str | None]:
    """host, port (None when absent) and the port text when it is not a number."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""
    if not port_text:
        return host, None, None
    return (host, int(port_text), None) if port_text.isdecimal() else (host, None, port_text)


def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1", "[::1]") or host.startswith("127.") or host.startswith("unix:")


def parse_listen(args: list[str], implicit: bool = False, placeholder: bool = False) -> dict[str, Any]:
    """A `listen` entry as the graph needs it; with no `listen` nginx serves *:80. With an
    envsubst PLACEHOLDER in its address, the port (and whether it is TLS) is unknown."""
    target = args[0] if args else "80"
    params = {arg.split("=", 1)[0] for arg in args[1:]}
    if target.startswith("unix:") or (placeholder and "$" in target):  # no port to read
        address, port = target, None
    elif target.isdecimal():
        address, port = "*", int(target)
    else:
        address, port, _ = split_host_port(target)
        port = port or 80
    return {
        "raw": " ".join(args) if args else "80",
        "address": address,
        "port": port,
        "unix": target.startswith("unix:"),
        "ssl": "ssl" in params,
        "http2": "http2" in params,
        "quic": "quic" in params,
        "proxy_protocol": "proxy_protocol" in params,
        "default_server": bool(params & {"default_server", "default"}),
        "loopback": is_loopback(address),
        "implicit": implicit,
        "placeholder": placeholder,
    }


def proxy_target(record: Record, stream: bool = False) -> dict[str, Any]:
    """Where a *_pass directive sends traffic: {scheme, host, port, is_variable, directive ...}."""
    directive = record["name"]
    raw = record["args"][0]
    scheme = {"grpc_pass": "grpc", "fastcgi_pass": "fastcgi", "uwsgi_pass": "uwsgi", "scgi_pass": "scgi"}.get(
        directive, "tcp" if stream else "http"
    )
    rest = raw
    if "://" in raw:
        scheme, rest = raw.split("://", 1)
    if rest.startswith("unix:"):  # unix:/path/to.sock[:/uri]
        socket, _, path = rest[len("unix:") :].partition(":")
        host, port, unix = "unix:" + socket, None, True
    else:
        unix = False
        authority, slash, tail = rest.partition("/")
        path = slash + tail
        host, port, port_text = split_host_port(authority)
        if port_text is not None:  # a variable port: keep the authority whole
            host = authority
    return {
        "directive": directive,
        "raw": raw,
        "scheme": scheme,
        "host": host,
        "port": port,
        "uri": path,
        "unix": unix,
        "is_variable": "$" in host,
        "default_port": {"https": 443, "grpcs": 443}.get(scheme, 80 if scheme in ("http", "grpc") else None),
        "path": record["path"],
        "line": record["line"],
        "col": record["col"],
    }


def upstream_server(args: list[str], protocol: str) -> dict[str, Any]:
    target = args[0]
    params: dict[str, str | bool] = {}
    for arg in args[1:]:
        key, eq, value = arg.partition("=")
        params[key] = value if eq else True
    if target.startswith("unix:"):
        host, port = target, None
    else:
        host, port, _ = split_host_port(target)
        if port is None and protocol == "http":
            port = 80
    return {
        "raw": " ".join(args),
        "host": host,
        "port": port,
        "unix": target.startswith("unix:"),
        "weight": params.get("weight"),
        "max_fails": params.get("max_fails"),
        "fail_timeout": params.get("fail_timeout"),
        "backup": bool(params.get("backup")),
        "down": bool(params.get("down")),
        "resolve": bool(params.get("resolve")),
        "is_variable": "$" in target,
    }


def _server_redirect_facts(node: Node) -> None:
    """Does the whole server answer with a redirect to https (or refuse), whatever the path?"""
    records = node.attrs["directives"]
    node.facts["redirects_to_https"] = any(is_https_redirect(r) for r in walk_records(records))
    node.facts["refuses"] = any(
        r["name"] == "return" and r["args"] and r["args"][0] in ("444", "400", "403", "404", "421") for r in records
    )


def is_https_redirect(record: Record) -> bool:
    args = record["args"]
    if record["name"] == "return":
        if len(args) == 2 and args[0] in REDIRECT_CODES:
            return args[1].lower().startswith("https://")
        return len(args) == 1 and args[0].lower().startswith("https://")
    if record["name"] == "rewrite" and len(args) >= 2:
        return args[1].lower().startswith("https://") and (len(args) == 2 or args[2] in ("permanent", "redirect"))
    return False
