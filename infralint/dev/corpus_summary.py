"""Finding counts per rule on the real-world corpus, checked in as tests/data/corpus-summary.json.

    python -m infralint.dev.corpus_summary            # rewrite tests/data/corpus-summary.json
    python -m infralint.dev.corpus_summary --check    # compare; exit 1 and print the difference

The corpus is ../shared/corpus beside the repository (or INFRALINT_CORPUS). tests/test_corpus_summary.py
compares the same way, so a change in behaviour on real files shows up in review as a change to
the JSON file. Only counts are kept: the order findings come in does not matter.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infralint.report import Report

REPO = Path(__file__).resolve().parents[2]
SUMMARY = REPO / "tests" / "data" / "corpus-summary.json"
REGENERATE = "python -m infralint.dev.corpus_summary"


def corpus_path() -> Path:
    return Path(os.environ.get("INFRALINT_CORPUS", REPO.parent / "shared" / "corpus"))


def scan_corpus(corpus: Path) -> Report:
    """The corpus scanned with default rules, no config and no time budget; vendored and test
    folders are scanned too (they hold much of the corpus's variety)."""
    from infralint.api import ScanOptions, scan

    previous = os.getcwd()
    os.chdir(corpus)
    try:
        return scan(["."], ScanOptions(file_timeout=None, default_excludes=False))
    finally:
        os.chdir(previous)


def summarize(corpus: Path | Report) -> dict[str, Any]:
    """Files read by kind, findings by rule and by severity (default rules, no config)."""
    report = scan_corpus(corpus) if isinstance(corpus, Path) else corpus
    return {
        "files_by_kind": dict(sorted(report.files_by_kind.items())),
        "findings_by_rule": dict(sorted(Counter(f.rule_id for f in report.findings).items())),
        "findings_by_severity": dict(sorted(Counter(f.severity.value for f in report.findings).items())),
        "total_findings": len(report.findings),
        # Findings folded into another that shares their cause, line, object or claim
        # (infralint.folding); each is one related location of the finding that absorbed it.
        "folded_by_rule": dict(sorted(report.folded.items())),
        "folded_into_related_locations": merged_locations(report),
        # Production-hardening findings not reported because they are in development files.
        "development_by_rule": dict(sorted(report.development.items())),
    }


def merged_locations(report: Report) -> int:
    """How many related locations hold a folded finding: equal to the folded count when no
    finding was lost in folding."""
    from infralint.folding import MERGED_ROLE

    return sum(1 for finding in report.findings for related in finding.related if related.role == MERGED_ROLE)


def difference(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """One line per count that changed, as `section key: old -> new (+delta)`."""
    lines = []
    for section in sorted(set(expected) | set(actual)):
        old, new = expected.get(section), actual.get(section)
        if isinstance(old, dict) or isinstance(new, dict):
            old, new = old or {}, new or {}
            for key in sorted(set(old) | set(new)):
                if old.get(key, 0) != new.get(key, 0):
                    delta = new.get(key, 0) - old.get(key, 0)
                    lines.append(f"{section} {key}: {old.get(key, 0)} -> {new.get(key, 0)} ({delta:+d})")
        elif old != new:
            lines.append(f"{section}: {old} -> {new}")
    return lines


def write(summary: dict[str, Any], path: Path = SUMMARY) -> None:
    path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the checked-in summary; do not write")
    args = parser.parse_args(argv)
    corpus = corpus_path()
    if not corpus.is_dir():
        print(f"corpus not found at {corpus} (set INFRALINT_CORPUS)", file=sys.stderr)
        return 2
    summary = summarize(corpus)
    if args.check:
        changes = difference(json.loads(SUMMARY.read_text(encoding="utf-8")), summary)
        print("\n".join(changes) or "corpus summary unchanged")
        return 1 if changes else 0
    write(summary)
    print(f"wrote {SUMMARY.relative_to(REPO)}: {summary['total_findings']} findings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
