"""The CI formats, each checked against what its consumer documents:

- github: GitHub Actions workflow commands, read back with the runner's own parsing rules
  (actions/runner ActionCommand.TryParseV2: split at the first `::` after the command, properties
  split on `,` and `=`, then the `%XX` escapes undone).
- junit: JUnit XML against tests/data/formats/junit.xsd (GitLab's documented elements within the
  Jenkins xUnit schema's attributes), validated by xmlschema, plus the counts and names GitLab
  and Jenkins rely on.
- gitlab: GitLab Code Quality JSON against tests/data/formats/gitlab-codequality.schema.json
  (GitLab's documented fields), with fingerprints unique as GitLab keys issues by them.
"""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from scanning import POD, scan_tree, write

from infralint.catalog import meta_by_id
from infralint.findings import Finding, Related, Severity
from infralint.report import Report
from infralint.reporters import REPORTERS, github, gitlab, junit, reporter
from infralint.source import Span

DATA = Path(__file__).resolve().parent / "data" / "formats"
REPO = Path(__file__).resolve().parent.parent


def small_report(findings: list[Finding] | None = None) -> Report:
    metas = meta_by_id()
    rules = [
        metas[rule_id]
        for rule_id in (
            "k8s-image-latest-tag",
            "k8s-ingress-backend-missing",
            "k8s-nodeport-service",
            "k8s-run-as-root",
        )
    ]
    if findings is None:
        findings = [
            Finding(
                "k8s-image-latest-tag",
                Severity.WARNING,
                "Pod/web: image 'nginx:latest' has 100% drift,\nsee: notes",
                Span("deploy/a,b:c%.yaml", 8, 7),
                node_id="k8s/Pod/-/web",
                locator="spec.containers[0].image",
            ),
            Finding(
                "k8s-ingress-backend-missing",
                Severity.ERROR,
                "Ingress/web routes to port 9090 of Service 'api', which has no such port",
                Span("deploy/ingress.yaml", 12, 15),
                node_id="k8s/Ingress/shop/web",
                related=(Related(Span("deploy/svc.yaml", 4, 3), "Service/api defines its ports here"),),
                locator="spec.rules[0]",
            ),
            Finding(
                "k8s-nodeport-service",
                Severity.NOTE,
                "Service/api is a <NodePort> & open \x1b[31m",
                Span("deploy/svc.yaml"),
                node_id="k8s/Service/shop/api",
            ),
        ]
    return Report(
        root="/repo",
        findings=findings,
        rules=rules,
        files_by_kind=Counter({"k8s": 3}),
        seconds=1.25,
        tool_version="9.9.9",
    )


def test_every_format_is_a_scan_format_choice() -> None:
    from click.testing import CliRunner

    from infralint.cli import main

    help_text = CliRunner().invoke(main, ["scan", "--help"]).output
    for name in REPORTERS:
        assert name in help_text


# --- github ---------------------------------------------------------------------------------


def _unescape(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    for escaped, raw in pairs:
        text = text.replace(escaped, raw)
    return text


# The runner's order of replacements, %25 last.
_DATA_ESCAPES = (("%0D", "\r"), ("%0A", "\n"), ("%25", "%"))
_PROPERTY_ESCAPES = (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%"))


def parse_workflow_command(line: str) -> tuple[str, dict[str, str], str] | None:
    """What the GitHub runner makes of one log line (None: not a command)."""
    line = line.lstrip()
    if not line.startswith("::"):
        return None
    end = line.find("::", 2)
    if end < 0:
        return None
    info = line[2:end]
    name, _, rest = info.partition(" ")
    properties = {}
    for pair in rest.strip().split(","):
        key, _, value = pair.partition("=")
        if key and value:
            properties[key] = _unescape(value, _PROPERTY_ESCAPES)
    return name, properties, _unescape(line[end + 2 :], _DATA_ESCAPES)


def test_github_exact_output() -> None:
    assert github.render(small_report()) == (
        "::warning file=deploy/a%2Cb%3Ac%25.yaml,line=8,col=7,endLine=8,title=k8s-image-latest-tag"
        "::Pod/web: image 'nginx:latest' has 100%25 drift,%0Asee: notes\n"
        "::error file=deploy/ingress.yaml,line=12,col=15,endLine=12,title=k8s-ingress-backend-missing"
        "::Ingress/web routes to port 9090 of Service 'api', which has no such port"
        "%0Adeploy/svc.yaml:4:3: Service/api defines its ports here\n"
        "::notice file=deploy/svc.yaml,title=k8s-nodeport-service::Service/api is a <NodePort> & open \x1b[31m\n"
        "infralint: Scanned 3 files (3 k8s): 1 error, 1 warning, 1 note.\n"
    )


def test_github_commands_read_back_as_the_runner_reads_them() -> None:
    report = small_report()
    lines = github.render(report).split("\n")[:-1]
    commands = [parse_workflow_command(line) for line in lines]
    assert commands[-1] is None  # the summary is a plain log line
    assert [c[0] for c in commands[:-1] if c] == ["warning", "error", "notice"]
    _, props, data = commands[0]  # type: ignore[misc]
    assert props == {
        "file": "deploy/a,b:c%.yaml",
        "line": "8",
        "col": "7",
        "endLine": "8",
        "title": "k8s-image-latest-tag",
    }
    assert data == report.findings[0].message
    _, props, data = commands[2]  # type: ignore[misc]
    assert props == {"file": "deploy/svc.yaml", "title": "k8s-nodeport-service"}  # no line: file only


def test_github_says_when_annotations_will_be_cut() -> None:
    many = [Finding("k8s-image-latest-tag", Severity.WARNING, f"m{i}", Span("a.yaml", i, 1)) for i in range(1, 12)]
    lines = github.render(small_report(many)).splitlines()
    assert len(lines) == 13
    assert lines[-1] == "infralint: GitHub shows 10 annotations of each kind per step; every finding is in this log."
    assert "GitHub shows" not in github.render(small_report(many[:10]))


def test_github_a_multiline_span_has_no_columns() -> None:
    finding = Finding("k8s-image-latest-tag", Severity.WARNING, "m", Span("a.yaml", 3, 5, end_line=6, end_col=2))
    parsed = parse_workflow_command(github.command(finding))
    assert parsed is not None
    assert parsed[1] == {"file": "a.yaml", "line": "3", "endLine": "6", "title": "k8s-image-latest-tag"}


_PATHS = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00 \t\n\r"), min_size=1).map(
    lambda text: "dir/" + text
)


@given(message=st.text(), path=_PATHS)
def test_github_escaping_round_trips_any_text(message: str, path: str) -> None:
    """Whatever a scanned file puts in a message or a file name, the runner reads back exactly
    that, and it never starts a second command (no raw CR or LF gets through)."""
    finding = Finding("k8s-image-latest-tag", Severity.ERROR, message, Span(path, 1, 1))
    line = github.command(finding)
    assert "\n" not in line and "\r" not in line
    parsed = parse_workflow_command(line)
    assert parsed is not None
    assert parsed[0] == "error"
    assert parsed[1]["file"] == path
    assert parsed[2] == message


# --- junit ----------------------------------------------------------------------------------


def junit_errors(text: str) -> list[str]:
    """Every way the document breaks tests/data/formats/junit.xsd (empty: valid)."""
    import xmlschema

    schema = xmlschema.XMLSchema(str(DATA / "junit.xsd"))
    return [str(error.reason) for error in schema.iter_errors(text)]


def test_the_xsd_catches_what_consumers_reject() -> None:
    bad = (
        '<testsuites tests="x" failures="0" errors="0">'
        '<testsuite name="r" tests="1" failures="0" errors="0" file="a.yaml">'
        '<testcase name="n" line="3"><failure>f</failure><oops/></testcase>'
        "</testsuite></testsuites>"
    )
    assert len(junit_errors(bad)) >= 3
    assert junit_errors('<testsuites tests="0" failures="0" errors="0"/>') != []


DOCS = "https://github.com/infralint/infralint/blob/main/docs/rules.md"


def test_junit_exact_output() -> None:
    assert junit.render(small_report()) == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<testsuites name="infralint" tests="4" failures="3" errors="0" time="0">\n'
        '  <testsuite name="k8s-image-latest-tag" tests="1" failures="1" errors="0" skipped="0" time="0">\n'
        "    <testcase name=\"deploy/a,b:c%.yaml:8:7: Pod/web: image 'nginx:latest' has 100% drift,&#10;see: notes\""
        ' classname="k8s-image-latest-tag" time="0">\n'
        '      <failure message="Pod/web: image \'nginx:latest\' has 100% drift,&#10;see: notes" type="warning">'
        "deploy/a,b:c%.yaml:8:7: warning k8s-image-latest-tag Pod/web: image 'nginx:latest' has 100% drift,\n"
        "see: notes\n"
        f"Rule: {DOCS}#k8s-image-latest-tag</failure>\n"
        "    </testcase>\n"
        "  </testsuite>\n"
        '  <testsuite name="k8s-ingress-backend-missing" tests="1" failures="1" errors="0" skipped="0" time="0">\n'
        "    <testcase name=\"deploy/ingress.yaml:12:15: Ingress/web routes to port 9090 of Service 'api', which has"
        ' no such port" classname="k8s-ingress-backend-missing" time="0">\n'
        "      <failure message=\"Ingress/web routes to port 9090 of Service 'api', which has no such port\""
        ' type="error">'
        "deploy/ingress.yaml:12:15: error k8s-ingress-backend-missing Ingress/web routes to port 9090 of Service"
        " 'api', which has no such port\n"
        "    deploy/svc.yaml:4:3: Service/api defines its ports here\n"
        f"Rule: {DOCS}#k8s-ingress-backend-missing</failure>\n"
        "    </testcase>\n"
        "  </testsuite>\n"
        '  <testsuite name="k8s-nodeport-service" tests="1" failures="1" errors="0" skipped="0" time="0">\n'
        '    <testcase name="deploy/svc.yaml: Service/api is a &lt;NodePort&gt; &amp; open \\x1b[31m"'
        ' classname="k8s-nodeport-service" time="0">\n'
        '      <failure message="Service/api is a &lt;NodePort&gt; &amp; open \\x1b[31m" type="note">'
        "deploy/svc.yaml: note k8s-nodeport-service Service/api is a &lt;NodePort&gt; &amp; open \\x1b[31m\n"
        f"Rule: {DOCS}#k8s-nodeport-service</failure>\n"
        "    </testcase>\n"
        "  </testsuite>\n"
        '  <testsuite name="k8s-run-as-root" tests="1" failures="0" errors="0" skipped="0" time="0">\n'
        '    <testcase name="no findings" classname="k8s-run-as-root" time="0" />\n'
        "  </testsuite>\n"
        "</testsuites>\n"
    )


def test_junit_is_valid_against_the_xsd_and_counts_add_up() -> None:
    text = junit.render(small_report())
    assert junit_errors(text) == []
    root = ET.fromstring(text.encode("utf-8"))
    suites = root.findall("testsuite")
    for suite in suites:
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "")) == len(cases)
        assert int(suite.get("failures", "")) == sum(1 for c in cases if c.find("failure") is not None)
        assert {c.get("classname") for c in cases} == {suite.get("name")}
    assert int(root.get("tests", "")) == sum(len(s.findall("testcase")) for s in suites)
    assert int(root.get("failures", "")) == 3
    failures = {c.get("classname"): c.find("failure") for c in root.iter("testcase")}
    types = {rule: failure.get("type") for rule, failure in failures.items() if failure is not None}
    assert types == {
        "k8s-image-latest-tag": "warning",
        "k8s-ingress-backend-missing": "error",
        "k8s-nodeport-service": "note",
    }


def test_junit_control_characters_become_visible_escapes() -> None:
    forbidden = "".join(chr(c) for c in range(32) if chr(c) not in "\t\n\r") + "\ufffe\uffff"
    finding = Finding("k8s-image-latest-tag", Severity.WARNING, f"bad{forbidden}end", Span("a.yaml", 1, 1))
    text = junit.render(small_report([finding]))
    assert junit_errors(text) == []  # parses: nothing XML 1.0 forbids got through
    failure = ET.fromstring(text.encode("utf-8")).find(".//failure")
    assert failure is not None
    assert failure.get("message") == "bad" + "".join(f"\\x{ord(c):02x}" for c in forbidden) + "end"


def test_junit_repeated_names_are_numbered() -> None:
    """GitLab keeps one testcase per classname and name: two findings of a rule at one place with
    one message must not collapse into one."""
    twice = [
        Finding("k8s-image-latest-tag", Severity.WARNING, "same", Span("a.yaml", 3, 1), locator=str(i))
        for i in range(2)
    ]
    root = ET.fromstring(junit.render(small_report(twice)).encode("utf-8"))
    names = [case.get("name") for case in root.iter("testcase") if case.get("classname") == "k8s-image-latest-tag"]
    assert names == ["a.yaml:3:1: same (1)", "a.yaml:3:1: same (2)"]


def test_junit_clean_scan_is_a_passing_report(tmp_path: Path) -> None:
    write(tmp_path, "pod.yaml", POD)
    text = junit.render(scan_tree(tmp_path, select=["k8s-image-latest-tag"]))
    assert junit_errors(text) == []
    root = ET.fromstring(text.encode("utf-8"))
    assert root.get("failures") == "0" and root.get("errors") == "0"
    cases = {(c.get("classname"), c.get("name"), len(c)) for c in root.iter("testcase")}
    assert ("k8s-image-latest-tag", "no findings", 0) in cases  # and the input checks, which always run
    assert {name for _, name, _ in cases} == {"no findings"} and {size for _, _, size in cases} == {0}


def test_junit_with_no_rule_at_all_still_has_a_passing_testcase() -> None:
    report = small_report([])
    report.rules = []
    root = ET.fromstring(junit.render(report).encode("utf-8"))
    assert [(c.get("classname"), c.get("name")) for c in root.iter("testcase")] == [("infralint", "no findings")]
    assert junit_errors(junit.render(report)) == []


# --- gitlab ---------------------------------------------------------------------------------


def gitlab_errors(data: object) -> list[str]:
    schema = json.loads((DATA / "gitlab-codequality.schema.json").read_text(encoding="utf-8"))
    return [error.message for error in Draft202012Validator(schema).iter_errors(data)]


def test_gitlab_exact_output() -> None:
    report = small_report()
    fingerprints = [f.fingerprint for f in report.findings]
    assert json.loads(gitlab.render(report)) == [
        {
            "type": "issue",
            "check_name": "k8s-image-latest-tag",
            "description": "Pod/web: image 'nginx:latest' has 100% drift, see: notes",
            "categories": ["Bug Risk"],
            "severity": "major",
            "fingerprint": fingerprints[0],
            "location": {"path": "deploy/a,b:c%.yaml", "lines": {"begin": 8}},
        },
        {
            "type": "issue",
            "check_name": "k8s-ingress-backend-missing",
            "description": "Ingress/web routes to port 9090 of Service 'api', which has no such port",
            "categories": ["Bug Risk"],
            "severity": "critical",
            "fingerprint": fingerprints[1],
            "location": {"path": "deploy/ingress.yaml", "lines": {"begin": 12}},
        },
        {
            "type": "issue",
            "check_name": "k8s-nodeport-service",
            "description": "Service/api is a <NodePort> & open \x1b[31m",
            "categories": ["Security"],
            "severity": "info",
            "fingerprint": fingerprints[2],
            "location": {"path": "deploy/svc.yaml", "lines": {"begin": 1}},
        },
    ]


def test_gitlab_report_matches_the_documented_shape() -> None:
    text = gitlab.render(small_report())
    assert not text.startswith("\ufeff")
    text.encode("utf-8")
    assert gitlab_errors(json.loads(text)) == []
    assert json.loads(gitlab.render(small_report([]))) == []


def test_gitlab_severities_follow_ours() -> None:
    assert gitlab.SEVERITIES == {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.NOTE: "info"}


def test_gitlab_shared_fingerprints_are_made_unique_and_stay_put() -> None:
    def twins(line: int) -> list[Finding]:
        # Same rule, file, object and locator: one fingerprint for three findings.
        return [
            Finding("k8s-image-latest-tag", Severity.WARNING, message, Span("a.yaml", line, 1), node_id="k8s/Pod/-/web")
            for message in ("first", "second", "second")
        ] + [Finding("k8s-image-latest-tag", Severity.WARNING, "alone", Span("b.yaml", 1, 1), node_id="k8s/Pod/-/x")]

    issues = json.loads(gitlab.render(small_report(twins(3))))
    prints = [issue["fingerprint"] for issue in issues]
    assert len(set(prints)) == 4
    assert prints[3] == twins(3)[3].fingerprint  # a fingerprint nobody shares is kept as is
    assert all(re.fullmatch("[0-9a-f]{32}", p) for p in prints)
    # Moving the lines changes nothing, and neither does running again.
    assert [i["fingerprint"] for i in json.loads(gitlab.render(small_report(twins(40))))] == prints
    assert gitlab_errors(issues) == []


# --- all formats ----------------------------------------------------------------------------


def _project(root: Path) -> Path:
    """Two fixture projects (one with a graph rule's related places) and a file that fails to parse."""
    for name in ("k8s-ingress-backend-missing", "k8s-image-latest-tag"):
        shutil.copytree(REPO / "fixtures" / name, root / name)
    write(root, "broken/pod.yaml", "apiVersion: v1\nkind: Pod\nspec: [\n")
    return root


@pytest.mark.parametrize("name", ["github", "junit", "gitlab", "sarif", "json"])
def test_output_is_byte_identical_across_runs(name: str, tmp_path: Path) -> None:
    project = _project(tmp_path)
    first = reporter(name)(scan_tree(project), category="ci")
    second = reporter(name)(scan_tree(project), category="ci")
    assert first == second


def test_fixture_projects_in_every_ci_format(tmp_path: Path) -> None:
    """Real scans (a graph rule with related places, parse errors) come out valid in each format."""
    report = scan_tree(_project(tmp_path))
    assert {f.rule_id for f in report.findings} >= {"k8s-ingress-backend-missing", "infralint-parse-error"}
    assert junit_errors(junit.render(report)) == []
    issues = json.loads(gitlab.render(report))
    assert gitlab_errors(issues) == []
    assert len({issue["fingerprint"] for issue in issues}) == len(issues) == len(report.findings)
    commands = [parse_workflow_command(line) for line in github.render(report).splitlines()]
    assert len([c for c in commands if c]) == len(report.findings)
    related = next(c for c in commands if c and "has no such port" in c[2])
    assert "\nk8s-ingress-backend-missing/bad/services.yaml:" in related[2]
