"""--report-unused-ignores: comments, annotations and per-path ignores that hid nothing become
`infralint-unused-ignore` notes where they are written; used ones and rules that did not run are quiet."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner
from scanning import POD, found, scan_tree, write

from infralint import config
from infralint.api import ScanOptions, scan
from infralint.cli import main
from infralint.report import Report

RULES = ["k8s-image-latest-tag", "k8s-missing-memory-limit"]
# Line 7: `- name: app` (where k8s-missing-memory-limit points), line 8: `image: ...` (k8s-image-latest-tag).
PINNED = POD.replace("image: nginx:1.27", "image: nginx:1.27\n      resources: {limits: {memory: 64Mi}}")


def unused(report: Report) -> set[tuple[str, int | None, str]]:
    return {(f.span.path, f.span.line, f.message) for f in report.findings if f.rule_id == "infralint-unused-ignore"}


def test_an_end_of_line_comment_that_hides_nothing_is_reported_at_its_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "pod.yaml",
        PINNED.replace("nginx:1.27", "nginx:1.27  # infralint: ignore[k8s-image-latest-tag] pinned"),
    )
    report = scan_tree(tmp_path, select=RULES, report_unused_ignores=True)
    assert found(report) == {("pod.yaml", 8, "infralint-unused-ignore")}
    [finding] = report.findings
    assert finding.message == "suppression of k8s-image-latest-tag matched no finding"
    assert finding.severity.value == "note"


def test_nothing_is_reported_without_the_flag(tmp_path: Path) -> None:
    write(tmp_path, "pod.yaml", PINNED.replace("nginx:1.27", "nginx:1.27  # infralint: ignore[k8s-image-latest-tag]"))
    assert found(scan_tree(tmp_path, select=RULES)) == set()


def test_a_comment_that_hides_a_finding_is_used(tmp_path: Path) -> None:
    write(tmp_path, "pod.yaml", POD.replace("nginx:1.27", "nginx:latest  # infralint: ignore[k8s-image-latest-tag]"))
    report = scan_tree(tmp_path, select=RULES, report_unused_ignores=True)
    assert found(report) == {("pod.yaml", 7, "k8s-missing-memory-limit")}


def test_only_the_unused_ids_of_a_list_are_reported(tmp_path: Path) -> None:
    comment = "  # infralint: ignore[k8s-image-latest-tag, k8s-missing-memory-limit]"
    write(tmp_path, "pod.yaml", PINNED.replace("nginx:1.27", "nginx:latest" + comment))
    report = scan_tree(tmp_path, select=RULES, report_unused_ignores=True)
    # The memory limit is set (and its finding would be on line 7 anyway): only that id is unused.
    assert unused(report) == {("pod.yaml", 8, "suppression of k8s-missing-memory-limit matched no finding")}


def test_own_line_comment_covering_an_object_is_used(tmp_path: Path) -> None:
    text = POD.replace(
        "    - name: app\n",
        "    # infralint: ignore[k8s-missing-memory-limit, k8s-image-latest-tag] vendor\n    - name: app\n",
    )
    write(tmp_path, "pod.yaml", text.replace("nginx:1.27", "nginx:latest"))
    report = scan_tree(tmp_path, select=RULES, report_unused_ignores=True)
    assert found(report) == set()


def test_whole_file_and_every_rule_suppressions(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "# infralint: ignore-file[k8s-image-latest-tag] generated\n" + PINNED)
    write(tmp_path, "b.yaml", PINNED.replace("  name: web\n", "  name: web  # infralint: ignore[]\n"))
    write(
        tmp_path,
        "c.yaml",
        "# infralint: ignore-file[k8s-image-latest-tag]\n" + POD.replace("nginx:1.27", "nginx:latest"),
    )
    report = scan_tree(tmp_path, select=RULES, report_unused_ignores=True)
    assert unused(report) == {
        ("a.yaml", 1, "suppression of k8s-image-latest-tag matched no finding"),
        ("b.yaml", 4, "suppression of every rule matched no finding"),
    }
    assert ("c.yaml", 8, "k8s-missing-memory-limit") in found(report)


def test_suppressions_of_rules_that_did_not_run_are_not_judged(tmp_path: Path) -> None:
    write(tmp_path, "pod.yaml", PINNED.replace("nginx:1.27", "nginx:1.27  # infralint: ignore[k8s-image-latest-tag]"))
    report = scan_tree(tmp_path, select=["k8s-missing-memory-limit"], report_unused_ignores=True)
    assert found(report) == set()
    report = scan_tree(tmp_path, select=RULES, ignore=["infralint-unused-ignore"], report_unused_ignores=True)
    assert found(report) == set()


def test_unknown_ids_are_unknown_not_unused(tmp_path: Path) -> None:
    write(tmp_path, "pod.yaml", PINNED.replace("nginx:1.27", "nginx:1.27  # infralint: ignore[k8s-imag-latest-tag]"))
    report = scan_tree(tmp_path, select=RULES, report_unused_ignores=True)
    assert found(report) == {("pod.yaml", 8, "infralint-unknown-rule")}


ANNOTATED = """apiVersion: v1
kind: Pod
metadata:
  name: web
  annotations:
    infralint.dev/ignore: "k8s-image-latest-tag,k8s-missing-memory-limit"
spec:
  containers:
    - name: app
      image: nginx:latest
"""


def test_annotation_ids_that_hid_nothing_are_reported_at_the_annotation(tmp_path: Path) -> None:
    write(
        tmp_path,
        "pod.yaml",
        ANNOTATED.replace("nginx:latest", "nginx:latest\n      resources: {limits: {memory: 64Mi}}"),
    )
    report = scan_tree(tmp_path, select=RULES, report_unused_ignores=True)
    assert unused(report) == {
        ("pod.yaml", 6, "annotation infralint.dev/ignore of Pod/web: k8s-missing-memory-limit matched no finding")
    }
    write(tmp_path, "pod.yaml", ANNOTATED)
    assert found(scan_tree(tmp_path, select=RULES, report_unused_ignores=True)) == set()


def test_annotation_of_a_configmap_used_by_its_embedded_config(tmp_path: Path) -> None:
    configmap = """apiVersion: v1
kind: ConfigMap
metadata:
  name: proxy
  annotations:
    infralint.dev/ignore: "nginx-server-tokens,nginx-autoindex"
data:
  nginx.conf: |
    events {}
    http {
      server { listen 80; location / { return 200; } }
    }
"""
    write(tmp_path, "proxy.yaml", configmap)
    report = scan_tree(tmp_path, select=["nginx-server-tokens", "nginx-autoindex"], report_unused_ignores=True)
    # The embedded nginx config's server_tokens finding was hidden by the ConfigMap's annotation.
    assert found(report) == {("proxy.yaml", 6, "infralint-unused-ignore")}
    assert unused(report) == {
        ("proxy.yaml", 6, "annotation infralint.dev/ignore of ConfigMap/proxy: nginx-autoindex matched no finding")
    }
    assert found(scan_tree(tmp_path, select=["nginx-server-tokens"])) == set()
    write(
        tmp_path,
        "proxy.yaml",
        configmap.replace('    infralint.dev/ignore: "nginx-server-tokens,nginx-autoindex"\n', "").replace(
            "  annotations:\n", ""
        ),
    )
    assert ("proxy.yaml", 8, "nginx-server-tokens") in found(scan_tree(tmp_path, select=["nginx-server-tokens"]))


def _scan_with_config(root: Path, **options: object) -> Report:
    previous = os.getcwd()
    os.chdir(root)
    try:
        loaded = config.discover_and_load(["."], None, False)
        return scan(["."], ScanOptions(config=loaded, **options))  # type: ignore[arg-type]
    finally:
        os.chdir(previous)


def test_per_path_ignores_that_hid_nothing_are_reported_at_the_config_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".infralint.yaml",
        "select: [k8s-image-latest-tag, k8s-missing-memory-limit]\n"
        "per-path-ignores:\n"
        '  "legacy/**": [k8s-image-latest-tag, k8s-missing]\n'
        '  "nowhere/*.yaml": [k8s-image-latest-tag]\n'
        '  "**/*.yaml": [nginx]\n',  # no nginx rule runs: not judged
    )
    write(tmp_path, "legacy/pod.yaml", PINNED.replace("nginx:1.27", "nginx:latest"))
    report = _scan_with_config(tmp_path, report_unused_ignores=True)
    assert unused(report) == {
        (".infralint.yaml", 3, "per-path ignore of 'k8s-missing' for 'legacy/**' matched no finding"),
        (".infralint.yaml", 4, "per-path ignore of 'k8s-image-latest-tag' for 'nowhere/*.yaml' matched no finding"),
    }
    [first] = [f for f in report.findings if f.span.line == 3]
    assert first.span.col == 39  # the selector inside the list
    assert found(report, "k8s") == set()


def test_command_line_flag(tmp_path: Path) -> None:
    write(tmp_path, "pod.yaml", PINNED.replace("nginx:1.27", "nginx:1.27  # infralint: ignore[k8s-image-latest-tag]"))
    previous = os.getcwd()
    os.chdir(tmp_path)
    try:
        runner = CliRunner()
        args = ["scan", ".", "--select", ",".join(RULES)]
        plain = runner.invoke(main, args, catch_exceptions=False)
        flagged = runner.invoke(main, [*args, "--report-unused-ignores"], catch_exceptions=False)
    finally:
        os.chdir(previous)
    assert plain.exit_code == 0 and "infralint-unused-ignore" not in plain.output
    assert flagged.exit_code == 0  # a note does not fail the default --fail-on warning
    assert (
        "pod.yaml:8: note infralint-unused-ignore suppression of k8s-image-latest-tag matched no finding"
        in flagged.output
    )
