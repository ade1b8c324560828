"""Source files and positions: the only place that knows how text maps to lines."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Span:
    """A 1-based position in a file; path is relative to the scan root (posix form).

    ``line`` is None only for findings about a whole file that has no line to point at
    (a file too large to read, an unreadable file).
    """

    path: str
    line: int | None = None
    col: int | None = None
    end_line: int | None = None
    end_col: int | None = None

    def at(self, line: int | None, col: int | None = None) -> Span:
        return Span(self.path, line, col)


@dataclass
class SourceFile:
    """A file read once: its relative path, text and classified kind.

    A config embedded in another file (nginx.conf in a ConfigMap) is a SourceFile too: its
    ``path`` is the outer file, and positions are shifted into it by ``line_offset`` and
    ``col_offset`` (a literal block), or through ``position_map`` character by character (a quoted
    string), or all pinned to ``flat_line`` when the text's lines cannot be found in the file.
    """

    path: str  # relative to the scan root, posix separators
    abspath: str
    text: str
    kind: str
    root: str = ""  # absolute scan root: includes are followed only inside it
    line_offset: int = 0
    col_offset: int = 0
    flat_line: int | None = None
    position_map: PositionMap | None = None
    embedded_in: str | None = None  # the id of the node holding this text (a ConfigMap)
    embedded_key: str | None = None  # where in that node (the data key)
    # The file began with a UTF-8 byte order mark (not part of ``text``): nginx, HAProxy and
    # Redis read it as part of the first word and refuse the file; YAML allows it.
    bom: bool = False
    # Output of a Helm or Kustomize render (path is virtual): template syntax is not looked for.
    rendered: bool = False
    _line_starts: list[int] | None = field(default=None, repr=False)

    @property
    def id_path(self) -> str:
        """The name of this text in node ids: the file, plus the key for embedded text."""
        return f"{self.path}#{self.embedded_key}" if self.embedded_key else self.path

    def position(self, line: int, col: int | None = None, end_line: int | None = None) -> tuple[int, int, int]:
        """A (line, col, end_line) position in the outer file, for SpanMap tables."""
        outer_line, outer_col = self.place(line, col)
        end = self.place(end_line, None)[0] if end_line else outer_line
        return (outer_line, outer_col or 1, max(end, outer_line))

    def place(self, line: int, col: int | None = None) -> tuple[int, int | None]:
        """(line, col) in the outer file of a 1-based position in this text."""
        if self.flat_line is not None:
            return self.flat_line, None
        if self.position_map is not None:
            return self.position_map.place(line, col)
        return line + self.line_offset, None if col is None else col + self.col_offset

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based (line, col) of a character offset."""
        if self._line_starts is None:
            starts = [0]
            find = self.text.find
            pos = find("\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._line_starts = starts
        line = bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def span(self, line: int | None, col: int | None = None) -> Span:
        """A span in the outer file for a 1-based position in this text."""
        if self.flat_line is not None:
            return Span(self.path, self.flat_line)
        if line is None:
            return Span(self.path)
        return Span(self.path, *self.place(line, col))


class PositionMap:
    """Where each character of an embedded text sits in the outer file, for text whose lines are
    not the file's lines (a quoted YAML string: escapes and folded line breaks)."""

    __slots__ = ("_cols", "_line_starts", "_lines", "_text")

    def __init__(self, text: str, lines: list[int], cols: list[int]) -> None:
        self._text, self._lines, self._cols = text, lines, cols
        self._line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def place(self, line: int, col: int | None) -> tuple[int, int | None]:
        """A column inside the line maps to its character; no column, to the line's first word
        (the file column of a word that follows an escape is not the config's column plus a shift)."""
        line = min(max(line, 1), len(self._line_starts))
        begin = self._line_starts[line - 1]
        end = self._line_starts[line] - 1 if line < len(self._line_starts) else len(self._text)
        if col is not None and begin <= begin + col - 1 < end:
            at = begin + col - 1
            return self._lines[at], self._cols[at]
        for at in range(begin, end):
            if not self._text[at].isspace():
                return self._lines[at], self._cols[at]
        at = min(begin, len(self._lines) - 1)  # an empty line: where its line break is
        return (self._lines[at], None) if at >= 0 else (1, None)
