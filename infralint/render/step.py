"""The rendering step of a scan: charts and kustomize roots in, rendered sources with maps out.

Runs between discovery and parsing. Each chart is rendered once per values set, each kustomize
root built once; the rendered YAML becomes a SourceFile with a virtual path (the chart or root
folder, a `@` and the release, then the template), which the Kubernetes parser reads like any
manifest. The files a render read are left out of the plain parse, so nothing is judged twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from infralint.render.model import RenderedText, RenderProblem
from infralint.source import SourceFile, Span

T = TypeVar("T")
HOOK_ANNOTATION = "helm.sh/hook"
MAX_OBJECTS = 5000  # per render: past this a chart or root is a finding, not a slow scan


@dataclass(frozen=True)
class Scope:
    """One rendered deployment: a chart's release with one values set, or a kustomize root."""

    id: str  # stable: "helm:charts/podinfo@podinfo[values.yaml]", "kustomize:overlays/prod"
    kind: str  # "helm" | "kustomize"
    label: str  # how messages name it: "release podinfo (values.yaml)", "overlays/prod"
    anchor: Span  # Chart.yaml `name:` line or the root's kustomization file


@dataclass
class VirtualSource:
    source: SourceFile
    text: RenderedText
    scope: Scope


@dataclass
class RenderSettings:
    helm: str = "auto"  # auto | binary | sdk | off
    kustomize: str = "auto"  # auto | off
    kustomize_load_anywhere: bool = False  # --load-restrictor LoadRestrictionsNone
    release: str | None = None  # default: the chart's name
    namespace: str = "default"
    ci_values: bool = False
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)  # chart folder (absolute) -> settings
    config_path: str | None = None  # absolute, for `set` positions


@dataclass
class RenderStep:
    sources: list[VirtualSource] = field(default_factory=list)
    problems: list[RenderProblem] = field(default_factory=list)
    consumed: set[str] = field(default_factory=set)  # absolute files the plain parse skips
    consumed_folders: list[str] = field(default_factory=list)  # absolute folders (with a trailing separator)
    read_texts: dict[str, str] = field(default_factory=dict)  # relative path -> text (suppression comments)
    counts: dict[str, int] = field(default_factory=dict)  # "helm releases", "kustomize roots"
    scopes: dict[str, Scope] = field(default_factory=dict)  # virtual path -> scope
    texts: dict[str, RenderedText] = field(default_factory=dict)  # virtual path -> text

    def add(self, virtual: VirtualSource) -> None:
        self.sources.append(virtual)
        self.scopes[virtual.source.path] = virtual.scope
        self.texts[virtual.source.path] = virtual.text


def run(
    root: str,
    files: Sequence[str],
    settings: RenderSettings,
    timeout: float | None,
    max_bytes: int,
) -> RenderStep:
    """Render every chart and kustomize root among FILES (absolute paths from discovery)."""
    step = RenderStep()
    _render_charts(root, files, settings, timeout, max_bytes, step)
    _build_kustomize_roots(root, files, settings, timeout, max_bytes, step)
    return step


# --- Helm ----------------------------------------------------------------------------------


def _render_charts(
    root: str, files: Sequence[str], settings: RenderSettings, timeout: float | None, max_bytes: int, step: RenderStep
) -> None:
    from infralint.render import charts as chart_files
    from infralint.render import helm

    found, problems = chart_files.find_charts(root, files)
    step.problems.extend(problems)
    if not found:
        return
    backend = helm.choose_backend(settings.helm)
    releases = []
    for chart in found:
        if chart.is_library:
            _consume_chart(chart.folder, step)
            continue
        if backend is None:
            continue  # the templates stay in the plain parse: a note says how to render them
        _consume_chart(chart.folder, step)
        step.read_texts.update(_chart_texts(root, chart.folder))
        step.problems.extend(helm.missing_dependency_problems(chart))
        releases += [(chart, values_set) for values_set in values_sets(chart, settings, root, step)]
    if backend is None:
        return
    # A release may become several: the chart's ci/*-values.yaml when its own values fail on purpose.
    outputs = in_parallel([partial(helm.render_release, c, v, backend, root, timeout, max_bytes) for c, v in releases])
    sources: dict[str, Any] = {}  # chart folder -> its sources, read once for all its releases
    for (chart, _values_set), rendered in zip(releases, outputs, strict=True):
        for values_set, output in rendered:
            _add_release(chart, values_set, output, root, step, sources)


def in_parallel(jobs: Sequence[Callable[[], T]]) -> list[T]:
    """Run JOBS (each mostly waiting on a renderer's process) on the cores there are; results in order."""
    if len(jobs) < 2:
        return [job() for job in jobs]
    from concurrent.futures import ThreadPoolExecutor

    workers = min(len(jobs), len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(lambda job: job(), jobs))


def _consume_chart(folder: str, step: RenderStep) -> None:
    """Every file of a rendered chart is judged through the render, none on its own."""
    step.consumed_folders.append(folder + os.sep)


def values_sets(chart: Any, settings: RenderSettings, root: str, step: RenderStep) -> list[Any]:
    """The releases to render: those configured for the chart, else one per `ci/*-values.yaml`
    when `ci-values` is on and the chart has some, else the chart's own values.yaml."""
    from infralint.render.helm import ValuesSet

    own = settings.charts.get(chart.folder, {})
    release = own.get("release") or settings.release or chart.name
    namespace = own.get("namespace") or settings.namespace
    configured = own.get("values") or []
    sets = [
        _configured_set(chart, entry, index, release, namespace, settings, root)
        for index, entry in enumerate(configured)
    ]
    if not sets and own.get("ci-values", settings.ci_values):
        ci = os.path.join(chart.folder, "ci")
        try:
            names = sorted(n for n in os.listdir(ci) if n.endswith(("-values.yaml", "-values.yml")))
        except OSError:
            names = []
        sets = [ValuesSet(f"ci/{name}", release, namespace, [os.path.join(ci, name)]) for name in names]
    return sets or [ValuesSet("values.yaml", release, namespace)]


def _configured_set(
    chart: Any, entry: dict[str, Any], index: int, release: str, namespace: str, settings: RenderSettings, root: str
) -> Any:
    from infralint.render.helm import SetEntry, ValuesSet

    folder = os.path.dirname(settings.config_path or os.path.join(root, "x"))
    files = [os.path.normpath(os.path.join(folder, path)) for path in entry.get("files") or []]
    config_relative = os.path.relpath(settings.config_path, root).replace(os.sep, "/") if settings.config_path else ""
    sets = []
    for key, value in (entry.get("set") or {}).items():
        line, col = _config_position(settings, chart.folder, index, key)
        sets.append(SetEntry(str(key), value, config_relative, line, col))
    named_files = ", ".join(os.path.relpath(f, chart.folder).replace(os.sep, "/") for f in files)
    label = entry.get("name") or named_files or f"values set {index + 1}"
    return ValuesSet(str(label), entry.get("release") or release, entry.get("namespace") or namespace, files, sets)


def _config_position(settings: RenderSettings, chart_folder: str, index: int, key: str) -> tuple[int, int | None]:
    """Where the configuration writes a `set` entry of a chart's values set."""
    positions = settings.charts.get(chart_folder, {}).get("_positions", {})
    line, col = positions.get(("values", index, "set", key), (None, None))
    if line is None:
        line, col = positions.get(("values", index), (1, None))
    return line, col


def _add_release(chart: Any, values_set: Any, output: Any, root: str, step: RenderStep, loaded: dict[str, Any]) -> None:
    from infralint.render import helm_map

    step.problems.extend(output.problems)
    if output.manifests is None:
        return
    step.counts["helm releases"] = step.counts.get("helm releases", 0) + 1
    tag = values_set.release if values_set.label == "values.yaml" else f"{values_set.release}[{values_set.label}]"
    scope = Scope(
        f"helm:{chart.path}@{tag}",
        "helm",
        f"release {values_set.release} ({values_set.label})",
        Span(chart.chart_file, chart.name_line),
    )
    if chart.folder not in loaded:
        loaded[chart.folder] = helm_map.ChartSources.load(root, chart.folder)
    sources = loaded[chart.folder]
    layers = _values_layers(values_set, root)
    for name in sorted(output.manifests):
        text = output.manifests[name]
        if name.endswith("NOTES.txt") or not _has_content(text):
            continue
        lines, values = helm_map.map_rendered(sources, name, text, layers)
        template = sources.template_path(name) or chart.chart_file
        rendered = RenderedText(name, text, lines, values, home=template)
        inside = name.split("/", 1)[1] if "/" in name else name
        virtual_path = f"{chart.path or '.'}@{tag}/{inside}"
        source = SourceFile(virtual_path, os.path.join(root, template), text, "k8s", root=root, rendered=True)
        step.add(VirtualSource(source, rendered, scope))


TEXT_SUFFIXES = (".yaml", ".yml", ".tpl", ".txt", ".json", ".conf", ".cfg")
MAX_TEXT = 1024 * 1024


def _chart_texts(root: str, folder: str) -> dict[str, str]:
    """The chart's text files by relative path: their suppression comments count."""
    texts = {}
    for current, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(current, d)))
        for name in sorted(names):
            path = os.path.join(current, name)
            if not name.endswith(TEXT_SUFFIXES) or os.path.islink(path):
                continue
            try:
                if os.path.getsize(path) > MAX_TEXT:
                    continue
                with open(path, encoding="utf-8-sig") as handle:
                    texts[os.path.relpath(path, root).replace(os.sep, "/")] = handle.read()
            except (OSError, UnicodeDecodeError):
                continue
    return texts


def _values_layers(values_set: Any, root: str) -> list[Any]:
    from infralint.render.helm_map import ValuesLayer

    layers = []
    for path in values_set.files:
        try:
            with open(path, encoding="utf-8-sig") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError):
            continue
        layers.append(ValuesLayer(os.path.relpath(path, root).replace(os.sep, "/"), text))
    by_file: dict[str, list[tuple[str, int, int | None]]] = {}
    for entry in values_set.sets:
        by_file.setdefault(entry.path, []).append((entry.key, entry.line, entry.col))
    for path, entries in by_file.items():
        layers.append(ValuesLayer(path, None, tuple(entries)))
    return layers


def _has_content(text: str) -> bool:
    """Whether a rendered template holds more than blanks, comments and document markers."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and stripped not in ("---", "..."):
            return True
    return False


# --- Kustomize -----------------------------------------------------------------------------


def _build_kustomize_roots(
    root: str, files: Sequence[str], settings: RenderSettings, timeout: float | None, max_bytes: int, step: RenderStep
) -> None:
    from infralint.parsers.kubernetes import KUSTOMIZATION_NAMES

    if settings.kustomize == "off":
        return
    kustomizations = [path for path in files if os.path.basename(path).lower() in KUSTOMIZATION_NAMES]
    kustomizations = [path for path in kustomizations if not is_consumed(path, step)]
    if not kustomizations:
        return
    from infralint.render import kustomize

    if kustomize.find_binary() is None:
        return
    roots = kustomize.find_roots(root, kustomizations)
    limit = timeout or 60.0
    anywhere = settings.kustomize_load_anywhere
    builds = in_parallel([partial(kustomize.build, root, path, limit, max_bytes, anywhere) for path in roots])
    for built in builds:
        step.problems.extend(_with_hint(problem) for problem in built.problems)
        if not built.texts:
            continue
        step.counts["kustomize roots"] = step.counts.get("kustomize roots", 0) + 1
        folder = os.path.dirname(built.root) or "."
        scope = Scope(
            f"kustomize:{folder}", "kustomize", folder, Span(built.root, _first_content_line(root, built.root))
        )
        for index, rendered in enumerate(built.texts):
            suffix = f"-{index + 1}" if index else ""
            virtual_path = f"{folder}@kustomize/build{suffix}.yaml"
            home = rendered.home or built.root
            source = SourceFile(virtual_path, os.path.join(root, home), rendered.text, "k8s", root=root, rendered=True)
            step.add(VirtualSource(source, rendered, scope))
        for relative in built.inputs:
            if os.path.basename(relative).lower() not in KUSTOMIZATION_NAMES:
                step.consumed.add(os.path.join(root, relative))
            try:
                with open(os.path.join(root, relative), encoding="utf-8-sig") as handle:
                    step.read_texts.setdefault(relative, handle.read())
            except (OSError, UnicodeDecodeError):
                pass


RESTRICTOR_HINT = (
    " (kustomize by default reads no file outside a kustomization's folder; if the project builds with"
    " `--load-restrictor LoadRestrictionsNone`, set `kustomize: {load-restrictor: none}` in .infralint.yaml)"
)


def _with_hint(problem: RenderProblem) -> RenderProblem:
    if "is not in or below" in problem.message and RESTRICTOR_HINT not in problem.message:
        return RenderProblem(
            problem.rule_id, problem.message + RESTRICTOR_HINT, problem.path, problem.line, problem.col
        )
    return problem


def _first_content_line(root: str, relative: str) -> int:
    """The first line of a file that is neither blank nor a comment (1 when there is none)."""
    try:
        with open(os.path.join(root, relative), encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip() and not line.lstrip().startswith("#"):
                    return number
    except (OSError, UnicodeDecodeError):
        pass
    return 1


def is_consumed(path: str, step: RenderStep) -> bool:
    """Whether the plain parse leaves PATH (absolute) to a render."""
    return path in step.consumed or any(path.startswith(folder) for folder in step.consumed_folders)
