"""Compile a declarative rule (JSON Schema `where` / `require` over a node) into a check.

A node is in the rule's reach when `where` holds; every distinct place where `require`
fails is one hit, located by the validator's error path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from infralint.rules.meta import CheckFn, Hit, RuleContext, RuleMeta, render

if TYPE_CHECKING:
    from infralint.graph.model import Node


def compile_rule(meta: RuleMeta) -> CheckFn:
    from jsonschema import Draft202012Validator

    assert meta.require is not None
    require = Draft202012Validator(meta.require)
    where = Draft202012Validator(meta.where) if meta.where is not None else None

    def check(node: Node, ctx: RuleContext) -> Iterator[Hit]:
        attrs = node.attrs
        if where is not None and not where.is_valid(attrs):
            return
        seen: set[tuple[Any, ...]] = set()
        for error in require.iter_errors(attrs):
            path = tuple(error.absolute_path)
            if path in seen:
                continue
            seen.add(path)
            value = error.instance if not isinstance(error.instance, (dict, list)) else ""
            yield Hit(render(meta.message, node.facts, value=value, at=".".join(map(str, path))), path)

    return check
