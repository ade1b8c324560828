"""Which files make a Compose project, and from which folder its relative paths start.

`docker compose` run in a folder loads the first of its default file names and the override
file beside it, or the files `COMPOSE_FILE` lists (in the `.env` of that folder); with several
files, every relative path starts from the project directory, the folder of the first file.
Lists written in CI workflows and scripts (compose_invocations.py) are not merged into their
first file, which runs alone too: a file they list after it is a fragment of it.
A file can also be written to complete a base elsewhere (`docker compose -f compose.yaml -f
ci/compose.ci.yaml`): nothing in the repository names the pair, so the evidence is the file
itself, when each of its services is one the base defines and none brings an image, a build,
an `extends` or a provider of its own (it cannot run alone). An add-on file (`docker compose
-f docker-compose.yml -f jibri.yml`) brings services of its own but uses names that only
another file defines: Compose refuses a file with an undefined name, so a file whose names
are declared by the project file of its folder or of a folder above it, or by a compose file
beside it, is run together with that file. So is an add-on that also adds to services of a
base (`jaeger/docker-compose.yaml` runs `jaeger` and sets only the environment of `frontend`),
whatever its name: a service with no image nor build cannot run alone, and the nearest compose
file at or above its folder that runs those services is its base (partial_services).

All paths here are absolute; `read` returns a file's text when it is inside the scan root.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from infralint import discover
from infralint.parsers import compose_syntax, compose_yaml
from infralint.parsers.compose_interpolate import parse_env_file
from infralint.parsers.yamlpos import YamlInputError

Reader = Callable[[str], str | None]
# Names by the top-level key that defines them (services, networks, volumes, secrets, configs).
Names = dict[str, set[str]]
NameReader = Callable[[str], "dict[str, list[str]] | None"]
NAME_KEYS = ("services", "networks", "volumes", "secrets", "configs")

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
MAX_INCLUDED_FILES = 200


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


def partial_services(documents: list[compose_yaml.ComposeDocument]) -> set[str]:
    """The services of a file that cannot run alone (no image, build, `extends` or provider):
    in a file that also runs services of its own, these complete a base's services."""
    partial: set[str] = set()
    for document in documents:
        services = document.data.get("services") if isinstance(document.data, dict) else None
        for name, service in services.items() if isinstance(services, dict) else ():
            if isinstance(service, dict) and not any(key in service for key in _RUNNABLE_KEYS):
                partial.add(str(name))
    return partial


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


# An add-on: services of its own, names of another file


def referenced_names(documents: list[compose_yaml.ComposeDocument]) -> Names:
    """The names a file's services use, by the top-level key that must define them; names
    written with a variable are left out (their value is not known here)."""
    found: Names = {key: set() for key in NAME_KEYS}
    for document in documents:
        services = document.data.get("services") if isinstance(document.data, dict) else None
        for service in services.values() if isinstance(services, dict) else ():
            if isinstance(service, dict):
                _service_references(service, found)
    return {key: {n for n in names if "$" not in n} for key, names in found.items()}


def _service_references(service: dict[str, Any], found: Names) -> None:
    depends_on = service.get("depends_on")
    found["services"].update(str(n) for n in _names_of(depends_on))
    found["services"].update(str(link).split(":", 1)[0] for link in _list(service.get("links")))
    for entry in _list(service.get("volumes_from")):
        if isinstance(entry, str) and not entry.startswith("container:"):
            found["services"].add(entry.split(":", 1)[0])
    for key in ("network_mode", "ipc", "pid"):
        value = service.get(key)
        if isinstance(value, str) and value.startswith("service:"):
            found["services"].add(value[len("service:") :])
    if service.get("network_mode") is None:
        found["networks"].update(str(n) for n in _names_of(service.get("networks")) if n != "default")
    for item in _list(service.get("volumes")):
        mount = compose_syntax.parse_volume(item)
        if mount is not None and mount.type == "volume" and mount.source:
            found["volumes"].add(mount.source)
    for key in ("secrets", "configs"):
        for entry in _list(service.get(key)):
            source = entry.get("source") if isinstance(entry, dict) else entry
            if isinstance(source, str):
                found[key].add(source)


def _names_of(value: Any) -> list[Any]:
    """The names of a short (list) or long (mapping) form."""
    if isinstance(value, dict):
        return list(value)
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def missing_names(used: Names, *defined: dict[str, list[str]] | None) -> Names:
    """The names of USED that none of DEFINED declares."""
    left = {key: set(names) for key, names in used.items()}
    for names in defined:
        for key in left:
            left[key] -= set((names or {}).get(key, ()))
    return {key: names for key, names in left.items() if names}


def _is_compose(path: str, read: Reader) -> bool:
    kind = discover.classify_name(os.path.basename(path))
    if kind != "yaml":
        return kind == "compose"
    text = read(path)
    return text is not None and discover.classify_content(kind, text, path) == "compose"


def _beside(path: str, read: Reader) -> list[str]:
    """The other compose files of the folder of PATH (compose-named or with `services:`)."""
    folder = os.path.dirname(path)
    try:
        entries = sorted(os.listdir(folder))
    except OSError:
        return []
    names = [n for n in entries if n.lower().endswith(discover.YAML_SUFFIXES) and n not in DEFAULT_FILES]
    paths = [os.path.join(folder, n) for n in names if os.path.join(folder, n) != path]
    return [p for p in paths[: MAX_CANDIDATES_PER_FOLDER * 2] if _is_compose(p, read)][:MAX_CANDIDATES_PER_FOLDER]


def _project_files_above(path: str, root: str) -> list[str]:
    """The project file `docker compose` picks in the folder of PATH and in each folder above
    it inside the scan root, nearest first."""
    found = []
    folder = os.path.dirname(path)
    while _inside(folder, root):
        name = _first_existing(folder, DEFAULT_FILES)
        if name is not None and os.path.join(folder, name) != path:
            found.append(os.path.join(folder, name))
        if folder == root:
            break
        folder = os.path.dirname(folder)
    return found


def addon_sources(path: str, missing: Names, root: str, read: Reader, names_in: NameReader) -> list[tuple[str, Names]]:
    """The files that declare names PATH uses and leaves undefined, with what each declares: the
    nearest project file (of its folder or of one above, with its override), the other compose
    files beside PATH, then the project files farther up. Each file that declares one of them
    counts, so a name any of them declares is not undefined; the search stops once none is
    left. None for a file one of them includes (`include` gives it the includer's names)."""
    left = {key: set(names) for key, names in missing.items()}
    nearest = _project_files_above(path, root)
    candidates = nearest[:1] + _beside(path, read) + nearest[1:]
    if any(path in included_files(candidate, read) for candidate in candidates):
        return []  # an included file: its includer's names reach it through `include`
    found = []
    for candidate in candidates:
        if not any(left.values()):
            break
        declared = _declared_with_overrides(candidate, read, names_in)
        if any(left[key] & declared[key] for key in left):
            found.append((candidate, declared))
            left = {key: names - declared[key] for key, names in left.items()}
    return found


def included_files(path: str, read: Reader, limit: int = MAX_INCLUDED_FILES) -> set[str]:
    """The files PATH includes, directly or through the files it includes (local paths only)."""
    found: set[str] = set()
    pending = [path]
    while pending and len(found) < limit:
        current = pending.pop()
        text = read(current)
        try:
            documents = compose_yaml.load(text) if text is not None else []
        except YamlInputError:
            continue
        for document in documents:
            include = document.data.get("include") if isinstance(document.data, dict) else None
            for entry in include if isinstance(include, list) else ():
                paths = entry.get("path") if isinstance(entry, dict) else entry
                for target in paths if isinstance(paths, list) else [paths]:
                    if not isinstance(target, str) or "://" in target:
                        continue
                    absolute = os.path.normpath(os.path.join(os.path.dirname(current), target))
                    if absolute not in found:
                        found.add(absolute)
                        pending.append(absolute)
    return found


def addon_base(sources: list[str]) -> str:
    """The file an add-on is run with first (its project directory): the nearest project file
    among the files that declare its names, else the first of them."""
    return next((path for path in sources if os.path.basename(path) in DEFAULT_FILES), sources[0])


def _declared_with_overrides(path: str, read: Reader, names_in: NameReader) -> Names:
    folder, name = os.path.split(path)
    declared: Names = {key: set() for key in NAME_KEYS}
    for file in [path, *overrides_for(folder, name, read)]:
        for key, names in (names_in(file) or {}).items():
            declared.setdefault(key, set()).update(names)
    return declared
