"""Read rule metadata files (rules/<domain>/<id>.yaml) into RuleMeta records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from infralint.findings import Severity
from infralint.rules.meta import PssControl, RuleMeta

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_rule_file(path: Path) -> dict[str, Any]:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a rule file must be a mapping")
    return data


def to_meta(data: dict[str, Any]) -> RuleMeta:
    return RuleMeta(
        id=data["id"],
        severity=Severity(data["severity"]),
        summary=data["summary"].strip(),
        rationale=data["rationale"].strip(),
        remediation=data["remediation"].strip(),
        tags=tuple(data.get("tags", ())),
        references=tuple(data.get("references", ())),
        scope=tuple(data.get("scope", ())),
        default_enabled=bool(data.get("default_enabled", True)),
        message=data["message"].strip(),
        graph=bool(data.get("graph", False)),
        where=data.get("where"),
        require=data.get("require"),
        options=dict(data.get("options", {})),
        cause=data.get("cause", ""),
        development=data.get("development"),
        pss=_pss(data.get("pss")),
        peers=_peers(data.get("peers")),
    )


def _pss(data: Any) -> PssControl | None:
    return PssControl(data["profile"], data["control"]) if isinstance(data, dict) else None


def _peers(data: Any) -> dict[str, tuple[str, ...]]:
    """`peers: {kube-linter: [run-as-non-root], checkov: [CKV_K8S_23]}`: the peer tools' checks
    this rule corresponds to (their catalogs are in rules/peers/)."""
    if not isinstance(data, dict):
        return {}
    return {str(tool): tuple(str(check) for check in checks or ()) for tool, checks in data.items()}


# rules/peers/ holds the peer tools' catalogs, not rules.
PEERS_FOLDER = "peers"


def load_metas(rules_dir: Path) -> list[RuleMeta]:
    paths = sorted(path for path in rules_dir.glob("*/*.yaml") if path.parent.name != PEERS_FOLDER)
    return [to_meta(read_rule_file(path)) for path in paths]
