"""Reporters: each turns a Report into text, a pure function of the report."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from infralint.report import Report

REPORTERS = {
    "text": "infralint.reporters.text",
    "json": "infralint.reporters.json_report",
    "sarif": "infralint.reporters.sarif",
}


def reporter(name: str) -> Callable[..., str]:
    render: Callable[..., str] = importlib.import_module(REPORTERS[name]).render
    return render


__all__ = ["REPORTERS", "Report", "reporter"]
