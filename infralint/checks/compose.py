"""Python rules over Docker Compose services and projects.

Service attrs hold the effective, merged values (override files, `extends`, `x-` anchors and
interpolation applied); facts hold them read into plain shapes with the path each came from
(infralint/parsers/compose_facts.py). Rules about something missing skip a fragment's service
that the project file beside it also defines: that service is judged there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from infralint import secret_values
from infralint.checks import compose_project as projects
from infralint.checks.by_design import hit as by_design_hit
from infralint.checks.upstreams import health_cause, started_only_cause
from infralint.components import by_design
from infralint.findings import Related
from infralint.folding import STATED_CAUSE, listed
from infralint.graph import upstreams
from infralint.graph.model import Node
from infralint.images import health as images_health
from infralint.images import waits as image_waits
from infralint.images.defaults import runner_image
from infralint.parsers.compose_facts import path_key
from infralint.rules.meta import CheckFn, Hit, RuleContext
from infralint.shapes import as_dict as _dict
from infralint.shapes import as_list as _list
from infralint.source import Span


def _where(node: Node) -> str:
    return f"service '{node.facts['service']}'"


def _judged_for_absence(node: Node) -> bool:
    """Rules about a missing attribute judge complete container services only: not a fragment
    meant to be merged onto a definition elsewhere, not a provider service (run by a plugin),
    not a service scaled to 0 replicas."""
    facts = node.facts
    return not facts.get("fragment") and not facts.get("provider") and facts.get("replicas") != 0


def _interpolation(node: Node, path: tuple[Any, ...]) -> dict[str, Any] | None:
    found: dict[str, Any] | None = node.facts.get("interpolated", {}).get(path_key(path))
    return found


def _lookup(ctx: RuleContext, node: Node, name: str) -> Node | None:
    project = projects.project_of(ctx.graph, node)
    return projects.visible_services(ctx.graph, project).get(name) if project else None


# compose-no-healthcheck


def no_healthcheck(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """Depended on (to start, or to be healthy) or routed to by a proxy, without a healthcheck:
    dependents start early, and the proxy sends traffic before it can serve."""
    if not _judged_for_absence(node):
        return
    health = images_health.lacks_healthcheck(ctx.graph, node)
    if health is None:
        return  # it has one, or its image is unknown: never "has no healthcheck" on a guess
    waiting = [(other, condition) for other, condition in projects.dependents(ctx.graph, node)]
    waiting = [(other, condition) for other, condition in waiting if condition != "service_completed_successfully"]
    waiting, themselves = _waiting_for_themselves(node, waiting)
    routed = _routed_from(ctx, node)
    if not waiting and not routed:
        return
    state, at, span = health.why, health.path, health.span
    routed_related = tuple(
        Related(route.reference.span, f"{route.reference.software} routes to it here") for route in routed[:3]
    ) + tuple(Related(where, label) for where, label in health.related)
    if not waiting:
        where = ", ".join(sorted({f"{r.reference.span.path}:{r.reference.span.line}" for r in routed})[:3])
        proxies = " and ".join(sorted({r.reference.software for r in routed}))
        yield Hit(
            f"{_where(node)} {state}, yet {proxies} routes traffic to it ({where}): the proxy cannot wait "
            "for it to be ready, and sends requests while it is still starting",
            at,
            span=span,
            related=routed_related,
            cause=health_cause(node),
            fix_here=True,
        )
        return
    names = ", ".join(sorted(f"'{other.facts['service']}'" for other, _ in waiting))
    verb, subject = ("depends", "it") if len(waiting) == 1 else ("depend", "they")
    related = tuple(
        ctx.related(
            other, f"service '{other.facts['service']}' depends on it here", ("depends_on", node.facts["service"])
        )
        for other, _ in waiting
    )
    yield Hit(
        f"{_where(node)} {state}, yet {names} {verb} on it{_themselves_note(themselves)}: {subject} can only wait "
        "for its container to start, not for it to be ready",
        at,
        span=span,
        related=related + _themselves_related(themselves) + routed_related,
        cause=health_cause(node),
        fix_here=True,
    )


def _waiting_for_themselves(
    node: Node, waiting: list[tuple[Node, str]]
) -> tuple[list[tuple[Node, str]], list[tuple[Node, dict[str, Any]]]]:
    """WAITING split into the dependents `depends_on` holds back only until the container starts,
    and those whose own start-up waits for the service to answer (infralint/images/waits.py), with
    the probe that waits. One that asks for `service_healthy` is never excused: Compose refuses it."""
    left: list[tuple[Node, str]] = []
    themselves: list[tuple[Node, dict[str, Any]]] = []
    for other, condition in waiting:
        probe = image_waits.waited_for(other.facts, node.facts) if condition == "service_started" else None
        if probe is None:
            left.append((other, condition))
        else:
            themselves.append((other, probe))
    return left, themselves


def _themselves_note(themselves: list[tuple[Node, dict[str, Any]]]) -> str:
    if not themselves:
        return ""
    names = sorted(f"'{other.facts['service']}'" for other, _ in themselves)
    listed_names = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f" ({listed_names} {'waits for it itself' if len(names) == 1 else 'wait for it themselves'})"


def _themselves_related(themselves: list[tuple[Node, dict[str, Any]]]) -> tuple[Related, ...]:
    """Where each excused dependent's start-up waits, when that is a file of the scan."""
    found = []
    for other, probe in themselves[:3]:
        if probe.get("file") and probe.get("line"):
            label = f"service '{other.facts['service']}' waits for it at start ({probe['tool']})"
            found.append(Related(Span(str(probe["file"]), int(probe["line"])), label))
    return tuple(found)


def _routed_from(ctx: RuleContext, node: Node) -> list[upstreams.Route]:
    """Proxy directives (nginx, HAProxy) the graph resolved to this service, one per place; an
    HAProxy server with `check` is left out (the proxy watches its readiness itself)."""
    found: dict[tuple[str, int | None], upstreams.Route] = {}
    for route in upstreams.routes_to(ctx.graph, node):
        if route.reference.checked:
            continue
        span = route.reference.span
        found.setdefault((span.path, span.line), route)
    return [found[key] for key in sorted(found, key=lambda k: (k[0], k[1] or 0))]


# compose-depends-on-not-healthy


def depends_on_not_healthy(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """The short form, or a long form without `condition`: a `condition: service_started`
    written out is a decision (the dependent retries, or needs only the process) and stands. A
    dependency another dependency waits for to be healthy (at any depth) is waited for already."""
    stated = set(node.facts.get("depends_on_stated", ()))
    for name, condition in node.facts["depends_on"].items():
        if condition != "service_started" or name in stated:
            continue
        target = _lookup(ctx, node, name)
        if target is None or not images_health.has_healthcheck(ctx.graph, target):
            continue
        if projects.healthy_through(ctx.graph, node, name) is not None:
            continue
        yield Hit(
            f"{_where(node)} waits only for '{name}' to start, though '{name}' has a healthcheck: "
            "use `condition: service_healthy`",
            node.facts["depends_on_paths"][name],
            related=(ctx.related(target, f"service '{name}' defined here"),),
            # Shared with compose-proxy-depends-not-healthy at this line; this message names the fix.
            cause=started_only_cause(node, name),
            fix_here=True,
        )


# compose-healthy-without-healthcheck


def healthy_without_healthcheck(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    depends = _dict(node.attrs.get("depends_on"))
    for name, condition in node.facts["depends_on"].items():
        if condition != "service_healthy" or _dict(depends.get(name)).get("required") is False:
            continue
        target = _lookup(ctx, node, name)
        if target is None or not _judged_for_absence(target):
            continue  # undefined (compose-undefined-reference says so), or defined elsewhere
        health = images_health.lacks_healthcheck(ctx.graph, target)
        if health is None:
            continue  # it has one, or its image is unknown (it may declare one)
        path = (*node.facts["depends_on_paths"][name], "condition")
        decided = (Related(health.span, "the healthcheck is turned off here"),) if health.span else ()
        image_side = tuple(Related(where, label) for where, label in health.related)
        yield Hit(
            f"{_where(node)} waits for '{name}' to be healthy, but '{name}' {health.why}: `docker compose up` fails",
            path,
            related=(ctx.related(target, f"service '{name}' defined here", health.path), *decided, *image_side),
        )


# compose-undefined-reference


def _service_references(node: Node) -> Iterator[tuple[str, str, tuple[Any, ...]]]:
    """(what, service name, path) for every place a service names another service."""
    for name, path in node.facts["depends_on_paths"].items():
        yield "depends_on", name, path
    for index, link in enumerate(_list(node.attrs.get("links"))):
        if isinstance(link, str):
            yield "links", link.split(":", 1)[0], ("links", index)
    for index, entry in enumerate(_list(node.attrs.get("volumes_from"))):
        if isinstance(entry, str) and not entry.startswith("container:"):
            yield "volumes_from", entry.split(":", 1)[0], ("volumes_from", index)
    for key in ("network_mode", "ipc", "pid"):
        value = node.attrs.get(key)
        if isinstance(value, str) and value.startswith("service:"):
            yield key, value[len("service:") :], (key,)


def undefined_reference(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    project = projects.project_of(ctx.graph, node)
    if project is None:
        return
    defined = {
        key: projects.defined_names(ctx.graph, project, key)
        for key in ("services", "networks", "volumes", "secrets", "configs")
    }
    service_names = defined["services"]
    elsewhere = projects.combined_note(project)
    if service_names is not None:
        for what, name, path in _service_references(node):
            if name not in service_names and _interpolation(node, path) is None:
                message = f"{_where(node)} names service '{name}' in {what}, but no such service is defined"
                yield Hit(message + elsewhere, path)
    extends = node.facts.get("extends")
    if extends and not extends["found"]:
        where = f" in {extends['file']}" if extends["file"] else ""
        yield Hit(f"{_where(node)} extends service '{extends['service']}'{where}, which is not defined", ("extends",))
    yield from _resource_references(node, defined, elsewhere)


def _resource_references(node: Node, defined: dict[str, set[str] | None], elsewhere: str) -> Iterator[Hit]:
    networks = defined["networks"]
    if networks is not None and node.attrs.get("network_mode") is None:
        for name in _dict(node.attrs.get("networks")):
            if name != "default" and name not in networks:
                yield Hit(
                    f"{_where(node)} joins network '{name}', which is not declared under top-level `networks`{elsewhere}",
                    ("networks", name),
                )
    volumes = defined["volumes"]
    if volumes is not None:
        for mount in node.facts["volume_mounts"]:
            source = mount["source"]
            if source and source not in volumes and _interpolation(node, mount["path"]) is None:
                yield Hit(
                    f"{_where(node)} mounts volume '{source}', which is not declared under top-level `volumes`{elsewhere}",
                    mount["path"],
                )
    for key in ("secrets", "configs"):
        names = defined[key]
        if names is None:
            continue
        for entry in node.facts[key]:
            if entry["name"] not in names:
                yield Hit(
                    f"{_where(node)} uses {key[:-1]} '{entry['name']}', which is not declared under top-level `{key}`{elsewhere}",
                    entry["path"],
                )


# compose-no-restart-policy and compose-no-resource-limits: a setting no service of a deployment
# writes is one decision of the project, reported once (infralint.folding keeps the `fix_here`
# finding of a stated cause); a setting most services write and a few lack is an oversight in each.


@dataclass(frozen=True)
class _Setting:
    rule: str
    judged: Callable[[Node, RuleContext], bool]  # the services the rule speaks about
    written: Callable[[Node], bool | None]  # True: set, False: left out, None: neither (judged apart)


@dataclass(frozen=True)
class _Stand:
    """How the judged services of one deployment stand on a setting."""

    key: str
    lacking: list[Node]  # nothing written
    having: list[Node]


def _stand(ctx: RuleContext, node: Node, setting: _Setting) -> _Stand:
    services = _deployment_services(ctx, node)
    cache = ctx.graph.indexes.setdefault(f"compose.stand.{setting.rule}", {})
    key = services[0].id
    if key not in cache:
        judged = [service for service in services if _judged_for_absence(service) and setting.judged(service, ctx)]
        written = [(service, setting.written(service)) for service in judged]
        lacking = [service for service, state in written if state is False]
        having = [service for service, state in written if state is True]
        cache[key] = _Stand(key, lacking, having)
    found: _Stand = cache[key]
    return found


def _deployment_services(ctx: RuleContext, node: Node) -> list[Node]:
    """The services of NODE's deployment (compose_project.deployment), each file's in file order."""
    project = projects.project_of(ctx.graph, node)
    if project is None:
        return [node]
    found = []
    for member in projects.deployment(ctx.graph, project):
        files = list(member.facts.get("files") or ())
        found += sorted(projects.services(ctx.graph, member).values(), key=lambda s: _place(s, files))
    return found


def _place(service: Node, files: list[str]) -> tuple[int, int]:
    """Where a service is written: its project's base file before the overrides merged into it."""
    span = service.spans.span(())
    return (files.index(span.path) if span.path in files else len(files), span.line or 0)


def _names(services: list[Node]) -> str:
    return listed([service.facts["service"] for service in services])


def _absent_setting(node: Node, ctx: RuleContext, setting: _Setting, alone: str, everywhere: str) -> Hit:
    """The finding for a service that lacks SETTING: ALONE says what this service lacks and what
    follows; EVERYWHERE ("sets a memory limit: ...") what follows when no service sets it."""
    stand = _stand(ctx, node, setting)
    if len(stand.lacking) + len(stand.having) <= 1:
        return Hit(alone)
    if not stand.having:
        count = len(stand.lacking)
        return Hit(
            f"none of the {count} services of this project {everywhere} ({_names(stand.lacking)})",
            cause=f"{STATED_CAUSE}{setting.rule}:{stand.key}",
            fix_here=node is stand.lacking[0],
        )
    count = len(stand.having)
    others = f"{count} other service{'s' if count != 1 else ''} of this project set{'s' if count == 1 else ''} one"
    return Hit(f"{alone}, while {others} ({_names(stand.having)})")


def _long_running(node: Node, ctx: RuleContext) -> bool:
    return not projects.is_one_shot(ctx.graph, node)


def _restart_written(node: Node) -> bool | None:
    if projects.never_restarts(node):
        return None  # the default written out: deliberate, not judged
    return node.facts["restart"] is not None or node.facts["restart_policy"] is not None


_RESTART = _Setting("compose-no-restart-policy", _long_running, _restart_written)


def no_restart_policy(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if not _judged_for_absence(node) or not _long_running(node, ctx) or _restart_written(node) is not False:
        return
    yield _absent_setting(
        node,
        ctx,
        _RESTART,
        f"{_where(node)} has no restart policy: if it crashes or the host reboots, it stays down",
        "has a restart policy: whichever crashes stays down, and after a host reboot none comes back",
    )


def _runs_to_completion(node: Node, ctx: RuleContext) -> bool:
    """A run-once job: others wait for it to finish, or it is written never to restart while
    other services of its deployment do restart (alone, `restart: "no"` may be a server's)."""
    if projects.is_one_shot(ctx.graph, node):
        return True
    return projects.never_restarts(node) and any(_restarts(other) for other in _deployment_services(ctx, node))


def _restarts(node: Node) -> bool:
    return bool(_restart_written(node))


def _memory_written(node: Node) -> bool | None:
    facts = node.facts
    if facts["memory_limit"] is not None:
        return True
    return False if facts["memory_limit_path"] is None else None  # -1 or 0, or not a size: apart


_MEMORY = _Setting("compose-no-resource-limits", lambda node, ctx: not _runs_to_completion(node, ctx), _memory_written)


def no_resource_limits(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    facts = node.facts
    if not _judged_for_absence(node) or facts["memory_limit"] is not None:
        return
    if facts["memory_unlimited"]:
        yield Hit(
            f"{_where(node)} sets its memory limit to {facts['memory_limit_raw']}, which means no limit",
            facts["memory_limit_path"],
        )
        return
    if facts["memory_limit_path"] is not None:
        return  # a value that is not a size: Compose rejects it, nothing to judge here
    if _runs_to_completion(node, ctx):
        return  # a job's memory is given back when it ends
    hit = _absent_setting(
        node,
        ctx,
        _MEMORY,
        f"{_where(node)} has no memory limit (`deploy.resources.limits.memory` or `mem_limit`)",
        "sets a memory limit: a leak in one can take the host's memory from all",
    )
    limits = ("deploy", "resources", "limits")
    hit.path = limits if limits in node.spans.table else ()
    yield hit


# compose-image-latest-tag


def image_latest_tag(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    facts = node.facts
    image = facts["image"]
    if image is None or facts["build"] or facts["image_digest"]:
        return
    interpolation = _interpolation(node, ("image",))
    # A variable the scan cannot see: judge only a name and tag written literally.
    if (
        interpolation is not None
        and interpolation["missing"]
        and "$" in (interpolation["raw"] or "").rsplit("/", 1)[-1]
    ):
        return
    tag = facts["image_tag"]
    floating = _floating_tag(tag, ctx.options.get("floating_tags", ("latest",)))
    if tag is None or floating:
        if tag is None:
            what = "no tag (so latest)"
        elif tag == "latest":
            what = "the latest tag"
        else:
            what = f"the floating tag '{tag}', which moves to each new release"
        cause, in_base = _same_image_cause(ctx, node, str(image))
        yield Hit(
            f"{_where(node)} runs image '{image}' with {what}: pin a version or a digest",
            ("image",),
            cause=cause,
            fix_here=in_base,
        )


def _floating_tag(tag: str | None, floating: Any) -> bool:
    """A tag that names a channel rather than a release: `latest`, `stable`, `lts-alpine`. A
    channel followed by a version or date (`stable-20240110-slim`) is a snapshot and pinned."""
    if not tag:
        return False
    channel, *rest = tag.lower().split("-")
    words = {str(word).lower() for word in floating}
    return channel in words and not any(part[:1].isdigit() for part in rest)


def _same_image_cause(ctx: RuleContext, node: Node, image: str) -> tuple[str, bool]:
    """Services of one deployment that run the same unpinned image (web, worker and beat of one
    app) must move to a version together: one cause, reported in the file `docker compose up` is
    given (then the first); and whether NODE is in that file."""
    project = projects.project_of(ctx.graph, node)
    if project is None:
        return "", False
    base = projects.deployment(ctx.graph, project)[0]
    return f"{base.id}:unpinned:{image}", base.id == project.id


# compose-privileged


def privileged(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if node.attrs.get("privileged") is not True:
        return
    component = _by_design(node, "privileged")
    if component is not None:
        message = f"{_where(node)} runs privileged, with every capability and all host devices"
        yield by_design_hit(ctx, node, component, message, ("privileged",))
        return
    yield Hit(f"{_where(node)} runs privileged: it has every capability and all host devices", ("privileged",))


def _by_design(node: Node, need: str) -> by_design.Component | None:
    """The listed component the service runs (a service built here: its Dockerfile's base image)."""
    found = runner_image(node)
    return by_design.needing(found[0], need) if found else None


# compose-docker-socket

_RUNTIME_SOCKET = re.compile(
    r"^/+(var/+)?run(/+(k3s/+)?(docker|containerd|crio|podman|cri-dockerd|dockershim)(\.sock)?(/.*)?)?/*$"
    r"|/(docker|podman|containerd|crio)\.sock$"
)
_WINDOWS_PIPE = re.compile(r"^[/\\]{2}\.[/\\]pipe[/\\]docker_engine$", re.IGNORECASE)


def docker_socket(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    component = _by_design(node, "runtime_socket")
    for mount in node.facts["bind_mounts"]:
        source = mount["source"]
        if mount["inside_root"] or not isinstance(source, str):
            continue
        if _RUNTIME_SOCKET.search(source.replace("\\", "/")) or _WINDOWS_PIPE.match(mount["raw_source"] or ""):
            # `:ro` protects the socket file, not the API behind it: every call still goes through.
            mode = " (read-only, which protects the file, not the API behind it)" if mount["read_only"] else ""
            message = f"{_where(node)} mounts the container runtime socket {mount['raw_source']}{mode}"
            if component is not None:
                message = f"{message}, which gives control of the host"
                yield by_design_hit(ctx, node, component, message, mount["source_path"])
                continue
            yield Hit(f"{message}: whoever controls it controls the host", mount["source_path"])
    for index, item in enumerate(_list(node.attrs.get("volumes"))):
        if isinstance(item, dict) and item.get("type") == "npipe" and _WINDOWS_PIPE.match(str(item.get("source", ""))):
            if component is not None:
                message = f"{_where(node)} mounts the Docker engine pipe, which gives control of the host"
                yield by_design_hit(ctx, node, component, message, ("volumes", index))
                continue
            yield Hit(
                f"{_where(node)} mounts the Docker engine pipe: whoever controls it controls the host",
                ("volumes", index),
            )


# compose-host-network


def host_network(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if node.attrs.get("network_mode") == "host":
        component = _by_design(node, "host_network")
        if component is not None:
            message = f"{_where(node)} uses the host's network stack"
            yield by_design_hit(ctx, node, component, message, ("network_mode",))
            return
        yield Hit(
            f"{_where(node)} uses the host's network stack: every port it listens on is open on the host",
            ("network_mode",),
        )


# compose-dangerous-capabilities


def _capability(name: str) -> str:
    name = name.strip().upper()
    return name[4:] if name.startswith("CAP_") else name


def dangerous_capabilities(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    dangerous = {_capability(str(name)) for name in ctx.options.get("capabilities", ())}
    for index, name in enumerate(_list(node.attrs.get("cap_add"))):
        if isinstance(name, str) and _capability(name) in dangerous:
            yield Hit(f"{_where(node)} adds capability {name}", ("cap_add", index))


# compose-secret-in-environment

_NOT_SECRET_VALUES = frozenset({"true", "false", "yes", "no", "on", "off", "enabled", "disabled", "none", "null"})
_upper_snake = secret_values.upper_snake
_pattern = secret_values.name_pattern
_looks_secret = secret_values.secret_name


def _literal_secret(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    text = value.strip()
    if not text or text.lower() in _NOT_SECRET_VALUES:
        return False
    return not text.startswith("/")  # a file path: where the secret is, not what it is


def secret_in_environment(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """A default credential of a datastore only the project's containers reach is the quick-start
    pair of an app and its private database: not reported. On a reachable one it is.

    Under any name, a private key block or a known token format is reported, and under a weak
    name (*_KEY, *_CONTENT) a random-looking value; neither is ever a default credential."""
    for name, entry in node.facts["environment"].items():
        if not entry["literal"]:
            continue
        value = entry["value"]
        label = secret_values.value_secret(name, value, ctx.options) if isinstance(value, str) else None
        if not (_looks_secret(name, ctx.options) and _literal_secret(value)):
            if label:
                message = f"{_where(node)} sets variable {name} to {label} written in the compose file"
                yield Hit(f"{message}: anyone who can read the file or `docker inspect` can use it", entry["path"])
            continue
        message = f"{_where(node)} sets a literal value for secret-looking variable {name}"
        if label and label != secret_values.RANDOM:
            message += f": the value is {label}"
            yield Hit(message, entry["path"])
            continue
        if _example_host(ctx, node, name):
            continue  # a placeholder for a server that does not exist
        default = _default_credential(ctx, node, name, str(value).strip())
        if default is not None:
            why, guarded = default
            reachable = [service for service in guarded if _exposure(ctx, service) != "internal"]
            if not reachable:
                continue
            shown = reachable[0]
            where = shown.facts.get("exposure_reason") or f"{_where(shown)} may be reachable from outside"
            message += f": its value is a default credential ({why}) on a published service: {where}"
            if shown is not node:
                related = (ctx.related(shown, f"{_where(shown)}, which it guards, defined here"),)
                yield Hit(message, entry["path"], related=related)
                continue
        yield Hit(message, entry["path"])


def _default_credential(ctx: RuleContext, node: Node, name: str, value: str) -> tuple[str, list[Node]] | None:
    """(why the value is a default credential, the services it guards), or None when it is not
    one or the services it guards cannot be told."""
    guarded = _guarded_services(ctx, node, value) or _named_host(ctx, node, name)
    if not guarded:
        return None
    for service in (node, *guarded):
        why = _placeholder_reason(ctx, service, value)
        if why is not None:
            return why, guarded
    return None


def _guarded_services(ctx: RuleContext, node: Node, value: str) -> list[Node]:
    """The datastore that sets the credential itself, else the datastores of the project whose
    own secret-looking variable holds the same literal (the database a client logs into)."""
    if _datastore(node, list(ctx.options.get("datastore_images", ()))) is not None:
        return [node]
    project = projects.project_of(ctx.graph, node)
    others = projects.visible_services(ctx.graph, project).values() if project is not None else ()
    stores = list(ctx.options.get("datastore_images", ()))
    return [
        other
        for other in others
        if other.id != node.id
        and _datastore(other, stores) is not None
        and any(
            entry["literal"] and _looks_secret(name, ctx.options) and str(entry["value"]).strip() == value
            for name, entry in other.facts["environment"].items()
        )
    ]


def _example_host(ctx: RuleContext, node: Node, name: str) -> bool:
    """Whether the credential's host variable names a documentation host (RFC 2606/6761:
    example.com, *.example, *.test, *.invalid): the whole connection is a placeholder to fill in."""
    return any(_EXAMPLE_HOST.search(host) for host in _host_values(ctx, node, name))


_EXAMPLE_HOST = re.compile(r"(^|\.)(example\.(com|org|net)|example|test|invalid)$", re.IGNORECASE)


def _host_values(ctx: RuleContext, node: Node, name: str) -> list[str]:
    """The literal values of the host variables beside a credential, with its prefix."""
    normalized = _upper_snake(name)
    found = _pattern(ctx.options["secret_name_pattern"]).search(normalized)
    if found is None:
        return []
    prefix = normalized[: found.start()]
    hosts = {f"{prefix}{suffix}" for suffix in _HOST_SUFFIXES} | {f"{prefix}_{suffix}" for suffix in _HOST_SUFFIXES}
    values = []
    for other, entry in node.facts["environment"].items():
        upper = _upper_snake(other)
        if upper in hosts and entry["literal"]:
            values.append(str(entry["value"]).strip())
    return values


def _named_host(ctx: RuleContext, node: Node, name: str) -> list[Node]:
    """The service a client's credential logs into, named by the host variable beside it with
    the same prefix (PGPASSWORD and PGHOST=pgsql, CODEINTEL_PGPASSWORD and CODEINTEL_PGHOST)."""
    project = projects.project_of(ctx.graph, node)
    if project is None:
        return []
    services = projects.visible_services(ctx.graph, project)
    for host in _host_values(ctx, node, name):
        target = services.get(host)
        if target is not None and target.id != node.id:
            return [target]
    return []


_HOST_SUFFIXES = ("HOST", "HOSTNAME", "SERVER", "ADDR")


def _placeholder_reason(ctx: RuleContext, service: Node, value: str) -> str | None:
    """Why VALUE reads as a placeholder for this service, or None."""
    lowered = value.lower()
    if lowered in {str(word).lower() for word in ctx.options.get("default_credentials", ())}:
        return "a well-known placeholder"
    if lowered == str(service.facts["service"]).lower():
        return "the service's name"
    image = service.facts.get("image_name")
    if isinstance(image, str) and lowered == image.rsplit("/", 1)[-1].lower():
        return "the image's name"
    project = projects.project_of(ctx.graph, service)
    if project is not None:
        directory = str(project.facts.get("directory") or "")
        names = {str(project.facts.get("name") or "").lower(), directory.rsplit("/", 1)[-1].lower()}
        if lowered in names - {""}:
            return "the project's name"
    user_names = _pattern(str(ctx.options.get("user_name_pattern") or "$^"))
    for name, entry in service.facts["environment"].items():
        normalized = _upper_snake(name)
        if user_names.search(normalized) and str(entry["value"]).strip().lower() == lowered:
            return f"the same as {name}"
    return None


def _exposure(ctx: RuleContext, service: Node) -> str | None:
    """How far the service reaches; for a fragment's service, the widest of it and the same
    service in the files it is combined with (the base may publish its ports)."""
    levels = [service.facts.get("exposure")]
    project = projects.project_of(ctx.graph, service)
    for other in projects.combined_projects(ctx.graph, project) if project is not None else ():
        same = projects.services(ctx.graph, other).get(service.facts["service"])
        if same is not None:
            levels.append(same.facts.get("exposure"))
    if any(level is None for level in levels):
        return None
    return "internal" if all(level == "internal" for level in levels) else "reachable"


# compose-datastore-port-public


def _datastore(node: Node, patterns: list[str]) -> str | None:
    name = node.facts.get("image_name")
    if not isinstance(name, str):
        return None
    short = name.rsplit("/", 1)[-1].lower()
    for pattern in patterns:
        if re.fullmatch(pattern, short):
            return short
    return None


def datastore_port_public(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if node.attrs.get("network_mode") == "host":
        return
    store = _datastore(node, list(ctx.options.get("images", ())))
    if store is None:
        return
    for port in node.facts["ports"]:
        if not port["all_interfaces"]:
            continue
        host = f"host port {port['published']}" if port["published"] is not None else "a random host port"
        yield Hit(
            f"{_where(node)} ({store}) publishes port {port['target']} on {host} on all interfaces: "
            "bind it to 127.0.0.1 or drop the mapping and use the compose network",
            port["path"],
        )


# compose-duplicate-host-port


def _interfaces_overlap(a: str | None, b: str | None) -> bool:
    everywhere = ("", "0.0.0.0", "::", "[::]")
    return (a or "") in everywhere or (b or "") in everywhere or a == b


def _ports_clash(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a["published"] is None or b["published"] is None or a["protocol"] != b["protocol"]:
        return False
    if not _interfaces_overlap(a["host_ip"], b["host_ip"]):
        return False
    return a["published"] <= b["published_end"] and b["published"] <= a["published_end"]


def _can_run_together(a: Node, b: Node) -> bool:
    """Services in profiles that share none are never started together."""
    pa, pb = set(a.facts.get("profiles", ())), set(b.facts.get("profiles", ()))
    return not (pa and pb and not pa & pb)


def _order(node: Node) -> tuple[str, int]:
    span = node.span
    return (span.path, span.line or 0)


def duplicate_host_port(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    project = projects.project_of(ctx.graph, node)
    if project is None or node.facts.get("network_mode") == "host":
        return
    earlier = [
        other
        for other in projects.visible_services(ctx.graph, project).values()
        if other is not node and _order(other) < _order(node) and _can_run_together(node, other)
    ]
    for port in node.facts["ports"]:
        for other in earlier:
            clash = next((p for p in other.facts["ports"] if _ports_clash(port, p)), None)
            if clash is None:
                continue
            yield Hit(
                f"{_where(node)} publishes host port {port['published']}/{port['protocol']}, "
                f"already published by service '{other.facts['service']}': the second container cannot start",
                port["path"],
                related=(ctx.related(other, f"service '{other.facts['service']}' publishes it here", clash["path"]),),
            )
            break


# compose-obsolete-version


def obsolete_version(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    # The files of one deployment are cleaned up together: one cause, reported at the first.
    base = projects.deployment(ctx.graph, node)[0]
    for entry in node.facts.get("versions", ()):
        yield Hit(
            f"top-level `version: {entry['value']}` is obsolete: Compose ignores it and warns",
            span=Span(entry["file"], entry["line"], entry["col"]),
            cause=f"{base.id}:version",
            fix_here=entry["file"] == base.path,
        )


# compose-container-name-scaled


def container_name_scaled(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    facts = node.facts
    if facts["container_name"] is None or facts["replicas"] <= 1:
        return
    yield Hit(
        f"{_where(node)} sets container_name '{facts['container_name']}' and asks for {facts['replicas']} replicas: "
        "container names are unique, so only one can be created",
        ("container_name",),
    )


# compose-mount-source-missing

_FILE_NAME = re.compile(r"[^/]\.[A-Za-z0-9]{1,10}$|^\.[^/]+$|/\.[^/]+$")
# Names that say the host provides the file at deploy time (certificates, keys, secrets, an
# ACME client's store), so a repository leaves it out on purpose.
_PROVISIONED_PARTS = frozenset(
    {"certs", "cert", "tls", "ssl", "secrets", "secret", "keys", "private", "letsencrypt", "acme", "acme.json"}
)
_PROVISIONED_FILE = re.compile(r"\.(pem|key|crt|p12|pfx|jks)$", re.IGNORECASE)


def _provisioned_at_deploy(source: str) -> bool:
    parts = source.lower().split("/")
    return any(part in _PROVISIONED_PARTS for part in parts) or bool(_PROVISIONED_FILE.search(source))


def mount_source_missing(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    for mount in node.facts["bind_mounts"]:
        if not mount["inside_root"] or mount["exists"] is not False or mount["unresolved"]:
            continue
        if mount.get("gitignored") or _provisioned_at_deploy(mount["source"]):
            continue  # left out of the repository on purpose
        source = mount["source"]
        looks_like_file = bool(_FILE_NAME.search(source))
        if not (looks_like_file or mount["read_only"] or not mount["create_host_path"]):
            continue  # a data folder Docker creates on first start
        if not mount["create_host_path"]:
            effect = "`docker compose up` fails"
        elif looks_like_file:
            effect = "Docker creates an empty directory in its place and the container sees no file"
        else:
            effect = "Docker creates it empty, and the read-only mount can never fill it"
        yield Hit(
            f"{_where(node)} bind-mounts {mount['raw_source']}, which does not exist in the repository: {effect}",
            mount["source_path"],
        )


CHECKS: dict[str, CheckFn] = {
    "compose-no-healthcheck": no_healthcheck,
    "compose-depends-on-not-healthy": depends_on_not_healthy,
    "compose-healthy-without-healthcheck": healthy_without_healthcheck,
    "compose-undefined-reference": undefined_reference,
    "compose-no-restart-policy": no_restart_policy,
    "compose-no-resource-limits": no_resource_limits,
    "compose-image-latest-tag": image_latest_tag,
    "compose-privileged": privileged,
    "compose-docker-socket": docker_socket,
    "compose-host-network": host_network,
    "compose-dangerous-capabilities": dangerous_capabilities,
    "compose-secret-in-environment": secret_in_environment,
    "compose-datastore-port-public": datastore_port_public,
    "compose-duplicate-host-port": duplicate_host_port,
    "compose-obsolete-version": obsolete_version,
    "compose-container-name-scaled": container_name_scaled,
    "compose-mount-source-missing": mount_source_missing,
}
