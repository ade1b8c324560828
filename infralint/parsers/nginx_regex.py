"""Can a capture of an nginx location regex hold a line break?

nginx matches `location ~ ...` against the decoded URI, so `%0d%0a` arrives as CR LF. A capture
that can match a line break, used in a header or a redirect, lets a client inject headers.
PCRE and Python's `re` agree on the constructs that matter here (classes, `.`, repeats, groups),
so Python's own regex parser reads the pattern; a pattern it cannot read is reported as unknown.
"""

from __future__ import annotations

import importlib
import re
import sys
from typing import Any

# The regex parser behind `re`: re._parser since 3.11, sre_parse (deprecated since) before.
sre: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")

_NEWLINE = 10
_PCRE_NAMED = re.compile(r"\(\?(?:<(?![=!])(\w+)>|'(\w+)'|P<(\w+)>)")
_LINE_BREAK_CATEGORIES = frozenset(
    {sre.CATEGORY_SPACE, sre.CATEGORY_NOT_DIGIT, sre.CATEGORY_NOT_WORD, sre.CATEGORY_LINEBREAK}
)
_ATOMIC = getattr(sre, "ATOMIC_GROUP", None)
_REPEATS = tuple(op for op in (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None)) if op)


def capture_holds_newline(pattern: str, group: str) -> bool | None:
    """True/False for capture ``group`` ("1", "2", or a name) of ``pattern``; None when unknown."""
    python_pattern = _PCRE_NAMED.sub(lambda m: f"(?P<{m.group(1) or m.group(2) or m.group(3)}>", pattern)
    try:
        parsed = sre.parse(python_pattern)
    except Exception:  # not a pattern Python reads (possessive forms, \K ...)
        return None
    state = parsed.state
    index = int(group) if group.isdecimal() else state.groupdict.get(group)
    if index is None or index >= state.groups:
        return None
    dotall = bool(state.flags & sre.SRE_FLAG_DOTALL)
    found = _find_group(list(parsed), index, dotall)
    if found is None:
        return None
    items, group_dotall = found
    return _can_match_newline(items, group_dotall)


def _find_group(items: list[tuple[Any, Any]], index: int, dotall: bool) -> tuple[list[Any], bool] | None:
    for op, value in items:
        if op is sre.SUBPATTERN:
            group, add_flags, _, sub = value
            inner_dotall = dotall or bool(add_flags & sre.SRE_FLAG_DOTALL)
            if group == index:
                return list(sub), inner_dotall
            found = _find_group(list(sub), index, inner_dotall)
        elif op in _REPEATS:
            found = _find_group(list(value[2]), index, dotall)
        elif op is sre.BRANCH:
            found = None
            for branch in value[1]:
                found = _find_group(list(branch), index, dotall)
                if found is not None:
                    break
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            found = _find_group(list(value[1]), index, dotall)
        elif op is _ATOMIC:
            found = _find_group(list(value), index, dotall)
        else:
            found = None
        if found is not None:
            return found
    return None


def _can_match_newline(items: list[tuple[Any, Any]], dotall: bool) -> bool:
    for op, value in items:
        if op is sre.LITERAL:
            if value == _NEWLINE:
                return True
        elif op is sre.NOT_LITERAL:
            if value != _NEWLINE:
                return True
        elif op is sre.ANY:
            if dotall:
                return True
        elif op is sre.IN:
            if _set_has_newline(value):
                return True
        elif op in _REPEATS:
            if value[1] != 0 and _can_match_newline(list(value[2]), dotall):
                return True
        elif op is sre.SUBPATTERN:
            if _can_match_newline(list(value[3]), dotall or bool(value[1] & sre.SRE_FLAG_DOTALL)):
                return True
        elif op is sre.BRANCH:
            if any(_can_match_newline(list(branch), dotall) for branch in value[1]):
                return True
        elif op is _ATOMIC and _can_match_newline(list(value), dotall):
            return True
    return False


def _set_has_newline(members: list[tuple[Any, Any]]) -> bool:
    negate = bool(members) and members[0][0] is sre.NEGATE
    found = False
    for op, value in members:
        if (
            (op is sre.LITERAL and value == _NEWLINE)
            or (op is sre.RANGE and value[0] <= _NEWLINE <= value[1])
            or (op is sre.CATEGORY and value in _LINE_BREAK_CATEGORIES)
        ):
            found = True
            break
    return found != negate
