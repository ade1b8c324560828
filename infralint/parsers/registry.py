"""Which parser reads which file kind; imported lazily so a scan loads only what it needs."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from infralint.source import SourceFile

PARSER_MODULES = {
    "k8s": "infralint.parsers.kubernetes",
    "nginx": "infralint.parsers.nginx",
    "haproxy": "infralint.parsers.haproxy",
    "redis": "infralint.parsers.redis",
    "compose": "infralint.parsers.compose",
}


def parser_for(kind: str) -> Callable[[SourceFile], Any] | None:
    module_name = PARSER_MODULES.get(kind)
    if module_name is None:
        return None
    parse: Callable[[SourceFile], Any] = importlib.import_module(module_name).parse
    if kind in CONF_KINDS:
        return _unless_template(parse, kind)
    return parse


# Server configs (not YAML) may be templates for another tool; YAML parsers judge that themselves.
CONF_KINDS = frozenset({"nginx", "haproxy", "redis"})


def _unless_template(parse: Callable[[SourceFile], Any], kind: str) -> Callable[[SourceFile], Any]:
    def parse_config(source: SourceFile) -> Any:
        from infralint.parsers.conf_templates import template_result

        template = template_result(source, kind)
        return template if template is not None else parse(source)

    return parse_config
