"""JUnit XML for CI test reports (GitLab unit test reports, Jenkins, GitHub test-report actions).

One <testsuite> per rule, with the rule id as every testcase's classname: GitLab shows the
classname as the suite, and Jenkins splits it at dots into package and class, so a rule id
(never a dot in it) reads whole where a file name (`deploy.yaml`) would be cut in two. Each
finding is a failing testcase named by its place and message; a rule that found nothing is one
passing testcase, so dashboards show what was checked and a clean scan is a green report.
Attributes stay within what the Jenkins xUnit JUnit schema allows (no testcase `file`/`line`).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from typing import Any

from infralint.findings import Finding
from infralint.report import Report
from infralint.reporters import rule_docs_url, rule_metas
from infralint.reporters.text import location

PASSED = "no findings"
# What XML 1.0 cannot hold at all, even escaped: C0 controls other than tab, LF and CR,
# lone surrogates, and U+FFFE/U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """Text safe for XML 1.0: a forbidden character becomes a visible escape like `\\x1b`."""
    return _NOT_XML.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def _where(finding: Finding) -> str:
    return location(finding.span.path, finding.span.line, finding.span.col)


def _details(finding: Finding) -> str:
    lines = [f"{_where(finding)}: {finding.severity.value} {finding.rule_id} {finding.message}"]
    for related in finding.related:
        where = location(related.span.path, related.span.line, related.span.col)
        lines.append(f"    {where}: {related.message}")
    lines.append(f"Rule: {rule_docs_url(finding.rule_id)}")
    return "\n".join(lines)


def _unique_names(findings: list[Finding]) -> list[str]:
    """Testcase names, unique within the rule: GitLab keeps only the first of a repeated name."""
    names = [f"{_where(f)}: {f.message}" for f in findings]
    total = Counter(names)
    seen: Counter[str] = Counter()
    unique = []
    for name in names:
        seen[name] += 1
        unique.append(f"{name} ({seen[name]})" if total[name] > 1 else name)
    return unique


def _element(parent: ET.Element | None, tag: str, **attrs: str) -> ET.Element:
    clean = {key: xml_text(value) for key, value in attrs.items()}
    return ET.Element(tag, clean) if parent is None else ET.SubElement(parent, tag, clean)


def _suite(root: ET.Element, rule_id: str, findings: list[Finding]) -> None:
    tests = max(len(findings), 1)
    failures = str(len(findings))
    suite = _element(
        root, "testsuite", name=rule_id, tests=str(tests), failures=failures, errors="0", skipped="0", time="0"
    )
    if not findings:
        _element(suite, "testcase", name=PASSED, classname=rule_id, time="0")
        return
    for finding, name in zip(findings, _unique_names(findings), strict=True):
        case = _element(suite, "testcase", name=name, classname=rule_id, time="0")
        failure = _element(case, "failure", message=finding.message, type=finding.severity.value)
        failure.text = xml_text(_details(finding))


def document(report: Report) -> ET.Element:
    by_rule: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_rule.setdefault(finding.rule_id, []).append(finding)
    rule_ids = sorted({meta.id for meta in rule_metas(report)} | set(by_rule))
    root = _element(None, "testsuites", name="infralint")
    if not rule_ids:  # nothing selected: still one passing testcase to show the scan ran
        rule_ids = ["infralint"]
    for rule_id in rule_ids:
        _suite(root, rule_id, by_rule.get(rule_id, []))
    suites = list(root)
    root.set("tests", str(sum(int(s.get("tests", "0")) for s in suites)))
    root.set("failures", str(len(report.findings)))
    root.set("errors", "0")
    root.set("time", "0")
    return root


def render(report: Report, **_: Any) -> str:
    root = document(report)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
