"""Discovery: sorted walk, .gitignore, default excludes, classification, CRLF and multi-document files."""

from __future__ import annotations

from pathlib import Path

import pytest
from scanning import POD, found, named_for, run_cli, scan_tree, write

from infralint import discover
from infralint.api import ScanOptions, scan


def _walked(root: Path) -> list[str]:
    return [Path(p).relative_to(root).as_posix() for p in discover.walk([str(root)], str(root))]


def test_walk_is_sorted_and_skips_excluded_folders(tmp_path: Path) -> None:
    for name in (
        "b/pod.yaml",
        "a/pod.yaml",
        "node_modules/x.yaml",
        ".git/config.yaml",
        "env/pyvenv.cfg",
        "env/lib/x.yaml",
        "c/readme.md",
    ):
        write(tmp_path, name, POD)
    assert _walked(tmp_path) == ["a/pod.yaml", "b/pod.yaml"]


def test_gitignore_is_honoured_at_every_level(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "generated/\n*.rendered.yaml\n")
    write(tmp_path, "sub/.gitignore", "local.yaml\n!keep.rendered.yaml\n")
    for name in (
        "generated/pod.yaml",
        "x.rendered.yaml",
        "sub/local.yaml",
        "sub/keep.rendered.yaml",
        "sub/pod.yaml",
        "local.yaml",
    ):
        write(tmp_path, name, POD)
    assert _walked(tmp_path) == ["local.yaml", "sub/keep.rendered.yaml", "sub/pod.yaml"]


def test_explicit_files_are_scanned_even_if_ignored(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "*.yaml\n")
    write(tmp_path, "pod.yaml", POD.replace("nginx:1.27", "nginx"))
    report = scan_tree(tmp_path, "pod.yaml", select=["k8s-image-latest-tag"])
    assert found(report) == {("pod.yaml", 8, "k8s-image-latest-tag")}


@pytest.mark.parametrize(
    ("name", "text", "kind"),
    [
        ("deploy.yaml", POD, "k8s"),
        ("app.yml", "services:\n  web:\n    image: nginx\n", "compose"),
        ("docker-compose.prod.yml", "x: 1\n", "compose"),
        ("compose.override.yaml", "services: {}\n", "compose"),
        ("workflow.yaml", "on: push\njobs: {}\n", None),
        ("site.conf", "server {\n  listen 80;\n}\n", "nginx"),
        ("lb.cfg", "global\n  maxconn 100\nfrontend web\n  bind :80\n", "haproxy"),
        ("cache.conf", "maxmemory 1gb\nappendonly no\n", "redis"),
        ("haproxy.cfg", "anything\n", "haproxy"),
        ("tox.cfg", "[tox]\nenvlist = py3\n", None),
    ],
)
def test_classification_by_name_then_content(tmp_path: Path, name: str, text: str, kind: str | None) -> None:
    path = write(tmp_path, name, text)
    source = discover.read(str(path), str(tmp_path), discover.DEFAULT_MAX_BYTES)
    assert (source.kind if source is not None else None) == kind  # type: ignore[union-attr]


def test_crlf_file_keeps_exact_lines(tmp_path: Path) -> None:
    write(tmp_path, "pod.yaml", POD.replace("nginx:1.27", "nginx").replace("\n", "\r\n").encode())
    report = scan_tree(tmp_path, select=["k8s-image-latest-tag"])
    assert found(report) == {("pod.yaml", 8, "k8s-image-latest-tag")}


def test_multi_document_and_list_kinds(tmp_path: Path) -> None:
    untagged = POD.replace("nginx:1.27", "nginx")
    listed = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "  - apiVersion: v1\n    kind: Pod\n    metadata: {name: a}\n    spec:\n      containers:\n"
        "        - name: app\n          image: redis\n"
    )
    write(tmp_path, "all.yaml", untagged + "---\n" + "---\n" + listed)
    report = scan_tree(tmp_path, select=["k8s-image-latest-tag"])
    assert found(report) == {("all.yaml", 8, "k8s-image-latest-tag"), ("all.yaml", 20, "k8s-image-latest-tag")}


def test_scan_root_is_the_working_directory_when_it_holds_the_paths(tmp_path: Path) -> None:
    write(tmp_path, "deep/er/pod.yaml", POD.replace("nginx:1.27", "nginx"))
    report = scan_tree(tmp_path, "deep/er", select=["k8s-image-latest-tag"])
    assert found(report) == {("deep/er/pod.yaml", 8, "k8s-image-latest-tag")}


# --- vendored and test folders are skipped by default -----------------------------------------

LATEST = POD.replace("nginx:1.27", "nginx")
SKIPPED_BY_DEFAULT = (
    "vendor/k8s/pod.yaml",
    "data/web/inc/lib/vendor/directorytree/ldaprecord/pod.yaml",  # a PHP dependency's own test stack
    "third_party/pod.yaml",
    "third-party/pod.yaml",
    "web/bower_components/pod.yaml",
    ".bundle/pod.yaml",
    "lib/site-packages/pod.yaml",
    "test/benchmark/security/pod.yaml",
    "tests/pod.yaml",
    "pkg/testdata/pod.yaml",
    "ui/__tests__/pod.yaml",
    "e2e/pod.yaml",
    "_integration-test/nginx/pod.yaml",
    "integration-test/pod.yaml",
    "integration-tests/pod.yaml",
    "fixtures/pod.yaml",
)
SCANNED_ANYWAY = ("deploy/pod.yaml", "manifests/fake-teams-api.yaml", "testing/pod.yaml", "vendors/pod.yaml")


def _paths(report) -> set[str]:  # type: ignore[no-untyped-def]
    return {path for path, _line, _rule in found(report)}


def _tree(root: Path) -> None:
    for name in SKIPPED_BY_DEFAULT + SCANNED_ANYWAY:
        write(root, name, named_for(LATEST, name))


def test_vendored_and_test_folders_are_skipped_by_default(tmp_path: Path) -> None:
    _tree(tmp_path)
    # Walking is tested here: findings in development files (fake-*, *-test/) are reported too.
    report = scan_tree(tmp_path, select=["k8s-image-latest-tag"], development_paths=False)
    assert _paths(report) == set(SCANNED_ANYWAY)  # file names (fake-*) do not make a test
    assert report.files_by_kind["k8s"] == len(SCANNED_ANYWAY)


def test_default_excludes_can_be_turned_off(tmp_path: Path) -> None:
    _tree(tmp_path)
    everything = set(SKIPPED_BY_DEFAULT + SCANNED_ANYWAY)
    report = scan_tree(tmp_path, select=["k8s-image-latest-tag"], default_excludes=False, development_paths=False)
    assert _paths(report) == everything
    write(tmp_path, ".infralint.yaml", "default-excludes: false\n")
    args = ("scan", "--no-color", "--no-development-paths")
    code, output = run_cli(*args, "--select", "k8s-image-latest-tag", ".", cwd=tmp_path)
    assert code == 1 and all(f"{path}:8:" in output for path in everything)
    write(tmp_path, ".infralint.yaml", "default-excludes: true\n")
    code, output = run_cli(*args, "--no-default-excludes", ".", cwd=tmp_path)
    assert all(f"{path}:8:" in output for path in everything)


def test_a_bang_pattern_in_exclude_walks_one_skipped_folder_again(tmp_path: Path) -> None:
    _tree(tmp_path)
    write(tmp_path, ".infralint.yaml", "exclude: ['!tests/', 'deploy/']\n")
    _code, output = run_cli("scan", "--no-color", "--select", "k8s-image-latest-tag", ".", cwd=tmp_path)
    assert "tests/pod.yaml:8:" in output and "deploy/pod.yaml" not in output and "fixtures/pod.yaml" not in output


def test_folders_and_files_named_on_the_command_line_are_scanned_whatever_their_name(tmp_path: Path) -> None:
    _tree(tmp_path)
    write(tmp_path, "tests/fixtures/pod.yaml", LATEST)
    report = scan_tree(tmp_path, "tests", "vendor/k8s/pod.yaml", "e2e/", select=["k8s-image-latest-tag"])
    # A test folder inside a named one is still a test folder.
    assert _paths(report) == {"tests/pod.yaml", "vendor/k8s/pod.yaml", "e2e/pod.yaml"}


def test_a_scan_inside_a_folder_named_like_a_test_folder_is_not_cut(tmp_path: Path) -> None:
    root = tmp_path / "tests"
    write(root, "deploy/pod.yaml", LATEST)
    assert _paths(scan_tree(root, select=["k8s-image-latest-tag"])) == {"deploy/pod.yaml"}
    report = scan([str(root)], ScanOptions(select=["k8s-image-latest-tag"]))  # an absolute path, from elsewhere
    assert [f.span.line for f in report.findings] == [8]


def test_pre_commit_leaves_changed_files_in_skipped_folders_alone(tmp_path: Path) -> None:
    _tree(tmp_path)
    (tmp_path / ".git").mkdir()
    args = ("scan", "--no-color", "--with-context", "--select", "k8s-image-latest-tag")
    _code, output = run_cli(*args, "tests/pod.yaml", "deploy/pod.yaml", cwd=tmp_path)
    assert "deploy/pod.yaml:8:" in output and "tests/pod.yaml" not in output
    _code, output = run_cli(*args, "--no-default-excludes", "tests/pod.yaml", cwd=tmp_path)
    assert "tests/pod.yaml:8:" in output


def test_a_charts_helm_test_templates_are_part_of_the_chart(tmp_path: Path) -> None:
    write(tmp_path, "chart/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n")
    write(tmp_path, "chart/templates/tests/test-connection.yaml", LATEST)
    write(tmp_path, "chart/tests/deployment_test.yaml", "suite: x\ntests: []\n")
    write(tmp_path, "other/templates/tests/pod.yaml", LATEST)  # no chart: a test folder
    walked = [
        Path(p).relative_to(tmp_path).as_posix()
        for p in discover.walk([str(tmp_path)], str(tmp_path), discover.Excludes(str(tmp_path)))
    ]
    assert walked == ["chart/Chart.yaml", "chart/templates/tests/test-connection.yaml"]
