"""YAML documents for Compose: yamlpos's data and positions, plus what Compose needs on top.

- Positions of keys written beside a `<<:` merge: yamlpos records the merged mapping's key
  positions after the local ones, so a local `image:` that overrides an anchor's `image:` would
  point at the anchor. The node tree is walked again (only when the text has `<<`) with the
  merged sources first and the local keys last, so local keys keep their own lines.
- The `!reset` and `!override` tags of override files, by path (yamlpos drops collection tags).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from infralint.parsers.yamlpos import MAX_ALIAS_NODES, MAX_DEPTH, Path, Pos, YamlDocument, load_documents

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
MERGE_TAGS = frozenset({"!reset", "!override"})
_constructor = yaml.constructor.SafeConstructor()
_BUILDERS = yaml.constructor.SafeConstructor.yaml_constructors


@dataclass
class ComposeDocument:
    data: Any
    positions: dict[Path, Pos]
    line: int
    complex_keys: int = 0
    tags: dict[Path, str] = field(default_factory=dict)


def load(text: str) -> list[ComposeDocument]:
    """Every document of the text; raises yamlpos.YamlInputError on bad YAML."""
    documents: list[YamlDocument] = list(load_documents(text))
    result = [ComposeDocument(d.data, d.positions, d.line, d.complex_keys) for d in documents]
    if not result or ("<<" not in text and "!reset" not in text and "!override" not in text):
        return result
    roots = [root for root in yaml.compose_all(text, Loader=_Loader) if root is not None]
    for document, root in zip(result, roots, strict=False):
        walker = _Walker(document.positions, document.tags, fix_merges="<<" in text)
        walker.walk(root, (), 0)
    return result


def _key(node: ScalarNode) -> Any:
    """A mapping key as yamlpos converts it, so paths match."""
    if node.tag == _STR:
        key = node.value
    else:
        builder = _BUILDERS.get(node.tag)
        try:
            key = builder(_constructor, node) if builder is not None else node.value
        except Exception:
            key = node.value
    if not isinstance(key, (str, int, float, bool)) and key is not None:
        key = str(key)
    return key


def _pos(node: Node) -> Pos:
    start, end = node.start_mark, node.end_mark
    end_line = end.line + 1
    if end.column == 0 and end_line > start.line + 1:
        end_line -= 1
    return (start.line + 1, start.column + 1, end_line)


class _Walker:
    """Re-record positions the way yamlpos does, but with local keys winning over merges.

    Every position is written again (not only beside `<<`): a local key's whole subtree may
    have been overwritten by the same paths in a merged anchor.
    """

    def __init__(self, positions: dict[Path, Pos], tags: dict[Path, str], fix_merges: bool) -> None:
        self.positions = positions
        self.tags = tags
        self.fix_merges = fix_merges
        self.budget = MAX_ALIAS_NODES * 2  # yamlpos already refused anything bigger

    def walk(self, node: Node, path: Path, depth: int) -> None:
        self.budget -= 1
        if depth > MAX_DEPTH or self.budget < 0:
            return
        if node.tag in MERGE_TAGS:
            self.tags[path] = node.tag
        if isinstance(node, SequenceNode):
            for index, child in enumerate(node.value):
                if self.fix_merges:
                    self.positions[(*path, index)] = _pos(child)
                self.walk(child, (*path, index), depth + 1)
        elif isinstance(node, MappingNode):
            self._mapping(node, path, depth)

    def _mapping(self, node: MappingNode, path: Path, depth: int) -> None:
        merges = [value for key, value in node.value if key.tag == _MERGE]
        if merges and self.fix_merges:
            # Later sources first: the first source of `<<: [*a, *b]` wins, then local keys.
            sources: list[Node] = []
            for merge in merges:
                sources.extend(merge.value if isinstance(merge, SequenceNode) else [merge])
            for source in reversed(sources):
                if isinstance(source, MappingNode):
                    self._mapping(source, path, depth + 1)
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE or not isinstance(key_node, ScalarNode):
                continue
            child = (*path, _key(key_node))
            if self.fix_merges:
                self.positions[child] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                    _pos(value_node)[2],
                )
            self.walk(value_node, child, depth + 1)
