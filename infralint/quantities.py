"""Kubernetes resource quantities ("500m", "0.5", "128Mi", "1G", "1e3") as exact numbers.

The grammar is the API server's: a signed decimal number followed by nothing, a binary suffix
(Ki Mi Gi Ti Pi Ei), a decimal suffix (n u m k M G T P E) or a decimal exponent (e3, E-2).
Values come back as Fractions so that "0.1" + "0.2" compares exactly and a request can be
compared with its limit whatever units each uses. Anything else yields None: a rule that
cannot read a value says nothing rather than guess.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}

_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<exponent>[eE][+-]?[0-9]+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)"
)

# Far beyond any real quantity; keeps "1e999999999" from building a giant integer.
_MAX_EXPONENT = 40
_MAX_DIGITS = 40


def parse_quantity(value: Any) -> Fraction | None:
    """The exact amount a quantity stands for, or None when it is not a valid quantity.

    YAML may hand over numbers (``cpu: 2``, ``cpu: 0.5``) as well as strings; booleans and
    other types are not quantities.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(repr(value)) if value == value and abs(value) != float("inf") else None
    if not isinstance(value, str):
        return None
    match = _QUANTITY.fullmatch(value)
    if match is None or len(match.group("number")) > _MAX_DIGITS:
        return None
    number = Fraction(match.group("number"))
    exponent = match.group("exponent")
    if exponent is not None:
        power = int(exponent[1:])
        if abs(power) > _MAX_EXPONENT:
            return None
        return number * Fraction(10) ** power
    suffix = match.group("suffix") or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    return number * _DECIMAL[suffix]
