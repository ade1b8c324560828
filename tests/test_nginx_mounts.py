"""Compose mounts seen from an nginx config's folder: where an include of a container path is."""

from __future__ import annotations

from pathlib import Path

from infralint.parsers.nginx_mounts import Mount, covering, mounts_above


def _mounts(tmp_path: Path, compose: str, env: str = "") -> list[Mount]:
    (tmp_path / "deploy" / "nginx").mkdir(parents=True)
    (tmp_path / "deploy" / "docker-compose.dev.yml").write_text(compose, encoding="utf-8")
    if env:
        (tmp_path / "deploy" / ".env").write_text(env, encoding="utf-8")
    return mounts_above(str(tmp_path / "deploy" / "nginx"), str(tmp_path))


def test_sources_known_and_unknown(tmp_path: Path) -> None:
    compose = """\
services:
  web:
    volumes:
      - "${SRC}:/srv/src:z"
      - "${WITH_DEFAULT:-../app}:/srv/app"
      - "${FROM_ENV}:/srv/env:ro"
      - "${REQUIRED:?set it}:/srv/required"
      - "cache:/var/cache/nginx"
      - "/var/log/nginx"
      - type: bind
        source: ./snippets
        target: /etc/nginx/snippets
      - type: tmpfs
        target: /tmp
volumes:
  cache: {}
"""
    found = {m.target: m.source for m in _mounts(tmp_path, compose, env="FROM_ENV=./conf\n")}
    deploy = tmp_path / "deploy"
    assert found == {
        "/srv/src": None,
        "/srv/app": str(tmp_path / "app"),
        "/srv/env": str(deploy / "conf"),
        "/srv/required": None,
        "/var/cache/nginx": None,
        "/var/log/nginx": None,
        "/etc/nginx/snippets": str(deploy / "snippets"),
    }


def test_the_deepest_mount_holds_the_path() -> None:
    mounts = [Mount("/srv", "/host/srv"), Mount("/srv/app", None)]
    assert covering(mounts, "/srv/app/conf/x.conf") == (mounts[1], "conf/x.conf")
    assert covering(mounts, "/srv/other.conf") == (mounts[0], "other.conf")
    assert covering(mounts, "/srvx/a.conf") is None
