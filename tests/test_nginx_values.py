"""What a capture of an nginx regex can hold and how it starts, and where a variable's value comes
from (set, map, captures): the two helpers behind nginx-http-splitting, nginx-alias-traversal and
nginx-host-header-spoofing."""

from __future__ import annotations

import pytest

from infralint.parsers.nginx_regex import CaptureStart, capture_can_hold, capture_start, group_number
from infralint.parsers.nginx_values import Regex, Scope, trace


@pytest.mark.parametrize(
    ("pattern", "group", "char", "holds"),
    [
        ("^/a/(.*)$", "1", "\n", False),  # "." stops at a line feed
        ("^/a/(.*)$", "1", "\r", True),  # but not at a carriage return
        ("(?s)^/a/(.*)$", "1", "\n", True),
        ("^/a/([^/]+)$", "1", "\n", True),
        ("^/a/([^/\\s]+)$", "1", "\r", False),
        ("^/a/(\\W*)$", "1", "\n", True),
        ("^/a/(\\w+)$", "1", "\n", False),
        ("^/a/(?<rest>[^/]*)$", "rest", "\n", True),
        ("^/a/(?<rest>[^\\r\\n]*)$", "rest", "\r", False),
    ],
)
def test_what_a_capture_can_hold(pattern: str, group: str, char: str, holds: bool) -> None:
    assert capture_can_hold(pattern, group, char) is holds


def test_groups_that_do_not_exist_are_unknown() -> None:
    assert group_number("^/(a)(?<b>c)$", "2") == 2 and group_number("^/(a)(?<b>c)$", "b") == 2
    assert group_number("^/(a)$", "2") is None and capture_can_hold("^/(a)$", "name", "\n") is None
    assert capture_start("^/a/(*FAIL)", "1") is None  # a pattern Python cannot read


@pytest.mark.parametrize(
    ("pattern", "group", "start"),
    [
        ("/img(.*)", "1", CaptureStart(after_slash=False, slash_first=False, dot_first=True)),
        ("/img/(.*)$", "1", CaptureStart(after_slash=True, slash_first=False, dot_first=True)),
        ("/img(/.*)", "1", CaptureStart(after_slash=False, slash_first=True, dot_first=False)),
        ("/img([^.]*)", "1", CaptureStart(after_slash=False, slash_first=False, dot_first=False)),
        ("/v(2)(x?.*)", "2", CaptureStart(after_slash=False, slash_first=False, dot_first=True)),
        ("/img(?<rest>[a-z].*)", "rest", CaptureStart(after_slash=False, slash_first=False, dot_first=False)),
    ],
)
def test_how_a_capture_starts(pattern: str, group: str, start: CaptureStart) -> None:
    assert capture_start(pattern, group) == start


def _decoded(name: str) -> bool:
    return name in ("uri", "document_uri")


def _any_capture(regex: Regex, group: str) -> bool:
    return True


MAPS = {
    "section": {"name": "map", "args": ["$uri", "$section"], "block": [{"name": "default", "args": ["$uri"]}]},
    "fixed": {"name": "map", "args": ["$uri", "$fixed"], "block": [{"name": "default", "args": ["none"]}]},
}


def test_values_are_followed_through_set_and_map() -> None:
    scope = Scope([], {"copy": ["$section"], "plain": ["$fixed"]}, MAPS)
    assert trace("x$copy", scope, _decoded, None) == ["$copy", "$section", "$uri"]
    assert trace("$plain", scope, _decoded, None) is None
    assert trace("${document_uri}", scope, _decoded, None) == ["${document_uri}"]


def test_set_escapes_numbered_captures_but_not_named_ones() -> None:
    location = Regex("^/a/(x|y)/(?<rest>.*)$")
    scope = Scope([location], {"p": ["$2"], "q": ["$rest"]}, {})
    assert trace("$2", scope, _decoded, _any_capture) == ["$2"]
    assert trace("$p", scope, _decoded, _any_capture) is None
    assert trace("$q", scope, _decoded, _any_capture) == ["$q", "$rest"]


def test_a_variable_set_from_itself_ends() -> None:
    scope = Scope([], {"a": ["$b"], "b": ["$a$uri"]}, {})
    assert trace("$a", scope, _decoded, None) == ["$a", "$b", "$uri"]
