"""Kubernetes Pod Security Standards controls not covered elsewhere: host ports, seccomp, capabilities, sysctls, proc mount, AppArmor, SELinux, volume types, Windows host process."""

from __future__ import annotations

from infralint.rules.meta import CheckFn

CHECKS: dict[str, CheckFn] = {}
