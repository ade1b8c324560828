"""Parsed YAML as the rules read it: a value of the wrong shape counts as empty."""

from __future__ import annotations

from typing import Any


def as_dict(value: Any) -> dict[str, Any]:
    """VALUE when it is a mapping, else an empty one (a null, a string where a map belongs)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """VALUE when it is a list, else an empty one."""
    return value if isinstance(value, list) else []
