"""Defaults a known image's build of a server changes (known.yaml `server_defaults`), for the
compose service or k8s container that runs it.

The official redis and valkey images compile Redis with `protected-mode no` as its default, so
a config file without a `protected-mode` line (or no config file) leaves it off there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infralint.graph.model import Node
from infralint.images.known import lookup


@dataclass(frozen=True)
class ServerDefault:
    value: str
    image: str  # the image reference as written (the base image, for a service built here)
    source: str  # where the fact was read
    path: tuple[Any, ...]  # the runner's attribute that names the image


def runner_image(runner: Node) -> tuple[str, tuple[Any, ...]] | None:
    """The image a compose service or k8s container runs, and where it is written. A compose
    service built here runs what its Dockerfile builds FROM (the final stage's base image)."""
    if runner.kind == "compose/service":
        build = runner.facts.get("image_build")
        if isinstance(build, dict):
            base = build.get("base")
            return (str(base), ("build",)) if base else None
        if runner.facts.get("build"):
            return None  # built from a Dockerfile the scan cannot read
        image = runner.facts.get("image")
        return (str(image), ("image",)) if image else None
    image = runner.attrs.get("image")
    return (image, ("image",)) if isinstance(image, str) else None


def server_default(runner: Node, directive: str) -> ServerDefault | None:
    """The default the runner's image gives DIRECTIVE, when it changes upstream's."""
    found = runner_image(runner)
    if found is None:
        return None
    image, path = found
    known = lookup(image)
    if known is None or directive not in known.server_defaults:
        return None
    return ServerDefault(known.server_defaults[directive], image, known.source, path)
