"""Is this text an nginx config (a full config or a fragment)?

A block (`server {`, `location / {`, `upstream x {`, `types {` ...) or a statement of a known
nginx directive ended by `;`. HAProxy and Redis lines never end with `;`, so snippets of bare
directives (`add_header X-Frame-Options DENY;`) are claimed without taking their files.
"""

from __future__ import annotations

import re

# Exact names that are nginx files (stock files nginx ships).
NAMES = frozenset({"nginx.conf", "mime.types", "fastcgi_params", "proxy_params", "uwsgi_params", "scgi_params"})
# Names worth reading although their content must decide (an extensionless `conf` seen in real
# repositories may hold any server format).
CANDIDATE_NAMES = frozenset({"conf"})
_BLOCK = re.compile(
    r"^[ \t]*(?:http|server|events|stream|types|upstream[ \t]+\S+|location[ \t]+[^{\n]*"
    r"|map[ \t]+\S+[ \t]+\S+|if[ \t]*\(.*\)|limit_except[ \t]+[^{\n]+)[ \t]*\{",
    re.MULTILINE,
)
_DIRECTIVE = re.compile(
    r"^[ \t]*(?:add_header|more_set_headers|more_clear_headers|proxy_\w+|fastcgi_\w+|uwsgi_\w+|grpc_\w+"
    r"|ssl_\w+|gzip\w*|brotli\w*|expires|root|alias|index|try_files|return|rewrite|listen|server_name"
    r"|client_\w+|keepalive_\w+|send_timeout|sendfile|tcp_\w+|types_hash_\w+|server_tokens|charset\w*"
    r"|access_log|error_log|error_page|log_format|limit_req\w*|limit_conn\w*|resolver\w*|default_type"
    r"|open_file_cache\w*|autoindex\w*|auth_basic\w*|auth_request\w*|real_ip_\w+|set_real_ip_from"
    r"|large_client_header_buffers|underscores_in_headers|etag|if_modified_since|worker_\w+|add_trailer"
    r"|include|allow|deny|set)[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|[^;{}#\n\"'])*;[ \t]*(?:#.*)?$",
    re.MULTILINE,
)


def sniff(relative_path: str, text: str) -> bool:
    return _BLOCK.search(text) is not None or _DIRECTIVE.search(text) is not None
