"""The graph's own bound: linking selectors costs at most k8s_links.selector_budget(), so a file
of thousands of Services selecting the same thousands of pods is reported, not built."""

from __future__ import annotations

import time
from pathlib import Path

from scanning import found, scan_tree, write
from test_robustness_tree import dense_references, dense_selectors

from infralint.graph import k8s_links

SELECTOR_RULES = {
    "k8s-service-selects-nothing",
    "k8s-pdb-selects-nothing",
    "k8s-networkpolicy-selects-nothing",
    "k8s-no-pod-disruption-budget",
}


def _line_of(text: str, needle: str) -> int:
    """The first line of the YAML document that holds NEEDLE."""
    before = text[: text.index(needle)]
    start = before.rfind("---\n")
    return 1 if start < 0 else before[: start + 4].count("\n") + 1


def test_dense_selectors_are_reported_at_the_selector_where_the_budget_ran_out(tmp_path: Path) -> None:
    text = dense_selectors(2_000)
    write(tmp_path, "all.yaml", text)
    started = time.monotonic()
    report = scan_tree(tmp_path)
    assert time.monotonic() - started < 30  # unbounded, this file takes minutes and gigabytes
    [warning] = [f for f in report.findings if f.rule_id == "infralint-graph-too-large"]
    # Each Service looks at 2,000 Deployments and selects them all: 4,000 a Service, so the
    # million runs out at the 251st Service (s250).
    assert warning.span.path == "all.yaml" and warning.span.line == _line_of(text, "name: s250\n")
    assert "Service/s250" in warning.message and "1,000,000" in warning.message
    # The rules that judge from selectors stay silent rather than judge from part of them.
    assert not SELECTOR_RULES & {rule for _, _, rule in found(report)}


def test_below_the_budget_selectors_are_linked_and_judged(tmp_path: Path) -> None:
    text = dense_selectors(200)  # 200 x 200 pairs: far below the budget
    write(tmp_path, "all.yaml", text)
    write(
        tmp_path,
        "lonely.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: lonely\nspec:\n  selector:\n    app: nobody\n",
    )
    report = scan_tree(tmp_path)
    assert not [f for f in report.findings if f.rule_id == "infralint-graph-too-large"]
    assert ("lonely.yaml", 6, "k8s-service-selects-nothing") in found(report)
    assert ("all.yaml", _line_of(text, "name: d0\n"), "k8s-no-pod-disruption-budget") in found(report)


def test_the_budget_grows_with_the_scan() -> None:
    class Counted:
        def __init__(self, objects: int) -> None:
            self.objects = objects

        def of_kind(self, kind: str):  # type: ignore[no-untyped-def]
            return iter(range(self.objects)) if kind == "k8s/object" else iter(())

    assert k8s_links.selector_budget(Counted(10)) == k8s_links.MIN_SELECTOR_WORK  # type: ignore[arg-type]
    big = 50_000
    assert k8s_links.selector_budget(Counted(big)) == big * k8s_links.SELECTOR_WORK_PER_OBJECT  # type: ignore[arg-type]


def test_a_name_thousands_of_objects_share_is_followed_to_a_few(tmp_path: Path) -> None:
    """Names mean one object per namespace: a reference links to at most MAX_NAME_MATCHES of
    the equally near objects of its name (unbounded: 3,000 x 3,000 edges, seconds and a GiB)."""
    text = dense_references(3_000)
    write(tmp_path, "all.yaml", text)
    write(tmp_path, "other/app.yaml", text.split("---\n")[1].replace("name: cfg", "name: nowhere"))
    report = scan_tree(tmp_path)
    graph = report.graph
    workloads = list(graph.of_kind("k8s/Deployment"))
    references = [target for w in workloads for target in graph.outgoing(w, "references")]
    assert len(workloads) == 3_001
    assert 3_000 <= len(references) <= 3_000 * k8s_links.MAX_NAME_MATCHES
    # The check still knows a defined name from a missing one.
    missing = {(path, line) for path, line, rule in found(report) if rule == "k8s-missing-configmap-or-secret"}
    assert missing == {("other/app.yaml", 19)}  # the `name: nowhere` of its configMapRef
