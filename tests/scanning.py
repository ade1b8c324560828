"""Helpers for tests that scan a temporary tree."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from infralint.api import ScanOptions, scan
from infralint.report import Report


def scan_tree(root: Path, *paths: str, **options: object) -> Report:
    """Scan PATHS (default: all of ROOT) with ROOT as the working directory."""
    previous = os.getcwd()
    os.chdir(root)
    try:
        return scan(list(paths) or ["."], ScanOptions(**options))  # type: ignore[arg-type]
    finally:
        os.chdir(previous)


def found(report: Report, rule_prefix: str = "") -> set[tuple[str, int | None, str]]:
    return {(f.span.path, f.span.line, f.rule_id) for f in report.findings if f.rule_id.startswith(rule_prefix)}


def edges_across_renders(report: Report) -> list[object]:
    """Edges between nodes of two different renders (releases, kustomize roots) or of a render
    and a plain file: a scan must have none of these between Kubernetes objects."""
    assert report.graph is not None
    graph = report.graph
    return [
        edge
        for edge in graph.edges
        if len({graph.nodes[end].facts.get("render_scope") for end in (edge.source, edge.target)}) > 1
        and all(graph.nodes[end].kind.startswith("k8s/") for end in (edge.source, edge.target))
    ]


def write(root: Path, name: str, text: str | bytes) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


POD = """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      image: nginx:1.27
"""


def deployment(image: str, extra: str = "") -> str:
    """A two-replica Deployment `api` with one container `api` (its `image:` on line 15); EXTRA is
    indented under the container."""
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 2\n"
        "  selector:\n    matchLabels: {app: api}\n  template:\n    metadata:\n      labels: {app: api}\n"
        f"    spec:\n      containers:\n        - name: api\n          image: {image}\n{extra}"
    )


def named_for(text: str, path: str) -> str:
    """TEXT with its object named after PATH: files that must each be judged are not copies of one
    object (identical copies fold into one finding, see infralint.folding)."""
    name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") + "-" + hashlib.sha1(path.encode()).hexdigest()[:6]
    return text.replace("name: web\n", f"name: {name}\n", 1)


def run_cli(*args: str, cwd: Path) -> tuple[int, str]:
    """Run the command line in-process from CWD: (exit code, output)."""
    from click.testing import CliRunner

    from infralint.cli import main

    previous = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(previous)
    return result.exit_code, result.output
