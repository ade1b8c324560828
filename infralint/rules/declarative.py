"""Compile a declarative rule (JSON Schema `where` / `require` over a node) into a check.

A node is in the rule's reach when `where` holds; every distinct place where `require`
fails is one hit, located by the validator's error path.

Most nodes pass, and the JSON Schema validator is slow to say so; a quick verdict, compiled
from the keywords rules use, settles the common cases, and the validator runs only where the
quick verdict cannot tell or sees a failure (whose error paths the hits need).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from infralint.rules.meta import CheckFn, Hit, RuleContext, RuleMeta, render

if TYPE_CHECKING:
    from infralint.graph.model import Node

# True: the instance is valid; False: it is not; None: only the validator can tell.
Verdict = Callable[[Any], "bool | None"]


def compile_rule(meta: RuleMeta) -> CheckFn:
    from jsonschema import Draft202012Validator

    assert meta.require is not None
    require = Draft202012Validator(meta.require)
    where = Draft202012Validator(meta.where) if meta.where is not None else None
    quick_require = quick_verdict(meta.require)
    quick_where = quick_verdict(meta.where) if meta.where is not None else None

    def check(node: Node, ctx: RuleContext) -> Iterator[Hit]:
        attrs = node.attrs
        if where is not None and quick_where is not None:
            in_reach = quick_where(attrs)
            if in_reach is False or (in_reach is None and not where.is_valid(attrs)):
                return
        if quick_require(attrs) is True:
            return
        seen: set[tuple[Any, ...]] = set()
        for error in require.iter_errors(attrs):
            path = _written_null(node, error) or tuple(error.absolute_path)
            if path in seen:
                continue
            seen.add(path)
            value = error.instance if not isinstance(error.instance, (dict, list)) else ""
            message = render(meta.message, node.facts, value=value, at=".".join(map(str, path)))
            cause = render(meta.cause, node.facts, node=node.id, at=".".join(map(str, path))) if meta.cause else ""
            yield Hit(message, path, cause=cause, fix_here=bool(cause))

    return check


def _written_null(node: Node, error: Any) -> tuple[Any, ...] | None:
    """The path of a required field the file names with no value (`resources:` with nothing
    under it): parsers drop null fields, but the fix goes on that line, not on its parent's."""
    if error.validator != "required" or not isinstance(error.instance, dict):
        return None
    parent = tuple(error.absolute_path)
    for key in error.validator_value:
        if key not in error.instance and node.spans.exact((*parent, key)) is not None:
            return (*parent, key)
    return None


def quick_verdict(schema: Any) -> Verdict:
    """What ``schema`` (Draft 2020-12) says of an instance, as far as its keywords are modelled here.

    Each keyword gives a verdict; the schema holds when all hold and fails when one fails.
    Keywords not modelled give None, so any doubt goes to the validator.
    """
    if schema is True:
        return _always(True)
    if schema is False:
        return _always(False)
    if not isinstance(schema, dict):
        return _always(None)
    verdicts = [_keyword(schema, keyword, value) for keyword, value in schema.items()]
    return _all_of(verdicts)


def _always(verdict: bool | None) -> Verdict:
    return lambda instance: verdict


def _all_of(verdicts: list[Verdict]) -> Verdict:
    if len(verdicts) == 1:
        return verdicts[0]

    def all_hold(instance: Any) -> bool | None:
        result: bool | None = True
        for verdict in verdicts:
            held = verdict(instance)
            if held is False:
                return False
            if held is None:
                result = None
        return result

    return all_hold


def _any_of(verdicts: list[Verdict]) -> Verdict:
    def any_holds(instance: Any) -> bool | None:
        result: bool | None = False
        for verdict in verdicts:
            held = verdict(instance)
            if held is True:
                return True
            if held is None:
                result = None
        return result

    return any_holds


_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda instance: isinstance(instance, dict),
    "array": lambda instance: isinstance(instance, list),
    "string": lambda instance: isinstance(instance, str),
    "boolean": lambda instance: isinstance(instance, bool),
    "null": lambda instance: instance is None,
}


# Keywords that only annotate: they hold for every instance.
_ANNOTATIONS = frozenset(
    {"title", "description", "$comment", "examples", "default", "deprecated", "readOnly", "writeOnly"}
)


def _keyword(schema: dict[str, Any], keyword: str, value: Any) -> Verdict:
    if keyword in _ANNOTATIONS:
        return _always(True)
    if keyword == "properties" and isinstance(value, dict):
        return _properties({key: quick_verdict(sub) for key, sub in value.items()})
    if keyword == "required" and isinstance(value, list):
        required = list(value)
        return lambda instance: not isinstance(instance, dict) or all(key in instance for key in required)
    if keyword == "items" and isinstance(value, dict) and "prefixItems" not in schema:
        return _items(quick_verdict(value))
    if keyword == "type" and isinstance(value, str) and value in _TYPES:
        return _TYPES[value]
    if keyword == "const" and _is_scalar(value):
        return lambda instance: _json_equal(instance, value)
    if keyword == "enum" and isinstance(value, list) and all(_is_scalar(each) for each in value):
        choices = list(value)
        return lambda instance: any(_json_equal(instance, each) for each in choices)
    if keyword == "pattern" and isinstance(value, str):
        return _pattern(value)
    if keyword == "not":
        inner = quick_verdict(value)
        return lambda instance: _negate(inner(instance))
    if keyword in ("anyOf", "allOf") and isinstance(value, list) and value:
        subs = [quick_verdict(sub) for sub in value]
        return _any_of(subs) if keyword == "anyOf" else _all_of(subs)
    return _always(None)


def _pattern(text: str) -> Verdict:
    try:
        pattern = re.compile(text)
    except re.error:
        return _always(None)  # the validator reports it
    return lambda instance: not isinstance(instance, str) or pattern.search(instance) is not None


def _properties(subs: dict[str, Verdict]) -> Verdict:
    def properties_hold(instance: Any) -> bool | None:
        if not isinstance(instance, dict):
            return True  # properties constrain objects only
        result: bool | None = True
        for key, verdict in subs.items():
            if key in instance:
                held = verdict(instance[key])
                if held is False:
                    return False
                if held is None:
                    result = None
        return result

    return properties_hold


def _items(sub: Verdict) -> Verdict:
    def items_hold(instance: Any) -> bool | None:
        if not isinstance(instance, list):
            return True
        result: bool | None = True
        for item in instance:
            held = sub(item)
            if held is False:
                return False
            if held is None:
                result = None
        return result

    return items_hold


def _negate(verdict: bool | None) -> bool | None:
    return None if verdict is None else not verdict


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, bool, int, float))


def _json_equal(instance: Any, scalar: Any) -> bool:
    """JSON Schema equality with a scalar: true and 1 differ, 1 and 1.0 do not."""
    if instance is scalar:
        return True
    if isinstance(instance, str) or isinstance(scalar, str):
        return bool(instance == scalar)
    if isinstance(instance, bool) or isinstance(scalar, bool):
        return False  # both bools would be the same object
    return bool(instance == scalar)
