"""Is this text an HAProxy config (a whole one, or one of the files of a `-f conf.d/` set)?"""

from __future__ import annotations

import re

NAMES = frozenset({"haproxy.cfg"})
_SECTIONS = (
    "global|defaults|frontend|backend|listen|userlist|peers|resolvers|mailers|program|cache|http-errors|ring"
    "|log-forward|fcgi-app|crt-store|traces|log-profile|acme"
)
_SECTION_LINE = re.compile(rf"^(?:{_SECTIONS})(?:[ \t]+[^=:\s]|[ \t]*$|[ \t]*#)")  # not `backend = x`
_PROXY = re.compile(r"^(?:frontend|backend|listen|defaults)(?:[ \t]+[^=:\s]|[ \t]*$)", re.MULTILINE)
_PROXY_KEYWORD = re.compile(
    r"^[ \t]+(?:bind|server|mode|balance|timeout|default_backend|use_backend|option)[ \t]", re.MULTILINE
)


def sniff(relative_path: str, text: str) -> bool:
    first = _first_statement(text)
    if first is not None and _SECTION_LINE.match(first):
        return True
    return _PROXY.search(text) is not None and _PROXY_KEYWORD.search(text) is not None


def _first_statement(text: str) -> str | None:
    """The first line that is neither blank, a comment nor a `.if`-style directive."""
    for line in text[:65536].splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", ".")):
            return line
    return None
