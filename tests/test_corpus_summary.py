"""The real-world corpus as a regression test: finding counts per rule must match the checked-in
tests/data/corpus-summary.json. A change there is a change in behaviour on real files: if it is
intended, regenerate the file (the failure says how) and let the review see the new counts."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from infralint.dev import corpus_summary
from infralint.folding import MERGED_ROLE


@pytest.fixture(scope="module")
def summary(corpus_report) -> dict[str, object]:
    return corpus_summary.summarize(corpus_report)


def test_finding_counts_match_the_checked_in_summary(summary: dict[str, object]) -> None:
    expected = json.loads(corpus_summary.SUMMARY.read_text(encoding="utf-8"))
    changes = corpus_summary.difference(expected, summary)
    assert not changes, (
        "finding counts on the corpus changed:\n  "
        + "\n  ".join(changes)
        + f"\nIf intended, regenerate with `{corpus_summary.REGENERATE}` and commit tests/data/corpus-summary.json."
    )


def test_the_comparison_ignores_order_and_catches_counts() -> None:
    expected = {"findings_by_rule": {"a": 1, "b": 2}, "total_findings": 3}
    assert corpus_summary.difference(expected, {"total_findings": 3, "findings_by_rule": {"b": 2, "a": 1}}) == []
    changed = {"findings_by_rule": {"a": 1, "b": 3, "c": 1}, "total_findings": 5}
    assert corpus_summary.difference(expected, changed) == [
        "findings_by_rule b: 2 -> 3 (+1)",
        "findings_by_rule c: 0 -> 1 (+1)",
        "total_findings: 3 -> 5",
    ]


def test_no_internal_error_on_the_corpus(summary: dict[str, object]) -> None:
    assert "infralint-rule-error" not in summary["findings_by_rule"]  # type: ignore[operator]


def test_every_folded_finding_lives_on_in_a_kept_one(corpus_report) -> None:
    """Folding loses nothing: each finding folded away is a related location of a kept finding."""
    pointers = Counter(
        related.message.split(":", 1)[0]
        for finding in corpus_report.findings
        for related in finding.related
        if related.role == MERGED_ROLE
    )
    assert pointers == corpus_report.folded
