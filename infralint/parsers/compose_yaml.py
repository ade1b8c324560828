"""YAML documents for Compose: yamlpos's data and positions, plus the `!reset` and `!override`
tags of override files, by path."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from infralint.parsers.yamlpos import Path, Pos, load_documents

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
    return [
        ComposeDocument(
            d.data, d.positions, d.line, d.complex_keys, {p: t for p, t in d.tags.items() if t in MERGE_TAGS}
        )
        for d in load_documents(text)
    ]
