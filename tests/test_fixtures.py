"""Every rule's fixtures: findings for that rule must equal the `# expect:` markers exactly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fixture_markers import expected_findings

from infralint.api import ScanOptions, scan

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _cases() -> list[tuple[str, Path]]:
    cases = []
    for rule_dir in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        for case in sorted(rule_dir.iterdir()):
            if case.name.startswith(("bad", "good")):
                cases.append((rule_dir.name, case))
    return cases


@pytest.mark.parametrize(("rule_id", "case"), _cases(), ids=lambda v: v if isinstance(v, str) else v.name)
def test_fixture(rule_id: str, case: Path) -> None:
    root = case if case.is_dir() else case.parent
    previous = os.getcwd()
    os.chdir(root)
    try:
        report = scan([case.name if case.is_file() else "."], ScanOptions(select=[rule_id]))
    finally:
        os.chdir(previous)
    found = {(f.span.path, f.span.line, f.rule_id) for f in report.findings}
    expected = expected_findings(case, root)
    if case.name.startswith("good"):
        assert not [f for f in found if f[2] == rule_id], "a good fixture must not trigger its rule"
    else:
        assert any(f[2] == rule_id for f in expected), "a bad fixture must expect its rule at least once"
    assert found == expected
