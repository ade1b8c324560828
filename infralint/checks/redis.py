"""Redis server rules. Each judges one config node (a redis.conf with its includes).

A missing setting has no line of its own: such findings point at the line where the fix goes or
that causes the problem (named in each rule's docs), and at the first directive when there is
none. A file other scanned configs include is judged inside them, not on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infralint.checks.exposure import exposure_related
from infralint.findings import Related, Severity
from infralint.graph.exposure import runner_label
from infralint.graph.model import Node
from infralint.graph.mounts import server_flags
from infralint.graph.redis_links import (
    exposed_addresses,
    included_elsewhere,
    is_wildcard,
    listening_on,
    listens_on_tcp,
)
from infralint.images.defaults import server_default
from infralint.parsers.redis_directives import memory_bytes, suggestion
from infralint.rules.meta import CheckFn, Hit, RuleContext
from infralint.source import Span
from infralint.units import format_bytes

# In the order messages list them; REPLICAOF and SLAVEOF are two names of one command, renamed apart.
DANGEROUS_COMMANDS = (
    "flushall",
    "flushdb",
    "config",
    "debug",
    "keys",
    "shutdown",
    "module",
    "replicaof",
    "slaveof",
    "migrate",
)


# --- where findings point -------------------------------------------------------------------


def _span(entry: dict[str, Any]) -> Span:
    return Span(entry["file"], entry["line"], entry["col"])


def _effective(node: Node, setting: str) -> dict[str, Any] | None:
    """The line that sets a single-valued directive (the last one that takes effect)."""
    found = None
    for entry in node.attrs["directives"]:
        if entry["setting"] == setting and entry["counts"]:
            found = entry
    return found


def _first_directive(node: Node) -> dict[str, Any] | None:
    entries = node.attrs["directives"]
    return next((entry for entry in entries if entry["own"]), entries[0] if entries else None)


def _anchor(node: Node, *settings: str) -> Span:
    """The effective line of the first of SETTINGS present, else the first directive, else the file."""
    for setting in settings:
        entry = _effective(node, setting)
        if entry is not None:
            return _span(entry)
    first = _first_directive(node)
    return _span(first) if first is not None else node.span


def _judged(node: Node, ctx: RuleContext) -> bool:
    return not included_elsewhere(ctx.graph, node)


def _open_default_user(node: Node) -> bool:
    """A client can run commands without any password (users in an aclfile are unknown here)."""
    facts = node.facts
    user = facts["default_user"]
    return not facts.get("aclfile") and user["enabled"] and user["nopass"]


def _name(node: Node) -> str:
    """How a message names the config: nothing for a file (the location says it), the data key
    and ConfigMap for embedded text, whose location is a line inside a manifest."""
    holder = node.facts.get("embedded_in")
    if not holder:
        return ""
    key = str(node.facts["config"]).rsplit("#", 1)[-1]
    kind, _, rest = str(holder).removeprefix("k8s/").partition("/")
    return f"{key} in {kind} {rest.rsplit('/', 1)[-1]}: "


# --- who can connect (the cross-format graph's exposure, when a container runs the config) ---


def _beyond_loopback(node: Node) -> bool:
    """Clients other than the server's own host/pod can connect: it listens on a non-loopback address.

    Running in a container does not narrow that: other containers or pods reach every address but
    loopback, and clients of a port published on the host's 127.0.0.1 arrive through Docker's
    bridge, not as loopback clients. The graph's exposure says how far beyond loopback it reaches.
    """
    return bool(exposed_addresses(node.facts))


def _contained(node: Node) -> bool:
    """The graph knows the runner and no public path leads to the Redis port."""
    return node.facts.get("exposure") in ("internal", "loopback")


def no_password_cause(node: Node) -> str:
    """The cause redis-no-auth and redis-protected-mode-off share: the default user has no password.
    Setting one fixes both (protected mode only acts while there is none), at redis-no-auth's line."""
    return f"redis-no-password:{node.id}"


def _contained_severity(node: Node) -> Severity | None:
    """A warning while only other containers/pods (or the host itself) can connect; else the rule's own."""
    return Severity.WARNING if _contained(node) else None


def _reach(node: Node) -> str:
    """`; reachable from outside: service 'cache' publishes 6379:6379 on all host interfaces`."""
    exposure, reason = node.facts.get("exposure"), node.facts.get("exposure_reason")
    if not reason:
        return ""
    if exposure == "public":
        return f"; reachable from outside: {reason}"
    return f"; other containers/pods can connect ({reason})"


def _runners(node: Node, ctx: RuleContext) -> list[Node]:
    return [ctx.graph.nodes[i] for i in node.facts.get("runs_in") or () if i in ctx.graph.nodes]


def _flag_everywhere(node: Node, ctx: RuleContext, flag: str) -> bool:
    """Every container that runs this config sets FLAG on the command line (which overrides the file)."""
    found = _runners(node, ctx)
    return bool(found) and all((server_flags(runner) or {}).get(flag) for runner in found)


def _maxmemory_flag_everywhere(node: Node, ctx: RuleContext) -> bool:
    found = _runners(node, ctx)
    return bool(found) and all(memory_bytes((server_flags(r) or {}).get("maxmemory", "")) for r in found)


def _protected_mode(node: Node, ctx: RuleContext) -> tuple[bool, str, tuple[Related, ...]]:
    """Whether protected mode is on where this config runs; when off though the file does not
    say so, why (a runner's `--protected-mode no`, or an image built with it off by default) and
    where. A command-line flag overrides the file; the image's default applies only when neither
    the file nor the flags set it."""
    file_sets = _effective(node, "protected-mode") is not None
    for runner in _runners(node, ctx):
        flag = (server_flags(runner) or {}).get("protected-mode")
        label = runner_label(runner)
        if flag:
            if flag.lower() == "no":
                return (
                    False,
                    f"{label} starts Redis with --protected-mode no",
                    (ctx.related(runner, "protected mode turned off here", _command_path(runner)),),
                )
            continue
        default = None if file_sets else server_default(runner, "protected-mode")
        if default is not None and default.value.lower() == "no":
            why = (
                f"no protected-mode line, and the {default.image} image {label} runs is built with "
                "protected mode off by default"
            )
            return False, why, (ctx.related(runner, f"runs {default.image} here", default.path),)
    return bool(node.facts["protected_mode"]), "", ()


def _command_path(runner: Node) -> tuple[Any, ...]:
    if runner.kind == "compose/service":
        return ("command",) if "command" in runner.attrs else ("entrypoint",)
    return ("args",) if "args" in runner.attrs else ("command",)


# --- rules ------------------------------------------------------------------------------------


def no_auth(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if not _judged(node, ctx) or not _open_default_user(node) or not _beyond_loopback(node):
        return
    if _flag_everywhere(node, ctx, "requirepass"):
        return  # `redis-server redis.conf --requirepass ...`: the command line sets the password
    facts = node.facts
    protected, why_off, _ = _protected_mode(node, ctx)
    guard = (
        "protected mode turns remote clients away until a password is set"
        if protected
        else f"protected-mode is off{f' ({why_off})' if why_off else ''}, so every client that reaches the "
        "port can run any command"
    )
    users = [user["name"] for user in facts["acl_users"] if user["has_password"] and user["name"] != "default"]
    also = f" (the passwords of ACL users {', '.join(users[:3])} do not cover the default user)" if users else ""
    message = (
        f"{_name(node)}no requirepass and the default user needs no password{also}, "
        f"while Redis listens on {listening_on(facts)}; {guard}{_reach(node)}"
    )
    # The line that leaves the default user open, else where the exposure is decided.
    declared_default = _last_user(node, "default")
    span = _span(declared_default) if declared_default else _anchor(node, "requirepass", "bind", "port")
    yield Hit(
        message,
        span=span,
        related=exposure_related(node, ctx),
        severity=_contained_severity(node),
        cause=no_password_cause(node),
        fix_here=True,
    )


def _last_user(node: Node, name: str) -> dict[str, Any] | None:
    found = None
    for entry in node.attrs["directives"]:
        if entry["setting"] == "user" and entry["counts"] and entry["args"][:1] == [name]:
            found = entry
    return found


def protected_mode_off(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    facts = node.facts
    if not _judged(node, ctx) or not _open_default_user(node):
        return
    protected, why_off, where_off = _protected_mode(node, ctx)
    if protected or not _beyond_loopback(node) or _flag_everywhere(node, ctx, "requirepass"):
        return
    what = f"protected mode is off ({why_off})" if why_off else "protected-mode no"
    message = (
        f"{_name(node)}{what} while the default user has no password and Redis listens on "
        f"{listening_on(facts)}: nothing stops a remote client from running any command{_reach(node)}"
    )
    related = where_off + exposure_related(node, ctx)
    yield Hit(
        message,
        span=_anchor(node, "protected-mode"),
        related=related,
        severity=_contained_severity(node),
        cause=no_password_cause(node),  # folded into redis-no-auth: a password fixes both
    )


def bind_all_interfaces(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    facts = node.facts
    if not _judged(node, ctx) or not listens_on_tcp(facts) or _contained(node):
        return  # in a container whose Redis port is not published, listening everywhere is how it is reached
    if facts["bind_explicit"]:
        wildcards = [entry for entry in facts["bind"] if is_wildcard(entry)]
        if not wildcards:
            return
        message = f"{_name(node)}bind {' '.join(wildcards)} listens on every network interface"
    else:
        message = f"{_name(node)}no bind line, so Redis listens on every network interface (its default '* -::*')"
    yield Hit(message + _reach(node), span=_anchor(node, "bind", "port"), related=exposure_related(node, ctx))


def no_maxmemory(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    facts = node.facts
    if not _judged(node, ctx) or facts["maxmemory"] != 0:
        return  # set, or a value Redis refuses (a parse error already)
    if _maxmemory_flag_everywhere(node, ctx):
        return  # `--maxmemory` on every command line that starts it sets the limit
    explicit = _effective(node, "maxmemory")
    what = "maxmemory 0 (no limit)" if explicit else "no maxmemory"
    limit = facts.get("memory_limit")  # set by the cross-format linkers when a container runs this config
    related: tuple[Related, ...] = ()
    if limit:
        shown = facts.get("memory_limit_text") or format_bytes(limit)
        owner = facts.get("memory_limit_label") or facts.get("memory_limit_of") or "its container"
        killer = f"the {shown} memory limit of {owner}"
        runner = ctx.graph.nodes.get(str(facts.get("memory_limit_of")))
        if runner is not None:
            related = (ctx.related(runner, "memory limit set here", tuple(facts.get("memory_limit_path") or ())),)
    else:
        killer = "the kernel or the container's memory limit"
    message = f"{_name(node)}{what}: Redis grows until {killer} kills it, and the eviction policy never applies"
    yield Hit(message, span=_anchor(node, "maxmemory", "maxmemory-policy"), related=related)


def noeviction_cache(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    facts = node.facts
    if not _judged(node, ctx) or not facts["maxmemory"] or facts["maxmemory_policy"] != "noeviction":
        return
    if facts["appendonly"]:
        return  # an AOF-persisted data store: refusing writes beats dropping keys
    policy = _effective(node, "maxmemory-policy")
    limit = _effective(node, "maxmemory")
    written = limit["args"][0] if limit else str(facts["maxmemory"])
    source = "maxmemory-policy noeviction" if policy else "no maxmemory-policy (so noeviction, the default)"
    message = (
        f"{_name(node)}maxmemory {written} with {source}: once full, every write fails "
        "with an OOM error instead of evicting keys"
    )
    yield Hit(message, span=_anchor(node, "maxmemory-policy", "maxmemory"))


def dangerous_commands(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    facts = node.facts
    if not _judged(node, ctx) or facts.get("aclfile") or not facts["default_user"]["enabled"]:
        return  # ACL users from a file are unknown here; a disabled default user runs nothing
    if _contained(node):
        return  # only the app's own containers/pods connect: hardening they would not act on
    renamed = facts["rename_commands"]
    may_run = facts["default_user_may_run"]
    blocked = _blocked_by_default(facts, _target_version(ctx))
    open_commands = [
        command.upper()
        for command in DANGEROUS_COMMANDS
        if command not in renamed and may_run.get(command, True) and command not in blocked
    ]
    if not open_commands:
        return
    message = (
        f"{_name(node)}{', '.join(open_commands)} neither renamed nor denied by ACL: any client that "
        "connects can wipe or move the data, stop or block the server, or change its configuration "
        f"or what it replicates{_reach(node)}"
    )
    first_rename = next((e for e in node.attrs["directives"] if e["setting"] == "rename-command"), None)
    where = first_rename or _last_user(node, "default")
    span = _span(where) if where is not None else _anchor(node)
    yield Hit(message, span=span, related=exposure_related(node, ctx))


# Commands Redis 7.0 and later refuse unless a directive enables them (`enable-debug-command`,
# `enable-module-command`: no by default; local or yes open them). Older releases run them.
COMMANDS_BLOCKED_SINCE_7 = {"debug": "enable_debug_command", "module": "enable_module_command"}


def _blocked_by_default(facts: dict[str, Any], target: tuple[int, ...] | None) -> set[str]:
    if target is not None and target < (7, 0):
        return set()
    return {command for command, fact in COMMANDS_BLOCKED_SINCE_7.items() if facts.get(fact, "no") == "no"}


def no_persistence(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    facts = node.facts
    if not _judged(node, ctx) or facts["rdb_enabled"] or facts["appendonly"]:
        return
    message = f'{_name(node)}snapshots off (save "") and appendonly no: every key is lost when Redis restarts'
    yield Hit(message, span=_last_save(node) or _anchor(node, "appendonly"))


def _last_save(node: Node) -> Span | None:
    saves = [entry for entry in node.attrs["directives"] if entry["setting"] == "save" and entry["counts"]]
    return _span(saves[-1]) if saves else None


MAX_SUGGESTIONS = 100  # did-you-mean costs a fuzzy match; a hostile file may hold 100k typos


def unknown_directive(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if not _judged(node, ctx):
        return
    from infralint.parsers.redis_directives import too_new

    suggested = 0
    target = _target_version(ctx)
    # A module's config is queued until the module loads; with no loadmodule at all (and every
    # include read), redis-server aborts at start-up.
    modules_possible = any(entry["setting"] == "loadmodule" for entry in node.attrs["directives"]) or any(
        not include["followed"] for include in node.facts["includes"]
    )
    for entry in node.attrs["directives"]:
        if target is not None and entry["known"] and too_new(entry["since"], target):
            since, wanted = entry["since"], ".".join(map(str, target))
            message = f"{_name(node)}directive '{entry['name']}' needs Redis {since} or later: redis-server {wanted} (the target version) refuses to start"
            yield Hit(message, span=_span(entry))
            continue
        if entry["module_config"] and not modules_possible:
            message = (
                f"{_name(node)}module config '{entry['name'][:60]}' but no loadmodule: redis-server refuses to start"
            )
            yield Hit(message, span=_span(entry))
            continue
        if entry["known"] or entry["module_config"]:
            continue
        name = entry["name"]
        shown = name if len(name) <= 60 else name[:57] + "..."
        suggested += 1
        guess = suggestion(name) if suggested <= MAX_SUGGESTIONS else None
        hint = f" (did you mean '{guess}'?)" if guess else ""
        message = f"{_name(node)}unknown directive '{shown}'{hint}: redis-server refuses to start"
        yield Hit(message, span=_span(entry))


def _target_version(ctx: RuleContext) -> tuple[int, ...] | None:
    """The Redis release the config is for (rule option redis_version); None: any release."""
    text = str(ctx.options.get("redis_version", "latest")).strip()
    parts = text.split(".")
    return tuple(int(part) for part in parts) if all(part.isdecimal() for part in parts) else None


def no_tls(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    facts = node.facts
    if not _judged(node, ctx) or (facts["tls_port"] or 0) > 0 or not listens_on_tcp(facts):
        return
    if not _beyond_loopback(node) or _contained(node):
        return  # loopback only, or only other containers/pods on its own network connect
    message = (
        f"{_name(node)}no tls-port while Redis listens on {listening_on(facts)}: "
        f"passwords and data cross the network in clear text{_reach(node)}"
    )
    yield Hit(message, span=_anchor(node, "port", "bind"), related=exposure_related(node, ctx))


CHECKS: dict[str, CheckFn] = {
    "redis-no-auth": no_auth,
    "redis-protected-mode-off": protected_mode_off,
    "redis-bind-all-interfaces": bind_all_interfaces,
    "redis-no-maxmemory": no_maxmemory,
    "redis-noeviction-cache": noeviction_cache,
    "redis-dangerous-commands": dangerous_commands,
    "redis-no-persistence": no_persistence,
    "redis-unknown-directive": unknown_directive,
    "redis-no-tls": no_tls,
}
