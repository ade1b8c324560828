"""YAML documents as plain data plus a position for every key and item.

PyYAML's C parser composes the node tree (with marks); turning nodes into plain data is done
here instead of by PyYAML's constructor so that each key's position is kept, and so that
hostile input (alias bombs, absurd nesting) is bounded rather than expanded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing; correctness over speed
    _Loader = yaml.SafeLoader

MAX_DEPTH = 200
MAX_ALIAS_NODES = 100_000

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_KEEP_AS_TEXT = frozenset({"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"})
_constructor = yaml.constructor.SafeConstructor()
_SCALAR_BUILDERS = yaml.constructor.SafeConstructor.yaml_constructors

# A position: (line, col, end_line), all 1-based.
Pos = tuple[int, int, int]
Path = tuple[Any, ...]


class YamlInputError(Exception):
    """The text is not usable YAML; line/col are 1-based."""

    def __init__(self, message: str, line: int | None, col: int | None, offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col
        self.offset = offset  # a character offset, when the reader knows no line


@dataclass
class YamlDocument:
    data: Any
    positions: dict[Path, Pos]
    line: int  # first line of the document's content
    complex_keys: int = 0
    blocks: dict[Path, tuple[str, int]] = field(default_factory=dict)
    tags: dict[Path, str] = field(default_factory=dict)


def _pos(node: Node) -> Pos:
    start = node.start_mark
    end = node.end_mark
    end_line = end.line + 1
    # A block collection's end mark sits at column 0 of the line after it.
    if end.column == 0 and end_line > start.line + 1:
        end_line -= 1
    return (start.line + 1, start.column + 1, end_line)


class _Converter:
    __slots__ = ("alias_nodes", "blocks", "complex_keys", "positions", "seen", "tags")

    def __init__(self) -> None:
        self.complex_keys = 0  # `key: {{ x }}` composes a mapping as a key: a template sign
        # Multi-line string values: path -> (style, line of the `|`/`>` indicator or opening quote).
        self.blocks: dict[Path, tuple[str, int]] = {}
        self.tags: dict[Path, str] = {}  # local tags (`!reset`, `!override`, `!Ref` ...) by path
        self.positions: dict[Path, Pos] = {}
        self.alias_nodes = 0
        self.seen: set[int] = set()

    def convert(self, node: Node, path: Path, depth: int, in_alias: bool) -> Any:
        if depth > MAX_DEPTH:
            mark = node.start_mark
            raise YamlInputError(f"nesting deeper than {MAX_DEPTH} levels", mark.line + 1, mark.column + 1)
        key = id(node)
        if not in_alias:
            if key in self.seen:
                in_alias = True
            else:
                self.seen.add(key)
        if in_alias:
            self.alias_nodes += 1
            if self.alias_nodes > MAX_ALIAS_NODES:
                mark = node.start_mark
                raise YamlInputError(
                    f"aliases expand past {MAX_ALIAS_NODES} nodes (an alias bomb?)",
                    mark.line + 1,
                    mark.column + 1,
                )
        if node.tag.startswith("!"):
            self.tags[path] = node.tag
        if isinstance(node, ScalarNode):
            return _scalar(node)
        if isinstance(node, MappingNode):
            return self._mapping(node, path, depth, in_alias)
        if isinstance(node, SequenceNode):
            items = []
            positions = self.positions
            for index, child in enumerate(node.value):
                child_path = (*path, index)
                positions[child_path] = _pos(child)
                items.append(self.convert(child, child_path, depth + 1, in_alias))
            return items
        return None

    def _mapping(self, node: MappingNode, path: Path, depth: int, in_alias: bool) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        merges: list[Node] = []
        positions = self.positions
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merges.append(value_node)
                continue
            if isinstance(key_node, ScalarNode):
                key = _scalar(key_node)
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    key = str(key)
            else:
                self.complex_keys += 1
                key = f"<complex key at line {key_node.start_mark.line + 1}>"
            child_path = (*path, key)
            start = key_node.start_mark
            end_line = _pos(value_node)[2]
            positions[child_path] = (start.line + 1, start.column + 1, end_line)
            if isinstance(value_node, ScalarNode) and end_line > value_node.start_mark.line + 1:
                self.blocks[child_path] = (value_node.style or "", value_node.start_mark.line + 1)
            result[key] = self.convert(value_node, child_path, depth + 1, in_alias)
        for merge in merges:
            sources = merge.value if isinstance(merge, SequenceNode) else [merge]
            for source in sources:
                self._merge(source, path, depth, result)
        return result

    def _merge(self, source: Node, path: Path, depth: int, result: dict[Any, Any]) -> None:
        """`<<: *anchor`: keys the mapping does not set come from the anchor, with its positions.

        The first source of `<<: [*a, *b]` wins over later ones, and local keys over all.
        """
        own_positions = self.positions
        self.positions = {}
        try:
            merged = self.convert(source, path, depth + 1, True)
        finally:
            merged_positions, self.positions = self.positions, own_positions
        if not isinstance(merged, dict):
            return
        taken = set(result)
        for key, value in merged.items():
            result.setdefault(key, value)
        depth_of_key = len(path)
        for merged_path, pos in merged_positions.items():
            if len(merged_path) > depth_of_key and merged_path[depth_of_key] not in taken:
                own_positions.setdefault(merged_path, pos)


def _scalar(node: ScalarNode) -> Any:
    tag = node.tag
    if tag == _STR or tag in _KEEP_AS_TEXT:
        return node.value
    builder = _SCALAR_BUILDERS.get(tag)
    if builder is None:  # a custom tag such as !Ref: keep the text
        return node.value
    try:
        return builder(_constructor, node)
    except Exception:
        return node.value


def load_documents(text: str, loader: Any = None) -> Iterator[YamlDocument]:
    """Yield each document of a YAML stream with positions; raise YamlInputError on bad input.

    ``loader`` is a loader class with other implicit types (Compose reads YAML 1.2 scalars)."""
    try:
        stream = yaml.compose_all(text, Loader=loader or _Loader)
        while True:
            # (A scan pauses the garbage collector as a whole: see infralint.api.scan.)
            document = _next_document(stream)
            if document is _END:
                return
            if isinstance(document, YamlDocument):  # else an empty document
                yield document
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        reason = " ".join(part for part in (error.context, error.problem) if part) or "invalid YAML"
        if mark is None:
            raise YamlInputError(reason, None, None) from None
        raise YamlInputError(reason, mark.line + 1, mark.column + 1) from None
    except yaml.reader.ReaderError as error:
        reason = f"unacceptable character {error.character!r}: {error.reason}"
        raise YamlInputError(reason, None, None, error.position) from None
    except yaml.YAMLError as error:
        raise YamlInputError(str(error).splitlines()[0] or "invalid YAML", None, None) from None
    except RecursionError:
        raise YamlInputError("nesting too deep to parse", None, None) from None


_END = object()


def _next_document(stream: Iterator[Node | None]) -> YamlDocument | object | None:
    """The next document of the stream converted; None for an empty one, _END after the last."""
    root = next(stream, _END)
    if root is _END or root is None:
        return root
    assert isinstance(root, Node)
    converter = _Converter()
    data = converter.convert(root, (), 0, False)
    line, col, end = _pos(root)
    converter.positions[()] = (line, col, end)
    return YamlDocument(data, converter.positions, line, converter.complex_keys, converter.blocks, converter.tags)
