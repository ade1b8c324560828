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
    ``col_offset``, or all pinned to ``flat_line`` when the text does not map line by line
    (a quoted or folded YAML string).
    """

    path: str  # relative to the scan root, posix separators
    abspath: str
    text: str
    kind: str
    root: str = ""  # absolute scan root: includes are followed only inside it
    line_offset: int = 0
    col_offset: int = 0
    flat_line: int | None = None
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
        if self.flat_line is not None:
            return (self.flat_line, 1, self.flat_line)
        shifted_col = (col or 1) + (self.col_offset if col is not None else 0)
        end = (end_line or line) + self.line_offset
        return (line + self.line_offset, shifted_col, end)

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
        return Span(self.path, line + self.line_offset, None if col is None else col + self.col_offset)
