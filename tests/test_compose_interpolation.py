"""Compose interpolation from .env only: defaults, alternatives, errors as empty, `$$` escapes."""

from __future__ import annotations

import pytest

from infralint.parsers.compose_interpolate import interpolate, parse_env_file

ENV = {"SET": "value", "EMPTY": "", "TAG": "1.2"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${SET}", "value"),
        ("$SET", "value"),
        ("$SET/x", "value/x"),
        ("${MISSING}", ""),
        ("$MISSING", ""),
        ("${MISSING:-fallback}", "fallback"),
        ("${EMPTY:-fallback}", "fallback"),
        ("${EMPTY-fallback}", ""),
        ("${MISSING-fallback}", "fallback"),
        ("${SET:-fallback}", "value"),
        ("${MISSING:?must be set}", ""),
        ("${MISSING?must be set}", ""),
        ("${SET:?must be set}", "value"),
        ("${SET:+alt}", "alt"),
        ("${EMPTY:+alt}", ""),
        ("${EMPTY+alt}", "alt"),
        ("${MISSING+alt}", ""),
        ("${MISSING:-${SET}}", "value"),
        ("${MISSING:-${ALSO_MISSING:-deep}}", "deep"),
        ("image:${TAG}", "image:1.2"),
        ("$$", "$"),
        ("$${SET}", "${SET}"),
        ("pa$$word", "pa$word"),
        ("$", "$"),
        ("cost: 5$", "cost: 5$"),
        ("${", "${"),
        ("${SET", "${SET"),
        ("${}", "${}"),
        ("${1BAD}", "${1BAD}"),
        ("no variables", "no variables"),
    ],
)
def test_interpolate(text: str, expected: str) -> None:
    assert interpolate(text, ENV).value == expected


def test_counts_references_and_missing() -> None:
    result = interpolate("${SET}-${MISSING:-x}-$$-$OTHER", ENV)
    assert (result.references, result.missing) == (3, 2)
    assert interpolate("pa$$word", ENV).references == 0


def test_never_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFRALINT_FROM_SHELL", "leak")
    assert interpolate("${INFRALINT_FROM_SHELL}", {}).value == ""


def test_nested_defaults_are_bounded() -> None:
    text = "${A:-" * 50 + "end" + "}" * 50
    assert isinstance(interpolate(text, {}).value, str)


def test_env_file() -> None:
    text = "\n".join(
        [
            "# a comment",
            "",
            "PLAIN=value",
            "SPACED = padded  ",
            "export EXPORTED=yes",
            "COMMENTED=abc # trailing comment",
            "HASH=abc#not-a-comment",
            "SINGLE='literal ${PLAIN} # kept'",
            'DOUBLE="expanded ${PLAIN}\\nnext"',
            'MULTI="first',
            'second"',
            "REF=${PLAIN}-suffix",
            "not a variable line",
            "1BAD=x",
            "EMPTY=",
        ]
    )
    env = parse_env_file(text)
    assert env == {
        "PLAIN": "value",
        "SPACED": "padded",
        "EXPORTED": "yes",
        "COMMENTED": "abc",
        "HASH": "abc#not-a-comment",
        "SINGLE": "literal ${PLAIN} # kept",
        "DOUBLE": "expanded value\nnext",
        "MULTI": "first\nsecond",
        "REF": "value-suffix",
        "EMPTY": "",
    }
