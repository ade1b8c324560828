"""Datastore images and their default data directories (datastores.yaml), looked up by repository."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from infralint.resources import load_yaml

DATA = Path(__file__).with_name("datastores.yaml")


@dataclass(frozen=True)
class Datastore:
    engine: str  # "postgres", "redis", ... (named in messages)
    data: str  # the data directory the image writes to by default
    option: str | None = None  # the server's command-line option that moves it (`--dbpath`)


def lookup(repository: str) -> Datastore | None:
    """The datastore a normalised repository name (`known.parse_reference`) runs, or None when it
    is not one, or is one whose layout is not known."""
    for pattern, store in _entries():
        if pattern.fullmatch(repository):
            return store
    return None


@cache
def _entries() -> tuple[tuple[re.Pattern[str], Datastore | None], ...]:
    data = load_yaml(DATA.read_text(encoding="utf-8"))
    return tuple((re.compile(str(item["image"])), _store(item)) for item in data["datastores"])


def _store(item: dict[str, Any]) -> Datastore | None:
    if not item.get("data"):
        return None
    option = item.get("option")
    return Datastore(str(item["engine"]), str(item["data"]), str(option) if option else None)
