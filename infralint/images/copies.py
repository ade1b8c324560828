"""Config files a compose service's Dockerfile copies into its image: they run in that service
as a bind-mounted one would (infralint/graph/mounts.py attaches them).

Only copies from the build context into the image's own stages count (`COPY --from` brings
files of another stage, whose sources are not files of the scan). A source names a file, or a
folder whose files are copied below the destination; wildcards match one path level each. The
whole context (`COPY . /app`) says nothing: an application's image holds every file of its
folder, and that does not make them its server's configs.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def copied_files(service_facts: dict[str, Any], files: dict[str, list[T]]) -> Iterator[tuple[T, str]]:
    """(config, path inside the image) for each scanned file (FILES: path -> configs) the
    service's Dockerfile copies in."""
    build = service_facts.get("image_build")
    if not isinstance(build, dict):
        return
    context = build.get("context")
    for copy in build.get("copies") or ():
        destination = str(copy.get("destination") or "")
        sources = [str(s) for s in copy.get("sources") or () if s != context]
        for path, configs in files.items():
            target = _target(path, sources, destination)
            if target is not None:
                for config in configs:
                    yield config, target


def _target(path: str, sources: list[str], destination: str) -> str | None:
    several = len(sources) > 1 or destination.endswith("/")
    for source in sources:
        source = source.rstrip("/")
        matches = _wild(source) and fnmatch.fnmatchcase(path, source) and path.count("/") == source.count("/")
        if source == path or matches:
            name = posixpath.basename(path)
            return posixpath.join(destination, name) if several or _wild(source) else destination
        if path.startswith(source + "/") and not _wild(source):
            return posixpath.join(destination, path[len(source) + 1 :])
    return None


def _wild(source: str) -> bool:
    return any(c in source for c in "*?[")
