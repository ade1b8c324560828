"""Redis security checks from Redis's own advice: protected configs, passwords, TLS, replication and ACLs."""

from __future__ import annotations

from infralint.rules.meta import CheckFn

CHECKS: dict[str, CheckFn] = {}
