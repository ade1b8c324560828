"""The HAProxy parser: words and their positions, sections, effective settings, facts."""

from __future__ import annotations

import pytest

from infralint.graph.build import build
from infralint.parsers.haproxy import parse
from infralint.parsers.haproxy_lexer import split_line
from infralint.parsers.haproxy_model import parse_address
from infralint.sniff import haproxy as sniff
from infralint.source import SourceFile


def parsed(text: str, path: str = "haproxy.cfg"):
    return parse(SourceFile(path, "/nonexistent/" + path, text, "haproxy"))


def node(text: str, node_id: str):
    return next(n for n in parsed(text).nodes if n.id == node_id)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("  bind :80   ssl", ["bind", ":80", "ssl"]),
        ('log-format "%ci %t"', ["log-format", "%ci %t"]),
        ("log-format '%ci $HOME'", ["log-format", "%ci $HOME"]),
        (r"log-format %ci\ %t", ["log-format", "%ci %t"]),
        (r'x "a"' + "'b'" + r"\ c", ["x", "ab c"]),
        (r"x a\#b #comment", ["x", "a#b"]),
        ("x a#b", ["x", "a"]),
        ('x "a # b" c', ["x", "a # b", "c"]),
        (r"x \x41\x42", ["x", "AB"]),
        (r"x a\qb \\", ["x", r"a\qb", "\\"]),
        ('x "${PORT}" "${HOST-localhost}:80" "$USER"', ["x", "${PORT}", "${HOST-localhost}:80", "$USER"]),
        (r'x "cost \$5"', ["x", r"cost \$5"]),
        ("x $not_expanded", ["x", "$not_expanded"]),
        ("x trailing \\", ["x", "trailing", "\\"]),
        ("x\ty\tz", ["x", "y", "z"]),
    ],
)
def test_words(line: str, words: list[str]) -> None:
    assert [w.text for w in split_line(line, 1)] == words


def test_word_columns() -> None:
    words = split_line("    bind  \"127.0.0.1:80\" ssl  crt 'a b.pem'", 7)
    assert [(w.line, w.col) for w in words] == [(7, 5), (7, 11), (7, 26), (7, 31), (7, 35)]


def test_sections_and_positions() -> None:
    text = "global\n    maxconn 100\n\nfrontend web\n    bind :80\n    default_backend app\n\nbackend app\n    server a1 10.0.0.1:80 check\n"
    nodes = {n.id: n for n in parsed(text).nodes}
    assert set(nodes) == {
        "haproxy/haproxy.cfg",
        "haproxy/haproxy.cfg/global",
        "haproxy/haproxy.cfg/frontend[web]",
        "haproxy/haproxy.cfg/backend[app]",
    }
    web = nodes["haproxy/haproxy.cfg/frontend[web]"]
    assert web.kinds == ("haproxy/frontend", "haproxy/frontend-side", "haproxy/proxy", "haproxy/section")
    assert web.parent == "haproxy/haproxy.cfg"
    assert (web.span.line, web.span.col) == (4, 1)
    assert web.end_line == 6
    assert web.spans.span(("binds", 0)).line == 5
    assert web.spans.span(("directives", 1, "args", 0)).col == 21
    backend = nodes["haproxy/haproxy.cfg/backend[app]"]
    assert backend.spans.span(("servers", 0, "options", "check")).col == 27


def test_listen_is_both_sides() -> None:
    listen = node("listen l\n    bind :80\n", "haproxy/haproxy.cfg/listen[l]")
    assert {"haproxy/listen", "haproxy/frontend-side", "haproxy/backend-side", "haproxy/proxy"} <= set(listen.kinds)


DEFAULTS = """\
defaults
    mode http
    option forwardfor
    option httplog
    timeout connect 5s
    timeout client 30s
    default-server check inter 2s

backend own
    mode tcp
    no option httplog
    timeout client 1m
    server s1 10.0.0.1:80
    server s2 10.0.0.2:80 no-check

defaults named
    timeout server 10s

defaults second from named
    retries 5

backend chained
    server s3 10.0.0.3:80

backend explicit from named
    server s4 10.0.0.4:80
"""


def test_defaults_apply_until_the_next_defaults() -> None:
    own = node(DEFAULTS, "haproxy/haproxy.cfg/backend[own]")
    assert own.attrs["mode"] == "tcp"
    assert own.attrs["timeouts"] == {"connect": "5s", "client": "1m"}
    assert own.attrs["options"]["forwardfor"]["enabled"] is True
    assert own.attrs["options"]["httplog"]["enabled"] is False
    assert own.spans.span(("timeouts", "connect")).line == 5  # written in the defaults section
    assert own.spans.span(("mode",)).line == 10
    assert [s["check"] for s in own.attrs["servers"]] == [True, False]
    assert own.attrs["defaults"] == "haproxy/haproxy.cfg/defaults"


def test_named_defaults_and_from() -> None:
    chained = node(DEFAULTS, "haproxy/haproxy.cfg/backend[chained]")
    assert chained.attrs["defaults"] == "haproxy/haproxy.cfg/defaults[second]"
    assert chained.attrs["timeouts"] == {"server": "10s"}  # from `named` through `second`
    assert chained.attrs["settings"]["retries"] == ["5"]
    assert chained.attrs["mode"] is None  # a new defaults section starts from scratch
    explicit = node(DEFAULTS, "haproxy/haproxy.cfg/backend[explicit]")
    assert explicit.attrs["defaults"] == "haproxy/haproxy.cfg/defaults[named]"
    assert "retries" not in explicit.attrs["settings"]


def test_facts_for_the_graph() -> None:
    text = """\
frontend web
    bind 10.0.0.5:443,[::]:8443 ssl crt site.pem alpn h2
    bind unix@/run/web.sock
    use_backend api if { path_beg /api }
    use_backend %[req.hdr(host),lower]
    default_backend app

backend app
    server app1 app.internal:8080 check
    server app2 [2001:db8::2]:8080 backup
    server-template web 1-3 "${WEB_HOST}:80" check
"""
    nodes = {n.id: n for n in parsed(text).nodes}
    web = nodes["haproxy/haproxy.cfg/frontend[web]"]
    binds = web.facts["binds"]
    assert [(b["host"], b["port"], b["ssl"], b["loopback"]) for b in binds] == [
        ("10.0.0.5", 443, True, False),
        ("::", 8443, True, False),
        (None, None, False, True),
    ]
    assert binds[0]["options"]["alpn"] == "h2"
    assert web.spans.span(tuple(binds[1]["path"])).line == 2
    refs = web.facts["backend_refs"]
    assert [(r["keyword"], r["target"], r["dynamic"]) for r in refs] == [
        ("use_backend", "api", False),
        ("use_backend", "%[req.hdr(host),lower]", True),
        ("default_backend", "app", False),
    ]
    assert refs[0]["condition"]["polarity"] == "if"
    app = nodes["haproxy/haproxy.cfg/backend[app]"]
    servers = app.facts["servers"]
    assert [(s["name"], s["host"], s["port"], s["check"], s["backup"]) for s in servers] == [
        ("app1", "app.internal", 8080, True, False),
        ("app2", "2001:db8::2", 8080, False, True),
        ("web", "${WEB_HOST}", 80, True, False),
    ]
    assert servers[2]["count"] == 3 and servers[2]["variable"]
    assert app.spans.span(tuple(servers[1]["path"])).line == 10
    assert web.facts["exposed"] is None  # filled by the cross-format graph


def test_linker_routes_to_backends() -> None:
    text = "frontend web\n    bind :80\n    use_backend api if { path_beg /api }\n    default_backend app\nbackend app\nbackend api\n"
    graph = build(parsed(text).nodes)
    web = graph.nodes["haproxy/haproxy.cfg/frontend[web]"]
    assert sorted(n.facts["name"] for n in graph.outgoing(web, "routes_to")) == ["api", "app"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.0.0.1:80", ("ipv4", "10.0.0.1", 80)),
        (":80", ("any", None, 80)),
        ("*:8080-8090", ("any", "*", 8080)),
        (":::443", ("ipv6", "::", 443)),
        ("ipv6@::1:443", ("ipv6", "::1", 443)),
        ("[2001:db8::1]:80", ("ipv6", "2001:db8::1", 80)),
        ("api:8000", ("hostname", "api", 8000)),
        ("api", ("hostname", "api", None)),
        ("10.0.0.1:+1", ("ipv4", "10.0.0.1", None)),
        ("/run/haproxy.sock", ("unix", None, None)),
        ("abns@haproxy", ("abns", None, None)),
        ("fd@${FD_APP}", ("fd", None, None)),
    ],
)
def test_addresses(text: str, expected: tuple[str, str | None, int | None]) -> None:
    address = parse_address(text)
    assert (address["family"], address["host"], address["port"]) == expected


def test_sniff_claims_haproxy_but_not_other_formats() -> None:
    assert sniff.sniff("a.cfg", "# comment\n.if defined(X)\ntraces\n    trace h1 sink stderr\n.endif\n")
    assert sniff.sniff("a.cfg", "userlist controller\n    user admin insecure-password x\n")
    assert sniff.sniff("a.cfg", "# generated\nfrontend web\n    bind :80\n")
    assert not sniff.sniff("setup.cfg", "[metadata]\nname = x\n")
    assert not sniff.sniff("redis.conf", "bind 0.0.0.0\nmaxmemory 1gb\n")
    assert not sniff.sniff("a.cfg", "backend = postgres\nlisten = 5432\n")


def test_rule_conditions_are_split_off() -> None:
    text = "frontend web\n    http-request deny if { src 10.0.0.0/8 } || !trusted\n    http-request set-header A b\n"
    rules = node(text, "haproxy/haproxy.cfg/frontend[web]").attrs["rules"]["http-request"]
    assert rules[0]["condition"] == {
        "polarity": "if",
        "terms": ["{", "src", "10.0.0.0/8", "}", "||", "!trusted"],
        "acls": ["trusted"],
    }
    assert rules[1]["condition"] is None
