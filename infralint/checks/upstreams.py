"""Cross-format graph rules (filled in below)."""

from __future__ import annotations

from infralint.rules.meta import CheckFn

CHECKS: dict[str, CheckFn] = {}
