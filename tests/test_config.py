"""The project config: found upward, YAML or pyproject, validated with file:line errors, and what
each key does (selection, severity, per-path ignores, excludes, rule options, target versions)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from scanning import POD, found, named_for, write
from scanning import run_cli as cli

from infralint import config
from infralint.api import ScanOptions, scan
from infralint.report import Report

REPO = Path(__file__).resolve().parent.parent
LATEST_POD = POD.replace("nginx:1.27", "nginx:latest")  # image on line 8, container on line 7
IMAGE_ONLY = ["k8s-image-latest-tag"]


def scan_with_config(root: Path, *paths: str, **options: object) -> Report:
    """Scan as the CLI does: the config found from the scan root upward, with ROOT as the working directory."""
    previous = os.getcwd()
    os.chdir(root)
    try:
        targets = list(paths) or ["."]
        loaded = config.discover_and_load(targets, None, False)
        return scan(targets, ScanOptions(config=loaded, **options))  # type: ignore[arg-type]
    finally:
        os.chdir(previous)


# --- the schema ------------------------------------------------------------------------------


def test_schema_is_valid_2020_12_and_documents_every_key() -> None:
    schema = json.loads((REPO / "schemas" / "config.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    for key, spec in schema["properties"].items():
        assert len(spec.get("description", "")) > 30, key
    for product, spec in schema["properties"]["target-versions"]["properties"].items():
        assert spec.get("description"), product


# --- discovery ------------------------------------------------------------------------------


def test_config_is_found_from_the_scan_root_upward(tmp_path: Path) -> None:
    write(tmp_path, ".infralint.yaml", "select: [k8s-image-latest-tag]\n")
    write(tmp_path, "apps/web/pod.yaml", LATEST_POD)
    report = scan_with_config(tmp_path / "apps" / "web")
    assert found(report) == {("pod.yaml", 8, "k8s-image-latest-tag")}


def test_the_nearest_config_wins_and_yaml_before_pyproject(tmp_path: Path) -> None:
    write(tmp_path, ".infralint.yaml", "select: [k8s-missing-memory-limit]\n")
    write(tmp_path, "apps/pyproject.toml", '[tool.infralint]\nselect = ["k8s-image-latest-tag"]\n')
    write(tmp_path, "apps/.infralint.yml", "select: [k8s-run-as-root]\n")
    assert config.find(str(tmp_path / "apps")) == str(tmp_path / "apps" / ".infralint.yml")
    (tmp_path / "apps" / ".infralint.yml").unlink()
    assert config.find(str(tmp_path / "apps")) == str(tmp_path / "apps" / "pyproject.toml")
    assert config.find(str(tmp_path)) == str(tmp_path / ".infralint.yaml")


def test_a_pyproject_without_the_table_is_passed_over(tmp_path: Path) -> None:
    write(tmp_path, ".infralint.yaml", "select: [k8s-image-latest-tag]\n")
    write(tmp_path, "app/pyproject.toml", '[project]\nname = "app"\n\n[tool.ruff]\nline-length = 100\n')
    assert config.find(str(tmp_path / "app")) == str(tmp_path / ".infralint.yaml")


def test_no_config_anywhere_up_to_the_filesystem_root(tmp_path: Path) -> None:
    assert config.find(str(tmp_path)) is None
    write(tmp_path, "pod.yaml", LATEST_POD)
    assert config.discover_and_load([str(tmp_path)], None, False) is None


def test_config_option_overrides_discovery_and_no_config_disables_it(tmp_path: Path) -> None:
    write(tmp_path, ".infralint.yaml", "select: [k8s-image-latest-tag]\n")
    write(tmp_path, "ci/strict.yaml", "select: [k8s-missing-memory-limit]\n")
    write(tmp_path, "pod.yaml", LATEST_POD)
    code, out = cli("scan", "pod.yaml", cwd=tmp_path)
    assert "pod.yaml:8:7: warning k8s-image-latest-tag" in out and "k8s-missing-memory-limit" not in out
    code, out = cli("scan", "pod.yaml", "--config", "ci/strict.yaml", cwd=tmp_path)
    assert "pod.yaml:7:7: warning k8s-missing-memory-limit" in out and "k8s-image-latest-tag" not in out
    code, out = cli("scan", "pod.yaml", "--no-config", cwd=tmp_path)
    assert "k8s-image-latest-tag" in out and "k8s-missing-memory-limit" in out and "k8s-run-as-root" in out
    code, out = cli("scan", "pod.yaml", "--no-config", "--config", "ci/strict.yaml", cwd=tmp_path)
    assert code == 2 and "--config and --no-config exclude each other" in out


# --- the pyproject form ------------------------------------------------------------------------

PYPROJECT = """[project]
name = "shop"

[tool.infralint]
select = ["k8s-image-latest-tag", "k8s-missing-memory-limit", "k8s-no-such-rule"]
fail-on = "error"

[tool.infralint.severity]
k8s-image-latest-tag = "error"

[tool.infralint.per-path-ignores]
"legacy/*.yaml" = ["k8s-missing-memory-limit"]
"""


def test_pyproject_table_is_read_with_positions(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", PYPROJECT)
    write(tmp_path, "pod.yaml", named_for(LATEST_POD, "pod.yaml"))
    write(tmp_path, "legacy/old.yaml", named_for(LATEST_POD, "legacy/old.yaml"))
    report = scan_with_config(tmp_path)
    assert found(report) == {
        ("pyproject.toml", 5, "infralint-unknown-rule"),
        ("pod.yaml", 7, "k8s-missing-memory-limit"),
        ("pod.yaml", 8, "k8s-image-latest-tag"),
        ("legacy/old.yaml", 8, "k8s-image-latest-tag"),
    }
    unknown = next(f for f in report.findings if f.rule_id == "infralint-unknown-rule")
    assert (unknown.span.line, unknown.span.col) == (5, 63)  # the id inside the array
    assert unknown.message == "configuration key tool.infralint.select[2] names unknown rule 'k8s-no-such-rule'"
    assert {f.severity.value for f in report.findings if f.rule_id == "k8s-image-latest-tag"} == {"error"}
    # fail-on from the table: the errors fail the run, the warning alone would not.
    assert cli("scan", ".", cwd=tmp_path)[0] == 1
    assert cli("scan", "legacy", "--select", "k8s-missing-memory-limit", cwd=tmp_path)[0] == 0


def test_toml_positions_cover_tables_dotted_keys_inline_tables_and_arrays() -> None:
    text = (
        "[tool.infralint]\n"
        "select = [\n"
        '  "k8s",  # comment, with a ] inside\n'
        "  'nginx',\n"
        "]\n"
        'rules = { k8s-single-replica = { min_replicas = 3 }, "k8s-secret-in-env".secret_name_pattern = "X|Y" }\n'
        "[tool.infralint.target-versions]\n"
        'kubernetes = "1.29"\n'
    )
    positions = config._toml_positions(text)
    assert positions[("tool", "infralint", "select")] == (2, 1)
    assert positions[("tool", "infralint", "select", 0)] == (3, 3)
    assert positions[("tool", "infralint", "select", 1)] == (4, 3)
    assert positions[("tool", "infralint", "rules", "k8s-single-replica", "min_replicas")] == (6, 34)
    assert positions[("tool", "infralint", "rules", "k8s-secret-in-env", "secret_name_pattern")] == (6, 54)
    assert positions[("tool", "infralint", "target-versions", "kubernetes")] == (8, 1)


# --- invalid configs: usage errors that name the file, the line and the key ----------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "selct: [k8s]\n",
            ".infralint.yaml:1: selct: unknown key (known keys: baseline, default-excludes, development-paths, exclude, fail-on",
        ),
        ("select: k8s\n", ".infralint.yaml:1: select: expected a list, got a string"),
        (
            "severity:\n  k8s-image-latest-tag: fatal\n",
            ".infralint.yaml:2: severity.k8s-image-latest-tag: 'fatal' is not one of error, warning, note",
        ),
        (
            "severity:\n  Not_An_Id: note\n",
            ".infralint.yaml:2: severity.Not_An_Id: 'Not_An_Id' is not a rule id such as k8s-image-latest-tag",
        ),
        ("default-excludes: 'no'\n", ".infralint.yaml:1: default-excludes: expected true or false, got a string"),
        ("fail-on: sometimes\n", ".infralint.yaml:1: fail-on: 'sometimes' is not one of error, warning, note, never"),
        ("exclude:\n  - vendor/\n  - 7\n", ".infralint.yaml:3: exclude[1]: expected a string, got a number"),
        (
            'per-path-ignores:\n  "a/*": k8s\n',
            '.infralint.yaml:2: per-path-ignores."a/*": expected a list, got a string',
        ),
        (
            "target-versions:\n  kubernetes: 1.30\n",
            ".infralint.yaml:2: target-versions.kubernetes: write the version as a string in quotes",
        ),
        (
            "target-versions:\n  redis: seven\n",
            ".infralint.yaml:2: target-versions.redis: 'seven' is not a version such as \"1.29\"",
        ),
        (
            "target-versions:\n  postgres: '16'\n",
            ".infralint.yaml:2: target-versions.postgres: unknown key (known keys: haproxy, kubernetes, nginx, redis)",
        ),
        (
            "rules:\n  k8s-single-replica:\n    min_replicas: '3'\n",
            ".infralint.yaml:3: rules.k8s-single-replica.min_replicas: expected an integer, got a string",
        ),
        (
            "rules:\n  k8s-single-replica:\n    max_replicas: 3\n",
            ".infralint.yaml:3: rules.k8s-single-replica.max_replicas: k8s-single-replica has no option 'max_replicas' (its options: min_replicas)",
        ),
        (
            "rules:\n  k8s-secret-in-env:\n    secret_name_pattern: '(PASS'\n",
            ".infralint.yaml:3: rules.k8s-secret-in-env.secret_name_pattern: not a valid regular expression",
        ),
        (
            "rules:\n  k8s-dangerous-capabilities: {capabilities: NET_ADMIN}\n",
            ".infralint.yaml:2: rules.k8s-dangerous-capabilities.capabilities: expected a list like the default",
        ),
        (
            "per-path-ignores:\n  123: [k8s]\n",
            ".infralint.yaml:2: per-path-ignores: key 123 must be a string (quote it)",
        ),
        ("select: [k8s\n", ".infralint.yaml:2: not valid YAML"),
        ("- k8s\n", ".infralint.yaml:1: the configuration must be a mapping of keys"),
        ("select: [k8s]\n---\nignore: [nginx]\n", ".infralint.yaml:3: one YAML document expected"),
    ],
)
def test_invalid_config_is_a_usage_error_naming_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    write(tmp_path, ".infralint.yaml", text)
    write(tmp_path, "pod.yaml", LATEST_POD)
    code, out = cli("scan", ".", cwd=tmp_path)
    assert code == 2
    assert f"Error: {expected}" in out


def test_every_problem_is_listed_in_line_order(tmp_path: Path) -> None:
    write(tmp_path, ".infralint.yaml", "fail-on: always\nselect: k8s\nseverity: {k8s-image-latest-tag: loud}\n")
    with pytest.raises(config.ConfigError) as error:
        config.load(str(tmp_path / ".infralint.yaml"))
    lines = str(error.value).splitlines()
    assert [line.split(": ", 1)[0].rsplit(":", 1)[1] for line in lines] == ["1", "2", "3"]


def test_invalid_pyproject_names_the_key_under_tool_infralint(tmp_path: Path) -> None:
    write(
        tmp_path,
        "pyproject.toml",
        '[tool.infralint]\nselect = ["k8s"]\n\n[tool.infralint.severity]\nk8s-image-latest-tag = "loud"\n',
    )
    code, out = cli("scan", ".", cwd=tmp_path)
    assert code == 2
    assert (
        "pyproject.toml:5: tool.infralint.severity.k8s-image-latest-tag: 'loud' is not one of error, warning, note"
        in out
    )


def test_broken_toml_in_a_pyproject_with_the_table_is_a_usage_error(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool.infralint]\nselect = ["k8s"\n')
    code, out = cli("scan", ".", cwd=tmp_path)
    assert code == 2 and "pyproject.toml: not valid TOML" in out


def test_empty_config_file_is_an_empty_config(tmp_path: Path) -> None:
    write(tmp_path, ".infralint.yaml", "# nothing yet\n")
    assert config.load(str(tmp_path / ".infralint.yaml")).data == {}


# --- unknown rule ids: findings at the config line, not errors --------------------------------


def test_unknown_rule_ids_in_config_are_findings_at_their_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".infralint.yaml",
        "select: [k8s-image-latest-tag, k8s-imag-latest-tag]\n"  # 1
        "ignore: [nginx-nope]\n"  # 2
        "severity:\n"  # 3
        "  k8s-image-latest-tag: note\n"  # 4
        "  k8s-bogus: error\n"  # 5
        "  k8s: note\n"  # 6: a prefix is not a rule id here
        "per-path-ignores:\n"  # 7
        '  "legacy/**": [k8s, compose-nope]\n'  # 8
        "rules:\n"  # 9
        "  k8s-unknown-thing: {x: 1}\n",  # 10
    )
    write(tmp_path, "pod.yaml", LATEST_POD)
    report = scan_with_config(tmp_path)
    unknown = sorted(
        (f.span.line, f.span.col, f.message) for f in report.findings if f.rule_id == "infralint-unknown-rule"
    )
    assert unknown == [
        (1, 32, "configuration key select[1] names unknown rule 'k8s-imag-latest-tag'"),
        (2, 10, "configuration key ignore[0] names unknown rule 'nginx-nope'"),
        (
            5,
            3,
            "configuration key severity.k8s-bogus names unknown rule 'k8s-bogus' (it takes exact rule ids, not prefixes)",
        ),
        (6, 3, "configuration key severity.k8s names unknown rule 'k8s' (it takes exact rule ids, not prefixes)"),
        (8, 22, "configuration key per-path-ignores.\"legacy/**\"[1] names unknown rule 'compose-nope'"),
        (
            10,
            3,
            "configuration key rules.k8s-unknown-thing names unknown rule 'k8s-unknown-thing' (it takes exact rule ids, not prefixes)",
        ),
    ]
    assert {f.span.path for f in report.findings if f.rule_id == "infralint-unknown-rule"} == {".infralint.yaml"}
    # The known entries still apply.
    assert found(report, "k8s") == {("pod.yaml", 8, "k8s-image-latest-tag")}
    assert [f.severity.value for f in report.findings if f.rule_id == "k8s-image-latest-tag"] == ["note"]
    code, _ = cli("scan", ".", "--fail-on", "error", cwd=tmp_path)
    assert code == 0  # warnings about the config, not a usage error


def test_unknown_select_on_the_command_line_stays_a_usage_error(tmp_path: Path) -> None:
    write(tmp_path, ".infralint.yaml", "select: [k8s-image-latest-tag]\n")
    write(tmp_path, "pod.yaml", LATEST_POD)
    code, out = cli("scan", ".", "--select", "k8s-no-such-rule", cwd=tmp_path)
    assert code == 2 and "no rule id or prefix matches 'k8s-no-such-rule'" in out
    assert cli("scan", ".", "--ignore", "k8s-no-such-rule", cwd=tmp_path)[0] == 2


def test_config_in_a_parent_folder_is_reported_with_a_relative_path(tmp_path: Path) -> None:
    write(tmp_path, ".infralint.yaml", "select: [k8s-image-latest-tag, k8s-nope]\n")
    write(tmp_path, "apps/pod.yaml", LATEST_POD)
    report = scan_with_config(tmp_path / "apps")
    assert ("../.infralint.yaml", 1, "infralint-unknown-rule") in found(report)


# --- precedence: the command line over the config ----------------------------------------------


def test_command_line_select_replaces_config_select_and_ignore(tmp_path: Path) -> None:
    write(tmp_path, ".infralint.yaml", "select: [k8s-image-latest-tag]\nignore: [k8s-missing-memory-limit]\n")
    write(tmp_path, "pod.yaml", LATEST_POD)
    _, out = cli("scan", ".", "--select", "k8s-missing-memory-limit", cwd=tmp_path)
    assert "pod.yaml:7:7: warning k8s-missing-memory-limit" in out and "k8s-image-latest-tag" not in out


def test_command_line_ignore_adds_to_config_ignore(tmp_path: Path) -> None:
    write(tmp_path, ".infralint.yaml", "select: [k8s]\nignore: [k8s-missing-memory-limit]\n")
    write(tmp_path, "pod.yaml", LATEST_POD)
    _, out = cli("scan", ".", "--ignore", "k8s-image-latest-tag", cwd=tmp_path)
    assert "k8s-run-as-root" in out
    assert "k8s-missing-memory-limit" not in out and "k8s-image-latest-tag" not in out


def test_command_line_fail_on_and_baseline_win(tmp_path: Path) -> None:
    write(tmp_path, ".infralint.yaml", "select: [k8s-image-latest-tag]\nfail-on: never\nbaseline: missing.json\n")
    write(tmp_path, "pod.yaml", LATEST_POD)
    assert cli("scan", ".", cwd=tmp_path)[0] == 2  # the config's baseline does not exist
    write(tmp_path, "empty.json", '{"version": 1, "findings": []}\n')
    assert cli("scan", ".", "--baseline", "empty.json", cwd=tmp_path)[0] == 0  # fail-on never
    assert cli("scan", ".", "--baseline", "empty.json", "--fail-on", "warning", cwd=tmp_path)[0] == 1


def test_api_rule_options_win_over_config_rules(tmp_path: Path) -> None:
    write(tmp_path, ".infralint.yaml", "select: [k8s-single-replica]\nrules: {k8s-single-replica: {min_replicas: 3}}\n")
    write(tmp_path, "web.yaml", DEPLOYMENT.format(replicas=2))
    assert found(scan_with_config(tmp_path)) == {("web.yaml", 6, "k8s-single-replica")}
    options = {"k8s-single-replica": {"min_replicas": 2}}
    assert found(scan_with_config(tmp_path, rule_options=options)) == set()


# --- severity overrides ------------------------------------------------------------------------


def test_severity_override_shows_in_findings_sarif_and_fail_on(tmp_path: Path) -> None:
    write(tmp_path, ".infralint.yaml", "select: [k8s-image-latest-tag]\nseverity: {k8s-image-latest-tag: error}\n")
    write(tmp_path, "pod.yaml", LATEST_POD)
    code, out = cli("scan", ".", "--fail-on", "error", cwd=tmp_path)
    assert code == 1 and "pod.yaml:8:7: error k8s-image-latest-tag" in out
    _, out = cli("scan", ".", "--format", "sarif", cwd=tmp_path)
    run = json.loads(out)["runs"][0]
    [rule] = [r for r in run["tool"]["driver"]["rules"] if r["id"] == "k8s-image-latest-tag"]
    assert rule["defaultConfiguration"]["level"] == "error"
    assert [r["level"] for r in run["results"]] == ["error"]


def test_severity_override_lowers_input_findings_too(tmp_path: Path) -> None:
    write(tmp_path, ".infralint.yaml", "severity: {infralint-parse-error: note}\n")
    write(tmp_path, "broken.yaml", "apiVersion: v1\nkind: Pod\nspec: [\n")
    assert cli("scan", ".", cwd=tmp_path)[0] == 0
    assert cli("scan", ".", "--fail-on", "note", cwd=tmp_path)[0] == 1


# --- per-path ignores and excludes --------------------------------------------------------------


def test_per_path_ignores_use_gitignore_globs_relative_to_the_config(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".infralint.yaml",
        "select: [k8s-image-latest-tag, k8s-missing-memory-limit]\n"
        "development-paths: []\n"  # dev.yaml would be a development file
        "per-path-ignores:\n"
        '  "legacy/": [k8s-image-latest-tag]\n'  # a folder, at any depth
        '  "/apps/*/dev.yaml": [k8s-missing]\n'  # anchored, a prefix of rule ids
        '  "*.tmpl.yaml": [k8s]\n',
    )
    write(tmp_path, "legacy/pod.yaml", named_for(LATEST_POD, "legacy/pod.yaml"))
    write(tmp_path, "apps/web/dev.yaml", named_for(LATEST_POD, "apps/web/dev.yaml"))
    write(tmp_path, "apps/web/prod.yaml", named_for(LATEST_POD, "apps/web/prod.yaml"))
    write(tmp_path, "apps/web/pod.tmpl.yaml", named_for(LATEST_POD, "apps/web/pod.tmpl.yaml"))
    write(tmp_path, "nested/apps/web/dev.yaml", named_for(LATEST_POD, "nested/apps/web/dev.yaml"))
    report = scan_with_config(tmp_path / "apps")  # the scan root differs from the config's folder
    assert found(report) == {
        ("web/dev.yaml", 8, "k8s-image-latest-tag"),
        ("web/prod.yaml", 7, "k8s-missing-memory-limit"),
        ("web/prod.yaml", 8, "k8s-image-latest-tag"),
    }
    report = scan_with_config(tmp_path, "legacy", "nested")
    assert found(report) == {
        ("legacy/pod.yaml", 7, "k8s-missing-memory-limit"),
        ("nested/apps/web/dev.yaml", 7, "k8s-missing-memory-limit"),
        ("nested/apps/web/dev.yaml", 8, "k8s-image-latest-tag"),
    }


def test_exclude_keeps_folders_and_files_out_of_the_walk(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".infralint.yaml",
        "select: [k8s-image-latest-tag]\nexclude: [vendor/, '*.generated.yaml', '!keep.generated.yaml']\n",
    )
    write(tmp_path, "vendor/chart/pod.yaml", named_for(LATEST_POD, "vendor/chart/pod.yaml"))
    write(tmp_path, "apps/pod.generated.yaml", named_for(LATEST_POD, "apps/pod.generated.yaml"))
    write(tmp_path, "apps/keep.generated.yaml", named_for(LATEST_POD, "apps/keep.generated.yaml"))
    write(tmp_path, "apps/pod.yaml", named_for(LATEST_POD, "apps/pod.yaml"))
    report = scan_with_config(tmp_path)
    assert found(report) == {
        ("apps/keep.generated.yaml", 8, "k8s-image-latest-tag"),
        ("apps/pod.yaml", 8, "k8s-image-latest-tag"),
    }
    assert report.files_by_kind["k8s"] == 2
    # A file named on the command line is still scanned.
    report = scan_with_config(tmp_path, "vendor/chart/pod.yaml")
    assert found(report) == {("vendor/chart/pod.yaml", 8, "k8s-image-latest-tag")}


# --- rule options and target versions ------------------------------------------------------------

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
        - name: app
          image: nginx:1.27
          env:
            - name: SHOP_PIN
              value: "1234"
"""


def test_min_replicas_option_raises_the_floor(tmp_path: Path) -> None:
    write(tmp_path, "two.yaml", DEPLOYMENT.format(replicas=2))
    write(tmp_path, "three.yaml", DEPLOYMENT.format(replicas=3))
    write(tmp_path, ".infralint.yaml", "select: [k8s-single-replica]\n")
    assert found(scan_with_config(tmp_path)) == set()
    write(
        tmp_path,
        ".infralint.yaml",
        "select: [k8s-single-replica]\nrules:\n  k8s-single-replica:\n    min_replicas: 3\n",
    )
    report = scan_with_config(tmp_path)
    assert found(report) == {("two.yaml", 6, "k8s-single-replica")}
    assert (
        report.findings[0].message
        == "Deployment/web has replicas: 2, fewer than the 3 set by the rule option min_replicas"
    )


def test_secret_name_pattern_option(tmp_path: Path) -> None:
    write(tmp_path, "web.yaml", DEPLOYMENT.format(replicas=2))
    write(tmp_path, ".infralint.yaml", "select: [k8s-secret-in-env]\n")
    assert found(scan_with_config(tmp_path)) == set()
    write(
        tmp_path,
        ".infralint.yaml",
        "select: [k8s-secret-in-env]\nrules: {k8s-secret-in-env: {secret_name_pattern: 'PIN$'}}\n",
    )
    assert found(scan_with_config(tmp_path)) == {("web.yaml", 16, "k8s-secret-in-env")}


DEPRECATED = """apiVersion: batch/v1beta1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: "0 1 * * *"
---
apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: web
---
apiVersion: flowcontrol.apiserver.k8s.io/v1beta3
kind: FlowSchema
metadata:
  name: fs
"""


@pytest.mark.parametrize(
    ("version", "lines"),
    [
        (None, {1, 8, 13}),  # every removed API
        ("1.21", set()),
        ("1.22", {8}),
        ("1.24", {8}),
        ("1.25", {1, 8}),
        ("1.29", {1, 8}),
        ("1.32", {1, 8, 13}),
    ],
)
def test_kubernetes_target_version_limits_deprecated_apis(tmp_path: Path, version: str | None, lines: set[int]) -> None:
    target = f'target-versions: {{kubernetes: "{version}"}}\n' if version else ""
    write(tmp_path, ".infralint.yaml", "select: [k8s-deprecated-api]\n" + target)
    write(tmp_path, "old.yaml", DEPRECATED)
    assert found(scan_with_config(tmp_path)) == {("old.yaml", line, "k8s-deprecated-api") for line in lines}


REDIS = """bind 127.0.0.1
requirepass "a-long-random-secret"
maxmemory 1gb
locale-collate ""
set-max-listpack-entries 128
hide-user-data-from-log no
lazyfree-lazy-user-flush yes
"""


@pytest.mark.parametrize(
    ("version", "lines"),
    [(None, set()), ("7.4", set()), ("7.2", {6}), ("7.0", {4, 5, 6}), ("6.2", {4, 5, 6})],
)
def test_redis_target_version_reports_directives_added_later(
    tmp_path: Path, version: str | None, lines: set[int]
) -> None:
    target = f'target-versions: {{redis: "{version}"}}\n' if version else ""
    write(tmp_path, ".infralint.yaml", "select: [redis-unknown-directive]\n" + target)
    write(tmp_path, "redis.conf", REDIS)
    report = scan_with_config(tmp_path)
    assert found(report) == {("redis.conf", line, "redis-unknown-directive") for line in lines}
    if version == "7.0":
        [message] = [f.message for f in report.findings if f.span.line == 4]
        assert message.endswith(
            "directive 'locale-collate' needs Redis 7.2 or later: redis-server 7.0 (the target version) refuses to start"
        )


HAPROXY = """global
    maxconn 1000

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend web
    bind 127.0.0.1:8443 ssl crt /etc/haproxy/site.pem
    default_backend app

backend app
    server app1 10.0.0.11:8080 check
"""


@pytest.mark.parametrize(("version", "flagged"), [(None, False), ("2.1", True), ("2.2", False), ("2.6", False)])
def test_haproxy_target_version_switches_the_tls_default(tmp_path: Path, version: str | None, flagged: bool) -> None:
    target = f'target-versions: {{haproxy: "{version}"}}\n' if version else ""
    write(tmp_path, ".infralint.yaml", "select: [haproxy-weak-tls]\n" + target)
    write(tmp_path, "haproxy.cfg", HAPROXY)
    expected = {("haproxy.cfg", 11, "haproxy-weak-tls")} if flagged else set()
    assert found(scan_with_config(tmp_path)) == expected


def test_rule_options_win_over_target_versions(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".infralint.yaml",
        "select: [k8s-deprecated-api]\n"
        'target-versions: {kubernetes: "1.21"}\n'
        'rules: {k8s-deprecated-api: {kubernetes_version: "1.22"}}\n',
    )
    write(tmp_path, "old.yaml", DEPRECATED)
    assert found(scan_with_config(tmp_path)) == {("old.yaml", 8, "k8s-deprecated-api")}


def test_target_versions_set_the_version_option_of_every_rule_that_has_one(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".infralint.yaml",
        'target-versions: {kubernetes: "1.29", nginx: "1.22", haproxy: "2.6", redis: "7.0"}\n',
    )
    loaded = config.load(str(tmp_path / ".infralint.yaml"))
    from infralint import catalog

    settings = config.settings(ScanOptions(config=loaded), catalog.all_metas())
    assert settings.rule_options["k8s-deprecated-api"] == {"kubernetes_version": "1.29"}
    assert settings.rule_options["haproxy-weak-tls"] == {"haproxy_version": "2.6"}
    assert settings.rule_options["redis-unknown-directive"] == {"redis_version": "7.0"}
    assert not any("nginx_version" in values for values in settings.rule_options.values())
