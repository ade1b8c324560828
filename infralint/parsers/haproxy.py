"""HAProxy configs: one node per file and per section, with effective settings resolved.

Sections start at a section keyword and end at the next one. A `defaults` section applies to
the proxies after it until the next `defaults` (a proxy may name another with `from NAME`), and
each `defaults` starts from scratch unless it names a parent with `from`. Proxies get the
merged result: their own line wins, `no option X` cancels an inherited option.

Only what haproxy itself rejects while reading the file is a parse error: a line outside any
section, an unknown section, broken quoting or escapes, too many words, unbalanced `.if`
blocks, section headers with a missing or invalid name. Keywords inside a section are not
checked against a list: they change with every release and the real binary judges them.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from infralint.graph.model import Node, SpanMap
from infralint.parsers import haproxy_model as model
from infralint.parsers.haproxy_lexer import LexError, Statement, statements
from infralint.parsers.result import ParseResult, bom_message, input_finding
from infralint.source import SourceFile

# Section keywords of current HAProxy, and whether each takes a name.
NAME_REQUIRED = "required"
NAME_OPTIONAL = "optional"
NAME_NONE = "none"
SECTIONS = {
    "global": NAME_NONE,
    "defaults": NAME_OPTIONAL,
    "frontend": NAME_REQUIRED,
    "backend": NAME_REQUIRED,
    "listen": NAME_REQUIRED,
    "userlist": NAME_REQUIRED,
    "peers": NAME_REQUIRED,
    "mailers": NAME_REQUIRED,
    "resolvers": NAME_REQUIRED,
    "program": NAME_REQUIRED,
    "cache": NAME_REQUIRED,
    "http-errors": NAME_REQUIRED,
    "ring": NAME_REQUIRED,
    "log-forward": NAME_REQUIRED,
    "fcgi-app": NAME_REQUIRED,
    "namespace_list": NAME_NONE,
    "crt-store": NAME_OPTIONAL,  # 3.0
    "traces": NAME_NONE,  # 3.1
    "log-profile": NAME_REQUIRED,  # 3.1
    "acme": NAME_REQUIRED,  # 3.2
}
PROXIES = ("frontend", "backend", "listen")
PROXY_KINDS = {
    "frontend": ("haproxy/frontend", "haproxy/frontend-side", "haproxy/proxy", "haproxy/section"),
    "backend": ("haproxy/backend", "haproxy/backend-side", "haproxy/proxy", "haproxy/section"),
    "listen": ("haproxy/listen", "haproxy/frontend-side", "haproxy/backend-side", "haproxy/proxy", "haproxy/section"),
}
_VALID_NAME = re.compile(r"^[A-Za-z0-9_.:-]+$")
MAX_ERRORS = 50  # per file: a file that is not HAProxy at all should not drown the report


@dataclass
class Section:
    type: str
    name: str | None
    header: Statement
    statements: list[Statement] = field(default_factory=list)
    from_name: str | None = None
    node_id: str = ""
    settings: model.Settings | None = None
    defaults: Section | None = None

    @property
    def line(self) -> int:
        return self.header.line

    @property
    def end_line(self) -> int:
        return self.statements[-1].line if self.statements else self.header.line

    @property
    def indented(self) -> bool:
        """Whether this section's own lines are indented (the usual layout)."""
        return bool(self.statements) and self.statements[-1].col > 1


class _Errors:
    def __init__(self, source: SourceFile, result: ParseResult) -> None:
        self.source = source
        self.result = result
        self.count = 0

    @property
    def full(self) -> bool:
        return self.count >= MAX_ERRORS

    def add(self, line: int, col: int | None, message: str) -> None:
        self.count += 1
        if self.count > MAX_ERRORS:
            return
        if self.count == MAX_ERRORS:
            message += f" (further errors in this file are not reported after {MAX_ERRORS})"
        finding = input_finding("infralint-parse-error", f"HAProxy: {message}", self.source.span(line, col))
        finding.locator = f"{message}@{line}"  # two lines with the same problem are two findings
        finding.fingerprint = ""
        finding.__post_init__()
        self.result.findings.append(finding)


def parse(source: SourceFile) -> ParseResult:
    result = ParseResult(documents=1)
    errors = _Errors(source, result)
    if source.bom:
        errors.add(1, 1, bom_message("haproxy"))
    sections = _read_sections(source.text, errors)
    if not source.embedded_key and source.text and not source.text.endswith("\n"):
        last = source.text.count("\n") + 1
        errors.add(
            last, None, "missing newline at the end of the last line (haproxy refuses a possibly truncated file)"
        )
    _assign_ids(source, sections)
    _resolve_defaults(sections, errors)
    _check_names(sections, errors)
    config_id = f"haproxy/{source.id_path}"
    result.nodes.append(_config_node(source, config_id, sections))
    for section in sections:
        result.nodes.append(_section_node(source, config_id, section, sections))
    return result


# --- reading --------------------------------------------------------------------------------


def _read_sections(text: str, errors: _Errors) -> list[Section]:
    sections: list[Section] = []
    current: Section | None = None
    skipping_unknown = False
    conditions = _Conditions(errors)
    pending: list[Statement] = []
    for item in statements(text):
        if isinstance(item, LexError):
            errors.add(item.line, item.col, item.message)
            continue
        if item.keyword.startswith("."):
            conditions.handle(item)
            continue
        if not conditions.active:
            continue
        pending.append(item)
    conditions.finish()
    for index, statement in enumerate(pending):
        keyword = statement.keyword
        if keyword in SECTIONS:
            current = _open_section(statement, errors)
            sections.append(current)
            skipping_unknown = False
            continue
        if skipping_unknown:
            continue
        if current is None:
            if not errors.full:  # the did-you-mean is costly on a file that is not HAProxy at all
                errors.add(statement.line, statement.col, _outside_message(keyword))
            continue
        following = pending[index + 1] if index + 1 < len(pending) else None
        if _looks_like_unknown_section(statement, current, following):
            errors.add(statement.line, statement.col, _unknown_section_message(keyword, current))
            skipping_unknown = True
            continue
        current.statements.append(statement)
    return sections


def _outside_message(keyword: str) -> str:
    guess = difflib.get_close_matches(keyword, list(SECTIONS), n=1, cutoff=0.75)
    if guess:
        return f"unknown section '{keyword}' (did you mean '{guess[0]}'?)"
    return f"'{keyword}' outside any section: a config starts with a section keyword such as 'global' or 'frontend'"


def _unknown_section_message(keyword: str, current: Section) -> str:
    guess = difflib.get_close_matches(keyword, list(SECTIONS), n=1, cutoff=0.6)
    hint = f" (did you mean '{guess[0]}'?)" if guess else ""
    return f"unknown section '{keyword}'{hint}: haproxy reads it as an unknown keyword of {current.type} and rejects it"


def _looks_like_unknown_section(statement: Statement, current: Section, following: Statement | None) -> bool:
    """A word at the margin, in a section whose lines are indented, heading an indented block."""
    return (
        statement.col == 1
        and current.indented
        and following is not None
        and following.col > 1
        and following.keyword not in SECTIONS
    )


def _open_section(statement: Statement, errors: _Errors) -> Section:
    kind = statement.keyword
    args = statement.words[1:]
    section = Section(kind, None, statement)
    naming = SECTIONS[kind]
    if naming == NAME_NONE:
        if args and kind == "global":
            errors.add(args[0].line, args[0].col, f"'global' takes no argument (found '{args[0].text}')")
        return section
    if kind in PROXIES or kind == "defaults":
        return _open_proxy(section, errors)
    if args:
        section.name = args[0].text
    elif naming == NAME_REQUIRED:
        errors.add(statement.line, statement.col, f"'{kind}' needs a name")
    return section


def _open_proxy(section: Section, errors: _Errors) -> Section:
    words = section.header.words[1:]
    texts = [w.text for w in words]
    if texts and texts[0] != "from":
        section.name = texts[0]
        rest = words[1:]
    else:
        rest = words
    if section.name is None and section.type != "defaults":
        errors.add(section.line, section.header.col, f"'{section.type}' needs a name")
    if rest and rest[0].text == "from":
        if len(rest) < 2:
            errors.add(rest[0].line, rest[0].col, "'from' needs the name of a defaults section")
        else:
            section.from_name = rest[1].text
    elif rest and section.type in ("frontend", "listen"):
        errors.add(rest[0].line, rest[0].col, "an address after the proxy name is no longer accepted: use 'bind'")
    return section


class _Conditions:
    """`.if`/`.elif`/`.else`/`.endif` blocks: nesting is checked, constant conditions are honoured,
    the others (environment, features, versions) are unknown here so their lines are kept."""

    def __init__(self, errors: _Errors) -> None:
        self.errors = errors
        # (opener, value, a branch surely taken, past its .else) per open block
        self.stack: list[tuple[Statement, bool | None, bool, bool]] = []

    @property
    def active(self) -> bool:
        return all(value is not False for _, value, _, _ in self.stack)

    def handle(self, statement: Statement) -> None:
        keyword = statement.keyword
        if keyword == ".if":
            value = _condition_value(statement.args())
            self.stack.append((statement, value, value is True, False))
        elif keyword in (".elif", ".else"):
            if not self.stack:
                self.errors.add(statement.line, statement.col, f"'{keyword}' without a matching '.if'")
                return
            opener, _, taken, past_else = self.stack[-1]
            if past_else:
                self.errors.add(statement.line, statement.col, f"'{keyword}' after '.else' is not permitted")
                return
            value = True if keyword == ".else" else _condition_value(statement.args())
            if taken:
                value = False
            self.stack[-1] = (opener, value, taken or value is True, keyword == ".else")
        elif keyword == ".endif":
            if not self.stack:
                self.errors.add(statement.line, statement.col, "'.endif' without a matching '.if'")
                return
            self.stack.pop()

    def finish(self) -> None:
        for opener, _, _, _ in self.stack:
            self.errors.add(opener.line, opener.col, "'.if' block is never closed with '.endif'")


def _condition_value(args: list[str]) -> bool | None:
    text = " ".join(args).strip()
    if text in ("", "0"):
        return False
    if text.isdecimal():
        return True
    return None


# --- structure ------------------------------------------------------------------------------


def _assign_ids(source: SourceFile, sections: list[Section]) -> None:
    seen: dict[str, int] = {}
    for section in sections:
        label = f"{section.type}[{section.name}]" if section.name else section.type
        base = f"haproxy/{source.id_path}/{label}"
        seen[base] = seen.get(base, 0) + 1
        section.node_id = base if seen[base] == 1 else f"{base}~{seen[base]}"


def _resolve_defaults(sections: list[Section], errors: _Errors) -> None:
    named: dict[str, Section] = {}
    current: Section | None = None
    for section in sections:
        if section.type not in PROXIES and section.type != "defaults":
            continue
        parent = current if section.type != "defaults" else None
        if section.from_name is not None:
            parent = named.get(section.from_name)
            if parent is None:
                errors.add(
                    section.line,
                    section.header.col,
                    f"defaults section '{section.from_name}' is not defined before this {section.type}",
                )
        settings = parent.settings.inherit() if parent and parent.settings else model.Settings()
        settings.apply(section.statements, section.node_id)
        section.settings = settings
        section.defaults = parent
        if section.type == "defaults":
            current = section
            if section.name:
                named[section.name] = section


# Sections whose names haproxy checks for characters other than letters, digits, - _ . :
CHECKED_NAMES = (
    *PROXIES,
    "resolvers",
    "peers",
    "userlist",
    "mailers",
    "ring",
    "http-errors",
    "fcgi-app",
    "log-forward",
)
# Sections whose names haproxy keeps in a table of their own (a second one of a name is an
# error); a log-forward's name must differ from every proxy's. userlist and defaults may repeat.
OWN_NAMESPACE = ("resolvers", "peers", "mailers", "ring", "cache", "http-errors", "program", "fcgi-app")


def _check_names(sections: list[Section], errors: _Errors) -> None:
    """Names haproxy refuses: bad characters, and two sections sharing a name where haproxy
    requires it unique (two proxies of the same side, a log-forward and any proxy, two
    sections of one of the OWN_NAMESPACE types)."""
    fronts: dict[str, Section] = {}
    backs: dict[str, Section] = {}
    forwards: dict[str, Section] = {}
    proxies: dict[str, Section] = {}
    others: dict[tuple[str, str], Section] = {}
    for section in sections:
        name = section.name
        if name is not None and section.type in OWN_NAMESPACE:
            _record(section, others.setdefault((section.type, name), section), errors)
        elif name is not None and section.type == "log-forward":
            _record(section, proxies.get(name) or forwards.setdefault(name, section), errors)
        if section.type == "defaults":  # a defaults section may hold ACLs (used by its rules)
            for statement in section.statements:
                _check_statement(statement, section, errors)
        if name is not None and section.type in CHECKED_NAMES and not _VALID_NAME.match(name):
            word = section.header.words[1]
            errors.add(
                word.line,
                word.col,
                f"invalid character in {section.type} name '{name}' (letters, digits, '-', '_', '.', ':')",
            )
        _check_member_names(section, errors)
        if section.type not in PROXIES:
            continue
        if name is not None:
            _record(section, forwards.get(name) or _claim(section, name, fronts, backs), errors)
            proxies.setdefault(name, section)
        for statement in section.statements:
            _check_statement(statement, section, errors)


# Members a section names, which haproxy requires distinct within the section.
_MEMBERS = {"backend": "server", "listen": "server", "ring": "server", "resolvers": "nameserver"}
_TEMPLATE_RANGE = re.compile(r"(\d{1,6})(?:-(\d{1,6}))?")


def _check_member_names(section: Section, errors: _Errors) -> None:
    """Two servers (or nameservers) of one name in a section; a server-template names its
    servers <prefix>1..N (or the range it gives)."""
    keyword = _MEMBERS.get(section.type)
    if keyword is None:
        return
    seen: dict[str, Statement] = {}
    for statement in section.statements:
        words = statement.words
        if len(words) < 2 or statement.keyword not in (keyword, f"{keyword}-template"):
            continue
        names = [words[1].text]
        if statement.keyword.endswith("-template"):
            numbers = _TEMPLATE_RANGE.fullmatch(words[2].text) if len(words) > 2 else None
            if numbers is None:
                continue
            low, high = (1, int(numbers[1])) if numbers[2] is None else (int(numbers[1]), int(numbers[2]))
            names = [f"{words[1].text}{number}" for number in range(low, min(high, low + 10_000) + 1)]
        for name in names:
            first = seen.setdefault(name, statement)
            if first is not statement:
                message = f"another {keyword} named '{name}' is defined at line {first.line} of this {section.type}"
                errors.add(words[1].line, words[1].col, message)
                break


def _claim(section: Section, name: str, fronts: dict[str, Section], backs: dict[str, Section]) -> Section:
    """The proxy of the same side (frontend, backend, or either for a listen) that has NAME
    already, or SECTION, which takes it."""
    for side, table in (("frontend", fronts), ("backend", backs)):
        if section.type in (side, "listen"):
            first = table.setdefault(name, section)
            if first is not section:
                return first
    return section


def _record(section: Section, first: Section, errors: _Errors) -> None:
    """An error at SECTION when FIRST, the section that took its name, is another one."""
    if first is not section:
        errors.add(
            section.line,
            section.header.col,
            f"{section.type} '{section.name}' has the same name as the {first.type} at line {first.line}",
        )


def _check_statement(statement: Statement, section: Section, errors: _Errors) -> None:
    keyword = statement.keyword
    words = statement.words
    if keyword == "acl" and len(words) > 1 and not _VALID_NAME.match(words[1].text):
        errors.add(words[1].line, words[1].col, f"invalid character in acl name '{words[1].text}'")
    if keyword == "server" and section.type in ("backend", "listen"):
        if len(words) < 3:
            errors.add(statement.line, statement.col, "'server' needs a name and an address")
        elif not _VALID_NAME.match(words[1].text):
            errors.add(words[1].line, words[1].col, f"invalid character in server name '{words[1].text}'")


# --- nodes ----------------------------------------------------------------------------------


class _Table:
    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.positions: dict[tuple[Any, ...], tuple[int, int, int]] = {}

    def at(self, path: tuple[Any, ...], statement: Statement, word: int | None = None) -> None:
        target = statement.words[word] if word is not None and word < len(statement.words) else statement.words[0]
        self.positions[path] = self.source.position(target.line, target.col)


def _config_node(source: SourceFile, config_id: str, sections: list[Section]) -> Node:
    table = {(): source.position(1, 1)}
    attrs = {"sections": [{"type": s.type, "name": s.name} for s in sections]}
    last = source.text.count("\n") + 1
    facts = {"file": source.id_path, "config_group": _config_group(source), "object": f"config {source.id_path}"}
    return Node(
        config_id, ("haproxy/config",), attrs, SpanMap(source.path, table), facts, end_line=source.place(last)[0]
    )


def _config_group(source: SourceFile) -> str:
    """Files haproxy is likely started with together: one folder (`-f conf.d/`), or one ConfigMap."""
    if source.embedded_in:
        return source.embedded_in
    return source.path.rpartition("/")[0]


def _section_node(source: SourceFile, config_id: str, section: Section, sections: list[Section]) -> Node:
    table = _Table(source)
    table.at((), section.header)
    attrs: dict[str, Any] = {"section": section.type, "name": section.name, "directives": _directives(section, table)}
    facts: dict[str, Any] = {
        "section": section.type,
        "name": section.name or section.type,
        "object": f"{section.type} {section.name}" if section.name else section.type,
        "config": config_id,
        "config_group": _config_group(source),
    }
    if section.type == "global":
        _global_attrs(section, attrs, table)
        kinds: tuple[str, ...] = ("haproxy/global", "haproxy/section")
    elif section.type in PROXIES or section.type == "defaults":
        _proxy_attrs(section, attrs, table, facts)
        kinds = PROXY_KINDS.get(section.type, ("haproxy/defaults", "haproxy/section"))
    else:
        kinds = (f"haproxy/{section.type.replace('_', '-')}", "haproxy/section")
    end = source.position(section.end_line)[2]
    return Node(
        section.node_id, kinds, attrs, SpanMap(source.path, table.positions), facts, parent=config_id, end_line=end
    )


def _directives(section: Section, table: _Table) -> list[dict[str, Any]]:
    entries = []
    for index, statement in enumerate(section.statements):
        table.at(("directives", index), statement)
        for arg in range(1, len(statement.words)):
            table.at(("directives", index, "args", arg - 1), statement, arg)
        entries.append({"keyword": statement.keyword, "args": statement.args(), "line": statement.line})
    return entries


def _global_attrs(section: Section, attrs: dict[str, Any], table: _Table) -> None:
    settings: dict[str, list[str]] = {}
    bind_options: list[str] = []
    for statement in section.statements:
        settings[statement.keyword] = statement.args()
        table.at(("settings", statement.keyword), statement)
        if statement.keyword == "ssl-default-bind-options":
            for index, word in enumerate(statement.words[1:], 1):
                table.at(("ssl_default_bind_options", len(bind_options)), statement, index)
                bind_options.append(word.text)
    attrs["settings"] = settings
    attrs["ssl_default_bind_options"] = bind_options


def _proxy_attrs(section: Section, attrs: dict[str, Any], table: _Table, facts: dict[str, Any]) -> None:
    settings = section.settings or model.Settings()
    attrs["from"] = section.from_name
    attrs["defaults"] = section.defaults.node_id if section.defaults else None
    attrs["timeouts"] = {}
    for name, (value, origin) in settings.timeouts.items():
        attrs["timeouts"][name] = value
        table.at(("timeouts", name), origin.statement)
    attrs["options"] = {}
    for name, (enabled, args, origin) in settings.options.items():
        attrs["options"][name] = {"enabled": enabled, "args": args}
        table.at(("options", name), origin.statement)
    attrs["settings"] = {}
    for keyword, (args, origin) in settings.single.items():
        attrs["settings"][keyword] = args
        table.at(("settings", keyword), origin.statement)
    attrs["rules"] = {}
    for keyword, entries in settings.lists.items():
        attrs["rules"][keyword] = []
        for index, (args, origin) in enumerate(entries):
            table.at(("rules", keyword, index), origin.statement)
            _, condition = model.split_condition(args)
            inherited = origin.section != section.node_id
            entry = {"args": args, "condition": condition, "line": origin.statement.line, "inherited": inherited}
            attrs["rules"][keyword].append(entry)
    attrs["default_server"] = {}
    for name, (value, origin) in settings.default_server.items():
        attrs["default_server"][name] = value
        table.at(("default_server", name), origin.statement)
    mode = settings.value("mode")
    attrs["mode"] = mode[0] if mode else None
    if "mode" in settings.single:
        table.at(("mode",), settings.single["mode"][1].statement)
    attrs["disabled"] = "disabled" in settings.single and section.type != "defaults"
    attrs["binds"] = _binds(section, table)
    attrs["servers"] = _servers(section, settings, table)
    attrs["acls"] = _acls(section, table)
    attrs["backend_refs"] = _backend_refs(section, settings, table)
    facts.update(
        {
            "mode": attrs["mode"] or "tcp",
            "binds": attrs["binds"],
            "servers": attrs["servers"],
            "backend_refs": attrs["backend_refs"],
            "exposed": None,  # filled by the cross-format graph: True/False once it knows who can reach it
            "haproxy_version": None,  # filled from the image tag when the graph knows it
        }
    )


def _binds(section: Section, table: _Table) -> list[dict[str, Any]]:
    binds: list[dict[str, Any]] = []
    for statement in section.statements:
        if statement.keyword != "bind" or len(statement.words) < 2:
            continue
        found, where = model.options(statement.args(2), model.BIND_VALUE_OPTIONS)
        ssl = "ssl" in found or any(a.startswith("quic") for a in statement.words[1].text.split(","))
        for address_text in statement.words[1].text.split(","):
            if not address_text:
                continue
            index = len(binds)
            path = ("binds", index)
            table.at(path, statement)
            table.at((*path, "address"), statement, 1)
            for name, position in where.items():
                table.at((*path, "options", name), statement, position + 2)
            address = model.parse_address(address_text)
            binds.append(
                {
                    **address,
                    "ssl": ssl,
                    "options": found,
                    "loopback": model.is_loopback(address),
                    "line": statement.line,
                    "path": list(path),
                }
            )
    return binds


def _servers(section: Section, settings: model.Settings, table: _Table) -> list[dict[str, Any]]:
    defaults = {name: value for name, (value, _) in settings.default_server.items()}
    servers: list[dict[str, Any]] = []
    for statement in section.statements:
        template = statement.keyword == "server-template"
        if statement.keyword not in ("server", "server-template"):
            continue
        address_at = 3 if template else 2
        if len(statement.words) <= address_at:
            continue
        own, where = model.options(statement.args(address_at + 1), model.SERVER_VALUE_OPTIONS)
        effective = {**defaults, **own}
        index = len(servers)
        path = ("servers", index)
        table.at(path, statement)
        table.at((*path, "address"), statement, address_at)
        for name, position in where.items():
            table.at((*path, "options", name), statement, position + address_at + 1)
        address = model.parse_address(statement.words[address_at].text)
        servers.append(
            {
                "name": statement.words[1].text,
                **address,
                "check": _flag(effective, "check", "no-check") or "track" in effective,
                "own_check": "check" in own,
                "backup": _flag(effective, "backup", "no-backup"),
                "disabled": "disabled" in own,
                "ssl": _flag(effective, "ssl", "no-ssl"),
                "track": effective.get("track"),
                "template": template,
                "count": _template_count(statement.words[2].text) if template else 1,
                "options": own,
                "line": statement.line,
                "path": list(path),
            }
        )
    return servers


def _flag(options: dict[str, Any], on: str, off: str) -> bool:
    return on in options and off not in options


def _template_count(text: str) -> int:
    low, _, high = text.partition("-")
    try:
        return max(1, int(high) - int(low) + 1) if high else max(1, int(low))
    except ValueError:
        return 1


def _acls(section: Section, table: _Table) -> list[dict[str, Any]]:
    acls: list[dict[str, Any]] = []
    for statement in section.statements:
        if statement.keyword != "acl" or len(statement.words) < 3:
            continue
        path = ("acls", len(acls))
        table.at(path, statement, 1)
        args = statement.args(2)
        acls.append({"name": statement.words[1].text, "criterion": args[0], "values": args[1:], "line": statement.line})
    return acls


def _backend_refs(section: Section, settings: model.Settings, table: _Table) -> list[dict[str, Any]]:
    refs: list[dict[str, Any]] = []
    for statement in section.statements:
        if statement.keyword == "use_backend" and len(statement.words) > 1:
            _, condition = model.split_condition(statement.args())
            _add_ref(refs, table, statement, "use_backend", condition, inherited=False)
    entry = settings.single.get("default_backend")
    if entry and entry[0]:
        origin = entry[1]
        _add_ref(refs, table, origin.statement, "default_backend", None, inherited=origin.section != section.node_id)
    return refs


def _add_ref(
    refs: list[dict[str, Any]], table: _Table, statement: Statement, keyword: str, condition: Any, inherited: bool
) -> None:
    target = statement.words[1].text
    path = ("backend_refs", len(refs))
    table.at(path, statement, 1)
    refs.append(
        {
            "keyword": keyword,
            "target": target,
            "dynamic": "%[" in target or "$" in target,
            "condition": condition,
            "inherited": inherited,
            "line": statement.line,
            "path": list(path),
        }
    )
