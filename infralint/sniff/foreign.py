"""Lines that nginx, HAProxy and Redis never write but neighbouring formats do.

One such line is enough to leave a text unclaimed: an HCL, TOML, INI, YAML or BIND text can
hold a `server {` block or a `backend` line, and parsing it as a server config would only
produce parse errors about a file that is not broken.
"""

from __future__ import annotations

import re

# `key = value` (HCL, TOML, INI, Vector, Caddy's JSON-ish blocks); `key == x` is an expression.
ASSIGNMENT = re.compile(r"^[ \t]*[A-Za-z_][\w.-]*[ \t]*=(?!=)(?P<rest>.*)$", re.MULTILINE)
# `[section]` or `[[array]]` headers (INI, TOML, Fluent Bit classic mode, systemd units).
SECTION_HEADER = re.compile(r"^[ \t]*\[[^\]\n]*\]\]?[ \t]*(?:#.*)?$", re.MULTILINE)
# `key:` or `key: value` (YAML, Unbound's `server:` clauses, nsswitch).
COLON_KEY = re.compile(r"^[ \t]*[A-Za-z_][\w-]*:(?:[ \t]|$)", re.MULTILINE)
# `};` closing a block (BIND named.conf, C-like languages).
BLOCK_END_SEMICOLON = re.compile(r"^[ \t]*\};", re.MULTILINE)


def assignment_lines(text: str) -> list[str]:
    """Assignment lines, by what follows the `=` (nginx lets `location = /x {` end with a brace)."""
    return [match.group("rest").strip() for match in ASSIGNMENT.finditer(text)]


def has_ini_or_yaml_lines(text: str) -> bool:
    return SECTION_HEADER.search(text) is not None or COLON_KEY.search(text) is not None
