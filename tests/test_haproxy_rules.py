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
