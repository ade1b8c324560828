"""Compose hardening checks every peer ships: host namespaces, sensitive host mounts, security options, capabilities, the Compose schema."""

from __future__ import annotations

from infralint.rules.meta import CheckFn

CHECKS: dict[str, CheckFn] = {}
