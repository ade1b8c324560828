"""Kubernetes findings whose severity depends on the case: what is certain stays an error, what
only the image or the running pods can settle is a warning or a note (fixture markers carry
rule ids and lines; the severities are checked here)."""

from __future__ import annotations

from pathlib import Path

import pytest
from scanning import scan_tree

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def severities(case: str, rule: str) -> dict[tuple[str, int | None], str]:
    path = FIXTURES / rule / case
    root, target = (path, ".") if path.is_dir() else (path.parent, path.name)
    report = scan_tree(root, target, select=[rule])
    return {(f.span.path, f.span.line): f.severity.value for f in report.findings if f.rule_id == rule}


def test_selectors_that_match_only_through_run_time_labels_are_notes() -> None:
    found = severities("bad-run-time-labels", "k8s-service-selects-nothing")
    assert found == {
        ("services.yaml", 7): "note",  # spilo-role, set by Spilo
        ("services.yaml", 19): "note",  # spilo-role alone
        ("services.yaml", 28): "error",  # `role` is not Spilo's label
        ("services.yaml", 37): "note",  # Patroni's renamed role label
        ("services.yaml", 46): "error",  # Patroni with etcd labels nothing
        ("services.yaml", 55): "note",  # pod-template-hash, set by the Deployment controller
        ("services.yaml", 64): "error",  # controller-revision-hash is not a Deployment's
        ("services.yaml", 73): "error",  # `track` is set by nobody
    }


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("k8s-pdb-selects-nothing", {26: "note", 36: "warning"}),
        # The rule is a note already: the message tells the two apart (see below).
        ("k8s-networkpolicy-selects-nothing", {25: "note", 39: "note"}),
    ],
)
def test_budgets_and_policies_with_run_time_labels(rule: str, expected: dict[int, str]) -> None:
    found = severities("bad-run-time-labels.yaml", rule)
    assert {line: severity for (_path, line), severity in found.items()} == expected


def test_a_run_time_match_names_the_labels_and_who_sets_them() -> None:
    root = FIXTURES / "k8s-networkpolicy-selects-nothing"
    report = scan_tree(root, "bad-run-time-labels.yaml", select=["k8s-networkpolicy-selects-nothing"])
    messages = {f.span.line: f.message for f in report.findings}
    assert "'spilo-role' (set by Patroni in the Spilo image" in messages[25]
    assert "applies to no pods" in messages[39]


def test_a_numeric_target_port_nothing_declares_is_a_warning_and_a_name_an_error() -> None:
    found = severities("bad", "k8s-service-port-mismatch")
    assert found == {
        ("service.yaml", 10): "warning",  # targetPort 80: traffic still arrives there
        ("service.yaml", 24): "error",  # targetPort https: no endpoints
        ("service.yaml", 34): "warning",  # port 8081, the default targetPort
        ("service.yaml", 46): "error",  # the name exists only for TCP
    }


def test_a_numeric_probe_port_nothing_declares_is_a_warning_and_a_name_an_error() -> None:
    found = severities("bad.yaml", "k8s-probe-port-not-exposed")
    by_line = {line: severity for (_path, line), severity in found.items()}
    assert by_line[21] == "error"  # a misspelt name
    assert by_line[41] == "warning"  # "9090": a number, even quoted
    assert set(by_line.values()) == {"error", "warning"}
