"""HAProxy hardening checks from HAProxy's manual: ciphers, timeouts, logging, passwords, TLS verification, sockets, removed keywords."""

from __future__ import annotations

from infralint.rules.meta import CheckFn

CHECKS: dict[str, CheckFn] = {}
