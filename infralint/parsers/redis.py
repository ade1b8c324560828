"""Redis and Sentinel configs: one node per file, with the effective settings as facts.

Read the way redis-server reads a config (src/config.c):
- each line is trimmed; it is a comment only when it starts with `#` (no trailing comments);
- arguments are split like `sdssplitargs` (redis_lexer); the directive name is case-insensitive;
- `include` inserts the other file at that point, so "the last line wins" spans files. Includes are
  followed only inside the scan root (real paths checked); a missing or outside target is
  `infralint-include-not-found`, a cycle or a chain deeper than MAX_INCLUDE_DEPTH a parse error.
  Configs embedded in a ConfigMap do not follow includes (their targets live elsewhere).
- most directives keep their last value; `save`, `rename-command`, `user`, `loadmodule` and
  `client-output-buffer-limit` count every line (the first `save` line replaces the defaults).
  A second `bind` line replaces the first, as in Redis.
- a wrong argument count or a value redis-server refuses is `infralint-parse-error` at the
  argument; an unknown directive is left to the `redis-unknown-directive` rule.

A file named sentinel.conf, or holding `sentinel ...` lines, is a Sentinel config (node kind
redis/sentinel): the server rules do not run on it.

Secrets (requirepass, masterauth, key passphrases, ACL passwords) never reach attrs or facts:
only whether they are set.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
from dataclasses import dataclass, field
from typing import Any

from infralint.graph.model import Node, SpanMap
from infralint.parsers.redis_acl import (
    COMMAND_CATEGORIES,
    AclUser,
    acl_problem,
    implicit_default_user,
    parse_user,
    redact,
)
from infralint.parsers.redis_commands import BUILTIN_COMMANDS
from infralint.parsers.redis_directives import (
    CUMULATIVE,
    MODULE_CONFIG,
    Directive,
    lookup,
    memory_bytes,
    value_problem,
)
from infralint.parsers.redis_lexer import SplitError, split_args
from infralint.parsers.result import ParseResult, bom_message, input_finding
from infralint.parsers.yamlpos import Path, Pos
from infralint.source import SourceFile

MAX_INCLUDE_DEPTH = 10
MAX_INCLUDE_BYTES = 5 * 1024 * 1024
DEFAULT_BIND = ("*", "-::*")  # Redis 7: every interface (IPv6 optional); protected mode guards it
DEFAULT_PORT = 6379
DEFAULT_SAVE = ((3600, 1), (300, 100), (60, 10000))
SECRET_SETTINGS = frozenset({"requirepass", "masterauth", "tls-key-file-pass", "tls-client-key-file-pass"})
_TRIM = " \t\r\n"
_CLIENT_CLASSES = frozenset({"normal", "replica", "slave", "pubsub"})
_SAVE_NUMBER = re.compile(r"[+-]?[0-9]{1,18}")
# Weak passwords: redis.conf's own example, or too short to resist Redis's speed at AUTH tries.
EXAMPLE_PASSWORD = "foobared"
MIN_PASSWORD_LENGTH = 16
_EXAMPLE_HASH = hashlib.sha256(EXAMPLE_PASSWORD.encode()).hexdigest()
# `${REDIS_PASSWORD}`, `$PASS`, `%password%`, `<password>`: filled in by a tool before Redis reads it.
_PLACEHOLDER = re.compile(r"\$\{?[A-Za-z_]|^%[\w.-]+%$|^<[^<>]+>$")
_SAVE_PAIRS = re.compile(r"\+?0*[1-9][0-9]{0,17} \+?[0-9]{1,18}(?: \+?0*[1-9][0-9]{0,17} \+?[0-9]{1,18})*")


@dataclass
class Line:
    """One directive line, in the parsed file or in a file it includes."""

    name: str  # lower case, as written (an alias stays an alias)
    args: list[str]
    file: str  # relative path of the file the line is in (the outer file for embedded text)
    pos: Pos  # (line, col, end_line) in that file
    directive: Directive | None
    own: bool  # in the parsed text itself, not in an included file
    # Takes effect: False when redis-server would refuse the line, except a line refused only for
    # a trailing '# comment', which counts with the arguments before the '#' (the author's intent).
    counts: bool = True

    @property
    def setting(self) -> str:
        return self.directive.setting if self.directive else self.name

    @property
    def module_config(self) -> bool:
        return self.directive is None and MODULE_CONFIG.match(self.name) is not None


@dataclass
class _Include:
    target: str
    file: str
    pos: Pos
    followed: list[str] = field(default_factory=list)


class _Reader:
    """Reads a config and the files it includes, in order, into Lines and input findings."""

    def __init__(self, top: SourceFile, result: ParseResult) -> None:
        self.top = top
        self.result = result
        self.lines: list[Line] = []
        self.includes: list[_Include] = []
        self.root = os.path.realpath(top.root) if top.root else ""
        # Load-time state redis-server keeps across lines and included files.
        self.users: dict[str, Line] = {}  # ACL user names (case-sensitive) -> the line defining it
        self.commands_gone: dict[str, Line] = {}  # a command renamed away -> the rename-command line
        self.commands_added: set[str] = set()  # names a rename-command gave a command

    def read(self, source: SourceFile, chain: tuple[str, ...]) -> None:
        own = source is self.top
        if source.bom:
            self._error(source, 1, 1, bom_message("redis-server"))
        for number, raw in enumerate(source.text.split("\n"), 1):
            body = raw.strip(_TRIM)
            if body and body[0] != "#":
                self._line(source, number, raw, body, own, chain)

    # --- one line ---------------------------------------------------------------------

    def _error(self, source: SourceFile, number: int, col: int, message: str) -> None:
        self.result.findings.append(input_finding("infralint-parse-error", message, source.span(number, col)))

    def _line(self, source: SourceFile, number: int, raw: str, body: str, own: bool, chain: tuple[str, ...]) -> None:
        nul = raw.find("\x00")
        if nul != -1:
            self._error(
                source, number, nul + 1, "NUL byte in a redis.conf line: redis-server stops reading the line there"
            )
            return
        lead = len(raw) - len(raw.lstrip(_TRIM))
        try:
            tokens = split_args(body)
        except SplitError as error:
            message = f"{error.reason}: redis-server refuses the line (unbalanced quotes)"
            self._error(source, number, lead + error.offset + 1, message)
            return
        if not tokens:
            return
        cols = [lead + offset + 1 for _, offset in tokens]
        name = tokens[0][0].lower()
        line = Line(
            name, [text for text, _ in tokens[1:]], source.path, source.position(number, cols[0]), lookup(name), own
        )
        line.counts = self._valid(source, number, line, cols)
        self.lines.append(line)
        if line.name == "include" and line.counts:
            self._include(source, number, cols[1], line, chain)

    def _valid(self, source: SourceFile, number: int, line: Line, cols: list[int]) -> bool:
        """Report what redis-server would refuse; True when the line takes effect."""
        directive = line.directive
        if directive is None:
            if line.module_config and not line.args:
                self._error(
                    source,
                    number,
                    cols[0],
                    f"module config '{_shorten(line.name)}' has no value: redis-server refuses the line",
                )
                return False
            return True  # an unknown directive is a rule's finding; a module config is queued
        problem = _arity_problem(directive, line.args)
        if problem is not None:
            return self._arity_error(source, number, line, cols, problem)
        value = _value_problem(directive, line.args)
        if value is not None:
            index, reason = value
            shown = _shorten(line.args[index]) if line.args else ""
            message = f"'{line.name}' {reason} (got '{shown}'): redis-server refuses the line"
            self._error(source, number, cols[1 + index] if line.args else cols[0], message)
            return False
        if directive.setting == "user":
            return self._user(source, number, line, cols)
        if directive.setting == "rename-command":
            return self._rename(source, number, line, cols)
        return True

    def _user(self, source: SourceFile, number: int, line: Line, cols: list[int]) -> bool:
        problem = acl_problem(line.args)
        if problem is not None:
            index, reason = problem
            self._error(
                source,
                number,
                cols[1 + index],
                f"user '{_shorten(line.args[0])}': {reason}: redis-server refuses the line",
            )
            return False
        first = self.users.setdefault(line.args[0], line)
        if first is not line:
            message = f"user '{_shorten(line.args[0])}' is already defined {_where(first, source)}: redis-server refuses a second definition"
            self._error(source, number, cols[1], message)
            return False
        return True

    def _rename(self, source: SourceFile, number: int, line: Line, cols: list[int]) -> bool:
        """A command renamed away no longer exists under its old name, and a name a command has
        (built in, or given by a rename) cannot be given to another. A name that is neither built
        in 7.0 nor given by a rename may be a later release's command: not judged."""
        old, new = line.args[0].lower(), line.args[1].lower()
        earlier = self.commands_gone.get(old)
        if earlier is not None and old not in self.commands_added:
            message = f"'{_shorten(line.args[0])}' was already renamed {_where(earlier, source)}: redis-server finds no such command and refuses the line"
            self._error(source, number, cols[1], message)
            return False
        taken = new in self.commands_added or (new in BUILTIN_COMMANDS and new not in self.commands_gone)
        if new and new != old and taken:
            message = f"a command is already named '{_shorten(line.args[1])}': redis-server refuses the line"
            self._error(source, number, cols[2], message)
            return False
        self.commands_gone[old] = line
        self.commands_added.discard(old)
        if new:
            self.commands_added.add(new)
            self.commands_gone.pop(new, None)
        return True

    def _arity_error(self, source: SourceFile, number: int, line: Line, cols: list[int], problem: str) -> bool:
        assert line.directive is not None
        comment = next((i for i, arg in enumerate(line.args) if arg.startswith("#")), None)
        if comment is not None:
            message = (
                f"'{line.name}' {problem}: '#' starts a comment only at the start of a line in redis.conf, "
                "so the text after it is read as arguments and redis-server refuses the line"
            )
            self._error(source, number, cols[1 + comment], message)
            # The rules judge what the author meant: the arguments before the '#'.
            intended = line.args[:comment]
            if _arity_problem(line.directive, intended) is None and _value_problem(line.directive, intended) is None:
                line.args = intended
                return True
            return False
        extra = line.directive.max_args
        col = cols[1 + extra] if extra is not None and len(line.args) > extra else cols[0]
        self._error(source, number, col, f"'{line.name}' {problem}: redis-server refuses the line")
        return False

    # --- includes ---------------------------------------------------------------------

    def _include(self, source: SourceFile, number: int, col: int, line: Line, chain: tuple[str, ...]) -> None:
        target = line.args[0]
        record = _Include(target, source.path, source.position(number, col))
        self.includes.append(record)
        if self.top.embedded_in is not None:
            return  # the target lives in the image or in another ConfigMap
        span = source.span(number, col)
        if not self.root:
            self._not_found(span, f"include '{_shorten(target)}' not followed: no scan root")
            return
        if len(chain) > MAX_INCLUDE_DEPTH:
            self._error(source, number, col, f"includes nested more than {MAX_INCLUDE_DEPTH} deep: not followed")
            return
        paths, outside = self._resolve(source, target)
        if not paths:
            if not _has_wildcard(target) or outside:
                where = "points outside the scan root: not read" if outside else "not found"
                self._not_found(span, f"include '{_shorten(target)}' {where}")
            return  # a wildcard matching nothing is fine for Redis too (an empty conf.d)
        for path in paths:
            real = os.path.realpath(path)
            relative = os.path.relpath(path, self.top.root).replace(os.sep, "/")
            if real in chain:
                self._error(source, number, col, f"include cycle: '{relative}' is already being read")
                continue
            inner = self._load(path, relative, span)
            if inner is not None:
                record.followed.append(relative)
                self.read(inner, (*chain, real))

    def _not_found(self, span: Any, message: str) -> None:
        self.result.findings.append(input_finding("infralint-include-not-found", message, span))

    def _inside(self, path: str) -> bool:
        return path == self.root or path.startswith(self.root.rstrip(os.sep) + os.sep)

    def _resolve(self, source: SourceFile, target: str) -> tuple[list[str], bool]:
        """Files an include names, inside the root only; and whether it pointed outside.

        Redis opens a relative path from its working directory; the config's own folder and the
        scan root are the best guesses for it here.
        """
        if os.path.isabs(target):
            candidates = [target]
        else:
            candidates = [os.path.join(os.path.dirname(source.abspath), target), os.path.join(self.top.root, target)]
        found: list[str] = []
        outside = False
        for candidate in dict.fromkeys(os.path.normpath(os.path.abspath(c)) for c in candidates):
            if not self._inside(candidate):  # judged on the text first: nothing outside is touched
                outside = True
                continue
            matches = sorted(glob.glob(candidate)) if _has_wildcard(target) else [candidate]
            for match in matches:
                if not self._inside(os.path.realpath(match)):
                    outside = True
                elif os.path.isfile(match) and match not in found:
                    found.append(match)
            if found:
                break
        return found, outside and not found

    def _load(self, path: str, relative: str, span: Any) -> SourceFile | None:
        from infralint.discover import UTF8_BOM, decode

        try:
            if os.path.getsize(path) > MAX_INCLUDE_BYTES:
                self.result.findings.append(
                    input_finding(
                        "infralint-file-too-large", f"included file '{relative}' is too large: not read", span
                    )
                )
                return None
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as error:
            self._not_found(span, f"included file '{relative}' cannot be read: {error.strerror or error}")
            return None
        text, problem, _, _ = decode(data)
        if problem is not None or text is None:
            reason = problem.message if problem is not None else "not text"
            self.result.findings.append(
                input_finding("infralint-parse-error", f"included file '{relative}': {reason}", span)
            )
            return None
        return SourceFile(relative, path, text, "redis", root=self.top.root, bom=data.startswith(UTF8_BOM))


def _where(line: Line, source: SourceFile) -> str:
    """'at line 3', or 'in other.conf:3' for a line of another file."""
    if line.file == source.path:
        return f"at line {line.pos[0]}"
    return f"in {line.file}:{line.pos[0]}"


def _has_wildcard(target: str) -> bool:
    return any(char in target for char in "*?[")


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _plural(count: int) -> str:
    return f"{count} argument" + ("" if count == 1 else "s")


def _arity_problem(directive: Directive, args: list[str]) -> str | None:
    count = len(args)
    low, high = directive.min_args, directive.max_args
    if count >= low and (high is None or count <= high):
        return None
    if high is None:
        return f"takes at least {_plural(low)}, got {count}"
    if low == high:
        return f"takes {_plural(low)}, got {count}"
    return f"takes {low} to {high} arguments, got {count}"


def _value_problem(directive: Directive, args: list[str]) -> tuple[int, str] | None:
    """Value checks of the table, plus the multi-argument directives' own rules."""
    if directive.deprecated:
        return None  # accepted and ignored whatever the value
    if directive.setting == "save":
        return _save_problem(args)
    if directive.setting == "client-output-buffer-limit":
        return _buffer_limit_problem(args)
    if directive.setting == "replicaof":
        return _replicaof_problem(args)
    return value_problem(directive, args)


def _replicaof_problem(args: list[str]) -> tuple[int, str] | None:
    if [arg.lower() for arg in args] == ["no", "one"] or (args[1].isdecimal() and int(args[1]) <= 65535):
        return None
    return 1, "needs a port number after the host (or 'no one')"


def _save_problem(args: list[str]) -> tuple[int, str] | None:
    if args == [""] or not args:
        return None
    if len(args) % 2:
        return len(args) - 1, 'takes pairs of <seconds> <changes> (or "" to disable snapshots)'
    # One regex over the whole line rather than a loop: a hostile line holds millions of numbers.
    if _SAVE_PAIRS.fullmatch(" ".join(args)):
        return None
    bad = next((i for i, arg in enumerate(args) if not _SAVE_NUMBER.fullmatch(arg) or int(arg) < 1 - i % 2), None)
    return None if bad is None else (bad, "takes pairs of <seconds> (1 or more) <changes> (0 or more)")


def _buffer_limit_problem(args: list[str]) -> tuple[int, str] | None:
    if len(args) % 4:
        return len(args) - 1, "takes groups of <class> <hard> <soft> <seconds>"
    for start in range(0, len(args), 4):
        if args[start].lower() not in _CLIENT_CLASSES:
            return start, "needs a client class: normal, replica or pubsub"
        for offset in (1, 2):
            if memory_bytes(args[start + offset]) is None:
                return start + offset, "needs a size such as 64mb"
        if not args[start + 3].isdecimal():
            return start + 3, "needs whole seconds"
    return None


# --- the node -------------------------------------------------------------------------------


def parse(source: SourceFile) -> ParseResult:
    result = ParseResult(documents=1)
    reader = _Reader(source, result)
    start = os.path.realpath(source.abspath) if source.abspath and source.embedded_in is None else source.id_path
    reader.read(source, (start,))
    result.nodes.append(_node(source, reader))
    return result


def is_sentinel(source: SourceFile, lines: list[Line]) -> bool:
    name = (source.embedded_key or source.path).rsplit("/", 1)[-1].lower()
    return name == "sentinel.conf" or any(line.name == "sentinel" and line.args for line in lines)


def _node(source: SourceFile, reader: _Reader) -> Node:
    lines = reader.lines
    sentinel = is_sentinel(source, lines)
    table: dict[Path, Pos] = {(): source.position(1, 1)}
    directives = []
    for index, line in enumerate(lines):
        directives.append(_describe(line))
        if line.own:
            table[("directives", index)] = line.pos
    settings = _effective(lines)
    for setting, line in settings.items():
        if line.own:
            table[("settings", setting)] = line.pos
    attrs: dict[str, Any] = {
        "directives": directives,
        "settings": {name: _shown_args(line) for name, line in settings.items()},
    }
    facts = _facts(source, lines, settings, reader.includes, sentinel)
    total_lines = source.text.count("\n") + 1
    return Node(
        f"redis/{source.id_path}",
        ("redis/sentinel",) if sentinel else ("redis/config",),
        attrs,
        SpanMap(source.path, table),
        facts,
        end_line=source.position(total_lines)[0],
    )


def _shown_args(line: Line) -> list[str]:
    if line.setting in SECRET_SETTINGS:
        return ["<redacted>" if arg else "" for arg in line.args]
    if line.setting == "user":
        return redact(line.args)
    return list(line.args)


def _describe(line: Line) -> dict[str, Any]:
    return {
        "name": line.name,
        "setting": line.setting,
        "args": _shown_args(line),
        "file": line.file,
        "line": line.pos[0],
        "col": line.pos[1],
        "known": line.directive is not None,
        "module_config": line.module_config,
        "counts": line.counts,
        "own": line.own,
        "since": line.directive.since if line.directive else None,
    }


def _effective(lines: list[Line]) -> dict[str, Line]:
    """The line that sets each single-valued directive: the last one that takes effect."""
    settings: dict[str, Line] = {}
    for line in lines:
        if line.counts and line.directive is not None and line.setting not in CUMULATIVE:
            settings[line.setting] = line
    return settings


def _first(settings: dict[str, Line], name: str, default: str | None = None) -> str | None:
    line = settings.get(name)
    return line.args[0] if line is not None and line.args else default


def _int(text: str | None, default: int | None) -> int | None:
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        return None


def save_points(lines: list[Line]) -> list[list[int]]:
    """RDB snapshot points: the defaults until the first `save` line, which replaces them;
    later lines add points and `save ""` clears them."""
    points: list[list[int]] | None = None
    for line in lines:
        if line.setting != "save" or not line.counts:
            continue
        if line.args == [""]:
            points = []
            continue
        if points is None:
            points = []
        points.extend([int(line.args[i]), int(line.args[i + 1])] for i in range(0, len(line.args) - 1, 2))
    return [list(point) for point in DEFAULT_SAVE] if points is None else points


def acl_users(lines: list[Line], requirepass: str) -> tuple[AclUser, list[AclUser]]:
    """The default user as it ends up, and every user declared with a `user` line."""
    users = [parse_user(line.args) for line in lines if line.setting == "user" and line.counts]
    declared_default = [user for user in users if user.name == "default"]
    default = declared_default[-1] if declared_default else implicit_default_user(requirepass)
    if declared_default and requirepass and not default.has_password and not default.nopass:
        default.passwords = 1  # requirepass still sets its password, but an explicit nopass wins
    return default, users


def _with_implicit_default(default: AclUser, users: list[AclUser]) -> list[AclUser]:
    return users if default in users else [default, *users]


def _weakness(password: str) -> str | None:
    """Why a password is weak ("the example password 'foobared'", "8 characters"), or None."""
    if not password or _PLACEHOLDER.search(password):
        return None  # unset, or a placeholder a tool fills in
    if password == EXAMPLE_PASSWORD:
        return f"the example password '{EXAMPLE_PASSWORD}' of redis.conf"
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"only {len(password)} characters long"
    return None


def weak_passwords(lines: list[Line], settings: dict[str, Line]) -> list[dict[str, Any]]:
    """Where a weak password is set: requirepass, masterauth and the passwords of enabled ACL users.
    Only the verdict is kept, never the password."""
    found = []
    for setting in ("requirepass", "masterauth"):
        line = settings.get(setting)
        reason = _weakness(line.args[0]) if line is not None and line.args else None
        if line is not None and reason is not None:
            found.append(_weak(line, setting, reason))
    for line in lines:
        if line.setting == "user" and line.counts and parse_user(line.args).enabled:
            found += [_weak(line, f"user {line.args[0]}", reason) for reason in _user_weaknesses(line.args[1:])]
    return found


def _user_weaknesses(rules: list[str]) -> list[str]:
    """Why each password a `user` line leaves the user with is weak (`>pw`, or the example's `#hash`)."""
    passwords: dict[str, str | None] = {}  # password or hash -> its weakness
    for rule in rules:
        lower = rule.lower()
        if lower in ("nopass", "resetpass", "reset"):
            passwords.clear()
        elif rule[:1] == ">":
            passwords[rule[1:]] = _weakness(rule[1:])
        elif rule[:1] == "#":
            is_example = rule[1:] == _EXAMPLE_HASH
            passwords[rule[1:]] = f"the hash of the example password '{EXAMPLE_PASSWORD}'" if is_example else None
        elif rule[:1] in ("<", "!"):
            passwords.pop(rule[1:], None)
    return [reason for reason in passwords.values() if reason is not None]


def _weak(line: Line, setting: str, reason: str) -> dict[str, Any]:
    return {"setting": setting, "reason": reason, "file": line.file, "line": line.pos[0], "col": line.pos[1]}


def _facts(
    source: SourceFile, lines: list[Line], settings: dict[str, Line], includes: list[_Include], sentinel: bool
) -> dict[str, Any]:
    requirepass = _first(settings, "requirepass", "") or ""
    default_user, users = acl_users(lines, requirepass)
    bind_line = settings.get("bind")
    maxmemory_text = _first(settings, "maxmemory")
    maxmemory = memory_bytes(maxmemory_text) if maxmemory_text is not None else 0
    replicaof = settings.get("replicaof")
    renamed = {}
    for line in lines:
        if line.setting == "rename-command" and line.counts:
            renamed[line.args[0].lower()] = "disabled" if line.args[1] == "" else "renamed"
    save = save_points(lines)
    return {
        "config": source.id_path,
        "role": "sentinel" if sentinel else "server",
        "bind": list(bind_line.args) if bind_line else list(DEFAULT_BIND),
        "bind_explicit": bind_line is not None,
        "port": _int(_first(settings, "port"), DEFAULT_PORT),
        "tls_port": _int(_first(settings, "tls-port"), 0),
        "unixsocket": _first(settings, "unixsocket") or None,
        "protected_mode": (_first(settings, "protected-mode", "yes") or "yes").lower() == "yes",
        "requirepass_set": bool(requirepass),
        "default_user": default_user.summary(),
        # Whether a client on the default user may run each dangerous command (ACL rules only).
        "default_user_may_run": {command: default_user.may_run(command) for command in COMMAND_CATEGORIES},
        "acl_users": [user.summary() for user in users],
        # Users that may run every command on every key, in file order ("default" first when no
        # `user default` line leaves it at its implicit +@all ~*).
        "full_access_users": [user.name for user in _with_implicit_default(default_user, users) if user.full_access],
        "aclfile": _first(settings, "aclfile") or None,
        "maxmemory": maxmemory,  # bytes; 0 = no limit; None = a value Redis refuses
        "maxmemory_policy": (_first(settings, "maxmemory-policy", "noeviction") or "").lower(),
        "save": save,
        "rdb_enabled": bool(save),
        "appendonly": (_first(settings, "appendonly", "no") or "").lower() == "yes",
        "rename_commands": renamed,
        "enable_debug_command": (_first(settings, "enable-debug-command", "no") or "").lower(),
        "enable_module_command": (_first(settings, "enable-module-command", "no") or "").lower(),
        "enable_protected_configs": (_first(settings, "enable-protected-configs", "no") or "").lower(),
        "masterauth_set": bool(_first(settings, "masterauth")),
        "masteruser": _first(settings, "masteruser") or None,
        "weak_passwords": weak_passwords(lines, settings),
        "tls_protocols": (_first(settings, "tls-protocols") or "").split() or None,  # None: Redis's default
        "tls_replication": (_first(settings, "tls-replication", "no") or "").lower() == "yes",
        "tls_cluster": (_first(settings, "tls-cluster", "no") or "").lower() == "yes",
        "replicaof": None
        if replicaof is None or replicaof.args[0].lower() == "no"
        else {"host": replicaof.args[0], "port": _int(replicaof.args[1], None)},
        "cluster_enabled": (_first(settings, "cluster-enabled", "no") or "").lower() == "yes",
        "includes": [
            {"target": item.target, "file": item.file, "line": item.pos[0], "followed": item.followed}
            for item in includes
        ],
        "module_configs": sorted({line.name for line in lines if line.module_config}),
        # Set by the cross-format linkers (compose ports, k8s Services): who can reach this
        # server (see graph/redis_links.py). None until then: rules judge by the bind addresses.
        "exposure": None,
        # Set by the linkers when a container runs this config: its memory limit in bytes, and
        # which container that is ("container redis of StatefulSet/cache"), for messages.
        "memory_limit": None,
        "memory_limit_of": None,
    }
