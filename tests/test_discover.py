"""Discovery: sorted walk, .gitignore, default excludes, classification, CRLF and multi-document files."""

from __future__ import annotations

from pathlib import Path

import pytest
from scanning import POD, found, scan_tree, write

from infralint import discover


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
