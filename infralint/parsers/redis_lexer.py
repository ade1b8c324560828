"""Split one redis.conf line into arguments the way Redis does (its `sdssplitargs`).

- Blanks separate arguments; `#` only starts a comment as the first character of a line, so
  `port 6379 # note` is three arguments (and Redis rejects it).
- "double quotes" understand \\n \\r \\t \\b \\a, \\xHH and \\<any> (that character);
  'single quotes' understand only \\' .
- A quoted part may follow unquoted text in one argument (`a"b c"` is `ab c`), but a closing
  quote must be followed by a blank or the end of the line; an unterminated quote is an error.

Positions are 0-based offsets into the line. Scanning jumps between quote and backslash
characters with regexes, so a multi-megabyte line costs linear time.
"""

from __future__ import annotations

import re

_BLANKS = " \t\n\v\f\r"  # C isspace(): what separates arguments and may follow a closing quote
_UNQUOTED = re.compile(r"[^ \t\n\r\"']+")  # what an unquoted run holds (\v and \f belong to it)
_SKIP_BLANKS = re.compile(r"[ \t\n\v\f\r]*")
_DOUBLE_STOP = re.compile(r"[\\\"]")
_SINGLE_STOP = re.compile(r"[\\']")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "a": "\a"}
_HEX = frozenset("0123456789abcdefABCDEF")
# Without quotes an argument starts at a non-blank and runs to the next space, tab, CR or LF.
_PLAIN_ARG = re.compile(r"[^ \t\n\r\v\f][^ \t\n\r]*")


class SplitError(ValueError):
    """A line Redis refuses ("Unbalanced quotes in configuration line"); offset is where."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason


def split_args(line: str) -> list[tuple[str, int]]:
    """The arguments of a line with the offset where each starts."""
    if '"' not in line and "'" not in line:
        return [(match.group(), match.start()) for match in _PLAIN_ARG.finditer(line)]
    args: list[tuple[str, int]] = []
    length = len(line)
    position = _SKIP_BLANKS.match(line, 0).end()  # type: ignore[union-attr]
    while position < length:
        start = position
        parts: list[str] = []
        while position < length:
            char = line[position]
            if char in " \t\n\r":
                break
            if char == '"':
                text, position = _double_quoted(line, position)
                parts.append(text)
                break
            if char == "'":
                text, position = _single_quoted(line, position)
                parts.append(text)
                break
            run = _UNQUOTED.match(line, position)
            assert run is not None
            parts.append(run.group())
            position = run.end()
        args.append(("".join(parts), start))
        position = _SKIP_BLANKS.match(line, position).end()  # type: ignore[union-attr]
    return args


def _after_closing_quote(line: str, quote: int) -> int:
    after = quote + 1
    if after < len(line) and line[after] not in _BLANKS:
        raise SplitError(after, "a closing quote must be followed by a space or the end of the line")
    return after


def _double_quoted(line: str, opening: int) -> tuple[str, int]:
    parts: list[str] = []
    position = opening + 1
    length = len(line)
    while True:
        stop = _DOUBLE_STOP.search(line, position)
        if stop is None:
            raise SplitError(opening, "unterminated double quote")
        at = stop.start()
        parts.append(line[position:at])
        if line[at] == '"':
            return "".join(parts), _after_closing_quote(line, at)
        if at + 1 >= length:  # a backslash at the very end escapes nothing: the quote stays open
            raise SplitError(opening, "unterminated double quote")
        escaped = line[at + 1]
        if escaped == "x" and at + 3 < length and line[at + 2] in _HEX and line[at + 3] in _HEX:
            parts.append(chr(int(line[at + 2 : at + 4], 16)))
            position = at + 4
        else:
            parts.append(_ESCAPES.get(escaped, escaped))
            position = at + 2


def _single_quoted(line: str, opening: int) -> tuple[str, int]:
    parts: list[str] = []
    position = opening + 1
    length = len(line)
    while True:
        stop = _SINGLE_STOP.search(line, position)
        if stop is None:
            raise SplitError(opening, "unterminated single quote")
        at = stop.start()
        parts.append(line[position:at])
        if line[at] == "'":
            return "".join(parts), _after_closing_quote(line, at)
        if at + 1 < length and line[at + 1] == "'":
            parts.append("'")
            position = at + 2
        else:
            parts.append("\\")
            position = at + 1
