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
    starts = _line_starts(text)
    if not 1 <= line <= len(starts):
        return None
    begin = starts[line - 1]
    end = starts[line] if line < len(starts) else len(text)
    at = text.find(quote, begin, end)
    while at != -1:  # a quoted key on the same line opens with the same quote: try each
        decoded = _decode(text, at, quote)
        if decoded is not None and decoded[0] == value:
            return _position_map(starts, decoded[1], value)
        at = text.find(quote, at + 1, end)
    return None


def _line_starts(text: str) -> list[int]:
    starts = [0]
    at = text.find("\n")
    while at != -1:
        starts.append(at + 1)
        at = text.find("\n", at + 1)
    return starts


def _position_map(starts: list[int], offsets: list[int], value: str) -> PositionMap:
    from bisect import bisect_right

    lines: list[int] = []
    cols: list[int] = []
    for offset in offsets:
        number = bisect_right(starts, offset)
        lines.append(number)
        cols.append(offset - starts[number - 1] + 1)
    return PositionMap(value, lines, cols)


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
