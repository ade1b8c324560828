"""Is this text an HAProxy config?"""

from __future__ import annotations

import re

NAMES = frozenset({"haproxy.cfg"})
_SECTION = re.compile(r"^(?:frontend|backend|listen|defaults|global)\b", re.MULTILINE)


def sniff(relative_path: str, text: str) -> bool:
    return _SECTION.search(text) is not None
