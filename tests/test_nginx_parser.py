"""The nginx parser: syntax errors, hostile input, includes, fragments, inheritance, nodes and facts."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from scanning import found, scan_tree, write

from infralint.graph.model import Node
from infralint.parsers import nginx
from infralint.parsers.result import ParseResult
from infralint.source import SourceFile


def parse_file(root: Path, name: str, text: str | None = None) -> ParseResult:
    if text is not None:
        write(root, name, text)
    content = (root / name).read_text(encoding="utf-8")
    return nginx.parse(SourceFile(name, str(root / name), content, "nginx", root=str(root)))


def node(result: ParseResult, node_id: str) -> Node:
    by_id = {n.id: n for n in result.nodes}
    assert node_id in by_id, sorted(by_id)
    return by_id[node_id]


def problems(result: ParseResult) -> set[tuple[str, str, int | None]]:
    return {(f.rule_id, f.span.path, f.span.line) for f in result.findings}


def names(records: list[dict]) -> list[str]:
    return [r["args"][0] for r in records]


# --- syntax errors -------------------------------------------------------------------------------

SYNTAX_ERRORS = {
    "unbalanced": ("events {}\nhttp {\n  server {\n    listen 80;\n", 4, "expecting"),
    "extra-brace": ("events {}\nhttp {\n}\n}\n", 4, 'unexpected "}"'),
    "missing-semicolon": ("events {}\nhttp {\n  server {\n    listen 80\n  }\n}\n", 5, 'unexpected "}"'),
    "eof-in-statement": ("events {}\nhttp {}\nworker_processes 2", 3, "expecting"),
    "stray-semicolon": ("events {}\nhttp {\n  server { listen 80; };\n}\n", 3, 'unexpected ";"'),
    "unterminated-quote": ('events {}\nhttp {\n  server { return 200 "abc; }\n}\n', 3, "unterminated"),
    "text-after-quote": ('events {}\nhttp { server { add_header "X"y z; } }\n', 2, 'unexpected "y"'),
    "wrong-context": ("events {}\nhttp {\n  listen 80;\n}\n", 3, "not allowed here"),
    "argument-count": ("events {}\nhttp {\n  server {\n    listen;\n  }\n}\n", 4, "invalid number of arguments"),
    "not-a-flag": ("events {}\nhttp {\n  sendfile maybe;\n}\n", 3, "must be"),
    "percent-in-a-flag": ("events {}\nhttp {\n  sendfile 50%off;\n}\n", 3, 'invalid value "50%off"'),
    "block-for-a-plain-directive": ("events {}\nhttp {\n  root /srv { }\n}\n", 3, "not terminated"),
}


@pytest.mark.parametrize("case", sorted(SYNTAX_ERRORS))
def test_syntax_errors_are_parse_errors_at_their_line(tmp_path: Path, case: str) -> None:
    text, line, reason = SYNTAX_ERRORS[case]
    result = parse_file(tmp_path, "nginx.conf", text)
    errors = [f for f in result.findings if f.rule_id == "infralint-parse-error"]
    assert errors, "expected a parse error"
    assert errors[0].span.line == line
    assert reason in errors[0].message


def test_column_of_a_directive_error(tmp_path: Path) -> None:
    result = parse_file(tmp_path, "nginx.conf", "events {}\nhttp {\n    server { listen 80; }  listen 81;\n}\n")
    [error] = result.findings
    assert (error.span.line, error.span.col) == (3, 28)


def test_unknown_directives_are_not_errors(tmp_path: Path) -> None:
    """Modules the checking nginx may lack (lua, headers-more, brotli) are not syntax errors."""
    text = (
        "events {}\nhttp {\n  brotli on;\n  server {\n    more_set_headers 'Server: x';\n"
        "    location / { content_by_lua_block { ngx.say('}') } }\n  }\n}\n"
    )
    assert parse_file(tmp_path, "nginx.conf", text).findings == []


def test_if_conditions_with_quotes_and_parentheses(tmp_path: Path) -> None:
    text = 'events {}\nhttp { server { if ($http_x_forwarded_proto != "https") { return 301 https://$host; } } }\n'
    assert parse_file(tmp_path, "nginx.conf", text).findings == []


# --- hostile input -------------------------------------------------------------------------------


def test_five_megabyte_single_line_config(tmp_path: Path) -> None:
    body = "add_header X-A b; " * 290_000  # just under the 5 MiB cap
    write(tmp_path, "nginx.conf", "events {} http { server { listen 80; " + body + "} }\n")
    assert 5_000_000 < (tmp_path / "nginx.conf").stat().st_size < 5 * 1024 * 1024
    started = time.perf_counter()
    report = scan_tree(tmp_path, select=["infralint", "nginx-add-header-redefinition"])
    assert time.perf_counter() - started < 30
    assert found(report, "infralint") == set()


def test_five_megabyte_line_of_garbage(tmp_path: Path) -> None:
    write(tmp_path, "nginx.conf", "events {} http { " + "x" * 5_000_000 + "\n")
    started = time.perf_counter()
    report = scan_tree(tmp_path)
    assert time.perf_counter() - started < 30
    assert found(report, "infralint") == {("nginx.conf", 1, "infralint-parse-error")}


def test_nul_bytes(tmp_path: Path) -> None:
    write(tmp_path, "nginx.conf", b"events {}\nhttp {\x00}\n")
    write(tmp_path, "other/nginx.conf", "events {}\nhttp {\n  include ../blob.conf;\n}\n")
    write(tmp_path, "blob.conf", b"add_header X \x00;\n")
    report = scan_tree(tmp_path)
    assert found(report, "infralint") == {
        ("nginx.conf", 2, "infralint-parse-error"),
        ("other/nginx.conf", 3, "infralint-parse-error"),
    }


def test_include_outside_the_root_is_not_read(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write(tmp_path, "secret.conf", "server { listen 1; }\n")
    os.symlink(tmp_path / "secret.conf", tmp_path / "link.conf")
    write(
        root,
        "nginx.conf",
        "events {}\nhttp {\n  include /etc/passwd;\n  include ../secret.conf;\n  include ../*.conf;\n}\n",
    )
    os.symlink(tmp_path / "secret.conf", root / "inside-link.conf")
    write(root, "site/nginx.conf", "events {}\nhttp {\n  include ../inside-link.conf;\n}\n")
    report = scan_tree(root)
    assert found(report, "infralint-include") == {
        ("nginx.conf", 3, "infralint-include-not-found"),
        ("nginx.conf", 4, "infralint-include-not-found"),
        ("nginx.conf", 5, "infralint-include-not-found"),
        ("site/nginx.conf", 3, "infralint-include-not-found"),
    }
    assert all("outside the scan root" in f.message for f in report.findings if "include" in f.rule_id)
    servers = [n for n in parse_file(root, "nginx.conf").nodes if n.kind == "nginx/server"]
    assert servers == []


def test_include_cycles_terminate(tmp_path: Path) -> None:
    write(tmp_path, "nginx.conf", "events {}\nhttp {\n  include a.conf;\n}\n")
    write(tmp_path, "a.conf", "include b.conf;\n")
    write(tmp_path, "b.conf", "server { listen 80; }\ninclude a.conf;\n")
    write(tmp_path, "self.conf", "add_header X y;\ninclude self.conf;\n")
    result = parse_file(tmp_path, "nginx.conf")
    assert problems(result) == {("infralint-parse-error", "b.conf", 2)}
    assert "cycle" in result.findings[0].message
    assert problems(parse_file(tmp_path, "self.conf")) == {("infralint-parse-error", "self.conf", 2)}


def test_include_depth_is_bounded(tmp_path: Path) -> None:
    for index in range(40):
        write(tmp_path, f"d{index}.conf", f"add_header X-{index} y;\ninclude d{index + 1}.conf;\n")
    write(tmp_path, "nginx.conf", "events {}\nhttp {\n  include d0.conf;\n}\n")
    result = parse_file(tmp_path, "nginx.conf")
    assert [f.message for f in result.findings] == ["includes nested deeper than 16"]


def test_deep_block_nesting_is_bounded(tmp_path: Path) -> None:
    text = "events {}\nhttp { server { " + "location / { " * 500 + "}" * 500 + " } }\n"
    result = parse_file(tmp_path, "nginx.conf", text)
    assert ["nested deeper" in f.message for f in result.findings] == [True]


# --- includes ------------------------------------------------------------------------------------


def test_missing_includes_and_stock_files(tmp_path: Path) -> None:
    text = (
        "events {}\nhttp {\n  include mime.types;\n  include /etc/nginx/fastcgi_params;\n"
        "  include snippets/fastcgi-php.conf;\n  include conf.d/*.conf;\n  include missing.conf;\n"
        "  include /etc/nginx/sites-enabled/*;\n}\n"
    )
    result = parse_file(tmp_path, "nginx.conf", text)
    assert problems(result) == {
        ("infralint-include-not-found", "nginx.conf", 7),
        ("infralint-include-not-found", "nginx.conf", 8),
    }


def test_globs_are_sorted_and_relative_to_the_main_config(tmp_path: Path) -> None:
    write(tmp_path, "etc/nginx.conf", "events {}\nhttp {\n  include conf.d/*.conf;\n}\n")
    write(tmp_path, "etc/conf.d/b.conf", "server { listen 82; server_name b; include snippets/x.conf; }\n")
    write(tmp_path, "etc/conf.d/a.conf", "server { listen 81; server_name a; }\n")
    write(tmp_path, "etc/conf.d/.hidden.conf", "server { listen 83; }\n")
    # Relative to the main config's folder (nginx's conf prefix), not to conf.d/.
    write(tmp_path, "etc/snippets/x.conf", "add_header X-From-Snippet 1;\n")
    result = parse_file(tmp_path, "etc/nginx.conf")
    assert result.findings == []
    servers = [n for n in result.nodes if n.kind == "nginx/server"]
    assert [s.id for s in servers] == ["nginx/etc/nginx.conf/server[a:81]", "nginx/etc/nginx.conf/server[b:82]"]
    assert [s.span.path for s in servers] == ["etc/conf.d/a.conf", "etc/conf.d/b.conf"]
    assert names(servers[1].attrs["effective"]["add_header"]) == ["X-From-Snippet"]
    assert servers[1].attrs["effective"]["add_header"][0]["path"] == "etc/snippets/x.conf"
    config = node(result, "nginx/etc/nginx.conf")
    assert config.facts["includes"] == ["etc/conf.d/a.conf", "etc/conf.d/b.conf", "etc/snippets/x.conf"]


def test_absolute_include_under_etc_nginx_maps_next_to_the_main_config(tmp_path: Path) -> None:
    write(tmp_path, "nginx.conf", "events {}\nhttp {\n  include /etc/nginx/conf.d/*.conf;\n}\n")
    write(tmp_path, "conf.d/site.conf", "server { listen 80; server_name site; }\n")
    result = parse_file(tmp_path, "nginx.conf")
    assert result.findings == []
    assert [n.id for n in result.nodes if n.kind == "nginx/server"] == ["nginx/nginx.conf/server[site:80]"]


def test_globs_through_links_that_leave_the_root(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write(tmp_path, "outside/site", "server { listen 81; }\n")
    write(root, "nginx.conf", "events {}\nhttp {\n  include /etc/nginx/conf.d/*.conf;\n  include sites-enabled/*;\n}\n")
    (root / "conf.d").mkdir()  # deployed to /etc/nginx/conf.d, empty here: nothing to report
    write(root, "sites-enabled/local", "server { listen 82; }\n")
    os.symlink(tmp_path / "outside" / "site", root / "sites-enabled" / "linked")
    result = parse_file(root, "nginx.conf")
    assert [(f.span.line, f.message) for f in result.findings] == [
        (4, "include sites-enabled/*: some targets are outside the scan root: not read")
    ]
    assert [n.id for n in result.nodes if n.kind == "nginx/server"] == ["nginx/nginx.conf/server[:82]"]


def test_fragment_includes_search_the_folders_above(tmp_path: Path) -> None:
    """A fragment has no main config to resolve against: its folder and those above it count."""
    write(tmp_path, "h5bp/tls/policy.conf", "ssl_protocols TLSv1.2 TLSv1.3;\n")
    write(tmp_path, "conf.d/templates/site.conf", "server {\n  listen 443 ssl;\n  include h5bp/tls/policy.conf;\n}\n")
    result = parse_file(tmp_path, "conf.d/templates/site.conf")
    assert result.findings == []
    [server] = [n for n in result.nodes if n.kind == "nginx/server"]
    assert "ssl_protocols" in server.attrs["effective"]


def test_errors_in_included_files_point_into_them(tmp_path: Path) -> None:
    write(tmp_path, "nginx.conf", "events {}\nhttp {\n  include site.conf;\n}\n")
    write(tmp_path, "site.conf", "server {\n  listen 80;\n  location / {\n    root /srv\n  }\n}\n")
    assert problems(parse_file(tmp_path, "nginx.conf")) == {("infralint-parse-error", "site.conf", 5)}


def test_an_included_fragment_is_judged_once_in_context(tmp_path: Path) -> None:
    """conf.d/site.conf is found by the scan and included by nginx.conf: one finding, and the http
    setting it inherits in nginx.conf counts (no server_tokens finding for the stand-alone reading)."""
    write(tmp_path, "nginx.conf", "events {}\nhttp {\n  server_tokens off;\n  include conf.d/*.conf;\n}\n")
    write(tmp_path, "conf.d/site.conf", "server {\n  listen 80;\n  autoindex on;\n  root /srv;\n}\n")
    report = scan_tree(tmp_path, select=["nginx-autoindex", "nginx-server-tokens", "infralint"])
    assert found(report) == {("conf.d/site.conf", 3, "nginx-autoindex")}
    [finding] = report.findings
    assert finding.node_id == "nginx/nginx.conf/server[:80]"


def test_a_fragment_alone_is_judged_on_its_own(tmp_path: Path) -> None:
    write(tmp_path, "conf.d/site.conf", "server {\n  listen 80;\n  autoindex on;\n  root /srv;\n}\n")
    report = scan_tree(tmp_path, select=["nginx-autoindex", "nginx-server-tokens", "infralint"])
    assert found(report) == {
        ("conf.d/site.conf", 1, "nginx-server-tokens"),
        ("conf.d/site.conf", 3, "nginx-autoindex"),
    }


def test_suppression_in_an_included_file(tmp_path: Path) -> None:
    write(tmp_path, "nginx.conf", "events {}\nhttp {\n  server_tokens off;\n  include conf.d/*.conf;\n}\n")
    write(
        tmp_path,
        "conf.d/site.conf",
        "# infralint: ignore[nginx-autoindex] a public mirror\nserver {\n  listen 80;\n  autoindex on;\n}\n",
    )
    assert found(scan_tree(tmp_path, select=["nginx-autoindex"])) == set()


def test_suppression_in_an_included_file_the_scan_does_not_find(tmp_path: Path) -> None:
    write(
        tmp_path, "nginx.conf", "events {}\nhttp {\n  server_tokens off;\n  server {\n    include site.inc;\n  }\n}\n"
    )
    write(tmp_path, "site.inc", "listen 80;\nautoindex on; # infralint: ignore[nginx-autoindex] a mirror\n")
    assert found(scan_tree(tmp_path, select=["nginx-autoindex"])) == set()


# --- fragments -----------------------------------------------------------------------------------

FRAGMENTS = {
    "server-block": ("server {\n  listen 80;\n  location / { root /srv; }\n}\n", "http"),
    "upstream-and-map": ("map $http_upgrade $c { default upgrade; }\nupstream u { server 10.0.0.1; }\n", "http"),
    "bare-headers": (
        'add_header X-Frame-Options DENY always;\nadd_header Referrer-Policy "no-referrer";\n',
        "http/server",
    ),
    "bare-location": ("location /api/ {\n  proxy_pass http://10.0.0.1;\n}\n", "http/server"),
    "location-only-directives": ("alias /srv/x/;\nexpires 7d;\n", "http/location"),
    "upstream-members": ("server 10.0.0.1:80 weight=2;\nserver 10.0.0.2:80 backup;\nkeepalive 8;\n", "http/upstream"),
    "main-only": ("worker_processes auto;\npid /run/nginx.pid;\n", "main"),
    "types": ("types {\n  text/html html;\n}\n", "http"),
    "include-only": ("include conf.d/*.conf;\n", "http"),
}


@pytest.mark.parametrize("case", sorted(FRAGMENTS))
def test_fragments_parse_in_a_guessed_context(tmp_path: Path, case: str) -> None:
    text, context = FRAGMENTS[case]
    write(tmp_path, "conf.d/x.conf", "server { listen 81; }\n")
    result = parse_file(tmp_path, "fragment.conf", text)
    assert result.findings == []
    assert node(result, "nginx/fragment.conf").facts["context"] == context


def test_a_full_config_is_not_a_fragment(tmp_path: Path) -> None:
    result = parse_file(tmp_path, "nginx.conf", "user www-data;\nevents {}\nhttp { server { listen 80; } }\n")
    config = node(result, "nginx/nginx.conf")
    assert (config.facts["context"], config.facts["fragment"], config.facts["partial_scope"]) == ("main", False, False)


def test_location_snippets_have_partial_scope(tmp_path: Path) -> None:
    result = parse_file(tmp_path, "snippet.conf", "location /static/ {\n  root /srv;\n}\n")
    assert all(n.facts["partial_scope"] for n in result.nodes)


# --- inheritance ---------------------------------------------------------------------------------

INHERITANCE = """events {}
http {
    add_header X-Http 1;
    proxy_set_header X-Http 1;
    proxy_read_timeout 30s;
    allow 10.0.0.0/8;
    server {
        listen 80;
        server_name example.com;
        add_header X-Server 1;
        location / {
            proxy_set_header X-Location 1;
            location /nested/ {
                add_header X-Nested 1;
                deny all;
            }
        }
        location /plain/ {
            root /srv;
        }
    }
}
"""


def test_inheritance_replaces_list_directives(tmp_path: Path) -> None:
    result = parse_file(tmp_path, "nginx.conf", INHERITANCE)
    server = node(result, "nginx/nginx.conf/server[example.com:80]")
    root = node(result, "nginx/nginx.conf/server[example.com:80]/location[/]")
    nested = node(result, "nginx/nginx.conf/server[example.com:80]/location[/]/location[/nested/]")
    plain = node(result, "nginx/nginx.conf/server[example.com:80]/location[/plain/]")
    effective = {n.id: n.attrs["effective"] for n in (server, root, nested, plain)}
    assert names(effective[server.id]["add_header"]) == ["X-Server"]
    assert names(effective[server.id]["proxy_set_header"]) == ["X-Http"]
    assert names(effective[root.id]["add_header"]) == ["X-Server"]
    assert names(effective[root.id]["proxy_set_header"]) == ["X-Location"]
    assert names(effective[nested.id]["add_header"]) == ["X-Nested"]
    assert names(effective[nested.id]["proxy_set_header"]) == ["X-Location"]
    assert names(effective[plain.id]["proxy_set_header"]) == ["X-Http"]
    # allow and deny share one list: the nested deny drops the inherited allow.
    assert "allow" not in effective[nested.id] and names(effective[nested.id]["deny"]) == ["all"]
    assert names(effective[plain.id]["allow"]) == ["10.0.0.0/8"]
    assert effective[nested.id]["proxy_read_timeout"][0]["line"] == 5
    assert "root" not in effective[root.id] and "root" in effective[plain.id]


def test_main_context_directives_do_not_reach_http(tmp_path: Path) -> None:
    result = parse_file(tmp_path, "nginx.conf", "worker_processes 2;\nevents {}\nhttp { server { listen 80; } }\n")
    assert "worker_processes" not in node(result, "nginx/nginx.conf/http").attrs["effective"]


# --- nodes and facts -----------------------------------------------------------------------------

FACTS = """events {}
http {
    upstream api {
        server 10.0.0.1:8000 max_fails=3 fail_timeout=5s;
        server backup.internal backup;
        server unix:/run/api.sock;
        keepalive 16;
    }
    server {
        listen 127.0.0.1:8443 ssl http2 default_server;
        listen [::]:80;
        listen unix:/run/nginx.sock;
        server_name api.example.com www.example.com;
        location /v1/ {
            proxy_pass http://api/v1/;
        }
        location /direct/ {
            proxy_pass https://backend.svc.cluster.local:9443;
        }
        location /var/ {
            proxy_pass http://$backend_host:$port;
        }
        location ~ \\.php$ {
            fastcgi_pass unix:/run/php/php-fpm.sock;
        }
    }
    server {
        server_name _;
        return 444;
    }
}
stream {
    upstream db { server 10.0.0.5:5432; }
    server { listen 5432; proxy_pass db; }
}
"""


def test_node_ids_spans_and_facts(tmp_path: Path) -> None:
    result = parse_file(tmp_path, "nginx.conf", FACTS)
    ids = [n.id for n in result.nodes]
    assert ids == [
        "nginx/nginx.conf",
        "nginx/nginx.conf/http",
        "nginx/nginx.conf/upstream[api]",
        "nginx/nginx.conf/server[api.example.com:8443]",
        "nginx/nginx.conf/server[api.example.com:8443]/location[/v1/]",
        "nginx/nginx.conf/server[api.example.com:8443]/location[/direct/]",
        "nginx/nginx.conf/server[api.example.com:8443]/location[/var/]",
        "nginx/nginx.conf/server[api.example.com:8443]/location[~ \\.php$]",
        "nginx/nginx.conf/server[_:80]",
        "nginx/nginx.conf/stream",
        "nginx/nginx.conf/stream/upstream[db]",
        "nginx/nginx.conf/stream/server[:5432]",
    ]
    server = node(result, "nginx/nginx.conf/server[api.example.com:8443]")
    assert (server.span.line, server.span.col, server.end_line, server.parent) == (9, 5, 26, "nginx/nginx.conf/http")
    listen = [
        (e["address"], e["port"], e["ssl"], e["http2"], e["default_server"], e["loopback"])
        for e in server.facts["listen"]
    ]
    assert listen == [
        ("127.0.0.1", 8443, True, True, True, True),
        ("::", 80, False, False, False, False),
        ("unix:/run/nginx.sock", None, False, False, False, True),
    ]
    assert server.facts["server_names"] == ["api.example.com", "www.example.com"]
    assert server.facts["ssl"] and not server.facts["loopback_only"] and server.facts["exposed"] is None
    assert [e["port"] for e in server.facts["plain_http_listens"]] == [80, None]
    implicit = node(result, "nginx/nginx.conf/server[_:80]")
    assert implicit.facts["listen"][0]["implicit"] and implicit.facts["refuses"]

    def target(location: str) -> dict:
        [found_target] = node(result, f"nginx/nginx.conf/server[api.example.com:8443]/location[{location}]").facts[
            "proxy_targets"
        ]
        return {k: found_target[k] for k in ("scheme", "host", "port", "uri", "is_variable", "unix", "line")}

    assert target("/v1/") == {
        "scheme": "http", "host": "api", "port": None, "uri": "/v1/", "is_variable": False, "unix": False, "line": 15,
    }  # fmt: skip
    assert target("/direct/")["host"] == "backend.svc.cluster.local" and target("/direct/")["port"] == 9443
    assert target("/var/")["is_variable"]
    assert target("~ \\.php$")["unix"] and target("~ \\.php$")["scheme"] == "fastcgi"
    upstream = node(result, "nginx/nginx.conf/upstream[api]")
    servers = [(s["host"], s["port"], s["max_fails"], s["backup"], s["unix"]) for s in upstream.facts["servers"]]
    assert servers == [
        ("10.0.0.1", 8000, "3", False, False),
        ("backup.internal", 80, None, True, False),
        ("unix:/run/api.sock", None, None, False, True),
    ]
    assert upstream.facts["keepalive"] == 16 and upstream.facts["protocol"] == "http"
    db = node(result, "nginx/nginx.conf/stream/upstream[db]")
    assert db.facts["protocol"] == "stream" and db.facts["servers"][0]["port"] == 5432
    stream_server = node(result, "nginx/nginx.conf/stream/server[:5432]")
    assert stream_server.facts["proxy_targets"][0]["host"] == "db"


def test_proxy_pass_links_to_its_upstream(tmp_path: Path) -> None:
    from infralint.graph.build import build

    graph = build(parse_file(tmp_path, "nginx.conf", FACTS).nodes)
    location = graph.nodes["nginx/nginx.conf/server[api.example.com:8443]/location[/v1/]"]
    assert [n.id for n in graph.outgoing(location, "proxies_to")] == ["nginx/nginx.conf/upstream[api]"]
    stream_server = graph.nodes["nginx/nginx.conf/stream/server[:5432]"]
    assert [n.id for n in graph.outgoing(stream_server, "proxies_to")] == ["nginx/nginx.conf/stream/upstream[db]"]


def test_comments_are_kept(tmp_path: Path) -> None:
    result = parse_file(tmp_path, "nginx.conf", "# top\nevents {}\nhttp { # the http block\n}\n")
    assert node(result, "nginx/nginx.conf").attrs["comments"] == [
        {"path": "nginx.conf", "line": 1, "text": " top"},
        {"path": "nginx.conf", "line": 3, "text": " the http block"},
    ]


def test_messages_name_blocks_with_their_brackets_intact(tmp_path: Path) -> None:
    """Only the brackets of a node id go from a block's name: a regex keeps its classes."""
    write(
        tmp_path,
        "nginx.conf",
        "events {}\nhttp {\n  server_tokens off;\n  server {\n    listen [::1]:8080;\n"
        "    location ~ ^/api/v[0-9]+/ {\n      autoindex on;\n    }\n"
        "    location ~* [.](png|jpg)$ {\n      autoindex on;\n    }\n  }\n}\n",
    )
    labels = {n.id: n.facts["label"] for n in parse_file(tmp_path, "nginx.conf").nodes if "label" in n.facts}
    assert labels["nginx/nginx.conf/server[:8080]/location[~* [.](png|jpg)$]"] == "location ~* [.](png|jpg)$"
    messages = sorted(f.message for f in scan_tree(tmp_path, select=["nginx-autoindex"]).findings)
    assert messages == [
        "autoindex on in location ~ ^/api/v[0-9]+/ lists directory contents",
        "autoindex on in location ~* [.](png|jpg)$ lists directory contents",
    ]


def test_own_line_suppression_before_a_server_covers_it(tmp_path: Path) -> None:
    write(
        tmp_path,
        "nginx.conf",
        "events {}\nhttp {\n  server_tokens off;\n  # infralint: ignore[nginx-autoindex] file share\n"
        "  server {\n    listen 80;\n    location / {\n      autoindex on;\n    }\n  }\n}\n",
    )
    assert found(scan_tree(tmp_path, select=["nginx-autoindex"])) == set()


def test_an_extensionless_conf_that_is_not_nginx_is_left_alone(tmp_path: Path) -> None:
    write(tmp_path, "app/conf", "key=value\nother = 2\n")
    write(tmp_path, "proxy/conf", "server {\n  listen 80;\n  autoindex on;\n}\n")
    report = scan_tree(tmp_path, select=["infralint", "nginx-autoindex"])
    assert found(report) == {("proxy/conf", 3, "nginx-autoindex")}


# --- envsubst templates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "template"),
    [
        ("site-template.conf", "gzip on;", True),
        ("default.conf.template", "gzip on;", True),
        ("site.conf.tmpl", "gzip on;", True),
        ("nginx.conf", "real_ip_recursive ${REAL_IP_RECURSIVE};", True),
        ("nginx.conf", "proxy_set_header Host ${host};", False),  # nginx's own variable, braced
        ("nginx.conf", "set $FOO 1; return 200 $FOO;", False),
        ("templates.conf", "gzip on;", False),
    ],
)
def test_what_counts_as_an_envsubst_template(name: str, text: str, template: bool) -> None:
    from infralint.parsers.nginx_syntax import env_placeholders

    assert (env_placeholders(name, text) is not None) == template


def test_a_placeholder_is_an_unknown_value_not_a_parse_error(tmp_path: Path) -> None:
    text = (
        "server {\n"
        "    listen ${NGINX_PORT};\n"
        "    real_ip_recursive ${REAL_IP_RECURSIVE};\n"
        "    add_header ${EXTRA_HEADER};\n"
        "    gzip maybe;\n"
        "    include /etc/nginx/${SNIPPET}.conf;\n"
        "}\n"
    )
    result = parse_file(tmp_path, "site-template.conf", text)
    assert problems(result) == {("infralint-parse-error", "site-template.conf", 5)}
    server = node(result, "nginx/site-template.conf/server[:${NGINX_PORT}]")
    listen = server.facts["listen"][0]
    assert (listen["port"], listen["placeholder"]) == (None, True)
    assert server.facts["plain_http_listens"] == []
    flagged = [r["name"] for r in server.attrs["directives"] if r.get("placeholder")]
    assert flagged == ["listen", "real_ip_recursive", "add_header", "include"]


def test_a_file_named_as_template_may_use_any_envsubst_form(tmp_path: Path) -> None:
    result = parse_file(
        tmp_path, "default.conf.template", "server {\n    autoindex ${autoindex};\n    gzip $GZIP;\n}\n"
    )
    assert problems(result) == set()


def test_a_variable_in_a_flag_of_a_plain_config_is_still_refused(tmp_path: Path) -> None:
    result = parse_file(tmp_path, "nginx.conf", "events {}\nhttp {\n    gzip ${gzip};\n    gzip_vary $vary;\n}\n")
    assert problems(result) == {("infralint-parse-error", "nginx.conf", 3), ("infralint-parse-error", "nginx.conf", 4)}


# --- includes that a Dockerfile of the scan copies into the image --------------------------------

CONTAINERFILE = """\
FROM nginx:1.27
COPY resources/nginx/headers.conf /etc/nginx/snippets/headers.conf
"""
SITE = """\
server {
    listen 80;
    include /etc/nginx/snippets/headers.conf;
    include snippets/headers.conf;
}
"""


def test_an_include_copied_into_the_image_is_read_in_place(tmp_path: Path) -> None:
    write(tmp_path, "images/web/Containerfile", CONTAINERFILE)
    write(tmp_path, "resources/nginx/headers.conf", "add_header X-Frame-Options DENY always;\n")
    result = parse_file(tmp_path, "resources/nginx/site.conf", SITE)
    assert problems(result) == set()
    server = node(result, "nginx/resources/nginx/site.conf/server[:80]")
    assert [r["path"] for r in server.attrs["effective"]["add_header"]] == ["resources/nginx/headers.conf"] * 2
    report = scan_tree(tmp_path)
    assert found(report, "infralint") == set()
    assert report.graph is not None
    standalone = report.graph.nodes["nginx/resources/nginx/headers.conf"]  # judged where it is included
    assert standalone.facts.get("included_by") == "nginx/resources/nginx/site.conf"


def test_a_dockerfile_added_later_is_seen_by_the_next_scan(tmp_path: Path) -> None:
    write(tmp_path, "resources/nginx/headers.conf", "add_header X-Frame-Options DENY always;\n")
    write(tmp_path, "resources/nginx/site.conf", SITE)
    assert ("resources/nginx/site.conf", 3, "infralint-include-not-found") in found(scan_tree(tmp_path))
    write(tmp_path, "images/web/Containerfile", CONTAINERFILE)
    assert found(scan_tree(tmp_path), "infralint") == set()
