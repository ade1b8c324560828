"""Whether a compose service's container will run a healthcheck: the one answer every rule uses.

Where the answer comes from, first match wins:
1. the compose file: a `healthcheck` with a test, or one disabled (`disable: true`, `NONE`);
   one with only timings takes its test from the image;
2. the image built for the service (`build:`), read from its Dockerfile (infralint/images/built.py);
3. for an `image:` without `build:`, the Dockerfile another service of the scan builds that
   image from (a service with both `build:` and `image:` names the image it builds);
4. the images infralint knows (known.yaml).
Anything else is unknown, and an unknown image is never said to have no healthcheck.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infralint.graph.model import Graph, Node
from infralint.images.known import lookup, parse_reference
from infralint.source import Span

_INDEX = "images.built"  # graph.indexes key: image repository -> the build facts that make it


@dataclass(frozen=True)
class Health:
    has: bool | None  # True: it runs one; False: it runs none; None: the scan cannot tell
    disabled: bool  # turned off on purpose (compose `disable`/`NONE`, or `HEALTHCHECK NONE`)
    why: str  # "has no healthcheck (none in the compose file, and its image postgres:16 declares none)"
    path: tuple[Any, ...] = ()  # the service attribute that decides it, when the compose file does
    span: Span | None = None  # the Dockerfile line that decides it, when one does
    related: tuple[tuple[Span, str], ...] = ()  # where the image side was read


def health(graph: Graph, service: Node) -> Health:
    check = service.facts.get("healthcheck") or {}
    if check.get("disabled"):
        return Health(False, True, "has its healthcheck disabled", tuple(check.get("path") or ("healthcheck",)))
    if check.get("test"):
        return Health(True, False, "has a healthcheck", tuple(check.get("path") or ()))
    build = service.facts.get("image_build")
    if isinstance(build, dict):
        return _from_build(build, "its Dockerfile")
    if service.facts.get("build"):
        return Health(None, False, "is built from a Dockerfile the scan cannot read")
    image = service.facts.get("image")
    built_elsewhere = _built_elsewhere(graph, image)
    if built_elsewhere is not None:
        return _from_build(built_elsewhere, f"the Dockerfile that builds {image}")
    known = lookup(image)
    if known is not None and known.healthcheck is not None:
        if known.healthcheck:
            return Health(True, False, f"has the healthcheck its image {image} declares")
        return Health(
            False, False, f"has no healthcheck (none in the compose file, and its image {image} declares none)"
        )
    return Health(None, False, f"runs {image or 'an image'} that infralint does not know")


def lacks_healthcheck(graph: Graph, service: Node) -> Health | None:
    """The service's health when it is known to run no healthcheck; None when it runs one or
    when the scan cannot tell."""
    found = health(graph, service)
    return found if found.has is False else None


def has_healthcheck(graph: Graph, service: Node) -> bool:
    return health(graph, service).has is True


def _from_build(build: dict[str, Any], what: str) -> Health:
    check = build.get("healthcheck") or {}
    file = build.get("dockerfile")
    named = f"{what} {file}" if file else "its dockerfile_inline"
    if check.get("line") is not None and file:
        at = Span(str(file), int(check["line"]))
        if check.get("disabled"):
            return Health(False, True, f"has its healthcheck disabled by HEALTHCHECK NONE in {named}", span=at)
        return Health(
            True, False, f"has the HEALTHCHECK {named} declares", related=((at, "HEALTHCHECK declared here"),)
        )
    if check.get("line") is not None:
        disabled = bool(check.get("disabled"))
        why = f"has its healthcheck disabled by HEALTHCHECK NONE in {named}" if disabled else "has a healthcheck"
        return Health(not disabled, disabled, why)
    stage = (Span(str(file), int(build["line"])), "the image is built from this stage") if file else None
    related = (stage,) if stage else ()
    base = check.get("image")
    if check.get("has") is False:
        inherited = f" or its base image {base}" if base and base.lower() != "scratch" else ""
        why = f"has no healthcheck (none in the compose file, nor in {named}{inherited})"
        return Health(False, False, why, related=related)
    if check.get("has") is True:
        return Health(True, False, f"has the healthcheck its base image {base} declares", related=related)
    return Health(None, False, f"is built on {base or 'an image'}, which infralint does not know", related=related)


def _built_elsewhere(graph: Graph, image: Any) -> dict[str, Any] | None:
    """The build facts of the one Dockerfile the scan builds IMAGE from (matched by repository:
    the tags of one repository come from one Dockerfile); None when none does, or when several
    disagree."""
    reference = parse_reference(image) if isinstance(image, str) else None
    if reference is None:
        return None
    index = graph.indexes.get(_INDEX)
    if index is None:
        index = _index(graph)
        graph.indexes[_INDEX] = index
    found: dict[str, Any] | None = index.get(reference.repository)
    return found


def _index(graph: Graph) -> dict[str, dict[str, Any] | None]:
    index: dict[str, dict[str, Any] | None] = {}
    for service in graph.of_kind("compose/service"):
        build = service.facts.get("image_build")
        reference = parse_reference(service.facts.get("image") or "")
        if not isinstance(build, dict) or reference is None:
            continue
        key = reference.repository
        if key in index and index[key] is not None and _verdict(index[key]) != _verdict(build):
            index[key] = None  # two Dockerfiles that disagree: the scan cannot tell which is deployed
        elif key not in index:
            index[key] = build
    return index


def _verdict(build: dict[str, Any] | None) -> tuple[Any, ...]:
    check = (build or {}).get("healthcheck") or {}
    return (check.get("has"), check.get("disabled"))
