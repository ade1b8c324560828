"""Python rules over Kubernetes containers: arithmetic on quantities, probe and port
comparisons, securityContext fields whose location depends on where they are (not) written,
and item-level checks of lists (capabilities, env).

Container attrs hold effective values (pod securityContext merged in, requests defaulted from
limits), so the rules judge what would run; only the location of a missing container-level
field needs the container's own text.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from typing import Any

from infralint import secret_values
from infralint.findings import Severity
from infralint.graph.k8s_links import selectors_of
from infralint.graph.model import Node
from infralint.images import known as known_images
from infralint.quantities import parse_quantity
from infralint.rules.meta import CheckFn, Hit, RuleContext
from infralint.shapes import as_dict as _dict
from infralint.shapes import as_list as _list

PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
PORT_HANDLERS = ("httpGet", "tcpSocket", "grpc")
PROBE_HANDLERS = ("exec", *PORT_HANDLERS)


def container_label(node: Node) -> str:
    return f"container '{node.facts['container']}' of {node.facts['object']}"


def _security(node: Node) -> dict[str, Any]:
    return _dict(node.attrs.get("securityContext"))


def _own_security_path(node: Node) -> tuple[str, ...]:
    """Where to report a container-level securityContext field that is missing.

    The container's own `securityContext:` key when it has one, else the container itself:
    the merged context may come from the pod, where container-only fields cannot be set.
    """
    spans = node.spans
    own = (*spans.prefix, "securityContext") in spans.table
    # A position in `extra` means the merged context stands in for the container's own.
    if own and ("securityContext",) not in spans.extra:
        return ("securityContext",)
    return ()


# k8s-requests-exceed-limits


def requests_exceed_limits(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    resources = _dict(node.attrs.get("resources"))
    requests = _dict(resources.get("requests"))
    limits = _dict(resources.get("limits"))
    for name, limit in limits.items():
        if name not in requests:
            continue
        request = requests[name]
        request_amount, limit_amount = parse_quantity(request), parse_quantity(limit)
        if request_amount is None or limit_amount is None or request_amount <= limit_amount:
            continue
        yield Hit(
            f"{container_label(node)} requests {name} {request}, more than its limit {limit}",
            ("resources", "requests", name),
        )


# k8s-missing-readiness-probe


def missing_readiness_probe(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """Only containers whose pods a Service of the scan selects: readiness decides whether a
    Service sends a pod traffic, and a rollout waits for it only as far as it is probed. A
    worker or controller that no Service targets loses nothing without one (kube-score judges
    the same way). A scan that holds no Service for the pods (a chart or a single file whose
    Services live elsewhere) reports nothing either."""
    if node.attrs.get("readinessProbe") is not None:  # `readinessProbe:` with nothing under it is no probe
        return
    workload = ctx.graph.nodes.get(node.parent) if node.parent else None
    services = selectors_of(ctx.graph, workload, "k8s/Service") if workload is not None else []
    if not services:
        return
    names = ", ".join(service.facts["object"] for service in services[:MAX_NAMED])
    more = f" and {len(services) - MAX_NAMED} more" if len(services) > MAX_NAMED else ""
    yield Hit(
        f"{container_label(node)} has no readiness probe, yet {names}{more} sends it traffic: "
        "it gets requests as soon as it starts, before it can answer",
        path=("readinessProbe",) if node.spans.exact(("readinessProbe",)) else (),  # `readinessProbe:` written empty
        cause=f"no-readiness:{node.id}",
        fix_here=True,
    )


MAX_NAMED = 3


# k8s-identical-probes

# Defaults the API server fills in, so that `path: /` and no path compare equal.
_HTTP_DEFAULTS = {"path": "/", "scheme": "HTTP"}


def _probe_check(probe: dict[str, Any]) -> tuple[str, Any] | None:
    """The handler of a probe (what it checks), normalized; thresholds and timing left out."""
    for handler in PROBE_HANDLERS:
        if handler in probe:
            spec = probe[handler]
            if handler == "httpGet" and isinstance(spec, dict):
                spec = {**_HTTP_DEFAULTS, **spec}
                if isinstance(spec.get("scheme"), str):
                    spec["scheme"] = spec["scheme"].upper()
            return handler, spec
    return None


def identical_probes(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    liveness = node.attrs.get("livenessProbe")
    readiness = node.attrs.get("readinessProbe")
    if not isinstance(liveness, dict) or not isinstance(readiness, dict):
        return
    check = _probe_check(liveness)
    if check is None or check[0] == "tcpSocket" or check != _probe_check(readiness):
        return  # a TCP connect tests only that the process accepts: no dependency behind it
    if check[0] == "exec" and _server_self_ping(_dict(check[1]).get("command")):
        return  # a database's own ping answers from the server alone, like a TCP connect
    if check[0] == "httpGet" and _answered_by_proxy(ctx, node, _dict(check[1]).get("path")):
        return  # HAProxy answers its monitor-uri itself: no backend behind the check
    handler = check[0]
    yield Hit(
        f"{container_label(node)} uses the same {handler} check for liveness and readiness: a slow dependency will restart it",
        ("livenessProbe",),
    )


def _answered_by_proxy(ctx: RuleContext, node: Node, path: Any) -> bool:
    """Whether PATH is the `monitor-uri` of an HAProxy config the container runs: HAProxy
    answers it without asking any server, so it says only that the proxy is up."""
    if not isinstance(path, str):
        return False
    runners = [node]
    image = node.attrs.get("image")
    pod = ctx.graph.nodes.get(node.parent) if node.parent else None
    if pod is not None and isinstance(image, str) and "haproxy" in image.rsplit("/", 1)[-1]:
        runners += ctx.graph.children(pod)  # an init container may copy the config in for it
    configs = [config for runner in runners for config in ctx.graph.outgoing(runner, "mounts")]
    for config in configs:
        if config.kind != "haproxy/config":
            continue
        for section in ctx.graph.children(config):
            uri = _dict(section.attrs.get("settings")).get("monitor-uri")
            if path.split("?")[0] in (uri if isinstance(uri, list) else [uri]):
                return True
    return False


# Clients whose ping a database server answers by itself, without touching anything else, and
# the word that asks for it (None: the program is the ping).
_SELF_PINGS = {
    "redis-cli": "ping",
    "valkey-cli": "ping",
    "keydb-cli": "ping",
    "mysqladmin": "ping",
    "mariadb-admin": "ping",
    "pg_isready": None,
}
_HOST_OPTIONS = ("-h", "--host")
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_SHELLS = frozenset({"sh", "bash", "ash", "dash"})
_SHELL_LISTS = frozenset({";", "&&", "||", "&"})


def _server_self_ping(command: Any) -> bool:
    """Whether an exec probe only pings the database server in this container: one of
    _SELF_PINGS, run directly or as a shell's only command (its output may be piped to a
    filter), aimed at no host or a local one."""
    words = [str(word) for word in _list(command)]
    if len(words) == 3 and words[0].rsplit("/", 1)[-1] in _SHELLS and words[1] == "-c":
        words = _shell_words(words[2])
        if any(word in _SHELL_LISTS for word in words):
            return False  # more than one command: the others may check anything
        words = words[: words.index("|")] if "|" in words else words
    if not words:
        return False
    program = words[0].rsplit("/", 1)[-1]
    if program not in _SELF_PINGS:
        return False
    asked = _SELF_PINGS[program]
    if asked is not None and asked not in (word.lower() for word in words[1:]):
        return False
    return all(_local_host(host) for host in _hosts(words[1:]))


def _shell_words(script: str) -> list[str]:
    """The words of a shell script, its operators (`;`, `&&`, `|` ...) as words of their own;
    a line break counts as `;`."""
    lexer = shlex.shlex(script.replace("\n", " ; "), posix=True, punctuation_chars=True)
    try:
        return list(lexer)
    except ValueError:  # an unbalanced quote
        return [";"]


def _hosts(words: list[str]) -> Iterator[str]:
    for index, word in enumerate(words):
        if word in _HOST_OPTIONS:
            yield words[index + 1] if index + 1 < len(words) else ""
        elif word.startswith("--host="):
            yield word.split("=", 1)[1]


def _local_host(host: str) -> bool:
    return host in _LOCAL_HOSTS or host.startswith("/")  # a unix socket path is local too


# k8s-probe-port-not-exposed

# A port name as the API server accepts it (IANA service name); anything else, such as an
# envsubst placeholder, cannot be judged.
_PORT_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,13}[a-z0-9])?")


def port_number(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdecimal():
        return int(value)
    return None


def _declared_ports(container: dict[str, Any]) -> tuple[set[int], set[str], bool]:
    """Numbers and names of a container's ports[], and whether every number could be read."""
    numbers: set[int] = set()
    names: set[str] = set()
    readable = True
    for port in _list(container.get("ports")):
        port = _dict(port)
        number = port_number(port.get("containerPort"))
        if number is None:
            readable = False
        else:
            numbers.add(number)
        if isinstance(port.get("name"), str):
            names.add(port["name"])
    return numbers, names, readable


def _pod_port_numbers(node: Node, ctx: RuleContext) -> set[int]:
    """Ports declared by any container of the pod: they share one network namespace."""
    workload = ctx.graph.nodes.get(node.parent) if node.parent else None
    numbers: set[int] = set()
    for sibling in ctx.graph.children(workload) if workload else ():
        if "k8s/container" in sibling.kinds:
            numbers |= _declared_ports(sibling.attrs)[0]
    return numbers


def _mentions_port(node: Node, number: int) -> bool:
    """Whether command, args or env values name the port (``--health-probe-bind-address=:8081``)."""
    words = [*_list(node.attrs.get("command")), *_list(node.attrs.get("args"))]
    words += [_dict(item).get("value") for item in _list(node.attrs.get("env"))]
    pattern = re.compile(rf"(?<![0-9]){number}(?![0-9])")
    return any(isinstance(word, (str, int)) and pattern.search(str(word)) for word in words)


def _undeclared(node: Node, ctx: RuleContext, port: Any) -> str | None:
    """How to name the probe's port when the container does not declare it, else None."""
    numbers, names, readable = _declared_ports(node.attrs)
    number = port_number(port)
    if number is None:
        # The kubelet resolves a name in this container's ports[] only.
        if not isinstance(port, str) or not _PORT_NAME.fullmatch(port) or port in names:
            return None
        return f"port name '{port}'"
    if isinstance(port, str) and port in names:
        return None
    # A number reaches the pod IP whatever ports[] says: it only looks wrong when the
    # container lists its ports, none of them is this one, no container of the pod
    # declares it, and the container's own command line does not configure it.
    if not numbers or not readable or number in numbers:
        return None
    if number in _pod_port_numbers(node, ctx) or _mentions_port(node, number):
        return None
    return f"port {number}"


def probe_ports(node: Node) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(probe, handler, handler spec) of each probe that connects to a port of this container;
    an httpGet to another `host` is left out: it says nothing about this container's sockets."""
    for probe_name in PROBES:
        probe = _dict(node.attrs.get(probe_name))
        for handler in PORT_HANDLERS:
            spec = _dict(probe.get(handler))
            if "port" in spec and not (handler == "httpGet" and spec.get("host")):
                yield probe_name, handler, spec


def probe_port_not_exposed(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    for probe_name, handler, spec in probe_ports(node):
        described = _undeclared(node, ctx, spec["port"])
        if described is None:
            continue
        if port_number(spec["port"]) is None:  # a name nothing declares: the probe cannot run
            message = f"{probe_name} of {container_label(node)} uses {described}, which its ports[] does not declare"
            yield Hit(message, (probe_name, handler, "port"))
            continue
        # A number reaches the pod whatever ports[] says: only the image knows if it listens.
        yield Hit(
            f"{probe_name} of {container_label(node)} uses {described}, which its ports[] does not declare: "
            "check that the image listens there, and declare it",
            (probe_name, handler, "port"),
            severity=Severity.WARNING,
        )


# k8s-privilege-escalation, k8s-writable-root-filesystem


def _container_field_not(node: Node, field: str, wanted: bool, message: str) -> Iterator[Hit]:
    """A container-only securityContext field that is not `wanted`: at the field when it is
    written, else at the nearest place of the container's own text."""
    security = _security(node)
    if security.get(field) is not None:  # null is no value
        if security[field] is not wanted:
            written = json.dumps(security[field])
            yield Hit(f"{container_label(node)} sets {field}: {written}; {message}", ("securityContext", field))
        return
    yield Hit(
        f"{container_label(node)} does not set {field}: {str(wanted).lower()}; {message}",
        _own_security_path(node),
        cause=no_security_context_cause(node),
    )


def no_security_context_cause(node: Node) -> str:
    """A container without any securityContext (its own or the pod's) lacks run-as-non-root,
    no-privilege-escalation and a read-only root for one reason: one block fixes all three."""
    return f"{node.id}:no-security-context" if not _security(node) else ""


def privilege_escalation(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    yield from _container_field_not(
        node, "allowPrivilegeEscalation", False, "its processes can gain privileges (setuid binaries)"
    )


def writable_root_filesystem(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if _security(node).get("readOnlyRootFilesystem") is False:
        return  # written out, false is a decision (the app writes to its root), not an omission
    yield from _container_field_not(node, "readOnlyRootFilesystem", True, "its root filesystem is writable")


# k8s-run-as-root


def _uid(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _origin(node: Node, field: str) -> str:
    """Says so when an effective securityContext value was inherited from the pod."""
    return " on the pod" if ("securityContext", field) in node.spans.extra else ""


def run_as_root(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    security = _security(node)
    user = _uid(security.get("runAsUser"))
    non_root = security.get("runAsNonRoot")
    if user == 0:
        yield Hit(
            f"{container_label(node)} runs as root (runAsUser: 0{_origin(node, 'runAsUser')})",
            ("securityContext", "runAsUser"),
        )
    elif user is not None and user > 0:
        return  # an explicit non-root uid decides, whatever the image says
    elif non_root is True:
        return
    elif "runAsNonRoot" in security:
        yield Hit(
            f"{container_label(node)} sets runAsNonRoot: {json.dumps(non_root)}{_origin(node, 'runAsNonRoot')} "
            "and no non-zero runAsUser, so the image's user (often root) runs",
            ("securityContext", "runAsNonRoot"),
        )
    elif _image_runs_unprivileged(node):
        return  # the image's own USER, or its entrypoint, leaves root before the server starts
    else:
        cause = no_security_context_cause(node)
        yield Hit(
            f"{container_label(node)} sets neither runAsNonRoot: true nor a non-zero runAsUser (here or on the pod), "
            "so the image's user (often root) runs",
            _own_security_path(node),
            cause=cause,
            fix_here=bool(cause),
        )


def _image_runs_unprivileged(node: Node) -> bool:
    """Whether the container's image, as infralint's image data knows it, runs its process as a
    user other than root: a non-root USER, or an entrypoint that switches to its own user before
    it starts the server, when the container keeps that entrypoint and starts the server."""
    image = known_images.lookup(node.attrs.get("image") if isinstance(node.attrs.get("image"), str) else None)
    if image is None:
        return False
    if image.user is not None and image.user not in ("0", "root"):
        return True
    if image.drops_root_to is None or "command" in node.attrs:
        return False  # a command of its own replaces the entrypoint that drops root
    args = [str(arg) for arg in _list(node.attrs.get("args"))]
    return not args or args[0].startswith("-") or args[0] == image.server_command


# k8s-dangerous-capabilities


def capability_name(name: str) -> str:
    name = name.strip().upper()
    return name[4:] if name.startswith("CAP_") else name


def dangerous_capabilities(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    dangerous = {capability_name(str(name)) for name in ctx.options.get("capabilities", ())}
    added = _list(_dict(_security(node).get("capabilities")).get("add"))
    for index, name in enumerate(added):
        if isinstance(name, str) and capability_name(name) in dangerous:
            yield Hit(
                f"{container_label(node)} adds capability {name}", ("securityContext", "capabilities", "add", index)
            )


# k8s-secret-in-env

# $(VAR) is expanded by the kubelet ($$(VAR) is an escaped literal); ${VAR} alone is a
# placeholder for envsubst-style tools that render the manifest before it is applied.
_KUBELET_REFERENCE = re.compile(r"(?<!\$)\$\([A-Za-z_][A-Za-z0-9_.-]*\)")
_PLACEHOLDER = re.compile(r"\$\{[^}]+\}|\{\{.*\}\}")
_NOT_SECRET_VALUES = frozenset({"true", "false", "yes", "no", "on", "off", "enabled", "disabled", "none", "null"})


def _is_literal_secret(value: Any) -> bool:
    """A literal under a secret-looking name: anything but empty, a switch word, a reference."""
    if value is None or isinstance(value, bool):
        return False
    text = str(value).strip()
    if not text or text.lower() in _NOT_SECRET_VALUES:
        return False
    if _KUBELET_REFERENCE.search(text) or _PLACEHOLDER.fullmatch(text):
        return False
    return not text.startswith("/")  # a file path: where the secret is, not what it is


def secret_in_env(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """By name (PASSWORD, TOKEN ...) any literal; under any name a private key block or a known
    token format; under a weak name (*_KEY, *_CONTENT) a random-looking value."""
    for index, item in enumerate(_list(node.attrs.get("env"))):
        item = _dict(item)
        name = item.get("name")
        if not isinstance(name, str) or "value" not in item or "valueFrom" in item:
            continue
        value = item["value"]
        label = secret_values.value_secret(name, value, ctx.options) if isinstance(value, str) else None
        where = ("env", index, "value")
        if secret_values.secret_name(name, ctx.options) and _is_literal_secret(value):
            found = f": the value is {label}" if label and label != secret_values.RANDOM else ""
            yield Hit(f"{container_label(node)} sets a literal value for secret-looking env var {name}{found}", where)
        elif label:
            yield Hit(
                f"{container_label(node)} sets env var {name} to {label} written in the manifest:"
                " anyone who can read the manifest or the pod spec can use it",
                where,
            )


CHECKS: dict[str, CheckFn] = {
    "k8s-requests-exceed-limits": requests_exceed_limits,
    "k8s-missing-readiness-probe": missing_readiness_probe,
    "k8s-identical-probes": identical_probes,
    "k8s-probe-port-not-exposed": probe_port_not_exposed,
    "k8s-privilege-escalation": privilege_escalation,
    "k8s-writable-root-filesystem": writable_root_filesystem,
    "k8s-run-as-root": run_as_root,
    "k8s-dangerous-capabilities": dangerous_capabilities,
    "k8s-secret-in-env": secret_in_env,
}
