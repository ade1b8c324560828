"""The Kubernetes quantity parser: exact amounts in every notation, None for anything else."""

from __future__ import annotations

from fractions import Fraction

import pytest

from infralint.quantities import parse_quantity


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        # cpu
        ("500m", Fraction(1, 2)),
        ("0.5", Fraction(1, 2)),
        ("2", 2),
        ("100m", Fraction(1, 10)),
        ("1500m", Fraction(3, 2)),
        (".25", Fraction(1, 4)),
        ("1.", 1),
        ("250u", Fraction(1, 4000)),
        ("5n", Fraction(5, 10**9)),
        # memory, binary suffixes
        ("128Mi", 128 * 2**20),
        ("1Gi", 2**30),
        ("1.5Gi", 3 * 2**29),
        ("64Ki", 64 * 2**10),
        ("2Ti", 2 * 2**40),
        ("1Pi", 2**50),
        ("1Ei", 2**60),
        # memory, decimal suffixes and exponents
        ("1G", 10**9),
        ("512M", 512 * 10**6),
        ("64k", 64_000),
        ("1T", 10**12),
        ("1P", 10**15),
        ("1E", 10**18),
        ("1e3", 1000),
        ("1E3", 1000),
        ("12e6", 12 * 10**6),
        ("1e-3", Fraction(1, 1000)),
        ("1e+2", 100),
        # plain bytes and signs
        ("134217728", 134217728),
        ("+2k", 2000),
        ("-1", -1),
        ("0", 0),
    ],
)
def test_parses_exact_amounts(text: str, amount: Fraction) -> None:
    assert parse_quantity(text) == amount


def test_yaml_numbers_are_quantities() -> None:
    assert parse_quantity(2) == 2
    assert parse_quantity(0.5) == Fraction(1, 2)
    assert parse_quantity(0.1) == Fraction(1, 10)  # the decimal written, not the float's binary value


def test_units_compare_exactly() -> None:
    mebibytes, megabytes = parse_quantity("64Mi"), parse_quantity("64M")
    assert mebibytes is not None and megabytes is not None and mebibytes > megabytes
    assert parse_quantity("1Gi") == parse_quantity("1024Mi")
    assert parse_quantity("0.5") == parse_quantity("500m")
    assert parse_quantity("1e3") == parse_quantity("1k")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "Mi",
        "1Gb",
        "1gi",
        "1 Gi",
        " 1Gi",
        "1Gi ",
        "1.2.3",
        "1e",
        "1e3Mi",
        "1mi",
        "0x10",
        "1,5",
        "--1",
        "1e99",
        "1e-99",
        "\u0661",  # ARABIC-INDIC DIGIT ONE: a digit, but not an ASCII one
        "9" * 41,
    ],
)
def test_invalid_strings_return_none(text: str) -> None:
    assert parse_quantity(text) is None


@pytest.mark.parametrize("value", [None, True, False, [], {}, float("nan"), float("inf")])
def test_non_quantities_return_none(value: object) -> None:
    assert parse_quantity(value) is None
