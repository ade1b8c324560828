"""The Pod Security Standards rules: `pss-profile`, the control each rule names, and how pod and
container settings combine (the per-rule cases are the fixtures)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from scanning import deployment, run_cli, write

from infralint import config
from infralint.api import ScanOptions, scan
from infralint.catalog import all_metas, meta_by_id
from infralint.docs import explain_text
from infralint.report import Report

RESTRICTED_ONLY = {
    "k8s-seccomp-not-set",
    "k8s-capabilities-not-dropped",
    "k8s-restricted-volume-type",
    "k8s-privilege-escalation",
    "k8s-run-as-root",
}
BASELINE = {
    "k8s-host-port",
    "k8s-seccomp-unconfined",
    "k8s-dangerous-capabilities",
    "k8s-unsafe-sysctl",
    "k8s-unmasked-proc-mount",
    "k8s-apparmor-unconfined",
    "k8s-selinux-override",
    "k8s-windows-host-process",
    "k8s-privileged-container",
    "k8s-host-namespace",
    "k8s-host-path-mount",
}
BARE = deployment("registry.example.com/api:1.0.0", "          ports: [{containerPort: 80, hostPort: 80}]\n")


def _scan(root: Path, **options: object) -> Report:
    previous = os.getcwd()
    os.chdir(root)
    try:
        loaded = config.discover_and_load(["."], None, False)
        return scan(["."], ScanOptions(config=loaded, **options))  # type: ignore[arg-type]
    finally:
        os.chdir(previous)


def _rules(report: Report) -> set[str]:
    return {finding.rule_id for finding in report.findings}


def test_every_control_of_both_profiles_has_a_rule() -> None:
    controls = {meta.id: meta.pss for meta in all_metas() if meta.pss is not None}
    assert {rule for rule, pss in controls.items() if pss.profile == "restricted"} == RESTRICTED_ONLY
    assert {rule for rule, pss in controls.items() if pss.profile == "baseline"} >= BASELINE
    named = {(pss.profile, pss.control) for pss in controls.values()}
    assert len([c for c in named if c[0] == "baseline"]) == 11  # the standard's baseline controls
    # The six restricted-only controls; k8s-run-as-root implements both non-root ones.
    assert len([c for c in named if c[0] == "restricted"]) == 5


def test_restricted_is_the_default_profile(tmp_path: Path) -> None:
    write(tmp_path, "deploy.yaml", BARE)
    found = _rules(_scan(tmp_path))
    assert "k8s-host-port" in found
    assert "k8s-run-as-root" in found  # keeps the folded restricted findings of the bare container


def test_baseline_profile_turns_off_the_restricted_only_rules(tmp_path: Path) -> None:
    write(tmp_path, "deploy.yaml", BARE)
    write(tmp_path, ".infralint.yaml", "pss-profile: baseline\n")
    found = _rules(_scan(tmp_path))
    assert "k8s-host-port" in found
    assert not found & RESTRICTED_ONLY
    assert "k8s-writable-root-filesystem" in found  # not a control of the standard: unaffected


def test_baseline_profile_keeps_a_rule_selected_by_its_exact_id(tmp_path: Path) -> None:
    write(tmp_path, "deploy.yaml", BARE)
    write(tmp_path, ".infralint.yaml", "pss-profile: baseline\nselect: [k8s-seccomp-not-set, k8s-host-port]\n")
    assert _rules(_scan(tmp_path)) == {"k8s-seccomp-not-set", "k8s-host-port"}


def test_an_unknown_profile_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path, ".infralint.yaml", "pss-profile: strict\n")
    with pytest.raises(config.ConfigError, match="pss-profile: 'strict' is not one of baseline, restricted"):
        config.load(str(tmp_path / ".infralint.yaml"))


def test_explain_and_rules_name_the_control(tmp_path: Path) -> None:
    text = explain_text(meta_by_id()["k8s-seccomp-not-set"])
    assert 'Pod Security Standards: control "Seccomp" of the restricted profile' in text
    code, output = run_cli("rules", "--format", "json", cwd=tmp_path)
    rows = {row["id"]: row for row in json.loads(output)}
    assert code == 0
    assert rows["k8s-host-port"]["pss"] == {"profile": "baseline", "control": "Host Ports"}
    assert rows["k8s-image-latest-tag"]["pss"] is None
    code, output = run_cli("rules", cwd=tmp_path)
    assert "[Pod Security Standards: AppArmor (baseline)]" in output


def test_a_copy_of_an_object_folds_with_its_own_containers(tmp_path: Path) -> None:
    """Two files with one object id: each bare container's restricted findings fold into that
    file's k8s-run-as-root finding, not into the other copy's."""
    write(tmp_path, "a/deploy.yaml", BARE)
    write(tmp_path, "b/deploy.yaml", BARE.replace("replicas: 2", "replicas: 3"))
    report = _scan(tmp_path, select=["k8s-run-as-root", "k8s-capabilities-not-dropped", "k8s-seccomp-not-set"])
    assert sorted((f.rule_id, f.span.path) for f in report.findings) == [
        ("k8s-run-as-root", "a/deploy.yaml"),
        ("k8s-run-as-root", "b/deploy.yaml"),
    ]
