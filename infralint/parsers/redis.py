"""redis configs (not yet parsed: returns nothing)."""

from __future__ import annotations

from infralint.parsers.result import ParseResult
from infralint.source import SourceFile


def parse(source: SourceFile) -> ParseResult:
    return ParseResult()
