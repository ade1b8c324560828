"""Helm charts in a scan: which folders are charts, what they depend on, what is vendored."""

from __future__ import annotations

import os
import posixpath
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from infralint.render.model import RenderProblem

CHART_FILES = ("Chart.yaml", "Chart.yml")


@dataclass(frozen=True)
class Dependency:
    name: str
    version: str
    repository: str
    alias: str | None
    line: int  # of its entry in Chart.yaml (or requirements.yaml)
    col: int
    declared_in: str  # relative path of the file that declares it


@dataclass
class Chart:
    """A chart folder: ``path`` relative to the scan root, ``folder`` absolute."""

    folder: str
    path: str
    chart_file: str  # relative path of Chart.yaml
    name: str
    api_version: str
    chart_type: str  # "application" or "library"
    name_line: int
    dependencies: list[Dependency] = field(default_factory=list)
    vendored: dict[str, str] = field(default_factory=dict)  # subchart name -> relative folder or .tgz

    @property
    def is_library(self) -> bool:
        return self.chart_type == "library"

    def missing_dependencies(self) -> list[Dependency]:
        return [dep for dep in self.dependencies if dep.name not in self.vendored]

    def relative(self, *parts: str) -> str:
        return posixpath.join(self.path, *parts) if self.path not in ("", ".") else posixpath.join(*parts)


def ci_values_files(folder: str) -> list[str]:
    """The chart-testing values files of the chart in FOLDER (`ci/*-values.yaml`), sorted, absolute."""
    ci = os.path.join(folder, "ci")
    try:
        names = sorted(n for n in os.listdir(ci) if n.endswith(("-values.yaml", "-values.yml")))
    except OSError:
        return []
    return [os.path.join(ci, name) for name in names if os.path.isfile(os.path.join(ci, name))]


def chart_file_in(folder: str) -> str | None:
    for name in CHART_FILES:
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def is_chart_folder(folder: str) -> bool:
    """A Chart.yaml beside templates/, or beside charts/ (an umbrella chart of subcharts only)."""
    return chart_file_in(folder) is not None and (
        os.path.isdir(os.path.join(folder, "templates")) or os.path.isdir(os.path.join(folder, "charts"))
    )


def is_subchart_folder(folder: str) -> bool:
    """A chart vendored under another chart's charts/: rendered with its parent, never alone."""
    parent = os.path.dirname(folder)
    return os.path.basename(parent) == "charts" and chart_file_in(os.path.dirname(parent)) is not None


def find_charts(root: str, files: Iterable[str]) -> tuple[list[Chart], list[RenderProblem]]:
    """Charts among the scanned files (a Chart.yaml beside templates/ or charts/), sorted by path.

    Charts vendored as dependencies of another chart are not listed: they render with it.
    """
    charts: list[Chart] = []
    problems: list[RenderProblem] = []
    for absolute in sorted(files):
        if os.path.basename(absolute) not in CHART_FILES:
            continue
        folder = os.path.dirname(absolute)
        if not is_chart_folder(folder) or is_subchart_folder(folder):
            continue
        chart, problem = load_chart(root, folder)
        if chart is not None:
            charts.append(chart)
        if problem is not None:
            problems.append(problem)
    return charts, problems


def load_chart(root: str, folder: str) -> tuple[Chart | None, RenderProblem | None]:
    from infralint.parsers.yamlpos import YamlInputError, load_documents

    chart_file = chart_file_in(folder)
    assert chart_file is not None
    relative_file = _relative(root, chart_file)
    try:
        with open(chart_file, encoding="utf-8-sig") as handle:
            documents = list(load_documents(handle.read()))
    except (OSError, UnicodeDecodeError) as error:
        return None, RenderProblem("infralint-render-error", f"cannot read the chart: {error}", relative_file, 1)
    except YamlInputError as error:
        message = f"Chart.yaml is not valid YAML: {error.message}: the chart is not rendered"
        return None, RenderProblem("infralint-render-error", message, relative_file, error.line, error.col)
    data = documents[0].data if documents else None
    positions = documents[0].positions if documents else {}
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        line = documents[0].line if documents else 1
        message = "Chart.yaml names no chart (`name:` is missing): the chart is not rendered"
        return None, RenderProblem("infralint-render-error", message, relative_file, line)
    name_pos = positions.get(("name",), (1, 1, 1))
    chart = Chart(
        folder=folder,
        path=_relative(root, folder),
        chart_file=relative_file,
        name=data["name"],
        api_version=str(data.get("apiVersion") or "v1"),
        chart_type=str(data.get("type") or "application"),
        name_line=name_pos[0],
    )
    chart.dependencies = _declared_dependencies(root, folder, data, positions, relative_file)
    chart.vendored = vendored_subcharts(root, folder)
    return chart, None


def _declared_dependencies(
    root: str, folder: str, data: dict[str, Any], positions: dict[Any, Any], chart_file: str
) -> list[Dependency]:
    """apiVersion v2 declares dependencies in Chart.yaml; v1 charts in requirements.yaml."""
    entries, table, declared_in = data.get("dependencies"), positions, chart_file
    if not isinstance(entries, list):
        entries, table, declared_in = _requirements(root, folder)
    found = []
    for index, entry in enumerate(entries if isinstance(entries, list) else ()):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        line, col, _ = table.get(("dependencies", index), (1, 1, 1))
        alias = entry.get("alias") if isinstance(entry.get("alias"), str) else None
        found.append(
            Dependency(
                entry["name"],
                str(entry.get("version") or ""),
                str(entry.get("repository") or ""),
                alias,
                line,
                col,
                declared_in,
            )
        )
    return found


def _requirements(root: str, folder: str) -> tuple[Any, dict[Any, Any], str]:
    from infralint.parsers.yamlpos import YamlInputError, load_documents

    path = os.path.join(folder, "requirements.yaml")
    try:
        with open(path, encoding="utf-8-sig") as handle:
            documents = list(load_documents(handle.read()))
    except (OSError, UnicodeDecodeError, YamlInputError):
        return None, {}, ""
    if not documents or not isinstance(documents[0].data, dict):
        return None, {}, ""
    return documents[0].data.get("dependencies"), documents[0].positions, _relative(root, path)


def vendored_subcharts(root: str, folder: str) -> dict[str, str]:
    """Charts under charts/ by chart name, as paths relative to ROOT (see subchart_paths)."""
    return {name: _relative(root, path) for name, path in subchart_paths(folder).items()}


def subchart_paths(folder: str) -> dict[str, str]:
    """Charts under FOLDER/charts by chart name: folders with a Chart.yaml, and .tgz archives
    (named by their Chart.yaml), as absolute paths; folder names may differ from chart names."""
    charts_dir = os.path.join(folder, "charts")
    found: dict[str, str] = {}
    try:
        names = sorted(os.listdir(charts_dir))
    except OSError:
        return found
    for name in names:
        path = os.path.join(charts_dir, name)
        if os.path.isdir(path):
            sub = chart_file_in(path)
            chart_name = _chart_name(sub) if sub else None
        elif name.endswith(".tgz") and os.path.isfile(path):
            chart_name = archive_chart_name(path)
        else:
            chart_name = None
        if chart_name:
            found.setdefault(chart_name, path)
    return found


def _chart_name(chart_file: str) -> str | None:
    import yaml

    try:
        with open(chart_file, encoding="utf-8-sig") as handle:
            data = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


MAX_ARCHIVE_MEMBER = 1024 * 1024


def archive_chart_name(path: str) -> str | None:
    """The name in a packaged chart's top-level Chart.yaml, read without extracting anything."""
    import yaml

    try:
        with tarfile.open(path, "r:gz") as archive:
            for member in archive:
                parts = member.name.split("/")
                if len(parts) == 2 and parts[1] == "Chart.yaml" and member.isfile():
                    if member.size > MAX_ARCHIVE_MEMBER:
                        return None
                    handle = archive.extractfile(member)
                    if handle is None:
                        return None
                    data = yaml.load(handle.read(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
                    name = data.get("name") if isinstance(data, dict) else None
                    return name if isinstance(name, str) else None
    except (OSError, tarfile.TarError, EOFError, yaml.YAMLError, UnicodeDecodeError, ValueError):
        return None
    return None


def escaping_links(root: str, folder: str) -> list[str]:
    """Symlinks inside a chart that lead out of the scan root (Helm would follow them)."""
    real_root = os.path.realpath(root)
    found = []
    for current, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(current, name)
            if os.path.islink(path):
                target = os.path.realpath(path)
                if target != real_root and not target.startswith(real_root.rstrip(os.sep) + os.sep):
                    found.append(path)
    return found


def _relative(root: str, path: str) -> str:
    relative = os.path.relpath(path, root).replace(os.sep, "/")
    return "" if relative == "." else relative
