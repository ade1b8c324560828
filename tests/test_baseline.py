"""Baselines: `baseline create` writes a sorted, deterministic file; `scan --baseline` hides its
findings (also after lines move), says how many, and reports entries that no longer match."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from scanning import POD, write
from scanning import run_cli as cli

REPO = Path(__file__).resolve().parent.parent
LATEST_POD = POD.replace("nginx:1.27", "nginx:latest")  # container on line 7, image on line 8
RULES = "k8s-image-latest-tag,k8s-missing-memory-limit"
NGINX = """events {}
http {
    server {
        listen 80;
        location / { return 200; }
    }
}
"""


def findings(out: str) -> set[tuple[str, int, str]]:
    """(path, line, rule) of each text-output finding line."""
    rows = set()
    for line in out.splitlines():
        where, _, rest = line.partition(": ")
        parts = where.split(":")
        if len(parts) >= 2 and parts[1].isdigit() and rest:
            rows.add((parts[0], int(parts[1]), rest.split()[1]))
    return rows


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path, "apps/web.yaml", LATEST_POD)
    write(tmp_path, "apps/api.yaml", LATEST_POD.replace("name: web", "name: api"))
    write(tmp_path, "proxy/nginx.conf", NGINX)
    return tmp_path


def create(project: Path, *args: str) -> dict[str, Any]:
    code, out = cli("baseline", "create", "--select", f"{RULES},nginx-server-tokens", *args, cwd=project)
    assert code == 0, out
    return json.loads((project / ".infralint-baseline.json").read_text())


def test_create_writes_sorted_entries_without_lines_in_the_documented_format(project: Path) -> None:
    code, out = cli("baseline", "create", "--select", f"{RULES},nginx-server-tokens", cwd=project)
    assert code == 0
    assert "infralint: wrote 5 baseline entries to .infralint-baseline.json" in out
    data = json.loads((project / ".infralint-baseline.json").read_text())
    schema = json.loads((REPO / "schemas" / "baseline.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    assert list(Draft202012Validator(schema).iter_errors(data)) == []
    assert data["version"] == 1
    assert [(e["path"], e["rule"], e["object"]) for e in data["findings"]] == [
        ("apps/api.yaml", "k8s-image-latest-tag", "k8s/Pod/-/api/container/app"),
        ("apps/api.yaml", "k8s-missing-memory-limit", "k8s/Pod/-/api/container/app"),
        ("apps/web.yaml", "k8s-image-latest-tag", "k8s/Pod/-/web/container/app"),
        ("apps/web.yaml", "k8s-missing-memory-limit", "k8s/Pod/-/web/container/app"),
        ("proxy/nginx.conf", "nginx-server-tokens", data["findings"][4]["object"]),
    ]
    assert all(set(entry) == {"fingerprint", "rule", "path", "object", "message"} for entry in data["findings"])
    assert "line" not in (project / ".infralint-baseline.json").read_text()
    assert data["findings"][0]["message"] == "container 'app' of Pod/api uses image 'nginx:latest' without a pinned tag"


def test_create_is_byte_identical_across_runs(project: Path) -> None:
    create(project)
    first = (project / ".infralint-baseline.json").read_bytes()
    create(project)
    assert (project / ".infralint-baseline.json").read_bytes() == first
    assert first.endswith(b"}\n") and b"\r" not in first


def test_create_output_option_and_paths(project: Path) -> None:
    code, out = cli("baseline", "create", "apps/web.yaml", "--select", RULES, "--output", "ci/base.json", cwd=project)
    assert code == 0 and "wrote 2 baseline entries to ci/base.json" in out
    data = json.loads((project / "ci" / "base.json").read_text())
    assert {e["path"] for e in data["findings"]} == {"apps/web.yaml"}


def test_scan_with_the_baseline_hides_its_findings_and_says_how_many(project: Path) -> None:
    create(project)
    code, out = cli(
        "scan", "--select", f"{RULES},nginx-server-tokens", "--baseline", ".infralint-baseline.json", cwd=project
    )
    assert code == 0
    assert findings(out) == set()
    assert "Scanned 3 files (2 k8s, 1 nginx): 0 errors, 0 warnings, 0 notes in " in out
    assert "5 findings hidden by the baseline (.infralint-baseline.json)." in out
    assert "no longer match" not in out


def test_new_findings_are_still_reported(project: Path) -> None:
    create(project)
    write(project, "apps/new.yaml", LATEST_POD.replace("name: web", "name: new"))
    code, out = cli("scan", "--select", RULES, "--baseline", ".infralint-baseline.json", cwd=project)
    assert code == 1
    assert findings(out) == {
        ("apps/new.yaml", 7, "k8s-missing-memory-limit"),
        ("apps/new.yaml", 8, "k8s-image-latest-tag"),
    }
    assert "4 findings hidden by the baseline" in out


def test_lines_moving_do_not_invalidate_the_baseline(project: Path) -> None:
    create(project)
    web = project / "apps" / "web.yaml"
    web.write_text(
        "# Owned by the web team.\n\n" + LATEST_POD.replace("  name: web\n", "  name: web\n  labels: {app: web}\n")
    )
    conf = project / "proxy" / "nginx.conf"
    conf.write_text("# proxy\nworker_processes auto;\n\n" + NGINX.replace("listen 80;", "listen 80;\n        # more\n"))
    # A document added before the Pod in the same file shifts it by a whole object.
    api = project / "apps" / "api.yaml"
    api.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n---\n" + api.read_text())
    code, out = cli(
        "scan", "--select", f"{RULES},nginx-server-tokens", "--baseline", ".infralint-baseline.json", cwd=project
    )
    assert code == 0, out
    assert findings(out) == set()
    assert "5 findings hidden by the baseline" in out
    # Without the baseline they are all there, on their new lines.
    code, out = cli("scan", "--select", RULES, cwd=project)
    assert ("apps/web.yaml", 11, "k8s-image-latest-tag") in findings(out)
    assert ("apps/api.yaml", 13, "k8s-image-latest-tag") in findings(out)


def test_a_renamed_object_is_a_new_finding_and_its_old_entry_is_stale(project: Path) -> None:
    create(project)
    web = project / "apps" / "web.yaml"
    web.write_text(web.read_text().replace("name: web", "name: web2"))
    code, out = cli("scan", "--select", RULES, "--baseline", ".infralint-baseline.json", cwd=project)
    assert code == 1
    assert findings(out) == {
        ("apps/web.yaml", 7, "k8s-missing-memory-limit"),
        ("apps/web.yaml", 8, "k8s-image-latest-tag"),
    }
    assert (
        "2 baseline entries no longer match: --report-stale-baseline lists them, `infralint baseline create` rewrites the file."
        in out
    )


def test_stale_entries_are_counted_and_listed_at_their_line(project: Path) -> None:
    data = create(project)
    web = project / "apps" / "web.yaml"
    web.write_text(web.read_text().replace("nginx:latest", "nginx:1.27"))
    code, out = cli("scan", "--select", RULES, "--baseline", ".infralint-baseline.json", cwd=project)
    assert code == 0 and findings(out) == set()
    assert "3 findings hidden by the baseline" in out
    assert "1 baseline entry no longer match" in out
    code, out = cli(
        "scan", "--select", RULES, "--baseline", ".infralint-baseline.json", "--report-stale-baseline", cwd=project
    )
    assert code == 0  # a note: it does not fail the default --fail-on warning
    text = (project / ".infralint-baseline.json").read_text()
    [stale] = [e for e in data["findings"] if e["path"] == "apps/web.yaml" and e["rule"] == "k8s-image-latest-tag"]
    line = text[: text.index(stale["fingerprint"])].count("\n") + 1
    assert findings(out) == {(".infralint-baseline.json", line, "infralint-baseline-stale")}
    assert (
        "note infralint-baseline-stale baseline entry for k8s-image-latest-tag in apps/web.yaml "
        "(k8s/Pod/-/web/container/app) matches no finding any more: remove it" in out
    )


def test_entries_the_scan_could_not_have_matched_are_not_stale(project: Path) -> None:
    create(project)
    # Only one file scanned: the other files' entries are not judged.
    _, out = cli("scan", "apps/web.yaml", "--select", RULES, "--baseline", ".infralint-baseline.json", cwd=project)
    assert "2 findings hidden" in out and "no longer match" not in out
    # A rule not selected: its entries are not judged.
    _, out = cli("scan", "--select", "k8s-image-latest-tag", "--baseline", ".infralint-baseline.json", cwd=project)
    assert "2 findings hidden" in out and "no longer match" not in out


def test_entries_of_a_deleted_file_are_stale_when_its_folder_is_scanned(project: Path) -> None:
    create(project)
    (project / "apps" / "api.yaml").unlink()
    _, out = cli("scan", "apps", "--select", RULES, "--baseline", ".infralint-baseline.json", cwd=project)
    assert "2 baseline entries no longer match" in out
    _, out = cli("scan", "proxy", "--select", RULES, "--baseline", ".infralint-baseline.json", cwd=project)
    assert "no longer match" not in out


def test_json_and_sarif_leave_hidden_findings_out_and_count_them(project: Path) -> None:
    create(project)
    write(project, "apps/new.yaml", LATEST_POD.replace("name: web", "name: new"))
    args = ("scan", "--select", RULES, "--baseline", ".infralint-baseline.json")
    _, out = cli(*args, "--format", "json", cwd=project)
    data = json.loads(out)
    schema = json.loads((REPO / "schemas" / "findings.schema.json").read_text())
    assert list(Draft202012Validator(schema).iter_errors(data)) == []
    assert data["summary"]["baseline"] == {"path": ".infralint-baseline.json", "hidden": 4, "stale": 0}
    assert data["summary"]["total"] == 2 and {f["location"]["path"] for f in data["findings"]} == {"apps/new.yaml"}
    _, out = cli(*args, "--format", "sarif", cwd=project)
    [run] = json.loads(out)["runs"]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]} == {
        "apps/new.yaml"
    }
    assert not any("suppressions" in r for r in run["results"])
    assert run["properties"] == {"infralint/baseline": {"hidden": 4, "stale": 0}}
    # Without a baseline neither output carries the field.
    _, out = cli("scan", "--select", RULES, "--format", "json", cwd=project)
    assert "baseline" not in json.loads(out)["summary"]


def test_config_baseline_key_is_relative_to_the_config_and_create_writes_there(project: Path) -> None:
    write(project, ".infralint.yaml", f"select: [{RULES}]\nbaseline: ci/infralint-baseline.json\n")
    write(project, "apps/.keep", "")
    code, out = cli("baseline", "create", cwd=project / "apps")
    assert code == 0 and "ci/infralint-baseline.json" in out
    assert (project / "ci" / "infralint-baseline.json").is_file()
    # create ignores the baseline it is about to replace: it still sees every finding.
    code, out = cli("baseline", "create", cwd=project)
    assert "wrote 4 baseline entries" in out
    code, out = cli("scan", cwd=project)
    assert code == 0 and "4 findings hidden by the baseline (ci/infralint-baseline.json)." in out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "missing.json: baseline file not found (`infralint baseline create` writes it)"),
        ("{", "missing.json:1: not valid JSON"),
        ('{"version": 2, "findings": []}', "missing.json: version: 1 was expected"),
        (
            '{"version": 1, "findings": [{"fingerprint": "xyz"}]}',
            "missing.json: findings[0]: 'rule' is a required property",
        ),
    ],
)
def test_a_baseline_that_cannot_be_used_is_a_usage_error(project: Path, text: str | None, message: str) -> None:
    if text is not None:
        write(project, "missing.json", text)
    code, out = cli("scan", "--baseline", "missing.json", cwd=project)
    assert code == 2
    assert message in out
