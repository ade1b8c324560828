"""Placeholder: filled by its rules."""

from __future__ import annotations

from typing import Any

CHECKS: dict[str, Any] = {}
