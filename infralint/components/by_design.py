"""Infrastructure agents whose documentation requires host access (by_design.yaml), looked up
by the image a service or container runs.

An image matches on its repository, normalised the way Docker resolves it, against the entry's
shell patterns; the tag does not matter (every version of node-exporter reads /proc). A
reference holding a variable is never matched: what it names is decided at deploy time.
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from infralint.images.known import parse_reference
from infralint.resources import load_yaml

DATA = Path(__file__).with_name("by_design.yaml")
NEEDS = frozenset({"runtime_socket", "host_pid", "host_network", "host_paths", "privileged"})


@dataclass(frozen=True)
class Component:
    name: str
    images: tuple[str, ...]
    needs: frozenset[str]
    host_paths: tuple[str, ...]  # mounted read-only
    writable_host_paths: tuple[str, ...]  # written to (position files, sockets it creates)
    serves: frozenset[int]
    why: str
    mitigation: str
    sources: tuple[str, ...]

    def allows_host_path(self, path: str, writable: bool) -> bool:
        """A host directory the documentation mounts (one it writes to, when WRITABLE), or one below it."""
        bases = self.writable_host_paths if writable else self.host_paths + self.writable_host_paths
        wanted = _absolute(path)
        return any(wanted == base or wanted.startswith(base.rstrip("/") + "/") for base in map(_absolute, bases))


def _absolute(path: str) -> str:
    return posixpath.normpath("/" + path.strip().lstrip("/"))


def component_for(image: Any) -> Component | None:
    """The entry for an image reference, or None when the image is not a listed component."""
    reference = parse_reference(image) if isinstance(image, str) else None
    if reference is None:
        return None
    for entry in catalog():
        if any(fnmatch.fnmatchcase(reference.repository, pattern) for pattern in entry.images):
            return entry
    return None


def needing(image: Any, need: str) -> Component | None:
    """The component an image runs, when its documentation requires NEED."""
    component = component_for(image)
    return component if component is not None and need in component.needs else None


@cache
def catalog() -> tuple[Component, ...]:
    data = load_yaml(DATA.read_text(encoding="utf-8"))
    return tuple(_entry(item) for item in data["components"])


def _entry(item: dict[str, Any]) -> Component:
    needs = frozenset(str(need) for need in item["needs"])
    unknown = needs - NEEDS
    if unknown:
        raise ValueError(f"by_design.yaml: {item['name']}: unknown needs {sorted(unknown)}")
    return Component(
        name=str(item["name"]),
        images=tuple(str(pattern).lower() for pattern in item["images"]),
        needs=needs,
        host_paths=tuple(str(path) for path in item.get("host_paths") or ()),
        writable_host_paths=tuple(str(path) for path in item.get("writable_host_paths") or ()),
        serves=frozenset(int(port) for port in item.get("serves") or ()),
        why=" ".join(str(item["why"]).split()),
        mitigation=" ".join(str(item["mitigation"]).split()),
        sources=tuple(str(url) for url in item["sources"]),
    )
