"""Disaster recovery: datastores whose data has nowhere to survive a container or pod restart."""

from __future__ import annotations

from infralint.rules.meta import CheckFn

CHECKS: dict[str, CheckFn] = {}
