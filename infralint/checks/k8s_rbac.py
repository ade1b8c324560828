"""Kubernetes RBAC and service-account checks, judged against the ServiceAccounts the workloads use."""

from __future__ import annotations

from infralint.rules.meta import CheckFn

CHECKS: dict[str, CheckFn] = {}
