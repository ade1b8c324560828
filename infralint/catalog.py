"""Every rule the product has: metadata from rules/*.yaml, checks from declarative
conditions or from the Python modules listed here. The only module that knows them all."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from functools import cache

from infralint.resources import data_dir
from infralint.rules.loader import load_metas
from infralint.rules.meta import CheckFn, Hit, Rule, RuleContext, RuleMeta

# Modules of Python rules; each exposes CHECKS = {rule_id: check function}.
CHECK_MODULES = (
    "infralint.checks.k8s_api",
    "infralint.checks.k8s_containers",
    "infralint.checks.k8s_host_access",
    "infralint.checks.k8s_availability",
    "infralint.checks.k8s_references",
    "infralint.checks.k8s_pss",
    "infralint.checks.k8s_rbac",
    "infralint.checks.k8s_operations",
    "infralint.checks.k8s_network_policy",
    "infralint.checks.k8s_configmaps",
    "infralint.checks.nginx",
    "infralint.checks.nginx_gixy",
    "infralint.checks.haproxy",
    "infralint.checks.haproxy_hardening",
    "infralint.checks.redis",
    "infralint.checks.redis_security",
    "infralint.checks.compose",
    "infralint.checks.compose_hardening",
    "infralint.checks.upstreams",
    "infralint.checks.disaster_recovery",
    "infralint.checks.exposure",
)


def _input_rule(node: object, ctx: RuleContext) -> Iterable[Hit]:
    """Rules about input (parse errors ...) are reported by parsers, not run over nodes."""
    return ()


@cache
def all_metas() -> tuple[RuleMeta, ...]:
    return tuple(load_metas(data_dir("rules")))


def python_checks() -> dict[str, CheckFn]:
    checks: dict[str, CheckFn] = {}
    for module_name in CHECK_MODULES:
        module = importlib.import_module(module_name)
        for rule_id, check in module.CHECKS.items():
            if rule_id in checks:
                raise RuntimeError(f"rule {rule_id} implemented twice")
            checks[rule_id] = check
    return checks


@cache
def all_rules() -> tuple[Rule, ...]:
    from infralint.rules.declarative import compile_rule

    checks = python_checks()
    rules = []
    for meta in all_metas():
        if meta.declarative:
            if meta.id in checks:
                raise RuntimeError(f"rule {meta.id} is both declarative and Python")
            rules.append(Rule(meta, compile_rule(meta)))
        elif meta.id in checks:
            rules.append(Rule(meta, checks.pop(meta.id)))
        elif meta.domain == "infralint":
            rules.append(Rule(meta, _input_rule))
        else:
            raise RuntimeError(f"rule {meta.id} has no implementation")
    if checks:
        raise RuntimeError(f"checks without metadata: {sorted(checks)}")
    return tuple(rules)


def meta_by_id() -> dict[str, RuleMeta]:
    return {meta.id: meta for meta in all_metas()}
