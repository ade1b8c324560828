"""Agreement with a peer's own published test cases, for the checks the rules map to.

    python -m infralint.dev.peer_agreement polaris PATH-TO-POLARIS-CHECKOUT [--details]
    python -m infralint.dev.peer_agreement kube-linter PATH-TO-KUBE-LINTER-CHECKOUT [--details]
    python -m infralint.dev.peer_agreement gixy PATH-TO-GIXY-CHECKOUT [--details]

Polaris keeps one folder per check under test/checks/<check>/, each file a case whose name says
what Polaris reports: `failure*` (the check fails) or `success*` (it passes). Each case is scanned
on its own with the infralint rules whose `peers` metadata names that check (default-off rules
included), and the case agrees when infralint reports some finding of those rules exactly on the
failures.

kube-linter keeps one file per check under tests/checks/, holding objects that pass and objects
that fail, and its end-to-end tests (e2etests/bats-tests.sh) state how many reports the check
gives on it. A case agrees when infralint gives as many findings of the mapped rules (folded ones
counted) as kube-linter gives reports; the counts are printed side by side.

gixy keeps one folder per plugin under tests/plugins/simply/<plugin>/, each `.conf` file a case
that the plugin reports, unless its name ends in `_fp.conf` (a case it must not report).

Nothing of the peer is copied into the project: the cases are read from the checkout.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple


class Case(NamedTuple):
    check: str
    path: Path
    peer_reports: bool
    peer_count: int | None = None  # kube-linter: how many reports the peer gives on the file
    scan_as: str | None = None  # the name the case is scanned under (gixy reads its cases as nginx)


class Outcome(NamedTuple):
    case: Case
    rules: tuple[str, ...]
    infralint_reports: bool
    infralint_count: int

    @property
    def agrees(self) -> bool:
        if self.case.peer_count is not None:
            return self.case.peer_count == self.infralint_count
        return self.case.peer_reports == self.infralint_reports


def polaris_cases(checkout: Path) -> list[Case]:
    cases = []
    for folder in sorted((checkout / "test" / "checks").iterdir()):
        for path in sorted(folder.glob("*.y*ml")):
            if path.name.startswith(("failure", "success")):
                cases.append(Case(folder.name, path, path.name.startswith("failure")))
    return cases


BATS_TEST = re.compile(r'^@test "([^"]+)" \{(.*?)^\}', re.M | re.S)
BATS_FILE = re.compile(r'tmp="(tests/checks/[^"]+)"')
BATS_INCLUDE = re.compile(r"--include ([\w-]+)")
BATS_COUNT = re.compile(r'\[\[ "\$\{count\}" == "(\d+)" \]\]')


def kube_linter_cases(checkout: Path) -> list[Case]:
    """The built-in checks' end-to-end tests: the file each lints and the report count it expects
    (tests that set a custom config are templates, not built-in checks, and are left out)."""
    text = (checkout / "e2etests" / "bats-tests.sh").read_text(encoding="utf-8")
    cases = []
    for match in BATS_TEST.finditer(text):
        body = match.group(2)
        path, include, count = BATS_FILE.search(body), BATS_INCLUDE.search(body), BATS_COUNT.search(body)
        if path and include and count and "--config" not in body:
            expected = int(count.group(1))
            cases.append(Case(include.group(1), checkout / path.group(1), expected > 0, expected))
    return cases


def gixy_cases(checkout: Path) -> list[Case]:
    cases = []
    for folder in sorted((checkout / "tests" / "plugins" / "simply").iterdir()):
        for path in sorted(folder.glob("*.conf")):
            cases.append(Case(folder.name, path, not path.name.endswith("_fp.conf"), scan_as="nginx.conf"))
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
    with tempfile.TemporaryDirectory() as staging:
        folder, name = case.path.parent, case.path.name
        if case.scan_as:  # a snippet is scanned as the file the peer takes it for
            folder, name = Path(staging), case.scan_as
            shutil.copyfile(case.path, folder / name)
        os.chdir(folder)
        try:
            report = scan([name], ScanOptions(select=list(rules), development_paths=False))
        finally:
            os.chdir(previous)
    own = [finding for finding in report.findings if finding.rule_id in rules]
    folded = [
        item
        for finding in report.findings
        for item in finding.related
        if item.message.split(":", 1)[0] in rules and item.message.split(":", 1)[0] != finding.rule_id
    ]
    return Outcome(case, rules, bool(own), len(own) + len(folded))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tool", choices=sorted(CASES))
    parser.add_argument("checkout", type=Path)
    parser.add_argument("--details", action="store_true", help="list every case that disagrees")
    args = parser.parse_args(argv)
    mapping = rules_for(args.tool)
    cases = CASES[args.tool](args.checkout)
    outcomes = [judge(case, mapping[case.check]) for case in cases if case.check in mapping]
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
            if outcome.agrees:
                continue
            if outcome.case.peer_count is not None:
                counts = f"{args.tool} {outcome.case.peer_count} reports, infralint {outcome.infralint_count}"
                print(f"  {outcome.case.check} ({outcome.case.path.name}): {counts}")
            else:
                said = "reports" if outcome.case.peer_reports else "passes"
                print(f"  {outcome.case.check}/{outcome.case.path.name}: {args.tool} {said}, infralint does not agree")
    return 0


CASES: dict[str, Callable[[Path], list[Case]]] = {
    "polaris": polaris_cases,
    "kube-linter": kube_linter_cases,
    "gixy": gixy_cases,
}


if __name__ == "__main__":
    sys.exit(main())
