"""Map rendered Helm output back to the template lines and the values entries that produced it.

Helm gives no source map, so this module rebuilds one by aligning the rendered text with the
templates. A template is lexed and parsed (actions, if/with/range blocks, trimming markers),
then unrolled into a *skeleton*: the lines the template can print, each a pattern made of its
literal text with every action as a wildcard. Multi-line helpers (`include` ... `| nindent N`)
and `.Files.Get` files are spliced into the skeleton, so their lines are patterns too; other
actions that may print many lines (`toYaml`, `tpl`) become *expansions*: any number of lines
printed by that one action.

The rendered lines are then aligned with the skeleton by a Viterbi search over the template's
control flow (a block may be skipped, a range body may repeat), keeping a small beam of the
best partial alignments. Evidence is the literal text a line shares with a pattern; lines
printed by an action cost a little more than lines matched literally, so the search only
explains lines by an action when the template text cannot.

Origins follow what a user edits: literal text points at its template line (or at the line
of a `.Files.Get` file); lines printed by a helper, `toYaml` or `tpl` point at that action's
`{{` in the template that called it. Values: the `.Values` keys the matched line prints are
looked up in the values files, highest precedence first.
"""

from __future__ import annotations

import bisect
import heapq
import io
import itertools
import math
import os
import re
import tarfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from infralint.parsers.result import dig
from infralint.parsers.yamlpos import YamlInputError, load_documents
from infralint.render.model import LineOrigin, ValueOrigin

__all__ = ["ChartSources", "ValuesLayer", "map_rendered"]


@dataclass(frozen=True)
class ValuesLayer:
    """Values the user gives a chart: a values file's text, or `set` entries of a config file."""

    path: str  # relative to the scan root
    text: str | None  # YAML text of a values file; None for `set` entries
    sets: tuple[tuple[str, int, int | None], ...] = ()  # (dotted key, line, col) in `path`


# ---------------------------------------------------------------------------------------------
# Go template lexing
# ---------------------------------------------------------------------------------------------

_SPACE = " \t\r\n"  # what Go's trim markers remove
# Inside an action, `}}` closes it unless it sits in a string, raw string or char constant.
_ACTION_END = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`]*`|\'(?:[^\'\\\n]|\\.)*\'|\}\}')


class _Text:
    __slots__ = ("start", "text")

    def __init__(self, start: int, text: str) -> None:
        self.start = start  # offset in the file
        self.text = text


class _Action:
    __slots__ = ("comment", "inner", "start")

    def __init__(self, start: int, inner: str, comment: bool) -> None:
        self.start = start  # offset of `{{`
        self.inner = inner  # between the delimiters and trim markers
        self.comment = comment


def _lex(source: str) -> list[_Text | _Action]:
    """Split a template into literal text and actions, applying `{{-` / `-}}` trimming."""
    tokens: list[_Text | _Action] = []
    pos = 0
    trim_next = False
    size = len(source)
    while True:
        opening = source.find("{{", pos)
        if opening < 0:
            _add_text(tokens, source, pos, size, trim_next, False)
            return tokens
        after = opening + 2
        trim_left = source.startswith("-", after) and after + 1 < size and source[after + 1] in _SPACE
        body = after + 2 if trim_left else after
        end = _find_action_end(source, body)
        if end is None:  # unclosed action: the real renderer failed; the rest reads as text
            _add_text(tokens, source, pos, size, trim_next, False)
            return tokens
        inner_end, closing, comment = end
        _add_text(tokens, source, pos, opening, trim_next, trim_left)
        inner = source[body:inner_end]
        trim_next = len(inner) >= 2 and inner[-1] == "-" and inner[-2] in _SPACE
        if trim_next:
            inner = inner[:-2]
        tokens.append(_Action(opening, inner, comment))
        pos = closing + 2


def _find_action_end(source: str, body: int) -> tuple[int, int, bool] | None:
    """(end of the action's text incl. a right trim marker, offset of `}}`, is a comment)."""
    if source.startswith("/*", body):
        close = source.find("*/", body + 2)
        if close < 0:
            return None
        after = close + 2
        if source.startswith("}}", after):
            return after, after, True
        if source.startswith("-}}", after + 1) and after < len(source) and source[after] in _SPACE:
            return after + 2, after + 2, True
        return None
    for match in _ACTION_END.finditer(source, body):
        if match.group() == "}}":
            return match.start(), match.start(), False
    return None


def _add_text(tokens: list[_Text | _Action], source: str, start: int, end: int, lstrip: bool, rstrip: bool) -> None:
    text = source[start:end]
    if lstrip:
        stripped = text.lstrip(_SPACE)
        start += len(text) - len(stripped)
        text = stripped
    if rstrip:
        text = text.rstrip(_SPACE)
    if text:
        tokens.append(_Text(start, text))


# ---------------------------------------------------------------------------------------------
# Action analysis: keywords, pipelines, the values they read
# ---------------------------------------------------------------------------------------------

_ATOM = re.compile(
    r"""(?P<str>"(?:[^"\\]|\\.)*"|`[^`]*`)
    |(?P<char>'(?:[^'\\]|\\.)*')
    |(?P<decl>:=|=)
    |(?P<pipe>\|)
    |(?P<open>\()
    |(?P<close>\))
    |(?P<comma>,)
    |(?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
    |(?P<field>(?:\.[A-Za-z0-9_]+)+|\.)
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<num>-?[0-9][0-9A-Za-z_.+-]*)
    |(?P<space>\s+)
    |(?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)
_KEYWORDS = frozenset({"if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"})
# Functions after which the output is one line whatever their input.
_ONE_LINE_FUNCS = frozenset(
    {"quote", "squote", "b64enc", "sha256sum", "sha1sum", "adler32sum", "int", "int64", "float64", "len", "toJson",
     "mustToJson", "atoi", "randAlphaNum", "randAlpha", "randNumeric", "uuidv4", "semver", "kindOf", "typeOf", "now",
     "toDecimal", "urlquery"}
)  # fmt: skip
_ONE_LINE_ROOT_FIELDS = frozenset({"Release", "Chart", "Capabilities", "Template"})

Token = tuple[str, str]  # (kind, text)


def _tokenize(inner: str) -> list[Token]:
    return [(m.lastgroup or "other", m.group()) for m in _ATOM.finditer(inner) if m.lastgroup != "space"]


def _split_pipeline(tokens: Sequence[Token]) -> list[list[Token]]:
    """The commands of a pipeline: split at `|` outside parentheses."""
    commands: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        kind = token[0]
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth = max(0, depth - 1)
        elif kind == "pipe" and depth == 0:
            commands.append([])
            continue
        commands[-1].append(token)
    return [command for command in commands if command]


def _string_value(token: Token) -> str | None:
    kind, text = token
    if kind != "str":
        return None
    if text.startswith("`"):
        return text[1:-1]
    body = text[1:-1]
    if "\\" not in body:
        return body
    try:
        return body.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return body


def _int_value(token: Token) -> int | None:
    if token[0] != "num":
        return None
    try:
        return int(token[1])
    except ValueError:
        return None


class _Parsed:
    """An action's keyword, declared variables and pipeline."""

    __slots__ = ("decl", "keyword", "name", "pipeline")

    def __init__(self, keyword: str | None, decl: list[str], pipeline: list[Token], name: str | None) -> None:
        self.keyword = keyword  # if/elseif/else/elsewith/end/range/with/define/template/block/...; None: prints
        self.decl = decl  # `$a, $b :=` variables
        self.pipeline = pipeline
        self.name = name  # define/template/block name


def _parse_action(inner: str) -> _Parsed:
    tokens = _tokenize(inner)
    keyword: str | None = None
    if tokens and tokens[0][0] == "ident" and tokens[0][1] in _KEYWORDS:
        keyword = tokens[0][1]
        tokens = tokens[1:]
        if keyword == "else" and tokens and tokens[0][0] == "ident" and tokens[0][1] in ("if", "with"):
            keyword = "else" + tokens[0][1]
            tokens = tokens[1:]
    name = None
    if keyword in ("define", "template", "block") and tokens:
        name = _string_value(tokens[0])
        tokens = tokens[1:]
    decl: list[str] = []
    for index, token in enumerate(tokens[:4]):
        if token[0] == "decl":
            names = [t[1] for t in tokens[:index] if t[0] == "var"]
            if names and len(names) == len([t for t in tokens[:index] if t[0] != "comma"]):
                decl, tokens = names, tokens[index + 1 :]
            break
    return _Parsed(keyword, decl, tokens, name)


# A values path: keys (str), list indexes (int) and, inside a range body, an _Each marker that
# stands for the iteration's index or key until the alignment tells which iteration it is.
class _Each:
    __slots__ = ("chain",)

    def __init__(self, chain: int) -> None:
        self.chain = chain


PathKey = str | int | _Each
VPath = tuple[PathKey, ...]


class _RootType:
    """The template's top-level context (`.Values`, `.Release`, `.Files` ...)."""

    def __repr__(self) -> str:
        return "<root>"


_ROOT = _RootType()
Ctx = _RootType | VPath | None  # what `.` or a variable holds: the root, a values path, or unknown


@dataclass
class _Scope:
    dot: Ctx
    variables: dict[str, Ctx]

    def child(self, dot: Ctx) -> _Scope:
        return _Scope(dot, dict(self.variables))


def _descend(base: Ctx, parts: Sequence[str]) -> Ctx:
    if base is _ROOT:
        if not parts:
            return _ROOT
        return tuple(parts[1:]) if parts[0] == "Values" else None
    if isinstance(base, tuple):
        return base + tuple(parts)
    return None


def _resolve_chain(token: Token, scope: _Scope) -> Ctx:
    kind, text = token
    if kind == "var":
        name, _, rest = text.partition(".")
        return _descend(scope.variables.get(name), rest.split(".") if rest else [])
    if kind == "field":
        return _descend(scope.dot, text[1:].split(".") if text != "." else [])
    return None


def _resolve_operand(tokens: Sequence[Token], scope: _Scope) -> Ctx:
    """What a simple expression points at: `.Values.a`, `$x.b`, `(index .Values "a" 0)`, `default x .Values.a`."""
    if not tokens:
        return None
    if tokens[0][0] == "open" and tokens[-1][0] == "close":
        return _resolve_pipeline_value(tokens[1:-1], scope)
    if len(tokens) == 1:
        return _resolve_chain(tokens[0], scope)
    head = tokens[0]
    if head == ("ident", "index"):
        return _resolve_index(tokens[1:], scope)
    if head == ("ident", "default") and len(tokens) >= 3:
        return _resolve_operand(tokens[-1:], scope)
    return None


def _resolve_index(args: Sequence[Token], scope: _Scope) -> Ctx:
    if not args:
        return None
    base = _resolve_operand(args[:1], scope)
    if not isinstance(base, tuple):
        return None
    path = list(base)
    for token in args[1:]:
        key = _string_value(token)
        number = _int_value(token)
        if key is not None:
            path.append(key)
        elif number is not None:
            path.append(number)
        else:
            return None
    return tuple(path)


def _resolve_pipeline_value(tokens: Sequence[Token], scope: _Scope) -> Ctx:
    """The values path a pipeline passes on: `.Values.a | default x`, `index .Values "a"`."""
    commands = _split_pipeline(tokens)
    if not commands:
        return None
    value = _resolve_operand(commands[0], scope)
    for command in commands[1:]:
        if command[0] != ("ident", "default"):
            return None
    return value


def _value_refs(tokens: Sequence[Token], scope: _Scope) -> list[VPath]:
    """Every values key an action reads: field chains, `index .Values "a" "b"` forms."""
    refs: list[VPath] = []
    skip_until = -1
    for position, token in enumerate(tokens):
        if position <= skip_until:
            continue
        if token == ("ident", "index"):
            args = _index_args(tokens, position + 1)
            resolved = _resolve_index(args, scope)
            if isinstance(resolved, tuple) and resolved:
                refs.append(resolved)
                skip_until = position + len(args)
                continue
        if token[0] in ("field", "var"):
            resolved = _resolve_chain(token, scope)
            if isinstance(resolved, tuple) and resolved:
                refs.append(resolved)
    unique: list[VPath] = []
    for ref in refs:
        if ref not in unique:
            unique.append(ref)
    return unique


def _index_args(tokens: Sequence[Token], start: int) -> list[Token]:
    args: list[Token] = []
    for token in tokens[start:]:
        if (token[0] in ("field", "var") and not args) or (token[0] in ("str", "num") and args):
            args.append(token)
        else:
            break
    return args


def _pads(commands: Sequence[Sequence[Token]]) -> tuple[int, bool, int] | None:
    """The `| indent N` / `| nindent N` tail of a pipeline: (commands before it, starts with a
    newline, pad). None when the tail is anything else."""
    count = len(commands)
    if count >= 2 and len(commands[-1]) == 2 and commands[-1][0][1] in ("indent", "nindent"):
        width = _int_value(commands[-1][1])
        if width is not None and 0 <= width <= 1000:
            return count - 1, commands[-1][0][1] == "nindent", width
    return None


def _is_one_line(commands: Sequence[Sequence[Token]]) -> bool:
    """True when a pipeline cannot print a newline (its last function makes one line)."""
    last = commands[-1]
    if last[0][0] == "ident" and last[0][1] in _ONE_LINE_FUNCS:
        return True
    if len(commands) == 1 and len(last) == 1 and last[0][0] in ("field", "var"):
        parts = last[0][1].split(".")
        return len(parts) > 1 and parts[1] in _ONE_LINE_ROOT_FIELDS
    return False


# ---------------------------------------------------------------------------------------------
# Parse tree
# ---------------------------------------------------------------------------------------------


class _ActionNode:
    __slots__ = ("action", "parsed")

    def __init__(self, action: _Action, parsed: _Parsed) -> None:
        self.action = action
        self.parsed = parsed


class _BlockNode:
    """if / with / range: branches, each a condition action and a body (an `else` has no condition)."""

    __slots__ = ("branches", "kind")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.branches: list[tuple[_ActionNode | None, list[Node]]] = []


class _InlineNode:
    """`block "name" arg`: a define that is executed where it stands."""

    __slots__ = ("body", "head")

    def __init__(self, head: _ActionNode) -> None:
        self.head = head
        self.body: list[Node] = []


Node = _Text | _ActionNode | _BlockNode | _InlineNode
_MAX_NESTING = 100


@dataclass
class _Define:
    name: str
    body: list[Node]
    unit: _Unit


def _parse_tree(tokens: list[_Text | _Action]) -> tuple[list[Node], list[tuple[str, list[Node]]]]:
    """The template's nodes, and its `define` bodies by name. Unbalanced blocks are closed at the end."""
    top: list[Node] = []
    defines: list[tuple[str, list[Node]]] = []
    # Stack of (container of the current body, the block it belongs to or None, define name).
    stack: list[tuple[list[Node], Any, str | None]] = [(top, None, None)]
    too_deep = 0  # blocks opened past _MAX_NESTING: ignored, with their `end`
    for token in tokens:
        body = stack[-1][0]
        if isinstance(token, _Text):
            body.append(token)
            continue
        if token.comment:
            continue
        parsed = _parse_action(token.inner)
        keyword = parsed.keyword
        node = _ActionNode(token, parsed)
        if keyword in ("if", "with", "range", "define", "block") and len(stack) >= _MAX_NESTING:
            too_deep += 1
        elif keyword == "end" and too_deep:
            too_deep -= 1
        elif keyword in ("if", "with", "range"):
            block = _BlockNode(keyword)
            branch: list[Node] = []
            block.branches.append((node, branch))
            body.append(block)
            stack.append((branch, block, None))
        elif keyword in ("else", "elseif", "elsewith") and isinstance(stack[-1][1], _BlockNode):
            block = stack[-1][1]
            branch = []
            block.branches.append((node if keyword != "else" else None, branch))
            stack[-1] = (branch, block, None)
        elif keyword in ("define", "block"):
            branch = []
            if keyword == "block":
                inline = _InlineNode(node)
                inline.body = branch
                body.append(inline)
            stack.append((branch, None, parsed.name or ""))
        elif keyword == "end":
            if len(stack) > 1:
                container, _, define_name = stack.pop()
                if define_name is not None:
                    defines.append((define_name, container))
        else:
            body.append(node)
    while len(stack) > 1:
        container, _, define_name = stack.pop()
        if define_name is not None:
            defines.append((define_name, container))
    return top, defines


# ---------------------------------------------------------------------------------------------
# Chart sources
# ---------------------------------------------------------------------------------------------

_MAX_FILE_BYTES = 16 * 1024 * 1024
_MAX_ARCHIVE_BYTES = 64 * 1024 * 1024  # bytes read out of one archive
_MAX_ARCHIVE_SCAN = 512 * 1024 * 1024  # member sizes walked through (a gzip bomb stops here)
_MAX_ARCHIVE_MEMBERS = 20_000
_MAX_CHART_DEPTH = 8


class _Unit:
    """One template source (a template file, a `.Files.Get` file) with its line index."""

    __slots__ = ("_nodes", "_starts", "chart", "path", "text")

    def __init__(self, chart: _Chart, path: str | None, text: str) -> None:
        self.chart = chart
        self.path = path  # relative to the scan root; None inside an archive
        self.text = text
        self._starts: list[int] | None = None
        self._nodes: tuple[list[Node], list[tuple[str, list[Node]]]] | None = None

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, col) of an offset."""
        if self._starts is None:
            starts = [0]
            find = self.text.find
            index = find("\n")
            while index >= 0:
                starts.append(index + 1)
                index = find("\n", index + 1)
            self._starts = starts
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1

    def parsed(self) -> tuple[list[Node], list[tuple[str, list[Node]]]]:
        if self._nodes is None:
            self._nodes = _parse_tree(_lex(self.text))
        return self._nodes


@dataclass
class _Chart:
    name: str
    path: str | None  # chart folder relative to the scan root; None inside an archive
    templates: dict[str, str]  # "templates/x.yaml" -> text
    read_file: Callable[[str], str | None]  # a chart file by its path in the chart
    values_text: str | None
    parent: _Chart | None = None
    subcharts: dict[str, _Chart] = field(default_factory=dict)
    anchor: LineOrigin | None = None  # archived chart: where its lines are reported
    units: dict[str, _Unit] = field(default_factory=dict)

    def file_path(self, relative: str) -> str | None:
        if self.path is None:
            return None
        return relative if self.path in ("", ".") else f"{self.path}/{relative}"

    def unit(self, relative: str, text: str) -> _Unit:
        unit = self.units.get(relative)
        if unit is None or unit.text != text:
            unit = self.units[relative] = _Unit(self, self.file_path(relative), text)
        return unit


def _decode(data: bytes | None) -> str | None:
    if data is None:
        return None
    return data.decode("utf-8", errors="replace")


def _inside(real_root: str, path: str) -> bool:
    real = os.path.realpath(path)
    try:
        return os.path.commonpath([real_root, real]) == real_root
    except ValueError:
        return False


def _read_inside(real_root: str, path: str) -> bytes | None:
    """A regular file's bytes, if it resolves inside the scan root and is not huge."""
    try:
        if not _inside(real_root, path) or not os.path.isfile(path):
            return None
        if os.path.getsize(path) > _MAX_FILE_BYTES:
            return None
        with open(path, "rb") as handle:
            return handle.read(_MAX_FILE_BYTES)
    except OSError:
        return None


def _relative(root: str, path: str) -> str:
    relative = os.path.relpath(path, root).replace(os.sep, "/")
    return "" if relative == "." else relative


def _safe_member_path(relative: str) -> str | None:
    """A chart-relative path without `..` or absolute parts (for `.Files.Get` and archives)."""
    parts = [part for part in relative.replace("\\", "/").split("/") if part not in ("", ".")]
    if not parts or ".." in parts or ":" in parts[0]:
        return None
    return "/".join(parts)


@dataclass
class _ChartMeta:
    name: str | None
    dependencies: list[tuple[str, str | None, int, int]]  # (name, alias, line, col of the entry)


def _chart_meta(text: str | None) -> _ChartMeta:
    meta = _ChartMeta(None, [])
    if not text:
        return meta
    document = _first_document(text)
    if document is None or not isinstance(document.data, dict):
        return meta
    data = document.data
    if isinstance(data.get("name"), str):
        meta.name = data["name"]
    meta.dependencies = _dependency_entries(document.data.get("dependencies"), document.positions)
    return meta


def _dependency_entries(
    entries: Any, positions: dict[Any, tuple[int, int, int]]
) -> list[tuple[str, str | None, int, int]]:
    found: list[tuple[str, str | None, int, int]] = []
    if not isinstance(entries, list):
        return found
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        alias = entry.get("alias") if isinstance(entry.get("alias"), str) else None
        line, col, _ = positions.get(("dependencies", index), (0, 0, 0))
        found.append((entry["name"], alias, line, col))
    return found


def _first_document(text: str) -> Any:
    try:
        return next(iter(load_documents(text)), None)
    except (YamlInputError, RecursionError, MemoryError):
        return None


class _FolderReader:
    """`.Files.Get` reads of a chart folder, on demand (a chart may hold large data files)."""

    def __init__(self, real_root: str, folder: str) -> None:
        self.real_root = real_root
        self.folder = folder

    def __call__(self, relative: str) -> str | None:
        safe = _safe_member_path(relative)
        if safe is None or safe.startswith(("templates/", "charts/")):
            return None
        return _decode(_read_inside(self.real_root, os.path.join(self.folder, *safe.split("/"))))


def _load_folder_chart(real_root: str, root: str, folder: str, parent: _Chart | None, depth: int) -> _Chart:
    chart_yaml = _decode(_read_inside(real_root, os.path.join(folder, "Chart.yaml")))
    meta = _chart_meta(chart_yaml)
    chart = _Chart(
        name=meta.name or os.path.basename(os.path.normpath(folder)),
        path=_relative(root, folder),
        templates=_folder_templates(real_root, folder),
        read_file=_FolderReader(real_root, folder),
        values_text=_decode(_read_inside(real_root, os.path.join(folder, "values.yaml"))),
        parent=parent,
    )
    if depth < _MAX_CHART_DEPTH:
        _add_folder_subcharts(chart, real_root, root, folder, meta, depth)
    return chart


def _folder_templates(real_root: str, folder: str) -> dict[str, str]:
    templates: dict[str, str] = {}
    base = os.path.join(folder, "templates")
    if not os.path.isdir(base) or not _inside(real_root, base):
        return templates
    for directory, dirnames, filenames in os.walk(base, followlinks=False):
        dirnames.sort()
        for filename in sorted(filenames):
            full = os.path.join(directory, filename)
            text = _decode(_read_inside(real_root, full))
            if text is not None:
                templates["templates/" + os.path.relpath(full, base).replace(os.sep, "/")] = text
    return templates


def _add_folder_subcharts(chart: _Chart, real_root: str, root: str, folder: str, meta: _ChartMeta, depth: int) -> None:
    """Subcharts vendored under charts/: folders, and archives read in memory."""
    charts_dir = os.path.join(folder, "charts")
    if not os.path.isdir(charts_dir) or not _inside(real_root, charts_dir):
        return
    requirements = _chart_meta(_decode(_read_inside(real_root, os.path.join(folder, "requirements.yaml"))))
    dependencies = meta.dependencies + requirements.dependencies
    chart_yaml_path = chart.file_path(
        "Chart.yaml" if meta.dependencies or not requirements.dependencies else "requirements.yaml"
    )
    for entry in sorted(os.listdir(charts_dir)):
        full = os.path.join(charts_dir, entry)
        if not _inside(real_root, full):
            continue
        sub: _Chart | None = None
        if os.path.isdir(full) and os.path.isfile(os.path.join(full, "Chart.yaml")):
            sub = _load_folder_chart(real_root, root, full, chart, depth + 1)
        elif entry.endswith((".tgz", ".tar.gz")) and os.path.isfile(full):
            data = _read_inside(real_root, full)
            if data is not None:
                sub = _load_archive_chart(data, chart, depth + 1, None)
                if sub is not None:
                    anchor = _dependency_anchor(sub.name, dependencies, chart_yaml_path)
                    _set_anchor(sub, anchor)
        if sub is not None:
            _register_subchart(chart, sub, dependencies)


def _dependency_anchor(
    name: str, dependencies: list[tuple[str, str | None, int, int]], path: str | None
) -> LineOrigin | None:
    for dep_name, _, line, col in dependencies:
        if dep_name == name and path is not None and line > 0:
            return LineOrigin(path, line, col=col)
    return None


def _set_anchor(chart: _Chart, anchor: LineOrigin | None) -> None:
    chart.anchor = anchor
    for sub in chart.subcharts.values():
        _set_anchor(sub, anchor)


def _register_subchart(parent: _Chart, sub: _Chart, dependencies: list[tuple[str, str | None, int, int]]) -> None:
    """A subchart is rendered (and takes values) under its alias when Chart.yaml gives one."""
    aliases = [alias for name, alias, _, _ in dependencies if name == sub.name and alias]
    for alias in aliases:
        parent.subcharts.setdefault(alias, sub)
    parent.subcharts.setdefault(sub.name, sub)


def _archive_members(data: bytes) -> dict[str, bytes]:
    """Regular files of a chart archive, read in memory: never extracted, links ignored, bounded."""
    members: dict[str, bytes] = {}
    read = scanned = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            for count, member in enumerate(archive):
                scanned += max(0, member.size)
                if count >= _MAX_ARCHIVE_MEMBERS or scanned > _MAX_ARCHIVE_SCAN:
                    break
                if not member.isfile() or member.size > _MAX_FILE_BYTES or read + member.size > _MAX_ARCHIVE_BYTES:
                    continue
                name = _safe_member_path(member.name)
                handle = archive.extractfile(member) if name else None
                if name is None or handle is None:
                    continue
                members[name] = handle.read(member.size)
                read += member.size
    except (tarfile.TarError, OSError, EOFError, zlib.error, ValueError):
        return members
    return members


def _load_archive_chart(data: bytes, parent: _Chart | None, depth: int, anchor: LineOrigin | None) -> _Chart | None:
    members = _archive_members(data)
    tops = sorted({name.split("/", 1)[0] for name in members if "/" in name})
    top = next((name for name in tops if f"{name}/Chart.yaml" in members), None)
    if top is None:
        return None
    return _chart_from_members(members, top + "/", parent, depth, anchor)


def _chart_from_members(
    members: dict[str, bytes], prefix: str, parent: _Chart | None, depth: int, anchor: LineOrigin | None
) -> _Chart:
    own = {name[len(prefix) :]: data for name, data in members.items() if name.startswith(prefix)}
    meta = _chart_meta(_decode(own.get("Chart.yaml")))
    templates = {name: _decode(data) or "" for name, data in own.items() if name.startswith("templates/")}

    def read_file(relative: str) -> str | None:
        safe = _safe_member_path(relative)
        return _decode(own.get(safe)) if safe and not safe.startswith(("templates/", "charts/")) else None

    chart = _Chart(
        name=meta.name or prefix.rstrip("/").rsplit("/", 1)[-1],
        path=None,
        templates=templates,
        read_file=read_file,
        values_text=_decode(own.get("values.yaml")),
        parent=parent,
        anchor=anchor,
    )
    if depth >= _MAX_CHART_DEPTH:
        return chart
    folders = sorted({name.split("/")[1] for name in own if name.startswith("charts/") and name.count("/") >= 2})
    for folder in folders:
        if f"charts/{folder}/Chart.yaml" in own:
            sub = _chart_from_members(own, f"charts/{folder}/", chart, depth + 1, anchor)
            _register_subchart(chart, sub, meta.dependencies)
    for name in sorted(own):
        if name.startswith("charts/") and name.count("/") == 1 and name.endswith((".tgz", ".tar.gz")):
            archived = _load_archive_chart(own[name], chart, depth + 1, anchor)
            if archived is not None:
                _register_subchart(chart, archived, meta.dependencies)
    return chart


def _all_charts(chart: _Chart) -> Iterator[_Chart]:
    seen: set[int] = set()
    stack = [chart]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(current.subcharts.values())


class ChartSources:
    """A chart's sources as the mapping needs them: templates (helpers included), files for
    `.Files.Get`, values.yaml and subcharts (folders, and `.tgz` archives read in memory)."""

    def __init__(self, root: str, chart: _Chart | None) -> None:
        self.root = root
        self.chart = chart
        self._defines: dict[str, list[_Define]] | None = None
        self._skeletons: dict[str, _Skeleton] = {}
        self._values_files: dict[Any, _ValuesFile] = {}

    @classmethod
    def load(cls, root: str, chart_dir: str) -> ChartSources:
        """root: absolute scan root; chart_dir: absolute chart folder (inside root)."""
        real_root = os.path.realpath(root)
        if not os.path.isdir(chart_dir) or not _inside(real_root, chart_dir):
            return cls(root, None)
        return cls(root, _load_folder_chart(real_root, root, chart_dir, None, 0))

    def template_path(self, template_name: str) -> str | None:
        """The repository path of a rendered template ("podinfo/templates/x.yaml" -> its file)."""
        located = self._locate(template_name)
        if located is None:
            return None
        _, charts, relative = located
        return charts[-1].file_path(relative)

    # -- lookups used by the mapping ---------------------------------------------------------

    def _locate(self, template_name: str) -> tuple[list[str], list[_Chart], str] | None:
        """(names of the charts on the way, the charts, template path in the last chart)."""
        if self.chart is None:
            return None
        parts = template_name.split("/")
        names, charts = [parts[0]], [self.chart]
        index = 1
        while index + 2 < len(parts) and parts[index] == "charts" and parts[index + 1] in charts[-1].subcharts:
            names.append(parts[index + 1])
            charts.append(charts[-1].subcharts[parts[index + 1]])
            index += 2
        relative = "/".join(parts[index:])
        if relative not in charts[-1].templates:
            return None
        return names, charts, relative

    def _define(self, name: str, chart: _Chart) -> _Define | None:
        if self._defines is None:
            self._defines = self._collect_defines()
        found = self._defines.get(name)
        if not found:
            return None
        # Helm parses parent and subchart templates into one namespace; prefer the caller's chart.
        return next((define for define in found if define.unit.chart is chart), found[-1])

    def _collect_defines(self) -> dict[str, list[_Define]]:
        defines: dict[str, list[_Define]] = {}
        if self.chart is None:
            return defines
        for chart in _all_charts(self.chart):
            for relative, text in sorted(chart.templates.items()):
                if "define" not in text and "block" not in text:
                    continue
                unit = chart.unit(relative, text)
                for name, body in unit.parsed()[1]:
                    defines.setdefault(name, []).append(_Define(name, body, unit))
        return defines

    def _skeleton(self, template_name: str, chart: _Chart, relative: str) -> _Skeleton:
        skeleton = self._skeletons.get(template_name)
        if skeleton is None:
            unit = chart.unit(relative, chart.templates[relative])
            skeleton = self._skeletons[template_name] = _build_skeleton(self, unit)
        return skeleton

    def _chart_values(self, chart: _Chart) -> _ValuesFile:
        key = ("chart", id(chart))
        values = self._values_files.get(key)
        if values is None:
            values = self._values_files[key] = _ValuesFile(chart.file_path("values.yaml"), chart.values_text)
        return values

    def _layer_values(self, layer: ValuesLayer) -> _ValuesFile:
        key = ("layer", layer.path, layer.text, layer.sets)
        values = self._values_files.get(key)
        if values is None:
            if len(self._values_files) > 256:  # layers of many scans: keep memory bounded
                self._values_files.clear()
            values = self._values_files[key] = _ValuesFile(layer.path, layer.text, layer.sets)
        return values


# ---------------------------------------------------------------------------------------------
# Skeleton: the lines a template can print
# ---------------------------------------------------------------------------------------------

_MAX_SPLICE_DEPTH = 8
_MAX_SKELETON_LINES = 400_000


class _Lit:
    """Literal text of a skeleton line. `path`/`line`/`col`: where it is written (None path
    with line 0 for synthetic padding); `via`: the action that printed it, when the text lives
    in a helper (findings go to that action, not into _helpers.tpl)."""

    __slots__ = ("col", "line", "path", "text", "via")

    def __init__(self, text: str, path: str | None, line: int, col: int, via: _Where | None) -> None:
        self.text = text
        self.path = path
        self.line = line
        self.col = col
        self.via = via


class _Where:
    """A place to report: a file (None inside an archive), line and the column of an action's `{{`."""

    __slots__ = ("col", "line", "path")

    def __init__(self, path: str | None, line: int, col: int) -> None:
        self.path = path
        self.line = line
        self.col = col


class _Print:
    """An action that prints (`{{ .Values.x }}`, `{{ toYaml ... | nindent 4 }}`)."""

    __slots__ = ("direct", "multiline", "newline_first", "pad", "refs", "text_path", "where", "yaml_path")

    def __init__(self, where: _Where, direct: bool, refs: tuple[VPath, ...]) -> None:
        self.where = where
        self.direct = direct  # written in the file the line maps to (not inside a helper)
        self.refs = refs
        self.multiline = True
        self.newline_first = False  # `| nindent N`: the output starts on a new line
        self.pad = 0  # spaces every output line starts with (outer indents included)
        self.yaml_path: VPath | None = None  # toYaml of this values path: nested keys can be found
        self.text_path: VPath | None = None  # tpl / plain print of this values path


class _Mark:
    """A block boundary inside a line: role 0 opens a chain, 1 starts another branch, 2 closes it."""

    __slots__ = ("after", "chain", "role")

    def __init__(self, chain: int, role: int, after: int) -> None:
        self.chain = chain
        self.role = role
        self.after = after  # the branch text after the boundary is printed in


Segment = _Lit | _Print | _Mark


class _Branch:
    __slots__ = ("chain", "first", "last", "parent")

    def __init__(self, parent: int, chain: int, first: int) -> None:
        self.parent = parent  # enclosing branch
        self.chain = chain  # -1 for the root
        self.first = first  # lines that start inside this branch: first..last
        self.last = first - 1


class _Chain:
    __slots__ = ("branches", "end", "exhaustive", "kind", "tests")

    def __init__(self, kind: str, exhaustive: bool) -> None:
        self.kind = kind  # if / with / range
        self.exhaustive = exhaustive  # an if/with with an else: some branch always runs
        self.branches: list[int] = []
        self.end = -1  # last line inside any branch
        self.tests: list[tuple[list[Token], _Scope] | None] = []  # each branch's condition (None: else)


Item = _Lit | _Print | None  # None: a wildcard
_MAX_VARIANTS = 8


class _Variant:
    """One way a skeleton line can print, as patterns over the rendered line.

    Patterns are tuples of literal pieces with a wildcard between consecutive pieces: one piece
    means the exact text. `full` is the line printed whole; `head` and `tail` the first and the
    last rendered line when the line's first multi-line action (`expand`) prints several lines."""

    __slots__ = ("choices", "deeper", "expand", "full", "head", "items", "tail", "w_full", "w_head", "w_tail")

    def __init__(self, items: list[Item], choices: tuple[Choice, ...]) -> None:
        self.items = items
        self.choices = choices  # branches taken by blocks inside the line
        expand_at = next((i for i, item in enumerate(items) if isinstance(item, _Print) and item.multiline), -1)
        self.expand: _Print | None = None
        self.full: tuple[str, ...] | None = _pieces(items)
        self.head: tuple[str, ...] | None = None
        self.tail: tuple[str, ...] | None = None
        self.deeper = 0  # the least indentation of the lines an expansion continues on
        if expand_at >= 0:
            expand = items[expand_at]
            assert isinstance(expand, _Print)
            self.expand = expand
            self.head = _pieces(items[:expand_at] if expand.newline_first else [*items[:expand_at], None])
            after = items[expand_at + 1 :]
            if any(isinstance(item, _Print) or (isinstance(item, _Lit) and item.text) for item in after):
                self.tail = _pieces([None, *after])
            if expand.newline_first:
                self.full = None  # nindent always breaks the line
            elif self.head[0].strip():
                # `key: {{ include ... }}`: in YAML, a value's further lines are indented deeper than its key.
                self.deeper = len(self.head[0]) - len(self.head[0].lstrip()) + 1
        self.w_full = _weight(self.full)
        self.w_head = _weight(self.head)
        self.w_tail = _weight(self.tail)


class _SkLine:
    """One line a template can print: the branch it is printed in, and its variants (one per
    choice of the blocks that open and close within the line; at most 16, see _state)."""

    __slots__ = ("branch", "joined", "split", "variants")

    def __init__(self, branch: int, segments: list[Segment], chains: list[_Chain], joined: bool = False) -> None:
        self.branch = branch
        # A joined line has no line break before it: it is the part of a line after a block that
        # may not have run, and only starts a multi-line output (`{{- toYaml . | nindent 8 }}`),
        # so that output follows whichever line printed last.
        self.joined = joined
        self.split = _splits(segments)
        self.variants = [_Variant(items, choices) for items, choices in _line_variants(segments, chains)[:16]]


def _line_variants(segments: list[Segment], chains: list[_Chain]) -> list[Option]:
    if not any(isinstance(segment, _Mark) for segment in segments):
        return [([s for s in segments if not isinstance(s, _Mark)], ())]
    closing = {s.chain: i for i, s in enumerate(segments) if isinstance(s, _Mark) and s.role == 2}
    options = _alternatives(segments, 0, len(segments), closing, chains)
    cut = _open_after_content(segments, closing)
    if cut > 0 and len(options) < _MAX_VARIANTS:
        # `data:{{- range ...}}...`: the block may print nothing on this line (its text is on later lines).
        options.append(([s for s in segments[:cut] if not isinstance(s, _Mark)], ()))
    return options


def _open_after_content(segments: list[Segment], closing: dict[int, int]) -> int:
    """The first boundary of a block spanning lines that text precedes and follows, or -1."""
    for index, segment in enumerate(segments):
        if isinstance(segment, _Mark) and segment.role == 0 and closing.get(segment.chain, -1) < index:
            before = any(_is_content(s) for s in segments[:index])
            after = any(_is_content(s) for s in segments[index + 1 :])
            return index if before and after else -1
    return -1


Choice = tuple[int, int]  # (chain, branch index or -1 for none) taken by a block inside a line
Option = tuple[list[Item], tuple[Choice, ...]]


def _alternatives(
    segments: list[Segment], start: int, end: int, closing: dict[int, int], chains: list[_Chain]
) -> list[Option]:
    """The item lists segments[start:end] can print, with the branch choices behind each. A
    boundary of a block that spans lines is a wildcard when content surrounds it (what the
    block prints on this line is unknown)."""
    results: list[Option] = [([], ())]
    index = start
    while index < end:
        segment = segments[index]
        if not isinstance(segment, _Mark):
            for items, _ in results:
                items.append(segment)
        elif segment.role == 0 and closing.get(segment.chain, -1) > index:
            close = closing[segment.chain]
            options = _inline_options(segments, index, close, closing, chains)
            if len(results) * len(options) > _MAX_VARIANTS:
                options = [([_first_expanding(segments[index:close])], ())]
            results = [([*items, *more], (*made, *chosen)) for items, made in results for more, chosen in options]
            index = close
        elif any(_is_content(item) for item in results[0][0]) and any(
            _is_content(item) for item in segments[index + 1 : end]
        ):
            for items, _ in results:
                items.append(None)
        index += 1
    return results


def _inline_options(
    segments: list[Segment], open_at: int, close: int, closing: dict[int, int], chains: list[_Chain]
) -> list[Option]:
    """What a block that opens and closes within one line can print: each branch, or nothing."""
    chain_id = segments[open_at].chain  # type: ignore[union-attr]
    chain = chains[chain_id]
    bounds = [open_at]
    bounds += [i for i in range(open_at + 1, close) if _is_mark(segments[i], chain_id, 1)]
    bounds.append(close)
    options: list[Option] = []
    first = 0
    if chain.kind == "range":  # any number of iterations: one wildcard (or the action printing lines)
        options.append(([_first_expanding(segments[bounds[0] + 1 : bounds[1]])], ((chain_id, 0),)))
        bounds = bounds[1:]
        first = 1
    for branch, (low, high) in enumerate(itertools.pairwise(bounds), start=first):
        for items, chosen in _alternatives(segments, low + 1, high, closing, chains):
            options.append((items, ((chain_id, branch), *chosen)))
    if not chain.exhaustive:
        options.append(([], ((chain_id, -1),)))
    return options


def _splits(segments: list[Segment]) -> bool:
    """Text on both sides of a boundary of a block that does not open and close in this line."""
    if not any(isinstance(segment, _Mark) for segment in segments):
        return False
    roles: dict[int, set[int]] = {}
    for segment in segments:
        if isinstance(segment, _Mark):
            roles.setdefault(segment.chain, set()).add(segment.role)
    for index, segment in enumerate(segments):
        if (
            isinstance(segment, _Mark)
            and not {0, 2} <= roles[segment.chain]
            and any(_is_content(s) for s in segments[:index])
            and any(_is_content(s) for s in segments[index + 1 :])
        ):
            return True
    return False


def _joined_split(segments: list[Segment], chains: list[_Chain]) -> int:
    """Where a line's text after the end of a block that opened on an earlier line is only the
    start of a multi-line output (see _SkLine.joined); -1 if it is not."""
    opened = {s.chain for s in segments if isinstance(s, _Mark) and s.role == 0}
    for index, segment in enumerate(segments):
        if not (isinstance(segment, _Mark) and segment.role == 2 and segment.chain not in opened):
            continue
        if not any(_is_content(s) and not (isinstance(s, _Lit) and not s.text.strip()) for s in segments[:index]):
            continue
        variants = [items for items, _ in _line_variants(segments[index:], chains)]
        if all(_starts_new_line(items) for items in variants) and any(_first_print(items) for items in variants):
            return index
        return -1
    return -1


def _starts_new_line(items: list[Item]) -> bool:
    """Blanks only, up to a print that starts on a new line (or to the end)."""
    for item in items:
        if isinstance(item, _Print):
            return item.newline_first
        if isinstance(item, _Lit) and item.text.strip():
            return False
    return True


def _first_print(items: list[Item]) -> _Print | None:
    return next((item for item in items if isinstance(item, _Print)), None)


def _is_mark(segment: Segment, chain: int, role: int) -> bool:
    return isinstance(segment, _Mark) and segment.chain == chain and segment.role == role


def _first_expanding(segments: Sequence[Segment]) -> _Print | None:
    return next((s for s in segments if isinstance(s, _Print) and s.multiline), None)


def _is_content(item: Segment | None) -> bool:
    return isinstance(item, _Print) or (isinstance(item, _Lit) and bool(item.text))


def _line_block(start_branch: int, segments: list[Segment], branches: list[_Branch]) -> int:
    """The block a line's text is printed in. A line starts in the block of the newline before
    it, but moves across boundaries that come before its first content: after `{{ if x -}}`
    the branch's text continues the line. A line with no content prints (empty) whichever
    branch runs: it belongs to the block around all of them. Blocks opening and closing
    within the line do not move it (its variants cover them)."""
    closing = {s.chain for s in segments if isinstance(s, _Mark) and s.role == 2}
    branch = start_branch
    visited = [start_branch]
    for segment in segments:
        if _is_content(segment):
            return branch
        if isinstance(segment, _Mark) and not (segment.role != 2 and segment.chain in closing):
            branch = segment.after
            visited.append(branch)
    return _common_block(visited, branches)


def _common_block(visited: list[int], branches: list[_Branch]) -> int:
    common = _ancestors(visited[0], branches)
    for branch in visited[1:]:
        ancestors = set(_ancestors(branch, branches))
        common = [b for b in common if b in ancestors]
    return common[0] if common else 0


def _ancestors(branch: int, branches: list[_Branch]) -> list[int]:
    """The branch and the branches around it, innermost first."""
    found: list[int] = []
    while branch >= 0 and len(found) <= _MAX_NESTING * 4:
        found.append(branch)
        branch = branches[branch].parent
    return found


def _set_block_ranges(skeleton: _Skeleton) -> None:
    """Each branch spans the lines printed in it or in blocks nested in it."""
    branches = skeleton.branches
    for branch in branches[1:]:
        branch.first, branch.last = 0, -1
    for index, line in enumerate(skeleton.lines):
        branch_id = line.branch
        while branch_id > 0:
            branch = branches[branch_id]
            if branch.first > branch.last:
                branch.first = index
            branch.last = index
            branch_id = branch.parent
    for chain in skeleton.chains:
        chain.end = max((branches[b].last for b in chain.branches), default=-1)


def _pieces(items: Sequence[Item]) -> tuple[str, ...]:
    pieces = [""]
    wild = False
    for item in items:
        if isinstance(item, _Lit):
            if wild:
                pieces.append(item.text)
                wild = False
            else:
                pieces[-1] += item.text
        else:
            wild = True
    if wild:
        pieces.append("")
    pieces[-1] = pieces[-1].rstrip()  # lines are compared without trailing blanks (`{{- end }}  ` leaves some)
    return tuple(pieces)


def _weight(pieces: tuple[str, ...] | None) -> int:
    """Evidence a pattern carries: its non-blank literal characters."""
    if pieces is None:
        return 0
    return sum(len(piece) - piece.count(" ") for piece in pieces)


def _fits(pieces: tuple[str, ...], text: str) -> bool:
    """Whether text matches literal pieces with a wildcard between each (leftmost placement),
    trailing blanks aside."""
    if _fits_exactly(pieces, text):
        return True
    stripped = text.rstrip()
    return len(stripped) < len(text) and _fits_exactly(pieces, stripped)


def _fits_exactly(pieces: tuple[str, ...], text: str) -> bool:
    if len(pieces) == 1:
        return text == pieces[0]
    first = pieces[0]
    last = pieces[-1]
    if not text.startswith(first) or not text.endswith(last):
        return False
    end = len(text) - len(last)
    position = len(first)
    if end < position:
        return False
    for piece in pieces[1:-1]:
        if piece:
            found = text.find(piece, position, end)
            if found < 0:
                return False
            position = found + len(piece)
    return True


class _Skeleton:
    def __init__(self) -> None:
        self.lines: list[_SkLine] = []
        self.branches: list[_Branch] = [_Branch(-1, -1, 0)]
        self.chains: list[_Chain] = []
        self.by_word: dict[str, list[int]] | None = None  # for resynchronizing, built on demand


class _Builder:
    """Unrolls a template (splicing multi-line helpers and `.Files.Get` files) into skeleton lines."""

    def __init__(self, sources: ChartSources) -> None:
        self.sources = sources
        self.skeleton = _Skeleton()
        self.segments: list[Segment] = []
        self.line_branch = 0
        self.open_branches = [0]
        self.pad = 0
        self.depth = 0
        self.via: _Where | None = None  # the helper call being spliced (for padding it prints)

    # -- lines and blocks ----------------------------------------------------------------------

    def new_line(self) -> None:
        skeleton = self.skeleton
        segments = self.segments
        split = _joined_split(segments, skeleton.chains)
        if split > 0:
            first = segments[:split]
            skeleton.lines.append(
                _SkLine(_line_block(self.line_branch, first, skeleton.branches), first, skeleton.chains)
            )
            rest = segments[split:]
            branch = _line_block(self.line_branch, rest, skeleton.branches)
            skeleton.lines.append(_SkLine(branch, rest, skeleton.chains, joined=True))
        else:
            branch = _line_block(self.line_branch, segments, skeleton.branches)
            skeleton.lines.append(_SkLine(branch, segments, skeleton.chains))
        self.segments = [_Lit(" " * self.pad, None, 0, 0, self.via)] if self.pad else []
        self.line_branch = self.open_branches[-1]

    def open_chain(self, kind: str, exhaustive: bool) -> int:
        self.skeleton.chains.append(_Chain(kind, exhaustive))
        return len(self.skeleton.chains) - 1

    def open_branch(self, chain_id: int, test: tuple[list[Token], _Scope] | None) -> None:
        chain = self.skeleton.chains[chain_id]
        branch_id = len(self.skeleton.branches)
        self.segments.append(_Mark(chain_id, 1 if chain.branches else 0, branch_id))
        self.skeleton.branches.append(_Branch(self.open_branches[-1], chain_id, 0))
        chain.branches.append(branch_id)
        chain.tests.append(test)
        self.open_branches.append(branch_id)

    def close_branch(self) -> None:
        self.open_branches.pop()

    def close_chain(self, chain_id: int) -> None:
        self.segments.append(_Mark(chain_id, 2, self.open_branches[-1]))

    def finish(self) -> _Skeleton:
        self.new_line()
        _set_block_ranges(self.skeleton)
        return self.skeleton

    # -- emitting a parse tree -----------------------------------------------------------------

    def emit_nodes(self, nodes: list[Node], unit: _Unit, via: _Where | None, scope: _Scope) -> None:
        for node in nodes:
            if len(self.skeleton.lines) > _MAX_SKELETON_LINES:  # a runaway template: map what came before
                return
            if isinstance(node, _Text):
                self.emit_text(node.text, unit, node.start, via)
            elif isinstance(node, _ActionNode):
                self.emit_action(node, unit, via, scope)
            elif isinstance(node, _BlockNode):
                self.emit_block(node, unit, via, scope)
            else:
                self.emit_nodes(
                    node.body, unit, via, scope.child(_resolve_pipeline_value(node.head.parsed.pipeline, scope))
                )

    def emit_text(self, text: str, unit: _Unit, offset: int, via: _Where | None) -> None:
        line, col = unit.position(offset)
        path = unit.path
        parts = text.split("\n")
        for index, part in enumerate(parts):
            if index:
                self.new_line()
                line += 1
                col = 1
            if part or 0 < index < len(parts) - 1:  # (an empty template line keeps its position)
                self.segments.append(_Lit(part, path, line, col, via))

    def emit_block(self, node: _BlockNode, unit: _Unit, via: _Where | None, scope: _Scope) -> None:
        exhaustive = node.kind != "range" and len(node.branches) > 1 and node.branches[-1][0] is None
        chain_id = self.open_chain(node.kind, exhaustive)
        for head, body in node.branches:
            self.open_branch(chain_id, (head.parsed.pipeline, scope) if head is not None else None)
            self.emit_nodes(body, unit, via, self.branch_scope(node.kind, head, chain_id, scope))
            self.close_branch()
        self.close_chain(chain_id)

    @staticmethod
    def branch_scope(kind: str, head: _ActionNode | None, chain_id: int, scope: _Scope) -> _Scope:
        """`with X` sets `.` to X; `range X` to an item of X; `if` keeps it (variables may be declared)."""
        if head is None:
            return scope.child(scope.dot)
        parsed = head.parsed
        value = _resolve_pipeline_value(parsed.pipeline, scope)
        if kind == "range":
            item = (*value, _Each(chain_id)) if isinstance(value, tuple) else None
            inner = scope.child(item)
            if parsed.decl:
                inner.variables[parsed.decl[-1]] = item
                if len(parsed.decl) == 2:
                    inner.variables[parsed.decl[0]] = None
            return inner
        inner = scope.child(value if parsed.keyword in ("with", "elsewith") else scope.dot)
        for name in parsed.decl:
            inner.variables[name] = value
        return inner

    def emit_action(self, node: _ActionNode, unit: _Unit, via: _Where | None, scope: _Scope) -> None:
        parsed = node.parsed
        if parsed.keyword in ("template",):
            arg = _resolve_operand(parsed.pipeline, scope) if parsed.pipeline else None
            if parsed.name and self.splice_helper(parsed.name, arg, None, node, unit, via):
                return
            self.add_print(node, unit, via, scope, [])
            return
        if parsed.keyword is not None:
            return  # break / continue / a stray else or end: nothing printed
        if parsed.decl:
            scope.variables[parsed.decl[-1]] = _resolve_pipeline_value(parsed.pipeline, scope)
            return
        commands = _split_pipeline(parsed.pipeline)
        if not commands or self.try_splice(node, commands, unit, via, scope):
            return
        self.add_print(node, unit, via, scope, commands)

    def where_of(self, node: _ActionNode, unit: _Unit, via: _Where | None) -> _Where:
        if via is not None:
            return via
        line, col = unit.position(node.action.start)
        return _Where(unit.path, line, col)

    def add_print(
        self, node: _ActionNode, unit: _Unit, via: _Where | None, scope: _Scope, commands: list[list[Token]]
    ) -> None:
        printed = _Print(self.where_of(node, unit, via), via is None, tuple(_value_refs(node.parsed.pipeline, scope)))
        if commands:
            printed.multiline = not _is_one_line(commands)
            pads = _pads(commands)
            body = commands
            if pads is not None:
                body = commands[: pads[0]]
                printed.newline_first = pads[1]
                printed.pad = pads[2]
            printed.yaml_path, printed.text_path = _printed_value(body, scope)
        printed.pad += self.pad
        self.segments.append(printed)

    # -- splicing ------------------------------------------------------------------------------

    def try_splice(
        self, node: _ActionNode, commands: list[list[Token]], unit: _Unit, via: _Where | None, scope: _Scope
    ) -> bool:
        pads = _pads(commands)
        body = commands[: pads[0]] if pads else commands
        if len(body) != 1:
            return False
        command = body[0]
        head = command[0]
        if head[0] == "ident" and head[1] in ("include", "template") and len(command) >= 2:
            name = _string_value(command[1])
            arg = _resolve_operand(command[2:], scope) if len(command) > 2 else None
            return bool(name) and self.splice_helper(name or "", arg, pads, node, unit, via)
        file_splice = _file_splice(command, scope)
        if file_splice is None:
            return False
        relative, templated, context = file_splice
        return self.splice_file(relative, templated, context, pads, unit, via)

    def splice_helper(
        self,
        name: str,
        arg: Ctx,
        pads: tuple[int, bool, int] | None,
        node: _ActionNode,
        unit: _Unit,
        via: _Where | None,
    ) -> bool:
        """Inline a multi-line helper's body; its lines report at the outermost calling action."""
        define = self.sources._define(name, unit.chart)
        if define is None or self.depth >= _MAX_SPLICE_DEPTH or not _prints_lines(define.body):
            return False
        where = self.where_of(node, unit, via)
        saved = self.checkpoint()
        outer_via, self.via = self.via, where
        width = self.begin_pads(pads)
        self.depth += 1
        self.emit_nodes(define.body, define.unit, where, _Scope(arg, {"$": arg}))
        self.depth -= 1
        self.pad -= width
        self.via = outer_via
        if self.splits_a_line(saved):  # a line this model cannot follow: print the helper as one action
            self.restore(saved)
            return False
        return True

    def checkpoint(self) -> tuple[int, list[Segment], int, int, int]:
        skeleton = self.skeleton
        return len(skeleton.lines), list(self.segments), self.line_branch, len(skeleton.branches), len(skeleton.chains)

    def restore(self, saved: tuple[int, list[Segment], int, int, int]) -> None:
        lines, segments, line_branch, branches, chains = saved
        del self.skeleton.lines[lines:]
        del self.skeleton.branches[branches:]
        del self.skeleton.chains[chains:]
        self.segments = segments
        self.line_branch = line_branch

    def splits_a_line(self, saved: tuple[int, list[Segment], int, int, int]) -> bool:
        """Whether a line since the checkpoint has text on both sides of a boundary of a block that
        spans lines (`a{{- else -}}b`): two branches would share one pattern."""
        first_line, segments = saved[0], saved[1]
        lines = self.skeleton.lines[first_line:]
        if lines:  # the line the helper started on, then lines it printed
            return (
                (lines[0].split and not _splits(segments))
                or any(line.split for line in lines[1:])
                or (_splits(self.segments))
            )
        return _splits(self.segments) and not _splits(segments)

    def splice_file(
        self,
        relative: str,
        templated: bool,
        context: Ctx,
        pads: tuple[int, bool, int] | None,
        unit: _Unit,
        via: _Where | None,
    ) -> bool:
        """Inline a `.Files.Get` file: its lines point into the file itself (if it is in the repository)."""
        chart = unit.chart
        text = chart.read_file(relative)
        if text is None or self.depth >= _MAX_SPLICE_DEPTH:
            return False
        file_unit = chart.unit(_safe_member_path(relative) or relative, text)
        file_via = via if file_unit.path is None else None
        outer_via, self.via = self.via, file_via
        width = self.begin_pads(pads)
        self.depth += 1
        if templated:
            self.emit_nodes(file_unit.parsed()[0], file_unit, file_via, _Scope(context, {"$": context}))
        else:
            self.emit_text(text, file_unit, 0, file_via)
        self.depth -= 1
        self.pad -= width
        self.via = outer_via
        return True

    def begin_pads(self, pads: tuple[int, bool, int] | None) -> int:
        """`indent N` pads every line of the output; `nindent N` also starts it on a new line.
        Returns the width to take off when the output ends."""
        width = pads[2] if pads else 0
        self.pad += width
        if pads and pads[1]:
            self.new_line()
        elif width:
            self.segments.append(_Lit(" " * width, None, 0, 0, self.via))
        return width


def _prints_lines(nodes: list[Node]) -> bool:
    """Whether a helper body holds a literal line break (else it prints inline: not worth splicing)."""
    for node in nodes:
        if isinstance(node, _Text):
            if "\n" in node.text:
                return True
        elif isinstance(node, _BlockNode):
            if any(_prints_lines(body) for _, body in node.branches):
                return True
        elif isinstance(node, _InlineNode) and _prints_lines(node.body):
            return True
    return False


def _file_splice(command: list[Token], scope: _Scope) -> tuple[str, bool, Ctx] | None:
    """`.Files.Get "f"` -> (f, False, None); `tpl (.Files.Get "f") ctx` -> (f, True, ctx)."""
    if scope.dot is not _ROOT and command[0][0] == "field":
        return None
    if len(command) == 2 and _is_files_get(command[0], scope):
        relative = _string_value(command[1])
        return (relative, False, None) if relative else None
    inner = command[1:-1] if command[0][0] == "open" and command[-1][0] == "close" else None
    if inner is not None:
        return _file_splice(inner, scope) if inner else None
    if command[0] == ("ident", "tpl") and len(command) >= 6 and command[1][0] == "open":
        closing = next((i for i, token in enumerate(command) if token[0] == "close"), -1)
        get = command[2:closing]
        if closing > 0 and len(get) == 2 and _is_files_get(get[0], scope):
            relative = _string_value(get[1])
            context = _resolve_operand(command[closing + 1 :], scope)
            return (relative, True, context) if relative else None
    return None


def _is_files_get(token: Token, scope: _Scope) -> bool:
    if token == ("field", ".Files.Get"):
        return scope.dot is _ROOT
    return token == ("var", "$.Files.Get") and scope.variables.get("$") is _ROOT


def _printed_value(commands: list[list[Token]], scope: _Scope) -> tuple[VPath | None, VPath | None]:
    """(values path printed as YAML, values path printed as text) of a pipeline, when plain."""
    first = commands[0]
    head = first[0]
    rest = [command[0] for command in commands[1:]]
    if head == ("ident", "toYaml") and not rest:
        value = _resolve_operand(first[1:], scope)
        return (value if isinstance(value, tuple) else None), None
    if len(first) >= 1 and rest and rest[0] == ("ident", "toYaml"):
        value = _resolve_operand(first, scope)
        return (value if isinstance(value, tuple) else None), None
    if head == ("ident", "tpl") and len(first) >= 3:
        argument = first[1:2] if first[1][0] != "open" else first[1 : _closing(first, 1) + 1]
        inner = argument[1:-1] if argument and argument[0][0] == "open" else argument
        if inner and inner[0] == ("ident", "toYaml"):
            value = _resolve_operand(inner[1:], scope)
            return (value if isinstance(value, tuple) else None), None
        value = _resolve_operand(argument, scope)
        return None, (value if isinstance(value, tuple) else None)
    value = _resolve_operand(first, scope)
    return None, (value if isinstance(value, tuple) else None)


def _closing(tokens: Sequence[Token], start: int) -> int:
    depth = 0
    for index in range(start, len(tokens)):
        kind = tokens[index][0]
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
            if depth == 0:
                return index
    return len(tokens) - 1


def _build_skeleton(sources: ChartSources, unit: _Unit) -> _Skeleton:
    builder = _Builder(sources)
    builder.emit_nodes(unit.parsed()[0], unit, None, _Scope(_ROOT, {"$": _ROOT}))
    return builder.finish()


# ---------------------------------------------------------------------------------------------
# Control flow between skeleton lines
# ---------------------------------------------------------------------------------------------

# Events on the way from one line to the next: they count range iterations, and values can
# make a branch unlikely.
_ENTER = 0  # (_ENTER, branch): a branch starts
_LOOP = 1  # (_LOOP, range body branch): the body starts again
_SKIP = 2  # (_SKIP, chain): a block prints nothing
Event = tuple[int, int]
_MAX_CLOSURE = 48
_MAX_CLOSURE_STEPS = 1500


def _successors(skeleton: _Skeleton, after: int, judge: _Judge) -> list[tuple[int, float, tuple[Event, ...]]]:
    """Lines that can print right after line `after` (-1: the start), each by its cheapest route:
    the next line, any line reached by skipping whole blocks, entering a branch, or going round a
    range body again. Costs come from the values (a branch they rule out costs more)."""
    cached = judge.closures.get(after)
    if cached is None:
        start = (0, 0) if after < 0 else (after + 1, skeleton.lines[after].branch)
        cached = judge.closures[after] = _explore(skeleton, start[0], start[1], judge)
    return cached


def _explore(
    skeleton: _Skeleton, position: int, branch_id: int, judge: _Judge
) -> list[tuple[int, float, tuple[Event, ...]]]:
    lines, branches, chains = skeleton.lines, skeleton.branches, skeleton.chains
    if position < len(lines) and lines[position].branch == branch_id and not lines[position].joined:
        return [(position, 0.0, ())]  # the common case: the next line, in the same block
    found: list[tuple[int, float, tuple[Event, ...]]] = []
    seen: set[tuple[int, int]] = set()
    order = itertools.count()
    work: list[tuple[float, int, int, int, tuple[Event, ...]]] = [(0.0, 0, position, branch_id, ())]

    def push(cost: float, at: int, branch: int, events: tuple[Event, ...]) -> None:
        heapq.heappush(work, (cost, next(order), at, branch, events))

    steps = 0
    while work and steps < _MAX_CLOSURE_STEPS and len(found) < _MAX_CLOSURE:
        steps += 1
        cost, _, at, branch_id, events = heapq.heappop(work)
        if (at, branch_id) in seen:
            continue
        seen.add((at, branch_id))
        branch = branches[branch_id]
        if branch_id and at > branch.last:  # the branch is done: leave its block, or loop a range
            chain = chains[branch.chain]
            push(cost, chain.end + 1, branch.parent, events)
            if chain.kind == "range" and chain.branches[0] == branch_id and branch.first <= branch.last:
                push(cost, branch.first, branch_id, (*events, (_LOOP, branch_id)))
            continue
        if at >= len(lines):
            continue
        owner = lines[at].branch
        if owner == branch_id:
            found.append((at, cost, events))
            if lines[at].joined:  # it may print nothing: what follows it can come next too
                silent = judge.silent_cost(lines[at])
                if silent is not None:
                    push(cost + silent, at + 1, branch_id, events)
            continue
        child = _child_towards(branches, owner, branch_id)
        if child < 0:
            found.append((at, cost, events))  # not nested as expected: take the line as it comes
            continue
        chain_id = branches[child].chain
        chain = chains[chain_id]
        skip = (_SKIP, chain_id)
        push(cost + judge.event_cost(skip), chain.end + 1, branch_id, (*events, skip))  # the block printed nothing
        for entered in chain.branches:
            target = branches[entered]
            if target.first <= target.last and target.last >= at:
                enter = (_ENTER, entered)
                push(cost + judge.event_cost(enter), max(target.first, at), entered, (*events, enter))
    return found


def _child_towards(branches: list[_Branch], owner: int, ancestor: int) -> int:
    """The branch just below `ancestor` on the way up from `owner`, or -1."""
    current = owner
    for _ in range(_MAX_NESTING * 4):
        parent = branches[current].parent
        if parent == ancestor:
            return current
        if parent < 0:
            return -1
        current = parent
    return -1


# ---------------------------------------------------------------------------------------------
# Alignment: a beam Viterbi search over the skeleton's control flow
# ---------------------------------------------------------------------------------------------

_LINE, _EXP = 0, 1  # state kinds: a skeleton line printed whole / inside an action's multi-line output
_FULL, _HEAD, _CONT, _TAIL, _MISS = 0, 1, 2, 3, 4  # how a rendered line was explained
_JOIN = 5  # printed whole, and a joined line's multi-line output starts after it
_COST_CONTINUE = 0.45  # one more line printed by an action
_COST_HEAD = 0.1  # a line may start a multi-line output: a little less likely than printing whole
_COST_MISS = 4.0  # a rendered line nothing explains
_COST_RESYNC = 3.0  # a jump outside the control flow (the alignment lost its way)
_BEAM_MARGIN = 6.0
_BEAM_WIDTH = 12
_RESYNC_AHEAD = 400
_RESYNC_BACK = 120


def _evidence_cost(weight: int, blank: bool) -> float:
    if weight > 0:
        return 0.5 / (1 + weight)
    return 0.25 if blank else 0.6


class _Step:
    """The states after one rendered line, with back pointers."""

    __slots__ = ("costs", "events", "explained", "keys", "modes", "previous", "shown")

    def __init__(self) -> None:
        self.shown: list[int] = []  # the state whose line explains the rendered line (see _JOIN)
        self.explained = float("inf")  # best cost of a state that matched the line's text
        self.keys: list[int] = []  # see _state; _START before the first line
        self.costs: list[float] = []
        self.previous: list[int] = []
        self.modes: list[int] = []
        self.events: list[tuple[Event, ...]] = []


def _state(line: int, variant: int, kind: int) -> int:
    """A state key: the skeleton line, its variant, and whether inside the variant's expansion."""
    return (line << 4 | variant) << 1 | kind


def _align(skeleton: _Skeleton, texts: list[str], judge: _Judge | None = None) -> list[_Explained]:
    """For each rendered line: (mode, skeleton line, variant, events on the way), best alignment."""
    judge = judge or _Judge(skeleton, None)
    steps: list[_Step] = []
    keys, costs = [_START], [0.0]
    for text in texts:
        step = _advance(skeleton, keys, costs, text, judge)
        if step.explained > min(costs) + _COST_RESYNC:  # only an action's output (or nothing) explains it
            _recover(skeleton, keys, costs, text, step, judge)
        _prune(step)
        steps.append(step)
        keys, costs = step.keys, step.costs
    return _backtrack(steps)


_START = -2


def _advance(skeleton: _Skeleton, keys: list[int], costs: list[float], text: str, judge: _Judge) -> _Step:
    lines = skeleton.lines
    blank = not text.strip()
    indent = len(text) - len(text.lstrip(" "))
    best: dict[int, tuple[float, int, int, tuple[Event, ...], int]] = {}
    fits: dict[int, list[tuple[int, float | None, float | None]]] = {}

    def offer(key: int, cost: float, previous: int, mode: int, events: tuple[Event, ...], shown: int = -1) -> None:
        known = best.get(key)
        if known is None or cost < known[0]:
            best[key] = (cost, previous, mode, events, key if shown < 0 else shown)

    for index, key in enumerate(keys):
        cost = costs[index]
        line_index = key >> 5 if key >= 0 else -1
        if key >= 0 and key & 1 == _EXP:
            variant = lines[line_index].variants[(key >> 1) & 15]
            expand = variant.expand
            if expand is not None and (blank or (indent >= expand.pad and indent >= variant.deeper)):
                offer(key, cost + _COST_CONTINUE, index, _CONT, ())
            if variant.tail is not None:
                if _fits(variant.tail, text):
                    offer(key - 1, cost + _evidence_cost(variant.w_tail, blank), index, _TAIL, ())
                continue
        for target, route_cost, events in _successors(skeleton, line_index, judge):
            if lines[target].joined:
                continue  # (entered below, after the line it joins)
            fit = fits.get(target)
            if fit is None:
                fit = fits[target] = _fit_costs(lines[target], text, blank, judge)
            if not fit:
                continue
            base = cost + route_cost
            for variant_index, full, head in fit:
                if full is not None:
                    offer(_state(target, variant_index, _LINE), base + full, index, _FULL, events)
                if head is not None:
                    offer(_state(target, variant_index, _EXP), base + head, index, _HEAD, events)
    _offer_joined(skeleton, judge, best, offer)
    step = _Step()
    for key, (cost, previous, mode, events, shown) in best.items():
        if mode != _CONT:
            step.explained = min(step.explained, cost)
        step.keys.append(key)
        step.costs.append(cost)
        step.previous.append(previous)
        step.modes.append(mode)
        step.events.append(events)
        step.shown.append(shown)
    return step


def _offer_joined(
    skeleton: _Skeleton,
    judge: _Judge,
    best: dict[int, tuple[float, int, int, tuple[Event, ...], int]],
    offer: Callable[[int, float, int, int, tuple[Event, ...], int], None],
) -> None:
    """After a line printed whole, a joined line may start its multi-line output right there."""
    lines = skeleton.lines
    for key, (cost, previous, mode, events, _) in list(best.items()):
        if key & 1 != _LINE or mode not in (_FULL, _TAIL):
            continue
        for target, route_cost, more in _successors(skeleton, key >> 5, judge):
            line = lines[target]
            if not line.joined:
                continue
            for variant_index, variant in enumerate(line.variants):
                if variant.expand is None:
                    continue
                extra = judge.choices_cost(variant.choices) if variant.choices else 0.0
                total = cost + route_cost + extra + _COST_HEAD
                offer(_state(target, variant_index, _EXP), total, previous, _JOIN, (*events, *more), key)


def _fit_costs(line: _SkLine, text: str, blank: bool, judge: _Judge) -> list[tuple[int, float | None, float | None]]:
    """(variant, cost of printing the line whole, cost of starting a multi-line output) per variant."""
    found: list[tuple[int, float | None, float | None]] = []
    for index, variant in enumerate(line.variants):
        full = head = None
        extra = judge.choices_cost(variant.choices) if variant.choices else 0.0
        if variant.full is not None and _fits(variant.full, text):
            full = _evidence_cost(variant.w_full, blank) + extra
        if variant.head is not None and _fits(variant.head, text):
            head = _evidence_cost(variant.w_head, blank) + _COST_HEAD + extra
        if full is not None or head is not None:
            found.append((index, full, head))
    return found


def _recover(skeleton: _Skeleton, keys: list[int], costs: list[float], text: str, step: _Step, judge: _Judge) -> None:
    """Nothing explains the line well: leave it unmapped, or jump to a line that matches it."""
    blank = not text.strip()
    order = sorted(range(len(keys)), key=costs.__getitem__)
    for index in order:
        _offer_step(step, keys[index], costs[index] + _COST_MISS, index, _MISS)
    if blank:
        return
    lines = skeleton.lines
    for index in order[:2]:
        origin = keys[index] >> 5 if keys[index] >= 0 else -1
        for target in _resync_targets(skeleton, origin, text):
            base = costs[index] + _COST_RESYNC + 0.002 * abs(target - origin)
            for variant_index, full, head in _fit_costs(lines[target], text, blank, judge):
                if full is not None:
                    _offer_step(step, _state(target, variant_index, _LINE), base + full, index, _FULL)
                if head is not None:
                    _offer_step(step, _state(target, variant_index, _EXP), base + head, index, _HEAD)


def _resync_targets(skeleton: _Skeleton, origin: int, text: str) -> list[int]:
    """Lines near `origin` whose literal text (two characters or more) matches the line,
    looked up by the line's first word."""
    words = text.split(None, 1)
    if not words:
        return []
    if skeleton.by_word is None:
        skeleton.by_word = _index_first_words(skeleton.lines)
    candidates = skeleton.by_word.get(words[0], [])
    found: list[int] = []
    start = bisect.bisect_right(candidates, origin)
    for target in candidates[start : start + 16]:  # ahead, nearest first
        if target - origin > _RESYNC_AHEAD or len(found) >= 4:
            break
        if any(_strong_fit(variant, text) for variant in skeleton.lines[target].variants):
            found.append(target)
    for target in reversed(candidates[max(0, start - 8) : start]):  # behind
        if origin - target > _RESYNC_BACK or len(found) >= 6:
            break
        if target != origin and any(_strong_fit(variant, text) for variant in skeleton.lines[target].variants):
            found.append(target)
    return found


def _index_first_words(lines: list[_SkLine]) -> dict[str, list[int]]:
    """Skeleton lines by the first word of their literal text (when the pattern starts with it)."""
    index: dict[str, list[int]] = {}
    for number, line in enumerate(lines):
        words: set[str] = set()
        for variant in line.variants:
            for pieces in (variant.full, variant.head):
                if pieces is None:
                    continue
                first = pieces[0].lstrip()
                if first and (len(pieces) == 1 or any(c.isspace() for c in first)):
                    words.add(first.split(None, 1)[0])
        for word in words:
            index.setdefault(word, []).append(number)
    return index


def _strong_fit(variant: _Variant, text: str) -> bool:
    if variant.w_full >= 2 and variant.full is not None and _fits(variant.full, text):
        return True
    return variant.w_head >= 2 and variant.head is not None and _fits(variant.head, text)


def _offer_step(step: _Step, key: int, cost: float, previous: int, mode: int) -> None:
    for position, known in enumerate(step.keys):
        if known == key:
            if cost < step.costs[position]:
                step.costs[position] = cost
                step.previous[position] = previous
                step.modes[position] = mode
                step.events[position] = ()
                step.shown[position] = key
            return
    step.keys.append(key)
    step.costs.append(cost)
    step.previous.append(previous)
    step.modes.append(mode)
    step.events.append(())
    step.shown.append(key)


def _prune(step: _Step) -> None:
    if len(step.keys) <= 1:
        return
    order = sorted(range(len(step.keys)), key=step.costs.__getitem__)
    limit = step.costs[order[0]] + _BEAM_MARGIN
    keep = [index for index in order[:_BEAM_WIDTH] if step.costs[index] <= limit]
    step.keys = [step.keys[i] for i in keep]
    step.costs = [step.costs[i] for i in keep]
    step.previous = [step.previous[i] for i in keep]
    step.modes = [step.modes[i] for i in keep]
    step.events = [step.events[i] for i in keep]
    step.shown = [step.shown[i] for i in keep]


class _Explained:
    """How the alignment explains one rendered line."""

    __slots__ = ("events", "line", "mode", "state", "variant")

    def __init__(self, mode: int, shown: int, state: int, events: tuple[Event, ...]) -> None:
        self.mode = mode
        self.line, self.variant = (shown >> 5, (shown >> 1) & 15) if shown >= 0 else (-1, 0)
        self.state = state  # the state after the line (for _JOIN: inside the joined line's output)
        self.events = events


def _backtrack(steps: list[_Step]) -> list[_Explained]:
    path: list[_Explained] = []
    if not steps:
        return path
    last = steps[-1]
    index = min(range(len(last.keys)), key=last.costs.__getitem__)
    for step in reversed(steps):
        path.append(_Explained(step.modes[index], step.shown[index], step.keys[index], step.events[index]))
        index = step.previous[index]
    path.reverse()
    return path


# ---------------------------------------------------------------------------------------------
# Values: files, precedence, lookups
# ---------------------------------------------------------------------------------------------


def _normal_key(key: Any) -> str:
    """A YAML key as a template reads it (`true` is a key "true", `80` a key "80")."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


def _normal_data(data: Any, depth: int = 0) -> Any:
    if depth > 200:
        return None
    if isinstance(data, dict):
        return {_normal_key(k): _normal_data(v, depth + 1) for k, v in data.items()}
    if isinstance(data, list):
        return [_normal_data(v, depth + 1) for v in data]
    return data


def _normal_path(data: Any, path: tuple[Any, ...]) -> VPath:
    """A yamlpos path with map keys as strings (list indexes stay ints)."""
    out: list[PathKey] = []
    node = data
    for key in path:
        if isinstance(node, list) and isinstance(key, int):
            out.append(key)
            node = node[key] if 0 <= key < len(node) else None
        else:
            out.append(_normal_key(key))
            node = node.get(key) if isinstance(node, dict) else None
    return tuple(out)


def _parse_set_key(key: str) -> VPath:
    """`a.b[0].c` -> ("a", "b", 0, "c"); `a\\.b` is one key."""
    parts: list[PathKey] = []
    current = ""
    index = 0
    while index < len(key):
        char = key[index]
        if char == "\\" and index + 1 < len(key):
            current += key[index + 1]
            index += 2
            continue
        if char == ".":
            if current:
                parts.append(current)
            current = ""
        elif char == "[":
            close = key.find("]", index)
            if close > index and key[index + 1 : close].isdigit():
                if current:
                    parts.append(current)
                current = ""
                parts.append(int(key[index + 1 : close]))
                index = close + 1
                continue
            current += char
        else:
            current += char
        index += 1
    if current:
        parts.append(current)
    return tuple(parts)


class _ValuesFile:
    """One source of values with the position of every key it sets."""

    def __init__(self, path: str | None, text: str | None, sets: Sequence[tuple[str, int, int | None]] = ()) -> None:
        self.path = path  # None: not in the repository (inside an archive)
        self.data: Any = None
        self.positions: dict[VPath, tuple[int, int | None]] = {}
        self.sets: dict[VPath, tuple[int, int | None]] = {}
        if text:
            document = _first_document(text)
            if document is not None:
                self.data = _normal_data(document.data)
                for yaml_path, (line, col, _) in document.positions.items():
                    self.positions[_normal_path(document.data, yaml_path)] = (line, col)
        for key, line, col in sets:
            parsed = _parse_set_key(key)
            if parsed and isinstance(line, int):
                self.sets[parsed] = (line, col)

    def find(self, full: VPath) -> tuple[VPath, int, int | None] | None:
        """Where this source sets `full`: the key itself, or a list/scalar above it that replaces it."""
        for depth in range(len(full), 0, -1):
            hit = self.sets.get(full[:depth])
            if hit is not None:
                return full[:depth], hit[0], hit[1]
        node = self.data
        depth = 0
        for key in full:
            found, child = _child(node, key)
            if not found:
                break
            node = child
            depth += 1
        if depth == 0 or (depth < len(full) and isinstance(node, dict)):
            return None  # not set here (a map merges with the values below it)
        position = self.positions.get(full[:depth])
        return (full[:depth], position[0], position[1]) if position else None

    def subtree(self, prefix: VPath) -> Any:
        node = self.data
        for key in prefix:
            if isinstance(node, dict) and isinstance(key, str):
                node = node.get(key)
            else:
                return None
        return node


def _child(node: Any, key: PathKey) -> tuple[bool, Any]:
    """(whether `node` holds `key`, the value there)."""
    if isinstance(node, dict) and isinstance(key, str) and key in node:
        return True, node[key]
    if isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
        return True, node[key]
    return False, None


def _dotted(path: VPath) -> str:
    text = ""
    for key in path:
        if isinstance(key, int):
            text += f"[{key}]"
        else:
            escaped = str(key).replace(".", "\\.")
            text += f".{escaped}" if text else escaped
    return text


def _merge(base: Any, top: Any) -> Any:
    if isinstance(base, dict) and isinstance(top, dict):
        merged = dict(base)
        for key, value in top.items():
            merged[key] = _merge(merged.get(key), value)
        return merged
    return base if top is None else top


class _ValueStack:
    """Values sources of one chart scope, lowest precedence first, each with the key prefix the
    scope's values have in it (a subchart's `.Values.x` is `sub.x` in the parent's files)."""

    def __init__(self, scoped: list[tuple[_ValuesFile, VPath]], global_: list[tuple[_ValuesFile, VPath]]) -> None:
        self.scoped = scoped
        self.global_ = global_
        self._merged: Any = None

    def origin(self, path: VPath) -> ValueOrigin | None:
        sources = self.global_ if path and path[0] == "global" else self.scoped
        for values, prefix in reversed(sources):
            hit = values.find(prefix + path)
            if hit is not None:
                if values.path is None:
                    return None  # set inside an archive: nothing in the repository to point at
                found, line, col = hit
                return ValueOrigin(values.path, line, col, _dotted(found))
        return None

    def set_touches(self, path: VPath) -> bool:
        """Whether a `set` entry (its value unknown here) sets this path, inside it or above it."""
        for values, prefix in (*self.scoped, *self.global_):
            for key in values.sets:
                if key[: len(prefix)] != prefix:
                    continue
                relative = key[len(prefix) :]
                if relative[: len(path)] == path or path[: len(relative)] == relative:
                    return True
        return False

    def merged(self) -> Any:
        if self._merged is None:
            merged: Any = {}
            for values, prefix in self.scoped:
                merged = _merge(merged, values.subtree(prefix))
            for values, prefix in self.global_:
                merged = _merge(merged, {"global": values.subtree(prefix)})
            self._merged = merged
        return self._merged

    def lookup(self, path: VPath) -> Any:
        return dig(self.merged(), path)


def _value_stack(
    sources: ChartSources, names: list[str], charts: list[_Chart], layers: Sequence[ValuesLayer]
) -> _ValueStack:
    scoped: list[tuple[_ValuesFile, VPath]] = []
    global_: list[tuple[_ValuesFile, VPath]] = []
    depth = len(charts)
    for level in range(depth - 1, -1, -1):  # the template's own chart first, then its parents
        chart_values = sources._chart_values(charts[level])
        scoped.append((chart_values, tuple(names[level + 1 :])))
        global_.append((chart_values, ()))
    user_prefix = tuple(names[1:])
    for layer in layers:
        values = sources._layer_values(layer)
        scoped.append((values, user_prefix))
        global_.append((values, ()))
    return _ValueStack(scoped, global_)


# ---------------------------------------------------------------------------------------------
# Branch conditions, judged from the values
# ---------------------------------------------------------------------------------------------

_COST_UNLIKELY = 1.5  # a branch the values rule out (text evidence can still win)
_UNKNOWN = object()  # a value this module cannot know (`lookup`, `include`, a `set` entry ...)


def _truthy(value: Any) -> bool:
    """Go template truth: false, 0, nil and empty strings, lists and maps are false."""
    return bool(value) if isinstance(value, (bool, int, float, str, list, dict, tuple)) else value is not None


class _Judge:
    """Costs of the branch choices an alignment makes, from the conditions and the values."""

    def __init__(self, skeleton: _Skeleton, stack: _ValueStack | None) -> None:
        self.skeleton = skeleton
        self.stack = stack
        self._taken: dict[int, int | None] = {}
        self.binding: dict[int, int] = {}  # range chain -> item, while judging a condition
        self.unbound: dict[int, int | None] = {}  # range items a condition read: chain -> item count
        self.closures: dict[int, list[tuple[int, float, tuple[Event, ...]]]] = {}

    def event_cost(self, event: Event) -> float:
        kind, target = event
        if kind == _ENTER:
            branch = self.skeleton.branches[target]
            chain = self.skeleton.chains[branch.chain]
            return self.choice_cost(branch.chain, chain.branches.index(target))
        if kind == _SKIP:
            taken = self.taken(target)
            if taken is None or taken < 0:
                return 0.0
            branch = self.skeleton.branches[self.skeleton.chains[target].branches[taken]]
            return _COST_UNLIKELY if branch.first <= branch.last else 0.0  # a branch with lines was due
        return 0.0

    def silent_cost(self, line: _SkLine) -> float | None:
        """The cost of a joined line printing nothing, or None if it always prints."""
        costs = [self.choices_cost(v.choices) for v in line.variants if not any(_is_content(i) for i in v.items)]
        return min(costs) if costs else None

    def choices_cost(self, choices: tuple[Choice, ...]) -> float:
        return sum(self.choice_cost(chain, branch) for chain, branch in choices)

    def choice_cost(self, chain: int, branch: int) -> float:
        taken = self.taken(chain)
        return 0.0 if taken is None or taken == branch else _COST_UNLIKELY

    def taken(self, chain_id: int) -> int | None:
        """The branch the values select (-1: none), or None when unknown."""
        if chain_id not in self._taken:
            self._taken[chain_id] = self.decide(self.skeleton.chains[chain_id]) if self.stack else None
        return self._taken[chain_id]

    def decide(self, chain: _Chain) -> int | None:
        for index, test in enumerate(chain.tests):
            if test is None:
                return index  # else
            value = self.truth(test[0], test[1])
            if value is None:
                return None
            if value:
                return index
            if chain.kind == "range":  # an empty range prints its else branch, if any
                return 1 if len(chain.tests) > 1 else -1
        return -1

    def truth(self, tokens: list[Token], scope: _Scope) -> bool | None:
        """A condition's truth. Inside a range the item is unknown, unless every item of the
        (known) list or map gives the same answer."""
        self.binding, self.unbound = {}, {}
        value = _evaluate(tokens, scope, self)
        if value is not _UNKNOWN or not self.unbound or None in self.unbound.values():
            return None if value is _UNKNOWN else _truthy(value)
        chains = list(self.unbound)
        sizes = [self.unbound[chain] or 0 for chain in chains]
        if math.prod(sizes) > 64 or not all(sizes):
            return None
        answers = set()
        for indexes in itertools.product(*(range(size) for size in sizes)):
            self.binding = dict(zip(chains, indexes, strict=True))
            value = _evaluate(tokens, scope, self)
            answers.add(None if value is _UNKNOWN else _truthy(value))
        self.binding = {}
        return answers.pop() if len(answers) == 1 else None

    def lookup(self, path: VPath) -> Any:
        if self.stack is None:
            return _UNKNOWN
        concrete: list[PathKey] = []
        for key in path:
            if not isinstance(key, _Each):
                concrete.append(key)
                continue
            container = self.stack.lookup(tuple(concrete))
            if key.chain not in self.binding:
                self.unbound[key.chain] = len(container) if isinstance(container, (list, dict)) else None
                return _UNKNOWN
            index = self.binding[key.chain]
            if isinstance(container, dict):
                concrete.append(sorted(container)[index])
            else:
                concrete.append(index)
        found = tuple(concrete)
        return _UNKNOWN if self.stack.set_touches(found) else self.stack.lookup(found)


def _evaluate(tokens: Sequence[Token], scope: _Scope, judge: _Judge) -> Any:
    """A pipeline's value where it only reads values and literals; _UNKNOWN otherwise."""
    commands = _split_pipeline(tokens)
    if not commands:
        return _UNKNOWN
    value = _evaluate_command(commands[0], scope, judge, None)
    for command in commands[1:]:
        value = _evaluate_command(command, scope, judge, (value,))
    return value


def _evaluate_command(tokens: Sequence[Token], scope: _Scope, judge: _Judge, piped: tuple[Any] | None) -> Any:
    args = _split_args(tokens)
    if not args:
        return _UNKNOWN
    head = args[0]
    if len(args) == 1 and piped is None:
        return _evaluate_operand(head, scope, judge)
    if len(head) != 1 or head[0][0] != "ident":
        return _UNKNOWN
    values = [_evaluate_operand(arg, scope, judge) for arg in args[1:]]
    if piped is not None:
        values.append(piped[0])
    return _apply(head[0][1], values)


def _split_args(tokens: Sequence[Token]) -> list[list[Token]]:
    """A command's operands: single tokens, or parenthesized groups."""
    args: list[list[Token]] = []
    index = 0
    while index < len(tokens):
        if tokens[index][0] == "open":
            close = _closing(tokens, index)
            args.append(list(tokens[index : close + 1]))
            index = close + 1
        else:
            args.append([tokens[index]])
            index += 1
    return args


def _evaluate_operand(tokens: Sequence[Token], scope: _Scope, judge: _Judge) -> Any:
    if tokens[0][0] == "open":
        return _evaluate(tokens[1:-1], scope, judge)
    kind, text = tokens[0]
    if kind == "str":
        return _string_value(tokens[0])
    if kind == "num":
        try:
            return float(text) if any(c in text for c in ".eE") and not text.startswith("0x") else int(text, 0)
        except ValueError:
            return _UNKNOWN
    if kind == "ident":
        return {"true": True, "false": False, "nil": None}.get(text, _UNKNOWN)
    if kind in ("field", "var"):
        path = _resolve_chain(tokens[0], scope)
        return judge.lookup(path) if isinstance(path, tuple) else _UNKNOWN
    return _UNKNOWN


def _apply(name: str, args: list[Any]) -> Any:
    """The template functions conditions use most, on known values."""
    known = [arg for arg in args if arg is not _UNKNOWN]
    if name == "and":
        if any(not _truthy(arg) for arg in known):
            return False
        return True if len(known) == len(args) else _UNKNOWN
    if name == "or":
        if any(_truthy(arg) for arg in known):
            return True
        return False if len(known) == len(args) else _UNKNOWN
    if len(known) != len(args):
        return _UNKNOWN
    if name == "not" and len(args) == 1:
        return not _truthy(args[0])
    if name == "empty" and len(args) == 1:
        return not _truthy(args[0])
    if name in ("eq", "ne") and len(args) >= 2:
        equal = any(_same(args[0], other) for other in args[1:])
        return equal if name == "eq" else not equal
    if name == "default" and len(args) == 2:
        return args[1] if _truthy(args[1]) else args[0]
    if name == "hasKey" and len(args) == 2:
        return isinstance(args[0], dict) and args[1] in args[0]
    if name == "toString" and len(args) == 1:
        value = args[0]
        return ("true" if value else "false") if isinstance(value, bool) else _UNKNOWN if value is None else str(value)
    if name in ("typeIs", "kindIs") and len(args) == 2 and isinstance(args[0], str):
        return _go_type(args[1], name == "kindIs") == args[0]
    if name == "index" and args:
        node = args[0]
        for key in args[1:]:
            found, node = _child(node, key)
            if not found:
                return None
        return node
    return _UNKNOWN


def _go_type(value: Any, kind: bool) -> str:
    """The Go type (or kind) of a values entry, as Helm decodes YAML (numbers are float64)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "map" if kind else "map[string]interface {}"
    if isinstance(value, list):
        return "slice" if kind else "[]interface {}"
    return "invalid" if kind else "<nil>"


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left == right
    return type(left) is type(right) and left == right


# ---------------------------------------------------------------------------------------------
# From the alignment to origins and values
# ---------------------------------------------------------------------------------------------


def _first_column(text: str) -> int:
    return len(text) - len(text.lstrip()) + 1


def _line_origin(variant: _Variant, text: str, anchor: LineOrigin | None) -> LineOrigin | None:
    """A rendered line printed by a skeleton line's variant: the file line of its first content.

    Literal text maps with a column shift (same text, other indentation), in the helper that
    holds it when a helper printed it; text a helper's actions print maps to the calling
    action's `{{`."""
    for segment in variant.items:
        if isinstance(segment, _Lit):
            if segment.line == 0 or not segment.text.strip():
                continue
            if segment.path is None:  # a subchart archive's text: the calling line, else the anchor
                return _where_origin(segment.via, anchor) if segment.via is not None else anchor
            # Literal text of a helper maps to the helper's own line: a pod spec written in
            # `_pod.tpl` is fixed there, not at the `include` that prints it.
            template_col = segment.col + len(segment.text) - len(segment.text.lstrip())
            return LineOrigin(segment.path, segment.line, col_shift=template_col - _first_column(text))
        if isinstance(segment, _Print):
            if not segment.direct:
                return _where_origin(segment.where, anchor)
            if segment.where.path is None:
                return anchor
            return LineOrigin(segment.where.path, segment.where.line, col_shift=segment.where.col - _first_column(text))
    for segment in variant.items:  # a blank line: the template line (or helper call) that printed it
        if isinstance(segment, _Lit) and (segment.line or segment.via is not None):
            if segment.via is not None:
                return _where_origin(segment.via, anchor)
            return LineOrigin(segment.path, segment.line) if segment.path is not None else anchor
    return None


def _where_origin(where: _Where, anchor: LineOrigin | None) -> LineOrigin | None:
    if where.path is None:
        return anchor
    return LineOrigin(where.path, where.line, col=where.col)


def _yaml_subpaths(texts: list[str]) -> list[VPath | None]:
    """For lines printed by `toYaml`: the key path (relative to the printed value) each line holds."""
    result: list[VPath | None] = [None] * len(texts)
    content = [text for text in texts if text.strip()]
    if not content:
        return result
    indent = min(len(text) - len(text.lstrip(" ")) for text in content)
    document = _first_document("\n".join(text[indent:] for text in texts))
    if document is None:
        return result
    starts: dict[int, tuple[VPath, int]] = {}
    for yaml_path, (line, _, end) in document.positions.items():
        if yaml_path:
            path = _normal_path(document.data, yaml_path)
            known = starts.get(line)
            if known is None or len(path) > len(known[0]):
                starts[line] = (path, end)
    open_paths: list[tuple[VPath, int]] = []  # started keys whose value runs on
    for index in range(len(texts)):
        number = index + 1
        while open_paths and open_paths[-1][1] < number:
            open_paths.pop()
        started = starts.get(number)
        if started is not None:
            while open_paths and len(open_paths[-1][0]) >= len(started[0]):
                open_paths.pop()
            open_paths.append(started)
        if open_paths and texts[index].strip():
            result[index] = open_paths[-1][0]
    return result


def _prints_yaml_alone(variant: _Variant) -> bool:
    """A line whose only content is a `toYaml` of values (after indentation)."""
    expand = variant.expand
    return (
        expand is not None
        and expand.yaml_path is not None
        and not expand.newline_first
        and variant.head is not None
        and not "".join(variant.head).strip()
        and (variant.tail is None or not "".join(variant.tail).strip())
    )


class _Mapper:
    """Turns an alignment into LineOrigins and ValueOrigins for one rendered template."""

    def __init__(self, skeleton: _Skeleton, stack: _ValueStack, anchor: LineOrigin | None) -> None:
        self.skeleton = skeleton
        self.stack = stack
        self.anchor = anchor
        self.counters: dict[int, int] = {}  # range chain -> iteration of the current line

    def run(
        self, texts: list[str], path: list[_Explained]
    ) -> tuple[list[LineOrigin | None], dict[int, tuple[ValueOrigin, ...]]]:
        origins: list[LineOrigin | None] = [None] * len(texts)
        values: dict[int, tuple[ValueOrigin, ...]] = {}
        lines = self.skeleton.lines
        span: list[int] = []  # rendered lines of the current multi-line action output
        span_variant: _Variant | None = None
        span_state = -1
        for index, step in enumerate(path):
            self.count_iterations(step.events)
            mode = step.mode
            if span and span_variant is not None and (mode not in (_CONT, _TAIL) or step.state >> 1 != span_state):
                self.span_values(texts, span, span_variant, values)
                span = []
            if mode == _MISS or step.line < 0:
                continue
            variant = lines[step.line].variants[step.variant]
            if mode in (_FULL, _HEAD, _JOIN):
                origins[index] = _line_origin(variant, texts[index], self.anchor)
                refs = [ref for item in variant.items if isinstance(item, _Print) for ref in item.refs]
                self.add_values(values, index, refs)
                if mode != _FULL:
                    span, span_state = [index], step.state >> 1
                    state_line = lines[step.state >> 5].variants[(step.state >> 1) & 15]
                    span_variant = variant if mode == _HEAD else state_line
                elif _prints_yaml_alone(variant):  # a `toYaml` that printed one line: its key
                    self.span_values(texts, [index], variant, values)
            elif variant.expand is not None:
                origins[index] = _where_origin(variant.expand.where, self.anchor)
                span.append(index)
        if span and span_variant is not None:
            self.span_values(texts, span, span_variant, values)
        return origins, values

    def count_iterations(self, events: tuple[Event, ...]) -> None:
        branches = self.skeleton.branches
        for kind, target in events:
            if kind == _ENTER:
                self.counters[branches[target].chain] = 0
            elif kind == _LOOP:
                chain = branches[target].chain
                self.counters[chain] = self.counters.get(chain, 0) + 1

    def span_values(
        self, texts: list[str], span: list[int], variant: _Variant, values: dict[int, tuple[ValueOrigin, ...]]
    ) -> None:
        """Lines printed by one multi-line action: `toYaml` keys resolve one by one. The head
        line belongs to the output too when the action starts it after blanks only."""
        expand = variant.expand
        if expand is None:
            return
        head_prints = not expand.newline_first and variant.head is not None and not "".join(variant.head).strip()
        body = span if head_prints else span[1:]
        if not body:
            return
        if expand.yaml_path is not None:
            subpaths = _yaml_subpaths([texts[i] for i in body])
            for index, subpath in zip(body, subpaths, strict=False):
                if subpath is not None:
                    self.add_nested(values, index, expand.yaml_path, subpath)
                elif index != span[0]:
                    self.add_values(values, index, [expand.yaml_path])
            return
        refs = [expand.text_path] if expand.text_path is not None else list(expand.refs)
        for index in body:
            if index != span[0]:
                self.add_values(values, index, refs)

    def add_nested(self, values: dict[int, tuple[ValueOrigin, ...]], index: int, base: VPath, subpath: VPath) -> None:
        concrete = self.concrete(base)
        if concrete is None:
            return
        for depth in range(len(subpath), -1, -1):
            origin = self.stack.origin(concrete + subpath[:depth])
            if origin is not None:
                values[index + 1] = (origin,)
                return

    def add_values(self, values: dict[int, tuple[ValueOrigin, ...]], index: int, refs: Sequence[VPath]) -> None:
        found: list[ValueOrigin] = []
        for ref in refs:
            concrete = self.concrete(ref)
            origin = self.stack.origin(concrete) if concrete else None
            if origin is not None and origin not in found:
                found.append(origin)
        if found:
            values[index + 1] = tuple(found)

    def concrete(self, path: VPath) -> VPath | None:
        """A values path with range markers replaced by the iteration's index or key."""
        if not any(isinstance(key, _Each) for key in path):
            return path
        out: list[PathKey] = []
        for key in path:
            if not isinstance(key, _Each):
                out.append(key)
                continue
            iteration = self.counters.get(key.chain)
            container = self.stack.lookup(tuple(out))
            if iteration is None:
                break
            if isinstance(container, list) and iteration < len(container):
                out.append(iteration)
            elif isinstance(container, dict) and iteration < len(container):
                out.append(sorted(container)[iteration])  # Go ranges over a map in key order
            else:
                break
        return tuple(out) if out else None


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------

_YAML_BREAKS = ("\r", "\x85", "\u2028", "\u2029")


def map_rendered(
    sources: ChartSources, template_name: str, rendered: str, layers: Sequence[ValuesLayer]
) -> tuple[list[LineOrigin | None], dict[int, tuple[ValueOrigin, ...]]]:
    """Origins of a rendered template's lines and the values entries behind them.

    ``lines[i]`` is the origin of rendered line i+1 (None: unknown); ``values`` maps a rendered
    line number to the values entries it prints, taken from the highest-precedence layer that
    sets each key. ``layers`` are the user's values, lowest precedence first; the chart's own
    values.yaml files rank below them. Line numbers count line breaks as YAML does.
    """
    texts = rendered.split("\n")
    try:
        origins, values = _map_lines(sources, template_name, texts, layers)
    except Exception:  # a best-effort map must never break a scan
        origins, values = [None] * len(texts), {}
    if any(mark in rendered for mark in _YAML_BREAKS):
        return _yaml_numbering(texts, origins, values)
    return origins, values


def _map_lines(
    sources: ChartSources, template_name: str, texts: list[str], layers: Sequence[ValuesLayer]
) -> tuple[list[LineOrigin | None], dict[int, tuple[ValueOrigin, ...]]]:
    located = sources._locate(template_name)
    if located is None:
        return [None] * len(texts), {}
    names, charts, relative = located
    chart = charts[-1]
    skeleton = sources._skeleton(template_name, chart, relative)
    stack = _value_stack(sources, names, charts, layers)
    path = _align(skeleton, texts, _Judge(skeleton, stack))
    return _Mapper(skeleton, stack, chart.anchor).run(texts, path)


def _yaml_numbering(
    texts: list[str], origins: list[LineOrigin | None], values: dict[int, tuple[ValueOrigin, ...]]
) -> tuple[list[LineOrigin | None], dict[int, tuple[ValueOrigin, ...]]]:
    """Renumber for YAML, which also breaks lines at a lone CR, NEL, LS and PS."""
    numbered: list[LineOrigin | None] = []
    renumbered: dict[int, tuple[ValueOrigin, ...]] = {}
    for index, text in enumerate(texts):
        if index + 1 in values:
            renumbered[len(numbered) + 1] = values[index + 1]
        body = text[:-1] if text.endswith("\r") else text
        extra = sum(body.count(mark) for mark in _YAML_BREAKS) - body.count("\r\n")
        numbered.extend([origins[index]] * (1 + max(0, extra)))
    return numbered, renumbered
