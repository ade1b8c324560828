"""Render Helm charts: values sets, the two renderers (`helm template`, the Go SDK), their errors.

Nothing from the repository runs as code and nothing is fetched: no plugins, no post-renderers,
no repository or registry access (dependencies are used only when vendored under charts/), and
`lookup` answers nothing. Each render runs in a child process with a time limit.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from infralint.render.charts import Chart, ci_values_files, escaping_links
from infralint.render.model import RenderProblem
from infralint.resources import load_yaml

RENDER_ERROR = "infralint-render-error"
NOT_FETCHED = "infralint-not-fetched"
HOW_TO_ENABLE = "install `infralint[helm]` (or put `helm` on PATH) to render the chart and judge what it produces"


@dataclass(frozen=True)
class SetEntry:
    """One `set` value of a values set, with where the configuration writes it."""

    key: str  # dotted: image.tag
    value: Any
    path: str  # the configuration file, relative to the scan root
    line: int
    col: int | None


@dataclass
class ValuesSet:
    """What one release of a chart is rendered with: the chart's values.yaml, then FILES, then SETS."""

    label: str  # how messages name it: "values.yaml", "ci/ha-values.yaml", "prod"
    release: str
    namespace: str
    files: list[str] = field(default_factory=list)  # absolute
    sets: list[SetEntry] = field(default_factory=list)


@dataclass
class HelmOutput:
    manifests: dict[str, str] | None  # template name -> rendered text
    problems: list[RenderProblem] = field(default_factory=list)
    stage: str | None = None  # where a render failed: values (the schema), render, timeout, size ...


def choose_backend(preference: str = "auto") -> str | None:
    """`binary` when `helm` is on PATH, else `sdk` when helm-python-sdk is installed, else None."""
    if preference == "off":
        return None
    if preference in ("auto", "binary") and shutil.which("helm"):
        return "binary"
    if preference in ("auto", "sdk") and importlib.util.find_spec("helm_python") is not None:
        return "sdk"
    return None


# --- values --------------------------------------------------------------------------------


def merged_values(values_set: ValuesSet, root: str) -> tuple[dict[str, Any], list[RenderProblem]]:
    """The user's values of a set (files in order, then sets): maps merge, a later value wins."""
    merged: dict[str, Any] = {}
    problems = []
    for path in values_set.files:
        data, problem = _values_file(path, root)
        if problem is not None:
            problems.append(problem)
        elif data:
            deep_merge(merged, data)
    for entry in values_set.sets:
        deep_merge(merged, nest(split_key(entry.key), entry.value))
    return merged, problems


def _values_file(path: str, root: str) -> tuple[dict[str, Any] | None, RenderProblem | None]:
    from infralint.parsers.yamlpos import YamlInputError, load_documents

    relative = os.path.relpath(path, root).replace(os.sep, "/")
    real, real_root = os.path.realpath(path), os.path.realpath(root)
    if not real.startswith(real_root.rstrip(os.sep) + os.sep):
        return None, RenderProblem(RENDER_ERROR, "values file outside the scan root: not read", relative, 1)
    try:
        with open(path, encoding="utf-8-sig") as handle:
            documents = list(load_documents(handle.read()))
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        return None, RenderProblem(RENDER_ERROR, f"cannot read the values file: {reason}", relative, 1)
    except YamlInputError as error:
        message = f"values file is not valid YAML: {error.message}"
        return None, RenderProblem(RENDER_ERROR, message, relative, error.line, error.col)
    data = documents[0].data if documents else None
    if data is None:
        return {}, None
    if not isinstance(data, dict):
        line = documents[0].line
        return None, RenderProblem(RENDER_ERROR, "values file is not a mapping of values", relative, line)
    return data, None


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = value
    return base


def split_key(key: str) -> list[str]:
    """`a.b\\.c` -> [a, b.c]: a dot escaped with a backslash is part of the name, as in `--set`."""
    parts, current, escaped = [], [], False
    for char in key:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ".":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def nest(parts: Sequence[str], value: Any) -> dict[str, Any]:
    nested: Any = value
    for part in reversed(parts):
        nested = {part: nested}
    return dict(nested)


# --- rendering -----------------------------------------------------------------------------


def render_release(
    chart: Chart, values_set: ValuesSet, backend: str, root: str, timeout: float | None, max_bytes: int
) -> list[tuple[ValuesSet, HelmOutput]]:
    """The releases VALUES_SET gives: itself, or, when it is the chart's own values alone and they
    fail on purpose (a `required` value, a values.schema.json that asks for what only the user
    knows), one per chart-testing `ci/*-values.yaml` that renders, as chart-testing itself tests
    the chart. When none renders either, the chart's own failure is the release's: a ci file may
    be a fragment that its CI merges with others, so its failure alone says nothing of the chart."""
    output = render(chart, values_set, backend, root, timeout, max_bytes)
    if output.manifests is not None or not _default_values_only(values_set) or not _fails_on_values(output):
        return [(values_set, output)]
    ci_sets = [
        ValuesSet(
            os.path.relpath(path, chart.folder).replace(os.sep, "/"), values_set.release, values_set.namespace, [path]
        )
        for path in ci_values_files(chart.folder)
    ]
    if not ci_sets:
        return [(values_set, output)]
    from infralint.render.step import in_parallel

    outputs = in_parallel([partial(render, chart, ci_set, backend, root, timeout, max_bytes) for ci_set in ci_sets])
    rendered = list(zip(ci_sets, outputs, strict=True))
    working = [(ci_set, out) for ci_set, out in rendered if out.manifests is not None]
    return working or [(values_set, output)]


def _default_values_only(values_set: ValuesSet) -> bool:
    return values_set.label == "values.yaml" and not values_set.files and not values_set.sets


def _fails_on_values(output: HelmOutput) -> bool:
    """A failure that other values may avoid: the schema, or a template's `required` or `fail`
    (not a timeout, a crash or an output over the limit, which other values would only repeat)."""
    return output.stage in ("values", "render")


def render(
    chart: Chart, values_set: ValuesSet, backend: str, root: str, timeout: float | None, max_bytes: int
) -> HelmOutput:
    """Render CHART with VALUES_SET, in a child process bounded by TIMEOUT seconds and MAX_BYTES."""
    values, problems = merged_values(values_set, root)
    if problems:
        return HelmOutput(None, problems)
    with tempfile.TemporaryDirectory(prefix="infralint-helm-") as scratch:
        folder = _renderable_copy(chart, root, scratch, strip_missing=backend == "binary")
        if backend == "binary":
            answer = _run_binary(folder, values, values_set, scratch, timeout)
        else:
            answer = _run_sdk(folder, values, values_set, timeout, max_bytes)
    if "manifests" in answer:
        manifests = answer["manifests"]
        size = sum(len(text) for text in manifests.values())
        if size > max_bytes:
            return HelmOutput(None, [_too_large(chart, size, max_bytes)])
        return HelmOutput(manifests)
    return HelmOutput(None, [locate_error(chart, answer, values_set, root)], str(answer.get("stage") or "render"))


def _renderable_copy(chart: Chart, root: str, scratch: str, strip_missing: bool) -> str:
    """The chart folder itself, or a copy when it must change: symlinks out of the scan root
    are left out, and for `helm template` (which refuses a chart with a missing dependency)
    dependencies that are not vendored are dropped, so both renderers judge the same chart."""
    links = escaping_links(root, chart.folder)
    missing = chart.missing_dependencies() if strip_missing else []
    if not links and not missing:
        return chart.folder
    copy = os.path.join(scratch, "chart", os.path.basename(chart.folder))
    skipped = set(links)
    shutil.copytree(chart.folder, copy, symlinks=True, ignore=lambda d, names: _skip(d, names, skipped))
    _resolve_inner_links(copy)
    if missing:
        _drop_dependencies(copy, {dep.name for dep in missing})
    return copy


def _skip(folder: str, names: list[str], skipped: set[str]) -> set[str]:
    return {name for name in names if os.path.join(folder, name) in skipped}


def _resolve_inner_links(folder: str) -> None:
    """Links kept in the copy lead inside the scan root; replace them with what they point at."""
    for current, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(current, name)
            if os.path.islink(path):
                target = os.path.realpath(path)
                os.unlink(path)
                if os.path.isdir(target):
                    shutil.copytree(target, path, symlinks=False)
                elif os.path.isfile(target):
                    shutil.copyfile(target, path)


def _drop_dependencies(folder: str, names: set[str]) -> None:
    import yaml

    for file_name in ("Chart.yaml", "requirements.yaml"):
        path = os.path.join(folder, file_name)
        try:
            with open(path, encoding="utf-8-sig") as handle:
                data = load_yaml(handle)
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and isinstance(data.get("dependencies"), list):
            data["dependencies"] = [
                dep for dep in data["dependencies"] if not (isinstance(dep, dict) and dep.get("name") in names)
            ]
            with open(path, "w", encoding="utf-8") as handle:
                yaml.safe_dump(data, handle, sort_keys=False)
    for lock in ("Chart.lock", "requirements.lock"):
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(folder, lock))


def _child_environment(scratch: str) -> dict[str, str]:
    """No kubeconfig, no plugins, no repository config or cache of the user's."""
    keep = {key: os.environ[key] for key in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR") if key in os.environ}
    home = os.path.join(scratch, "home")
    os.makedirs(home, exist_ok=True)
    return {
        **keep,
        "HOME": home,
        "KUBECONFIG": os.path.join(home, "no-kubeconfig"),
        "HELM_PLUGINS": os.path.join(home, "no-plugins"),
        "HELM_CONFIG_HOME": os.path.join(home, "config"),
        "HELM_CACHE_HOME": os.path.join(home, "cache"),
        "HELM_DATA_HOME": os.path.join(home, "data"),
        "HELM_REGISTRY_CONFIG": os.path.join(home, "registry.json"),
        "HELM_REPOSITORY_CONFIG": os.path.join(home, "repositories.yaml"),
    }


def _run_sdk(
    folder: str, values: dict[str, Any], values_set: ValuesSet, timeout: float | None, max_bytes: int
) -> dict[str, Any]:
    request = {
        "chart": folder,
        "values": values,
        "name": values_set.release,
        "namespace": values_set.namespace,
        "max_bytes": max_bytes,
    }
    with tempfile.TemporaryDirectory(prefix="infralint-helm-env-") as scratch:
        try:
            completed = subprocess.run(
                [sys.executable, "-m", "infralint.render.helm_worker"],
                input=json.dumps(request, default=str),
                capture_output=True,
                text=True,
                timeout=timeout or None,
                env={**_child_environment(scratch), "PYTHONPATH": _package_parent()},
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {"error": f"rendering took too long (over {timeout:g} s): stopped", "stage": "timeout"}
    try:
        answer: dict[str, Any] = json.loads(completed.stdout)
    except ValueError:
        detail = (completed.stderr or "").strip().splitlines()[-1:] or [f"exit code {completed.returncode}"]
        return {"error": f"the renderer stopped: {detail[0][:300]}", "stage": "crash"}
    return answer


def _package_parent() -> str:
    """The folder that holds this infralint package, so the child imports the same code."""
    import infralint

    parent = os.path.dirname(os.path.dirname(os.path.abspath(infralint.__file__)))
    extra = os.environ.get("PYTHONPATH")
    return parent + (os.pathsep + extra if extra else "")


_SOURCE = re.compile(r"^# Source: (.+)$", re.MULTILINE)
_SCHEMA_FAILURE = "values don't meet the specifications of the schema"  # `helm template`'s words


def _run_binary(
    folder: str, values: dict[str, Any], values_set: ValuesSet, scratch: str, timeout: float | None
) -> dict[str, Any]:
    values_file = os.path.join(scratch, "values.json")  # JSON is YAML: one file for every value
    with open(values_file, "w", encoding="utf-8") as handle:
        json.dump(values, handle, default=str)
    command = [
        "helm",
        "template",
        values_set.release,
        folder,
        "--namespace",
        values_set.namespace,
        "--values",
        values_file,
    ]
    try:
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout or None,
            env=_child_environment(scratch),
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"rendering took too long (over {timeout:g} s): stopped", "stage": "timeout"}
    except OSError as error:
        return {"error": f"cannot run helm: {error.strerror or error}", "stage": "crash"}
    if completed.returncode != 0:
        message = completed.stderr.strip().removeprefix("Error: ")
        stage = "values" if _SCHEMA_FAILURE in message else "render"
        return {"error": message or f"helm exited with {completed.returncode}", "stage": stage}
    return {"manifests": split_template_output(completed.stdout)}


def split_template_output(output: str) -> dict[str, str]:
    """`helm template` output, one `# Source:` document after another, as template -> text."""
    manifests: dict[str, list[str]] = {}
    for document in re.split(r"^---[ \t]*$", output, flags=re.MULTILINE):
        match = _SOURCE.search(document)
        if match is None:
            continue
        body = document[match.end() :].lstrip("\n")
        manifests.setdefault(match.group(1).strip(), []).append(body)
    return {name: "---\n".join(parts) for name, parts in manifests.items()}


# --- errors --------------------------------------------------------------------------------

# Helm names a template position as `chart/templates/x.yaml:7:4` (or `:7` for a parse error).
_TEMPLATE_POSITION = re.compile(r"([\w.@+\-]+(?:/[\w.@+\-]+)*\.(?:ya?ml|tpl|txt|json)):(\d+)(?::(\d+))?")


def locate_error(chart: Chart, answer: dict[str, Any], values_set: ValuesSet, root: str) -> RenderProblem:
    """A render failure at the file and line Helm names (in the chart or a vendored subchart)."""
    raw = str(answer.get("error", "")).strip()
    stage = answer.get("stage")
    detail = _one_line(raw)
    where = f"release {values_set.release} ({values_set.label})"
    if stage == "values":
        message = f"values do not match the chart's values.schema.json ({where}): {_schema_detail(detail)}"
        return RenderProblem(RENDER_ERROR, message, *schema_error_position(chart, raw, values_set, root))
    match = _TEMPLATE_POSITION.search(raw)
    if match is not None:
        from infralint.render.helm_map import ChartSources

        path = ChartSources.load(root, chart.folder).template_path(match.group(1))
        if path is not None:
            line = int(match.group(2))
            col = int(match.group(3)) + 1 if match.group(3) else None  # Go counts columns from 0
            message = f"the chart does not render ({where}): {_without_position(detail)}"
            return RenderProblem(RENDER_ERROR, message, path, line, col)
    message = f"the chart does not render ({where}): {detail}"
    return RenderProblem(RENDER_ERROR, message, chart.chart_file, chart.name_line)


# The first problem of a schema failure. Helm 4 names a JSON pointer (`- at '/a/b': missing
# properties 'x', 'y'`), Helm 3 a dotted path (`- a.b: x is required`, `- (root): ...`).
_POINTER_PROBLEM = re.compile(r"^- at '([^']*)': (.*)$", re.MULTILINE)
_DOTTED_PROBLEM = re.compile(r"^- (\(root\)|[^:\s]+): (.*)$", re.MULTILINE)
_MISSING = re.compile(r"^missing propert(?:y|ies) '([^']+)'|^([\w.-]+) is required")
_EXTRA = re.compile(r"^additional propert(?:y|ies) '([^']+)'|^Additional property ([\w.-]+) is not allowed")


def schema_error_position(chart: Chart, raw: str, values_set: ValuesSet, root: str) -> tuple[str, int, int | None]:
    """Where a values.schema.json failure is fixed: the values line it names (a wrong value, a key
    the schema does not allow), or for a missing value the schema's `required` line; the
    Chart.yaml `name:` line when neither is found."""
    problem = _first_schema_problem(raw)
    if problem is not None:
        path, text = problem
        missing, extra = _MISSING.match(text), _EXTRA.match(text)
        if extra is not None:
            path = (*path, extra.group(1) or extra.group(2))
        found = _schema_required_position(chart, root, path) if missing is not None else None
        found = found or _values_position(chart, values_set, root, path)
        if found is not None:
            return found
    return chart.chart_file, chart.name_line or 1, None


def _schema_detail(detail: str) -> str:
    """Helm's schema failure less its preamble: `web: - at '/a': ...` -> `at '/a': ...`."""
    detail = re.sub(
        r"^values don't meet the specifications of the schema\(s\) in the following chart\(s\):\s*", "", detail
    )
    return re.sub(r"^[\w.-]+:\s+-\s+", "", detail)


def _first_schema_problem(raw: str) -> tuple[tuple[str, ...], str] | None:
    """The values path (as keys) and the words of the first problem in a schema failure."""
    pointer = _POINTER_PROBLEM.search(raw)
    if pointer is not None:
        return _pointer_keys(pointer.group(1)[1:]), pointer.group(2).strip()
    dotted = _DOTTED_PROBLEM.search(raw)
    if dotted is not None:
        keys: tuple[str, ...] = () if dotted.group(1) == "(root)" else tuple(dotted.group(1).split("."))
        return keys, dotted.group(2).strip()
    return None


def _values_position(
    chart: Chart, values_set: ValuesSet, root: str, path: tuple[str, ...]
) -> tuple[str, int, int | None] | None:
    """The line that sets PATH (or the nearest key above it) in the values the release used: its
    `set` entries, then its files from the last, then the chart's values.yaml."""
    for length in range(len(path), 0, -1):
        key = ".".join(path[:length])
        for entry in reversed(values_set.sets):
            if ".".join(split_key(entry.key)) == key:
                return entry.path, entry.line, entry.col
        for file in [*reversed(values_set.files), os.path.join(chart.folder, "values.yaml")]:
            position = _yaml_positions(file).get(tuple(path[:length]))
            if position is not None:
                return os.path.relpath(file, root).replace(os.sep, "/"), position[0], position[1]
    return None


def _schema_required_position(chart: Chart, root: str, path: tuple[str, ...]) -> tuple[str, int, int | None] | None:
    """The `required` line of the schema object that describes PATH (following local `$ref`s)."""
    schema_file = os.path.join(chart.folder, "values.schema.json")
    document = _yaml_document(schema_file)
    if document is None:
        return None
    data, positions = document
    node: Any = data
    where: tuple[str, ...] = ()
    for key in (*path, None):
        for _ in range(8):  # a `$ref` to a `$ref` ... is followed a few times, never in a loop
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/")):
                break
            where = _pointer_keys(node["$ref"][2:])
            node = _at(data, where)
        if key is None:
            break
        properties = node.get("properties") if isinstance(node, dict) else None
        if not isinstance(properties, dict) or key not in properties:
            return None
        node, where = properties[key], (*where, "properties", key)
    position = positions.get((*where, "required")) if isinstance(node, dict) and "required" in node else None
    if position is None:
        return None
    return os.path.relpath(schema_file, root).replace(os.sep, "/"), position[0], position[1]


def _pointer_keys(pointer: str) -> tuple[str, ...]:
    """The keys of a JSON pointer without its leading `/` (`a/b~1c` -> a, b/c); `` -> none."""
    if not pointer:
        return ()
    return tuple(part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/"))


def _at(data: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _yaml_positions(path: str) -> dict[Any, Any]:
    document = _yaml_document(path)
    return document[1] if document is not None else {}


def _yaml_document(path: str) -> tuple[Any, dict[Any, Any]] | None:
    """The data and key positions of a YAML (or JSON) file's first document; None if unreadable."""
    from infralint.parsers.yamlpos import YamlInputError, load_documents

    try:
        with open(path, encoding="utf-8-sig") as handle:
            documents = list(load_documents(handle.read()))
    except (OSError, UnicodeDecodeError, YamlInputError):
        return None
    return (documents[0].data, documents[0].positions) if documents else None


def _one_line(text: str, limit: int = 400) -> str:
    collapsed = " ".join(part.strip() for part in text.splitlines() if part.strip())
    return collapsed if len(collapsed) <= limit else collapsed[: limit - 1] + "…"


def _without_position(detail: str) -> str:
    """Helm's message less the position it starts with (the finding carries it)."""
    detail = re.sub(r"^(execution error|parse error) at \([^)]*\):\s*", "", detail)
    detail = re.sub(r"^template: [^:]+:\d+(:\d+)?:\s*", "", detail)
    return re.sub(r"^[\w.@+\-/]+:\d+(:\d+)?:?\s*", "", detail)


def _too_large(chart: Chart, size: int, limit: int) -> RenderProblem:
    message = f"the chart renders {size:,} bytes, over the {limit:,}-byte limit for one render: not judged"
    return RenderProblem(RENDER_ERROR, message, chart.chart_file, chart.name_line)


def missing_dependency_problems(chart: Chart) -> list[RenderProblem]:
    """Each declared dependency that is not vendored under charts/: nothing is fetched."""
    problems = []
    for dep in chart.missing_dependencies():
        source = f" from {dep.repository}" if dep.repository else ""
        version = f" {dep.version}" if dep.version else ""
        message = (
            f"chart {chart.name} depends on {dep.name}{version}{source}, which is not vendored under "
            f"{chart.relative('charts')}/: infralint fetches nothing, so its templates are not rendered "
            "(run `helm dependency build` and commit charts/, or scan where it is vendored)"
        )
        problems.append(RenderProblem(NOT_FETCHED, message, dep.declared_in, dep.line, dep.col))
    return problems
