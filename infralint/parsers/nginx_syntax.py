"""nginx text -> statements: crossplane's lexer and directive analysis, our own statement loop.

Why not ``crossplane.parse()``: it opens the config by file name and follows every ``include``
wherever it points (``include /etc/passwd;`` would be read), and it cannot parse text we already
hold (a ConfigMap value, positions shifted into a YAML file). So the text in hand is fed to
crossplane's lexer (``_lex_file_object`` takes any iterable of strings), and each statement goes
through crossplane's ``analyze``/``enter_block_ctx``, which carry its table of where each
directive may appear and how many arguments it takes: what nginx rejects for context or
argument count is a parse error here too. The loop around them is ours because it must
- follow includes only inside the scan root, read through a size-capped, decoding reader; a
  path inside the container is also looked up among the files a Dockerfile of the scan copies
  there (infralint/images/in_tree.py);
- leave the values of an envsubst template's `${NAME}` placeholders unjudged (see env_placeholders);
- recover columns (the lexer gives lines only) and report the syntax errors the lexer passes
  over silently (an unterminated quote, a statement cut off by the end of the file, a stray ";");
- bound block nesting and include depth, and detect include cycles (nginx itself crashes on one).
Unknown directives are not errors: they come from modules (lua, headers-more, brotli ...) that the
checking nginx may simply not have been built with. A directive given twice where nginx allows
one (`"root" directive is duplicate`) is not detected: crossplane has no table for it. An error
in a statement that spans lines is reported at the statement's first line; nginx names the line
of its `;` or `{`.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import posixpath
import re
import stat
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import crossplane  # noqa: F401  (importing it registers the Lua block lexer)
from crossplane.analyzer import analyze, enter_block_ctx
from crossplane.errors import NgxParserBaseException, NgxParserDirectiveContextError, NgxParserDirectiveError
from crossplane.lexer import _lex_file_object
from crossplane.parser import _prepare_if_args

from infralint.source import SourceFile

if TYPE_CHECKING:
    from infralint.parsers import nginx_mounts

Ctx = tuple[str, ...]

MAX_BLOCK_DEPTH = 64  # nested blocks in one config; real configs stay under 6
MAX_INCLUDE_DEPTH = 16  # include chains; nginx has no limit but crashes on a cycle
MAX_INCLUDED_FILES = 512  # files read through includes for one config (a glob over a huge tree)
DEFAULT_MAX_BYTES = 5 * 1024 * 1024

# Files that ship with nginx (or its distro packages): an include of one that is absent from the
# scan is expected, the server has it.
STOCK_FILES = frozenset(
    {
        "mime.types",
        "fastcgi_params",
        "fastcgi.conf",
        "scgi_params",
        "uwsgi_params",
        "koi-utf",
        "koi-win",
        "win-utf",
        "proxy_params",
    }
)
STOCK_SUFFIXES = ("snippets/fastcgi-php.conf", "snippets/snakeoil.conf", "modules-enabled/*.conf")
# nginx's prefix in the official and distribution images: where a relative include is read from.
IMAGE_PREFIX = "/etc/nginx/"
# Where packaged nginx keeps its configuration: an absolute include below one of these is looked
# up next to the main config too, since that is the folder the repository's config is deployed to.
CONF_PREFIXES = ("/etc/nginx/", "/usr/local/nginx/conf/", "/usr/local/etc/nginx/", "/opt/nginx/conf/")

# Context guessing for files that are not a whole config: tried in order, first without a context
# error wins. Server context first for bare directives (a snippet of add_header lines is meant for
# a server or location), http first when the file holds server/upstream blocks.
_HTTP_LEVEL_BLOCKS = frozenset({"server", "upstream", "map", "geo", "split_clients", "types", "log_format"})
_MAIN_BLOCKS = frozenset({"http", "events", "stream", "mail"})
_ALL_CONTEXTS: tuple[Ctx, ...] = (
    ("http", "server"),
    ("http", "location"),
    ("http",),
    (),
    ("stream", "server"),
    ("stream",),
    ("http", "upstream"),
    ("stream", "upstream"),
    ("events",),
    ("http", "location", "if"),
    ("http", "server", "if"),
    ("http", "location", "limit_except"),
    ("mail",),
    ("mail", "server"),
)


class Token(NamedTuple):
    text: str
    line: int
    quoted: bool
    col: int | None


@dataclass
class Stmt:
    """One directive; ``unit`` is the file it is written in (an included file, or the source)."""

    name: str
    args: list[str]
    unit: SourceFile
    line: int
    col: int | None
    block: list[Stmt] | None = None
    end_line: int | None = None
    includes: list[str] = field(default_factory=list)  # for `include`: files it brought in
    placeholder: bool = False  # an argument is an envsubst placeholder: its value is unknown


@dataclass
class Problem:
    rule_id: str
    message: str
    unit: SourceFile
    line: int | None
    col: int | None = None


@dataclass
class Comment:
    unit: SourceFile
    line: int
    text: str


class NginxSyntaxError(Exception):
    def __init__(self, message: str, line: int | None, col: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col


# --- tokens ------------------------------------------------------------------------------------

_SENTINEL = "\x00"  # cannot occur in decoded text (NUL bytes are refused before parsing)


def tokenize(text: str) -> list[Token]:
    """crossplane's tokens with a column each; raises NginxSyntaxError for what the lexer glosses over.

    A sentinel statement is appended: the lexer drops a token still open at the end of its input
    (an unterminated quote swallows everything after it), so a missing sentinel means the text
    ended inside a quoted string or a Lua block.
    """
    lexed, braces_in_words = _braces_as_nginx_reads_them(text)
    try:
        raw = list(_lex_file_object([lexed, f"\n{_SENTINEL};\n"]))
    except NgxParserBaseException as error:  # the Lua block lexer raises these
        raise NginxSyntaxError(error.strerror, error.lineno) from None
    if braces_in_words:
        raw = [(value.translate(_WORD_BRACES_BACK), line, quoted) for value, line, quoted in raw]
    if len(raw) >= 2 and raw[-2][0] == _SENTINEL and raw[-1][0] == ";" and not raw[-2][2]:
        raw = raw[:-2]
        complete = True
    else:
        complete = False
    tokens = list(_with_columns(text, raw))
    if not complete:
        line, col = _open_quote_position(text, tokens)
        raise NginxSyntaxError("unexpected end of file: unterminated quoted string or block", line, col)
    return tokens


# nginx and crossplane cut words differently. To nginx a `}` inside a word is part of it
# (`set $a b};` sets "b}"), so is a `{` right after a `$` (`${name`), and its only blanks are
# space, tab, CR and LF; crossplane ends every word at `}`, reads `${` up to the next `}` or
# blank (`;` included), and takes any Unicode space (a no-break space pasted from a web page)
# for a blank. Such characters are handed to crossplane as stand-ins it sees as word characters.
_WORD_BRACE_HINT = re.compile(r"\$\{|[^\s;{}]\}|[^\S \t\r\n]")
_OPEN_IN_WORD, _CLOSE_IN_WORD = "\ue000", "\ue001"
_ODD_BLANKS = (
    "\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)
_STAND_INS = {blank: chr(0xE010 + index) for index, blank in enumerate(_ODD_BLANKS)}
_WORD_BRACES_BACK = str.maketrans(
    {_OPEN_IN_WORD: "{", _CLOSE_IN_WORD: "}", **{stand_in: blank for blank, stand_in in _STAND_INS.items()}}
)


def _braces_as_nginx_reads_them(text: str) -> tuple[str, bool]:
    """TEXT with the braces nginx reads as word characters replaced by stand-ins (same length),
    and whether any was. Text with Lua blocks (their own lexer) or the stand-ins is left alone."""
    if not _WORD_BRACE_HINT.search(text) or "_by_lua_block" in text or re.search("[\ue000-\ue0ff]", text):
        return text, False
    chars = list(text)
    in_word = False
    quote = ""
    index, size = 0, len(chars)
    while index < size:
        char = chars[index]
        if quote:  # inside a quoted string: only its closing quote matters
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
                in_word = True  # what follows a closing quote is glued to it
        elif char == "\\":
            in_word = True
            index += 1
        elif char in _STAND_INS:
            chars[index] = _STAND_INS[char]
            in_word = True
        elif char.isspace() or char in ";{":
            if char == "{" and in_word and index and chars[index - 1] == "$":
                chars[index] = _OPEN_IN_WORD
            else:
                in_word = False
        elif char == "}":
            if in_word:
                chars[index] = _CLOSE_IN_WORD
        elif char == "#" and not in_word:
            newline = text.find("\n", index)
            index = size if newline == -1 else newline
            continue
        elif char in "\"'" and not in_word:
            quote = char
        else:
            in_word = True
        index += 1
    changed = "".join(chars)
    return changed, changed != text


def _line_starts(text: str) -> list[int]:
    starts = [0]
    find = text.find
    pos = find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = find("\n", pos + 1)
    return starts


_NON_SPACE = re.compile(r"\S")


def _with_columns(text: str, raw: list[tuple[str, int, bool]]) -> Iterator[Token]:
    """Walk the text beside the tokens to find where each starts (tokens are separated by
    whitespace only, so the next token starts at the next non-space character)."""
    starts = _line_starts(text)
    size = len(text)
    pos = 0
    search = _NON_SPACE.search
    make = tuple.__new__  # Token(...) without the namedtuple's Python-level __new__: 5 MB inputs
    for value, line, quoted in raw:
        line_start = starts[line - 1] if line <= len(starts) else size
        if line_start > pos:
            pos = line_start
        found = search(text, pos)
        if found is None:
            yield Token(value, line, quoted, None)
            continue
        pos = found.start()
        first = text[pos]
        if quoted and first in "\"'":
            end = _quoted_end(text, pos)
            # nginx wants a space, ";", "{" or (in an if condition) ")" after a closing quote.
            if end < size and not text[end].isspace() and text[end] not in ";{)":
                line_of = _line_of(starts, end)
                raise NginxSyntaxError(f'unexpected "{text[end]}"', line_of, end - starts[line_of - 1] + 1)
        elif quoted and first == "{":  # a Lua block, handed over as one quoted token
            end = _brace_end(text, pos)
        elif value[:1] == first:
            end = text.find("\n", pos) if first == "#" else pos + len(value)
            end = size if end == -1 else end
        else:  # a token the lexer made up (the ";" after a Lua block)
            yield Token(value, line, quoted, None)
            continue
        yield make(Token, (value, line, quoted, pos - line_start + 1 if line_start <= pos else None))
        pos = end


def _line_of(starts: list[int], offset: int) -> int:
    from bisect import bisect_right

    return bisect_right(starts, offset)


def _quoted_end(text: str, start: int) -> int:
    quote = text[start]
    pos = start + 1
    size = len(text)
    while pos < size:
        char = text[pos]
        if char == "\\":
            pos += 2
            continue
        if char == quote:
            return pos + 1
        pos += 1
    return size


def _brace_end(text: str, start: int) -> int:
    depth = 0
    for pos in range(start, len(text)):
        if text[pos] == "{":
            depth += 1
        elif text[pos] == "}":
            depth -= 1
            if depth == 0:
                return pos + 1
    return len(text)


def _open_quote_position(text: str, tokens: list[Token]) -> tuple[int, int | None]:
    """Where the text most likely went into an unterminated string: the first quote after the
    last complete token."""
    starts = _line_starts(text)
    offset = 0
    if tokens:
        last = tokens[-1]
        offset = starts[min(last.line, len(starts)) - 1] + (last.col or 1) - 1 + len(last.text)
    quotes = [pos for pos in (text.find('"', offset), text.find("'", offset)) if pos != -1]
    if not quotes:
        return len(starts), None
    first = min(quotes)
    line = _line_of(starts, first)
    return line, first - starts[line - 1] + 1


# --- envsubst templates -----------------------------------------------------------------------

# A config that an entrypoint renders with envsubst (the official nginx image does it for
# /etc/nginx/templates/*.template) holds `${NAME}` placeholders where values go. nginx's own
# variables are lower case (`$host`, `${host}`), and nginx refuses any variable where a flag or a
# fixed number of words is expected, so upper-case braced names in such a place only occur in
# templates. A file whose name says it is a template may use any envsubst form.
_UPPER_PLACEHOLDER = re.compile(r"\$\{[A-Z_][A-Z0-9_]*\}")
_ANY_PLACEHOLDER = re.compile(r"\$\{\w+\}|\$[A-Z_][A-Z0-9_]*(?![A-Za-z0-9_])")
_TEMPLATE_NAME = re.compile(r"([.]template|[-_.]template[.]conf|[.]tmpl|[.]tmpl[.]conf)$", re.IGNORECASE)


def env_placeholders(name: str, text: str) -> re.Pattern[str] | None:
    """How the envsubst placeholders of a template look, or None when the file is no template:
    its NAME says so (`*.template`, `*-template.conf`, `*.conf.tmpl`), or its TEXT holds `${NAME}`."""
    if _TEMPLATE_NAME.search(name):
        return _ANY_PLACEHOLDER
    if "${" in text and _UPPER_PLACEHOLDER.search(text):
        return _UPPER_PLACEHOLDER
    return None


# --- context guessing for fragments -----------------------------------------------------------


class Head(NamedTuple):
    """A statement as context guessing sees it: its name, words, terminator, line and, for a
    block, the statements inside (not those of blocks whose lines are entries, such as map)."""

    name: str
    args: list[str]
    term: str
    line: int
    children: tuple[Head, ...] = ()


def _top_level(tokens: list[Token], limit: int = 1000) -> list[Head]:
    """The statements at depth 0 with what their blocks hold, for guessing a context: the first
    LIMIT statements (at any depth) are enough to tell, and spare a huge file a second full walk."""
    stack: list[tuple[list[Head], tuple[str, list[str], int] | None]] = [([], None)]
    current: list[Token] = []
    kept = 0
    for token in tokens:
        if not token.quoted and token.text.startswith("#"):
            continue
        if token.quoted or token.text not in ("{", ";", "}"):
            current.append(token)
            continue
        if token.text == "}":
            if len(stack) > 1:
                children, opener = stack.pop()
                if opener is not None:
                    name, args, line = opener
                    inner = () if name in _ENTRY_BLOCKS else tuple(children)
                    stack[-1][0].append(Head(name, args, "{", line, inner))
            current = []
            continue
        head = (current[0].text, [t.text for t in current[1:]], current[0].line) if current else None
        current = []
        if token.text == "{":
            stack.append(([], head))
        elif head is not None:
            stack[-1][0].append(Head(head[0], head[1], ";", head[2]))
        kept += head is not None
        if kept >= limit:
            break
    while len(stack) > 1:  # a block the file leaves open: the reader reports it
        children, opener = stack.pop()
        if opener is not None:
            stack[-1][0].append(Head(opener[0], opener[1], "{", opener[2], tuple(children)))
    return stack[0][0]


def guess_context(statements: list[Head]) -> Ctx:
    """The context a file is written for: () for a whole config, else the first one in which
    every statement, those nested in its blocks included, is allowed (files included at the top
    level counted in). A snippet `if (...) { add_header ...; }` is a location's: nginx allows
    add_header in an `if` of a location but not in one of a server. When no context fits, the
    one with the fewest misplaced statements: the reader reports those."""
    names = {head.name for head in statements if head.term == "{"}
    if names & _MAIN_BLOCKS:
        return ()
    if names & _HTTP_LEVEL_BLOCKS:
        order: tuple[Ctx, ...] = (("http",), ("stream",), *_ALL_CONTEXTS)
    elif "location" in names:
        order = (("http", "server"), ("http", "location"), *_ALL_CONTEXTS)
    else:
        order = _ALL_CONTEXTS
    best: tuple[int, Ctx] | None = None
    for ctx in order:
        errors = sum(_misplaced(head, ctx) for head in statements)
        if errors == 0:
            return ctx
        if best is None or errors < best[0]:
            best = (errors, ctx)
    return best[1] if best else ("http", "server")


def _misplaced(head: Head, ctx: Ctx) -> int:
    """How many of HEAD and the statements in its block nginx would refuse where they stand."""
    if _context_error(head.name, head.args, head.term, head.line, ctx):
        return 1
    if not head.children:
        return 0
    inner = enter_block_ctx({"directive": head.name}, ctx)
    return sum(_misplaced(child, inner) for child in head.children)


def _context_error(name: str, args: list[str], term: str, line: int, ctx: Ctx) -> bool:
    """Whether nginx refuses the directive where it stands: not allowed there, or a block where
    that context knows only a plain directive of the name (`server {` inside an upstream)."""
    try:
        analyze("", {"directive": name, "args": args, "line": line}, term, ctx, check_args=False)
    except NgxParserDirectiveContextError:
        return True
    except NgxParserDirectiveError:
        return False
    try:
        analyze("", {"directive": name, "args": args, "line": line}, term, ctx, check_args=True)
    except NgxParserDirectiveError as error:
        return any(shape in str(error) for shape in _BLOCK_SHAPE_ERRORS)
    except ValueError:  # crossplane formats a flag's value into its message: a `%` in it breaks that
        return False
    return False


# crossplane's words when a directive is written as a block where it takes none, or the reverse.
_BLOCK_SHAPE_ERRORS = ("is not terminated by", "has no opening")


# --- reading included files --------------------------------------------------------------------


def inside(path: str, real_root: str) -> bool:
    return path == real_root or path.startswith(real_root.rstrip(os.sep) + os.sep)


def read_text(real: str, real_root: str, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[str | None, str, str]:
    """Text of a file inside the root, or (None, rule id, why): the same guards discovery uses.
    A text nginx would still refuse (it starts with a byte order mark) comes with a rule id and why."""
    from infralint.discover import UTF8_BOM, decode
    from infralint.parsers.result import bom_message

    if not inside(real, real_root):
        return None, "infralint-include-not-found", "outside the scan root: not read"
    try:
        info = os.stat(real)
        if not stat.S_ISREG(info.st_mode):
            return None, "infralint-include-not-found", "not a regular file"
        if info.st_size > max_bytes:
            return None, "infralint-file-too-large", f"{info.st_size / (1024 * 1024):.1f} MiB is over the size limit"
        data = Path(real).read_bytes()
    except OSError as error:
        return None, "infralint-include-not-found", f"cannot read: {error.strerror or error}"
    text, problem, _, _ = decode(data)
    if text is None:
        return None, "infralint-parse-error", problem.message if problem else "not text"
    if data.startswith(UTF8_BOM):
        return text, "infralint-parse-error", bom_message("nginx")
    return text, "", ""


# --- the statement loop ------------------------------------------------------------------------


@dataclass
class Parsed:
    """A config read from its root file: statements (includes spliced in), the context it was
    read in, what went wrong, and every file that includes brought in."""

    context: Ctx
    statements: list[Stmt]
    problems: list[Problem]
    comments: list[Comment]
    included: list[str]  # relative paths, in the order first read
    complete: bool  # False when a syntax error stopped the reading of the root file
    texts: dict[str, str] = field(default_factory=dict)  # text of each included file read


class Reader:
    def __init__(self, source: SourceFile, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.source = source
        self.max_bytes = max_bytes
        self.problems: list[Problem] = []
        self.comments: list[Comment] = []
        self.included: list[str] = []
        self._included_set: set[str] = set()
        self._tokens: dict[str, tuple[SourceFile, list[Token]] | NginxSyntaxError] = {}
        self._stack: list[str] = []  # real paths of the files being read, for cycles
        self.files_read = 0
        self._reported_files: set[str] = set()
        self.texts: dict[str, str] = {}  # included files read, for their suppression comments
        self._placeholders: dict[str, re.Pattern[str] | None] = {}  # unit path -> envsubst form
        self._image_files: dict[str, list[str]] | None = None  # path in an image -> scanned files
        self._mounts: list[nginx_mounts.Mount] | None = None  # compose mounts above the config
        self.follow = source.embedded_in is None and bool(source.abspath)
        root = source.root or (os.path.dirname(source.abspath) if source.abspath else "")
        self.root = os.path.abspath(root) if root else ""
        self.real_root = os.path.realpath(self.root) if root else ""
        self.fragment = False
        self.main_dir = os.path.dirname(os.path.abspath(source.abspath)) if source.abspath else ""

    def read(self) -> Parsed:
        try:
            tokens = tokenize(self.source.text)
        except NginxSyntaxError as error:
            self._syntax_problem(self.source, error)
            return Parsed((), [], self.problems, self.comments, self.included, False, self.texts)
        top = _top_level(tokens)
        self.fragment = not any(head.name in _MAIN_BLOCKS and head.term == "{" for head in top)
        ctx = guess_context(self._with_included(top, self.source, 0)) if self.fragment else ()
        self.fragment = ctx != ()
        if self.source.abspath:
            self._stack.append(os.path.realpath(self.source.abspath))
        complete = True
        try:
            statements = self._block(tokens, 0, self.source, ctx, 0, None)[0]
        except NginxSyntaxError as error:
            self._syntax_problem(self.source, error)
            statements = []
            complete = False
        return Parsed(ctx, statements, self.problems, self.comments, self.included, complete, self.texts)

    def _syntax_problem(self, unit: SourceFile, error: NginxSyntaxError) -> None:
        line = error.line if error.line is not None else max(1, unit.text.count("\n"))
        self.problems.append(Problem("infralint-parse-error", error.message, unit, line, error.col))

    def _block(
        self, tokens: list[Token], index: int, unit: SourceFile, ctx: Ctx, depth: int, opener: Stmt | None
    ) -> tuple[list[Stmt], int, int | None]:
        statements: list[Stmt] = []
        count = len(tokens)
        while index < count:
            token = tokens[index]
            if not token.quoted:
                if token.text == "}":
                    if opener is None:
                        raise NginxSyntaxError('unexpected "}"', token.line, token.col)
                    return statements, index + 1, token.line
                if token.text in ("{", ";"):
                    raise NginxSyntaxError(f'unexpected "{token.text}"', token.line, token.col)
                if token.text.startswith("#"):
                    self.comments.append(Comment(unit, token.line, token.text[1:]))
                    index += 1
                    continue
            stmt, term, index = self._statement(tokens, index, unit)
            if stmt.name == "if":
                holder = {"args": stmt.args}
                _prepare_if_args(holder)
                stmt.args = holder["args"]
            stmt.placeholder = self._has_placeholder(stmt, unit)
            # A placeholder stands for words we do not know: only the directive's place is judged.
            reason = _analysis_error(stmt, term.text, ctx, check_args=not stmt.placeholder)
            if reason is not None:
                self.problems.append(Problem("infralint-parse-error", reason, unit, stmt.line, stmt.col))
                if term.text == "{":
                    index = _skip_block(tokens, index)
                continue
            if term.text == "{":
                if depth >= MAX_BLOCK_DEPTH:
                    raise NginxSyntaxError(f"blocks nested deeper than {MAX_BLOCK_DEPTH} levels", stmt.line, stmt.col)
                inner = enter_block_ctx({"directive": stmt.name}, ctx)
                stmt.block, index, stmt.end_line = self._block(tokens, index, unit, inner, depth + 1, stmt)
            statements.append(stmt)
            if stmt.name == "include" and stmt.block is None and len(stmt.args) == 1 and not stmt.placeholder:
                statements.extend(self._include(stmt, unit, ctx, depth))
        if opener is not None:
            last = tokens[-1].line if tokens else opener.line
            raise NginxSyntaxError('unexpected end of file, expecting "}"', last)
        return statements, index, None

    def _has_placeholder(self, stmt: Stmt, unit: SourceFile) -> bool:
        if "$" not in "".join(stmt.args):
            return False
        if unit.id_path not in self._placeholders:
            name = unit.embedded_key or os.path.basename(unit.path)
            self._placeholders[unit.id_path] = env_placeholders(name, unit.text)
        pattern = self._placeholders[unit.id_path]
        return pattern is not None and any(pattern.search(arg) for arg in stmt.args)

    def _statement(self, tokens: list[Token], index: int, unit: SourceFile) -> tuple[Stmt, Token, int]:
        first = tokens[index]
        stmt = Stmt(first.text, [], unit, first.line, first.col)
        index += 1
        count = len(tokens)
        while index < count:
            token = tokens[index]
            if not token.quoted:
                if token.text in ("{", ";"):
                    return stmt, token, index + 1
                if token.text == "}":
                    raise NginxSyntaxError('unexpected "}"', token.line, token.col)
                if token.text.startswith("#"):
                    self.comments.append(Comment(unit, token.line, token.text[1:]))
                    index += 1
                    continue
            stmt.args.append(token.text)
            index += 1
        last = tokens[-1].line if tokens else first.line
        raise NginxSyntaxError('unexpected end of file, expecting ";" or "}"', last)

    # --- include ---

    def _include(self, stmt: Stmt, unit: SourceFile, ctx: Ctx, depth: int) -> list[Stmt]:
        if not self.follow:
            return []  # embedded text: the targets live in the image or another ConfigMap
        pattern = stmt.args[0]
        targets, problem = self._resolve(pattern, unit)
        if problem and not _is_stock(pattern):
            self.problems.append(
                Problem("infralint-include-not-found", f"include {pattern}: {problem}", unit, stmt.line, stmt.col)
            )
        statements: list[Stmt] = []
        for absolute in targets:
            statements.extend(self._read_included(absolute, stmt, unit, ctx, depth))
        return statements

    def _bases(self, unit: SourceFile) -> list[str]:
        """Folders a relative include is resolved against: nginx uses the main config's folder;
        the including file's folder is the fallback. For a fragment (no main config in hand)
        every folder from the including file up to the scan root is a candidate prefix."""
        including = os.path.dirname(os.path.abspath(unit.abspath))
        bases = [self.main_dir, including]
        if self.fragment:
            folder = including
            while inside(os.path.realpath(folder), self.real_root) and folder != os.path.dirname(folder):
                bases.append(folder)
                if os.path.realpath(folder) == self.real_root:
                    break
                folder = os.path.dirname(folder)
        unique: list[str] = []
        for base in bases:
            if base and base not in unique:
                unique.append(base)
        return unique

    def _resolve(self, pattern: str, unit: SourceFile) -> tuple[list[str], str]:
        """Absolute paths of the include's targets inside the root, or why there are none."""
        if os.path.isabs(pattern):
            candidates = [pattern] + [
                os.path.join(self.main_dir, pattern[len(prefix) :])
                for prefix in CONF_PREFIXES
                if pattern.startswith(prefix)
            ]
        else:
            candidates = [os.path.join(base, pattern) for base in self._bases(unit)]
        outside = False
        folder_in_root = False  # a glob whose folder is in the scan: matching nothing is fine
        for candidate in candidates:
            full = os.path.normpath(candidate)
            if glob.has_magic(full):
                fixed = _fixed_prefix(full)
                if not inside(os.path.realpath(fixed), self.real_root):
                    outside = True
                    continue
                folder_in_root = folder_in_root or os.path.isdir(fixed)
                matches = sorted(m for m in glob.glob(full) if os.path.isfile(m))
                inside_matches = [m for m in matches if inside(os.path.realpath(m), self.real_root)]
                if len(inside_matches) < len(matches):  # links leaving the root
                    return inside_matches, "some targets are outside the scan root: not read"
                if inside_matches:
                    return inside_matches, ""
                continue
            real = os.path.realpath(full)
            if not inside(real, self.real_root):
                outside = True
                continue
            if os.path.exists(real):
                return [full], ""
        copied = self._copied_into_image(pattern)
        if copied:
            return copied, ""
        mounted = self._mounted(pattern)
        if mounted is not None:
            return mounted
        if glob.has_magic(pattern) and (folder_in_root or not outside):
            return [], ""  # a pattern that matches nothing is fine for nginx
        if outside:
            return [], "the target is outside the scan root: not read"
        return [], "no such file in the scan"

    def _mounted(self, pattern: str) -> tuple[list[str], str] | None:
        """The include's targets when a compose service of the config's folder (or one above)
        mounts a host folder at its container path; None when no mount holds that path. A mount
        from an unknown source (a variable with no value, a named volume) is not followed."""
        if not self.root or not self.main_dir:
            return None
        from infralint.parsers import nginx_mounts

        if self._mounts is None:
            self._mounts = nginx_mounts.mounts_above(self.main_dir, self.root)
        wanted = posixpath.normpath(posixpath.join(IMAGE_PREFIX, pattern.replace("\\", "/")))
        found = nginx_mounts.covering(self._mounts, wanted)
        if found is None:
            return None
        mount, rest = found
        if mount.source is None:
            return [], ""
        host = os.path.join(mount.source, *rest.split("/")) if rest else mount.source
        if not inside(os.path.realpath(host if not glob.has_magic(host) else _fixed_prefix(host)), self.real_root):
            return [], f"mounted at {mount.target} from outside the scan root: not read"
        if glob.has_magic(host):
            return sorted(m for m in glob.glob(host) if os.path.isfile(m)), ""
        if os.path.isfile(host):
            return [host], ""
        source = os.path.relpath(mount.source, self.root).replace(os.sep, "/")
        return [], f"no such file in {source}/, mounted at {mount.target}"

    def _copied_into_image(self, pattern: str) -> list[str]:
        """Scanned files that a Dockerfile of the scan copies to the include's path in the image
        (a relative include is read from nginx's prefix, /etc/nginx/ in the usual images)."""
        if not self.root:
            return []
        from infralint.images.in_tree import image_files

        wanted = posixpath.normpath(posixpath.join(IMAGE_PREFIX, pattern.replace("\\", "/")))
        if self._image_files is None:  # once per config: the check that the cache is fresh stats the tree
            self._image_files = image_files(self.root)
        copied = self._image_files
        if not glob.has_magic(wanted):
            found = copied.get(wanted, [])
        else:
            depth = wanted.count("/")
            found = sorted(
                {
                    f
                    for inside, files in copied.items()
                    if inside.count("/") == depth and fnmatch.fnmatchcase(inside, wanted)
                    for f in files
                }
            )
        return [os.path.join(self.root, *path.split("/")) for path in found]

    def _read_included(self, absolute: str, stmt: Stmt, unit: SourceFile, ctx: Ctx, depth: int) -> list[Stmt]:
        real = os.path.realpath(absolute)
        relative = os.path.relpath(absolute, self.root).replace(os.sep, "/")
        if real in self._stack:
            self.problems.append(
                Problem(
                    "infralint-parse-error",
                    f"include cycle: {relative} is already being included (nginx would crash)",
                    unit,
                    stmt.line,
                    stmt.col,
                )
            )
            return []
        if len(self._stack) > MAX_INCLUDE_DEPTH:
            self.problems.append(
                Problem(
                    "infralint-parse-error",
                    f"includes nested deeper than {MAX_INCLUDE_DEPTH}",
                    unit,
                    stmt.line,
                    stmt.col,
                )
            )
            return []
        if self.files_read >= MAX_INCLUDED_FILES:
            self.problems.append(
                Problem(
                    "infralint-include-not-found",
                    f"include {stmt.args[0]}: more than {MAX_INCLUDED_FILES} included files: not read",
                    unit,
                    stmt.line,
                    stmt.col,
                )
            )
            return []
        included = self._load(real, relative, stmt, unit)
        if included is None:
            return []
        target, tokens = included
        stmt.includes.append(relative)
        if relative not in self._included_set:
            self._included_set.add(relative)
            self.included.append(relative)
        self._stack.append(real)
        try:
            return self._block(tokens, 0, target, ctx, depth, None)[0]
        except NginxSyntaxError as error:
            self._syntax_problem(target, error)
            return []
        finally:
            self._stack.pop()

    def _load(self, real: str, relative: str, stmt: Stmt, unit: SourceFile) -> tuple[SourceFile, list[Token]] | None:
        self.files_read += 1
        loaded = self._tokens.get(real)
        if loaded is None:
            text, rule_id, why = read_text(real, self.real_root, self.max_bytes)
            if text is None:
                self.problems.append(Problem(rule_id, f"include {relative}: {why}", unit, stmt.line, stmt.col))
                return None
            loaded = self._tokenize_file(real, relative, text)
            if rule_id and relative not in self._reported_files:  # read, but nginx refuses it
                self._reported_files.add(relative)
                target = SourceFile(relative, os.path.join(self.root, relative), text, "nginx", root=self.root)
                self.problems.append(Problem(rule_id, why, target, 1, 1))
        if isinstance(loaded, NginxSyntaxError):
            if relative not in self._reported_files:
                self._reported_files.add(relative)
                target = SourceFile(relative, os.path.join(self.root, relative), "", "nginx", root=self.root)
                self._syntax_problem(target, loaded)
            return None
        return loaded

    def _tokenize_file(self, real: str, relative: str, text: str) -> tuple[SourceFile, list[Token]] | NginxSyntaxError:
        target = SourceFile(relative, os.path.join(self.root, relative), text, "nginx", root=self.root)
        self.texts.setdefault(relative, text)
        loaded: tuple[SourceFile, list[Token]] | NginxSyntaxError
        try:
            loaded = (target, tokenize(text))
        except NginxSyntaxError as error:
            if error.line is None:
                error.line = max(1, text.count("\n"))
            loaded = error
        self._tokens[real] = loaded
        return loaded

    def _with_included(self, statements: list[Head], unit: SourceFile, depth: int) -> list[Head]:
        """Top-level statements with those of the files included at the top level in their place,
        so that a file of `include` lines gets the context of what it includes."""
        pool: list[Head] = []
        for statement in statements:
            name, args, term = statement.name, statement.args, statement.term
            if not (name == "include" and term == ";" and len(args) == 1 and self.follow and depth < 3):
                pool.append(statement)
                continue
            targets, _ = self._resolve(args[0], unit)
            for absolute in targets[:32]:
                real = os.path.realpath(absolute)
                loaded = self._tokens.get(real)
                if loaded is None:
                    text = read_text(real, self.real_root, self.max_bytes)[0]
                    if text is None:
                        continue
                    relative = os.path.relpath(absolute, self.root).replace(os.sep, "/")
                    loaded = self._tokenize_file(real, relative, text)
                if not isinstance(loaded, NginxSyntaxError):
                    pool.extend(self._with_included(_top_level(loaded[1]), loaded[0], depth + 1))
        return pool


_ANALYSIS_CACHE: dict[tuple[str, Ctx, str, int, str, bool], str | None] = {}


def _analysis_error(stmt: Stmt, term: str, ctx: Ctx, check_args: bool = True) -> str | None:
    """crossplane's verdict on a statement (None when fine). It depends on the directive, the
    context, the terminator, the argument count and, for flags, the value: cached on those, as
    a generated config repeats the same statement thousands of times. Without CHECK_ARGS only
    the directive's name and context are judged."""
    args = stmt.args
    key = (stmt.name, ctx, term, len(args), args[0].lower() if len(args) == 1 else "", check_args)
    if key in _ANALYSIS_CACHE:
        return _ANALYSIS_CACHE[key]
    reason = _name_error(stmt.name, ctx)
    if reason is None:
        try:
            # crossplane formats a bad flag value into its message twice: a `%` in it must be doubled
            shown = [arg.replace("%", "%%") for arg in args]
            analyze("", {"directive": stmt.name, "args": shown, "line": stmt.line}, term, ctx, check_args=check_args)
        except NgxParserDirectiveError as error:
            reason = error.strerror
    if len(_ANALYSIS_CACHE) < 10_000:
        _ANALYSIS_CACHE[key] = reason
    return reason


# Blocks whose lines are entries (`text/html html;`, `~^/api 1;`), not directives.
_ENTRY_BLOCKS = frozenset({"map", "geo", "types", "split_clients", "charset_map", "match"})
_DIRECTIVE_CHARS = re.compile(r"[A-Za-z0-9_]+")


def _name_error(name: str, ctx: Ctx) -> str | None:
    """Why NAME cannot name any directive (nginx refuses it as unknown), or None. Unknown names
    made of letters, digits and `_` are left alone: they may belong to a module."""
    if (ctx and ctx[-1] in _ENTRY_BLOCKS) or _DIRECTIVE_CHARS.fullmatch(name):
        return None
    odd = next((char for char in name if not (char.isalnum() or char == "_")), "")
    if odd.isspace():
        what = f"a {unicodedata.name(odd, 'blank').lower()} (U+{ord(odd):04X}), which nginx does not take for a blank"
    else:
        what = f"'{odd}'"
    shown = name if len(name) <= 40 else name[:37] + "..."
    return f'unknown directive "{shown}": it holds {what}'


def _skip_block(tokens: list[Token], index: int) -> int:
    """Index after the block whose "{" was just read (a block directive nginx would refuse)."""
    depth = 1
    count = len(tokens)
    while index < count:
        token = tokens[index]
        index += 1
        if token.quoted:
            continue
        if token.text == "{":
            depth += 1
        elif token.text == "}":
            depth -= 1
            if depth == 0:
                return index
    last = tokens[-1].line if tokens else None
    raise NginxSyntaxError('unexpected end of file, expecting "}"', last)


def _fixed_prefix(pattern: str) -> str:
    """The folder part of a glob pattern before its first wildcard."""
    parts = pattern.split(os.sep)
    fixed = []
    for part in parts:
        if glob.has_magic(part):
            break
        fixed.append(part)
    return os.sep.join(fixed) or os.sep


def _is_stock(pattern: str) -> bool:
    posix = pattern.replace("\\", "/")
    return posix.rsplit("/", 1)[-1] in STOCK_FILES or posix.endswith(STOCK_SUFFIXES)
