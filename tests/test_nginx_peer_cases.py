"""gixy's published test cases for the three checks infralint shares with it, retold in our own
words (other names and paths, the same construct): what gixy reports and what infralint reports.

Where the two differ the reason is recorded, and the test holds the differences to exactly those:
a change that loses agreement, or gains it silently, shows up here. Each snippet is scanned as a
file of its own, the way gixy reads its cases (infralint guesses the block it belongs in).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scanning import found, scan_tree, write

SPLITTING = "nginx-http-splitting"
ALIAS = "nginx-alias-traversal"
HOST = "nginx-host-header-spoofing"

# name -> (rule, snippet, gixy reports it, infralint reports it)
CASES: dict[str, tuple[str, str, bool, bool]] = {
    # --- http_splitting
    "splitting/header-from-uri": (SPLITTING, "add_header X-Path $uri;\n", True, True),
    "splitting/unknown-variable": (
        SPLITTING,
        "location ~ ^/files/(x|y)/(\\W*)$ {\n    proxy_pass http://files/$not_defined;\n}\n",
        False,
        False,
    ),
    "splitting/if-capture-of-uri": (
        SPLITTING,
        "server {\n    server_name a.example.org;\n    if ($uri ~* ^/back/(.*)$) {\n        return 302 $1;\n    }\n}\n",
        True,
        True,
    ),
    "splitting/if-capture-of-request-uri": (
        SPLITTING,
        "server {\n    server_name a.example.org;\n    if ($request_uri ~* ^/back/(.*)$) {\n"
        "        return 302 $1;\n    }\n}\n",
        False,
        False,
    ),
    "splitting/map-capture-of-host": (
        SPLITTING,
        "map $host $site {\n    ~*/(.*) $1;\n    default 0;\n}\nadd_header X-Site $site;\n",
        True,
        False,
    ),
    "splitting/map-value-uri": (
        SPLITTING,
        "map $host $site {\n    b.example.org $uri;\n    default 0;\n}\nadd_header X-Site $site;\n",
        True,
        True,
    ),
    "splitting/two-maps": (
        SPLITTING,
        "map $host $inner {\n    b.example.org $uri;\n    default 0;\n}\n"
        "map $host $outer {\n    b.example.org $inner;\n    default 0;\n}\nadd_header X-Site $outer;\n",
        True,
        True,
    ),
    "splitting/two-maps-no-uri": (
        SPLITTING,
        "map $host $inner {\n    default 0;\n}\n"
        "map $host $outer {\n    b.example.org $inner;\n    default 0;\n}\nadd_header X-Site $outer;\n",
        False,
        False,
    ),
    "splitting/three-maps": (
        SPLITTING,
        "map $host $deep {\n    b.example.org $uri;\n    default 0;\n}\n"
        "map $host $inner {\n    b.example.org $deep;\n    default 0;\n}\n"
        "map $host $outer {\n    b.example.org $inner;\n    default 0;\n}\nadd_header X-Site $outer;\n",
        True,
        True,
    ),
    "splitting/three-maps-no-uri": (
        SPLITTING,
        "map $host $deep {\n    default 0;\n}\n"
        "map $host $inner {\n    b.example.org $deep;\n    default 0;\n}\n"
        "map $host $outer {\n    b.example.org $inner;\n    default 0;\n}\nadd_header X-Site $outer;\n",
        False,
        False,
    ),
    "splitting/map-capture-without-breaks": (
        SPLITTING,
        "map $host $site {\n    ~*/([^\\r\\n]*) $1;\n    default 0;\n}\nadd_header X-Site $site;\n",
        False,
        False,
    ),
    "splitting/map-then-set": (
        SPLITTING,
        "map $host $site {\n    b.example.org $uri;\n    default 0;\n}\n"
        "server {\n    set $copy $site;\n    add_header X-Site $copy;\n}\n",
        True,
        True,
    ),
    "splitting/location-capture-in-proxy-pass": (
        SPLITTING,
        "location ~ /fetch/(x|y)/(\\W*)$ {\n    proxy_pass http://files/$2;\n}\n",
        True,
        True,
    ),
    "splitting/location-capture-through-set": (
        SPLITTING,
        "location ~ /fetch/(x|y)/(\\W*)$ {\n    set $rest $2;\n    proxy_pass http://files/$rest;\n}\n",
        True,
        False,
    ),
    "splitting/safe-capture-through-set": (
        SPLITTING,
        "location ~ /fetch/(x|y)/(\\W*)$ {\n    set $rest $1;\n    proxy_pass http://files/$rest;\n}\n",
        False,
        False,
    ),
    "splitting/named-capture-through-set": (
        SPLITTING,
        'location ~ /fetch/(x|y)/(?<rest>\\W*)$ {\n    set $target "http://$1/$rest?";\n    proxy_pass $target;\n}\n',
        True,
        True,
    ),
    "splitting/dot-capture-in-proxy-pass": (
        SPLITTING,
        "location ~* ^/t/(.*) {\n    proxy_pass http://192.0.2.10/$1;\n}\n",
        False,
        False,
    ),
    "splitting/proxy-pass-document-uri": (SPLITTING, "proxy_pass http://backend$document_uri;\n", True, True),
    "splitting/class-capture-in-proxy-pass": (
        SPLITTING,
        "location ~* ^/t/([^/]+)/ {\n    proxy_pass http://192.0.2.10/$1;\n}\n",
        True,
        True,
    ),
    "splitting/proxy-set-header-document-uri": (
        SPLITTING,
        'proxy_set_header "X-Path" $document_uri;\n',
        True,
        True,
    ),
    "splitting/return-status": (SPLITTING, "return 404;\n", False, False),
    "splitting/return-request-uri": (SPLITTING, "return 302 https://b.example.org$request_uri;\n", False, False),
    "splitting/rewrite-named-capture": (
        SPLITTING,
        "rewrite ^/fetch/(x|y)/(?<rest>\\W*)$ http://files/$rest redirect;\n",
        False,
        True,
    ),
    "splitting/rewrite-uri": (SPLITTING, "rewrite ^ http://b.example.org$uri;\n", True, True),
    "splitting/return-host-and-uri": (SPLITTING, "return 302 https://$host$uri;\n", True, True),
    # --- alias_traversal
    "alias/nested-prefix": (
        ALIAS,
        "location /docs/ {\n    location /docs/img {\n        alias /srv/pictures/;\n    }\n}\n",
        True,
        True,
    ),
    "alias/nested-prefix-alias-outside": (
        ALIAS,
        "location /docs/ {\n    location /docs/img {\n    }\n    alias /srv/pictures/;\n}\n",
        False,
        False,
    ),
    "alias/prefix-neither-slashed": (ALIAS, "location /docs {\n    alias /srv/docs;\n}\n", True, False),
    "alias/prefix-slashed-alias-not": (ALIAS, "location /docs/ {\n    alias /srv/docs;\n}\n", False, False),
    "alias/regex-glued-capture": (ALIAS, "location ~ /img(.*) {\n    alias /srv/pictures/$1;\n}\n", True, True),
    "alias/regex-glued-capture-glued-alias": (
        ALIAS,
        "location ~ /img(.*) {\n    alias /srv/pictures$1;\n}\n",
        True,
        False,
    ),
    "alias/regex-capture-after-slash": (
        ALIAS,
        "location ~ /img/(.*)$ {\n    alias /srv/pictures/$1;\n}\n",
        False,
        False,
    ),
    "alias/regex-glued-capture-then-more": (
        ALIAS,
        "location ~ /img(.*)/thumb {\n    alias /srv/pictures/$1;\n}\n",
        True,
        True,
    ),
    "alias/regex-capture-starting-with-slash": (
        ALIAS,
        "location ~ /img(/.*) {\n    alias /srv/pictures$1;\n}\n",
        False,
        False,
    ),
    "alias/regex-capture-after-slash-glued-alias": (
        ALIAS,
        "location ~ /pages/(.*) {\n    alias /srv/www$1;\n}\n",
        True,
        False,
    ),
    "alias/regex-capture-without-dot": (
        ALIAS,
        "location ~ /img([^.]*) {\n    alias /srv/pictures/$1;\n}\n",
        False,
        False,
    ),
    "alias/regex-glued-capture-glued-alias-2": (
        ALIAS,
        "location ~ /pages(.*) {\n    alias /srv/www$1;\n}\n",
        True,
        False,
    ),
    "alias/regex-second-capture": (ALIAS, "location ~ /pages(9)(.*) {\n    alias /srv/www/$2;\n}\n", True, True),
    "alias/regex-no-capture-in-alias": (
        ALIAS,
        "location ~* ^/docs-(de|it|pt) {\n    alias /srv/docs/;\n}\n",
        False,
        False,
    ),
    "alias/prefix-unslashed": (ALIAS, "location /docs {\n    alias /srv/docs/;\n}\n", True, True),
    "alias/prefix-slashed": (ALIAS, "location /docs/ {\n    alias /srv/docs/;\n}\n", False, False),
    "alias/prefix-unslashed-again": (ALIAS, "location /media {\n    alias /srv/media/;\n}\n", True, True),
    "alias/prefix-slashed-again": (ALIAS, "location /media/ {\n    alias /srv/media/;\n}\n", False, False),
    # --- host_spoofing
    "host/host-variable": (HOST, "proxy_set_header Host $host;\n", False, False),
    "host/http-host": (HOST, "proxy_set_header Host $http_host;\n", True, True),
    "host/http-host-other-case": (HOST, "proxy_set_header hOsT $http_host;\n", True, True),
    "host/query-argument": (HOST, "proxy_set_header host $arg_backend;\n", True, True),
}

# Where infralint deliberately answers otherwise, and why (the rules' rationale says so too).
DIFFERENCES = {
    "splitting/map-capture-of-host": "the Host header cannot hold CR or LF: nginx refuses the request",
    "splitting/location-capture-through-set": "set escapes a numbered capture again (checked with nginx)",
    "splitting/rewrite-named-capture": "a named capture is a variable, not escaped by rewrite (checked with nginx)",
    "alias/prefix-neither-slashed": "/docsX maps to /srv/docsX: a sibling folder, not the one above",
    "alias/regex-glued-capture-glued-alias": "the capture is glued to a folder name: a sibling, not the one above",
    "alias/regex-capture-after-slash-glued-alias": "the same: /srv/www + x is a sibling of www",
    "alias/regex-glued-capture-glued-alias-2": "the same: /srv/www + x is a sibling of www",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_infralint_on_gixys_cases(tmp_path: Path, case: str) -> None:
    rule, snippet, _, reports = CASES[case]
    write(tmp_path, "snippet.conf", snippet)
    report = scan_tree(tmp_path, select=[rule, "infralint"])
    assert found(report, "infralint") == set(), "the snippet must parse"
    assert bool(found(report, rule)) == reports


def test_agreement_with_gixy_is_what_the_rules_document() -> None:
    disagreements = {case for case, (_, _, gixy, ours) in CASES.items() if gixy != ours}
    assert disagreements == set(DIFFERENCES)
    assert len(CASES) - len(disagreements) == 40
