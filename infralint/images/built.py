"""The image a Dockerfile builds: its final stage and what that stage inherits.

The image is the target stage (compose `build.target`), else the last one. A stage inherits
from its base: an earlier stage it names in `FROM`, or an image. The nearest own `HEALTHCHECK`
and `USER` along that chain decide; `EXPOSE`, `VOLUME` and the files copied in from the build
context accumulate. A chain that ends in an image infralint knows (known.yaml) takes that
image's facts; one that ends in any other image leaves what it would have decided unknown.

The result is plain JSON-like data, kept in a compose service's facts (`image_build`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any

from infralint.images import dockerfile as syntax
from infralint.images.known import KnownImage
from infralint.images.known import lookup as known_lookup

Lookup = Callable[[str], KnownImage | None]
MAX_STAGES = 256  # a chain longer than any real build: the walk stops there


def describe(
    text: str,
    path: str | None,
    context: str | None,
    target: str | None = None,
    build_args: dict[str, str] | None = None,
    lookup: Lookup = known_lookup,
) -> dict[str, Any] | None:
    """Facts of the image TEXT builds. PATH: the Dockerfile relative to the scan root (None for
    an inline one); CONTEXT: the build context folder relative to the root (None when it is not
    a folder of the scan). None when the Dockerfile has no stage or no such target."""
    parsed = syntax.read(text, build_args)
    final = _final_stage(parsed, target)
    if final is None:
        return None
    chain, base = _chain(parsed, final)
    known = lookup(base) if base and base.lower() != "scratch" else None
    from_scratch = base is not None and base.lower() == "scratch"
    return {
        "dockerfile": path,
        "context": context,
        "stage": final.name,
        "line": final.line,
        "base": base,
        "base_known": known.source if known else None,
        "healthcheck": _healthcheck(chain, path, base, known, from_scratch),
        "user": _user(chain, path, base, known, from_scratch),
        "expose": [
            {"port": p.port, "end": p.end, "protocol": p.protocol, "line": p.line, "file": path}
            for stage in chain
            for p in stage.ports
        ],
        "expose_complete": (from_scratch or known is not None) and not any(s.unread_ports for s in chain),
        "volumes": [{"path": v, "line": line, "file": path} for stage in chain for v, line in stage.volumes],
        "copies": [_copy(copy, path, context) for stage in chain for copy in stage.copies if copy.from_stage is None],
        "start": _start(chain),
    }


def _final_stage(parsed: syntax.Dockerfile, target: str | None) -> syntax.Stage | None:
    if not parsed.stages:
        return None
    if target:
        return parsed.stage_named(target)
    return parsed.stages[-1]


def _chain(parsed: syntax.Dockerfile, final: syntax.Stage) -> tuple[list[syntax.Stage], str | None]:
    """The stages from FINAL up to the first one built on an image, and that image (None when
    it cannot be read: a variable without a value)."""
    chain = [final]
    stage = final
    while len(chain) < MAX_STAGES:
        parent = parsed.stage_named(stage.base, before=stage.index) if stage.base else None
        if parent is None:
            return chain, stage.base or None
        chain.append(parent)
        stage = parent
    return chain, None


def _healthcheck(
    chain: list[syntax.Stage], path: str | None, base: str | None, known: KnownImage | None, scratch: bool
) -> dict[str, Any]:
    for stage in chain:
        check = stage.healthcheck
        if check is not None:
            return {
                "has": not check.disabled,
                "disabled": check.disabled,
                "file": path,
                "line": check.line,
                "test": check.test,
                "image": None,
                "source": None,
            }
    has = False if scratch else (known.healthcheck if known is not None else None)
    return {
        "has": has,
        "disabled": False,
        "file": path,
        "line": None,
        "test": "",
        "image": base,
        "source": known.source if known is not None else None,
    }


def _user(
    chain: list[syntax.Stage], path: str | None, base: str | None, known: KnownImage | None, scratch: bool
) -> dict[str, Any] | None:
    """The user the image runs as; None when it comes from an image infralint does not know."""
    for stage in chain:
        if stage.user is not None:
            return {"value": stage.user[0], "file": path, "line": stage.user[1], "source": None}
    if scratch:
        return {"value": "root", "file": None, "line": None, "source": None}
    if known is not None:
        return {"value": known.user or "root", "file": None, "line": None, "source": known.source}
    return None


def _start(chain: list[syntax.Stage]) -> dict[str, Any] | None:
    """The ENTRYPOINT and CMD the image's own stages set (None for one they leave to the base
    image); None when they set neither. As in Docker, an ENTRYPOINT set in a stage drops the CMD
    its base set."""
    entrypoint = next(((i, s.entrypoint) for i, s in enumerate(chain) if s.entrypoint is not None), None)
    cmd = next(((i, s.cmd) for i, s in enumerate(chain) if s.cmd is not None), None)
    if entrypoint is not None and cmd is not None and cmd[0] > entrypoint[0]:
        cmd = None
    if entrypoint is None and cmd is None:
        return None  # it starts as its base image does, which is not read here
    return {
        "entrypoint": list(entrypoint[1].words) if entrypoint else None,
        "entrypoint_line": entrypoint[1].line if entrypoint else None,
        "cmd": list(cmd[1].words) if cmd else None,
        "cmd_line": cmd[1].line if cmd else None,
    }


def _copy(copy: syntax.Copy, path: str | None, context: str | None) -> dict[str, Any]:
    """A COPY/ADD from the build context, its sources as paths relative to the scan root."""
    sources = []
    for source in copy.sources:
        if "://" in source or source.startswith("git@") or context is None:
            continue  # a URL, or a context outside the scan: nothing in the scan is copied
        # Sources never leave the context: `../x` and `/x` both name `x` at its top, as BuildKit reads them.
        inside = posixpath.normpath("/" + source).lstrip("/")
        sources.append(posixpath.normpath(posixpath.join(context, inside)) if inside else context)
    return {"sources": sources, "destination": copy.destination, "line": copy.line, "file": path}
