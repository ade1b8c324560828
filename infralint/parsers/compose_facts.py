"""Facts of a Compose service: its effective attributes read once into plain shapes, each with
the attribute path it came from, for rules and for the cross-format graph.

Every fact that names a place carries `path`, an attribute path of the service node, so a rule
or a linker can point a finding (or a related location) at the exact line.
"""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Callable
from typing import Any

from infralint import discover
from infralint.images import built as built_images
from infralint.images import known as known_images
from infralint.images import waits as image_waits
from infralint.parsers import compose_syntax as syntax
from infralint.parsers.compose_model import Located, Origin
from infralint.units import UNLIMITED, compose_bytes


def path_key(path: tuple[Any, ...]) -> str:
    """A JSON-friendly, unambiguous key for an attribute path (facts are JSON-like data)."""
    return json.dumps(list(path))


class FactContext:
    """What computing facts needs from the project: the scan root, file texts, a safe reader."""

    def __init__(
        self,
        root: str,
        texts: dict[str, str],
        read: Callable[[str], str | None],
        folders: dict[str, str] | None = None,
    ) -> None:
        self.root = root
        self.texts = texts
        self.read = read  # absolute path -> text, or None (missing, outside the root, too big)
        # The folder relative paths of a file start from: the project directory for the files
        # of the project (an override in a subfolder included), else the file's own (extends).
        self.folders = folders or {}
        # Dockerfiles read for the images services build (path -> text): their comments can
        # suppress findings that point into them.
        self.dockerfiles: dict[str, str] = {}

    def folder_of(self, file: str) -> str:
        return self.folders.get(file, posixpath.dirname(file))

    def gitignored(self, relative: str) -> bool:
        return discover.gitignored(self.root, relative)


def service_facts(name: str, service: Located, project: dict[str, Any], context: FactContext) -> dict[str, Any]:
    attrs = service.value
    origins = service.origins
    facts: dict[str, Any] = {
        "project": project["id"],
        "project_name": project["name"],
        "service": name,
        "name": name,
        "object": f"service '{name}'",
        "files": sorted({o.file for o in origins.values()}),
        "container_name": _text(attrs.get("container_name")),
        "restart": _text(attrs.get("restart")),
        "restart_policy": _restart_policy(attrs),
        "network_mode": _text(attrs.get("network_mode")),
        "replicas": _replicas(attrs),
        "command": syntax.command_list(attrs.get("command")),
        "entrypoint": syntax.command_list(attrs.get("entrypoint")),
        "build": isinstance(attrs.get("build"), dict),
        "profiles": [str(p) for p in _list(attrs.get("profiles"))],
    }
    facts.update(_image_facts(attrs))
    facts["ports"] = _ports(attrs, origins, context)
    facts["expose"] = _expose(attrs)
    facts["networks"] = _networks(attrs)
    facts["dns_names"] = _dns_names(name, attrs, facts["networks"])
    facts.update(_memory(attrs))
    facts["depends_on"], facts["depends_on_paths"] = _depends_on(attrs)
    facts["depends_on_stated"] = _stated_conditions(origins)
    facts["bind_mounts"], facts["volume_mounts"] = _mounts(attrs, origins, context)
    facts["environment"] = _environment(attrs, origins)
    facts["image_build"] = _image_build(attrs, origins, context)
    facts["healthcheck"] = _healthcheck(attrs, facts)
    facts["start_waits"] = image_waits.start_waits(facts, context.root, context.read)
    facts["secrets"] = _names(attrs, "secrets")
    facts["configs"] = _names(attrs, "configs")
    facts["interpolated"] = {
        path_key(path): {"raw": o.raw, "references": o.references, "missing": o.missing}
        for path, o in origins.items()
        if o.raw is not None
    }
    return facts


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value.strip())
    return None


def _restart_policy(attrs: dict[str, Any]) -> str | None:
    policy = _dict(attrs.get("deploy")).get("restart_policy")
    if not isinstance(policy, dict):
        return None
    return _text(policy.get("condition")) or "any"


def _replicas(attrs: dict[str, Any]) -> int:
    replicas = _int(_dict(attrs.get("deploy")).get("replicas"))
    if replicas is None:
        replicas = _int(attrs.get("scale"))
    return 1 if replicas is None else replicas


def _image_facts(attrs: dict[str, Any]) -> dict[str, Any]:
    image = attrs.get("image")
    if not isinstance(image, str) or not image.strip():
        return {"image": None, "image_name": None, "image_tag": None, "image_digest": None}
    parsed = syntax.parse_image(image)
    return {"image": image, "image_name": parsed.name, "image_tag": parsed.tag, "image_digest": parsed.digest}


def _ports(attrs: dict[str, Any], origins: dict[tuple[Any, ...], Origin], context: FactContext) -> list[dict[str, Any]]:
    ports = []
    for index, item in enumerate(_list(attrs.get("ports"))):
        port = syntax.parse_port(item)
        if port is None:
            continue
        ports.append({**port.as_fact(), "path": ("ports", index), "all_interfaces": _all_interfaces(port)})
    return ports


def _all_interfaces(port: syntax.Port) -> bool:
    return (port.host_ip or "") in syntax.ALL_INTERFACES


def _expose(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    exposed = []
    for index, item in enumerate(_list(attrs.get("expose"))):
        entry = syntax.parse_expose(item)
        if entry is not None:
            exposed.append({**entry, "path": ("expose", index)})
    return exposed


def _networks(attrs: dict[str, Any]) -> dict[str, Any]:
    networks = attrs.get("networks")
    if not isinstance(networks, dict) or not networks:
        if attrs.get("network_mode") is not None:
            return {}
        return {"default": {"aliases": [], "path": None}}
    result = {}
    for name, entry in networks.items():
        entry = _dict(entry)
        aliases = [str(a) for a in _list(entry.get("aliases"))]
        result[str(name)] = {
            "aliases": aliases,
            "ipv4_address": _text(entry.get("ipv4_address")),
            "path": ("networks", name),
        }
    return result


def _dns_names(name: str, attrs: dict[str, Any], networks: dict[str, Any]) -> list[str]:
    """Names other containers of the project reach this service by: the service name, its
    container_name and its network aliases (per network in `networks`)."""
    names = {name}
    container_name = _text(attrs.get("container_name"))
    if container_name:
        names.add(container_name)
    for entry in networks.values():
        names.update(entry["aliases"])
    return sorted(names)


def _memory(attrs: dict[str, Any]) -> dict[str, Any]:
    """The memory limit in bytes; deploy.resources.limits.memory wins over mem_limit."""
    candidates = (
        ("deploy", "resources", "limits", "memory"),
        ("mem_limit",),
    )
    for path in candidates:
        value: Any = attrs
        for key in path:
            value = _dict(value).get(key) if isinstance(value, dict) else None
        if value is None:
            continue
        amount = compose_bytes(value)
        unlimited = amount == UNLIMITED or amount == 0
        return {
            "memory_limit": None if amount is None or unlimited else amount,
            "memory_limit_path": path,
            "memory_limit_raw": str(value),
            "memory_unlimited": unlimited,
        }
    return {"memory_limit": None, "memory_limit_path": None, "memory_limit_raw": None, "memory_unlimited": False}


def _depends_on(attrs: dict[str, Any]) -> tuple[dict[str, str], dict[str, tuple[Any, ...]]]:
    conditions = {}
    paths = {}
    for name, entry in _dict(attrs.get("depends_on")).items():
        entry = _dict(entry)
        conditions[str(name)] = str(entry.get("condition") or "service_started")
        paths[str(name)] = ("depends_on", name)
    return conditions, paths


def _stated_conditions(origins: dict[tuple[Any, ...], Origin]) -> list[str]:
    """Dependencies whose `condition` is written out: a decision, where the short form or an
    omitted condition may be an oversight."""
    return sorted(
        str(path[1]) for path in origins if len(path) == 3 and path[0] == "depends_on" and path[2] == "condition"
    )


def _mounts(
    attrs: dict[str, Any], origins: dict[tuple[Any, ...], Origin], context: FactContext
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    binds = []
    volumes = []
    for index, item in enumerate(_list(attrs.get("volumes"))):
        mount = syntax.parse_volume(item)
        if mount is None:
            continue
        path = ("volumes", index)
        origin = origins.get(path)
        if mount.type == "bind" and mount.source:
            binds.append({**_bind_source(mount.source, origin, origins, path, context), **_mount_common(mount, path)})
            binds[-1]["create_host_path"] = mount.create_host_path
            # Ignored by Git: provisioned on the host, never meant to be in the repository.
            binds[-1]["gitignored"] = binds[-1]["exists"] is False and context.gitignored(binds[-1]["source"])
        elif mount.type == "volume":
            volumes.append({"source": mount.source, **_mount_common(mount, path)})
    return binds, volumes


def _mount_common(mount: syntax.Mount, path: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "target": mount.target,
        "read_only": mount.read_only,
        "path": path,
        # Where the source is written: the `source:` key of the long syntax, else the item.
        "source_path": (*path, "source") if mount.long_syntax else path,
        "long_syntax": mount.long_syntax,
    }


def _bind_source(
    source: str,
    origin: Origin | None,
    origins: dict[tuple[Any, ...], Origin],
    path: tuple[Any, ...],
    context: FactContext,
) -> dict[str, Any]:
    """Where a bind mount's source is: relative to the scan root (posix) when it is inside it.

    Relative sources are resolved against the folder of the file that wrote them (an extended
    service from another file keeps its own folder, as Compose does)."""
    written = origin.raw if origin is not None and origin.raw is not None else source
    unresolved = any(o.missing for p, o in origins.items() if p[: len(path)] == path)
    info: dict[str, Any] = {"raw_source": written, "unresolved": unresolved}
    normalized = source.replace("\\", "/")
    if normalized.startswith("~") or (len(normalized) > 1 and normalized[1] == ":"):
        return {**info, "source": source, "inside_root": False, "exists": None}
    if normalized.startswith("/"):
        host = posixpath.normpath("/" + normalized.lstrip("/"))
        root = context.root.replace(os.sep, "/").rstrip("/")
        if host == root or host.startswith(root + "/"):
            relative = posixpath.relpath(host, root)
            return {**info, "source": relative, "inside_root": True, "exists": _exists(context, relative)}
        return {**info, "source": host, "inside_root": False, "exists": None}
    folder = context.folder_of(origin.file) if origin is not None else ""
    relative = posixpath.normpath(posixpath.join(folder, normalized))
    if relative == ".." or relative.startswith("../"):
        return {**info, "source": relative, "inside_root": False, "exists": None}
    return {**info, "source": relative, "inside_root": True, "exists": _exists(context, relative)}


def _exists(context: FactContext, relative: str) -> bool:
    return os.path.lexists(os.path.join(context.root, *relative.split("/")))


def _environment(attrs: dict[str, Any], origins: dict[tuple[Any, ...], Origin]) -> dict[str, Any]:
    result = {}
    for name, value in _dict(attrs.get("environment")).items():
        path = ("environment", name)
        origin = origins.get(path)
        raw = origin.raw if origin is not None else None
        references = origin.references if origin is not None else 0
        result[str(name)] = {"value": value, "raw": raw, "literal": references == 0, "path": path}
    return result


def _names(attrs: dict[str, Any], field: str) -> list[dict[str, Any]]:
    """The secrets or configs a service mounts (short `- name` or long `- source: name`)."""
    names = []
    for index, entry in enumerate(_list(attrs.get(field))):
        source = entry if isinstance(entry, str) else _dict(entry).get("source")
        if isinstance(source, str):
            names.append({"name": source, "path": (field, index)})
    return names


def _healthcheck(attrs: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """The healthcheck the compose file gives the service, and what the image adds.

    `present`: the compose file defines one that is not disabled; `disabled`: it turns the
    check off; `test`: it writes the test (with only timings the test comes from the image);
    `in_image`/`has`: what the image built here or a known image says (True, False, or None
    when neither tells). Rules ask infralint/images/health.py, which also follows an image
    that another service of the scan builds."""
    check = attrs.get("healthcheck")
    in_image = _image_healthcheck(facts)
    if not isinstance(check, dict):
        return {
            "defined": False,
            "present": False,
            "disabled": False,
            "test": False,
            "in_image": in_image,
            "has": in_image,
            "path": None,
        }
    test = check.get("test")
    disabled = check.get("disable") is True or test == ["NONE"] or test == "NONE"
    has: bool | None = False if disabled else True if test is not None else in_image
    return {
        "defined": True,
        "present": not disabled,
        "disabled": disabled,
        "test": test is not None and not disabled,
        "in_image": in_image,
        "has": has,
        "path": ("healthcheck",),
    }


def _image_healthcheck(facts: dict[str, Any]) -> bool | None:
    build = facts.get("image_build")
    if isinstance(build, dict):
        found: bool | None = (build.get("healthcheck") or {}).get("has")
        return found
    if facts.get("build"):
        return None  # built from a Dockerfile the scan cannot read
    known = known_images.lookup(facts.get("image"))
    return known.healthcheck if known is not None else None


def _image_build(
    attrs: dict[str, Any], origins: dict[tuple[Any, ...], Origin], context: FactContext
) -> dict[str, Any] | None:
    """What the image `build:` makes, read from its Dockerfile (infralint/images/built.py);
    None without `build:`, or when the Dockerfile is not in the scan."""
    build = attrs.get("build")
    if not isinstance(build, dict):
        return None
    target = build.get("target") if isinstance(build.get("target"), str) else None
    args = {str(k): str(v) for k, v in _dict(build.get("args")).items() if v is not None}
    build_context = build.get("context", ".")
    origin = origins.get(("build", "context")) or origins.get(("build",))
    folder = context.folder_of(origin.file) if origin is not None else ""
    local = isinstance(build_context, str) and "://" not in build_context and not build_context.startswith("git@")
    context_path = posixpath.normpath(posixpath.join(folder, build_context)) if local else None
    if context_path is not None and (context_path == ".." or context_path.startswith("../")):
        context_path = None  # outside the scan root
    inline = build.get("dockerfile_inline")
    if isinstance(inline, str):
        return built_images.describe(inline, None, context_path, target, args)
    dockerfile = build.get("dockerfile", "Dockerfile")
    if context_path is None or not isinstance(dockerfile, str) or "$" in dockerfile:
        return None
    if dockerfile.startswith("/"):
        relative = posixpath.normpath(dockerfile.lstrip("/"))
        text = None  # an absolute path on the build host: not the scan's file
    else:
        relative = posixpath.normpath(posixpath.join(context_path, dockerfile))
        text = context.read(os.path.join(context.root, *relative.split("/")))
    if text is None:
        return None
    context.dockerfiles[relative] = text
    return built_images.describe(text, relative, context_path, target, args)
