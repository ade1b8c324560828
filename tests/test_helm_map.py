"""The map from rendered Helm output back to template lines and values entries (render/helm_map.py).

The chart under tests/data/helm-map/shop is rendered for real by helm_python; the expected
origins below are the fixture's own line numbers (each checked against the fixture's text, so
a fixture edit fails loudly rather than silently shifting lines).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tarfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infralint.render.helm_map import ChartSources, ValuesLayer, _Chart, _map_lines, map_rendered
from infralint.render.model import LineOrigin, ValueOrigin

DATA = Path(__file__).resolve().parent / "data" / "helm-map"
SHOP = DATA / "shop"
CORPUS = Path(os.environ.get("INFRALINT_CORPUS_CHARTS", "/work/shared/corpus-charts"))


def helm_python() -> Any:
    """helm_python renders the charts: skipped on a developer machine without it, a failure in CI."""
    if os.environ.get("CI"):
        import helm_python as module  # CI installs it: a missing package must fail

        return module
    return pytest.importorskip("helm_python")


def render(chart: Path, values: dict[str, Any] | None = None) -> dict[str, str]:
    return helm_python().Chart.load(str(chart)).render(values or {}, name="shop", namespace="web")


class Mapped:
    """One rendered template with its map, addressed by rendered text."""

    def __init__(
        self,
        root: Path,
        chart: Path,
        name: str,
        values: dict[str, Any] | None = None,
        layers: Sequence[ValuesLayer] = (),
    ) -> None:
        self.text = render(chart, values)[name]
        self.lines = self.text.split("\n")
        self.origins, self.values = map_rendered(ChartSources.load(str(root), str(chart)), name, self.text, layers)

    def number(self, rendered: str, occurrence: int = 0) -> int:
        """The 1-based number of the rendered line equal to `rendered` (stripped)."""
        found = [i + 1 for i, line in enumerate(self.lines) if line.strip() == rendered]
        assert len(found) > occurrence, f"{rendered!r} not rendered: {self.lines}"
        return found[occurrence]

    def origin(self, rendered: str, occurrence: int = 0) -> LineOrigin | None:
        return self.origins[self.number(rendered, occurrence) - 1]

    def value(self, rendered: str, occurrence: int = 0) -> tuple[ValueOrigin, ...]:
        return self.values.get(self.number(rendered, occurrence), ())


def fixture_line(path: str, line: int, expected: str) -> tuple[str, int]:
    """(path, line) after checking that the fixture's line holds `expected`."""
    text = (DATA / path).read_text(encoding="utf-8").split("\n")[line - 1]
    assert expected in text, f"{path}:{line} is {text!r}, expected it to hold {expected!r}"
    return path, line


def at(origin: LineOrigin | None) -> tuple[str, int] | None:
    return (origin.path, origin.line) if origin else None


DEPLOYMENT = "shop/templates/deployment.yaml"
VALUES = "shop/values.yaml"


@pytest.fixture(scope="module")
def deployment() -> Mapped:
    return Mapped(DATA, SHOP, DEPLOYMENT)


def test_literal_lines_map_to_their_template_line(deployment: Mapped) -> None:
    assert at(deployment.origin("kind: Deployment")) == fixture_line(DEPLOYMENT, 2, "kind: Deployment")
    assert at(deployment.origin("name: shop-shop", 0)) == fixture_line(DEPLOYMENT, 4, 'include "shop.fullname"')
    assert at(deployment.origin('image: "nginx:1.27"')) == fixture_line(DEPLOYMENT, 17, "image:")
    # The else branch of `if .Values.autoscaling` (the if branch printed nothing).
    assert at(deployment.origin("replicas: 2")) == fixture_line(DEPLOYMENT, 11, "replicas:")
    # After the skipped `if .Values.metrics.enabled` block.
    assert at(deployment.origin("volumeMounts:")) == fixture_line(DEPLOYMENT, 32, "volumeMounts:")


def test_literal_columns_shift_with_indentation(deployment: Mapped) -> None:
    origin = deployment.origin("replicas: 2")
    assert origin is not None and origin.col_shift == 0 and origin.column(3) == 3


def test_helper_lines_map_to_the_helper_and_what_it_prints_to_the_include(deployment: Mapped) -> None:
    # A helper's literal text is written (and fixed) in the helper file.
    for rendered, line in (("app.kubernetes.io/name: shop", 8), ("app.kubernetes.io/instance: shop", 9)):
        origin = deployment.origin(rendered)
        assert at(origin) == ("shop/templates/_helpers.tpl", line), rendered
        assert origin is not None and origin.column(5) == 1  # the key's own column in the helper
    # What the helper's actions print (`toYaml .` of podLabels) maps to the `include` that called it.
    expected = fixture_line(DEPLOYMENT, 6, '{{- include "shop.labels" . | nindent 4 }}')
    origin = deployment.origin("team: web")
    assert at(origin) == expected and origin is not None and origin.col == 5  # the `{{`
    assert deployment.value("team: web") == (ValueOrigin(VALUES, 11, 3, "podLabels.team"),)


def test_to_yaml_lines_map_to_the_action_and_nested_values(deployment: Mapped) -> None:
    expected = fixture_line(DEPLOYMENT, 26, "{{- toYaml . | nindent 12 }}")
    for rendered in ("limits:", "cpu: 500m", "memory: 256Mi", "requests:", "memory: 128Mi"):
        origin = deployment.origin(rendered)
        assert at(origin) == expected and origin is not None and origin.col == 13, rendered
    assert at(deployment.origin("resources:")) == fixture_line(DEPLOYMENT, 25, "resources:")
    assert deployment.value("resources:") == (ValueOrigin(VALUES, 17, 1, "resources"),)
    assert deployment.value("limits:") == (ValueOrigin(VALUES, 18, 3, "resources.limits"),)
    assert deployment.value("memory: 256Mi") == (ValueOrigin(VALUES, 20, 5, "resources.limits.memory"),)
    assert deployment.value("memory: 128Mi") == (ValueOrigin(VALUES, 22, 5, "resources.requests.memory"),)


def test_range_iterations_repeat_the_body_and_their_own_values(deployment: Mapped) -> None:
    name_line = fixture_line(DEPLOYMENT, 21, "- name: {{ .name }}")
    value_line = fixture_line(DEPLOYMENT, 22, "value: {{ .value | quote }}")
    assert at(deployment.origin("- name: MODE")) == name_line
    assert at(deployment.origin("- name: LOG_LEVEL")) == name_line
    assert at(deployment.origin('value: "info"')) == value_line
    assert deployment.value("- name: MODE") == (ValueOrigin(VALUES, 13, 5, "env[0].name"),)
    assert deployment.value('value: "production"') == (ValueOrigin(VALUES, 14, 5, "env[0].value"),)
    assert deployment.value("- name: LOG_LEVEL") == (ValueOrigin(VALUES, 15, 5, "env[1].name"),)
    assert deployment.value('value: "info"') == (ValueOrigin(VALUES, 16, 5, "env[1].value"),)


def test_values_of_a_literal_line(deployment: Mapped) -> None:
    assert deployment.value("replicas: 2") == (ValueOrigin(VALUES, 1, 1, "replicaCount"),)
    assert deployment.value('image: "nginx:1.27"') == (
        ValueOrigin(VALUES, 4, 3, "image.repository"),
        ValueOrigin(VALUES, 5, 3, "image.tag"),
    )
    assert deployment.value("kind: Deployment") == ()  # nothing from the values
    assert deployment.value("- name: web") == ()


def test_files_get_lines_point_into_the_file() -> None:
    mapped = Mapped(DATA, SHOP, "shop/templates/configmap.yaml")
    nginx = "shop/files/nginx.conf"
    # `tpl (.Files.Get "files/nginx.conf") . | nindent 4`: the file is a template of its own.
    assert at(mapped.origin("worker_processes auto;")) == fixture_line(nginx, 1, "worker_processes auto;")
    origin = mapped.origin("worker_connections 1024;")
    assert at(origin) == fixture_line(nginx, 3, "worker_connections {{")
    assert origin is not None and origin.column(9) == 5  # rendered col 9, col 5 in the file
    assert mapped.value("worker_connections 1024;") == (ValueOrigin(VALUES, 27, 3, "nginx.workerConnections"),)
    assert at(mapped.origin("listen 8080;")) == fixture_line(nginx, 8, "listen {{ .Values.service.port }};")
    assert mapped.value("listen 8080;") == (ValueOrigin(VALUES, 9, 3, "service.port"),)
    assert at(mapped.origin("root /usr/share/nginx/html;")) == fixture_line(nginx, 10, "root /usr/share")
    # `.Files.Get "files/mime.types" | indent 4`: a plain file.
    assert at(mapped.origin("text/css   css;")) == fixture_line("shop/files/mime.types", 3, "text/css")
    assert at(mapped.origin("mime.types: |")) == fixture_line("shop/templates/configmap.yaml", 8, "mime.types: |")


def test_trim_markers_and_comments(tmp_path: Path) -> None:
    notes = "shop/templates/NOTES.txt"
    mapped = Mapped(DATA, SHOP, notes)
    assert mapped.lines[:3] == [
        "Thank you for installing shop.",
        "Metrics are off: set metrics.enabled to serve them.",
        "The service listens on port 8080.",
    ]
    # `{{ else -}}` eats the line break: the branch's text starts on the next template line.
    assert at(mapped.origin("Metrics are off: set metrics.enabled to serve them.")) == fixture_line(
        notes, 5, "Metrics are off"
    )
    # After `{{ end -}}` and a `{{/* */ -}}` comment.
    assert at(mapped.origin("The service listens on port 8080.")) == fixture_line(notes, 8, "The service listens")
    assert mapped.value("The service listens on port 8080.") == (ValueOrigin(VALUES, 9, 3, "service.port"),)


def test_subchart_values_come_from_its_values_then_the_parent() -> None:
    template = "shop/charts/cache/templates/configmap.yaml"
    mapped = Mapped(DATA, SHOP, template)
    assert at(mapped.origin("port 6379")) == fixture_line(template, 7, "port {{ .Values.port }}")
    assert mapped.value("port 6379") == (ValueOrigin("shop/charts/cache/values.yaml", 3, 1, "port"),)
    # The parent's `cache.maxMemory` overrides the subchart's own maxMemory.
    assert mapped.value("maxmemory 64mb") == (ValueOrigin(VALUES, 30, 3, "cache.maxMemory"),)


def test_user_layers_rank_above_the_chart_values() -> None:
    layers = [
        ValuesLayer("envs/prod.yaml", "image:\n  tag: '1.28'\nresources:\n  limits:\n    memory: 1Gi\n"),
        ValuesLayer("infralint.yaml", None, (("replicaCount", 4, 9),)),
    ]
    values = {"image": {"tag": "1.28"}, "resources": {"limits": {"memory": "1Gi"}}, "replicaCount": 5}
    mapped = Mapped(DATA, SHOP, DEPLOYMENT, values, layers)
    assert mapped.value("replicas: 5") == (ValueOrigin("infralint.yaml", 4, 9, "replicaCount"),)
    assert mapped.value('image: "nginx:1.28"') == (
        ValueOrigin(VALUES, 4, 3, "image.repository"),
        ValueOrigin("envs/prod.yaml", 2, 3, "image.tag"),
    )
    assert mapped.value("memory: 1Gi") == (ValueOrigin("envs/prod.yaml", 5, 5, "resources.limits.memory"),)
    assert mapped.value("cpu: 500m") == (ValueOrigin(VALUES, 19, 5, "resources.limits.cpu"),)  # maps merge


def test_values_decide_between_look_alike_branches(tmp_path: Path) -> None:
    chart = tmp_path / "twins"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: twins\nversion: 1.0.0\n")
    (chart / "values.yaml").write_text("strict: false\nsecurity:\n  runAsUser: 1000\n")
    template = (
        "kind: Pod\n"
        "spec:\n"
        "  securityContext:\n"
        "    {{- if .Values.strict }}\n"
        '    {{- omit .Values.security "runAsGroup" | toYaml | nindent 4 }}\n'
        "    {{- else }}\n"
        "    {{- toYaml .Values.security | nindent 4 }}\n"
        "    {{- end }}\n"
    )
    (chart / "templates" / "pod.yaml").write_text(template)
    mapped = Mapped(tmp_path, chart, "twins/templates/pod.yaml")
    # Both branches print the same text; `strict: false` says the else branch ran.
    assert at(mapped.origin("runAsUser: 1000")) == ("twins/templates/pod.yaml", 7)
    assert mapped.value("runAsUser: 1000") == (ValueOrigin("twins/values.yaml", 3, 3, "security.runAsUser"),)


def test_archived_subchart_lines_point_at_the_dependency_entry(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    chart = root / "shop"
    shutil.copytree(SHOP, chart)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        tar.add(chart / "charts" / "cache", arcname="cache")
    shutil.rmtree(chart / "charts" / "cache")
    (chart / "charts" / "cache-0.1.0.tgz").write_bytes(archive.getvalue())
    mapped = Mapped(root, chart, "shop/charts/cache/templates/configmap.yaml")
    entry = LineOrigin("shop/Chart.yaml", 7, col=5)
    assert fixture_line("shop/Chart.yaml", 7, "- name: cache")
    assert mapped.origin("port 6379") == entry
    assert mapped.origin("kind: ConfigMap") == entry
    assert mapped.value("maxmemory 64mb") == (ValueOrigin("shop/values.yaml", 30, 3, "cache.maxMemory"),)
    assert mapped.value("port 6379") == ()  # set only inside the archive: nothing to point at


def test_symlinks_out_of_the_root_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text("kind: Secret\n")
    root = tmp_path / "repo"
    chart = root / "app"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 1.0.0\n")
    (chart / "templates" / "cm.yaml").write_text('data: {{ .Files.Get "files/secret" | quote }}\n')
    (chart / "files").mkdir()
    try:
        (chart / "templates" / "leak.yaml").symlink_to(outside / "secret.yaml")
        (chart / "files" / "secret").symlink_to(outside / "secret.yaml")
    except OSError:
        pytest.skip("symlinks are not available here")
    sources = ChartSources.load(str(root), str(chart))
    assert sources.template_path("app/templates/cm.yaml") == "app/templates/cm.yaml"
    assert sources.template_path("app/templates/leak.yaml") is None
    assert sources.chart is not None and sources.chart.read_file("files/secret") is None
    assert sources.chart.read_file("../outside/secret.yaml") is None
    assert ChartSources.load(str(root), str(outside)).chart is None  # a chart outside the root


def in_memory_sources(templates: dict[str, str], values: str = "") -> ChartSources:
    chart = _Chart("c", "c", {f"templates/{k}": v for k, v in templates.items()}, lambda _: None, values)
    return ChartSources("/nonexistent", chart)


@pytest.mark.parametrize(
    "template",
    [
        "{{",
        "a: {{ .Values.x",
        "{{ end }}{{ end }}{{ else }}x: 1\n",
        "{{ if .Values.a }}" * 300 + "deep: 1\n",
        '{{ "}}" }}: {{ `multi\nline` }}\n',
        "{{/* unclosed comment",
        '{{- define "x" -}}{{ include "x" . }}{{- end }}\n{{ include "x" . | nindent 2 }}\n',
        "k: " + "{{ .Values.v }}" * 2000 + "\n",
        "{{ range .Values.a }}{{ range . }}{{ . }}{{ end }}\n{{ end }}",
    ],
)
def test_hostile_templates_give_best_effort_results(template: str) -> None:
    sources = in_memory_sources({"t.yaml": template}, "a: [[1, 2]]\nv: 1\n")
    rendered = "k: 1\nx: 1\n" + "y\n" * 50
    origins, _ = _map_lines(sources, "c/templates/t.yaml", rendered.split("\n"), [])
    assert len(origins) == len(rendered.split("\n"))
    assert all(o is None or (o.path == "c/templates/t.yaml" and o.line >= 1) for o in origins)


@given(template=st.text(alphabet='{}-. \n|$abc:ifendrange"', max_size=120), rendered=st.text(max_size=120))
def test_any_input_maps_without_error(template: str, rendered: str) -> None:
    sources = in_memory_sources({"t.yaml": template, "_h.tpl": '{{ define "h" }}\na: 1\n{{ end }}'})
    origins, _ = _map_lines(sources, "c/templates/t.yaml", rendered.split("\n"), [])
    assert len(origins) == len(rendered.split("\n"))
    lines = template.count("\n") + 1
    assert all(o is None or 1 <= o.line <= lines for o in origins)


def test_unresolvable_lines_are_none_not_line_one() -> None:
    sources = in_memory_sources({"t.yaml": "kind: Pod\nmetadata:\n  name: x\n"})
    origins, _ = map_rendered(sources, "c/templates/t.yaml", "kind: Pod\nsomething: else\nmetadata:\n  name: x", [])
    assert [at(o) for o in origins] == [
        ("c/templates/t.yaml", 1),
        None,
        ("c/templates/t.yaml", 2),
        ("c/templates/t.yaml", 3),
    ]
    assert map_rendered(sources, "c/templates/missing.yaml", "a\nb", []) == ([None, None], {})


def test_line_numbers_follow_yaml_line_breaks() -> None:
    sources = in_memory_sources({"t.yaml": "a: 1\nb: {{ .Values.b }}\nc: 3\n"}, "b: x\n")
    origins, values = map_rendered(sources, "c/templates/t.yaml", "a: 1\nb: x\u2028y\nc: 3\n", [])
    assert [o.line if o else None for o in origins] == [1, 2, 2, 3, None]  # (after the last line break)
    assert values == {2: (ValueOrigin("c/values.yaml", 1, 1, "b"),)}


def test_a_twenty_thousand_line_render_maps_in_well_under_a_second() -> None:
    template = (
        "kind: ConfigMap\ndata:\n"
        "  {{- range $i, $e := .Values.items }}\n"
        "  key{{ $i }}: {{ $e.v | quote }}\n"
        "  {{- if $e.extra }}\n"
        "  extra{{ $i }}: {{ $e.extra }}\n"
        "  {{- end }}\n"
        "  {{- end }}\n"
    )
    sources = in_memory_sources({"t.yaml": template})
    rendered = ["kind: ConfigMap", "data:"]
    for i in range(15_000):
        rendered.append(f'  key{i}: "{i}"')
        if i % 3 == 0:
            rendered.append(f"  extra{i}: x")
    rendered.append("")
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        origins, _ = map_rendered(sources, "c/templates/t.yaml", "\n".join(rendered), [])
        best = min(best, time.perf_counter() - started)
    assert len(rendered) > 20_000
    assert [o.line if o else None for o in origins[2:6]] == [4, 6, 4, 4]
    assert best < 1.0, f"{best:.2f}s"


# -- A real chart: ground truth from an instrumented copy ------------------------------------------

MARK = re.compile(r"\u27e6L(\d+)\u27e7")
KEY = re.compile(r"^\s*(?:- )?([A-Za-z0-9_./-][^:#\"'{}]*?):(?:\s|$)")


def mark_literal_lines(text: str) -> str:
    """Put a marker after each line break of the template's literal text that survives trimming
    (one followed by text on its line): the rendered line then says which template line it is."""
    from infralint.render.helm_map import _BlockNode, _lex, _parse_tree, _Text

    def texts(nodes: list[Any]) -> Any:
        for node in nodes:
            if isinstance(node, _Text):
                yield node
            elif isinstance(node, _BlockNode):
                for _, body in node.branches:
                    yield from texts(body)

    offsets = []
    for node in texts(_parse_tree(_lex(text))[0]):
        start = node.text.find("\n")
        while start >= 0:
            end = node.text.find("\n", start + 1)
            if node.text[start + 1 : end if end >= 0 else None].strip():
                offsets.append(node.start + start + 1)
            start = end
    for offset in sorted(offsets, reverse=True):
        text = f"{text[:offset]}\u27e6L{text.count(chr(10), 0, offset) + 1}\u27e7{text[offset:]}"
    return text


def test_real_chart_against_ground_truth(tmp_path: Path) -> None:
    chart_dir = CORPUS / "kubernetes__ingress-nginx" / "charts" / "ingress-nginx"
    if not chart_dir.is_dir():
        pytest.skip(f"{chart_dir} is absent")
    helm = helm_python()
    marked = tmp_path / "ingress-nginx"
    shutil.copytree(chart_dir, marked)
    for template in (marked / "templates").rglob("*"):
        if template.is_file() and not template.name.startswith("_"):
            template.write_text(mark_literal_lines(template.read_text(encoding="utf-8")), encoding="utf-8")
    sources = ChartSources.load(str(CORPUS), str(chart_dir))
    literal = exact = keys = keys_mapped = 0
    for name, text in helm.Chart.load(str(marked)).render({}, name="t", namespace="t").items():
        lines = text.split("\n")
        origins, _ = map_rendered(sources, name, MARK.sub("", text), [])
        home = sources.template_path(name)
        for line, origin in zip(lines, origins, strict=True):
            truth = MARK.match(line)
            if truth:
                literal += 1
                exact += origin is not None and (origin.path, origin.line) == (home, int(truth.group(1)))
            key = KEY.match(MARK.sub("", line))
            if key and origin is not None:
                keys += 1
                source = (CORPUS / origin.path).read_text(encoding="utf-8").split("\n")[origin.line - 1]
                # The key is in the mapped line's text, or the line is printed by that line's action.
                keys_mapped += key.group(1) in source or (origin.col is not None and "{{" in source)
            elif key:
                keys += 1
    assert literal > 500 and keys > 500
    assert exact == literal, f"{exact}/{literal} literal lines at their exact template line"
    assert keys_mapped / keys > 0.99, f"{keys_mapped}/{keys} key lines"
