"""Suppression: end-of-line, own-line (next line or whole object), whole file, annotation."""

from __future__ import annotations

from pathlib import Path

from scanning import found, scan_tree, write

TWO_CONTAINERS = """apiVersion: v1
kind: Pod
metadata:
  name: web
{annotations}spec:
  containers:
    - name: a
      image: nginx{a_comment}
{own_line}    - name: b
      image: redis
"""


def _scan(tmp_path: Path, **parts: str) -> set[tuple[str, int | None, str]]:
    values = {"annotations": "", "a_comment": "", "own_line": ""} | parts
    write(tmp_path, "pod.yaml", TWO_CONTAINERS.format(**values))
    return found(scan_tree(tmp_path, select=["k8s-image-latest-tag", "k8s-missing-memory-limit"]))


def test_unsuppressed_baseline(tmp_path: Path) -> None:
    assert _scan(tmp_path) == {
        ("pod.yaml", 7, "k8s-missing-memory-limit"),
        ("pod.yaml", 8, "k8s-image-latest-tag"),
        ("pod.yaml", 9, "k8s-missing-memory-limit"),
        ("pod.yaml", 10, "k8s-image-latest-tag"),
    }


def test_end_of_line_covers_only_its_line_and_rules(tmp_path: Path) -> None:
    result = _scan(tmp_path, a_comment="  # infralint: ignore[k8s-image-latest-tag] pinned by the registry")
    assert ("pod.yaml", 8, "k8s-image-latest-tag") not in result
    assert ("pod.yaml", 7, "k8s-missing-memory-limit") in result
    assert ("pod.yaml", 10, "k8s-image-latest-tag") in result


def test_own_line_covers_the_object_that_starts_next(tmp_path: Path) -> None:
    result = _scan(
        tmp_path, own_line="    # infralint: ignore[k8s-image-latest-tag, k8s-missing-memory-limit] vendor image\n"
    )
    assert result == {("pod.yaml", 7, "k8s-missing-memory-limit"), ("pod.yaml", 8, "k8s-image-latest-tag")}


def test_ignore_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        "pod.yaml",
        "# infralint: ignore-file[k8s-image-latest-tag]\n"
        + TWO_CONTAINERS.format(annotations="", a_comment="", own_line=""),
    )
    result = found(scan_tree(tmp_path, select=["k8s-image-latest-tag", "k8s-missing-memory-limit"]))
    assert {rule for _, _, rule in result} == {"k8s-missing-memory-limit"}


def test_annotation_covers_the_object_and_its_containers(tmp_path: Path) -> None:
    annotations = '  annotations:\n    infralint.dev/ignore: "k8s-image-latest-tag"\n'
    result = _scan(tmp_path, annotations=annotations)
    assert {rule for _, _, rule in result} == {"k8s-missing-memory-limit"}


def test_comment_before_the_document_covers_all_of_it(tmp_path: Path) -> None:
    write(
        tmp_path,
        "pod.yaml",
        "---\n# infralint: ignore[k8s-image-latest-tag]\n"
        + TWO_CONTAINERS.format(annotations="", a_comment="", own_line=""),
    )
    result = found(scan_tree(tmp_path, select=["k8s-image-latest-tag", "k8s-missing-memory-limit"]))
    assert {rule for _, _, rule in result} == {"k8s-missing-memory-limit"}


def test_unknown_rule_in_comment_and_annotation(tmp_path: Path) -> None:
    annotations = '  annotations:\n    infralint.dev/ignore: "k8s-no-such-rule"\n'
    result = _scan(tmp_path, annotations=annotations, a_comment="  # infralint: ignore[k8s-image-latest-tg]")
    assert ("pod.yaml", 10, "infralint-unknown-rule") in result  # the comment on the image line
    assert ("pod.yaml", 6, "infralint-unknown-rule") in result  # the annotation key
