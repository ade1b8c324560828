"""Redis rules and the hooks the cross-format graph will fill (exposure, container memory limit)."""

from __future__ import annotations

from infralint.checks import redis as checks
from infralint.findings import Severity
from infralint.graph.model import Graph
from infralint.graph.redis_links import exposed_addresses, is_loopback, is_wildcard, reachable_beyond_loopback
from infralint.parsers.redis import parse
from infralint.rules.meta import RuleContext
from infralint.source import SourceFile

OPEN = "bind 0.0.0.0\nport 6379\n"


def _node(text: str):
    [node] = parse(SourceFile("redis.conf", "/nowhere/redis.conf", text, "redis")).nodes
    graph = Graph()
    graph.add(node)
    return node, RuleContext(graph, {})


def test_bind_address_helpers() -> None:
    assert all(is_loopback(a) for a in ("127.0.0.1", "-127.0.0.1", "::1", "-::1", "127.1.2.3", "localhost"))
    assert not any(is_loopback(a) for a in ("0.0.0.0", "*", "10.0.0.1", "::", "redis.example.com"))
    assert all(is_wildcard(a) for a in ("*", "0.0.0.0", "::", "-::*", "::*"))
    assert exposed_addresses({"bind": ["127.0.0.1", "10.0.0.5"], "port": 6379}) == ["10.0.0.5"]
    assert exposed_addresses({"bind": ["0.0.0.0"], "port": 0, "tls_port": 0}) == []  # no TCP listener
    assert exposed_addresses({"bind": [], "port": 6379}) == []  # `bind` with no address listens nowhere


def test_exposure_fact_overrides_the_bind_addresses() -> None:
    node, ctx = _node(OPEN)
    assert reachable_beyond_loopback(node)
    assert list(checks.bind_all_interfaces(node, ctx))
    node.facts["exposure"] = "internal"  # a container whose port is not published
    assert not list(checks.bind_all_interfaces(node, ctx))
    [hit] = checks.no_auth(node, ctx)  # other containers can still connect: a warning
    assert hit.severity == Severity.WARNING
    # Published on the host's 127.0.0.1 only: other containers still connect, and host clients
    # arrive through Docker's bridge, so the bind addresses decide, as for "internal".
    node.facts["exposure"] = "loopback"
    assert [hit.severity for hit in checks.no_auth(node, ctx)] == [Severity.WARNING]
    assert not list(checks.bind_all_interfaces(node, ctx))
    node.facts["exposure"] = "public"
    assert [hit.severity for hit in checks.no_auth(node, ctx)] == [None]  # the rule's own: error
    local, ctx = _node("bind 127.0.0.1 -::1\nport 6379\n")
    local.facts["exposure"] = "public"  # a published port does not reach a server bound to loopback
    assert not list(checks.no_auth(local, ctx)) and not list(checks.no_tls(local, ctx))


def test_memory_limit_named_when_known() -> None:
    node, ctx = _node(OPEN)
    [hit] = checks.no_maxmemory(node, ctx)
    assert "the kernel or the container's memory limit" in hit.message
    node.facts["memory_limit"] = 536870912
    node.facts["memory_limit_of"] = "k8s/StatefulSet/-/cache/container/redis"
    node.facts["memory_limit_label"] = "container redis of StatefulSet/cache"
    [hit] = checks.no_maxmemory(node, ctx)
    assert "the 512MiB memory limit of container redis of StatefulSet/cache" in hit.message


def test_included_fragment_is_not_judged_alone() -> None:
    node, ctx = _node(OPEN)
    fragment, _ = _node("maxmemroy 1\n")
    fragment.id = "redis/common.conf"
    ctx.graph.add(fragment)
    ctx.graph.link(node, fragment, "includes")
    assert not list(checks.unknown_directive(fragment, ctx))
