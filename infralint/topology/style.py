"""Colours and shapes the Mermaid and DOT renderers share, so both diagrams read alike."""

from __future__ import annotations

# (fill, stroke) per worst severity on a box; "clean" when it has no findings.
SEVERITY_COLORS = {
    "error": ("#fdecea", "#c62828"),
    "warning": ("#fff4e5", "#ef6c00"),
    "note": ("#e8f1fb", "#1565c0"),
    "clean": ("#edf7ed", "#2e7d32"),
    "external": ("#ffffff", "#9e9e9e"),
}


def color_class(worst: str | None, role: str) -> str:
    if worst is not None:
        return worst
    return "external" if role == "external" else "clean"
