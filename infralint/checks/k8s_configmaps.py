"""Rules over ConfigMap contents.

k8s-configmap-secret: a ConfigMap is stored unencrypted and read by anyone allowed to `get
configmaps`, so a secret in it is exposed. Values are judged with infralint.secret_values:

- any value (a one-line value, a file held in the ConfigMap, a base64 `binaryData` entry) that
  holds a private key block or a known token format, reported at the line where the block or
  token starts (inside a literal block `|`; other multi-line styles fold or escape their
  lines, so there the key is shown);
- a one-line value under a secret-looking key (`password`, `API_TOKEN`, `db.password`) that is
  a literal, not a placeholder; or under a weak key (`*_KEY`, `*_CONTENT`) when it looks random.

The lines inside files (`config.yaml: |` with `password: hunter2`) are judged only for the
strict formats, not by the names written in them: sample configs, templates and commented
defaults hold such lines by the thousand, and the config's own linter knows its keys better.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator

from infralint import secret_values
from infralint.graph.model import Node
from infralint.rules.meta import CheckFn, Hit, RuleContext
from infralint.shapes import as_dict as _dict
from infralint.source import Span

_NOT_SECRET_VALUES = frozenset({"true", "false", "yes", "no", "on", "off", "enabled", "disabled", "none", "null"})
_BINARY_SCAN = 1 << 20  # base64 characters of a binaryData value decoded and searched
_EXPOSED = (
    "anyone who can read ConfigMaps in the namespace (or the manifest) can use it; ConfigMaps are not encrypted at rest"
)


def configmap_secret(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    holder = node.facts.get("object") or "ConfigMap"
    blocks: dict[str, tuple[str, int]] = node.facts.get("data_blocks") or {}
    for key, value in _dict(node.attrs.get("data")).items():
        if not isinstance(key, str) or not isinstance(value, str):
            continue
        found = secret_values.find_known_secret(value)
        if found is not None:
            label, offset = found
            span = _inside(node, blocks.get(key), value, offset)
            where = f"data key '{key}'" if span is None else f"the file in data key '{key}'"
            yield Hit(f"{holder} holds {label} in {where}: {_EXPOSED}", ("data", key), span=span)
            continue
        if "\n" in value.strip():
            continue  # a file: judged for key blocks and tokens only
        if secret_values.secret_name(key, ctx.options) and _literal(value):
            yield Hit(f"{holder} sets secret-looking key '{key}' to a literal value: {_EXPOSED}", ("data", key))
        elif secret_values.weak_secret_name(key, ctx.options) and secret_values.looks_random(value):
            yield Hit(f"{holder} sets key '{key}' to {secret_values.RANDOM}: {_EXPOSED}", ("data", key))
    for key, value in _dict(node.attrs.get("binaryData")).items():
        if isinstance(key, str) and isinstance(value, str):
            inside = secret_values.known_secret(_decoded(value))
            if inside is not None:
                yield Hit(f"{holder} holds {inside} in binaryData key '{key}': {_EXPOSED}", ("binaryData", key))


def _literal(value: str) -> bool:
    text = value.strip()
    return bool(text) and text.lower() not in _NOT_SECRET_VALUES and not secret_values.placeholder(text)


def _inside(node: Node, block: tuple[str, int] | None, value: str, offset: int) -> Span | None:
    """The file line of character OFFSET of a literal block's VALUE; None (the key) otherwise."""
    if block is None or block[0] != "|":
        return None
    return Span(node.path, block[1] + value.count("\n", 0, offset) + 1)


def _decoded(value: str) -> str:
    text = "".join(value[:_BINARY_SCAN].split())
    text = text[: len(text) - len(text) % 4]
    try:
        return base64.b64decode(text).decode("latin-1")
    except (binascii.Error, ValueError):
        return ""


CHECKS: dict[str, CheckFn] = {"k8s-configmap-secret": configmap_secret}
