"""Where the value of an nginx variable comes from: followed through `set`, `map` and captures.

A directive's value such as `http://backend/$target` is a script: its variables are nginx's own
(`$uri`, `$http_host` ...), capture groups of the regex that matched last (`$1`, `$name`), or
variables the configuration defines with `set` or `map`. `trace` follows each variable back to
where its value comes from and tells whether some origin the caller asks about (a decoded path,
a client's header) can reach the directive, and along which chain of variables.

How nginx copies values, as checked against nginx 1.22 itself:
- a numbered capture copied by the rewrite module (`set $p $1;`, `rewrite ... /x/$1`) is
  escaped again when the request URI held escapes, so `%0d%0a` stays encoded; copied anywhere
  else (`return`, `add_header`, `proxy_pass`, a `map` value) it is the decoded text;
- a named capture (`(?<name>...)`) is a variable: never escaped, wherever it is used;
- a location regex and `rewrite` match the decoded path; an `if` regex matches the variable it
  tests, and a `map` regex the map's source, so their captures hold no more than that value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from infralint.parsers.nginx_regex import group_number

Record = dict[str, Any]

VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\d)|([A-Za-z_]\w*))")
MAX_DEPTH = 8  # set/map chains followed; real configs stay under 3

# Blocks whose lines are directives that run for the request (walked); others hold entries.
_DIRECTIVE_BLOCKS = frozenset({"if", "limit_except"})


@dataclass(frozen=True)
class Regex:
    """A regex whose captures a value may use, and what it is matched against: the variable an
    `if` or a `map` tests, or None for the decoded request path (a location, a rewrite)."""

    pattern: str
    subject: str | None = None


@dataclass
class Scope:
    """What the variables of one directive can refer to."""

    regexes: list[Regex] = field(default_factory=list)  # innermost first: the last one matched
    sets: dict[str, list[str]] = field(default_factory=dict)  # name -> values `set` gives it
    maps: dict[str, Record] = field(default_factory=dict)  # name -> the `map` record defining it
    escaped_captures: bool = False  # numbered captures are copied by the rewrite module


# Asked of each origin: a nginx variable name (without `$`) -> whether it is one the caller fears.
Origin = Callable[[str], bool]
# Asked of each capture that could be used: (regex, group) -> whether what it holds is feared.
Capture = Callable[[Regex, str], bool]


def trace(value: str, scope: Scope, origin: Origin, capture: Capture | None) -> list[str] | None:
    """The chain of variables (as written, from VALUE's own to the origin) along which a feared
    origin reaches VALUE, or None. CAPTURE None leaves captures out."""
    return _trace(value, scope, origin, capture, frozenset(), 0)


def _trace(
    value: str, scope: Scope, origin: Origin, capture: Capture | None, seen: frozenset[str], depth: int
) -> list[str] | None:
    if "$" not in value or depth > MAX_DEPTH:
        return None
    for match in VARIABLE.finditer(value):
        name = match.group(1) or match.group(2) or match.group(3)
        written = match.group(0)
        if name in seen:
            continue
        found = _variable(name, scope, origin, capture, seen | {name}, depth)
        if found is not None:
            return [written, *found]
    return None


def _variable(
    name: str, scope: Scope, origin: Origin, capture: Capture | None, seen: frozenset[str], depth: int
) -> list[str] | None:
    """The rest of the chain behind variable NAME ([] when it is a feared origin itself)."""
    if name.isdecimal():
        if capture is None or scope.escaped_captures or not scope.regexes:
            return None
        regex = scope.regexes[0]  # the regex that matched last
        return [] if group_number(regex.pattern, name) and capture(regex, name) else None
    if capture is not None:
        for regex in scope.regexes:
            if group_number(regex.pattern, name):  # a named capture is a variable: not escaped
                return [] if capture(regex, name) else None
    if name in scope.sets:
        inner = Scope(scope.regexes, scope.sets, scope.maps, escaped_captures=True)
        for assigned in scope.sets[name]:
            found = _trace(assigned, inner, origin, capture, seen, depth + 1)
            if found is not None:
                return found
        return None
    if name in scope.maps:
        return _mapped(scope.maps[name], scope, origin, capture, seen, depth)
    return [] if origin(name) else None


def _mapped(
    record: Record, scope: Scope, origin: Origin, capture: Capture | None, seen: frozenset[str], depth: int
) -> list[str] | None:
    """The chain behind a map's output: through any of its values (evaluated when used, with
    the captures of the entry's regex, matched against the map's source)."""
    source = record["args"][0] if record["args"] else ""
    for key, result in map_entries(record):
        regexes = [Regex(_regex_of(key), source)] if key.startswith("~") else []
        inner = Scope(regexes, scope.sets, scope.maps)
        found = _trace(result, inner, origin, capture, seen, depth + 1)
        if found is not None:
            return found
    return None


def map_entries(record: Record) -> Iterator[tuple[str, str]]:
    """(key, value) of each line of a map block (`default` included; hostnames, volatile and
    include lines are not entries)."""
    for entry in record.get("block") or ():
        if len(entry["args"]) == 1 and entry["name"] != "include":
            yield entry["name"], entry["args"][0]


def _regex_of(key: str) -> str:
    return key[2:] if key.startswith("~*") else key[1:]


def if_regex(record: Record) -> Regex | None:
    """The regex an `if` matches (with the variable it tests), None for other conditions."""
    args = record["args"]
    if record["name"] == "if" and len(args) == 3 and args[1] in ("~", "~*"):
        return Regex(args[2], args[0])
    return None


def with_enclosing_ifs(
    records: Iterable[Record], ifs: tuple[Record, ...] = ()
) -> Iterator[tuple[Record, tuple[Record, ...]]]:
    """Each directive of a block with the `if` blocks around it (innermost first); the entries
    of map, types and similar blocks are not directives and are left out."""
    for record in records:
        block = record.get("block")
        if block is None:
            yield record, ifs
        elif record["name"] in _DIRECTIVE_BLOCKS:
            yield record, ifs
            inner = (record, *ifs) if record["name"] == "if" else ifs
            yield from with_enclosing_ifs(block, inner)


def sets_in(records: Iterable[Record]) -> dict[str, list[str]]:
    """name -> values of the `set` directives of a block (those inside its if blocks too)."""
    found: dict[str, list[str]] = {}
    for record, _ in with_enclosing_ifs(records):
        args = record["args"]
        if record["name"] == "set" and len(args) == 2 and args[0].startswith("$"):
            found.setdefault(args[0][1:].strip("{}"), []).append(args[1])
    return found


def maps_in(records: Iterable[Record]) -> dict[str, Record]:
    """Output variable name -> its `map` record, among the records of a block."""
    found: dict[str, Record] = {}
    for record in records:
        args = record["args"]
        if record["name"] == "map" and len(args) == 2 and args[1].startswith("$"):
            found[args[1][1:].strip("{}")] = record
    return found
