"""Which files make a Compose project, and from which folder its relative paths start.

`docker compose` run in a folder loads the first of its default file names and the override
file beside it, or the files `COMPOSE_FILE` lists (in the `.env` of that folder); with several
files, every relative path starts from the project directory, the folder of the first file.
A file can also be written to complete a base elsewhere (`docker compose -f compose.yaml -f
ci/compose.ci.yaml`): nothing in the repository names the pair, so the evidence is the file
itself, when each of its services is one the base defines and none brings an image, a build,
an `extends` or a provider of its own (it cannot run alone).

All paths here are absolute; `read` returns a file's text when it is inside the scan root.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from infralint import discover
from infralint.parsers import compose_yaml
from infralint.parsers.compose_interpolate import parse_env_file
from infralint.parsers.yamlpos import YamlInputError

Reader = Callable[[str], str | None]

# The names `docker compose` looks for, in its order of preference.
DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
DEFAULT_OVERRIDES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)
OVERRIDE_NAME = re.compile(r"^(?P<stem>.+)\.override\.ya?ml$")
_YAML_NAME = re.compile(r"^(?P<stem>.+)\.ya?ml$")
# `docker-compose.prod.yml` beside `docker-compose.yml`: a fragment used with `-f base -f this`.
_OVERLAY_NAME = re.compile(r"^(docker-)?compose\.[\w.-]+\.ya?ml$")
# A committed template of the override file, copied into place on each host.
TEMPLATE_SUFFIXES = (".example", ".dist", ".sample")
# Keys that make a service runnable on its own.
_RUNNABLE_KEYS = ("image", "build", "extends", "provider")
MAX_CANDIDATES_PER_FOLDER = 20


def _exists(folder: str, name: str) -> bool:
    return os.path.isfile(os.path.join(folder, name))


def _first_existing(folder: str, names: tuple[str, ...]) -> str | None:
    return next((name for name in names if _exists(folder, name)), None)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def compose_file_list(folder: str, read: Reader) -> list[str] | None:
    """The files `COMPOSE_FILE` names in the `.env` of FOLDER, or None when it names none."""
    text = read(os.path.join(folder, ".env"))
    if text is None:
        return None
    env = parse_env_file(text)
    value = env.get("COMPOSE_FILE", "").strip()
    if not value:
        return None
    separator = env.get("COMPOSE_PATH_SEPARATOR") or (";" if ";" in value and ":" not in value else ":")
    entries = [part.strip() for part in value.split(separator) if part.strip()]
    return [os.path.normpath(os.path.join(folder, entry)) for entry in entries] or None


def overrides_for(folder: str, name: str, read: Reader) -> list[str]:
    """The files `docker compose` merges into this base file, in order."""
    listed = compose_file_list(folder, read)
    if listed and listed[0] == os.path.join(folder, name):
        return listed[1:]
    if name in DEFAULT_FILES:
        if _first_existing(folder, DEFAULT_FILES) != name:
            return []  # compose only loads an override beside the file it picks
        found = _first_existing(folder, DEFAULT_OVERRIDES)
        return [os.path.join(folder, found)] if found else []
    match = _YAML_NAME.match(name)
    if match is None or OVERRIDE_NAME.match(name):
        return []
    stem = match.group("stem")
    found = _first_existing(folder, (f"{stem}.override.yml", f"{stem}.override.yaml"))
    return [os.path.join(folder, found)] if found else []


def base_for(folder: str, name: str, root: str, read: Reader) -> str | None:
    """The base file whose parse merges this one: a `COMPOSE_FILE` in a folder at or above this
    one lists both, or this is the override file beside its base."""
    path = os.path.join(folder, name)
    current = folder
    while _inside(current, root):
        listed = compose_file_list(current, read)
        if listed and path in listed[1:] and _inside(listed[0], root) and os.path.isfile(listed[0]):
            return listed[0]
        if current == root:
            break
        current = os.path.dirname(current)
    if name in DEFAULT_OVERRIDES:
        candidates: tuple[str, ...] = (_first_existing(folder, DEFAULT_FILES) or "",)
    elif (match := OVERRIDE_NAME.match(name)) is not None:
        stem = match.group("stem")
        candidates = (f"{stem}.yml", f"{stem}.yaml")
    else:
        return None
    for candidate in candidates:
        if candidate and _exists(folder, candidate) and path in overrides_for(folder, candidate, read):
            return os.path.join(folder, candidate)
    return None


def sibling_base(folder: str, name: str) -> str | None:
    """For a fragment (`docker-compose.prod.yml`, an override without its base): the project
    file beside it, whose definitions it is meant to be combined with."""
    if name in DEFAULT_FILES:
        return None
    if OVERRIDE_NAME.match(name) or _OVERLAY_NAME.match(name):
        found = _first_existing(folder, DEFAULT_FILES)
        return os.path.join(folder, found) if found else None
    return None


def templates_for(folder: str, name: str) -> list[str]:
    """Committed templates of this base file's override (`compose.override.yml.example` ...)."""
    if name in DEFAULT_FILES:
        overrides: tuple[str, ...] = DEFAULT_OVERRIDES
    elif (match := _YAML_NAME.match(name)) is not None and not OVERRIDE_NAME.match(name):
        stem = match.group("stem")
        overrides = (f"{stem}.override.yml", f"{stem}.override.yaml")
    else:
        return []
    names = tuple(override + suffix for override in overrides for suffix in TEMPLATE_SUFFIXES)
    return [os.path.join(folder, found) for found in names if _exists(folder, found)]


# A base elsewhere, known from the file's own shape


def completing_services(documents: list[compose_yaml.ComposeDocument]) -> set[str] | None:
    """The service names of a file that can only complete a base (none is runnable alone), or
    None when the file is not such a file."""
    names: set[str] = set()
    runnable: set[str] = set()
    for document in documents:
        services = document.data.get("services") if isinstance(document.data, dict) else None
        if not isinstance(services, dict):
            continue
        for name, service in services.items():
            names.add(str(name))
            if not isinstance(service, dict) or any(key in service for key in _RUNNABLE_KEYS):
                runnable.add(str(name))
    return names if names and not runnable else None


def _services_of(text: str) -> dict[str, Any] | None:
    try:
        documents = compose_yaml.load(text)
    except YamlInputError:
        return None
    found: dict[str, Any] = {}
    for document in documents:
        services = document.data.get("services") if isinstance(document.data, dict) else None
        if isinstance(services, dict):
            found.update({str(k): v for k, v in services.items()})
    return found


def _candidates(folder: str, exclude: str) -> list[str]:
    """Compose files of a folder that may be a base: default names first, no override files."""
    try:
        entries = sorted(os.listdir(folder))
    except OSError:
        return []
    named = [n for n in entries if discover.COMPOSE_NAME.match(n.lower()) and not OVERRIDE_NAME.match(n)]
    ordered = [n for n in DEFAULT_FILES if n in named] + [n for n in named if n not in DEFAULT_FILES]
    paths = [os.path.join(folder, n) for n in ordered if os.path.join(folder, n) != exclude]
    return paths[:MAX_CANDIDATES_PER_FOLDER]


def completed_base(path: str, services: set[str], root: str, read: Reader) -> str | None:
    """The nearest compose file, in this folder or one above it inside the scan root, that
    defines every one of SERVICES and runs at least one of them itself."""
    folder = os.path.dirname(path)
    while _inside(folder, root):
        for candidate in _candidates(folder, path):
            text = read(candidate)
            defined = _services_of(text) if text is not None else None
            if not defined or not services <= set(defined):
                continue
            if any(isinstance(defined[n], dict) and any(k in defined[n] for k in _RUNNABLE_KEYS) for n in services):
                return candidate
        if folder == root:
            break
        folder = os.path.dirname(folder)
    return None
