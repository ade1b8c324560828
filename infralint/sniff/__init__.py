"""Content sniffers for server configs: one small module per format, regexes only (cheap to
import), asked in order by discovery for files whose name left the kind open."""

from __future__ import annotations

from infralint.sniff import haproxy, nginx, redis

# Order matters: the first format that claims a file wins.
SNIFFERS = (("nginx", nginx), ("haproxy", haproxy), ("redis", redis))


def kind_by_name(name: str) -> str | None:
    lower = name.lower()
    for kind, module in SNIFFERS:
        if lower in module.NAMES:
            return kind
    return None


def is_candidate_name(name: str) -> bool:
    """A name that does not settle the kind but is worth reading to let the content decide."""
    lower = name.lower()
    return any(lower in getattr(module, "CANDIDATE_NAMES", ()) for _, module in SNIFFERS)


def kind_by_content(relative_path: str, text: str) -> str | None:
    for kind, module in SNIFFERS:
        if module.sniff(relative_path, text):
            return kind
    return None
