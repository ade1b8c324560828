"""SARIF 2.1.0: structure GitHub code scanning reads, the official schema, the SARIF Multitool."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import require_tool
from jsonschema import Draft202012Validator
from scanning import POD, scan_tree, write

from infralint.catalog import all_metas
from infralint.docs import rules_markdown
from infralint.reporters import DOCS_URI, sarif

REPO = Path(__file__).resolve().parent.parent


def _sarif(root: Path, **options: object) -> dict:
    return json.loads(sarif.render(scan_tree(root, **options), category="k8s/prod"))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path, "pods/latest.yaml", POD.replace("nginx:1.27", "nginx"))
    write(tmp_path, "broken.yaml", "apiVersion: v1\nkind: Pod\nspec: [\n")
    return tmp_path


def test_run_rules_and_results(project: Path) -> None:
    log = _sarif(project)
    assert log["version"] == "2.1.0"
    [run] = log["runs"]
    assert run["automationDetails"] == {"id": "k8s/prod/"}  # the whole category, no run id
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    rule = rules["k8s-image-latest-tag"]
    assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"] and rule["help"]["text"]
    assert rule["defaultConfiguration"] == {"level": "warning"}
    assert rule["helpUri"] == f"{DOCS_URI}#k8s-image-latest-tag"
    result = next(r for r in run["results"] if r["ruleId"] == "k8s-image-latest-tag")
    assert result["level"] == "warning"
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "k8s-image-latest-tag"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "pods/latest.yaml", "uriBaseId": "SRCROOT"}
    assert location["region"] == {"startLine": 8, "startColumn": 7}
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"].endswith("/")
    assert len(result["partialFingerprints"]["infralintFingerprint/v1"]) == 32


def test_one_run_per_invocation_with_the_category_as_given(project: Path) -> None:
    report = scan_tree(project)
    assert json.loads(sarif.render(report, category="infra/"))["runs"][0]["automationDetails"] == {"id": "infra/"}
    no_category = json.loads(sarif.render(report))
    assert len(no_category["runs"]) == 1 and "automationDetails" not in no_category["runs"][0]


def _github_slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation other than `-` and `_`
    dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _headings(markdown: str) -> list[str]:
    headings, fenced = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            headings.append(line.lstrip("#").strip())
    return headings


def test_help_uri_anchors_are_the_rule_headings_of_the_generated_docs() -> None:
    """helpUri is docs/rules.md#<rule-id>: the generator writes `### <rule-id>` for every rule, and
    GitHub's anchor for that heading is the id itself, unique in the page."""
    metas = list(all_metas())
    markdown = rules_markdown(metas)
    headings = _headings(markdown)
    slugs = [_github_slug(h) for h in headings]
    assert len(slugs) == len(set(slugs)), "a repeated anchor would get a -1 suffix on GitHub"
    for meta in metas:
        assert f"\n### {meta.id}\n" in markdown
        assert _github_slug(meta.id) == meta.id
    assert {meta.id for meta in metas} <= set(slugs)
    rules = {r["id"]: r for r in json.loads(sarif.render(_empty_report(metas)))["runs"][0]["tool"]["driver"]["rules"]}
    assert {rule_id: rule["helpUri"] for rule_id, rule in rules.items()} == {m.id: f"{DOCS_URI}#{m.id}" for m in metas}


def _empty_report(metas: list) -> object:
    from infralint.report import Report

    return Report(root="/repo", findings=[], rules=metas, tool_version="0")


def test_security_rules_carry_a_security_severity(project: Path) -> None:
    rules = _sarif(project)["runs"][0]["tool"]["driver"]["rules"]
    security = [r for r in rules if "security" in r["properties"]["tags"]]
    assert all(float(r["properties"]["security-severity"]) > 0 for r in security)


def test_clean_scan_has_an_empty_results_array(tmp_path: Path) -> None:
    write(tmp_path, "pod.yaml", POD)
    run = _sarif(tmp_path, select=["k8s-image-latest-tag"])["runs"][0]
    assert run["results"] == []


def test_fingerprints_survive_unrelated_edits(project: Path) -> None:
    before = {r["ruleId"]: r["partialFingerprints"] for r in _sarif(project)["runs"][0]["results"]}
    path = project / "pods" / "latest.yaml"
    path.write_text("# a comment that moves every line\n\n" + path.read_text())
    after = {r["ruleId"]: r["partialFingerprints"] for r in _sarif(project)["runs"][0]["results"]}
    assert before == after


def test_fingerprints_survive_moving_the_finding_within_its_object(tmp_path: Path) -> None:
    """The finding's own line moves (keys reordered, labels added above it): same fingerprint."""
    write(tmp_path, "pod.yaml", POD.replace("nginx:1.27", "nginx"))
    [before] = _sarif(tmp_path, select=["k8s-image-latest-tag"])["runs"][0]["results"]
    moved = POD.replace("  name: web\n", "  name: web\n  labels:\n    app: web\n    tier: front\n").replace(
        "    - name: app\n      image: nginx:1.27\n", "    - image: nginx\n      name: app\n"
    )
    write(tmp_path, "pod.yaml", moved)
    [after] = _sarif(tmp_path, select=["k8s-image-latest-tag"])["runs"][0]["results"]
    lines = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in (before, after)]
    assert lines == [8, 10]
    assert after["partialFingerprints"] == before["partialFingerprints"]


def _graph_project(root: Path) -> Path:
    shutil.copytree(REPO / "fixtures" / "k8s-ingress-backend-missing", root)
    return root


def test_graph_findings_carry_related_locations_linked_from_the_message(tmp_path: Path) -> None:
    results = _sarif(_graph_project(tmp_path / "graph"), select=["k8s-ingress-backend-missing"])["runs"][0]["results"]
    linked = [r for r in results if "relatedLocations" in r]
    assert linked, "the fixture has findings that point at a Service"
    for result in linked:
        ids = [location["id"] for location in result["relatedLocations"]]
        assert ids == list(range(1, len(ids) + 1))
        for location in result["relatedLocations"]:
            physical = location["physicalLocation"]
            assert physical["artifactLocation"]["uriBaseId"] == "SRCROOT"
            assert physical["region"]["startLine"] >= 1
            assert f"]({location['id']})" in result["message"]["text"]  # GitHub shows them as links
            assert location["message"]["text"]
    ports = next(r for r in linked if "has no such port" in r["message"]["text"])
    related = ports["relatedLocations"][0]
    assert related["physicalLocation"]["artifactLocation"]["uri"] == "bad/services.yaml"
    assert ports["message"]["text"].endswith(f"([{related['message']['text']}](1))")


def test_message_brackets_beside_links_are_escaped() -> None:
    from infralint.findings import Finding, Related, Severity
    from infralint.source import Span

    finding = Finding(
        "k8s-ingress-backend-missing",
        Severity.ERROR,
        "rules[0] routes nowhere",
        Span("a.yaml", 1, 1),
        related=(Related(Span("b.yaml", 2, 1), "Service [api]"),),
    )
    assert sarif.message_text(finding) == "rules\\[0\\] routes nowhere ([Service \\[api\\]](1))"


def _outputs(project: Path) -> list[dict]:
    """Every kind of scan the validators check: findings with a parse error, a clean scan, a scan
    with nothing but parse errors and a graph project whose findings have related locations."""
    clean = project / "clean"
    write(clean, "pod.yaml", POD)
    broken = project / "only-broken"
    write(broken, "a.yaml", "apiVersion: v1\nkind: Pod\nspec: [\n")
    write(broken, "b.yaml", "key: [unclosed\n  - {\n")
    outputs = [_sarif(project), _sarif(clean, select=["k8s-image-latest-tag"]), _sarif(broken)]
    assert {r["ruleId"] for r in outputs[-1]["runs"][0]["results"]} == {"infralint-parse-error"}
    outputs.append(_sarif(_graph_project(project / "graph")))
    return outputs


def test_valid_against_the_sarif_schema(project: Path) -> None:
    schema_path = require_tool("INFRALINT_SARIF_SCHEMA", "the SARIF 2.1.0 JSON schema")
    schema = json.loads(schema_path.read_text())
    validator = Draft202012Validator(schema)
    for log in _outputs(project):
        assert [e.message for e in validator.iter_errors(log)] == []


def test_sarif_multitool_reports_no_errors_with_github_rules(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tool = require_tool("INFRALINT_SARIF_MULTITOOL", "the SARIF Multitool")
    out_dir = tmp_path_factory.mktemp("sarif")
    for index, log in enumerate(_outputs(project)):
        target = out_dir / f"scan{index}.sarif"
        target.write_text(json.dumps(log))
        report = out_dir / f"validation{index}.sarif"
        subprocess.run(
            [str(tool), "validate", str(target), "--rule-kind", "Ghas", "-o", str(report), "--log", "ForceOverwrite"],
            check=True,
            capture_output=True,
        )
        # The Multitool exits 0 even when it reports errors: read its own log. Its GitHub rules
        # report neither errors nor warnings.
        results = json.loads(report.read_text())["runs"][0].get("results", [])
        problems = [(r["ruleId"], r["message"]) for r in results if r.get("level", "warning") in ("error", "warning")]
        assert problems == []
