"""SARIF 2.1.0: structure GitHub code scanning reads, the official schema, the SARIF Multitool."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import require_tool
from jsonschema import Draft202012Validator
from scanning import POD, scan_tree, write

from infralint.reporters import sarif


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
    assert run["automationDetails"] == {"id": "k8s/prod"}
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    rule = rules["k8s-image-latest-tag"]
    assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"] and rule["help"]["text"]
    assert rule["defaultConfiguration"] == {"level": "warning"}
    assert rule["helpUri"].endswith("#k8s-image-latest-tag")
    result = next(r for r in run["results"] if r["ruleId"] == "k8s-image-latest-tag")
    assert result["level"] == "warning"
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "k8s-image-latest-tag"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "pods/latest.yaml", "uriBaseId": "SRCROOT"}
    assert location["region"] == {"startLine": 8, "startColumn": 7}
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"].endswith("/")
    assert len(result["partialFingerprints"]["infralintFingerprint/v1"]) == 32


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


def _outputs(project: Path) -> list[dict]:
    clean = project / "clean"
    write(clean, "pod.yaml", POD)
    return [_sarif(project), _sarif(clean, select=["k8s-image-latest-tag"])]


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
        # The Multitool exits 0 even when it reports errors: read its own log.
        results = json.loads(report.read_text())["runs"][0].get("results", [])
        errors = [r["message"] for r in results if r.get("level") == "error"]
        assert errors == []
