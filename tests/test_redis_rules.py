"""Redis rules and the hooks the cross-format graph will fill (exposure, container memory limit)."""

from __future__ import annotations

from pathlib import Path

from scanning import found, scan_tree, write

from infralint.checks import redis as checks
from infralint.findings import Severity
from infralint.folding import MERGED_ROLE
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


def test_hardening_notes_only_where_redis_reaches_beyond_its_network() -> None:
    """redis-no-tls and redis-dangerous-commands: a lone config is judged by its bind addresses;
    in a container, only a path from outside its network (published port, host network,
    NodePort/LoadBalancer) makes them worth acting on."""
    node, ctx = _node(OPEN + 'requirepass "a-long-random-secret"\n')
    hardening = (checks.no_tls, checks.dangerous_commands)
    assert all(list(check(node, ctx)) for check in hardening)  # nothing runs it: as before
    for contained in ("internal", "loopback"):
        node.facts["exposure"] = contained
        assert not any(list(check(node, ctx)) for check in hardening)
    node.facts["exposure"] = "public"
    node.facts["exposure_reason"] = "service 'cache' publishes 6379:6379 on all host interfaces"
    for check in hardening:
        [hit] = check(node, ctx)
        assert hit.message.endswith(
            "; reachable from outside: service 'cache' publishes 6379:6379 on all host interfaces"
        )


PROTECTED_OFF = "bind * -::*\nprotected-mode no\nport 6379\n"
CACHE = """services:
  app:
    image: example/app:1.4
  cache:
    image: redis:7.2
    command: ["redis-server", "/usr/local/etc/redis/redis.conf"]
    volumes: ["./redis.conf:/usr/local/etc/redis/redis.conf:ro"]
"""
NO_PASSWORD_RULES = ["redis-no-auth", "redis-protected-mode-off"]


def test_no_password_and_protected_mode_off_are_one_finding_at_the_password(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", CACHE)
    write(tmp_path, "redis.conf", PROTECTED_OFF)
    report = scan_tree(tmp_path, select=NO_PASSWORD_RULES)
    assert found(report) == {("redis.conf", 1, "redis-no-auth")}
    merged = [r for r in report.findings[0].related if r.role == MERGED_ROLE]
    assert [(r.span.line, r.message.split(":")[0]) for r in merged] == [(2, "redis-protected-mode-off")]
    # Each id stays suppressible: without redis-no-auth, protected mode is reported on its own line.
    alone = scan_tree(tmp_path, select=["redis-protected-mode-off"])
    assert found(alone) == {("redis.conf", 2, "redis-protected-mode-off")}


def test_protected_mode_off_with_a_password_is_not_reported(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", CACHE)
    write(tmp_path, "redis.conf", PROTECTED_OFF + 'requirepass "a-long-random-secret"\n')
    assert found(scan_tree(tmp_path, select=NO_PASSWORD_RULES)) == set()
