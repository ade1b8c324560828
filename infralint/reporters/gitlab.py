"""GitLab Code Quality report: a JSON array of Code Climate issues (`artifacts:reports:codequality`).

GitLab reads description, check_name, fingerprint, severity, location.path and
location.lines.begin, and ignores the rest of the Code Climate fields; `type` and `categories`
are written too, so the file is a valid Code Climate issue list as well.

Severity: GitLab ranks blocker > critical > major > minor > info. An error (broken or unsafe in
production) is `critical`; a warning, which fails a run by default, is `major`; a note, advice that
does not fail a run by default, is `info`. `blocker` is left to people: a linter cannot know that
a finding must stop a release.

GitLab keys issues by fingerprint and shows one issue per fingerprint, so fingerprints are made
unique; like the findings' own, they do not depend on line numbers, so a merge request that only
moves lines shows no new or fixed issues.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from infralint.findings import Finding, Severity
from infralint.report import Report
from infralint.reporters import rule_metas

SEVERITIES = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.NOTE: "info"}
# Code Climate's categories for our rule tags (a rule with several tags may have several).
CATEGORIES = {
    "security": "Security",
    "reliability": "Bug Risk",
    "availability": "Bug Risk",
    "correctness": "Bug Risk",
    "input": "Bug Risk",
    "performance": "Performance",
    "caching": "Performance",
    "observability": "Clarity",
}
DEFAULT_CATEGORY = "Bug Risk"


def unique_fingerprints(findings: list[Finding]) -> list[str]:
    """Each finding's fingerprint; findings that share one (one rule reporting twice at one
    place) get a hash of it with their message and, for identical messages, their rank."""
    shared = Counter(f.fingerprint for f in findings)
    used = {f.fingerprint for f in findings}
    seen: Counter[tuple[str, str]] = Counter()
    result = []
    for finding in findings:
        if shared[finding.fingerprint] == 1:
            result.append(finding.fingerprint)
            continue
        key = (finding.fingerprint, finding.message)
        seen[key] += 1
        salt = f"{finding.message}\x1f{seen[key]}"
        candidate = _hash(finding.fingerprint, salt)
        while candidate in used:  # never equal to another issue's, however unlikely
            salt += "\x1f"
            candidate = _hash(finding.fingerprint, salt)
        used.add(candidate)
        result.append(candidate)
    return result


def _hash(fingerprint: str, salt: str) -> str:
    return hashlib.sha256(f"{fingerprint}\x1f{salt}".encode()).hexdigest()[:32]


def _categories(tags: tuple[str, ...]) -> list[str]:
    categories = sorted({CATEGORIES[tag] for tag in tags if tag in CATEGORIES})
    return categories or [DEFAULT_CATEGORY]


def _issue(finding: Finding, fingerprint: str, tags: tuple[str, ...]) -> dict[str, Any]:
    return {
        "type": "issue",
        "check_name": finding.rule_id,
        # Code Climate descriptions are one line.
        "description": " ".join(finding.message.split()),
        "categories": _categories(tags),
        "severity": SEVERITIES[finding.severity],
        "fingerprint": fingerprint,
        # A finding about a whole file (no line) points at its first line.
        "location": {"path": finding.span.path, "lines": {"begin": finding.span.line or 1}},
    }


def document(report: Report) -> list[dict[str, Any]]:
    tags = {meta.id: meta.tags for meta in rule_metas(report)}
    fingerprints = unique_fingerprints(report.findings)
    return [
        _issue(finding, fingerprint, tags.get(finding.rule_id, ()))
        for finding, fingerprint in zip(report.findings, fingerprints, strict=True)
    ]


def render(report: Report, **_: Any) -> str:
    # UTF-8 without a byte order mark: GitLab's parser rejects one.
    return json.dumps(document(report), indent=2, ensure_ascii=False) + "\n"
