"""Redis security checks from Redis's own advice: protected configs, passwords, TLS, replication and ACLs.

Each judges one config node (a redis.conf with its includes), as the rules of checks/redis.py do,
and shares their sense of who can connect: the bind addresses, narrowed by the graph's exposure
when the scan knows the container that runs the config.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infralint.checks.exposure import exposure_related
from infralint.checks.redis import (
    _beyond_loopback,
    _contained_severity,
    _effective,
    _flag_everywhere,
    _judged,
    _name,
    _open_default_user,
    _reach,
    _runners,
    _span,
)
from infralint.findings import Related, Severity
from infralint.graph.model import Graph, Node
from infralint.graph.mounts import server_flags
from infralint.graph.redis_links import is_loopback, listening_on
from infralint.rules.meta import CheckFn, Hit, RuleContext
from infralint.source import Span

# --- redis-protected-configs-enabled ---------------------------------------------------------

# What a client may do once each directive lets it (Redis 7 blocks all three by default).
PROTECTED_DIRECTIVES = {
    "enable-protected-configs": (
        "enable_protected_configs",
        "CONFIG SET dir and dbfilename, so a client can make Redis write its data to any file the "
        "server user may write (a crontab, an authorized_keys file)",
    ),
    "enable-module-command": (
        "enable_module_command",
        "MODULE LOAD, so a client can load a shared library: native code running as the Redis user",
    ),
    "enable-debug-command": (
        "enable_debug_command",
        "DEBUG, so a client can crash the server, stall it or change its internals",
    ),
}


def protected_configs_enabled(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if not _judged(node, ctx):
        return
    for directive, (fact, danger) in PROTECTED_DIRECTIVES.items():
        value = node.facts.get(fact, "no")
        entry = _effective(node, directive)
        if value == "no" or entry is None:
            continue
        severity, who = _protected_severity(node, ctx, value)
        message = f"{_name(node)}{directive} {value} allows {danger}; {who}"
        yield Hit(message, span=_span(entry), severity=severity)


def _protected_severity(node: Node, ctx: RuleContext, value: str) -> tuple[Severity | None, str]:
    """`local`, or a server only local clients reach: a note. With a password: a warning. Else the
    rule's error: whoever reaches the port can do it."""
    if value == "local":
        return Severity.NOTE, "only clients on the server's own host (loopback or unix socket) may"
    if not _beyond_loopback(node):
        return Severity.NOTE, "Redis listens on loopback only, so that is every local process"
    if not _open_default_user(node) or _flag_everywhere(node, ctx, "requirepass"):
        return Severity.WARNING, "any client that logs in may, and a leaked password is then code execution"
    return None, f"any client that reaches {listening_on(node.facts)} may, without a password{_reach(node)}"


# --- redis-weak-password ---------------------------------------------------------------------


def weak_password(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    facts = node.facts
    if not _judged(node, ctx):
        return
    for weak in facts.get("weak_passwords") or ():
        setting = weak["setting"]
        if setting == "requirepass" and _flag_everywhere(node, ctx, "requirepass"):
            continue  # the command line's --requirepass replaces it
        if not _password_guards_network(node, setting):
            continue
        message = (
            f"{_name(node)}{_setting_label(setting)} is {weak['reason']}: Redis answers AUTH fast enough "
            f"for a client to try a million passwords a second{_reach(node)}"
        )
        yield Hit(message, span=_span(weak), related=exposure_related(node, ctx), severity=_contained_severity(node))


def _password_guards_network(node: Node, setting: str) -> bool:
    """Whether clients beyond loopback can try the password: this server's own, when it listens
    beyond loopback; masterauth, the primary's, also when the primary is on another host."""
    if _beyond_loopback(node):
        return True
    primary = node.facts.get("replicaof") or {}
    return setting == "masterauth" and "host" in primary and not is_loopback(str(primary["host"]))


def _setting_label(setting: str) -> str:
    if setting.startswith("user "):
        return f"the password of ACL user '{setting[5:]}'"
    return f"the {setting} password"


# --- redis-plaintext-port-with-tls -----------------------------------------------------------


def plaintext_port_with_tls(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    facts = node.facts
    if not _judged(node, ctx) or (facts["tls_port"] or 0) <= 0 or (facts["port"] or 0) <= 0:
        return
    if not _beyond_loopback(node) or _flag_everywhere_is(node, ctx, "port", "0"):
        return  # loopback only, or every command line closes the plain port
    message = (
        f"{_name(node)}tls-port {facts['tls_port']} is set but port {facts['port']} still takes clear-text "
        f"clients on {listening_on(facts)}: a client, or an attacker in the path, can skip TLS; "
        f"set port 0{_reach(node)}"
    )
    entry = _effective(node, "port") or _effective(node, "tls-port")
    yield Hit(message, span=_span(entry) if entry else node.span, related=exposure_related(node, ctx))


def _flag_everywhere_is(node: Node, ctx: RuleContext, flag: str, value: str) -> bool:
    found = _runners(node, ctx)
    return bool(found) and all((server_flags(runner) or {}).get(flag) == value for runner in found)


# --- redis-weak-tls --------------------------------------------------------------------------

WEAK_TLS_PROTOCOLS = ("tlsv1", "tlsv1.1")


def weak_tls(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    protocols = node.facts.get("tls_protocols") or []
    weak = [protocol for protocol in protocols if protocol.lower() in WEAK_TLS_PROTOCOLS]
    entry = _effective(node, "tls-protocols")
    if not _judged(node, ctx) or not weak or entry is None:
        return
    message = (
        f"{_name(node)}tls-protocols enables {' and '.join(weak)}: deprecated protocols (RFC 8996) with "
        "known attacks; Redis's default is TLSv1.2 and TLSv1.3"
    )
    yield Hit(message, span=_span(entry))


# --- redis-replica-no-masterauth (graph) -----------------------------------------------------


def replica_no_masterauth(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if not _judged(node, ctx):
        return
    primary = _primary_address(node)
    if primary is None or node.facts.get("masterauth_set") or _flag_everywhere(node, ctx, "masterauth"):
        return
    host, where = primary
    alone = " (masteruser alone sends no AUTH)" if node.facts.get("masteruser") else ""
    found = _primaries(ctx.graph, node, host)
    guarded = [(target, why) for target, why in found if why]
    if guarded:
        target, why = guarded[0]
        message = (
            f"{_name(node)}replicaof {host} without masterauth{alone}, but the primary {why}: the replica "
            "is refused (NOAUTH) and never syncs"
        )
        yield Hit(message, span=where, related=(_primary_related(ctx, target),))
        return
    if found:
        return  # the primary is in the scan and asks for no password
    message = (
        f"{_name(node)}replicaof {host} without masterauth{alone}: if the primary requires a password "
        "(it should), the replica is refused and never syncs; the scan does not hold the primary's config"
    )
    yield Hit(message, span=where, severity=Severity.NOTE)


def _primary_address(node: Node) -> tuple[str, Span] | None:
    """The primary's host and the replicaof line that names it."""
    replicaof = node.facts.get("replicaof")
    entry = _effective(node, "replicaof")
    if not replicaof or entry is None:
        return None
    return str(replicaof["host"]), _span(entry)


def _primaries(graph: Graph, replica: Node, host: str) -> list[tuple[Node, str]]:
    """The servers HOST names where the replica runs, each with why it needs a password ("" if it
    does not): a Redis config some runner of the target runs, or the target's own --requirepass."""
    from infralint.graph.upstreams import resolve

    targets = resolve(graph, replica, host) or []
    found: list[tuple[Node, str]] = []
    for runner in _target_runners(graph, targets):
        configs = [c for c in _configs_run_by(graph, runner) if c is not replica]
        flags = server_flags(runner) or {}
        if flags.get("requirepass"):
            found.append((runner, f"{_runner_name(runner)} sets --requirepass"))
            continue
        for config in configs:
            found.append((config, _needs_password(config)))
    return found


def _primary_related(ctx: RuleContext, primary: Node) -> Related:
    """The primary's password line (requirepass, else its `user default` line), else the primary."""
    if "redis/config" in primary.kinds:
        entry = _effective(primary, "requirepass") or _last_default_user(primary)
        if entry is not None:
            return Related(_span(entry), "the primary's password is set here")
    return ctx.related(primary, "primary defined here")


def _last_default_user(config: Node) -> dict[str, Any] | None:
    found = [
        e for e in config.attrs["directives"] if e["setting"] == "user" and e["counts"] and e["args"][:1] == ["default"]
    ]
    return found[-1] if found else None


def _needs_password(config: Node) -> str:
    facts = config.facts
    where = f"'{config.facts.get('config')}'"
    if facts.get("aclfile"):
        return ""  # its users are in a file the scan does not read
    if facts.get("requirepass_set"):
        return f"config {where} sets requirepass"
    default = facts.get("default_user") or {}
    if not default.get("enabled") or not default.get("nopass"):
        return f"config {where} gives the default user a password (or turns it off)"
    return ""


def _target_runners(graph: Graph, targets: list[Node]) -> list[Node]:
    """Compose services as they are; a k8s Service's selected workloads' containers."""
    runners: list[Node] = []
    for target in targets:
        if target.kind == "compose/service":
            runners.append(target)
            continue
        for workload in graph.outgoing(target, "selects"):
            runners += [
                n for n in graph.of_kind("k8s/container") if n.facts.get("workload") == workload.id and n not in runners
            ]
    return runners


def _configs_run_by(graph: Graph, runner: Node) -> list[Node]:
    return [config for config in graph.of_kind("redis/config") if runner.id in (config.facts.get("runs_in") or ())]


def _runner_name(runner: Node) -> str:
    from infralint.graph.exposure import runner_label

    return runner_label(runner)


# --- redis-acl-overbroad-user ----------------------------------------------------------------


def acl_overbroad_user(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    facts = node.facts
    if not _judged(node, ctx) or not facts["acl_users"]:
        return  # no `user` line: the ACL is not in use (an aclfile is not read)
    full = list(facts.get("full_access_users") or [])
    if len(full) < 2:
        return
    admin, others = full[0], full[1:]
    admin_line = _user_line(node, admin)
    related: tuple[Related, ...] = ()
    if admin_line is not None:
        related = (Related(_span(admin_line), f"user '{admin}', the administrator, defined here"),)
    admin_text = f"'{admin}'" if admin_line is not None else f"'{admin}' (its implicit +@all ~* &*)"
    for name in others:
        entry = _user_line(node, name)
        if entry is None:
            continue
        message = (
            f"{_name(node)}ACL user '{name}' may run every command on every key (+@all ~*), as user "
            f"{admin_text} does: one leaked password of either gives away the whole server; grant an "
            "application user only the commands and key patterns it needs"
        )
        yield Hit(message, span=_span(entry), related=related)


def _user_line(node: Node, name: str) -> dict[str, Any] | None:
    return next(
        (e for e in node.attrs["directives"] if e["setting"] == "user" and e["counts"] and e["args"][:1] == [name]),
        None,
    )


# --- redis-replication-no-tls ----------------------------------------------------------------


def replication_no_tls(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    facts = node.facts
    if not _judged(node, ctx) or (facts["tls_port"] or 0) <= 0:
        return  # no TLS for clients: redis-no-tls speaks for the whole server
    if facts.get("replicaof") and not facts["tls_replication"]:
        entry = _effective(node, "tls-replication") or _effective(node, "replicaof")
        message = (
            f"{_name(node)}clients use TLS (tls-port {facts['tls_port']}), but replication from "
            f"{facts['replicaof']['host']} is clear text: every key and the masterauth password cross "
            "the network readable; set tls-replication yes"
        )
        yield Hit(message, span=_span(entry) if entry else node.span)
    if facts.get("cluster_enabled"):
        clear = [
            what
            for what, on in (("the cluster bus", facts["tls_cluster"]), ("replication", facts["tls_replication"]))
            if not on
        ]
        if clear:
            entry = _effective(node, "tls-cluster") or _effective(node, "cluster-enabled")
            fixes = " and ".join(f"tls-{'cluster' if 'bus' in what else 'replication'} yes" for what in clear)
            message = (
                f"{_name(node)}clients use TLS (tls-port {facts['tls_port']}), but between cluster nodes "
                f"{' and '.join(clear)} {'are' if len(clear) > 1 else 'is'} clear text; set {fixes}"
            )
            yield Hit(message, span=_span(entry) if entry else node.span)


CHECKS: dict[str, CheckFn] = {
    "redis-protected-configs-enabled": protected_configs_enabled,
    "redis-weak-password": weak_password,
    "redis-plaintext-port-with-tls": plaintext_port_with_tls,
    "redis-weak-tls": weak_tls,
    "redis-replica-no-masterauth": replica_no_masterauth,
    "redis-acl-overbroad-user": acl_overbroad_user,
    "redis-replication-no-tls": replication_no_tls,
}
