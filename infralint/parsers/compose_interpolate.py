"""Compose variable interpolation (`${VAR}`, `${VAR:-default}`, `$$` ...) and `.env` files.

Variables come only from the project's `.env` file, never from the process environment, so a
scan gives the same result on every machine. A missing variable is not an error: it becomes
the default when one is given, else the empty string (`${VAR:?message}` included).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Operators after the name inside braces, longest first.
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")
MAX_DEPTH = 10  # nested defaults: ${A:-${B:-${C}}}


@dataclass
class Interpolated:
    value: str
    references: int = 0  # variables referenced (a `$$` escape is not one)
    missing: int = 0  # of those, how many were not defined


def interpolate(text: str, env: dict[str, str]) -> Interpolated:
    result = Interpolated("")
    result.value = _expand(text, env, result, 0)
    return result


def _expand(text: str, env: dict[str, str], stats: Interpolated, depth: int) -> str:
    if "$" not in text:
        return text
    out: list[str] = []
    i = 0
    length = len(text)
    while i < length:
        char = text[i]
        if char != "$":
            out.append(char)
            i += 1
            continue
        following = text[i + 1 : i + 2]
        if following == "$":
            out.append("$")
            i += 2
        elif following == "{":
            end = _closing_brace(text, i + 2)
            if end is None:  # unclosed: compose rejects it; keep the text as written
                out.append(text[i:])
                break
            out.append(_braced(text[i + 2 : end], env, stats, depth))
            i = end + 1
        else:
            match = _NAME.match(text, i + 1)
            if match is None:
                out.append("$")
                i += 1
                continue
            out.append(_lookup(match.group(), env, stats))
            i = match.end()
    return "".join(out)


def _closing_brace(text: str, start: int) -> int | None:
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _lookup(name: str, env: dict[str, str], stats: Interpolated) -> str:
    stats.references += 1
    if name in env:
        return env[name]
    stats.missing += 1
    return ""


def _braced(inner: str, env: dict[str, str], stats: Interpolated, depth: int) -> str:
    match = _NAME.match(inner)
    if match is None:  # "${}" or "${1x}": not a variable; compose rejects it
        return "${" + inner + "}"
    name = match.group()
    rest = inner[match.end() :]
    if not rest:
        return _lookup(name, env, stats)
    operator = next((op for op in _OPERATORS if rest.startswith(op)), None)
    if operator is None:
        return "${" + inner + "}"
    argument = rest[len(operator) :]
    stats.references += 1
    defined = name in env
    if not defined:
        stats.missing += 1
    value = env.get(name, "")
    set_and_not_empty = defined and value != ""
    if operator in (":-", "-"):
        use_default = not set_and_not_empty if operator == ":-" else not defined
        return _nested(argument, env, stats, depth) if use_default else value
    if operator in (":+", "+"):
        use_replacement = set_and_not_empty if operator == ":+" else defined
        return _nested(argument, env, stats, depth) if use_replacement else ""
    # ":?" and "?": compose stops with the message; here the variable is just empty.
    return value


def _nested(text: str, env: dict[str, str], stats: Interpolated, depth: int) -> str:
    if depth >= MAX_DEPTH:
        return text
    return _expand(text, env, stats, depth + 1)


def parse_env_file(text: str) -> dict[str, str]:
    """`KEY=value` lines as Compose reads a `.env` file.

    `export ` prefixes, `#` comments (whole-line, or after whitespace in an unquoted value),
    single quotes (literal), double quotes (escapes and `${VAR}` of earlier lines) and unquoted
    values (trimmed, `${VAR}` expanded) are understood; lines without `=` are skipped.
    """
    env: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        index += 1
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, raw = line.partition("=")
        key = key.strip()
        if not sep or not _NAME.fullmatch(key):
            continue
        raw = raw.lstrip()
        if raw[:1] in ("'", '"'):
            quote = raw[0]
            body = raw[1:]
            # A quoted value may span lines until its closing quote.
            while _unescaped_quote(body, quote) is None and index < len(lines):
                body += "\n" + lines[index]
                index += 1
            end = _unescaped_quote(body, quote)
            body = body if end is None else body[:end]
            if quote == '"':
                body = _expand(_unescape(body), env, Interpolated(""), 0)
            env[key] = body
            continue
        comment = re.search(r"\s#", raw)
        if comment:
            raw = raw[: comment.start()]
        env[key] = _expand(raw.strip(), env, Interpolated(""), 0)
    return env


def _unescaped_quote(text: str, quote: str) -> int | None:
    i = 0
    while i < len(text):
        if text[i] == "\\" and quote == '"':
            i += 2
            continue
        if text[i] == quote:
            return i
        i += 1
    return None


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$$"}


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), text)
