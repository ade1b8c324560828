"""Compose notations: every port form, volume form and image reference."""

from __future__ import annotations

from typing import Any

import pytest

from infralint.parsers.compose_syntax import command_list, parse_expose, parse_image, parse_port, parse_volume


def _port(item: Any) -> tuple[Any, ...] | None:
    port = parse_port(item)
    if port is None:
        return None
    return (port.host_ip, port.published, port.published_end, port.target, port.target_end, port.protocol)


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("80", (None, None, None, 80, 80, "tcp")),
        (80, (None, None, None, 80, 80, "tcp")),
        ("8080:80", (None, 8080, 8080, 80, 80, "tcp")),
        ("127.0.0.1:8080:80", ("127.0.0.1", 8080, 8080, 80, 80, "tcp")),
        ("127.0.0.1::80", ("127.0.0.1", None, None, 80, 80, "tcp")),
        ("[::1]:8080:80", ("::1", 8080, 8080, 80, 80, "tcp")),
        ("::1:8080:80", ("::1", 8080, 8080, 80, 80, "tcp")),
        ("8080-8081:80-81", (None, 8080, 8081, 80, 81, "tcp")),
        ("9000-9010:9000", (None, 9000, 9010, 9000, 9000, "tcp")),
        ("80/udp", (None, None, None, 80, 80, "udp")),
        ("0.0.0.0:53:53/UDP", ("0.0.0.0", 53, 53, 53, 53, "udp")),
        ("6060:6060/sctp", (None, 6060, 6060, 6060, 6060, "sctp")),
        (
            {"target": 80, "published": "8080", "host_ip": "127.0.0.1", "protocol": "udp", "mode": "host"},
            ("127.0.0.1", 8080, 8080, 80, 80, "udp"),
        ),
        ({"target": 80, "published": 8080}, (None, 8080, 8080, 80, 80, "tcp")),
        ({"target": 80, "published": "8080-8081"}, (None, 8080, 8081, 80, 80, "tcp")),
        ({"target": 80}, (None, None, None, 80, 80, "tcp")),
        ("a:b", None),
        ("70000", None),
        ("90-80:80", None),
        ({"published": 80}, None),
        (True, None),
        (None, None),
    ],
)
def test_ports(item: Any, expected: tuple[Any, ...] | None) -> None:
    assert _port(item) == expected


def test_port_mode() -> None:
    port = parse_port({"target": 80, "published": 80, "mode": "host"})
    assert port is not None and port.mode == "host"


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("./data:/data", ("bind", "./data", "/data", False)),
        ("./conf/app.yml:/etc/app.yml:ro", ("bind", "./conf/app.yml", "/etc/app.yml", True)),
        (
            "/var/run/docker.sock:/var/run/docker.sock:ro,z",
            ("bind", "/var/run/docker.sock", "/var/run/docker.sock", True),
        ),
        ("~/.ssh:/root/.ssh", ("bind", "~/.ssh", "/root/.ssh", False)),
        ("../shared:/shared:rw", ("bind", "../shared", "/shared", False)),
        ("C:\\data:/data", ("bind", "C:\\data", "/data", False)),
        ("db-data:/var/lib/postgresql/data", ("volume", "db-data", "/var/lib/postgresql/data", False)),
        ("/anonymous", ("volume", None, "/anonymous", False)),
        (
            {"type": "bind", "source": "./x", "target": "/x", "read_only": True},
            ("bind", "./x", "/x", True),
        ),
        ({"type": "volume", "source": "cache", "target": "/cache"}, ("volume", "cache", "/cache", False)),
        ({"type": "tmpfs", "target": "/tmp"}, ("tmpfs", None, "/tmp", False)),
        ({"source": "./implicit", "target": "/i"}, ("bind", "./implicit", "/i", False)),
    ],
)
def test_volumes(item: Any, expected: tuple[Any, ...]) -> None:
    mount = parse_volume(item)
    assert mount is not None
    assert (mount.type, mount.source, mount.target, mount.read_only) == expected


def test_volume_create_host_path() -> None:
    mount = parse_volume({"type": "bind", "source": "./x", "target": "/x", "bind": {"create_host_path": False}})
    assert mount is not None and mount.create_host_path is False
    assert parse_volume("a:b:c:d") is None
    assert parse_volume(5) is None


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("redis", ("redis", None, None)),
        ("redis:7.4", ("redis", "7.4", None)),
        ("library/redis:latest", ("library/redis", "latest", None)),
        ("localhost:5000/app", ("localhost:5000/app", None, None)),
        ("localhost:5000/app:1.0", ("localhost:5000/app", "1.0", None)),
        ("ghcr.io/org/app:1.2@sha256:abc", ("ghcr.io/org/app", "1.2", "sha256:abc")),
        ("app@sha256:abc", ("app", None, "sha256:abc")),
    ],
)
def test_images(reference: str, expected: tuple[Any, ...]) -> None:
    image = parse_image(reference)
    assert (image.name, image.tag, image.digest) == expected


def test_image_short_name() -> None:
    assert parse_image("docker.io/bitnami/redis:7").short_name == "redis"


def test_expose() -> None:
    assert parse_expose("3000") == {"port": 3000, "end": 3000, "protocol": "tcp"}
    assert parse_expose(3000) == {"port": 3000, "end": 3000, "protocol": "tcp"}
    assert parse_expose("5000-5002/udp") == {"port": 5000, "end": 5002, "protocol": "udp"}
    assert parse_expose("x") is None


def test_commands() -> None:
    assert command_list('sh -c "echo hi && sleep 1"') == ["sh", "-c", "echo hi && sleep 1"]
    assert command_list(["run", 5]) == ["run", "5"]
    assert command_list('unbalanced "quote') == ["unbalanced", '"quote']
    assert command_list(None) is None
