"""Where the packaged data lives: rules/, schemas/ and fixtures/.

In a wheel they are copied under ``infralint/_data``; in a source checkout they are the
top-level folders beside the package.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    packaged = _PACKAGE / "_data" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / name
