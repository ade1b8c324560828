"""The nginx checks gixy ships (infralint/checks/nginx_gixy.py): their helpers, and gixy's
documented cases retold in our own words, with where infralint deliberately differs."""

from __future__ import annotations

from pathlib import Path

import pytest
from scanning import found, scan_tree, write

from infralint.checks.nginx_gixy import _authority, _expansions, _origin_regex_flaws, _redos_flaw
from infralint.parsers.nginx_regex import parse


@pytest.mark.parametrize(
    ("pattern", "flaw"),
    [
        (r"^(b+)+$", "nested quantifiers"),
        (r"^/(\w+\s?)*$", "nested quantifiers"),
        (r"^(.*;)*end", "nested quantifiers"),
        (r"^/(.*)(.*)$", "adjacent quantifiers matching the same characters"),
        (r"^/(\d+)\d+$", "adjacent quantifiers matching the same characters"),
        (r"^(/[a-z]+)*$", None),  # each turn starts with a slash the inner repeat cannot match
        (r"^/files/(.+)/(.+)$", None),
        (r"\.(?:css|js)$", None),
        (r"^/(.*)/?$", None),
    ],
)
def test_redos_flaws(pattern: str, flaw: str | None) -> None:
    parsed = parse(pattern)
    assert parsed is not None
    assert _redos_flaw(parsed.items) == flaw


@pytest.mark.parametrize(
    ("variable", "pattern", "flaws"),
    [
        ("$http_origin", r"^https://app.example.com$", 1),
        ("$http_origin", r"^https://app\.example\.com", 1),
        ("$http_origin", r"^https://app.example.com", 2),
        ("$http_origin", r"^https://([a-z]+\.)?example\.com$", 0),
        ("$http_referer", r"^https://example\.com/", 0),  # the slash closes the host
        ("$http_referer", r"^https://example\.com/.*$", 0),  # a wildcard in the path is fine
        # a referer holds the whole URL: the trusted one can follow the attacker's
        ("$http_referer", r"https://example\.com/", 1),
        ("$http_referer", r"^https://example\.com/|([^/]+\.)?partner\.org/", 1),
        ("$http_referer", r"^https?://([^/]+\.)?(example\.com|partner\.org)/", 0),  # a group is one branch
        ("$http_referer", r"^https://.*\.example\.com/", 1),  # .* crosses the host
        ("$http_referer", r"^https://[^/]*\.example\.com/", 0),
        # an Origin is only scheme://host[:port]
        ("$http_origin", r"https://example\.com$", 0),
        ("$http_origin", r"example\.com$", 1),
        ("$http_origin", r"^https://.*\.example\.com$", 0),
    ],
)
def test_origin_regex_flaws(variable: str, pattern: str, flaws: int) -> None:
    assert len(_origin_regex_flaws(pattern, variable)) == flaws


@pytest.mark.parametrize(
    ("url", "authority"),
    [
        ("http://app/api/", "http://app"),
        ("http://app$request_uri", "http://app"),
        ("$scheme://$arg_host/x", "$scheme://$arg_host"),
        ("$target", "$target"),
        ("unix:/run/app.sock", ""),
    ],
)
def test_authority(url: str, authority: str) -> None:
    assert _authority(url) == authority


def test_expansions_follow_sets() -> None:
    sets = {"u": ["http://$h/x"], "h": ["a", "$arg_h"]}
    assert list(_expansions("$u", sets)) == ["http://a/x", "http://$arg_h/x"]


SERVER = (
    "events {{}}\nhttp {{\n    server {{\n        listen 80;\n        server_name s.example.org;\n{body}    }}\n}}\n"
)

# name -> (rule, server body, gixy reports it, infralint reports it)
CASES: dict[str, tuple[str, str, bool, bool]] = {
    "referers/none-among-others": (
        "nginx-valid-referers-none",
        "        valid_referers server_names none *.cdn.example.org;\n",
        True,
        True,
    ),
    "referers/no-none": ("nginx-valid-referers-none", "        valid_referers blocked server_names;\n", False, False),
    "resolver/public": ("nginx-external-resolver", "        resolver 1.0.0.1;\n", True, True),
    "resolver/loopback-ipv6-port": ("nginx-external-resolver", "        resolver [::1]:5353;\n", False, False),
    # gixy reports every address that is not private; infralint only known public resolvers
    "resolver/own-routable": ("nginx-external-resolver", "        resolver 198.51.100.53;\n", True, False),
    "multiline/folded": (
        "nginx-add-header-multiline",
        '        add_header X-Policy "a=1;\n            b=2";\n',
        True,
        True,
    ),
    "multiline/one-line": ("nginx-add-header-multiline", '        add_header X-Policy "a=1; b=2";\n', False, False),
    "allow/alone": (
        "nginx-allow-without-deny",
        "        location /ops/ {\n            allow 10.2.0.0/16;\n            return 204;\n        }\n",
        True,
        True,
    ),
    "allow/closed": (
        "nginx-allow-without-deny",
        "        location /ops/ {\n            allow 10.2.0.0/16;\n            deny all;\n        }\n",
        False,
        False,
    ),
    "if/add-header": (
        "nginx-if-in-location",
        "        location / {\n            if ($arg_x) {\n                add_header X-A b;\n            }\n        }\n",
        True,
        True,
    ),
    "if/return": (
        "nginx-if-in-location",
        "        location / {\n            if ($arg_x) {\n                return 404;\n            }\n        }\n",
        False,
        False,
    ),
    # gixy accepts only `rewrite ... last`; a rewrite that ends with break acts at once too
    "if/rewrite-break": (
        "nginx-if-in-location",
        "        location / {\n            if ($arg_x) {\n                rewrite ^ /b break;\n            }\n        }\n",
        True,
        False,
    ),
    "ssrf/argument-host": (
        "nginx-ssrf",
        "        resolver 127.0.0.1;\n        location /p/ {\n            proxy_pass http://$arg_to;\n        }\n",
        True,
        True,
    ),
    "ssrf/captured-scheme-and-host": (
        "nginx-ssrf",
        "        resolver 127.0.0.1;\n        location ~ ^/p/(https?)/([^/]+)/(.*)$ {\n"
        "            set $s $1;\n            set $h $2;\n            proxy_pass $s://$h/$3;\n        }\n",
        True,
        True,
    ),
    "ssrf/fixed-host-client-path": (
        "nginx-ssrf",
        '        location /p/ {\n            set $u "http://127.0.0.1:9000$request_uri";\n'
        "            proxy_pass $u;\n        }\n",
        False,
        False,
    ),
    "ssrf/internal": (
        "nginx-ssrf",
        "        resolver 127.0.0.1;\n        location /p/ {\n            internal;\n"
        "            proxy_pass http://$arg_to;\n        }\n",
        False,
        False,
    ),
    "origin/unescaped-dot": (
        "nginx-origin-regex",
        "        if ($http_origin !~ '^https?://shop.example.org$') {\n            return 403;\n        }\n",
        True,
        True,
    ),
    "origin/well-formed": (
        "nginx-origin-regex",
        "        if ($http_origin !~ '^https?://shop\\.example\\.org$') {\n            return 403;\n        }\n",
        False,
        False,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_gixy_cases(tmp_path: Path, case: str) -> None:
    rule, body, _, reports = CASES[case]
    write(tmp_path, "nginx.conf", SERVER.format(body=body))
    report = scan_tree(tmp_path, select=[rule, "infralint"])
    assert found(report, "infralint") == set(), "the config must parse"
    assert bool(found(report, rule)) == reports


def test_differences_from_gixy_are_the_documented_ones() -> None:
    differences = {case for case, (_, _, gixy, ours) in CASES.items() if gixy != ours}
    assert differences == {"resolver/own-routable", "if/rewrite-break"}
