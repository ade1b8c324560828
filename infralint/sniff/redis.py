"""Is this text a Redis (or Sentinel) config?

Most lines must start with a directive Redis knows, and at least one must be distinctive (a
hyphenated name such as `maxmemory-policy`, a `save 900 1` line, or one of a few Redis-only
words): generic words such as `port`, `bind`, `timeout` or `include` alone also start lines of
other formats' files. Half the lines is enough, so a config with typos (which the rules should
see) is still recognised.
"""

from __future__ import annotations

import re

NAMES = frozenset({"redis.conf", "sentinel.conf"})

_DISTINCTIVE_WORDS = frozenset(
    {
        "maxmemory",
        "appendonly",
        "appendfsync",
        "requirepass",
        "masterauth",
        "replicaof",
        "slaveof",
        "dbfilename",
        "rdbcompression",
        "rdbchecksum",
        "activerehashing",
        "activedefrag",
        "daemonize",
        "databases",
        "maxclients",
        "sentinel",
        "unixsocketperm",
    }
)
_MAX_LINES = 2000
_SAVE_LINE = re.compile(r'save\s+(?:""|\d+\s+\d+(?:\s+\d+\s+\d+)*)\s*$', re.IGNORECASE)


def sniff(relative_path: str, text: str) -> bool:
    from infralint.parsers.redis_directives import DIRECTIVES

    total = known = 0
    distinctive = False
    for raw in text.splitlines()[: _MAX_LINES * 4]:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        total += 1
        word = line.split(None, 1)[0].lower()
        if word in DIRECTIVES and len(line) > len(word):  # a directive has arguments (or a blank after it)
            known += 1
            distinctive = distinctive or word in _DISTINCTIVE_WORDS or "-" in word or bool(_SAVE_LINE.match(line))
        if total >= _MAX_LINES:
            break
    return distinctive and known * 2 >= total
