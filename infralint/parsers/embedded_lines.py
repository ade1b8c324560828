"""Where each line of a config held in a YAML string starts in the YAML file.

A literal block (`|`, `|-`, `|+`, `|2`) keeps its lines: line k of the config is line k after the
indicator, less a fixed indent. A quoted string (`"global\\n  maxconn 10\\n..."`) does not: escapes
make new lines, line breaks fold into spaces, and a config line may begin in the middle of a YAML
line. For those the string is decoded here the way the YAML reader does, keeping the file position
of every character; the result is used only when it equals the value the reader loaded, so a
position is either exact or not given (the caller then points at the key).
"""

from __future__ import annotations

from infralint.source import PositionMap

_BREAKS = "\r\n\x85\u2028\u2029"
_ESCAPES = {
    "0": "\0",
    "a": "\x07",
    "b": "\x08",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\x0b",
    "f": "\x0c",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "\\": "\\",
    "/": "/",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_CODE_LENGTHS = {"x": 2, "u": 4, "U": 8}


def literal_block_indent(lines: list[str], indicator_line: int, value: str) -> int | None:
    """The indent of a literal block whose indicator is on INDICATOR_LINE (1-based), when the
    file's lines after it are the value's lines with that indent; None when they are not."""
    wanted = value.split("\n")
    if wanted and wanted[-1] == "":
        wanted.pop()  # the final line break (`|`), not a line of its own
    indent: int | None = None
    for index, line in enumerate(wanted):
        number = indicator_line + index  # 0-based index of the file line holding config line index+1
        if number >= len(lines):
            return None
        text = lines[number].rstrip("\r")
        if not line:
            if text.strip():
                return None
            continue
        if indent is None:
            indent = len(text) - len(line)
        if indent < 0 or text[indent:] != line or text[:indent].strip():
            return None
    return indent


def quoted_map(text: str, line: int, quote: str, value: str) -> PositionMap | None:
    """The map of a quoted VALUE whose opening QUOTE is on LINE (1-based) of TEXT, or None."""
    found = _quoted_positions(text, line, quote, value)
    return PositionMap(value, *found) if found is not None else None


def _quoted_positions(text: str, line: int, quote: str, value: str) -> tuple[list[int], list[int]] | None:
    """The file line and column of each character of a quoted VALUE opening on LINE, or None."""
    starts = _line_starts(text)
    if not 1 <= line <= len(starts):
        return None
    begin = starts[line - 1]
    end = starts[line] if line < len(starts) else len(text)
    at = text.find(quote, begin, end)
    while at != -1:  # a quoted key on the same line opens with the same quote: try each
        decoded = _decode(text, at, quote)
        if decoded is not None and decoded[0] == value:
            return _positions(starts, decoded[1])
        at = text.find(quote, at + 1, end)
    return None


class ScalarLines:
    """Where the characters of a multi-line string value sit in its YAML text, both ways.

    A literal block is its file lines less an indent; a quoted string is a map of every
    character. ``place`` turns a position in the value (config line, column) into a file
    position, as a SourceFile does for embedded text; ``locate`` is its inverse, for a file
    position that lies on one of the value's characters (None elsewhere: a key, a quote).
    """

    __slots__ = ("_by_position", "_cols", "_count", "_lines", "_map", "_starts", "col_offset", "line_offset")

    def __init__(
        self, value: str, line_offset: int = 0, col_offset: int = 0, chars: tuple[list[int], list[int]] | None = None
    ) -> None:
        self.line_offset, self.col_offset = line_offset, col_offset
        self._starts = _line_starts(value)
        # Config lines, less the empty one after a final line break (a block's next key is there).
        self._count = len(self._starts) - (1 if value.endswith("\n") else 0)
        self._lines, self._cols = chars if chars is not None else ([], [])
        self._map = PositionMap(value, self._lines, self._cols) if chars is not None else None
        self._by_position: dict[tuple[int, int], int] | None = None  # built on first use

    @property
    def position_map(self) -> PositionMap | None:
        return self._map

    def place(self, line: int, col: int | None) -> tuple[int, int | None]:
        if self._map is not None:
            return self._map.place(line, col)
        return line + self.line_offset, None if col is None else col + self.col_offset

    def locate(self, line: int, col: int | None) -> tuple[int, int | None] | None:
        if self._map is None:
            inner_line = line - self.line_offset
            inner_col = None if col is None else col - self.col_offset
            if not 1 <= inner_line <= self._count or (inner_col is not None and inner_col < 1):
                return None
            return inner_line, inner_col
        if col is None:  # a quoted line may hold several config lines: no column, no telling which
            return None
        index = self._index().get((line, col))
        if index is None:
            return None
        from bisect import bisect_right

        number = bisect_right(self._starts, index)
        return number, index - self._starts[number - 1] + 1

    def file_lines(self) -> range:
        """The file lines the value's characters are on."""
        if self._map is None:
            return range(self.line_offset + 1, self.line_offset + self._count + 1)
        return range(min(self._lines, default=1), max(self._lines, default=0) + 1)

    def _index(self) -> dict[tuple[int, int], int]:
        if self._by_position is None:  # most strings never hold a finding
            pairs = zip(self._lines, self._cols, strict=True)
            self._by_position = {position: at for at, position in enumerate(pairs)}
        return self._by_position


def scalar_lines(text: str, style: str, start_line: int, value: str) -> ScalarLines | None:
    """Where VALUE's characters are in TEXT: STYLE is its YAML style (`|`, `"`, `'`, or "" for a
    scalar on one line, whose quotes are tried), START_LINE the line of its indicator or opening
    quote. None when the text there does not spell the value exactly."""
    if style == "|":
        indent = literal_block_indent(text.split("\n"), start_line, value)
        return ScalarLines(value, start_line, indent) if indent is not None else None
    quotes = (style,) if style in ('"', "'") else () if style else ('"', "'")
    for quote in quotes:
        chars = _quoted_positions(text, start_line, quote, value)
        if chars is not None:
            return ScalarLines(value, chars=chars)
    return None


def _line_starts(text: str) -> list[int]:
    starts = [0]
    at = text.find("\n")
    while at != -1:
        starts.append(at + 1)
        at = text.find("\n", at + 1)
    return starts


def _positions(starts: list[int], offsets: list[int]) -> tuple[list[int], list[int]]:
    from bisect import bisect_right

    lines: list[int] = []
    cols: list[int] = []
    for offset in offsets:
        number = bisect_right(starts, offset)
        lines.append(number)
        cols.append(offset - starts[number - 1] + 1)
    return lines, cols


def _decode(text: str, start: int, quote: str) -> tuple[str, list[int]] | None:
    """A quoted scalar opening at START, decoded, with the text offset of each character."""
    chars: list[str] = []
    offsets: list[int] = []
    i, size = start + 1, len(text)
    while i < size:
        ch = text[i]
        if ch == quote:
            if quote == "'" and text.startswith("''", i):
                chars.append("'")
                offsets.append(i)
                i += 2
                continue
            return "".join(chars), offsets
        if ch == "\\" and quote == '"':
            step = _escape(text, i, chars, offsets)
            if step is None:
                return None
            i = step
        elif ch in " \t" or ch in _BREAKS:
            i = _spaces(text, i, chars, offsets)
        else:
            chars.append(ch)
            offsets.append(i)
            i += 1
    return None


def _escape(text: str, i: int, chars: list[str], offsets: list[int]) -> int | None:
    code = text[i + 1 : i + 2]
    if code in _ESCAPES:
        chars.append(_ESCAPES[code])
        offsets.append(i)
        return i + 2
    if code in _CODE_LENGTHS:
        digits = text[i + 2 : i + 2 + _CODE_LENGTHS[code]]
        if len(digits) != _CODE_LENGTHS[code] or any(c not in "0123456789abcdefABCDEF" for c in digits):
            return None
        chars.append(chr(int(digits, 16)))
        offsets.append(i)
        return i + 2 + len(digits)
    if code and code in _BREAKS:  # an escaped line break joins the lines with nothing between
        return _breaks(text, _line_break(text, i + 1)[1], chars, offsets)
    return None


def _spaces(text: str, i: int, chars: list[str], offsets: list[int]) -> int:
    """Blanks, and a line break folded the YAML way: to a space, or to the empty lines after it."""
    j = i
    while j < len(text) and text[j] in " \t":
        j += 1
    if j >= len(text) or text[j] not in _BREAKS:
        chars.extend(text[i:j])
        offsets.extend(range(i, j))
        return j
    kind, after = _line_break(text, j)
    folded = len(chars)
    after = _breaks(text, after, chars, offsets)
    if kind != "\n":
        chars.insert(folded, kind)
        offsets.insert(folded, j)
    elif len(chars) == folded:
        chars.append(" ")
        offsets.append(j)
    return after


def _breaks(text: str, i: int, chars: list[str], offsets: list[int]) -> int:
    """Empty lines (each one a line break) and the next line's leading blanks."""
    while True:
        while i < len(text) and text[i] in " \t":
            i += 1
        if i >= len(text) or text[i] not in _BREAKS:
            return i
        kind, after = _line_break(text, i)
        chars.append(kind)
        offsets.append(i)
        i = after


def _line_break(text: str, i: int) -> tuple[str, int]:
    if text.startswith("\r\n", i):
        return "\n", i + 2
    ch = text[i]
    return ("\n" if ch in "\r\n\x85" else ch), i + 1
