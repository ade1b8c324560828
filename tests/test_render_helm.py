"""Helm charts are rendered and what they produce is judged, at the template and values lines
that produced it (the map itself is tested in test_helm_map.py; this is the whole scan)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from scanning import edges_across_renders, found, run_cli, scan_tree, write

from infralint.report import Report

REPO = Path(__file__).resolve().parent.parent


def _need_renderer() -> None:
    """Rendering needs helm-python-sdk (or helm); CI installs it, so there a missing one fails."""
    from infralint.render.helm import choose_backend

    if choose_backend() is None:
        if os.environ.get("CI"):
            pytest.fail("no Helm renderer: CI must install helm-python-sdk")
        pytest.skip("no Helm renderer (pip install helm-python-sdk)")


@pytest.fixture(autouse=True)
def renderer() -> None:
    _need_renderer()


def _located(report: Report, rule_id: str) -> list[tuple[str, int | None, int | None]]:
    return [(f.span.path, f.span.line, f.span.col) for f in report.findings if f.rule_id == rule_id]


def _finding(report: Report, rule_id: str):  # type: ignore[no-untyped-def]
    [finding] = [f for f in report.findings if f.rule_id == rule_id]
    return finding


CHART = """apiVersion: v2
name: web
version: 1.0.0
appVersion: "1.4.2"
"""

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
  labels:
    {{- include "web.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      {{- include "web.labels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "web.labels" . | nindent 8 }}
    spec:
      containers:
        - name: web
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          {{- if .Values.resources }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          {{- end }}
"""

HELPERS = """{{- define "web.labels" -}}
app.kubernetes.io/name: web
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
"""

VALUES = """replicaCount: 1
image:
  repository: registry.example.com/web
  tag: latest
resources: {}
"""


def _chart(root: Path, folder: str = "chart", values: str = VALUES) -> None:
    write(root, f"{folder}/Chart.yaml", CHART)
    write(root, f"{folder}/values.yaml", values)
    write(root, f"{folder}/templates/_helpers.tpl", HELPERS)
    write(root, f"{folder}/templates/deployment.yaml", DEPLOYMENT)


# --- the example chart: findings at template, values and embedded-config lines ---------------


def test_the_example_chart_is_judged_at_its_template_values_and_config_lines() -> None:
    report = scan_tree(REPO / "examples" / "helm-shop")
    assert report.rendered == {"helm releases": 1}
    assert {(f.span.path, f.span.line, f.span.col, f.rule_id) for f in report.findings} == {
        ("files/nginx.conf", 7, 7, "nginx-upstream-port-mismatch"),
        ("templates/api.yaml", 8, 3, "k8s-single-replica"),
        ("templates/proxy.yaml", 50, 11, "k8s-writable-root-filesystem"),
    }
    replicas = _finding(report, "k8s-single-replica")
    assert [(r.span.path, r.span.line, r.role) for r in replicas.related] == [("values.yaml", 3, "values")]
    assert replicas.message.endswith("[in release shop (values.yaml)]")
    upstream = _finding(report, "nginx-upstream-port-mismatch")
    assert ("templates/api.yaml", 43) in {(r.span.path, r.span.line) for r in upstream.related}


def test_a_template_driven_and_a_values_driven_finding(tmp_path: Path) -> None:
    _chart(tmp_path)
    report = scan_tree(tmp_path, select=["k8s-image-latest-tag", "k8s-missing-memory-limit", "k8s-single-replica"])
    assert found(report) == {
        ("chart/templates/deployment.yaml", 19, "k8s-image-latest-tag"),
        ("chart/templates/deployment.yaml", 18, "k8s-missing-memory-limit"),
        ("chart/templates/deployment.yaml", 8, "k8s-single-replica"),
    }
    image = _finding(report, "k8s-image-latest-tag")
    assert ("chart/values.yaml", 4, "values") in {(r.span.path, r.span.line, r.role) for r in image.related}
    # The missing limit is the template's doing (resources are empty): no values line to blame.
    assert not [r for r in _finding(report, "k8s-missing-memory-limit").related if r.role == "values"]


def test_template_files_are_not_judged_on_their_own(tmp_path: Path) -> None:
    _chart(tmp_path)
    report = scan_tree(tmp_path)
    assert not [f for f in report.findings if f.rule_id in ("infralint-unsupported-template", "infralint-parse-error")]
    assert report.files_by_kind == {"helm": 3}


# --- values sets ---------------------------------------------------------------------------


def test_each_values_set_is_its_own_release_and_a_shared_finding_is_reported_once(tmp_path: Path) -> None:
    _chart(tmp_path)
    write(tmp_path, "chart/values-prod.yaml", "replicaCount: 3\nimage:\n  tag: 1.4.2\n")
    report = _scan_with_config(
        tmp_path,
        "helm:\n  charts:\n    chart:\n      release: shop\n      values:\n"
        "        - name: staging\n          set: {image.tag: '1.4.2-rc1'}\n"
        "        - name: prod\n          files: [chart/values-prod.yaml]\n",
        select=["k8s-single-replica", "k8s-missing-memory-limit"],
    )
    assert report.rendered == {"helm releases": 2}
    replicas = _finding(report, "k8s-single-replica")
    assert replicas.message.endswith("[in release shop (staging)]")
    limit = _finding(report, "k8s-missing-memory-limit")
    assert limit.message.endswith("[in 2 releases: shop (staging), shop (prod)]")


def test_a_set_entry_is_the_values_location_of_what_it_sets(tmp_path: Path) -> None:
    _chart(tmp_path)
    report = _scan_with_config(
        tmp_path,
        "helm:\n  charts:\n    chart:\n      values:\n        - name: edge\n          set:\n"
        "            image.tag: latest\n",
        select=["k8s-image-latest-tag"],
    )
    image = _finding(report, "k8s-image-latest-tag")
    assert (".infralint.yaml", 7) in {(r.span.path, r.span.line) for r in image.related if r.role == "values"}


def test_ci_values_render_one_release_per_file(tmp_path: Path) -> None:
    _chart(tmp_path)
    write(tmp_path, "chart/ci/small-values.yaml", "replicaCount: 1\n")
    write(tmp_path, "chart/ci/ha-values.yaml", "replicaCount: 3\n")
    # development_paths=False: a chart rendered with test values only is development context.
    report = _scan_with_config(
        tmp_path, "helm:\n  ci-values: true\n", select=["k8s-single-replica"], development_paths=False
    )
    assert report.rendered == {"helm releases": 2}
    assert _finding(report, "k8s-single-replica").message.endswith("[in release web (ci/small-values.yaml)]")


def _scan_with_config(root: Path, config_text: str | None = None, **options: object) -> Report:
    """Scan ROOT with its .infralint.yaml (written from CONFIG_TEXT when given)."""
    from infralint import config

    if config_text is not None:
        write(root, ".infralint.yaml", config_text)
    previous = os.getcwd()
    os.chdir(root)
    try:
        loaded = config.discover_and_load(["."], None, False)
    finally:
        os.chdir(previous)
    return scan_tree(root, config=loaded, **options)


def test_two_releases_of_one_chart_never_link_to_each_other(tmp_path: Path) -> None:
    write(tmp_path, "chart/Chart.yaml", CHART)
    write(tmp_path, "chart/values.yaml", "replicaCount: 2\n")
    write(
        tmp_path,
        "chart/templates/all.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n"
        "  ports: [{port: 80, targetPort: 8080}]\n"
        "{{- if .Values.withPods }}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
        "spec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n"
        "    metadata: {labels: {app: web}}\n    spec:\n      containers:\n"
        "        - {name: web, image: 'nginx:1.27', ports: [{containerPort: 8080}]}\n{{- end }}\n",
    )
    report = _scan_with_config(
        tmp_path,
        "helm:\n  charts:\n    chart:\n      values:\n        - name: with-pods\n          set: {withPods: true}\n"
        "        - name: service-only\n          set: {withPods: false}\n",
        select=["k8s-service-selects-nothing"],
    )
    selects = _finding(report, "k8s-service-selects-nothing")
    assert selects.message.endswith("[in release web (service-only)]")
    assert edges_across_renders(report) == []


# --- what cannot be rendered ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "line", "col", "says"),
    [
        ('data:\n  a: {{ required "set a" .Values.a }}\n', 6, 9, "set a"),
        ('data:\n  {{- fail "not supported" }}\n', 6, 7, "not supported"),
        ("data:\n  a: {{ .Values.a | nosuchfunction }}\n", 6, None, "nosuchfunction"),
    ],
)
def test_a_template_that_fails_is_a_render_error_at_the_line_helm_names(
    tmp_path: Path, template: str, line: int, col: int | None, says: str
) -> None:
    write(tmp_path, "chart/Chart.yaml", CHART)
    write(tmp_path, "chart/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n" + template)
    write(
        tmp_path,
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: nginx}]\n",
    )
    report = scan_tree(tmp_path, select=["k8s-image-latest-tag"])
    [error] = [f for f in report.findings if f.rule_id == "infralint-render-error"]
    assert (error.span.path, error.span.line) == ("chart/templates/cm.yaml", line)
    if col is not None:
        assert error.span.col == col
    assert says in error.message and "release web (values.yaml)" in error.message
    assert ("pod.yaml", 5, "k8s-image-latest-tag") in found(report)  # the scan went on


def test_a_values_file_that_is_not_yaml_is_a_render_error_at_its_line(tmp_path: Path) -> None:
    _chart(tmp_path)
    write(tmp_path, "chart/values-bad.yaml", "replicaCount: 2\nimage: [unclosed\n")
    report = _scan_with_config(
        tmp_path,
        "helm:\n  charts:\n    chart:\n      values:\n        - files: [chart/values-bad.yaml]\n",
        select=["k8s-single-replica"],
    )
    [error] = [f for f in report.findings if f.rule_id == "infralint-render-error"]
    assert error.span.path == "chart/values-bad.yaml" and error.span.line == 3


def test_values_against_the_chart_schema(tmp_path: Path) -> None:
    _chart(tmp_path, values=VALUES.replace("replicaCount: 1", 'replicaCount: "one"'))
    write(
        tmp_path,
        "chart/values.schema.json",
        '{"type": "object", "properties": {"replicaCount": {"type": "integer"}}}\n',
    )
    report = scan_tree(tmp_path, select=["k8s-single-replica"])
    [error] = [f for f in report.findings if f.rule_id == "infralint-render-error"]
    # At the value the schema refuses, never at a line 0 of the schema file.
    assert (error.span.path, error.span.line) == ("chart/values.yaml", 1) and "replicaCount" in error.message


SCHEMA_REQUIRING_HOST = """{
  "type": "object",
  "required": ["server"],
  "properties": {
    "server": {"$ref": "#/$defs/server"}
  },
  "$defs": {
    "server": {
      "type": "object",
      "required": ["host"],
      "properties": {"host": {"type": "string"}}
    }
  }
}
"""


@pytest.mark.parametrize(
    ("helm_says", "expected"),
    [
        # Helm 4 (the SDK) names a JSON pointer; Helm 3's `helm template` a dotted path.
        ("web:\n- at '/server': missing property 'host'\n", ("chart/values.schema.json", 10)),
        (
            "values don't meet the specifications of the schema(s) in the following chart(s):\nweb:\n"
            "- server: host is required\n",
            ("chart/values.schema.json", 10),
        ),
        ("web:\n- at '': missing property 'server'\n", ("chart/values.schema.json", 3)),
        ("web:\n- at '/server/port': got string, want integer\n", ("chart/values.yaml", 2)),
        ("web:\n- at '/server': additional properties 'prot' not allowed\n", ("chart/values.yaml", 3)),
        ("web:\n- (root): Additional property replicas is not allowed\n", ("chart/Chart.yaml", 2)),
        ("something Helm has never said\n", ("chart/Chart.yaml", 2)),
    ],
)
def test_a_schema_failure_is_at_the_line_it_names(tmp_path: Path, helm_says: str, expected: tuple[str, int]) -> None:
    from infralint.render.charts import load_chart
    from infralint.render.helm import ValuesSet, locate_error

    write(tmp_path, "chart/Chart.yaml", CHART)
    write(tmp_path, "chart/values.yaml", "server:\n  port: '80'\n  prot: 80\n")
    write(tmp_path, "chart/values.schema.json", SCHEMA_REQUIRING_HOST)
    chart, _problem = load_chart(str(tmp_path), str(tmp_path / "chart"))
    assert chart is not None
    answer = {"error": helm_says, "stage": "values"}
    problem = locate_error(chart, answer, ValuesSet("values.yaml", "web", "default"), str(tmp_path))
    assert (problem.path, problem.line) == expected


# --- a chart whose own values fail on purpose: chart-testing's ci/*-values.yaml ------------

REQUIRED_HOST = DEPLOYMENT.replace(
    '"{{ .Values.image.repository }}:{{ .Values.image.tag }}"',
    '"{{ required "image.repository is required" .Values.image.repository }}:{{ .Values.image.tag }}"',
)


def _chart_needing_a_repository(root: Path) -> None:
    _chart(root, values=VALUES.replace("repository: registry.example.com/web", 'repository: ""'))
    write(root, "chart/templates/deployment.yaml", REQUIRED_HOST)


def test_a_chart_that_needs_user_values_renders_with_its_ci_values(tmp_path: Path) -> None:
    _chart_needing_a_repository(tmp_path)
    write(tmp_path, "chart/ci/basic-values.yaml", "image:\n  repository: registry.example.com/web\n")
    write(tmp_path, "chart/ci/broken-values.yaml", "cache:\n  enabled: true\n")  # fails: left out
    # development_paths=False: a chart rendered with test values only is development context.
    report = scan_tree(tmp_path, select=["k8s-single-replica", "k8s-image-latest-tag"], development_paths=False)
    assert report.rendered == {"helm releases": 1}
    assert not [f for f in report.findings if f.rule_id == "infralint-render-error"]
    assert _finding(report, "k8s-single-replica").message.endswith("[in release web (ci/basic-values.yaml)]")
    # The values line behind a finding may be the ci file's or the chart's.
    image = _finding(report, "k8s-image-latest-tag")
    assert ("chart/values.yaml", 4) in {(r.span.path, r.span.line) for r in image.related if r.role == "values"}


def test_when_the_ci_values_fail_too_the_charts_own_error_is_reported(tmp_path: Path) -> None:
    """A ci file may be a fragment its CI merges with another: its failure says nothing alone."""
    _chart_needing_a_repository(tmp_path)
    write(tmp_path, "chart/ci/a-values.yaml", "replicaCount: 2\n")
    write(tmp_path, "chart/ci/b-values.yaml", "replicaCount: 3\n")
    report = scan_tree(tmp_path, select=["k8s-single-replica"])
    [error] = [f for f in report.findings if f.rule_id == "infralint-render-error"]
    assert (error.span.path, error.span.line) == ("chart/templates/deployment.yaml", 19)
    assert "release web (values.yaml)" in error.message and "image.repository is required" in error.message
    assert report.rendered == {}


def test_ci_values_are_not_used_when_the_chart_renders_with_its_own(tmp_path: Path) -> None:
    _chart(tmp_path)
    write(tmp_path, "chart/ci/ha-values.yaml", "replicaCount: 3\n")
    report = scan_tree(tmp_path, select=["k8s-single-replica"])
    assert report.rendered == {"helm releases": 1}
    assert _finding(report, "k8s-single-replica").message.endswith("[in release web (values.yaml)]")


def test_configured_values_that_fail_do_not_fall_back_to_ci_values(tmp_path: Path) -> None:
    _chart_needing_a_repository(tmp_path)
    write(tmp_path, "chart/ci/basic-values.yaml", "image:\n  repository: registry.example.com/web\n")
    write(tmp_path, "chart/values-prod.yaml", "replicaCount: 3\n")
    config = (
        "helm:\n  charts:\n    chart:\n      values:\n        - name: prod\n          files: [chart/values-prod.yaml]\n"
    )
    report = _scan_with_config(tmp_path, config, select=["k8s-single-replica"])
    [error] = [f for f in report.findings if f.rule_id == "infralint-render-error"]
    assert "release web (prod)" in error.message


def test_a_template_that_never_ends_is_stopped(tmp_path: Path) -> None:
    write(tmp_path, "chart/Chart.yaml", CHART)
    write(
        tmp_path,
        "chart/templates/loop.yaml",
        "{{- range $i := until 2000000000 }}{{- range $j := until 2000000000 }}{{- end }}{{- end }}\n",
    )
    write(
        tmp_path,
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: nginx}]\n",
    )
    report = scan_tree(tmp_path, select=["k8s-image-latest-tag"], file_timeout=1.0)
    [error] = [f for f in report.findings if f.rule_id == "infralint-render-error"]
    assert error.span.path == "chart/Chart.yaml" and error.span.line == 2
    assert "took too long" in error.message
    assert ("pod.yaml", 5, "k8s-image-latest-tag") in found(report)


def test_a_chart_of_thousands_of_objects_is_a_finding(tmp_path: Path) -> None:
    write(tmp_path, "chart/Chart.yaml", CHART)
    write(
        tmp_path,
        "chart/templates/many.yaml",
        "{{- range $i := until 5001 }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{{ $i }}\n{{- end }}\n",
    )
    report = scan_tree(tmp_path, select=["k8s-default-namespace"])
    [error] = [f for f in report.findings if f.rule_id == "infralint-render-error"]
    assert "5,001 objects" in error.message and error.span.path == "chart/Chart.yaml"
    assert report.graph is not None and not list(report.graph.of_kind("k8s/ConfigMap"))


# --- charts within charts ------------------------------------------------------------------


SUBCHART_POD = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: cache\n  annotations:\n    maxmemory: {{ .Values.maxmemory }}\n"
    "spec:\n  containers:\n    - name: redis\n      image: redis\n"
)


def test_a_vendored_subchart_folder_renders_with_its_parent(tmp_path: Path) -> None:
    write(tmp_path, "chart/Chart.yaml", CHART + "dependencies:\n  - name: cache\n    version: 1.x.x\n")
    write(tmp_path, "chart/values.yaml", "cache:\n  maxmemory: 64mb\n")
    write(tmp_path, "chart/charts/cache/Chart.yaml", "apiVersion: v2\nname: cache\nversion: 1.0.0\n")
    write(tmp_path, "chart/charts/cache/values.yaml", "maxmemory: 1gb\n")
    write(tmp_path, "chart/charts/cache/templates/pod.yaml", SUBCHART_POD)
    report = scan_tree(tmp_path, select=["k8s-image-latest-tag"])
    assert found(report) == {("chart/charts/cache/templates/pod.yaml", 10, "k8s-image-latest-tag")}
    assert report.rendered == {"helm releases": 1}  # the subchart is not a release of its own


def test_a_vendored_subchart_archive_renders_with_its_parent(tmp_path: Path) -> None:
    import io
    import tarfile

    write(tmp_path, "chart/Chart.yaml", CHART + "dependencies:\n  - name: cache\n    version: 1.x.x\n")
    write(tmp_path, "chart/templates/.keep", "")
    archive = tmp_path / "chart" / "charts" / "cache-1.0.0.tgz"
    archive.parent.mkdir(parents=True)
    with tarfile.open(archive, "w:gz") as tar:
        for name, text in (
            ("cache/Chart.yaml", "apiVersion: v2\nname: cache\nversion: 1.0.0\n"),
            ("cache/values.yaml", "maxmemory: 1gb\n"),
            ("cache/templates/pod.yaml", SUBCHART_POD),
        ):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    report = scan_tree(tmp_path, select=["k8s-image-latest-tag"])
    [finding] = [f for f in report.findings if f.rule_id == "k8s-image-latest-tag"]
    # A line inside an archive cannot be pointed at: the finding names the archive's dependency.
    assert finding.span.path == "chart/Chart.yaml" and finding.span.line == 6
    assert not [f for f in report.findings if f.rule_id.startswith("infralint-")]


def test_a_library_chart_is_not_rendered_alone(tmp_path: Path) -> None:
    write(tmp_path, "lib/Chart.yaml", "apiVersion: v2\nname: lib\nversion: 1.0.0\ntype: library\n")
    write(tmp_path, "lib/templates/_names.tpl", '{{- define "lib.name" -}}x{{- end }}\n')
    write(tmp_path, "lib/templates/pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.x }}\n")
    report = scan_tree(tmp_path)
    assert report.findings == [] and report.rendered == {}


def test_a_dependency_that_is_not_vendored_is_named_and_the_rest_rendered(tmp_path: Path) -> None:
    _chart(tmp_path)
    chart = tmp_path / "chart" / "Chart.yaml"
    chart.write_text(
        CHART + "dependencies:\n  - name: postgresql\n    version: 15.x.x\n"
        "    repository: oci://registry.example.com/charts\n    condition: postgresql.enabled\n"
    )
    report = scan_tree(tmp_path, select=["k8s-single-replica"])
    assert found(report) == {
        ("chart/Chart.yaml", 6, "infralint-not-fetched"),
        ("chart/templates/deployment.yaml", 8, "k8s-single-replica"),
    }
    assert (
        "postgresql 15.x.x from oci://registry.example.com/charts" in _finding(report, "infralint-not-fetched").message
    )


# --- suppressions written in templates -----------------------------------------------------


def test_suppressions_in_templates_and_the_ignore_annotation_keep_working(tmp_path: Path) -> None:
    _chart(tmp_path)
    template = tmp_path / "chart" / "templates" / "deployment.yaml"
    text = template.read_text()
    text = text.replace(
        "  replicas: {{ .Values.replicaCount }}",
        "  replicas: {{ .Values.replicaCount }}  # infralint: ignore[k8s-single-replica] scaled by hand",
    )
    text = text.replace(
        "        - name: web\n",
        "        # infralint: ignore[k8s-missing-memory-limit] the whole container\n        - name: web\n",
    )
    text = text.replace("  labels:\n", "  annotations:\n    infralint.dev/ignore: k8s-image-latest-tag\n  labels:\n", 1)
    template.write_text(text)
    report = scan_tree(
        tmp_path,
        select=["k8s-single-replica", "k8s-missing-memory-limit", "k8s-image-latest-tag"],
        report_unused_ignores=True,
    )
    assert found(report) == set()


# --- no renderer, no rendering -------------------------------------------------------------


def test_without_a_renderer_templates_get_a_note_that_says_how_to_render(tmp_path: Path) -> None:
    _chart(tmp_path)
    report = _scan_with_config(tmp_path, "helm:\n  renderer: 'off'\n")
    notes = [f for f in report.findings if f.rule_id == "infralint-unsupported-template"]
    assert notes and all("infralint[helm]" in f.message for f in notes)
    assert report.rendered == {}


def test_no_render_judges_files_as_they_are(tmp_path: Path) -> None:
    _chart(tmp_path)
    _code, output = run_cli("scan", "--no-render", "--no-color", ".", cwd=tmp_path)
    assert "infralint-unsupported-template" in output and "and rendered" not in output


def test_the_summary_says_how_many_releases_were_rendered() -> None:
    code, output = run_cli("scan", "--no-color", ".", cwd=REPO / "examples" / "helm-shop")
    assert code == 1
    assert "Scanned 5 files (5 helm) and rendered 1 Helm release:" in output


# --- safety --------------------------------------------------------------------------------


def test_a_symlink_out_of_the_scan_root_is_not_read_by_the_render(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(
        outside,
        "secret.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: leaked}\nspec:\n  containers: [{name: a, image: nginx}]\n",
    )
    root = tmp_path / "repo"
    _chart(root)
    os.symlink(outside / "secret.yaml", root / "chart" / "templates" / "leak.yaml")
    report = scan_tree(root, select=["k8s-image-latest-tag"])
    assert report.graph is not None
    assert not [n for n in report.graph.nodes.values() if n.facts.get("name") == "leaked"]
    assert (outside / "secret.yaml").exists()


def test_lookup_finds_nothing_and_no_cluster_is_asked(tmp_path: Path) -> None:
    write(tmp_path, "chart/Chart.yaml", CHART)
    write(
        tmp_path,
        "chart/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n"
        '  found: {{ (lookup "v1" "Secret" "default" "db") | len | quote }}\n',
    )
    report = scan_tree(tmp_path)
    assert report.rendered == {"helm releases": 1}
    assert not [f for f in report.findings if f.rule_id.startswith("infralint-")]


def test_helm_template_output_is_split_by_source() -> None:
    from infralint.render.helm import split_template_output

    output = (
        "---\n# Source: web/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\n"
        "---\n# Source: web/templates/b.yaml\napiVersion: v1\nkind: Secret\n"
        "---\n# Source: web/templates/a.yaml\napiVersion: v1\nkind: Service\n"
    )
    assert split_template_output(output) == {
        "web/templates/a.yaml": "apiVersion: v1\nkind: ConfigMap\n---\napiVersion: v1\nkind: Service\n",
        "web/templates/b.yaml": "apiVersion: v1\nkind: Secret\n",
    }


@pytest.mark.skipif(shutil.which("helm") is None, reason="the helm binary is not on PATH")
def test_the_helm_binary_and_the_sdk_judge_alike(tmp_path: Path) -> None:
    from infralint.render.helm import choose_backend

    assert choose_backend("binary") == "binary"
    _chart(tmp_path)
    by_binary = found(_scan_renderer(tmp_path, "binary"))
    by_sdk = found(_scan_renderer(tmp_path, "sdk"))
    assert by_binary == by_sdk and by_binary


def _scan_renderer(root: Path, renderer: str) -> Report:
    return _scan_with_config(root, f"helm:\n  renderer: {renderer}\n")


def test_a_line_a_range_repeats_reports_each_item_at_that_line(tmp_path: Path) -> None:
    write(tmp_path, "chart/Chart.yaml", CHART)
    write(
        tmp_path,
        "chart/values.yaml",
        "sidecars:\n  - name: log-shipper\n    image: registry.example.com/shipper:2.1\n"
        "  - name: metrics\n    image: registry.example.com/metrics:latest\n",
    )
    write(
        tmp_path,
        "chart/templates/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  containers:\n"
        "    {{- range .Values.sidecars }}\n"
        "    - name: {{ .name }}\n"
        "      image: {{ .image | quote }}\n"
        "    {{- end }}\n",
    )
    report = scan_tree(tmp_path, select=["k8s-missing-memory-limit", "k8s-image-latest-tag"])
    # One line, two containers: one finding there that names both (infralint.folding).
    assert sorted((f.span.path, f.span.line, f.rule_id) for f in report.findings) == [
        ("chart/templates/pod.yaml", 8, "k8s-missing-memory-limit"),
        ("chart/templates/pod.yaml", 9, "k8s-image-latest-tag"),
    ]
    [memory] = [f for f in report.findings if f.span.line == 8]
    assert memory.message.startswith("container 'log-shipper' of ")
    assert "this line holds it for 1 more object too: container 'metrics' of " in memory.message
    image = _finding(report, "k8s-image-latest-tag")
    assert ("chart/values.yaml", 5) in {(r.span.path, r.span.line) for r in image.related if r.role == "values"}


def test_pre_commit_on_a_values_file_reports_what_it_sets(tmp_path: Path) -> None:
    _chart(tmp_path)
    (tmp_path / ".git").mkdir()
    _, output = run_cli(
        "scan", "--with-context", "--no-color", "--select", "k8s-single-replica", "chart/values.yaml", cwd=tmp_path
    )
    assert "chart/templates/deployment.yaml:8:3: warning k8s-single-replica" in output
    assert "chart/values.yaml:1:1: `replicaCount` is set here" in output


def test_the_graph_draws_rendered_objects_under_their_release() -> None:
    code, output = run_cli("graph", "--format", "json", ".", cwd=REPO / "examples" / "helm-shop")
    assert code == 0
    import json

    groups = {group["label"] for group in json.loads(output)["groups"]}
    assert "Helm release shop (values.yaml), k8s (no namespace)" in groups


def test_a_config_printed_by_an_action_points_at_the_action(tmp_path: Path) -> None:
    """`{{ .Values.conf | quote }}` prints the whole nginx.conf on the template line: a column in
    it is not a column of the template, so the finding points at the action's `{{`."""
    write(tmp_path, "c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n")
    write(
        tmp_path,
        "c/values.yaml",
        'nginxConf: "events {}\\nhttp {\\n  server {\\n    listen 80;\\n    location / { root /srv; }\\n  }\\n}\\n"\n',
    )
    write(
        tmp_path,
        "c/templates/a.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  nginx.conf: {{ .Values.nginxConf | quote }}\n",
    )
    report = scan_tree(tmp_path, select=["nginx-server-tokens", "nginx-plain-http-server"])
    assert {(f.rule_id, f.span.path, f.span.line, f.span.col) for f in report.findings} == {
        ("nginx-server-tokens", "c/templates/a.yaml", 6, 15),
        ("nginx-plain-http-server", "c/templates/a.yaml", 6, 15),
    }
