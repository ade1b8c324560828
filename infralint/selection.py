"""Which rules run: defaults, --select and --ignore by id or id prefix."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from infralint.rules.meta import RuleMeta


class UnknownSelector(ValueError):
    pass


def matches(rule_id: str, selector: str) -> bool:
    """`k8s` and `k8s-missing` are prefixes of `k8s-missing-memory-limit`; `k8s-miss` is not."""
    return rule_id == selector or rule_id.startswith(selector + "-")


def enabled_rules(metas: Iterable[RuleMeta], select: Sequence[str] = (), ignore: Sequence[str] = ()) -> list[RuleMeta]:
    metas = list(metas)
    for selector in (*select, *ignore):
        if not any(matches(meta.id, selector) for meta in metas):
            raise UnknownSelector(f"no rule id or prefix matches {selector!r} (see `infralint rules`)")
    enabled = []
    for meta in metas:
        if select:
            exact = meta.id in select
            on = exact or (meta.default_enabled and any(matches(meta.id, s) for s in select))
            on = on or meta.domain == "infralint"  # input problems stay visible
        else:
            on = meta.default_enabled
        if on and not any(matches(meta.id, s) for s in ignore):
            enabled.append(meta)
    return enabled
