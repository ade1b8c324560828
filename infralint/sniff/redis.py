"""Is this text a Redis (or Sentinel) config?

Most lines must start with a directive Redis knows, and at least one must be distinctive (a
hyphenated name such as `maxmemory-policy`, a `save 900 1` line, or one of a few Redis-only
words): generic words such as `port`, `bind`, `timeout` or `include` alone also start lines of
other formats' files. Half the lines is enough, so a config with typos (which the rules should
see) is still recognised; a line in another syntax (`key = value`, `[section]`, `key: value`)
is not a typo but another format, and leaves the text unclaimed.
"""

from __future__ import annotations

import re

from infralint.sniff import foreign

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
    known, total, distinctive = _count(text)
    return distinctive and known * 2 >= total


def plausible(text: str) -> bool:
    """Half the lines are Redis directives, for a text whose name already says Redis."""
    known, total, _ = _count(text)
    return known > 0 and known * 2 >= total


def _count(text: str) -> tuple[int, int, bool]:
    """Lines that start with a Redis directive, lines in all, and whether one is distinctive."""
    from infralint.parsers.redis_directives import DIRECTIVES

    if foreign.has_ini_or_yaml_lines(text) or foreign.ASSIGNMENT.search(text):
        return 0, 1, False
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
    return known, total, distinctive
