"""Docker Compose byte sizes ("256m", "1g", "512M", "1gb", "1.5GiB", 1073741824) as bytes.

Compose reads `mem_limit`, `deploy.resources.limits.memory`, `shm_size` and the like the way the
Docker CLI does: a decimal number, an optional space, then an optional unit letter (b k m g t p,
any case) that may be followed by `b` or `ib`. Every unit is binary, so `1k`, `1kb` and `1KiB`
all mean 1024 bytes; the fraction of a byte is dropped. YAML numbers are bytes.

Kubernetes quantities ("512Mi", "1G" = 10^9) follow different rules and live in
infralint/quantities.py; the two agree where their notations overlap in meaning (`1Gi` there is
`1g` here), and neither module accepts the other's spelling silently.
"""

from __future__ import annotations

import re
from typing import Any

_MULTIPLIERS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40, "p": 2**50}
_SIZE = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+) ?(?P<unit>[bkmgtp]?)(?P<tail>b|ib)?", re.IGNORECASE)
_MAX_DIGITS = 30  # far beyond any real size; keeps absurd input cheap

# Docker reads these as "no limit".
UNLIMITED = -1


def compose_bytes(value: Any) -> int | None:
    """Bytes for a Compose size, UNLIMITED for -1, or None when the value is not a size.

    ``0`` is returned as 0; whether that means "no limit" is the caller's call (for memory
    limits Docker treats it so).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return UNLIMITED if value == -1 else (value if value >= 0 else None)
    if isinstance(value, float):
        return int(value) if value == value and 0 <= value < float("inf") else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text == "-1":
        return UNLIMITED
    match = _SIZE.fullmatch(text)
    if match is None or len(match.group("number")) > _MAX_DIGITS:
        return None
    unit = match.group("unit").lower()
    tail = (match.group("tail") or "").lower()
    if tail and unit in ("", "b"):  # "1bb", "1ib": a tail needs a unit letter before it
        return None
    number = match.group("number")
    whole, _, fraction = number.partition(".")
    multiplier = _MULTIPLIERS[unit]
    # Integer arithmetic: "0.5g" is exactly 536870912 bytes, with no float rounding.
    scaled = int(whole or "0") * multiplier
    if fraction:
        scaled += int(fraction) * multiplier // 10 ** len(fraction)
    return scaled


def format_bytes(amount: int) -> str:
    """A short human form for messages: 536870912 -> "512MiB"."""
    for suffix, size in (("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if amount >= size and amount % size == 0:
            return f"{amount // size}{suffix}"
    for suffix, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if amount >= size:
            return f"{amount / size:.1f}{suffix}"
    return f"{amount}B"
