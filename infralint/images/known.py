"""Public images infralint knows from their Dockerfiles (known.yaml), looked up by reference.

A reference is matched on its repository, normalised the way Docker resolves it
(`docker.io/library/redis:7` and `redis:7` are one image), and on its tag where an entry lists
tag patterns. A reference holding a variable (`${IMAGE}`) is never matched: what it names is
decided at deploy time.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from infralint.resources import load_yaml

DATA = Path(__file__).with_name("known.yaml")
DOCKER_HUB = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})


@dataclass(frozen=True)
class Reference:
    repository: str  # normalised: "redis", "valkey/valkey", "ghcr.io/authelia/authelia"
    tag: str  # "latest" when none is written
    digest: str | None


@dataclass(frozen=True)
class Wait:
    """A service the image's own start-up waits for before it serves: the host is read from
    variable ENV (DEFAULT when it is unset or empty; a URL's host counts), probed as PROBE says."""

    env: str
    default: str | None
    probe: str  # what answers: "postgresql or mariadb", "redis" (named in messages, not matched)


@dataclass(frozen=True)
class KnownImage:
    names: tuple[str, ...]
    tags: tuple[str, ...]  # shell patterns; empty: every tag
    source: str
    healthcheck: bool | None
    expose: tuple[str, ...]
    user: str | None
    volumes: tuple[str, ...]
    listen: tuple[int, ...]
    server_defaults: dict[str, str]
    waits_for: tuple[Wait, ...] = ()
    waits_source: str | None = None  # where the start-up behind waits_for was read
    drops_root_to: str | None = None  # the user its entrypoint switches to when started as root
    entrypoint_source: str | None = None  # where that entrypoint was read
    server_command: str | None = None  # the program the entrypoint starts after dropping root

    def matches(self, reference: Reference) -> bool:
        if reference.repository not in self.names:
            return False
        return not self.tags or any(fnmatch.fnmatchcase(reference.tag, pattern) for pattern in self.tags)


def parse_reference(image: str) -> Reference | None:
    """The repository and tag an image reference names; None for a variable or an empty one."""
    text = image.strip()
    if not text or "$" in text or any(c.isspace() for c in text):
        return None
    digest = None
    if "@" in text:
        text, digest = text.split("@", 1)
    tag = "latest"
    slash, colon = text.rfind("/"), text.rfind(":")
    if colon > slash:  # a colon before the last slash belongs to a registry port
        text, tag = text[:colon], text[colon + 1 :]
    parts = text.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry, parts = parts[0].lower(), parts[1:]
    else:
        registry = "docker.io"
    if registry in DOCKER_HUB:
        if len(parts) == 2 and parts[0] == "library":
            parts = parts[1:]
        return Reference("/".join(parts).lower(), tag, digest)
    return Reference("/".join([registry, *parts]).lower(), tag, digest)


def lookup(image: str | None) -> KnownImage | None:
    """The entry for an image reference, or None when the image is unknown."""
    reference = parse_reference(image) if isinstance(image, str) else None
    if reference is None:
        return None
    for entry in catalog():
        if entry.matches(reference):
            return entry
    return None


@cache
def catalog() -> tuple[KnownImage, ...]:
    data = load_yaml(DATA.read_text(encoding="utf-8"))
    return tuple(_entry(item) for item in data["images"])


def _entry(item: dict[str, Any]) -> KnownImage:
    healthcheck = item.get("healthcheck")
    return KnownImage(
        names=tuple(str(name).lower() for name in item["names"]),
        tags=tuple(str(tag) for tag in item.get("tags") or ()),
        source=str(item["source"]),
        healthcheck=healthcheck if isinstance(healthcheck, bool) else None,
        expose=tuple(str(port) for port in item.get("expose") or ()),
        user=str(item["user"]) if item.get("user") is not None else None,
        volumes=tuple(str(path) for path in item.get("volumes") or ()),
        listen=tuple(int(port) for port in item.get("listen") or ()),
        server_defaults={str(k): str(v) for k, v in (item.get("server_defaults") or {}).items()},
        waits_for=tuple(_wait(wait) for wait in item.get("waits_for") or ()),
        waits_source=str(item["waits_source"]) if item.get("waits_source") else None,
        drops_root_to=str(item["drops_root_to"]) if item.get("drops_root_to") else None,
        entrypoint_source=str(item["entrypoint_source"]) if item.get("entrypoint_source") else None,
        server_command=str(item["server_command"]) if item.get("server_command") else None,
    )


def _wait(item: dict[str, Any]) -> Wait:
    default = item.get("default")
    return Wait(str(item["env"]), str(default) if default is not None else None, str(item["probe"]))
