"""The dev tool that measures agreement with a peer's published cases, on cases laid out the
way each peer lays out its own (written here, not copied)."""

from __future__ import annotations

from pathlib import Path

from infralint.dev import peer_agreement

ROOT_POD = """apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
    - name: web
      image: registry.example.com/web:1.0.0
      securityContext: {runAsNonRoot: %s}
"""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_polaris_layout_failure_and_success_cases(tmp_path: Path, monkeypatch) -> None:
    _write(tmp_path / "test/checks/runAsRootAllowed/failure.yaml", ROOT_POD % "false")
    _write(tmp_path / "test/checks/runAsRootAllowed/success.yaml", ROOT_POD % "true")
    _write(tmp_path / "test/checks/unmapped/failure.yaml", ROOT_POD % "false")
    monkeypatch.setattr(peer_agreement, "rules_for", lambda tool: {"runAsRootAllowed": ("k8s-run-as-root",)})
    cases = peer_agreement.polaris_cases(tmp_path)
    assert [(case.check, case.path.name, case.peer_reports) for case in cases] == [
        ("runAsRootAllowed", "failure.yaml", True),
        ("runAsRootAllowed", "success.yaml", False),
        ("unmapped", "failure.yaml", True),
    ]
    outcomes = [peer_agreement.judge(case, ("k8s-run-as-root",)) for case in cases[:2]]
    assert [outcome.agrees for outcome in outcomes] == [True, True]


def test_kube_linter_layout_counts_reports(tmp_path: Path) -> None:
    two_roots = ROOT_POD % "false" + "---\n" + (ROOT_POD % "false").replace("name: web}", "name: api}")
    _write(tmp_path / "tests/checks/run-as-non-root.yml", two_roots)
    _write(
        tmp_path / "e2etests/bats-tests.sh",
        '@test "run-as-non-root" {\n  tmp="tests/checks/run-as-non-root.yml"\n'
        '  cmd="${KUBE_LINTER_BIN} lint --include run-as-non-root --format json ${tmp}"\n'
        '  [[ "${count}" == "2" ]]\n}\n'
        '@test "custom" {\n  tmp="tests/checks/run-as-non-root.yml"\n'
        '  cmd="${KUBE_LINTER_BIN} lint --config x.yaml --include run-as-non-root ${tmp}"\n'
        '  [[ "${count}" == "9" ]]\n}\n',
    )
    cases = peer_agreement.kube_linter_cases(tmp_path)
    assert [(case.check, case.peer_count) for case in cases] == [("run-as-non-root", 2)]
    outcome = peer_agreement.judge(cases[0], ("k8s-run-as-root",))
    assert (outcome.infralint_count, outcome.agrees) == (2, True)


def test_gixy_snippets_are_scanned_as_nginx_conf(tmp_path: Path) -> None:
    _write(tmp_path / "tests/plugins/simply/valid_referers/none.conf", "valid_referers none server_names;\n")
    _write(tmp_path / "tests/plugins/simply/valid_referers/blocked_fp.conf", "valid_referers server_names;\n")
    cases = peer_agreement.gixy_cases(tmp_path)
    outcomes = {case.path.name: peer_agreement.judge(case, ("nginx-valid-referers-none",)) for case in cases}
    assert outcomes["none.conf"].infralint_reports
    assert not outcomes["blocked_fp.conf"].infralint_reports
    assert all(outcome.agrees for outcome in outcomes.values())
