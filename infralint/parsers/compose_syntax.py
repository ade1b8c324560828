"""Compose's short and long notations, read into one shape each (pure functions, no I/O).

Ports: "80", "8080:80", "127.0.0.1:8080:80", "[::1]:8080:80", "8080-8081:80-81", "80/udp",
or {target, published, host_ip, protocol, mode}. Volumes: "src:dst:ro", "dst", or
{type, source, target, read_only, bind: {create_host_path}}. Images: [registry/]name[:tag][@digest].
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

_PORT_RANGE = re.compile(r"(\d{1,5})(?:-(\d{1,5}))?")
_DRIVE = re.compile(r"^[A-Za-z]$")
ALL_INTERFACES = frozenset({"", "0.0.0.0", "::", "[::]"})


@dataclass
class Port:
    target: int
    target_end: int
    published: int | None  # None: Docker picks a free host port
    published_end: int | None
    host_ip: str | None
    protocol: str
    mode: str | None = None

    def as_fact(self) -> dict[str, Any]:
        return {
            "host_ip": self.host_ip,
            "published": self.published,
            "published_end": self.published_end,
            "target": self.target,
            "target_end": self.target_end,
            "protocol": self.protocol,
            "mode": self.mode,
        }


def _port_range(text: str) -> tuple[int, int] | None:
    match = _PORT_RANGE.fullmatch(text.strip())
    if match is None:
        return None
    start = int(match.group(1))
    end = int(match.group(2)) if match.group(2) else start
    if not (0 <= start <= end <= 65535):
        return None
    return start, end


def parse_port(item: Any) -> Port | None:
    """One `ports:` entry in either notation; None when it cannot be read."""
    if isinstance(item, bool):
        return None
    if isinstance(item, int):
        return Port(item, item, None, None, None, "tcp") if 0 < item <= 65535 else None
    if isinstance(item, dict):
        return _long_port(item)
    if isinstance(item, str):
        return _short_port(item)
    return None


def _short_port(text: str) -> Port | None:
    text = text.strip()
    protocol = "tcp"
    if "/" in text:
        text, protocol = text.rsplit("/", 1)
        protocol = protocol.lower() or "tcp"
    host_ip: str | None = None
    if text.startswith("["):  # [::1]:8080:80
        close = text.find("]")
        if close == -1 or text[close + 1 : close + 2] != ":":
            return None
        host_ip = text[1:close]
        text = text[close + 2 :]
    parts = text.split(":")
    if len(parts) > 3 and host_ip is None:  # an unbracketed IPv6 address
        host_ip = ":".join(parts[:-2])
        parts = parts[-2:]
    if len(parts) == 3:
        if host_ip is not None:
            return None
        host_ip, published_text, target_text = parts
    elif len(parts) == 2:
        published_text, target_text = parts
    elif len(parts) == 1:
        published_text, target_text = "", parts[0]
    else:
        return None
    target = _port_range(target_text)
    if target is None:
        return None
    published = _port_range(published_text) if published_text else None
    if published_text and published is None:
        return None
    return Port(
        target[0],
        target[1],
        published[0] if published else None,
        published[1] if published else None,
        host_ip,
        protocol,
    )


def _long_port(item: dict[str, Any]) -> Port | None:
    target = item.get("target")
    target_range = _port_range(str(target)) if isinstance(target, (int, str)) and not isinstance(target, bool) else None
    if target_range is None:
        return None
    published = item.get("published")
    published_range = None
    if isinstance(published, (int, str)) and not isinstance(published, bool) and str(published).strip():
        published_range = _port_range(str(published))
        if published_range is None:
            return None
    host_ip = item.get("host_ip")
    protocol = item.get("protocol")
    mode = item.get("mode")
    return Port(
        target_range[0],
        target_range[1],
        published_range[0] if published_range else None,
        published_range[1] if published_range else None,
        str(host_ip) if host_ip is not None else None,
        str(protocol).lower() if protocol else "tcp",
        str(mode) if mode is not None else None,
    )


def parse_expose(item: Any) -> dict[str, Any] | None:
    """An `expose:` entry: "3000", 3000, "3000-3005", "53/udp"."""
    if isinstance(item, bool) or not isinstance(item, (int, str)):
        return None
    text = str(item).strip()
    protocol = "tcp"
    if "/" in text:
        text, protocol = text.split("/", 1)
    found = _port_range(text)
    if found is None:
        return None
    return {"port": found[0], "end": found[1], "protocol": protocol.lower() or "tcp"}


def port_key(item: Any) -> Any:
    """What makes two `ports:` entries the same when files are merged."""
    port = parse_port(item)
    if port is None:
        return ("raw", repr(item))
    return (port.host_ip or "0.0.0.0", port.published, port.published_end, port.target, port.target_end, port.protocol)


@dataclass
class Mount:
    type: str  # bind, volume, tmpfs, npipe, image, cluster, or "" when unknown
    source: str | None
    target: str | None
    read_only: bool
    create_host_path: bool = True
    long_syntax: bool = False


def is_host_path(source: str) -> bool:
    """Compose's test for a bind mount in short syntax: a path, not a volume name."""
    if source.startswith((".", "/", "~", "\\")):
        return True
    return len(source) >= 2 and source[1] == ":" and _DRIVE.match(source[0]) is not None


def parse_volume(item: Any) -> Mount | None:
    if isinstance(item, dict):
        return _long_volume(item)
    if not isinstance(item, str):
        return None
    parts = item.split(":")
    # A Windows drive letter ("C:\data:/data") is part of the source, not a separator.
    if len(parts) >= 3 and _DRIVE.match(parts[0]) and parts[1][:1] in ("\\", "/"):
        parts = [parts[0] + ":" + parts[1], *parts[2:]]
    if len(parts) == 1:
        return Mount("volume", None, parts[0], False)
    if len(parts) > 3:
        return None
    source, target = parts[0], parts[1]
    options = parts[2].split(",") if len(parts) == 3 else []
    read_only = "ro" in options
    kind = "bind" if is_host_path(source) else ("volume" if source else "")
    return Mount(kind, source or None, target, read_only)


def _long_volume(item: dict[str, Any]) -> Mount:
    kind = item.get("type")
    source = item.get("source")
    target = item.get("target")
    bind = item.get("bind")
    create = bind.get("create_host_path", True) if isinstance(bind, dict) else True
    return Mount(
        str(kind) if kind else ("bind" if isinstance(source, str) and is_host_path(source) else "volume"),
        str(source) if source is not None else None,
        str(target) if target is not None else None,
        item.get("read_only") is True,
        create is not False,
        long_syntax=True,
    )


def volume_key(item: Any) -> Any:
    mount = parse_volume(item)
    return ("raw", repr(item)) if mount is None or mount.target is None else mount.target


def mount_key(default_folder: str) -> Any:
    """Secrets and configs are unique by the path they are mounted at."""

    def key(item: Any) -> Any:
        if isinstance(item, str):
            return f"{default_folder}/{item}"
        if isinstance(item, dict):
            target = item.get("target")
            if isinstance(target, str):
                return target if target.startswith("/") or not default_folder else f"{default_folder}/{target}"
            return f"{default_folder}/{item.get('source')}"
        return ("raw", repr(item))

    return key


def expose_key(item: Any) -> Any:
    return str(item)


@dataclass
class Image:
    name: str  # the repository, registry included: "ghcr.io/org/app"
    tag: str | None
    digest: str | None

    @property
    def short_name(self) -> str:
        """The last path component: "redis" for "docker.io/library/redis"."""
        return self.name.rsplit("/", 1)[-1]


def parse_image(reference: str) -> Image:
    reference = reference.strip()
    digest = None
    if "@" in reference:
        reference, digest = reference.split("@", 1)
    tag = None
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > slash:  # a colon before the last slash belongs to a registry port
        reference, tag = reference[:colon], reference[colon + 1 :]
    return Image(reference, tag, digest)


def command_list(value: Any) -> list[str] | None:
    """`command`/`entrypoint` as an argv list: lists stay, strings are split like a shell."""
    if value is None:
        return None
    if isinstance(value, list):
        return [str(part) for part in value]
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError:  # unbalanced quotes: compose rejects it; keep the words
            return value.split()
    return [str(value)]
