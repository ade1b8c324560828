"""Server configs that are templates for another tool (Go templates, Jinja, Helm), not configs.

Images such as jitsi's render `nginx.conf` from `{{ .Env.X }}` at start-up (frep, gomplate,
confd, Ansible). The text is not what the server reads, so parsing it would only produce
false parse errors: the file is reported once as an unsupported template and not judged.
"""

from __future__ import annotations

import re

from infralint.parsers.result import ParseResult, input_finding
from infralint.source import SourceFile

# `{{ .Env.X }}`, `{{- if ... -}}`, `{{ $v := ... }}`, `{{ var | filter }}`, `{% if %}`: a
# template action opens with `{{` or `{%` and closes on the same line. No nginx, HAProxy or
# Redis word starts with `{{`, and a quoted JSON value (`'{"a":{"b":1}}'`) has no `{{`.
_ACTION = re.compile(r"\{\{-?\s*[.$\w\"'(/!-][^\n]*?\}\}|\{%-?\s*\w[^\n]*?%\}")

_RENDERERS = {"nginx": "nginx", "haproxy": "HAProxy", "redis": "Redis"}


def template_line(text: str) -> int | None:
    """The 1-based line of the first template action in a config's text, or None."""
    if "{{" not in text and "{%" not in text:
        return None
    match = _ACTION.search(text)
    if match is None:
        return None
    return text.count("\n", 0, match.start()) + 1


def template_result(source: SourceFile, kind: str) -> ParseResult | None:
    """The result for a config that is a template: one note at its first action, no nodes."""
    if source.embedded_in is not None or source.rendered:
        return None
    line = template_line(source.text)
    if line is None:
        return None
    server = _RENDERERS.get(kind, kind)
    message = (
        f"template syntax ({{{{ }}}} or {{% %}}) in a {server} config: the server reads what a "
        "template tool renders from it at deploy time, so it is not judged; scan the rendered output"
    )
    return ParseResult(findings=[input_finding("infralint-unsupported-template", message, source.span(line))])
