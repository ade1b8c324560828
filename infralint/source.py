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
    """A file read once: its relative path, text and classified kind."""

    path: str  # relative to the scan root, posix separators
    abspath: str
    text: str
    kind: str
    _line_starts: list[int] | None = field(default=None, repr=False)

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
        return Span(self.path, line, col)
