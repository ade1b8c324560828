"""nginx checks gixy ships, judged with the graph's context: SSRF, access control, root exposure, if in location, regexes, resolvers, headers."""

from __future__ import annotations

from infralint.rules.meta import CheckFn

CHECKS: dict[str, CheckFn] = {}
