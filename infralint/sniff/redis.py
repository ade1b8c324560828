"""Is this text a Redis (or Sentinel) config?"""

from __future__ import annotations

import re

NAMES = frozenset({"redis.conf", "sentinel.conf"})
_DIRECTIVE = re.compile(
    r"^\s*(?:maxmemory|appendonly|requirepass|save\s|daemonize|databases|protected-mode|sentinel\s)", re.MULTILINE
)


def sniff(relative_path: str, text: str) -> bool:
    return _DIRECTIVE.search(text) is not None
