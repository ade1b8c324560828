"""What renderers produce: rendered YAML with a map back to the repository's files."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infralint.parsers.embedded_lines import ScalarLines


@dataclass(frozen=True)
class LineOrigin:
    """Where one rendered line came from: a file of the scan (relative to the scan root) and a line.

    Columns: when the rendered line is the template's literal text, shifted by indentation,
    ``col_shift`` is added to a rendered column; otherwise ``col`` is the column to report
    (the `{{` of an `include` or `toYaml` action that printed the line), or None for no column.
    """

    path: str
    line: int
    col_shift: int | None = None
    col: int | None = None

    def column(self, rendered_col: int | None) -> int | None:
        if self.col_shift is not None and rendered_col is not None:
            return max(1, rendered_col + self.col_shift)
        return self.col


@dataclass(frozen=True)
class ScalarOrigin:
    """A multi-line string (a config in a ConfigMap) whose rendered value is its source's value.

    The renderer may print it in another style than the source wrote it (kustomize quotes a
    block with a line ending in blanks): a position on one of its characters maps to the same
    character in the source, line and column.
    """

    path: str
    rendered: ScalarLines
    source: ScalarLines
    line_shift: int = 0  # the source text is an inline patch inside a kustomization
    col_shift: int = 0

    def place(self, line: int, col: int | None) -> tuple[int, int | None] | None:
        inner = self.rendered.locate(line, col)
        if inner is None:
            return None
        source_line, source_col = self.source.place(*inner)
        return source_line + self.line_shift, None if source_col is None else source_col + self.col_shift


@dataclass(frozen=True)
class ValueOrigin:
    """A values entry behind a rendered line: `image.tag` set at values.yaml:12."""

    path: str
    line: int
    col: int | None
    key: str  # dotted path in the values, e.g. "image.tag"


@dataclass(frozen=True)
class RenderProblem:
    """A chart or root that could not be (fully) rendered: becomes an infralint-* finding."""

    rule_id: str  # infralint-render-error, infralint-not-fetched ...
    message: str
    path: str  # relative to the scan root
    line: int | None = None
    col: int | None = None


@dataclass
class RenderedText:
    """One rendered stream: a Helm template's output, or a Kustomize root's build output.

    ``lines[i]`` is the origin of rendered line i+1 (None: nothing in the repository wrote it,
    e.g. a line kustomize generated); ``values`` holds, by rendered line, the values entries
    the line printed.
    """

    name: str  # what produced it: "podinfo/templates/deployment.yaml", "overlays/prod"
    text: str
    lines: list[LineOrigin | None]
    values: dict[int, tuple[ValueOrigin, ...]] = field(default_factory=dict)
    # The real file the text mostly comes from (the template, or the root's kustomization file):
    # a line without an origin falls back to the first line of this file's object.
    home: str = ""
    # Lines that start a list item and hold its first key at once (kustomize sorts keys, so a
    # container may start with `- args:`): the item's own origin, for findings on the item.
    items: dict[int, LineOrigin] = field(default_factory=dict)
    # By rendered line: the multi-line string on it whose characters map one to one to the source.
    scalars: dict[int, ScalarOrigin] = field(default_factory=dict)

    def origin(self, line: int | None) -> LineOrigin | None:
        if line is None or not 1 <= line <= len(self.lines):
            return None
        return self.lines[line - 1]
