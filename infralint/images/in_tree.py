"""What the Dockerfiles of a scanned tree copy into their images, by the path inside the image.

A server config often names a file by the path it has in the container (nginx's
`include /etc/nginx/snippets/headers.conf;`), and a Dockerfile of the repository copies it there
from the build context. A Dockerfile found on its own does not say its build context (a compose
`build.context`, a bake file or a CI job does), so each COPY source is looked up relative to the
Dockerfile's folder, then each folder above it up to the scan root: the nearest that holds it is
taken. Counted are copies from the context (not `COPY --from`) to an absolute destination (a
relative one depends on WORKDIR), in every stage: a file copied in any stage is taken to reach
the image. A folder source brings the files below it; a destination without a trailing slash
may be a folder of the image, so a single file is known both at that path and inside it (unless
the destination ends in the file's own name).

The walk skips hidden folders and the usual build/vendor folders, and is remembered per root for
the process, checked against the modification times of the folders walked and the Dockerfiles
read (a new or removed file changes its folder's time).
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import time
from collections import defaultdict

from infralint.images import dockerfile as syntax

MAX_FOLDERS = 5000  # folders walked per root; a tree larger than this is read in part
MAX_DOCKERFILES = 200
MAX_FILES_PER_SOURCE = 500  # files listed below one folder source
_SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__", "vendor", "venv", "dist", "build", "target"})

Stamps = tuple[tuple[str, int], ...]
_CACHE: dict[str, tuple[Stamps, dict[str, list[str]]]] = {}
_LISTED: dict[str, tuple[Stamps, list[str], float]] = {}  # root -> (stamps, Dockerfiles, checked at)
_RECHECK_SECONDS = 1.0
_CACHE_ROOTS = 8


def is_dockerfile_name(name: str) -> bool:
    lower = name.lower()
    return (
        lower in ("dockerfile", "containerfile")
        or lower.startswith(("dockerfile.", "containerfile."))
        or lower.endswith((".dockerfile", ".containerfile"))
    )


def image_files(root: str) -> dict[str, list[str]]:
    """Path inside an image -> the files (relative to ROOT, posix) that a Dockerfile under ROOT
    copies there."""
    real_root = os.path.realpath(root)
    cached = _CACHE.get(real_root)
    if cached is not None and _unchanged(cached[0]):
        return cached[1]
    folders, dockerfiles = _walk(real_root)
    copied: dict[str, list[str]] = defaultdict(list)
    for relative in dockerfiles:
        text = _read(os.path.join(real_root, relative))
        if text is not None:
            for inside, source in _copies(real_root, relative, text):
                if source not in copied[inside]:
                    copied[inside].append(source)
    stamps = tuple(folders) + tuple(_stamp(os.path.join(real_root, d)) for d in dockerfiles)
    if len(_CACHE) >= _CACHE_ROOTS:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[real_root] = (stamps, dict(copied))
    return _CACHE[real_root][1]


def dockerfiles(root: str) -> list[str]:
    """The Dockerfiles under ROOT (relative, posix, sorted), found by the same walk. Asked once
    per compose service, so the folders are checked for changes at most once a second."""
    real_root = os.path.realpath(root)
    cached = _LISTED.get(real_root)
    now = time.monotonic()
    if cached is not None and (now - cached[2] < _RECHECK_SECONDS or _unchanged(cached[0])):
        _LISTED[real_root] = (cached[0], cached[1], now if now - cached[2] >= _RECHECK_SECONDS else cached[2])
        return cached[1]
    folders, found = _walk(real_root)
    if len(_LISTED) >= _CACHE_ROOTS:
        _LISTED.pop(next(iter(_LISTED)))
    _LISTED[real_root] = (tuple(folders), found, now)
    return found


def _stamp(path: str) -> tuple[str, int]:
    try:
        return path, os.stat(path).st_mtime_ns
    except OSError:
        return path, -1


def _unchanged(stamps: Stamps) -> bool:
    return all(_stamp(path) == (path, time) for path, time in stamps)


def _walk(real_root: str) -> tuple[list[tuple[str, int]], list[str]]:
    """(folder stamps, Dockerfiles relative to the root), sorted."""
    folders: list[tuple[str, int]] = []
    found: list[str] = []
    for folder, dirs, files in os.walk(real_root):
        folders.append(_stamp(folder))
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_FOLDERS)
        if len(folders) >= MAX_FOLDERS:
            dirs[:] = []
        for name in sorted(files):
            if is_dockerfile_name(name) and len(found) < MAX_DOCKERFILES:
                found.append(os.path.relpath(os.path.join(folder, name), real_root).replace(os.sep, "/"))
    return folders, found


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(1024 * 1024)
    except OSError:
        return None


def _copies(real_root: str, dockerfile: str, text: str) -> list[tuple[str, str]]:
    """(path inside the image, file relative to the root) for each file the Dockerfile copies in."""
    found: list[tuple[str, str]] = []
    for stage in syntax.read(text).stages:
        for copy in stage.copies:
            destination = copy.destination
            if copy.from_stage is not None or not destination.startswith("/") or "$" in destination:
                continue
            several = len(copy.sources) > 1
            for source in copy.sources:
                if "://" in source or source.startswith("git@") or "$" in source:
                    continue
                # Sources never leave the context: `../x` and `/x` both name `x` at its top.
                inside = posixpath.normpath("/" + source).lstrip("/")
                context = _context(real_root, dockerfile, inside)
                if context is not None:
                    found += _targets(real_root, context, inside, destination, several)
    return found


def _context(real_root: str, dockerfile: str, source: str) -> str | None:
    """The nearest folder from the Dockerfile's up to the root that holds SOURCE."""
    folder = posixpath.dirname(dockerfile)
    while True:
        candidate = posixpath.join(folder, source) if source else folder
        full = os.path.join(real_root, candidate)
        if (_wild(source) and _matches(real_root, candidate)) or (not _wild(source) and os.path.exists(full)):
            return folder
        if not folder:
            return None
        folder = posixpath.dirname(folder)


def _wild(path: str) -> bool:
    return any(char in path for char in "*?[")


def _matches(real_root: str, pattern: str) -> list[str]:
    """Paths relative to the root that a COPY wildcard matches (one path level per part)."""
    import glob

    found = []
    for match in sorted(glob.glob(os.path.join(glob.escape(real_root), pattern))):
        relative = os.path.relpath(match, real_root).replace(os.sep, "/")
        if fnmatch.fnmatchcase(relative, pattern) and relative.count("/") == pattern.count("/"):
            found.append(relative)
    return found


def _targets(real_root: str, context: str, source: str, destination: str, several: bool) -> list[tuple[str, str]]:
    written = posixpath.join(context, source) if source else context
    if _wild(source):
        matched = _matches(real_root, written)
        several = True
    else:
        matched = [posixpath.normpath(written)] if written else [""]
    found: list[tuple[str, str]] = []
    for path in matched:
        full = os.path.join(real_root, path)
        if os.path.isdir(full):  # a folder's files go below the destination
            for inner in _files_below(full):
                found.append((posixpath.join(destination, inner), posixpath.join(path, inner) if path else inner))
        elif os.path.isfile(full):
            name = posixpath.basename(path)
            if several or destination.endswith("/"):
                found.append((posixpath.join(destination, name), path))
            elif posixpath.basename(destination) == name:
                found.append((posixpath.normpath(destination), path))
            else:
                found += [(posixpath.normpath(destination), path), (posixpath.join(destination, name), path)]
    return found


def _files_below(folder: str) -> list[str]:
    found: list[str] = []
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            found.append(os.path.relpath(os.path.join(current, name), folder).replace(os.sep, "/"))
            if len(found) >= MAX_FILES_PER_SOURCE:
                return found
    return found
