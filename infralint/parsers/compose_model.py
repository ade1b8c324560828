"""Compose models as located data: every value keeps where it was written (file, line, column),
through interpolation, normalisation, the merge of override files and `extends`.

A Located is a value plus an Origin for each path inside it (the path () is the value's own
key or list item). Merging follows the Compose Specification's merge rules:
- mappings merge key by key, the later file winning for scalars;
- sequences append; `ports`, `volumes`, `secrets`, `configs` and `expose` append but an entry
  with the same unique key (a port mapping, a mount target) replaces the earlier one in place;
- `command`, `entrypoint` and `healthcheck.test` are replaced, never appended;
- `environment`, `labels`, `depends_on`, `networks` and `build` are brought to mapping form
  first (so list and map notations merge), and `dns`, `env_file`, `tmpfs`... to lists;
- `logging` merges only when both files name the same driver (or one names none);
- `!reset` removes what earlier files set, `!override` replaces it wholesale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from infralint.parsers import compose_syntax as syntax
from infralint.parsers.compose_interpolate import interpolate
from infralint.parsers.yamlpos import Path


@dataclass(frozen=True)
class Origin:
    file: str  # relative to the scan root, posix
    line: int
    col: int
    end_line: int
    raw: str | None = None  # the text before interpolation, when it had `$`
    references: int = 0  # variables it referenced
    missing: int = 0  # of those, not defined in .env
    tag: str | None = None  # !reset / !override


Origins = dict[Path, Origin]


@dataclass
class Located:
    value: Any
    origins: Origins

    def child(self, key: Any) -> Located:
        return Located(self.value[key], {p[1:]: o for p, o in self.origins.items() if p and p[0] == key})

    @property
    def origin(self) -> Origin | None:
        return self.origins.get(())


def group(origins: Origins) -> tuple[Origin | None, dict[Any, Origins]]:
    """Split a value's origins into its own and its children's (by first path element)."""
    own = None
    groups: dict[Any, Origins] = {}
    for path, origin in origins.items():
        if not path:
            own = origin
            continue
        groups.setdefault(path[0], {})[path[1:]] = origin
    return own, groups


def ungroup(own: Origin | None, groups: dict[Any, Origins]) -> Origins:
    origins: Origins = {} if own is None else {(): own}
    for key, sub in groups.items():
        for path, origin in sub.items():
            origins[(key, *path)] = origin
    return origins


def prune(value: Any, origins: Origins) -> Origins:
    """Drop origins of paths the value does not have (left over from YAML merge keys)."""
    kept: Origins = {}
    for path, origin in origins.items():
        if _has_path(value, path):
            kept[path] = origin
    return kept


def _has_path(value: Any, path: Path) -> bool:
    for key in path:
        if isinstance(value, dict):
            if key not in value:
                return False
            value = value[key]
        elif isinstance(value, list):
            if not isinstance(key, int) or not 0 <= key < len(value):
                return False
            value = value[key]
        else:
            return False
    return True


# Interpolation


def interpolate_located(located: Located, env: dict[str, str]) -> Located:
    """Expand variables in every string value (keys stay as written)."""
    origins = dict(located.origins)
    value = _interpolate_value(located.value, (), env, origins)
    return Located(value, origins)


def _interpolate_value(value: Any, path: Path, env: dict[str, str], origins: Origins) -> Any:
    if isinstance(value, str):
        if "$" not in value:
            return value
        expanded = interpolate(value, env)
        origin = origins.get(path)
        if origin is not None:
            origins[path] = replace(origin, raw=value, references=expanded.references, missing=expanded.missing)
        return expanded.value
    if isinstance(value, dict):
        return {key: _interpolate_value(item, (*path, key), env, origins) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate_value(item, (*path, index), env, origins) for index, item in enumerate(value)]
    return value


# Booleans: the YAML is read as 1.2 (`yes` is a string), but the fields Compose types as
# booleans still take the YAML 1.1 words, which it converts with a warning, and the text a
# variable expanded to. The paths are those compose-go converts (loader/interpolate.go and
# the schema's boolean fields): https://github.com/compose-spec/compose-go

_ANY_KEY, _ANY_ITEM = "*", "[]"
_BOOLEAN_FIELDS: tuple[Path, ...] = (
    *(
        ("services", _ANY_KEY, key)
        for key in ("init", "privileged", "read_only", "stdin_open", "tty", "oom_kill_disable", "use_api_socket")
    ),
    ("services", _ANY_KEY, "healthcheck", "disable"),
    ("services", _ANY_KEY, "depends_on", _ANY_KEY, "required"),
    ("services", _ANY_KEY, "depends_on", _ANY_KEY, "restart"),
    ("services", _ANY_KEY, "volumes", _ANY_ITEM, "read_only"),
    ("services", _ANY_KEY, "volumes", _ANY_ITEM, "volume", "nocopy"),
    ("services", _ANY_KEY, "volumes", _ANY_ITEM, "bind", "create_host_path"),
    *(("services", _ANY_KEY, "build", key) for key in ("privileged", "no_cache", "pull")),
    *(("networks", _ANY_KEY, key) for key in ("external", "internal", "attachable", "enable_ipv4", "enable_ipv6")),
    *((kind, _ANY_KEY, "external") for kind in ("volumes", "secrets", "configs")),
)
_BOOLEAN_WORDS = {
    **dict.fromkeys(("true", "yes", "y", "on"), True),
    **dict.fromkeys(("false", "no", "n", "off"), False),
}


def cast_booleans(located: Located) -> Located:
    """The boolean fields as Compose reads them: "yes", "off", "true" ... become True/False.
    Changes the value in place (a fresh one from the loader and interpolation)."""
    for pattern in _BOOLEAN_FIELDS:
        _cast_at(located.value, pattern)
    return located


def _cast_at(value: Any, pattern: Path) -> None:
    head, rest = pattern[0], pattern[1:]
    if head == _ANY_ITEM:
        keys: list[Any] = list(range(len(value))) if isinstance(value, list) else []
    elif not isinstance(value, dict):
        return
    else:
        keys = list(value) if head == _ANY_KEY else [head] if head in value else []
    for key in keys:
        if rest:
            _cast_at(value[key], rest)
        elif isinstance(value[key], str):
            word = _BOOLEAN_WORDS.get(value[key].strip().lower())
            if word is not None:
                value[key] = word


# Normalisation: one notation per attribute, so that files written differently merge


_MAPPING_LISTS = ("environment", "labels", "annotations")
_STRING_OR_LIST = ("dns", "dns_search", "dns_opt", "env_file", "tmpfs")
DEPENDS_DEFAULTS = {"condition": "service_started", "required": True}


def normalize_service(service: Located) -> Located:
    if not isinstance(service.value, dict):
        return service
    own, groups = group(service.origins)
    value = dict(service.value)
    for key in list(value):
        item = value[key]
        sub = groups.get(key, {})
        if key in _MAPPING_LISTS:
            value[key], groups[key] = _key_value_mapping(item, sub)
        elif key == "depends_on":
            value[key], groups[key] = _depends_on(item, sub)
        elif key == "networks" and isinstance(item, list):
            value[key], groups[key] = _names_to_mapping(item, sub, lambda _name: None)
        elif key == "build" and isinstance(item, str):
            value[key] = {"context": item}
            groups[key] = {**sub, ("context",): sub[()]} if () in sub else sub
        elif key in _STRING_OR_LIST and isinstance(item, str):
            value[key] = [item]
            groups[key] = {**sub, (0,): sub[()]} if () in sub else sub
    return Located(value, ungroup(own, groups))


def _key_value_mapping(item: Any, origins: Origins) -> tuple[Any, Origins]:
    """`[A=1, B]` or `{A: 1, B: null}` -> {"A": "1", "B": None}; each name keeps its line."""
    own, groups = group(origins)
    result: dict[str, Any] = {}
    new_groups: dict[Any, Origins] = {}
    if isinstance(item, list):
        for index, entry in enumerate(item):
            if not isinstance(entry, str):
                continue
            name, sep, text = entry.partition("=")
            name = name.strip()
            result[name] = text if sep else None
            new_groups[name] = groups.get(index, {})
        return result, ungroup(own, new_groups)
    if isinstance(item, dict):
        for name, text in item.items():
            result[str(name)] = _as_text(text)
            new_groups[str(name)] = groups.get(name, {})
        return result, ungroup(own, new_groups)
    return item, origins


def _as_text(value: Any) -> Any:
    """Compose stringifies environment values: true -> "true", 5 -> "5"."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _depends_on(item: Any, origins: Origins) -> tuple[Any, Origins]:
    if isinstance(item, list):
        return _names_to_mapping(item, origins, lambda _name: dict(DEPENDS_DEFAULTS))
    if isinstance(item, dict):
        result = {}
        for name, entry in item.items():
            result[str(name)] = {**DEPENDS_DEFAULTS, **entry} if isinstance(entry, dict) else dict(DEPENDS_DEFAULTS)
        own, groups = group(origins)
        return result, ungroup(own, {str(k): v for k, v in groups.items()})
    return item, origins


def _names_to_mapping(item: list[Any], origins: Origins, default: Callable[[str], Any]) -> tuple[Any, Origins]:
    own, groups = group(origins)
    result: dict[str, Any] = {}
    new_groups: dict[Any, Origins] = {}
    for index, name in enumerate(item):
        if isinstance(name, (str, int)) and not isinstance(name, bool):
            result[str(name)] = default(str(name))
            new_groups[str(name)] = groups.get(index, {})
    return result, ungroup(own, new_groups)


# Merging


_REPLACED = frozenset({("command",), ("entrypoint",), ("healthcheck", "test")})
_UNIQUE: dict[Path, Callable[[Any], Any]] = {
    ("ports",): syntax.port_key,
    ("volumes",): syntax.volume_key,
    ("secrets",): syntax.mount_key("/run/secrets"),
    ("configs",): syntax.mount_key(""),
    ("expose",): syntax.expose_key,
}


def _service_path(path: Path) -> Path | None:
    """The part of a model path inside a service: ("services", "web", "ports") -> ("ports",)."""
    if len(path) >= 2 and path[0] == "services":
        return path[2:]
    return None


def merge(base: Located, over: Located, path: Path = ()) -> Located:
    """`over` applied onto `base`, both at model path `path` (Compose's override semantics)."""
    in_service = _service_path(path)
    if in_service in _REPLACED:
        return over
    if over.value is None:
        return base
    b, o = base.value, over.value
    if isinstance(b, dict) and isinstance(o, dict):
        if in_service == ("logging",) and _drivers_differ(b, o):
            return over
        if in_service is not None and len(in_service) == 2 and in_service[0] == "ulimits":
            return over
        return _merge_mappings(base, over, path)
    if isinstance(b, list) and isinstance(o, list):
        key = _UNIQUE.get(in_service) if in_service is not None else None
        return _append(base, over, key)
    return over


def _drivers_differ(base: dict[str, Any], over: dict[str, Any]) -> bool:
    return "driver" in base and "driver" in over and base["driver"] != over["driver"]


def _merge_mappings(base: Located, over: Located, path: Path) -> Located:
    own, groups = group(base.origins)
    _, over_groups = group(over.origins)
    value = dict(base.value)
    for key, item in over.value.items():
        sub = over_groups.get(key, {})
        tag = sub[()].tag if () in sub else None
        if tag == "!reset":
            value.pop(key, None)
            groups.pop(key, None)
            continue
        if key not in value or tag == "!override":
            value[key] = item
            groups[key] = sub
            continue
        merged = merge(Located(value[key], groups.get(key, {})), Located(item, sub), (*path, key))
        value[key] = merged.value
        groups[key] = merged.origins
    return Located(value, ungroup(own if own is not None else over.origin, groups))


def _append(base: Located, over: Located, unique: Callable[[Any], Any] | None) -> Located:
    own, base_groups = group(base.origins)
    _, over_groups = group(over.origins)
    entries = [(item, base_groups.get(i, {})) for i, item in enumerate(base.value)]
    entries += [(item, over_groups.get(i, {})) for i, item in enumerate(over.value)]
    values: list[Any] = []
    groups: dict[Any, Origins] = {}
    seen: dict[Any, int] = {}
    for item, origins in entries:
        if unique is not None:
            key = unique(item)  # always hashable: a string or a tuple of scalars
            index = seen.get(key)
            if index is not None:
                values[index] = item
                groups[index] = origins
                continue
            seen[key] = len(values)
        groups[len(values)] = origins
        values.append(item)
    return Located(values, ungroup(own if own is not None else over.origin, groups))


def with_own_origin(located: Located, origin: Origin | None) -> Located:
    origins = dict(located.origins)
    if origin is not None:
        origins[()] = origin
    return Located(located.value, origins)
