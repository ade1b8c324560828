"""Kubernetes correctness and operations checks every peer ships: duplicate env, Jobs and CronJobs, probe protocols, ingress-nginx snippets, secrets in ConfigMaps."""

from __future__ import annotations

from infralint.rules.meta import CheckFn

CHECKS: dict[str, CheckFn] = {}
