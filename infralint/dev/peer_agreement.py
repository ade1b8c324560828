"""Agreement with a peer's own published test cases, for the checks the rules map to.

    python -m infralint.dev.peer_agreement polaris PATH-TO-POLARIS-CHECKOUT [--details]

Polaris keeps one folder per check under test/checks/<check>/, each file a case whose name says
what Polaris reports: `failure*` (the check fails) or `success*` (it passes). Each case is scanned
on its own with the infralint rules whose `peers` metadata names that check (default-off rules
included), and the case agrees when infralint reports some finding of those rules exactly on the
failures. Nothing of the peer is copied into the project: the cases are read from the checkout.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple


class Case(NamedTuple):
    check: str
    path: Path
    peer_reports: bool


class Outcome(NamedTuple):
    case: Case
    rules: tuple[str, ...]
    infralint_reports: bool

    @property
    def agrees(self) -> bool:
        return self.case.peer_reports == self.infralint_reports


def polaris_cases(checkout: Path) -> list[Case]:
    cases = []
    for folder in sorted((checkout / "test" / "checks").iterdir()):
        for path in sorted(folder.glob("*.y*ml")):
            if path.name.startswith(("failure", "success")):
                cases.append(Case(folder.name, path, path.name.startswith("failure")))
    return cases


def rules_for(tool: str) -> dict[str, tuple[str, ...]]:
    """Peer check id -> the infralint rules that correspond to it."""
    from infralint.catalog import all_metas

    mapped: dict[str, list[str]] = defaultdict(list)
    for meta in all_metas():
        for check in meta.peers.get(tool, ()):
            mapped[check].append(meta.id)
    return {check: tuple(ids) for check, ids in mapped.items()}


def judge(case: Case, rules: tuple[str, ...]) -> Outcome:
    from infralint.api import ScanOptions, scan

    previous = os.getcwd()
    os.chdir(case.path.parent)
    try:
        report = scan([case.path.name], ScanOptions(select=list(rules), development_paths=False))
    finally:
        os.chdir(previous)
    reported = any(finding.rule_id in rules for finding in report.findings)
    return Outcome(case, rules, reported)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tool", choices=["polaris"])
    parser.add_argument("checkout", type=Path)
    parser.add_argument("--details", action="store_true", help="list every case that disagrees")
    args = parser.parse_args(argv)
    mapping = rules_for(args.tool)
    outcomes = [judge(case, mapping[case.check]) for case in polaris_cases(args.checkout) if case.check in mapping]
    by_check: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_check[outcome.case.check].append(outcome)
    print(f"| {args.tool} check | infralint rules | cases | agree |")
    print("|---|---|---|---|")
    for check, results in sorted(by_check.items()):
        agree = sum(result.agrees for result in results)
        print(f"| {check} | {', '.join(results[0].rules)} | {len(results)} | {agree} |")
    total = sum(outcome.agrees for outcome in outcomes)
    print(f"\n{total} of {len(outcomes)} cases agree ({len(by_check)} checks mapped)")
    if args.details:
        for outcome in outcomes:
            if not outcome.agrees:
                said = "reports" if outcome.case.peer_reports else "passes"
                print(f"  {outcome.case.check}/{outcome.case.path.name}: {args.tool} {said}, infralint does not agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
