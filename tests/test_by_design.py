"""Host access that a listed component needs by design: a note naming it and the mitigation,
unless the component is also published to the outside; unknown images keep the rule's severity.
The fixtures hold the cases; these tests pin the severity of each finding."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infralint.api import ScanOptions, scan
from infralint.components.by_design import catalog, component_for, needing
from infralint.findings import Severity

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NOTE, WARNING, ERROR = Severity.NOTE, Severity.WARNING, Severity.ERROR


def _severities(rule: str, case: str) -> dict[int | None, Severity]:
    folder = FIXTURES / rule
    previous = os.getcwd()
    os.chdir(folder)
    try:
        report = scan([case], ScanOptions(select=[rule]))
    finally:
        os.chdir(previous)
    return {f.span.line: f.severity for f in report.findings if f.rule_id == rule}


@pytest.mark.parametrize(
    ("rule", "case", "expected"),
    [
        # traefik (with the ports a proxy serves), watchtower: notes; an unknown image: error
        ("compose-docker-socket", "bad-by-design.yaml", {11: NOTE, 15: NOTE, 19: ERROR}),
        # traefik with its dashboard published on all interfaces keeps the error
        ("compose-docker-socket", "bad-by-design-published.yaml", {11: ERROR}),
        ("compose-docker-socket", "bad.yaml", {5: ERROR, 10: ERROR, 15: ERROR, 16: ERROR, 17: ERROR}),
        ("compose-host-network", "bad-by-design.yaml", {6: NOTE, 13: WARNING}),
        # hostPID and hostNetwork are what node-exporter needs; hostIPC is not
        ("k8s-host-namespace", "bad-by-design.yaml", {15: NOTE, 16: NOTE, 17: ERROR}),
        ("k8s-host-namespace", "bad-by-design-published.yaml", {15: ERROR}),
        # `/` read-only is by design, a directory node-exporter never needs is not; Fluent Bit
        # writes its tail database under /var/log, but only reads the container logs it mounts writable
        ("k8s-host-path-mount", "bad-by-design.yaml", {26: NOTE, 28: WARNING, 50: NOTE, 52: WARNING}),
        # the second pod shares the socket with a sidecar nobody listed
        ("k8s-docker-socket-mount", "bad-by-design.yaml", {22: NOTE, 47: ERROR}),
        # Ofelia, caddy-gen (80 and 443), the contrib collector (OTLP only), Sourcegraph's executor:
        # notes; the core collector has no Docker receiver and the eBPF profiler's documentation
        # never asks for the socket: errors
        (
            "compose-docker-socket",
            "bad-by-design-agents.yaml",
            {9: NOTE, 16: NOTE, 23: NOTE, 28: NOTE, 33: ERROR, 40: ERROR},
        ),
        # the same, each also publishing a port it does not exist to serve
        ("compose-docker-socket", "bad-by-design-agents-published.yaml", {11: ERROR, 19: ERROR, 26: ERROR, 33: ERROR}),
        # cAdvisor (Sourcegraph's build), the eBPF profiler, the executor: notes; the collector's
        # documentation never runs it privileged
        ("compose-privileged", "bad-by-design.yaml", {6: NOTE, 17: NOTE, 24: NOTE, 30: ERROR}),
        ("compose-privileged", "bad-by-design-published.yaml", {7: ERROR, 14: ERROR, 20: ERROR}),
        # privilege is each container's own: a sidecar beside cAdvisor keeps the error
        ("k8s-privileged-container", "bad-by-design.yaml", {19: NOTE, 24: ERROR, 43: NOTE}),
        ("k8s-privileged-container", "bad-by-design-published.yaml", {19: ERROR}),
    ],
)
def test_severity_of_each_finding(rule: str, case: str, expected: dict[int, Severity]) -> None:
    assert _severities(rule, case) == expected


def test_messages_name_the_component_and_the_mitigation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / "compose-docker-socket")
    report = scan(["bad-by-design.yaml", "bad-by-design-published.yaml"], ScanOptions(select=["compose-docker-socket"]))
    by_place = {(f.span.path, f.span.line): f for f in report.findings}
    note = by_place[("bad-by-design.yaml", 11)]
    assert "Traefik needs it by design" in note.message
    assert "read-only, which protects the file, not the API behind it" in note.message
    assert "socket proxy" in note.message
    published = by_place[("bad-by-design-published.yaml", 11)]
    assert "publishes 8080:8080 on all host interfaces" in published.message
    assert [(r.span.path, r.span.line) for r in published.related] == [("bad-by-design-published.yaml", 9)]


def test_writable_mount_of_a_read_only_path_is_not_by_design(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ds.yaml").write_text(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: ne}\nspec:\n  selector: {matchLabels: {a: b}}\n"
        "  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers:\n"
        "        - name: ne\n          image: prom/node-exporter:v1.8.2\n"
        "          volumeMounts: [{name: root, mountPath: /host}]\n"
        "      volumes: [{name: root, hostPath: {path: /}}]\n"
    )
    monkeypatch.chdir(tmp_path)
    report = scan(["ds.yaml"], ScanOptions(select=["k8s-host-path-mount"]))
    assert [(f.span.line, f.severity) for f in report.findings] == [(13, WARNING)]


def test_lookup_by_repository_not_tag_and_never_a_variable() -> None:
    assert component_for("docker.io/library/traefik:v3.1@sha256:" + "0" * 64).name == "Traefik"  # type: ignore[union-attr]
    assert component_for("index.docker.io/sourcegraph/cadvisor:6.2").name == "cAdvisor"  # type: ignore[union-attr]
    assert component_for("${PROXY_IMAGE}") is None
    assert component_for("portainer/portainer-ce:2.21") is None  # the server is no agent
    collector = "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-contrib:0.159.0"
    assert component_for(collector).name == "OpenTelemetry Collector Contrib"  # type: ignore[union-attr]
    assert component_for("otel/opentelemetry-collector:0.130.0") is None  # the core build has no Docker receiver
    assert needing("index.docker.io/sourcegraph/cadvisor:6.2", "privileged") is not None
    assert needing("otel/opentelemetry-collector-contrib:0.130.0", "privileged") is None


def test_every_entry_is_sourced_and_complete() -> None:
    for entry in catalog():
        assert entry.sources and all(url.startswith("https://") for url in entry.sources), entry.name
        assert entry.images and entry.needs and entry.why and entry.mitigation, entry.name
        assert ("host_paths" in entry.needs) == bool(entry.host_paths or entry.writable_host_paths), entry.name
