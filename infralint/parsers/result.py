"""What every parser returns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from infralint.findings import Finding, Severity
from infralint.graph.model import Node
from infralint.parsers.yamlpos import YamlInputError
from infralint.source import SourceFile, Span


@dataclass
class ParseResult:
    nodes: list[Node] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    documents: int = 0
    # Texts of other files the parser read (includes), by relative path: their suppression
    # comments count even when discovery does not scan those files on their own.
    extra_texts: dict[str, str] = field(default_factory=dict)


def input_finding(rule_id: str, message: str, span: Span) -> Finding:
    """A finding about the input itself; its severity comes from the rule's metadata."""
    return Finding(rule_id, Severity.ERROR, message, span, locator=message)


def bom_message(server: str) -> str:
    """Why a byte order mark before the first word of a server's config is an error."""
    return (
        f"the file starts with a UTF-8 byte order mark: {server} reads it as part of the first word "
        "and refuses the file (save it as UTF-8 without BOM)"
    )


def yaml_error_finding(source: SourceFile, error: YamlInputError) -> Finding:
    """The parse error of a YAML file, at the line and column where libyaml stopped."""
    line, col = error.line, error.col
    if line is None and error.offset is not None:
        line, col = source.line_col(min(error.offset, len(source.text)))
    if line is not None and line > source.text.count("\n") + 1:
        # libyaml ends a stream without a final newline on the line after it
        line, col = source.line_col(len(source.text))
    return input_finding("infralint-parse-error", f"not valid YAML: {error.message}", source.span(line, col))


def dig(data: Any, path: Iterable[Any]) -> Any:
    """The value at an attribute path of plain data (dict keys, list indexes), or None."""
    for key in path:
        if isinstance(data, dict):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data):
            data = data[key]
        else:
            return None
    return data
