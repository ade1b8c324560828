"""HAProxy rules. Each reads a section node whose effective settings (its `defaults` applied)
the parser has already resolved, so a value set once in `defaults` counts everywhere."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from infralint.checks.exposure import reachable_from_outside
from infralint.findings import Related
from infralint.folding import listed
from infralint.graph.model import Node
from infralint.parsers import haproxy_model as model
from infralint.rules.meta import CheckFn, Hit, RuleContext

FRONTEND_TIMEOUTS = ("client",)
BACKEND_TIMEOUTS = ("connect", "server")
# Health checks that are not plain TCP connects: choosing one is a deliberate decision.
CHECK_OPTIONS = (
    "httpchk",
    "tcp-check",
    "ssl-hello-chk",
    "smtpchk",
    "ldap-check",
    "mysql-check",
    "pgsql-check",
    "redis-check",
    "spop-check",
    "external-check",
)
WEAK_PROTOCOLS = {"SSLv3": "SSLv3", "TLSv1.0": "TLSv1.0", "TLSv1.1": "TLSv1.1"}
FORCED_WEAK = {"force-sslv3": "SSLv3", "force-tlsv10": "TLSv1.0", "force-tlsv11": "TLSv1.1"}
# Actions that restrict who reaches a proxy's pages (stats included).
RESTRICTING_ACTIONS = ("auth", "deny", "reject", "silent-drop", "tarpit", "return")
# Sample fetches that read a backend's state (`nbsrv(be)`, `srv_is_up(be/srv)`) without sending it traffic.
_BACKEND_STATE_FETCH = re.compile(
    r"\b(avg_queue|be_conn|be_conn_free|be_sess_rate|connslots|nbsrv|queue|srv_conn|srv_conn_free"
    r"|srv_is_up|srv_queue|srv_sess_rate|srv_iweight|srv_uweight|srv_weight)\(([^),]*)"
)
# A server address that is one environment variable: `$NAME`, `${NAME}`, `${NAME-default}`.
_WHOLE_VARIABLE = re.compile(r"^\$(?:\{(?P<braced>[A-Za-z_]\w*)(?:-(?P<default>[^}]*))?\}|(?P<bare>[A-Za-z_]\w*))$")
_VARIABLE_THEN_PATH = re.compile(r"^\$(?:\{[A-Za-z_]\w*\}|[A-Za-z_]\w*)/")
_CHECK_ONLY = "haproxy/check-only"  # graph.indexes key: ids of the backends only read by sample fetches


def is_http(node: Node) -> bool:
    return node.attrs.get("mode") == "http"


def keyword_rules(node: Node, keyword: str) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = node.attrs.get("rules", {}).get(keyword, [])
    return rules


def option_enabled(node: Node, name: str) -> bool:
    entry = node.attrs.get("options", {}).get(name)
    return bool(entry and entry["enabled"])


def _turned_off(node: Node, name: str) -> bool:
    """`no option NAME` in the proxy or its defaults: written out, so chosen."""
    entry = node.attrs.get("options", {}).get(name)
    return bool(entry) and not entry["enabled"]


def section_label(node: Node) -> str:
    name = node.attrs.get("name")
    return f"{node.facts['section']} '{name}'" if name else str(node.facts["section"])


def _server_place(server: dict[str, Any]) -> str:
    """Where a server is: "socket" (a unix/abstract socket of this host), "unknown" (an environment
    variable that is the whole address, with no host:port shape to judge), else "network"."""
    if server.get("local") or _VARIABLE_THEN_PATH.match(server["address"]):
        return "socket"
    whole = _WHOLE_VARIABLE.match(server["address"])
    if whole is None:
        return "network"
    default = whole.group("default")
    if default:  # `${NAME-default}`: the default is what haproxy uses when NAME is unset
        return _server_place(model.parse_address(default))
    name = whole.group("braced") or whole.group("bare")
    return "socket" if "SOCK" in name.upper() else "unknown"  # $SOCKET_PATH, ${DOCKER_SOCK}


def _serves_local_sockets(node: Node) -> bool:
    """A proxy whose every server is a socket of this host (a local daemon such as dockerd)."""
    servers = node.attrs.get("servers", [])
    return bool(servers) and all(_server_place(server) == "socket" for server in servers)


def _check_only(node: Node, ctx: RuleContext) -> bool:
    """A backend no use_backend/default_backend routes to, whose state other proxies read with
    sample fetches (`nbsrv(be)`, `srv_is_up(be/srv)`, a server's `track be/srv`): it exists for its
    health checks and carries no traffic. Never when some proxy of the config picks its backend
    at run time (`use_backend %[...]`): that may route to it."""
    found: dict[str | None, set[str]] | None = ctx.graph.indexes.get(_CHECK_ONLY)
    if found is None:
        found = ctx.graph.indexes[_CHECK_ONLY] = _find_check_only(ctx)
    return node.id in found.get(node.facts.get("config_group"), set())


def _find_check_only(ctx: RuleContext) -> dict[str | None, set[str]]:
    proxies: dict[str | None, list[Node]] = {}
    for node in ctx.graph.of_kind("haproxy/proxy", "haproxy/defaults"):
        proxies.setdefault(node.facts.get("config_group"), []).append(node)
    found: dict[str | None, set[str]] = {}
    for group, members in proxies.items():
        if any(ref["dynamic"] for proxy in members for ref in proxy.attrs.get("backend_refs", [])):
            continue
        read_by_others = {name for proxy in members for name in _backends_read(proxy)}
        found[group] = {
            proxy.id
            for proxy in members
            if proxy.facts["section"] == "backend"
            and proxy.attrs.get("name") in read_by_others
            and not ctx.graph.incoming(proxy, "routes_to")
        }
    return found


def _backends_read(proxy: Node) -> set[str]:
    """Names of the other backends PROXY reads the state of, with a sample fetch or `track`."""
    names = set()
    for directive in proxy.attrs.get("directives", []):
        for word in directive["args"]:
            for fetch, argument in _BACKEND_STATE_FETCH.findall(word):
                names.add(_backend_of(argument.strip(), names_a_server=fetch.startswith("srv_")))
    for server in proxy.attrs.get("servers", []):
        if isinstance(server.get("track"), str):
            names.add(_backend_of(server["track"], names_a_server=True))
    names.discard("")
    names.discard(proxy.attrs.get("name") or "")
    return names


def _backend_of(argument: str, names_a_server: bool) -> str:
    """The backend a fetch argument names: `be/srv` for a server, `be` alone otherwise; a server
    without its backend (`srv_is_up(srv)`) is one of the reading proxy's own."""
    backend, slash, _ = argument.partition("/")
    if names_a_server:
        return backend if slash else ""
    return argument


def _timeouts_gap(node: Node) -> str | None:
    if node.attrs.get("disabled"):
        return None
    wanted: list[str] = []
    if "haproxy/frontend-side" in node.kinds:
        wanted += FRONTEND_TIMEOUTS
    if "haproxy/backend-side" in node.kinds and node.attrs.get("servers"):
        wanted += BACKEND_TIMEOUTS  # like haproxy: a backend without servers connects nowhere
    if not wanted:
        return None
    missing = [name for name in wanted if name not in node.attrs.get("timeouts", {})]
    return ", ".join(f"timeout {name}" for name in missing)


def missing_timeouts(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    yield from absence(
        node,
        ctx,
        ("timeouts", "haproxy/proxy"),
        _timeouts_gap,
        lambda who, gap: f"{who} has no {gap} (neither its own nor from a defaults section)",
    )


def server_no_health_check(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    count, _ = _server_count(node)
    for server in node.attrs.get("servers", []):
        if server["check"] or server["disabled"] or "no-check" in server["options"]:
            continue  # `no-check` on the server line is a decision (it overrides default-server)
        if count < 2 and _server_place(server) != "network":
            continue  # the only server, a local socket (or unknown): a check has nowhere else to send traffic
        yield Hit(
            f"server '{server['name']}' in {section_label(node)} has no 'check': a dead server keeps receiving traffic",
            tuple(server["path"]),
        )


def http_backend_tcp_check(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if not is_http(node) or keyword_rules(node, "http-check"):
        return
    if any(option_enabled(node, name) for name in CHECK_OPTIONS):
        return
    checked = [s for s in node.attrs.get("servers", []) if s["check"] and not s.get("track")]
    if checked:
        first = checked[0]
        yield Hit(
            f"{section_label(node)} is mode http but checks servers with a TCP connect only (server '{first['name']}'):"
            " add 'option httpchk'",
            tuple(first["path"]),
        )


def _server_count(node: Node) -> tuple[int, bool]:
    servers = node.attrs.get("servers", [])
    return sum(s["count"] for s in servers), any(s["backup"] for s in servers)


def single_server_backend(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    count, has_backup = _server_count(node)
    if count != 1 or has_backup or _check_only(node, ctx):
        return
    server = node.attrs["servers"][0]
    if _server_place(server) != "network":
        return  # a daemon on this host's socket (or an address only known at run time): no other host to add
    yield Hit(f"{section_label(node)} has a single server ('{server['name']}') and no backup")


def _version(node: Node, ctx: RuleContext) -> tuple[int, int] | None:
    """The HAProxy version: from the graph (image tag) when known, else the rule option."""
    text = node.facts.get("haproxy_version") or ctx.options.get("haproxy_version") or "unknown"
    parts = str(text).split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        return None


def _global_bind_options(node: Node, ctx: RuleContext) -> tuple[list[str], Node | None]:
    config = node.facts.get("config")
    for candidate in ctx.graph.of_kind("haproxy/global"):
        if candidate.facts.get("config") == config:
            return list(candidate.attrs.get("ssl_default_bind_options", [])), candidate
    return [], None


def _weakness(options: dict[str, Any] | list[str]) -> tuple[str, str] | None:
    """(offending option, protocol) when these bind options let a client below TLS 1.2 in."""
    if isinstance(options, list):
        as_dict: dict[str, Any] = {}
        words = iter(options)
        for word in words:
            as_dict[word] = next(words, True) if word in ("ssl-min-ver", "ssl-max-ver") else True
        options = as_dict
    for flag, protocol in FORCED_WEAK.items():
        if flag in options:
            return flag, protocol
    for name in ("ssl-min-ver", "ssl-max-ver"):
        value = options.get(name)
        if isinstance(value, str) and value in WEAK_PROTOCOLS:
            return name, value
    return None


def _has_minimum(options: dict[str, Any] | list[str]) -> bool:
    names = set(options)
    return (
        "ssl-min-ver" in names
        or {"no-tlsv10", "no-tlsv11"} <= names
        or "force-tlsv12" in names
        or "force-tlsv13" in names
    )


def weak_tls(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    global_options, global_node = _global_bind_options(node, ctx)
    version = _version(node, ctx)
    old = version is not None and version < (2, 2)
    for bind in node.attrs.get("binds", []):
        if not bind["ssl"]:
            continue
        path = tuple(bind["path"])
        own = bind["options"]
        weak = _weakness(own)
        if weak is not None:
            yield Hit(
                f"bind {bind['address']} in {section_label(node)} allows {weak[1]} ('{weak[0]}'): require TLSv1.2 or later",
                (*path, "options", weak[0]),
            )
            continue
        if "ssl-min-ver" in own or _has_minimum(own):
            continue
        weak = _weakness(global_options)
        if weak is not None and global_node is not None:
            related = (
                ctx.related(global_node, "ssl-default-bind-options set here", ("settings", "ssl-default-bind-options")),
            )
            yield Hit(
                f"bind {bind['address']} in {section_label(node)} allows {weak[1]} through the global"
                f" ssl-default-bind-options ('{weak[0]}')",
                path,
                related=related,
            )
        elif old and not _has_minimum(global_options):
            yield Hit(
                f"bind {bind['address']} in {section_label(node)} sets no minimum TLS version: HAProxy before 2.2"
                " accepts TLSv1.0 by default (add 'ssl-min-ver TLSv1.2')",
                path,
            )


def _redirects_to_https(node: Node) -> bool:
    for rule in keyword_rules(node, "redirect"):
        if _https_redirect(rule["args"]):
            return True
    for rule in keyword_rules(node, "http-request"):
        args = rule["args"]
        if args[:1] == ["redirect"] and _https_redirect(args[1:]):
            return True
    return False


def _https_redirect(args: list[str]) -> bool:
    if len(args) < 2:
        return False
    kind, target = args[0], args[1]
    if kind == "scheme":
        return target.lower() == "https"
    return kind in ("prefix", "location") and target.lower().startswith("https://")


def _fronts_local_daemon(node: Node, ctx: RuleContext) -> bool:
    """Every backend NODE can send requests to serves from a socket of this host: a local API
    proxy (docker-socket-proxy), whose clients are programs, not browsers."""
    if any(ref["dynamic"] for ref in node.attrs.get("backend_refs", [])):
        return False
    reachable = ctx.graph.outgoing(node, "routes_to")
    if "haproxy/backend-side" in node.kinds:
        reachable.append(node)
    serving = [proxy for proxy in reachable if proxy.attrs.get("servers")]
    return bool(serving) and all(_serves_local_sockets(proxy) for proxy in serving)


def plain_http_frontend(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    if not is_http(node) or node.facts.get("exposed") is False or node.attrs.get("disabled"):
        return
    if _redirects_to_https(node):
        return
    local_api = _fronts_local_daemon(node, ctx)
    for bind in node.attrs.get("binds", []):
        # `direct` False: the graph knows no published port or NodePort/LoadBalancer Service leads
        # to this bind (internal, or behind an Ingress that holds the client's TLS).
        if bind["ssl"] or bind["loopback"] or bind.get("direct") is False:
            continue
        if local_api and not bind.get("direct"):
            continue  # judged only when the graph shows the daemon's API published to other machines
        message = f"{section_label(node)} serves plain HTTP on {bind['address']} and does not redirect to https"
        related: tuple[Related, ...] = ()
        if bind.get("direct"):
            reach, related = reachable_from_outside(node, ctx)
            message += reach
        yield Hit(message, tuple(bind["path"]), related=related)


def _stats_lines(node: Node, own_only: bool) -> list[tuple[int, dict[str, Any]]]:
    return [(i, rule) for i, rule in enumerate(keyword_rules(node, "stats")) if not (own_only and rule["inherited"])]


def _restricted(node: Node) -> bool:
    stats = [rule["args"] for rule in keyword_rules(node, "stats")]
    if any(args[:1] == ["auth"] or args[:1] == ["http-request"] for args in stats):
        return True
    for keyword in ("http-request", "tcp-request"):
        for rule in keyword_rules(node, keyword):
            args = rule["args"]
            action = args[1] if keyword == "tcp-request" and len(args) > 1 else (args[0] if args else "")
            if action in RESTRICTING_ACTIONS:
                return True
    binds = node.attrs.get("binds", [])
    return bool(binds) and all(bind["loopback"] for bind in binds)


def _stats_admin(node: Node) -> bool:
    """`stats admin`: visitors may drain, disable or re-weight servers."""
    return any(rule["args"][:1] == ["admin"] for rule in keyword_rules(node, "stats"))


def _internal_only(node: Node, ctx: RuleContext) -> bool:
    """The graph knows every listener that serves this stats page and none is reachable from
    outside the container or cluster network (no published port, NodePort, LoadBalancer, Ingress
    or host network). A defaults section: every proxy that takes it is such a listener."""
    if "haproxy/defaults" not in node.kinds:
        return node.facts.get("exposed") is False
    users = [
        proxy
        for proxy in ctx.graph.of_kind("haproxy/frontend-side")
        if proxy.attrs.get("defaults") == node.id and not proxy.attrs.get("disabled")
    ]
    return bool(users) and all(proxy.facts.get("exposed") is False for proxy in users)


def stats_no_auth(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """Reported where the stats page is switched on: a defaults section once, not every proxy after it."""
    enabling = [
        (index, rule) for index, rule in _stats_lines(node, own_only=True) if rule["args"][:1] in (["enable"], ["uri"])
    ]
    if not enabling or _restricted(node) or node.attrs.get("disabled"):
        return
    if not _stats_admin(node) and _internal_only(node, ctx):
        return  # a read-only page only the container's or the cluster's own network reaches
    index, rule = enabling[0]
    yield Hit(
        f"{section_label(node)} enables the stats page ('stats {' '.join(rule['args'])}') without 'stats auth'"
        " or an access restriction",
        ("rules", "stats", index),
    )


def undefined_backend(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    backends = ctx.graph.indexes.get("haproxy_backends", {}).get(node.facts.get("config_group"), {})
    for ref in node.attrs.get("backend_refs", []):
        if ref["dynamic"] or ref["inherited"] or ref["target"] in backends:
            continue
        yield Hit(
            f"{ref['keyword']} in {section_label(node)} names backend '{ref['target']}', which is not defined",
            tuple(ref["path"]),
        )


def _adds_forwarded_for(node: Node) -> bool:
    if option_enabled(node, "forwardfor") or option_enabled(node, "forwarded"):
        return True
    for rule in keyword_rules(node, "http-request"):
        args = rule["args"]
        if args[:1] in (["set-header"], ["add-header"]) and len(args) > 1 and args[1].lower() == "x-forwarded-for":
            return True
    return False


def _forwardfor_gap(node: Node, ctx: RuleContext) -> str | None:
    """On the proxy that accepts clients; a backend it routes to may add the header instead."""
    if not is_http(node) or node.attrs.get("disabled"):
        return None
    # A daemon on a local socket does not read X-Forwarded-For: backends serving from sockets are left out.
    targets = [target for target in ctx.graph.outgoing(node, "routes_to") if not _serves_local_sockets(target)]
    forwards_itself = (
        "haproxy/backend-side" in node.kinds and node.attrs.get("servers") and not _serves_local_sockets(node)
    )
    if not targets and not forwards_itself:
        return None  # nothing is proxied from here (redirects, stats pages, returns)
    if _adds_forwarded_for(node):
        return ""
    if targets and all(_adds_forwarded_for(target) for target in targets) and not forwards_itself:
        return ""
    return "option forwardfor"


def no_forwardfor(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    yield from absence(
        node,
        ctx,
        ("forwardfor", "haproxy/frontend-side"),
        lambda proxy: _forwardfor_gap(proxy, ctx),
        lambda who, _: (
            f"{who} is mode http without 'option forwardfor': servers see HAProxy's address, not the client's"
        ),
    )


# A check only the server holding one role passes: Redis `info replication` answering
# `role:master`; Patroni's endpoints of the primary, answering 200 there alone.
_ROLE_EXPECTED = re.compile(r"role:master", re.IGNORECASE)
_PRIMARY_PATH = re.compile(r"^/(?:master|primary|leader|read-write)(?:[/?]|$)")


def _pinned_by_use_server(node: Node) -> bool:
    """`use-server` rules name every active server: the rules, not the balancing, pick the one
    that takes traffic (the current master), and a redispatched retry would go to another."""
    servers = [s for s in node.attrs.get("servers", []) if not s["backup"]]
    named = {rule["args"][0] for rule in keyword_rules(node, "use-server") if rule["args"]}
    return bool(servers) and all(not s["template"] and s["name"] in named for s in servers)


def _check_passes_one_role(node: Node) -> bool:
    """Every active server is checked by a check only the primary passes, so one server at a
    time is up: a redispatched retry has no healthy peer to go to."""
    servers = [s for s in node.attrs.get("servers", []) if not s["backup"]]
    if not servers or not all(s["check"] for s in servers):
        return False
    if option_enabled(node, "tcp-check"):
        expects = [rule["args"][1:] for rule in keyword_rules(node, "tcp-check") if rule["args"][:1] == ["expect"]]
        return any(_ROLE_EXPECTED.search(word) for words in expects for word in words)
    if option_enabled(node, "httpchk"):
        return any(_PRIMARY_PATH.match(word) for word in _http_check_words(node))
    return False


def _http_check_words(node: Node) -> list[str]:
    """The words of `option httpchk` and of `http-check send` (the method, the URI ...)."""
    words = list(node.attrs["options"]["httpchk"]["args"])
    for rule in keyword_rules(node, "http-check"):
        if rule["args"][:1] == ["send"]:
            words += rule["args"][1:]
    return words


def _redispatch_gap(node: Node, ctx: RuleContext) -> str | None:
    count, _ = _server_count(node)
    if count < 2 or _check_only(node, ctx):
        return None  # a check-only backend has no requests to retry
    if _pinned_by_use_server(node) or _check_passes_one_role(node):
        return None  # one server takes traffic at a time, by design
    if option_enabled(node, "redispatch") or _turned_off(node, "redispatch"):
        return ""  # `no option redispatch` is a decision, not an omission
    return f"{count} servers"


def no_retries_redispatch(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    yield from absence(
        node,
        ctx,
        ("redispatch", "haproxy/backend-side"),
        lambda proxy: _redispatch_gap(proxy, ctx),
        lambda who, gap: f"{who} has {gap} but no 'option redispatch': a retry stays on the failed server",
    )


# -- a setting every proxy lacks is fixed once, in their defaults section ----------------------------

_SHARED_GAPS = "haproxy/shared-gaps"  # graph.indexes key: (rule, config, defaults) -> the proxies lacking it
Gap = Callable[[Node], "str | None"]  # what a proxy lacks: "" nothing, None not judged by the rule


def absence(
    node: Node,
    ctx: RuleContext,
    key: tuple[str, str],
    gap: Gap,
    describe: Callable[[str, str], str],
    path: tuple[Any, ...] = (),
) -> Iterator[Hit]:
    """What NODE lacks. When two or more proxies judged under one defaults section all lack the
    same thing, it is reported once, at that defaults section (or at the first of them when they
    have none), naming them: the fix is one line there, not one per proxy."""
    lacking = gap(node)
    if not lacking:
        return
    group = _sharing(node, ctx, key, gap)
    if node.id not in group:
        yield Hit(describe(section_label(node), lacking), path)
        return
    if node.id != group[0]:
        return
    proxies = [ctx.graph.nodes[proxy_id] for proxy_id in group]
    names = listed([section_label(proxy) for proxy in proxies])
    defaults = ctx.graph.nodes.get(node.attrs.get("defaults") or "")
    if defaults is None:
        who = f"every proxy of this config ({names})"
        yield Hit(describe(who, lacking) + ": set it once in a defaults section", path)
        return
    named = f" '{defaults.attrs['name']}'" if defaults.attrs.get("name") else ""
    who = f"every proxy under this defaults section{named} ({names})"
    related = tuple(ctx.related(proxy, f"{section_label(proxy)} uses this defaults section") for proxy in proxies)
    yield Hit(describe(who, lacking) + ": set it once here", span=defaults.span, related=related)


def _sharing(node: Node, ctx: RuleContext, key: tuple[str, str], gap: Gap) -> list[str]:
    """Ids of the proxies (in file order) that share NODE's defaults section, when every one of
    them the rule judges (KEY: the rule's name and the kind it judges) lacks the same thing and
    there are two or more; else []."""
    cache: dict[tuple[str, str | None, str | None], list[str]] = ctx.graph.indexes.setdefault(_SHARED_GAPS, {})
    group_key = (key[0], node.parent, node.attrs.get("defaults"))
    if group_key not in cache:
        config = ctx.graph.nodes.get(node.parent or "")
        peers = ctx.graph.children(config) if config is not None else [node]
        judged = []
        for peer in peers:
            if key[1] not in peer.kinds or peer.attrs.get("defaults") != group_key[2]:
                continue
            lacking = gap(peer)
            if lacking is not None:
                judged.append((peer, lacking))
        shared = len(judged) >= 2 and len({lacking for _, lacking in judged}) == 1 and judged[0][1] != ""
        ordered = sorted(judged, key=lambda item: item[0].span.line or 0)
        cache[group_key] = [peer.id for peer, _ in ordered] if shared else []
    return cache[group_key]


CHECKS: dict[str, CheckFn] = {
    "haproxy-missing-timeouts": missing_timeouts,
    "haproxy-server-no-health-check": server_no_health_check,
    "haproxy-http-backend-tcp-check": http_backend_tcp_check,
    "haproxy-single-server-backend": single_server_backend,
    "haproxy-weak-tls": weak_tls,
    "haproxy-plain-http-frontend": plain_http_frontend,
    "haproxy-stats-no-auth": stats_no_auth,
    "haproxy-undefined-backend": undefined_backend,
    "haproxy-no-forwardfor": no_forwardfor,
    "haproxy-no-retries-redispatch": no_retries_redispatch,
}
