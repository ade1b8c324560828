"""Compose hardening checks every peer ships: host namespaces, sensitive host mounts, security
options, capabilities, container names and the Compose schema.

Host access that a listed agent's documentation asks for (node-exporter's read-only `/`, the
host PID namespace of a metrics agent) is a note naming the mitigation, as for the runtime
socket (infralint/checks/by_design.py).
"""

from __future__ import annotations

import difflib
import json
import posixpath
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from infralint.checks import compose_project as projects
from infralint.checks.by_design import hit as by_design_hit
from infralint.components import by_design
from infralint.findings import Severity
from infralint.folding import STATED_CAUSE, listed
from infralint.graph.model import Node
from infralint.images.defaults import runner_image
from infralint.parsers import compose_syntax as syntax
from infralint.parsers.compose_facts import path_key
from infralint.resources import data_dir
from infralint.rules.meta import CheckFn, Hit, RuleContext
from infralint.shapes import as_list as _list


def _where(node: Node) -> str:
    return f"service '{node.facts['service']}'"


def _component(node: Node, need: str) -> by_design.Component | None:
    """The listed component the service runs, when its documentation requires NEED."""
    found = runner_image(node)
    return by_design.needing(found[0], need) if found else None


def _judged_for_absence(node: Node) -> bool:
    """A complete container service: not a fragment merged onto a definition elsewhere, not a
    provider service, not one scaled to 0."""
    facts = node.facts
    return not facts.get("fragment") and not facts.get("provider") and facts.get("replicas") != 0


# compose-host-namespace

# (key, what it shares, the by-design need that covers it, severity when not by design)
_NAMESPACES = (
    ("pid", "the host's process namespace: it sees and can signal every process on the host", "host_pid", None),
    ("ipc", "the host's IPC namespace: shared memory and semaphores of host processes", None, None),
    ("userns_mode", "the host's user namespace: user namespace remapping is off for it", None, Severity.WARNING),
)


def host_namespace(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    for key, shares, need, severity in _NAMESPACES:
        value = node.attrs.get(key)
        if not isinstance(value, str) or value.strip() != "host":
            continue
        message = f"{_where(node)} sets `{key}: host` and shares {shares}"
        component = _component(node, need) if need else None
        if component is not None:
            yield by_design_hit(ctx, node, component, f"{_where(node)} sets `{key}: host`", (key,))
            continue
        yield Hit(message, (key,), severity=severity)


# compose-sensitive-host-mount

_RUNTIME_SOCKET = "/var/run/docker.sock"
_HOME = re.compile(r"^(~|\$HOME\b|\$\{HOME\})")


def _host_path(mount: dict[str, Any]) -> str | None:
    """The host path a bind mount reads, normalised: `~` for the home folder (`$HOME` too),
    None for a path inside the repository or one the scan cannot tell."""
    if mount["inside_root"]:
        return None
    raw = _raw_source(mount).replace("\\", "/")
    home = _HOME.match(raw)
    if home:
        rest = raw[home.end() :].strip("/")
        return posixpath.normpath("~/" + rest) if rest else "~"
    if mount["unresolved"]:
        return None
    source = str(mount["source"]).replace("\\", "/")
    if not source.startswith("/"):
        return None  # a Windows drive, or a path above the scan root
    return posixpath.normpath("/" + source.lstrip("/"))


def _raw_source(mount: dict[str, Any]) -> str:
    """The source as written, before interpolation (the short syntax's raw text is the item)."""
    raw = mount.get("raw_source")
    if not isinstance(raw, str):
        return str(mount["source"] or "")
    if not mount["long_syntax"]:
        parsed = syntax.parse_volume(raw)
        return parsed.source if parsed is not None and parsed.source else raw
    return raw


def _contains(outer: str, inner: str) -> bool:
    return outer == inner or outer == "/" or inner.startswith(outer.rstrip("/") + "/")


def _sensitive(host: str, paths: list[str]) -> list[str]:
    """The sensitive paths a mount of HOST reaches: the path itself, or those below it (a mount
    of /var holds /var/lib/docker). Below a sensitive directory only ~/.ssh counts: a single
    file under /etc or /dev (/etc/localtime, /dev/dri) is a narrow, usual mount."""
    reached = [path for path in paths if _contains(host, path)]
    if not reached and any(_contains(path, host) for path in paths if path.endswith("/.ssh")):
        reached = [next(path for path in paths if path.endswith("/.ssh") and _contains(path, host))]
    return reached


def _reaches_socket(host: str) -> bool:
    return _contains(host, _RUNTIME_SOCKET) or host in ("/run",)


def host_mount_cause(node: Node, mount: dict[str, Any]) -> str:
    """The cause a mount that reaches the runtime socket shares with compose-docker-socket's
    finding about the same mount (infralint.folding keeps one)."""
    return f"{node.id}:runtime-socket:{path_key(mount['path'])}"


def sensitive_host_mount(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    paths = [str(path) for path in ctx.options.get("paths", ())]
    component = _component(node, "host_paths")
    for mount in node.facts["bind_mounts"]:
        host = _host_path(mount)
        if host is None:
            continue
        reached = _sensitive(host, paths)
        if not reached:
            continue
        mode = "read-only" if mount["read_only"] else "writable"
        what = "the host's root filesystem" if host == "/" else f"host path {host}"
        message = f"{_where(node)} bind-mounts {what} ({mode})"
        if all(_contains(path, host) and path != host for path in reached):
            message += f", in {listed(reached)}"
        elif host not in reached:
            message += f", which holds {listed(reached)}"
        socket = _reaches_socket(host)
        if socket:
            message += f"; it also reaches the runtime socket {_RUNTIME_SOCKET}"
        cause = host_mount_cause(node, mount) if socket else ""
        if component is not None and component.allows_host_path(host, not mount["read_only"]):
            hit = by_design_hit(ctx, node, component, message, mount["source_path"])
            hit.cause = cause
            yield hit
            continue
        severity = Severity.ERROR if host == "/" else None
        yield Hit(
            f"{message}: a compromised container reads or changes the host through it",
            mount["source_path"],
            severity=severity,
            cause=cause,
        )


# compose-security-opt-unconfined

_UNCONFINED = {
    "seccomp": ("unconfined", "the seccomp filter is off: every system call reaches the host kernel"),
    "apparmor": ("unconfined", "the AppArmor profile is off"),
    "label": ("disable", "SELinux labelling is off: the container process is not confined by the host's policy"),
    "systempaths": ("unconfined", "/proc and /sys paths the runtime masks are open"),
}


def _security_options(node: Node) -> Iterator[tuple[int, str, str]]:
    """(index, name, value) of each `security_opt` entry; `name:value` and `name=value` alike."""
    for index, entry in enumerate(_list(node.attrs.get("security_opt"))):
        if isinstance(entry, str):
            match = _OPTION.match(entry)
            if match is not None:
                yield index, match.group(1).lower(), match.group(2) or ""


_OPTION = re.compile(r"\s*([A-Za-z-]+)\s*(?:[:=]\s*(.*?))?\s*$")


def security_opt_unconfined(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    for index, name, value in _security_options(node):
        turned_off = _UNCONFINED.get(name)
        if turned_off is None or value.lower() != turned_off[0]:
            continue
        written = str(_list(node.attrs.get("security_opt"))[index]).strip()  # as the file writes it
        yield Hit(f"{_where(node)} sets `security_opt: {written}`: {turned_off[1]}", ("security_opt", index))


# compose-no-new-privileges


def _no_new_privileges(node: Node) -> bool | None:
    """True: set; False: set to false; None: not written."""
    for _index, name, value in _security_options(node):
        if name == "no-new-privileges":
            return value.lower() in ("", "true", "1")
    return None


def no_new_privileges(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if not _judged_for_absence(node):
        return
    state = _no_new_privileges(node)
    if state is True:
        return
    if state is False:
        index = next(i for i, name, _ in _security_options(node) if name == "no-new-privileges")
        yield Hit(
            f"{_where(node)} turns no-new-privileges off: setuid binaries in the image can raise a process "
            "to root inside the container",
            ("security_opt", index),
        )
        return
    alone = (
        f"{_where(node)} does not set `security_opt: [no-new-privileges:true]`: setuid binaries in the image "
        "can raise a process to root inside the container"
    )
    services = [s for s in _deployment_services(ctx, node) if _judged_for_absence(s)]
    lacking = [s for s in services if _no_new_privileges(s) is None]
    if len(services) <= 1 or len(lacking) < len(services):
        yield Hit(alone, _security_opt_path(node))
        return
    # No service of the deployment sets it: one decision of the project, one finding.
    yield Hit(
        f"none of the {len(lacking)} services of this project sets `security_opt: [no-new-privileges:true]` "
        f"({listed([s.facts['service'] for s in lacking])}): setuid binaries in their images can raise a "
        "process to root inside the container",
        _security_opt_path(node),
        cause=f"{STATED_CAUSE}compose-no-new-privileges:{lacking[0].id}",
        fix_here=node is lacking[0],
    )


def _security_opt_path(node: Node) -> tuple[Any, ...]:
    return ("security_opt",) if ("security_opt",) in node.spans.table else ()


def _deployment_services(ctx: RuleContext, node: Node) -> list[Node]:
    """The services of NODE's deployment, each file's in the order written."""
    project = projects.project_of(ctx.graph, node)
    if project is None:
        return [node]
    found: list[Node] = []
    for member in projects.deployment(ctx.graph, project):
        found += sorted(projects.services(ctx.graph, member).values(), key=_order)
    return found


def _order(node: Node) -> tuple[str, int]:
    span = node.span
    return (span.path, span.line or 0)


# compose-cap-drop-all


def cap_drop_all(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    added = _list(node.attrs.get("cap_add"))
    if not added:
        return
    # Docker takes ALL in any case, but no CAP_ prefix on it: CAP_ALL is refused, not "everything".
    if "ALL" in {str(name).strip().upper() for name in _list(node.attrs.get("cap_drop"))}:
        return
    names = ", ".join(str(name) for name in added[:5])
    yield Hit(
        f"{_where(node)} adds {names} but does not drop the rest: add `cap_drop: [ALL]` so it keeps only "
        "the capabilities it adds, not Docker's default set",
        ("cap_add",),
    )


# compose-duplicate-container-name


def _can_run_together(a: Node, b: Node) -> bool:
    """Services in profiles that share none are never started together."""
    pa, pb = set(a.facts.get("profiles", ())), set(b.facts.get("profiles", ()))
    return not (pa and pb and not pa & pb)


def _runs_with(ctx: RuleContext, node: Node) -> tuple[list[Node], bool]:
    """The services Compose starts together with NODE: those of its own file and of the files
    every run of the deployment loads (its base and what it includes); and whether NODE's file
    is one of those. Two fragments of one base (a dev and a prod file) may be alternatives:
    they are not compared with each other."""
    project = projects.project_of(ctx.graph, node)
    if project is None:
        return [], True
    found: dict[str, Node] = {}
    for member in projects.deployment(ctx.graph, project):
        if member.id != project.id and not _optional(member):
            for name, service in projects.services(ctx.graph, member).items():
                found.setdefault(name, service)
    for name, service in projects.services(ctx.graph, project).items():
        # A fragment's service that its base also defines is the same service, merged: the
        # fragment's container_name wins when it writes one, else the base's holds.
        if service.facts.get("container_name") or name not in found:
            found[name] = service
    return list(found.values()), not _optional(project)


def _optional(project: Node) -> bool:
    return bool(project.facts.get("fragment_of") or project.facts.get("addon"))


def duplicate_container_name(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    name = node.facts.get("container_name")
    if not name:
        return
    services, always = _runs_with(ctx, node)
    for other in services:
        if other is node or other.facts["service"] == node.facts["service"]:
            continue
        if other.facts.get("container_name") != name or not _can_run_together(node, other):
            continue
        # Reported once, at the later of the two; a fragment's service after the base's.
        same_side = always or other.parent == node.parent
        if same_side and _order(other) >= _order(node):
            continue
        service = other.facts["service"]
        yield Hit(
            f"{_where(node)} sets container_name '{name}', already used by service '{service}': container "
            "names are unique on a host, so `docker compose up` cannot create the second container",
            ("container_name",),
            related=(ctx.related(other, f"service '{service}' sets it here", ("container_name",)),),
        )
        return


# compose-schema-invalid


@cache
def _schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((data_dir("schemas") / "compose.schema.json").read_text(encoding="utf-8"))
    return loaded


@cache
def _validators() -> tuple[Any, Any]:
    from jsonschema import Draft202012Validator

    schema = _schema()
    defs = schema["$defs"]
    top = Draft202012Validator(_inline_refs(schema, defs))
    service = Draft202012Validator({**_inline_refs(defs["service"], defs), "$defs": defs})
    return top, service


def _inline_refs(value: Any, defs: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """VALUE with each `{"$ref": "#/$defs/x"}` replaced by the definition itself (a recursive
    one stays a reference): validation then resolves no references, twice as fast."""
    if isinstance(value, dict):
        ref = value.get("$ref")
        if len(value) == 1 and isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            if name in defs and name not in seen:
                return _inline_refs(defs[name], defs, (*seen, name))
            return value
        return {key: _inline_refs(item, defs, seen) for key, item in value.items()}
    if isinstance(value, list):
        return [_inline_refs(item, defs, seen) for item in value]
    return value


def schema_invalid(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    top, service = _validators()
    validator = service if node.kind == "compose/service" else top
    attrs = _string_keys(node.attrs)
    if validator.is_valid(attrs):
        return
    seen: set[tuple[Any, ...]] = set()
    for error in validator.iter_errors(attrs):
        for path, message in _explain(error, node):
            if path not in seen and _written(node, path):
                seen.add(path)
                yield Hit(message, path)


def _string_keys(value: Any) -> Any:
    """VALUE with every mapping key a string, as the schema's patterns need: a YAML key that is
    not one (`~:`, an anchor on an empty key, `1:`) is named as written and refused as unknown."""
    if isinstance(value, dict):
        return {
            (key if isinstance(key, str) else "null" if key is None else str(key)): _string_keys(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_string_keys(item) for item in value]
    return value


def _written(node: Node, path: tuple[Any, ...]) -> bool:
    """A value written in a file, not one a missing variable left empty."""
    interpolated = node.facts.get("interpolated", {}).get(path_key(path)) if "interpolated" in node.facts else None
    return not (interpolated and interpolated.get("missing"))


def _explain(error: Any, node: Node) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(path, message) for a validation error: the deepest branch that matches the value's shape."""
    error = _deepest(error)
    path = tuple(error.absolute_path)
    if error.instance is None:
        return  # an empty key counts as absent
    refused = "Compose refuses the file"
    if error.validator == "additionalProperties":
        known = error.schema.get("properties", {})
        where = f"under `{_dotted(path)}` of {_subject(node)}" if path else f"in {_subject(node)}"
        for key in error.instance:
            if key in known or str(key).startswith("x-"):
                continue
            guess = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.6)
            hint = f"did you mean `{guess[0]}`? ({refused})" if guess else refused
            if key in _REMOVED and _REMOVED[key][0] in known:
                hint = f"it was removed from the Compose Specification, use {_REMOVED[key][1]} ({refused})"
            yield (*path, key), f"unknown key `{key}` {where}: {hint}"
        return
    field = f"`{_dotted(path)}` of {_subject(node)}" if path else _subject(node)
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        yield path, f"{field} must be {_shapes(wanted)}, not {_shape(error.instance)} ({refused})"
        return
    if error.validator == "enum":
        known_values = [str(v) for v in error.validator_value]
        guess = difflib.get_close_matches(str(error.instance), known_values, n=1)
        hint = f"did you mean `{guess[0]}`?" if guess else f"one of {', '.join(known_values)}"
        yield path, f"{field} is `{error.instance}`, which Compose does not know: {hint} ({refused})"
        return
    yield path, f"{field} does not match the Compose Specification: {error.message}"


# Keys of the old file formats that the Compose Specification dropped, with what replaces them
# (the first element is a key of the same level that tells the level is a service's).
_REMOVED = {
    "volume_driver": ("volumes", "`driver:` on the top-level volume"),
    "net": ("network_mode", "`network_mode`"),
    "log_driver": ("logging", "`logging.driver`"),
    "log_opt": ("logging", "`logging.options`"),
    "dockerfile": ("build", "`build.dockerfile`"),
}


def _subject(node: Node) -> str:
    return _where(node) if node.kind == "compose/service" else "the compose file"


def _dotted(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _deepest(error: Any) -> Any:
    """For a failed anyOf/oneOf, the branch error that says the most (the one for the value's
    own shape, deepest first)."""
    from jsonschema.exceptions import best_match

    while error.context:
        shaped = [e for e in error.context if e.validator != "type"]
        if not shaped:
            break
        error = best_match(shaped)
    return error


_SHAPES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "empty",
}


def _shapes(types: list[str]) -> str:
    names = [_SHAPES.get(t, t) for t in types if t != "null"]
    return " or ".join(dict.fromkeys(names))


def _shape(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string"


CHECKS: dict[str, CheckFn] = {
    "compose-host-namespace": host_namespace,
    "compose-sensitive-host-mount": sensitive_host_mount,
    "compose-security-opt-unconfined": security_opt_unconfined,
    "compose-no-new-privileges": no_new_privileges,
    "compose-cap-drop-all": cap_drop_all,
    "compose-duplicate-container-name": duplicate_container_name,
    "compose-schema-invalid": schema_invalid,
}
