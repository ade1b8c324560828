"""HAProxy rule behaviour the fixtures cannot show: rule options and facts from the graph."""

from __future__ import annotations

from pathlib import Path

from infralint import catalog
from infralint.api import ScanOptions, scan
from infralint.graph.build import build
from infralint.parsers.haproxy import parse
from infralint.rules.meta import RuleContext
from infralint.source import SourceFile

TLS = """\
global
    maxconn 100

frontend web
    mode http
    bind :443 ssl crt site.pem
    bind :8443 ssl crt site.pem ssl-min-ver TLSv1.2
    bind :9443 ssl crt site.pem no-tlsv10 no-tlsv11
    bind :80
"""


def _scan(tmp_path: Path, text: str, rule: str, in_dir, **options: object) -> list[tuple[int | None, str]]:
    (tmp_path / "haproxy.cfg").write_text(text, encoding="utf-8")
    in_dir(tmp_path)
    report = scan(["."], ScanOptions(select=[rule], rule_options={rule: dict(options)} if options else {}))
    return [(f.span.line, f.message) for f in report.findings if f.rule_id == rule]


def test_weak_tls_assumes_a_recent_haproxy_by_default(tmp_path: Path, in_dir) -> None:
    assert _scan(tmp_path, TLS, "haproxy-weak-tls", in_dir) == []


def test_weak_tls_on_haproxy_before_2_2_wants_a_minimum(tmp_path: Path, in_dir) -> None:
    found = _scan(tmp_path, TLS, "haproxy-weak-tls", in_dir, haproxy_version="2.0")
    assert [line for line, _ in found] == [6]
    assert "no minimum TLS version" in found[0][1]
    assert _scan(tmp_path, TLS, "haproxy-weak-tls", in_dir, haproxy_version="2.4.22") == []


def test_weak_tls_global_minimum_covers_old_versions(tmp_path: Path, in_dir) -> None:
    text = TLS.replace("    maxconn 100\n", "    maxconn 100\n    ssl-default-bind-options ssl-min-ver TLSv1.2\n")
    assert _scan(tmp_path, text, "haproxy-weak-tls", in_dir, haproxy_version="1.8") == []


def _check(text: str, rule_id: str, facts: dict[str, object]) -> list[str]:
    nodes = parse(SourceFile("haproxy.cfg", "/nonexistent/haproxy.cfg", text, "haproxy")).nodes
    graph = build(nodes)
    rule = next(r for r in catalog.all_rules() if r.id == rule_id)
    messages = []
    for node in graph.of_kind(*rule.meta.scope):
        node.facts.update(facts)
        messages += [hit.message for hit in rule.check(node, RuleContext(graph, dict(rule.meta.options)))]
    return messages


def test_version_from_the_graph_wins_over_the_option() -> None:
    assert _check(TLS, "haproxy-weak-tls", {"haproxy_version": "2.1"})
    assert not _check(TLS, "haproxy-weak-tls", {"haproxy_version": "2.8"})


def test_plain_http_frontend_respects_exposure_from_the_graph() -> None:
    text = "frontend web\n    mode http\n    bind :80\n"
    assert _check(text, "haproxy-plain-http-frontend", {"exposed": None})
    assert _check(text, "haproxy-plain-http-frontend", {"exposed": True})
    assert not _check(text, "haproxy-plain-http-frontend", {"exposed": False})


TIMEOUTS = "defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n"


def _backend(name: str, *servers: str) -> str:
    return f"backend {name}\n" + "".join(f"    server {server}\n" for server in servers)


def test_a_whole_variable_address_is_not_judged_as_one_networked_server() -> None:
    unknown = TIMEOUTS + _backend("app", "app1 ${APP_ADDR}")
    assert not _check(unknown, "haproxy-single-server-backend", {})
    assert not _check(unknown, "haproxy-server-no-health-check", {})
    # its default shows what haproxy uses when the variable is unset
    networked = TIMEOUTS + _backend("app", "app1 ${APP_ADDR-10.0.0.11:8080}")
    assert _check(networked, "haproxy-single-server-backend", {})
    socket = TIMEOUTS + _backend("app", "app1 ${APP_ADDR-/run/app.sock}")
    assert not _check(socket, "haproxy-single-server-backend", {})


def test_socket_families_and_socket_paths_behind_a_variable_are_local() -> None:
    for address in ("sockpair@3", "abnsz@daemon", "${RUN_DIR}/app.sock", "$DOCKER_SOCK"):
        text = TIMEOUTS + _backend("app", f"app1 {address}")
        assert not _check(text, "haproxy-single-server-backend", {}), address


def test_forwardfor_still_judges_a_backend_whose_address_is_unknown() -> None:
    text = TIMEOUTS + "frontend web\n    bind 127.0.0.1:8080\n    default_backend app\n" + _backend("app", "a ${APP}")
    assert _check(text, "haproxy-no-forwardfor", {})


PROBED = (
    TIMEOUTS
    + "frontend web\n    bind 127.0.0.1:8080\n    option forwardfor\n    option redispatch\n"
    + "    use_backend app if { srv_is_up(probe/p1) }\n"
    + _backend("app", "a1 10.0.0.11:8080 check")
    + _backend("probe", "p1 10.0.0.21:8080 check", "p2 10.0.0.22:8080 check")
)


def test_a_backend_read_only_by_a_sample_fetch_carries_no_traffic() -> None:
    assert not _check(PROBED, "haproxy-no-retries-redispatch", {})


def test_a_run_time_use_backend_may_route_to_a_backend_a_fetch_reads() -> None:
    dynamic = PROBED.replace("    use_backend app", "    use_backend %[req.hdr(host),lower]\n    use_backend app")
    assert _check(dynamic, "haproxy-no-retries-redispatch", {})


def test_a_backend_reading_its_own_state_is_still_judged() -> None:
    own = (
        PROBED.replace("srv_is_up(probe/p1)", "src 10.0.0.0/8") + "    http-request deny unless { nbsrv(probe) ge 1 }\n"
    )
    assert _check(own, "haproxy-no-retries-redispatch", {})


def test_a_tracked_backend_carries_no_traffic() -> None:
    tracked = (
        TIMEOUTS + _backend("app", "a1 10.0.0.11:8080 track probe/p1") + _backend("probe", "p1 10.0.0.11:8080 check")
    )
    assert _check(tracked, "haproxy-single-server-backend", {}) == [
        "backend 'app' has a single server ('a1') and no backup"
    ]


def test_check_only_backends_are_not_named_in_a_shared_finding() -> None:
    path = Path(__file__).parent.parent / "fixtures/haproxy-no-retries-redispatch/bad-check-only-shared.cfg"
    [message] = _check(path.read_text(encoding="utf-8"), "haproxy-no-retries-redispatch", {})
    assert "backend 'app', backend 'api'" in message and "replica_probe" not in message


REDIS_MASTER = (
    TIMEOUTS.replace("mode http", "mode tcp")
    + "backend master\n    option tcp-check\n    tcp-check send info\\ replication\\r\\n\n"
    + "    tcp-check expect string role:master\n"
    + "    server r0 redis-0:6379 check\n    server r1 redis-1:6379 check\n"
)


def test_a_check_only_the_master_passes_leaves_one_server_up() -> None:
    assert not _check(REDIS_MASTER, "haproxy-no-retries-redispatch", {})
    assert _check(REDIS_MASTER.replace("role:master", "+PONG"), "haproxy-no-retries-redispatch", {})
    # the check must run: servers without `check` are all up
    assert _check(REDIS_MASTER.replace(" check\n", "\n"), "haproxy-no-retries-redispatch", {})


def test_a_patroni_primary_check_leaves_one_server_up() -> None:
    primary = TIMEOUTS + "backend pg\n    option httpchk\n    http-check send meth GET uri /primary\n"
    primary += "    server a 10.0.0.1:5432 check port 8008\n    server b 10.0.0.2:5432 check port 8008\n"
    assert not _check(primary, "haproxy-no-retries-redispatch", {})
    assert not _check(
        primary.replace("option httpchk\n", "option httpchk OPTIONS /leader\n"), "haproxy-no-retries-redispatch", {}
    )
    assert _check(primary.replace("/primary", "/health"), "haproxy-no-retries-redispatch", {})


def test_use_server_rules_naming_every_server_pick_it() -> None:
    pinned = TIMEOUTS + "backend master\n    use-server a if { srv_is_up(a) }\n    use-server b if { srv_is_up(b) }\n"
    pinned += "    server a 10.0.0.1:6379 check\n    server b 10.0.0.2:6379 check\n"
    assert not _check(pinned, "haproxy-no-retries-redispatch", {})
    # a backup server is not one the rules must name
    assert not _check(pinned + "    server c 10.0.0.3:6379 check backup\n", "haproxy-no-retries-redispatch", {})
    partly = pinned.replace("    use-server b if { srv_is_up(b) }\n", "")
    assert _check(partly, "haproxy-no-retries-redispatch", {})
