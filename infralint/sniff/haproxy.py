"""Is this text an HAProxy config (a whole one, or one of the files of a `-f conf.d/` set)?

Claimed when the first statement opens an HAProxy section (`global`, `frontend web`, `backend
app from defaults` ...: a keyword and at most three words, never `{`), or when a proxy section
and an indented proxy keyword (`bind`, `server`, `mode` ...) both appear. A line in another
syntax (`key = value`, `[section]`, `key: value`, a line ending in `{` or `;`) leaves the text
unclaimed: HAProxy writes none of them, while Terraform's `backend "s3" {` or a prose line
starting with "listen" would otherwise pass.
"""

from __future__ import annotations

import re

from infralint.sniff import foreign

NAMES = frozenset({"haproxy.cfg"})
_SECTIONS = (
    "global|defaults|frontend|backend|listen|userlist|peers|resolvers|mailers|program|cache|http-errors|ring"
    "|log-forward|fcgi-app|crt-store|traces|log-profile|acme"
)
# A section keyword, then a name, `from <defaults>` or an old-style address: three words at most.
_SECTION_LINE = re.compile(rf"^(?:{_SECTIONS})(?:[ \t]+[^=:\s{{;]\S*(?:[ \t]+\S+){{0,2}})?[ \t]*(?:#.*)?$")
_SECTION_START = re.compile(rf"^(?:{_SECTIONS})(?:[ \t]|$)")
_PROXY = re.compile(r"^(?:frontend|backend|listen|defaults)(?:[ \t]+[^=:\s]|[ \t]*$)", re.MULTILINE)
_PROXY_KEYWORD = re.compile(
    r"^[ \t]+(?:bind|server|mode|balance|timeout|default_backend|use_backend|option)[ \t]+[^=:\s]", re.MULTILINE
)
_BRACE_OR_SEMICOLON_END = re.compile(r"^[^#\n]*[{;][ \t]*$", re.MULTILINE)


def sniff(relative_path: str, text: str) -> bool:
    if _foreign(text):
        return False
    first = _first_statement(text)
    if first is not None and _SECTION_LINE.match(first):
        return True
    return _PROXY.search(text) is not None and _PROXY_KEYWORD.search(text) is not None


def plausible(text: str) -> bool:
    """The first statement opens a section, for a text whose name already says HAProxy."""
    if _foreign(text):
        return False
    first = _first_statement(text)
    return first is not None and _SECTION_START.match(first) is not None


def _foreign(text: str) -> bool:
    return bool(
        foreign.has_ini_or_yaml_lines(text) or foreign.ASSIGNMENT.search(text) or _BRACE_OR_SEMICOLON_END.search(text)
    )


def _first_statement(text: str) -> str | None:
    """The first line that is neither blank, a comment nor a `.if`-style directive."""
    for line in text[:65536].splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", ".")):
            return line
    return None
