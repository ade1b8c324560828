"""Is this text an nginx config (a full config or a fragment)?"""

from __future__ import annotations

import re

NAMES = frozenset({"nginx.conf"})
_BLOCK = re.compile(r"^\s*(?:http|server|events|upstream\s+\S+|location\s+[^{]*)\s*\{", re.MULTILINE)


def sniff(relative_path: str, text: str) -> bool:
    return _BLOCK.search(text) is not None
