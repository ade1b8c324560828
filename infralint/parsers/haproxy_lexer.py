"""HAProxy's line tokenizer, rebuilt from its documented rules (configuration manual, 2.2).

A statement is one line: words split on unquoted blanks; `#` outside quotes starts a comment;
double quotes are weak (blanks, `'` and `#` lose their meaning, `\\` escapes still work and
`$VAR` is an environment variable), single quotes are strong (nothing inside is interpreted).
Outside single quotes a backslash escapes a blank, `\\`, `#`, a quote, `$` (within double
quotes), and `\\t`, `\\n`, `\\r`, `\\xNN` give control characters; any other backslash stays as is.
There is no line continuation: a trailing backslash is a plain character and the next line
is a statement of its own. Environment variables are kept as written (`${PORT}`): their value
is only known to the running process.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

MAX_SEPARATORS = 64  # haproxy stops with "too many words" past this many word separators

_PLAIN = re.compile(r"[^\s\"'\\#$\x00]+")
_IN_DOUBLE = re.compile(r"[^\"\\$\x00]+")
_IN_SINGLE = re.compile(r"[^'\x00]+")
_BLANKS = re.compile(r"[ \t\v\f]+")
_HEX = frozenset("0123456789abcdefABCDEF")
_SIMPLE_ESCAPES = {" ": " ", "\\": "\\", "t": "\t", "n": "\n", "r": "\r", "#": "#", "'": "'", '"': '"'}
_VAR_NAME = re.compile(r"\.?[A-Za-z0-9_]*")


@dataclass(frozen=True)
class Word:
    """One word of a statement: its text once quotes and escapes are resolved, and where it starts."""

    text: str
    line: int
    col: int  # 1-based column of the word's first character (a quote included)
    quoted: bool = False


@dataclass
class Statement:
    words: list[Word]
    line: int

    @property
    def keyword(self) -> str:
        return self.words[0].text

    @property
    def col(self) -> int:
        return self.words[0].col

    def args(self, start: int = 1) -> list[str]:
        return [word.text for word in self.words[start:]]


@dataclass(frozen=True)
class LexError:
    line: int
    col: int
    message: str


class _LineError(Exception):
    def __init__(self, col: int, message: str) -> None:
        super().__init__(message)
        self.col = col
        self.message = message


def statements(text: str) -> Iterator[Statement | LexError]:
    """Every non-empty statement of the text, or the error that makes haproxy reject its line."""
    for index, line in enumerate(text.split("\n")):
        if not line or line.isspace():
            continue
        number = index + 1
        try:
            words = split_line(line, number)
        except _LineError as error:
            yield LexError(number, error.col, error.message)
            continue
        if words:
            yield Statement(words, number)


def split_line(line: str, number: int) -> list[Word]:
    """The words of one line, as haproxy cuts them."""
    words: list[Word] = []
    pos = 0
    end = len(line)
    separators = 0
    skipped = _BLANKS.match(line)
    if skipped:
        pos = skipped.end()
    while pos < end:
        char = line[pos]
        if char in " \t\v\f":
            pos = _BLANKS.match(line, pos).end()  # type: ignore[union-attr]
            separators += 1
            if separators >= MAX_SEPARATORS:  # whatever follows, haproxy refuses the line
                raise _LineError(pos + 1, f"too many words: haproxy accepts at most {MAX_SEPARATORS} on a line")
            continue
        if char == "#" or char == "\r":
            break
        pos, word = _read_word(line, pos, number)
        if word is None:
            break
        words.append(word)
    return words


def _read_word(line: str, start: int, number: int) -> tuple[int, Word | None]:
    """Read one word from ``start``; stops at an unquoted blank, `#` or end of line."""
    parts: list[str] = []
    pos = start
    end = len(line)
    quoted = False
    while pos < end:
        char = line[pos]
        if char == "\x00":
            raise _LineError(pos + 1, "stray NUL character")
        plain = _PLAIN.match(line, pos)
        if plain:
            parts.append(plain.group())
            pos = plain.end()
            continue
        if char in " \t\v\f#\r":
            break
        if char == '"':
            quoted = True
            pos = _read_double(line, pos, parts)
        elif char == "'":
            quoted = True
            pos = _read_single(line, pos, parts)
        elif char == "\\":
            pos = _read_escape(line, pos, parts, in_double=False)
        else:  # `$` outside double quotes is a plain character
            parts.append(char)
            pos += 1
    return pos, Word("".join(parts), number, start + 1, quoted)


def _read_double(line: str, start: int, parts: list[str]) -> int:
    pos = start + 1
    end = len(line)
    while pos < end:
        char = line[pos]
        run = _IN_DOUBLE.match(line, pos)
        if run:
            text = run.group()
            cut = text.find("\r")
            if cut != -1:  # a carriage return ends the line, quote or not
                break
            parts.append(text)
            pos = run.end()
            continue
        if char == '"':
            return pos + 1
        if char == "\\":
            pos = _read_escape(line, pos, parts, in_double=True)
        elif char == "$":
            pos = _read_variable(line, pos, parts)
        else:
            raise _LineError(pos + 1, "stray NUL character")
    raise _LineError(start + 1, "unmatched double quote")


def _read_single(line: str, start: int, parts: list[str]) -> int:
    run = _IN_SINGLE.match(line, start + 1)
    pos = run.end() if run else start + 1
    if run and "\r" in run.group():
        raise _LineError(start + 1, "unmatched single quote")
    if pos < len(line) and line[pos] == "'":
        parts.append(run.group() if run else "")
        return pos + 1
    if pos < len(line) and line[pos] == "\x00":
        raise _LineError(pos + 1, "stray NUL character")
    raise _LineError(start + 1, "unmatched single quote")


def _read_escape(line: str, pos: int, parts: list[str], in_double: bool) -> int:
    following = line[pos + 1] if pos + 1 < len(line) else ""
    if following in _SIMPLE_ESCAPES:
        parts.append(_SIMPLE_ESCAPES[following])
        return pos + 2
    if following == "$" and in_double:
        parts.append("\\$")  # kept escaped so that it is not mistaken for a variable
        return pos + 2
    if following == "x":
        digits = line[pos + 2 : pos + 4]
        if len(digits) != 2 or not all(d in _HEX for d in digits):
            raise _LineError(pos + 1, "truncated or invalid hexadecimal escape (\\xNN)")
        parts.append(chr(int(digits, 16)))
        return pos + 4
    parts.append("\\")  # not an escape sequence: the backslash is a plain character
    return pos + 1


def _read_variable(line: str, pos: int, parts: list[str]) -> int:
    """`$NAME`, `${NAME}`, `${NAME-default}` or `${NAME[*]}` inside double quotes, kept as written."""
    start = pos
    pos += 1
    brace = pos < len(line) and line[pos] == "{"
    if brace:
        pos += 1
    first = line[pos] if pos < len(line) else ""
    if not (first.isalpha() or first in "_."):
        raise _LineError(pos + 1, "forbidden first character in environment variable name")
    name = _VAR_NAME.match(line, pos)
    pos = name.end() if name else pos
    if brace:
        if line.startswith("[*]", pos):
            pos += 3
        elif line.startswith("[", pos):
            raise _LineError(pos + 1, "only '[*]' may follow a variable name")
        if pos < len(line) and line[pos] == "-":
            close = line.find("}", pos)
            if close == -1:
                raise _LineError(start + 2, "unmatched brace in environment variable")
            pos = close
        if pos >= len(line) or line[pos] != "}":
            raise _LineError(start + 2, "unmatched brace in environment variable")
        pos += 1
    parts.append(line[start:pos])
    return pos
