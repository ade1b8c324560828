"""What a capture of an nginx regex can hold, and how it starts.

nginx matches `location ~ ...` against the decoded URI, so `%0d%0a` arrives as CR LF. A capture
that can match a line break, used in a header or a redirect, lets a client inject headers; one
that can start with `..` right after a folder of an `alias` climbs out of it. PCRE and Python's
`re` agree on the constructs that matter here (classes, `.`, repeats, groups), so Python's own
regex parser reads the pattern; a pattern it cannot read is reported as unknown (None). As in
PCRE's default build, `.` matches anything but a line feed, a carriage return included.
"""

from __future__ import annotations

import functools
import importlib
import re
import sys
from typing import Any, NamedTuple

# The regex parser behind `re`: re._parser since 3.11, sre_parse (deprecated since) before.
sre: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")

_NEWLINE = 10
_SLASH = ord("/")
_DOT = ord(".")
_PCRE_NAMED = re.compile(r"\(\?(?:<(?![=!])(\w+)>|'(\w+)'|P<(\w+)>)")
_ATOMIC = getattr(sre, "ATOMIC_GROUP", None)
_REPEATS = tuple(op for op in (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None)) if op)


class Parsed(NamedTuple):
    items: list[Any]
    groups: int  # how many capture groups
    names: dict[str, int]  # named group -> its number
    dotall: bool


@functools.lru_cache(maxsize=1024)
def parse(pattern: str) -> Parsed | None:
    """The pattern as Python's regex parser reads it (PCRE's named-group forms translated)."""
    python_pattern = _PCRE_NAMED.sub(lambda m: f"(?P<{m.group(1) or m.group(2) or m.group(3)}>", pattern)
    try:
        parsed = sre.parse(python_pattern)
    except Exception:  # not a pattern Python reads (possessive forms, \K ...)
        return None
    state = parsed.state
    return Parsed(list(parsed), state.groups - 1, dict(state.groupdict), bool(state.flags & sre.SRE_FLAG_DOTALL))


def group_number(pattern: str, group: str) -> int | None:
    """The number of capture GROUP ("1", "2" or a name) of PATTERN, None when it has none such."""
    parsed = parse(pattern)
    if parsed is None:
        return None
    number = int(group) if group.isdecimal() else parsed.names.get(group)
    return number if number is not None and 0 < number <= parsed.groups else None


def capture_can_hold(pattern: str, group: str, char: str) -> bool | None:
    """Whether capture GROUP of PATTERN can match CHAR; None when unknown."""
    found = _group(pattern, group)
    if found is None:
        return None
    items, dotall, _ = found
    return can_match(items, dotall, ord(char))


def capture_holds_newline(pattern: str, group: str) -> bool | None:
    """True/False for capture ``group`` ("1", "2", or a name) of ``pattern``; None when unknown."""
    return capture_can_hold(pattern, group, "\n")


class CaptureStart(NamedTuple):
    after_slash: bool  # the pattern has a literal `/` right before the group
    slash_first: bool  # whatever the group matches starts with `/`
    dot_first: bool  # it may start with `.`


def capture_start(pattern: str, group: str) -> CaptureStart | None:
    """How capture GROUP of PATTERN starts and what comes right before it; None when unknown."""
    found = _group(pattern, group)
    if found is None:
        return None
    items, dotall, before = found
    after_slash = before is not None and before[0] is sre.LITERAL and before[1] == _SLASH
    return CaptureStart(after_slash, _must_start_with(items, _SLASH), _can_start_with(items, dotall, _DOT))


def _group(pattern: str, group: str) -> tuple[list[Any], bool, Any] | None:
    parsed = parse(pattern)
    number = group_number(pattern, group)
    if parsed is None or number is None:
        return None
    return _find_group(parsed.items, number, parsed.dotall, None)


def _find_group(items: list[Any], index: int, dotall: bool, before: Any) -> tuple[list[Any], bool, Any] | None:
    """The group's items, whether `.` matches a line feed there, and the item right before it."""
    previous = before
    for item in items:
        op, value = item
        found: tuple[list[Any], bool, Any] | None = None
        if op is sre.SUBPATTERN:
            group, add_flags, _, sub = value
            inner_dotall = dotall or bool(add_flags & sre.SRE_FLAG_DOTALL)
            if group == index:
                return list(sub), inner_dotall, previous
            found = _find_group(list(sub), index, inner_dotall, previous)
        elif op in _REPEATS:
            found = _find_group(list(value[2]), index, dotall, previous)
        elif op is sre.BRANCH:
            for branch in value[1]:
                found = _find_group(list(branch), index, dotall, previous)
                if found is not None:
                    break
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            found = _find_group(list(value[1]), index, dotall, None)
        elif op is _ATOMIC:
            found = _find_group(list(value), index, dotall, previous)
        if found is not None:
            return found
        previous = item
    return None


def can_match(items: list[tuple[Any, Any]], dotall: bool, code: int) -> bool:
    return any(_item_can_match(op, value, dotall, code) for op, value in items)


def _item_can_match(op: Any, value: Any, dotall: bool, code: int) -> bool:
    if op is sre.LITERAL:
        return bool(value == code)
    if op is sre.NOT_LITERAL:
        return bool(value != code)
    if op is sre.ANY:
        return dotall or code != _NEWLINE
    if op is sre.IN:
        return _set_has(value, code)
    if op in _REPEATS:
        return value[1] != 0 and can_match(list(value[2]), dotall, code)
    if op is sre.SUBPATTERN:
        return can_match(list(value[3]), dotall or bool(value[1] & sre.SRE_FLAG_DOTALL), code)
    if op is sre.BRANCH:
        return any(can_match(list(branch), dotall, code) for branch in value[1])
    if op is _ATOMIC:
        return can_match(list(value), dotall, code)
    return False


def _can_start_with(items: list[tuple[Any, Any]], dotall: bool, code: int) -> bool:
    """Whether a match of ITEMS can begin with CODE (items that may match nothing are passed over)."""
    for op, value in items:
        if op in _REPEATS:
            if value[1] != 0 and _can_start_with(list(value[2]), dotall, code):
                return True
        elif op is sre.SUBPATTERN:
            if _can_start_with(list(value[3]), dotall or bool(value[1] & sre.SRE_FLAG_DOTALL), code):
                return True
        elif op is sre.BRANCH:
            if any(_can_start_with(list(branch), dotall, code) for branch in value[1]):
                return True
        elif op is _ATOMIC:
            if _can_start_with(list(value), dotall, code):
                return True
        elif _item_can_match(op, value, dotall, code):
            return True
        if not may_be_empty(op, value):
            return False
    return False


def _must_start_with(items: list[tuple[Any, Any]], code: int) -> bool:
    """Whether every match of ITEMS begins with CODE."""
    for op, value in items:
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            continue
        if op is sre.LITERAL:
            return bool(value == code)
        if op is sre.IN:
            return all(member == (sre.LITERAL, code) for member in value)
        if op in _REPEATS:
            return value[0] >= 1 and _must_start_with(list(value[2]), code)
        if op is sre.SUBPATTERN:
            return _must_start_with(list(value[3]), code)
        if op is sre.BRANCH:
            return all(_must_start_with(list(branch), code) for branch in value[1])
        return False
    return False


def may_be_empty(op: Any, value: Any) -> bool:
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        return True
    if op in _REPEATS:
        return bool(value[0] == 0) or all(may_be_empty(*item) for item in value[2])
    if op is sre.SUBPATTERN:
        return all(may_be_empty(*item) for item in value[3])
    if op is sre.BRANCH:
        return any(all(may_be_empty(*item) for item in branch) for branch in value[1])
    return False


_CATEGORY_ESCAPES = {
    sre.CATEGORY_DIGIT: r"\d",
    sre.CATEGORY_NOT_DIGIT: r"\D",
    sre.CATEGORY_SPACE: r"\s",
    sre.CATEGORY_NOT_SPACE: r"\S",
    sre.CATEGORY_WORD: r"\w",
    sre.CATEGORY_NOT_WORD: r"\W",
}


def _set_has(members: list[tuple[Any, Any]], code: int) -> bool:
    negate = bool(members) and members[0][0] is sre.NEGATE
    found = False
    for op, value in members:
        if (
            (op is sre.LITERAL and value == code)
            or (op is sre.RANGE and value[0] <= code <= value[1])
            or (op is sre.CATEGORY and _in_category(value, code))
        ):
            found = True
            break
    return found != negate


def _in_category(category: Any, code: int) -> bool:
    escape = _CATEGORY_ESCAPES.get(category)
    return escape is not None and re.fullmatch(escape, chr(code)) is not None
