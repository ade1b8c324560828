"""Is this text an nginx config (a full config or a fragment)?

Claimed on evidence only nginx gives, never on a shape other formats share:
- a statement of a distinctive nginx directive ended by `;` (`server_name x;`, `proxy_pass ...;`,
  `listen 80;`), or a block only nginx opens (`location / {`, `upstream x {`, `map $a $b {`);
- a generic block (`server {`, `http {`, `events {` ...) holding any nginx statement;
- or a text made only of nginx statements (an include list: `include h5bp/basic.conf;`).
Statements such as `return x;`, `set ...;` or `include ...;` alone also begin lines of code and
SQL, and `server {` alone begins HCL (Nomad, Consul): neither is enough by itself. A line written
in another syntax (`key = value`, `[section]`, `key: value`, `};`) leaves the text unclaimed.
HAProxy and Redis lines never end with `;`, so snippets of bare directives are claimed without
taking their files.
"""

from __future__ import annotations

import re

from infralint.sniff import foreign

# Exact names that are nginx files (stock files nginx ships).
NAMES = frozenset({"nginx.conf", "mime.types", "fastcgi_params", "proxy_params", "uwsgi_params", "scgi_params"})
# Names worth reading although their content must decide (an extensionless `conf` seen in real
# repositories may hold any server format).
CANDIDATE_NAMES = frozenset({"conf"})

_GENERIC_BLOCK = re.compile(r"^[ \t]*(?:http|server|events|stream|types)[ \t]*\{", re.MULTILINE)
_NGINX_BLOCK = re.compile(
    r"^[ \t]*(?:upstream[ \t]+[\w.-]+|location[ \t]+[^{\n]*|map[ \t]+\S+[ \t]+\$\w+|limit_except[ \t]+[^{\n]+)[ \t]*\{",
    re.MULTILINE,
)
# Directive names that other languages also start lines with (`return x;` in C or JavaScript,
# `set x = 1;` in SQL, `include "f";` in BIND).
_SHARED = r"return|include|allow|deny|set|index|root|alias"
_DISTINCTIVE = (
    r"add_header|more_set_headers|more_clear_headers|proxy_\w+|fastcgi_\w+|uwsgi_\w+|scgi_\w+|grpc_\w+"
    r"|charset\w*|ssl_\w+|gzip\w*|brotli\w*|expires|try_files|rewrite|listen|server_name|client_\w+|keepalive_\w+"
    r"|send_timeout|sendfile|tcp_no\w+|types_hash_\w+|server_tokens|source_charset|access_log|error_log"
    r"|error_page|log_format|limit_req\w*|limit_conn\w*|resolver\w*|default_type|open_file_cache\w*|autoindex\w*"
    r"|auth_basic\w*|auth_request\w*|real_ip_\w+|set_real_ip_from|large_client_header_buffers"
    r"|underscores_in_headers|etag|if_modified_since|worker_\w+|add_trailer|pid|user|stub_status"
)
_ARGUMENTS = r"(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|[^;{}#\n\"'])*)?;[ \t]*(?:#.*)?$"
_DISTINCTIVE_STATEMENT = re.compile(rf"^[ \t]*(?:{_DISTINCTIVE}){_ARGUMENTS}", re.MULTILINE)
_STATEMENT = re.compile(rf"^[ \t]*(?:{_DISTINCTIVE}|{_SHARED}){_ARGUMENTS}", re.MULTILINE)
# The same inside a block written on one line: `server { listen 80; location / { ... } }`.
_INLINE_STATEMENT = re.compile(rf"[{{;][ \t]*(?:{_DISTINCTIVE})(?:[ \t]+[^;{{}}#\n\"']*)?;[ \t]*[}}\w]")


def sniff(relative_path: str, text: str) -> bool:
    if _foreign(text):
        return False
    if _DISTINCTIVE_STATEMENT.search(text) or _NGINX_BLOCK.search(text):
        return True
    if _GENERIC_BLOCK.search(text):
        return _STATEMENT.search(text) is not None or _INLINE_STATEMENT.search(text) is not None
    return _only_statements(text)


def plausible(text: str) -> bool:
    """Any nginx block or statement, for a text whose name already says nginx."""
    if _foreign(text):
        return False
    return bool(_GENERIC_BLOCK.search(text) or _NGINX_BLOCK.search(text) or _STATEMENT.search(text))


def _foreign(text: str) -> bool:
    if foreign.has_ini_or_yaml_lines(text) or foreign.BLOCK_END_SEMICOLON.search(text):
        return True
    if "_by_lua" in text:  # OpenResty: Lua inside the config assigns with `=`
        return False
    # `location = /exact {` and `map` entries such as `~a=b 1;` are nginx; a bare `key = value` is not.
    return any(not rest.endswith(("{", ";")) for rest in foreign.assignment_lines(text))


def _only_statements(text: str) -> bool:
    lines = [line for line in (raw.strip() for raw in text.splitlines()) if line and not line.startswith("#")]
    return bool(lines) and all(_STATEMENT.match(line) for line in lines)
