"""Compose byte sizes: the Docker CLI's notation, every unit binary, YAML numbers as bytes."""

from __future__ import annotations

import pytest

from infralint.quantities import parse_quantity
from infralint.units import UNLIMITED, compose_bytes, format_bytes

KIB, MIB, GIB = 2**10, 2**20, 2**30


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("256m", 256 * MIB),
        ("1g", GIB),
        ("512M", 512 * MIB),
        ("1gb", GIB),
        ("1GB", GIB),
        ("1GiB", GIB),
        ("1 GB", GIB),  # one space between number and unit is accepted
        ("2048k", 2048 * KIB),
        ("1kb", KIB),
        ("2b", 2),
        ("100", 100),
        ("1.5g", 3 * GIB // 2),
        ("0.5g", GIB // 2),
        (".5k", 512),
        ("1t", 2**40),
        ("1p", 2**50),
        (1073741824, GIB),
        (0, 0),
        ("0", 0),
        (-1, UNLIMITED),
        ("-1", UNLIMITED),
        (1.5, 1),
    ],
)
def test_sizes(written: object, expected: int) -> None:
    assert compose_bytes(written) == expected


@pytest.mark.parametrize(
    "written",
    ["", "m", "1x", "1mm", "1bb", "1ib", "1 g b", "-5m", "1Mi", "1e3", True, None, [], {}, "1" * 40 + "g", -2],
)
def test_not_sizes(written: object) -> None:
    assert compose_bytes(written) is None


def test_no_float_rounding() -> None:
    # 0.1 has no exact binary form; integer arithmetic keeps the byte count exact.
    assert compose_bytes("0.1g") == GIB // 10


def test_consistent_with_kubernetes_where_meanings_overlap() -> None:
    # Compose "1g" is Kubernetes "1Gi"; Kubernetes "1G" is decimal and has no Compose spelling.
    assert compose_bytes("1g") == parse_quantity("1Gi")
    assert compose_bytes("512m") == parse_quantity("512Mi")
    assert parse_quantity("1G") != compose_bytes("1g")


def test_format_bytes() -> None:
    assert format_bytes(512 * MIB) == "512MiB"
    assert format_bytes(GIB) == "1GiB"
    assert format_bytes(3 * GIB // 2) == "1536MiB"  # exact when it can be
    assert format_bytes(3 * GIB // 2 + 1) == "1.5GiB"
    assert format_bytes(100) == "100B"
