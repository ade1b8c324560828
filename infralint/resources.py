"""Where the packaged data lives: rules/, schemas/ and fixtures/.

In a wheel they are copied under ``infralint/_data``; in a source checkout they are the
top-level folders beside the package.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    packaged = _PACKAGE / "_data" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / name


def load_yaml(text: Any) -> Any:
    """YAML loaded safely with libyaml's C loader when PyYAML has it (several times faster than
    the pure-Python one: the data files infralint ships are read on every scan)."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
