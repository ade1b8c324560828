"""YAML documents for Compose: yamlpos's data and positions, plus the `!reset` and `!override`
tags of override files, by path.

Compose reads its files as YAML 1.2, where only `true` and `false` are booleans: `restart: no`
is the string "no" and `ports: [22:22]` the string "22:22". PyYAML resolves plain scalars as
YAML 1.1 (`yes`/`no`/`on`/`off` booleans, base-60 numbers), so Compose files are loaded with
the 1.2 core schema's booleans and without base-60 numbers. Fields Compose types as booleans
still accept `yes`/`no` (Compose converts them, with a warning): compose_model.cast_booleans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from infralint.parsers.yamlpos import Path, Pos, load_documents

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MERGE_TAGS = frozenset({"!reset", "!override"})

_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
# The YAML 1.2 core schema: https://yaml.org/spec/1.2.2/#1032-tag-resolution
_YAML12_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
# PyYAML's YAML 1.1 numbers less the base-60 forms (`1:30`), plus 1.2's `0o` octal.
_YAML12_INT = re.compile(
    r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0o[0-7]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+)$""",
    re.X,
)
_YAML12_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)


class ComposeLoader(_BaseLoader):
    """PyYAML's safe loader with Compose's (YAML 1.2) booleans and numbers."""


ComposeLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL, _INT, _FLOAT)]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
ComposeLoader.add_implicit_resolver(_BOOL, _YAML12_BOOL, list("tTfF"))
ComposeLoader.add_implicit_resolver(_INT, _YAML12_INT, list("-+0123456789"))
ComposeLoader.add_implicit_resolver(_FLOAT, _YAML12_FLOAT, list("-+0123456789."))


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
        for d in load_documents(text, ComposeLoader)
    ]
