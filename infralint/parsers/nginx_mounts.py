"""Host folders that compose services mount into their containers, for nginx includes.

A config may include a file by its path inside the container (`include /srv/app/conf/x.conf;`)
where a compose service bind-mounts a folder of the host. The compose files of the config's
folder and of each folder above it, up to the scan root, are read: a mount whose target holds the
include's path says where the file is on the host. Its source is unknown when it is a variable
with no value (not in the project's `.env`, no `${VAR:-default}`), a named or anonymous volume
(filled at run time) or a home-relative path: then what the include reads cannot be known.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from typing import Any

import yaml

from infralint.resources import load_yaml

_COMPOSE_NAME = re.compile(r"^(docker-)?compose([.-][^/]*)?\.ya?ml$")
_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_]\w*)(:?[-?+])?|\$([A-Za-z_]\w*)")
MAX_COMPOSE_BYTES = 1024 * 1024
MAX_FOLDERS_UP = 12


@dataclass(frozen=True)
class Mount:
    target: str  # absolute, normalised path in the container
    source: str | None  # absolute host path; None when it cannot be known


def covering(mounts: list[Mount], path: str) -> tuple[Mount, str] | None:
    """The mount with the deepest target holding PATH (in the container), and the rest of the path."""
    holding = [m for m in mounts if path == m.target or path.startswith(m.target.rstrip("/") + "/")]
    if not holding:
        return None
    deepest = max(holding, key=lambda m: len(m.target))
    return deepest, path[len(deepest.target) :].lstrip("/")


def mounts_above(folder: str, root: str) -> list[Mount]:
    """Mounts of the compose files in FOLDER and the folders above it, up to ROOT."""
    found: list[Mount] = []
    real_root = os.path.realpath(root)
    current = os.path.abspath(folder)
    for _ in range(MAX_FOLDERS_UP):
        for name in _compose_files(current):
            found.extend(_mounts_of(os.path.join(current, name)))
        if os.path.realpath(current) == real_root or os.path.dirname(current) == current:
            break
        current = os.path.dirname(current)
    return found


def _compose_files(folder: str) -> list[str]:
    try:
        return sorted(name for name in os.listdir(folder) if _COMPOSE_NAME.match(name.lower()))
    except OSError:
        return []


def _mounts_of(path: str) -> list[Mount]:
    data = _load(path)
    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(services, dict):
        return []
    folder = os.path.dirname(path)
    env = _project_env(folder)
    mounts = []
    for service in services.values():
        volumes = service.get("volumes") if isinstance(service, dict) else None
        for entry in volumes if isinstance(volumes, list) else ():
            mount = _mount(entry, folder, env)
            if mount is not None:
                mounts.append(mount)
    return mounts


def _load(path: str) -> Any:
    try:
        if os.path.getsize(path) > MAX_COMPOSE_BYTES:
            return None
        with open(path, encoding="utf-8") as handle:
            return load_yaml(handle)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return None


def _project_env(folder: str) -> dict[str, str]:
    from infralint.parsers.compose_interpolate import parse_env_file

    try:
        with open(os.path.join(folder, ".env"), encoding="utf-8") as handle:
            return parse_env_file(handle.read())
    except (OSError, UnicodeDecodeError):
        return {}


def _mount(entry: Any, folder: str, env: dict[str, str]) -> Mount | None:
    if isinstance(entry, dict):
        source, target = entry.get("source"), entry.get("target")
        if entry.get("type") not in (None, "bind", "volume"):
            return None  # tmpfs, npipe ...
    elif isinstance(entry, str):
        parts = _split_short(entry)
        source, target = (parts[0], parts[1]) if len(parts) > 1 else (None, parts[0])
    else:
        return None
    if not isinstance(target, str) or not target:
        return None
    target_path = _expand(target, env)
    if target_path is None or not target_path.startswith("/"):
        return None
    return Mount(posixpath.normpath(target_path), _host_path(source, folder, env))


def _host_path(source: Any, folder: str, env: dict[str, str]) -> str | None:
    if not isinstance(source, str) or not source:
        return None  # an anonymous volume
    value = _expand(source, env)
    if not value or value.startswith("~") or not value.startswith(("/", ".")):
        return None  # unknown, a home folder, or a named volume
    return os.path.normpath(os.path.join(folder, value))


def _expand(text: str, env: dict[str, str]) -> str | None:
    """TEXT with compose variables replaced; None when one has no value and no default."""
    from infralint.parsers.compose_interpolate import interpolate

    for match in _VARIABLE.finditer(text):
        name = match.group(1) or match.group(3)
        if name and name not in env and (match.group(2) is None or "?" in match.group(2)):
            return None
    return interpolate(text, env).value


def _split_short(entry: str) -> list[str]:
    """`source:target[:mode]`, split on the colons outside `${...}`."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(entry):
        if entry.startswith("${", index):
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        elif char == ":" and depth == 0:
            parts.append(entry[start:index])
            start = index + 1
    parts.append(entry[start:])
    return parts
