"""Kustomize roots built safely, with every rendered line mapped back to the file that wrote it.

A build never runs the scanned repository's code, never fetches, and never writes the user's tree:

- the files a root reaches (kustomizations, resources, patches, generator files ...) are read from
  the scan root, never through a symlink that leaves it, and copied into a temporary tree;
- in the copy, remote resources, ``helmCharts`` and transformers/generators/validators that are
  KRM functions or exec plugins are removed (each becomes a RenderProblem at its entry), and the
  root kustomization asks for origin and transformer annotations (``buildMetadata``);
- kustomize (or ``kubectl kustomize``) runs on the copy with no plugin flags, a clean environment
  (an empty PATH, so no git or helm; a dead proxy, so no HTTP fetch), no stdin, a timeout and an
  output bound.

kustomize_map then turns the annotations into a map from each rendered line to its source line
and strips them from the text.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from infralint.parsers.yamlpos import YamlDocument, YamlInputError, load_documents
from infralint.render.kustomize_map import MAPPED_METADATA, Sources, map_output
from infralint.render.model import RenderedText, RenderProblem

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
RENDER_ERROR = "infralint-render-error"
NOT_FETCHED = "infralint-not-fetched"

MAX_FILES = 10_000
MAX_COPY_BYTES = 64 * 1024 * 1024
MAX_MESSAGE = 2000

# Builtin transformer and generator kinds kustomize runs in-process (apiVersion: builtin).
# HelmChartInflationGenerator is builtin too, but it runs helm: it is never kept.
BUILTIN_KINDS = frozenset(
    {
        "AnnotationsTransformer",
        "ConfigMapGenerator",
        "HashTransformer",
        "IAMPolicyGenerator",
        "ImageTagTransformer",
        "LabelTransformer",
        "LegacyOrderTransformer",
        "NamespaceTransformer",
        "PatchJson6902Transformer",
        "PatchStrategicMergeTransformer",
        "PatchTransformer",
        "PrefixSuffixTransformer",
        "PrefixTransformer",
        "ReplacementTransformer",
        "ReplicaCountTransformer",
        "SecretGenerator",
        "SortOrderTransformer",
        "SuffixTransformer",
        "ValueAddTransformer",
    }
)
_FUNCTION_ANNOTATIONS = ("config.kubernetes.io/function", "config.k8s.io/function")
_HELM_KEYS = ("helmCharts", "helmChartInflationGenerator")
_PLUGIN_LISTS = ("generators", "transformers", "validators")
_GENERATOR_LISTS = ("configMapGenerator", "secretGenerator")
# A reference kustomize would fetch: a URL, a git address, or `host.tld/...` (kustomize tries
# such a path as a repository when it is not a local folder).
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|git::|github\.com/|gitlab\.com/|bitbucket\.org/)|\?ref=", re.I)
_HOST_LIKE = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?/", re.I)


def find_binary() -> list[str] | None:
    """The command that builds a kustomization folder: standalone kustomize, else kubectl's (on
    PATH, or installed beside this Python by the `kustomize` extra)."""
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    beside = os.path.join(os.path.dirname(sys.executable), "kubectl")
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return [beside, "kustomize"]
    return None


def find_roots(root: str, kustomization_files: Sequence[str]) -> list[str]:
    """The kustomization files no other one reaches (resources, bases, components ...), less Components.

    A file that is not a readable mapping is still a root: its build reports why it fails. Two
    kustomizations that reach each other are neither (kustomize refuses the cycle anyway).
    References leaving ROOT reach nothing of the scan.
    """
    scan_root = os.path.abspath(root)
    files = sorted({os.path.abspath(path) for path in kustomization_files})
    by_folder: dict[str, list[str]] = {}
    for path in files:
        by_folder.setdefault(os.path.dirname(path), []).append(path)
    reached: set[str] = set()
    for path in files:
        data = _read_mapping(path)
        if data is None:
            continue
        if data.get("kind") == "Component":
            reached.add(path)
        folder = os.path.dirname(path)
        for key in ("resources", "bases", "components", *_PLUGIN_LISTS):
            for item in _strings(data.get(key)):
                if "\n" in item or _is_remote(item):
                    continue
                target = os.path.normpath(os.path.join(folder, item))
                if os.path.relpath(target, scan_root).startswith(".."):
                    continue
                reached.update(other for other in by_folder.get(target, []) if other != path)
    return [path for path in files if path not in reached]


@dataclass
class KustomizeBuild:
    root: str  # the root kustomization file, relative to the scan root
    texts: list[RenderedText] = field(default_factory=list)
    problems: list[RenderProblem] = field(default_factory=list)
    inputs: set[str] = field(default_factory=set)  # files of the scan the build read


def build(
    root: str,
    kustomization_file: str,
    timeout: float = 10.0,
    max_output_bytes: int = 20 * 1024 * 1024,
    load_anywhere: bool = False,
) -> KustomizeBuild:
    """Build one root kustomization from a safe copy; never raises. LOAD_ANYWHERE lets a
    kustomization read files beside or above its folder (`--load-restrictor LoadRestrictionsNone`);
    the copy holds only files of the scan root either way."""
    scan_root = os.path.abspath(root)
    relative = _relative(os.path.abspath(kustomization_file), scan_root)
    result = KustomizeBuild(root=relative)
    flags = ["--load-restrictor", "LoadRestrictionsNone"] if load_anywhere else []
    try:
        _build_into(result, scan_root, relative, timeout, max_output_bytes, flags)
    except Exception as error:  # a last resort: one root must not stop a scan
        result.problems.append(RenderProblem(RENDER_ERROR, f"kustomize build not completed: {error!r}", relative, 1))
    return result


def _build_into(
    result: KustomizeBuild, scan_root: str, relative: str, timeout: float, max_output: int, flags: list[str]
) -> None:
    if relative.startswith("../") or not os.path.isfile(os.path.join(scan_root, relative)):
        result.problems.append(RenderProblem(RENDER_ERROR, "kustomization file not found in the scan", relative))
        return
    tree = _Tree(scan_root)
    tree.visit_kustomization(relative)
    if relative not in tree.kustomizations and not tree.too_big:
        message = "not read: the kustomization is a symlink out of the scan root"
        result.problems.append(RenderProblem(RENDER_ERROR, message, relative, 1))
        return
    result.problems.extend(tree.problems)
    result.inputs = tree.inputs()
    if tree.too_big:
        return
    binary = find_binary()
    command = shutil.which(binary[0]) if binary else None
    if binary is None or command is None:
        result.problems.append(
            RenderProblem(
                RENDER_ERROR,
                "not built: neither kustomize nor kubectl is installed",
                relative,
                tree.first_line(relative),
            )
        )
        return
    with tempfile.TemporaryDirectory(prefix="infralint-kustomize-") as work:
        copy = os.path.join(work, "tree")
        tree.write_copy(copy, relative, MAPPED_METADATA)
        folder = posixpath.dirname(relative) or "."
        run = _run([command, *binary[1:], *flags, folder], copy, work, timeout, max_output)
        if run.returncode not in (0, None) and "buildMetadata" in run.stderr:
            # A kustomize older than 4.5 knows no buildMetadata: build unmapped rather than not at all.
            tree.write_copy(copy, relative, None)
            run = _run([command, *binary[1:], *flags, folder], copy, work, timeout, max_output)
        if run.failure:
            result.problems.append(
                RenderProblem(RENDER_ERROR, f"not built: {run.failure}", relative, tree.first_line(relative))
            )
            return
        if run.returncode != 0:
            result.problems.append(_build_error(run.stderr, copy, tree, relative))
            return
    text = run.stdout.decode("utf-8", errors="replace")
    sources = Sources(scan_root, tree.inputs(), {path: k.doc for path, k in tree.kustomizations.items()})
    rendered = map_output(text, posixpath.dirname(relative), sources, tree.kept_metadata)
    rendered.name = posixpath.dirname(relative) or "."
    rendered.home = relative
    result.texts.append(rendered)


# --- the files a root reaches ---------------------------------------------------------------


@dataclass
class _Kustomization:
    path: str  # relative to the scan root
    text: str
    doc: YamlDocument | None
    error: YamlInputError | None = None
    removals: list[tuple[Any, ...]] = field(default_factory=list)  # entries left out of the copy


@dataclass(frozen=True)
class _Entry:
    """A file or folder a kustomization (or a transformer config) names, where it names it."""

    source: str  # the file that names it, relative to the scan root
    text: str  # as written
    target: str | None  # the path it names, relative to the scan root; None if inline or remote
    line: int
    col: int
    field: str  # "resources", "patches" ...


class _Tree:
    """Walks a root's kustomizations from the scan root, collecting what a build will read."""

    def __init__(self, scan_root: str) -> None:
        self.scan_root = scan_root
        self.real_root = os.path.realpath(scan_root)
        self.kustomizations: dict[str, _Kustomization] = {}  # in walk order, the root first
        self.files: dict[str, None] = {}  # other files to copy, relative to the scan root
        self.entries: list[_Entry] = []
        self.problems: list[RenderProblem] = []
        self.copy_bytes = 0
        self.too_big = False
        self.kept_metadata: frozenset[str] = frozenset()  # buildMetadata the user asked for

    def inputs(self) -> set[str]:
        return set(self.kustomizations) | set(self.files)

    def first_line(self, path: str) -> int:
        kustomization = self.kustomizations.get(path)
        return kustomization.doc.line if kustomization and kustomization.doc else 1

    # Reading ---------------------------------------------------------------------------------

    def visit_folder(self, folder: str) -> None:
        names = [name for name in KUSTOMIZATION_NAMES if os.path.isfile(self._absolute(posixpath.join(folder, name)))]
        for name in names:  # several: kustomize refuses the folder, but reads them all
            self.visit_kustomization(_join(folder, name))

    def visit_kustomization(self, path: str) -> None:
        if path in self.kustomizations or not self._inside(path) or not self._count(path):
            return
        text = self._read_text(path)
        doc, error = _first_document(text)
        kustomization = _Kustomization(path, text, doc, error)
        self.kustomizations[path] = kustomization
        if doc is not None and isinstance(doc.data, dict):
            _KustomizationReader(self, kustomization).read()

    def reference(
        self, source: str, folder: str, key: tuple[Any, ...], text: str, positions: Any, name: str
    ) -> str | None:
        """Record an entry naming a local path; the path it names (relative), or None if outside."""
        line, col = _line_col(positions, key)
        target = _resolve(folder, text)
        if target is None or not self._inside(target):
            self.problems.append(
                RenderProblem(
                    RENDER_ERROR, f"not read: {name} entry {text!r} is outside the scan root", source, line, col
                )
            )
            return None
        self.entries.append(_Entry(source, text, target, line, col, name))
        return target

    def add_file(self, path: str) -> None:
        if path not in self.files and os.path.isfile(self._absolute(path)) and self._inside(path) and self._count(path):
            self.files[path] = None

    def read_documents(self, path: str) -> list[Any]:
        """The documents of a file of the scan (empty if unreadable or not YAML)."""
        try:
            return [doc.data for doc in load_documents(self._read_text(path))]
        except YamlInputError:
            return []

    def _read_text(self, path: str) -> str:
        try:
            with open(self._absolute(path), "rb") as handle:
                return handle.read(MAX_COPY_BYTES).decode("utf-8", errors="replace")
        except OSError:
            return ""

    def _count(self, path: str) -> bool:
        """Whether one more file fits in the copy's bounds."""
        try:
            size = os.path.getsize(self._absolute(path))
        except OSError:
            size = 0
        self.copy_bytes += size
        if len(self.files) + len(self.kustomizations) >= MAX_FILES or self.copy_bytes > MAX_COPY_BYTES:
            if not self.too_big:
                self.too_big = True
                root = next(iter(self.kustomizations), path)
                message = f"not built: the root reaches more than {MAX_FILES} files or {MAX_COPY_BYTES} bytes"
                self.problems.append(RenderProblem(RENDER_ERROR, message, root, self.first_line(root)))
            return False
        return True

    def _absolute(self, path: str) -> str:
        return os.path.join(self.scan_root, *path.split("/"))

    def _inside(self, path: str) -> bool:
        """Whether PATH stays in the scan root once symlinks are resolved."""
        real = os.path.realpath(self._absolute(path))
        return real == self.real_root or real.startswith(self.real_root.rstrip(os.sep) + os.sep)

    # The copy --------------------------------------------------------------------------------

    def write_copy(self, copy: str, root: str, metadata: Sequence[str] | None) -> None:
        """Write the files under COPY; the ROOT kustomization asks for METADATA (buildMetadata)."""
        for path in self.files:
            if path not in self.kustomizations:
                _write(copy, path, self._read_bytes(path))
        for path, kustomization in self.kustomizations.items():
            is_root = path == root
            if is_root and kustomization.doc is not None:
                self.kept_metadata = _user_metadata(kustomization.doc.data)
            text = _edited_text(kustomization, metadata if is_root else None)
            _write(copy, path, text.encode("utf-8"))

    def _read_bytes(self, path: str) -> bytes:
        try:
            with open(self._absolute(path), "rb") as handle:
                return handle.read(MAX_COPY_BYTES)
        except OSError:
            return b""


class _KustomizationReader:
    """Reads one kustomization's entries: what to copy, and what to leave out of the copy."""

    def __init__(self, tree: _Tree, kustomization: _Kustomization) -> None:
        assert kustomization.doc is not None
        self.tree = tree
        self.k = kustomization
        self.data: dict[Any, Any] = kustomization.doc.data
        self.positions = kustomization.doc.positions
        self.folder = posixpath.dirname(kustomization.path)

    def read(self) -> None:
        for key in ("resources", "bases", "components"):
            for path, item in self._strings(key):
                self._resource(path, item, key)
        for key in ("crds", "configurations"):
            for path, item in self._strings(key):
                self._file(path, item, key)
        self._patches()
        self._generators()
        for key in _PLUGIN_LISTS:
            for path, item in self._strings(key):
                self._plugin_entry(path, item, key)
        for index, item in _items(self.data.get("replacements")):
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                self._file(("replacements", index, "path"), item["path"], "replacements", ("replacements", index))
        openapi = self.data.get("openapi")
        if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
            self._file(("openapi", "path"), openapi["path"], "openapi", ("openapi",))
        self._helm()

    def _strings(self, key: str) -> Iterator[tuple[tuple[Any, ...], str]]:
        for index, item in _items(self.data.get(key)):
            if isinstance(item, str):
                yield (key, index), item

    def _remote(self, path: tuple[Any, ...], item: str, key: str, removal: tuple[Any, ...] | None = None) -> bool:
        """A remote entry is left out of the copy (REMOVAL, else the entry), as a not-fetched problem."""
        local = _resolve(self.folder, item)
        if not _is_remote(item, local is not None and os.path.exists(self.tree._absolute(local))):
            return False
        line, col = _line_col(self.positions, path)
        message = f"not fetched: remote {key} entry {item!r} (infralint builds offline)"
        self.tree.problems.append(RenderProblem(NOT_FETCHED, message, self.k.path, line, col))
        self.k.removals.append(removal or path)
        return True

    def _resource(self, path: tuple[Any, ...], item: str, key: str) -> None:
        if self._remote(path, item, key):
            return
        target = self.tree.reference(self.k.path, self.folder, path, item, self.positions, key)
        if target is None:
            self.k.removals.append(path)
        elif os.path.isdir(self.tree._absolute(target)):
            self.tree.visit_folder(target)
        else:
            self.tree.add_file(target)

    def _file(self, path: tuple[Any, ...], item: str, key: str, removal: tuple[Any, ...] | None = None) -> str | None:
        """A file entry; REMOVAL: what leaves the copy when it cannot be read (else the entry)."""
        gone = removal or path
        if self._remote(path, item, key, gone):
            return None
        target = self.tree.reference(self.k.path, self.folder, path, item, self.positions, key)
        if target is None:
            self.k.removals.append(gone)
            return None
        self.tree.add_file(target)
        return target

    def _patches(self) -> None:
        for key in ("patches", "patchesJson6902"):
            for index, item in _items(self.data.get(key)):
                if isinstance(item, dict) and isinstance(item.get("path"), str):
                    self._file((key, index, "path"), item["path"], key, (key, index))
        for path, item in self._strings("patchesStrategicMerge"):
            if "\n" not in item:  # else an inline patch
                self._file(path, item, "patchesStrategicMerge")

    def _generators(self) -> None:
        for key in _GENERATOR_LISTS:
            for index, item in _items(self.data.get(key)):
                if isinstance(item, dict):
                    self._generator_files((key, index), item)

    def _generator_files(self, path: tuple[Any, ...], item: dict[Any, Any]) -> None:
        """A generator's files (`key=path` or `path`) and env files; one unreadable drops the entry."""
        for index, source in _items(item.get("files")):
            if isinstance(source, str):
                self._file((*path, "files", index), source.split("=", 1)[-1].strip(), "files", path)
        for index, source in _items(item.get("envs")):
            if isinstance(source, str):
                self._file((*path, "envs", index), source, "envs", path)
        if isinstance(item.get("env"), str):
            self._file((*path, "env"), item["env"], "env", path)

    def _plugin_entry(self, path: tuple[Any, ...], item: str, key: str) -> None:
        """A generators/transformers/validators entry: kept only if every config is builtin."""
        if self._remote(path, item, key):
            return
        if "\n" in item:  # an inline config
            configs = _documents_of(item)
        else:
            target = self.tree.reference(self.k.path, self.folder, path, item, self.positions, key)
            if target is None:
                self.k.removals.append(path)
                return
            configs = self._configs_at(target)
        reasons = [reason for reason in map(_plugin_reason, configs) if reason]
        if reasons:
            line, col = _line_col(self.positions, path)
            message = f"not run: {key} entry {item.splitlines()[0]!r} is {reasons[0]} (infralint runs no code from the repository)"
            self.tree.problems.append(RenderProblem(RENDER_ERROR, message, self.k.path, line, col))
            self.k.removals.append(path)
            return
        for config in configs:
            self._builtin_config_files(config)

    def _configs_at(self, target: str) -> list[Any]:
        """The configs a transformers entry names: a file's documents, or a folder's resources."""
        if not os.path.isdir(self.tree._absolute(target)):
            self.tree.add_file(target)
            return self.tree.read_documents(target)
        self.tree.visit_folder(target)
        configs: list[Any] = []
        for name in KUSTOMIZATION_NAMES:
            kustomization = self.tree.kustomizations.get(_join(target, name))
            if kustomization and kustomization.doc and isinstance(kustomization.doc.data, dict):
                for item in _strings(kustomization.doc.data.get("resources")):
                    resolved = _resolve(target, item)
                    if resolved and os.path.isfile(self.tree._absolute(resolved)):
                        configs += self.tree.read_documents(resolved)
        return configs

    def _builtin_config_files(self, config: Any) -> None:
        """Files a builtin config names (relative to this kustomization): copy them too."""
        if not isinstance(config, dict):
            return
        names: list[str] = []
        if isinstance(config.get("path"), str):
            names.append(config["path"])
        names += [item for item in _strings(config.get("paths"))]
        names += [item.split("=", 1)[-1] for item in _strings(config.get("files"))]
        names += list(_strings(config.get("envs")))
        names += [
            r["path"]
            for r in _list(config.get("replacements"))
            if isinstance(r, dict) and isinstance(r.get("path"), str)
        ]
        for name in names:
            target = _resolve(self.folder, name)
            if target and self.tree._inside(target):
                self.tree.add_file(target)

    def _helm(self) -> None:
        for key in _HELM_KEYS:
            if key not in self.data:
                continue
            charts: list[tuple[int | None, Any]] = [*_items(self.data[key])] or [(None, None)]
            for index, chart in charts:
                path = (key,) if index is None else (key, index)
                line, col = _line_col(self.positions, path)
                name = chart.get("name") if isinstance(chart, dict) else None
                message = f"not run: {key} entry{f' {name!r}' if name else ''} (kustomize would run helm; infralint runs no code from the repository)"
                self.tree.problems.append(RenderProblem(RENDER_ERROR, message, self.k.path, line, col))
            self.k.removals.append((key,))
        if "helmGlobals" in self.data:
            self.k.removals.append(("helmGlobals",))


def _plugin_reason(config: Any) -> str | None:
    """Why a transformer/generator config would run code; None for a builtin one."""
    if not isinstance(config, dict):
        return None
    metadata = config.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if isinstance(annotations, dict) and any(key in annotations for key in _FUNCTION_ANNOTATIONS):
        return f"a KRM function ({config.get('kind')})"
    kind = config.get("kind")
    if config.get("apiVersion") == "builtin" and kind in BUILTIN_KINDS:
        return None
    if kind == "HelmChartInflationGenerator":
        return "a helm chart inflation (kustomize would run helm)"
    return f"an exec or Go plugin ({config.get('apiVersion')}/{kind})"


# --- editing the copy's kustomizations ---------------------------------------------------------


def _user_metadata(data: Any) -> frozenset[str]:
    if not isinstance(data, dict):
        return frozenset()
    return frozenset(item for item in _strings(data.get("buildMetadata")))


def _edited_text(kustomization: _Kustomization, metadata: Sequence[str] | None) -> str:
    """The kustomization's text less its removed entries, plus buildMetadata for the root.

    Entries are cut out by line so the rest stays as the user wrote it (PyYAML and kustomize
    read some scalars differently: `yes`, `0755`); a key whose entries share lines with others
    (flow style) is written again as JSON.
    """
    doc = kustomization.doc
    if doc is None or not isinstance(doc.data, dict) or (not kustomization.removals and metadata is None):
        return kustomization.text
    lines = kustomization.text.splitlines(keepends=True)
    if not _block_mapping(doc, lines):
        return _as_json(doc.data, kustomization.removals, metadata)
    dropped: set[int] = set()
    rewritten: dict[Any, Any] = {}
    for path in kustomization.removals:
        span = _own_lines(doc, lines, path)
        if span is not None:
            dropped.update(range(span[0] - 1, span[1]))
        else:
            rewritten[path[0]] = None
    for key in rewritten:
        rewritten[key] = _without(doc.data[key], key, kustomization.removals)
    if metadata is not None:
        wanted = list(dict.fromkeys([*metadata, *_strings(doc.data.get("buildMetadata"))]))
        rewritten["buildMetadata"] = wanted
    out: list[str] = []
    for index, line in enumerate(lines):
        key = _top_key_at(doc, index + 1)
        if key in rewritten:
            out.append(f"{json.dumps(key)}: {json.dumps(rewritten.pop(key))}\n")
            start, _col, end = doc.positions[(key,)]
            dropped.update(range(start - 1, end))
        if index not in dropped:
            out.append(line if line.endswith("\n") else line + "\n")
    for key, value in rewritten.items():  # keys the file did not have (buildMetadata)
        if value is not None or key == "buildMetadata":
            out.append(f"{json.dumps(key)}: {json.dumps(value)}\n")
    return "".join(out)


def _block_mapping(doc: YamlDocument, lines: list[str]) -> bool:
    """A one-document block mapping whose top-level keys each start their own line at column 1."""
    keys = [doc.positions[(key,)] for key in doc.data if (key,) in doc.positions]
    if any(col != 1 for _line, col, _end in keys):
        return False
    last = max((end for _l, _c, end in keys), default=0)
    # A second document after this one would receive the appended keys.
    return not any(line.startswith(("---", "...")) for line in lines[last:])


def _own_lines(doc: YamlDocument, lines: list[str], path: tuple[Any, ...]) -> tuple[int, int] | None:
    """The lines (1-based, inclusive) only PATH occupies, or None when it shares one (flow style).

    A key or item runs over the lines indented deeper than it (a top-level key also over its
    `- ` items at column 1); yamlpos's end line is not used, as after a block scalar it may take
    in the next key's line.
    """
    position = doc.positions.get(path)
    if position is None:
        return None
    start = position[0]
    head = lines[start - 1] if start - 1 < len(lines) else ""
    if len(path) == 1:
        return start, start + _count_deeper(lines, start, 0, items_at_margin=True)
    key_line = doc.positions.get(path[:-1], (0, 0, 0))[0]
    if not isinstance(path[-1], int) or start <= key_line or not head.lstrip().startswith("-"):
        return None  # a flow sequence, or an item on its key's line
    dash = len(head) - len(head.lstrip(" "))
    return start, start + _count_deeper(lines, start, dash)


def _count_deeper(lines: list[str], line: int, indent: int, items_at_margin: bool = False) -> int:
    """How many lines after LINE (1-based) belong to it: deeper than INDENT, or blank in between."""
    kept = 0
    for count, text in enumerate(lines[line:], start=1):
        depth = len(text) - len(text.lstrip(" "))
        if text.strip() and depth <= indent and not (items_at_margin and text.startswith("-")):
            break
        if text.strip():
            kept = count  # trailing blank lines stay
    return kept


def _top_key_at(doc: YamlDocument, line: int) -> Any:
    for key in doc.data:
        position = doc.positions.get((key,))
        if position and position[0] == line:
            return key
    return None


def _without(value: Any, key: Any, removals: list[tuple[Any, ...]]) -> Any:
    if not isinstance(value, list):
        return None
    gone = {path[1] for path in removals if path[0] == key and len(path) > 1}
    if any(len(path) == 1 and path[0] == key for path in removals):
        return None
    return [item for index, item in enumerate(value) if index not in gone]


def _as_json(data: dict[Any, Any], removals: list[tuple[Any, ...]], metadata: Sequence[str] | None) -> str:
    edited = dict(data)
    for key in {path[0] for path in removals}:
        kept = _without(edited.get(key), key, removals)
        if kept is None:
            edited.pop(key, None)
        else:
            edited[key] = kept
    if metadata is not None:
        edited["buildMetadata"] = list(dict.fromkeys([*metadata, *_strings(data.get("buildMetadata"))]))
    return json.dumps(edited, default=str) + "\n"


def _write(copy: str, path: str, content: bytes) -> None:
    target = os.path.join(copy, *path.split("/"))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as handle:
        handle.write(content)


# --- running kustomize -------------------------------------------------------------------------


@dataclass
class _Run:
    returncode: int | None
    stdout: bytes
    stderr: str
    failure: str | None = None  # timed out, output too large, could not start


def _run(argv: list[str], cwd: str, work: str, timeout: float, max_output: int) -> _Run:
    env = _clean_environment(work)
    out_path, err_path = os.path.join(work, "stdout"), os.path.join(work, "stderr")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        try:
            process = subprocess.Popen(
                argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True
            )
        except OSError as error:
            return _Run(None, b"", "", f"could not start {argv[0]}: {error.strerror or error}")
        failure = _wait(process, out_path, timeout, max_output)
    if failure:
        return _Run(None, b"", "", failure)
    with open(out_path, "rb") as handle:
        stdout = handle.read(max_output + 1)
    with open(err_path, "rb") as handle:
        stderr = handle.read(256 * 1024).decode("utf-8", errors="replace")
    return _Run(process.returncode, stdout, stderr)


def _wait(process: subprocess.Popen[bytes], out_path: str, timeout: float, max_output: int) -> str | None:
    """Wait for the build; kill its process group on timeout or oversized output."""
    deadline = time.monotonic() + timeout
    pause = 0.005
    while process.poll() is None:
        failure = None
        if time.monotonic() > deadline:
            failure = f"kustomize took longer than {timeout:g}s"
        elif _size(out_path) > max_output:
            failure = f"kustomize printed more than {max_output} bytes"
        if failure:
            _kill(process)
            return failure
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
    if _size(out_path) > max_output:
        return f"kustomize printed more than {max_output} bytes"
    return None


def _kill(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the group start_new_session made for this build
    except OSError:
        process.kill()
    process.wait()


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _clean_environment(work: str) -> dict[str, str]:
    """HOME and XDG dirs in the temp dir; an empty PATH (no git, no helm); a proxy that refuses."""
    home = os.path.join(work, "home")
    empty = os.path.join(work, "bin")
    for folder in (home, empty, os.path.join(work, "tmp")):
        os.makedirs(folder, exist_ok=True)
    dead_proxy = "http://127.0.0.1:9"
    return {
        "HOME": home,
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "XDG_CACHE_HOME": os.path.join(home, ".cache"),
        "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
        "XDG_STATE_HOME": os.path.join(home, ".local", "state"),
        "TMPDIR": os.path.join(work, "tmp"),
        "PATH": empty,
        "LANG": "C",
        "LC_ALL": "C",
        "HTTP_PROXY": dead_proxy,
        "HTTPS_PROXY": dead_proxy,
        "http_proxy": dead_proxy,
        "https_proxy": dead_proxy,
        "NO_PROXY": "",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
    }


# --- build errors --------------------------------------------------------------------------------


def _build_error(stderr: str, copy: str, tree: _Tree, root: str) -> RenderProblem:
    message = _clean_message(_error_text(stderr), copy)
    path, line, col = _locate_error(message, tree, root)
    return RenderProblem(RENDER_ERROR, f"kustomize build failed: {message}", path, line, col)


def _error_text(stderr: str) -> str:
    """kustomize's error without kubectl's log framing; warnings are not part of it."""
    quoted = re.search(r'\berr="((?:[^"\\]|\\.)*)"', stderr)
    if quoted:
        try:
            return str(json.loads(f'"{quoted.group(1)}"'))
        except ValueError:
            return quoted.group(1)
    block = re.search(r"\berr=<\n(.*?)\n\s*>", stderr, re.S)
    if block:
        return "\n".join(line.strip() for line in block.group(1).splitlines()).strip()
    errors = [line[len("Error: ") :] for line in stderr.splitlines() if line.startswith("Error: ")]
    if errors:
        return errors[0]
    kept = [line for line in stderr.splitlines() if line.strip() and not line.startswith("# Warning")]
    return " ".join(kept).strip() or "kustomize failed without a message"


def _clean_message(message: str, copy: str) -> str:
    for _ in range(4):  # errors wrapped in errors: quotes escaped once per level
        unescaped = message.replace('\\"', '"').replace("\\\\", "\\")
        if unescaped == message:
            break
        message = unescaped
    message = re.sub(
        r'id resid\.ResId\{Gvk:resid\.Gvk\{Group:"[^"]*", Version:"[^"]*", Kind:"([^"]*)"[^}]*\}, Name:"([^"]*)", Namespace:"[^"]*"\}',
        r'\1 "\2"',
        message,
    )
    message = re.sub(r" &\{0x[0-9a-f]+ [^}]*\}", "", message)
    for prefix in {os.path.realpath(copy), copy}:
        message = message.replace(prefix + os.sep, "").replace(prefix, ".")
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 3] + "..."


def _locate_error(message: str, tree: _Tree, root: str) -> tuple[str, int | None, int | None]:
    """The entry the error concerns: a missing file's entry, a merge's generator, a bad YAML line."""
    missing = re.search(r'(\w+) "([^"]+)" does not exist; cannot merge or replace', message)
    if missing:
        found = _generator_entry(tree, missing.group(1), missing.group(2), _folders_named(message))
        if found:
            return found
    entry = _entry_named(message, tree)
    if entry is not None:
        return entry.source, entry.line, entry.col
    patch = re.search(r"failed to find unique target for patch (\w+)\.[^/\s]*/([^.\s]+)\.", message)
    if patch:
        found = _patch_entry(tree, patch.group(2))
        if found:
            return found
    if "yaml:" in message or "invalid Kustomization" in message:
        for path, kustomization in tree.kustomizations.items():
            if kustomization.error is not None:
                return path, kustomization.error.line, kustomization.error.col
    field_named = re.search(r"Kustomization\.(\w+)", message)  # `cannot unmarshal ... field Kustomization.commonLabels`
    if field_named:
        for path, kustomization in tree.kustomizations.items():
            doc = kustomization.doc
            if doc is not None and isinstance(doc.data, dict) and (field_named.group(1),) in doc.positions:
                line, col = _line_col(doc.positions, (field_named.group(1),))
                return path, line, col
    return root, tree.first_line(root), None


def _folders_named(message: str) -> list[str]:
    return [posixpath.normpath(name) for name in re.findall(r"'([^'\s]+)'", message)]


def _generator_entry(tree: _Tree, kind: str, name: str, folders: list[str]) -> tuple[str, int, int] | None:
    """The configMapGenerator/secretGenerator entry merging into NAME, nearest the folders named."""
    key = "configMapGenerator" if kind == "ConfigMap" else "secretGenerator"
    found: list[tuple[str, int, int]] = []
    for path, kustomization in tree.kustomizations.items():
        doc = kustomization.doc
        if doc is None or not isinstance(doc.data, dict):
            continue
        for index, item in _items(doc.data.get(key)):
            if isinstance(item, dict) and item.get("name") == name and item.get("behavior") in ("merge", "replace"):
                line, col = _line_col(doc.positions, (key, index, "name"))
                found.append((path, line, col))
    for folder in reversed(folders):
        for hit in found:
            if posixpath.dirname(hit[0]) == folder:
                return hit
    return found[-1] if found else None


def _entry_named(message: str, tree: _Tree) -> _Entry | None:
    """The last entry whose path (or text, as written) the message names."""
    named = set(_folders_named(message))
    for entry in reversed(tree.entries):
        if entry.target and entry.target in named:
            return entry
    for entry in sorted(tree.entries, key=lambda e: -len(e.text)):
        if len(entry.text) > 2 and f"'{entry.text}'" in message:
            return entry
    return None


def _patch_entry(tree: _Tree, name: str) -> tuple[str, int, int] | None:
    for entry in reversed(tree.entries):
        if entry.field.startswith("patches") and entry.target and f"name: {name}" in tree._read_text(entry.target):
            return entry.source, entry.line, entry.col
    return None


# --- helpers -------------------------------------------------------------------------------------


def _is_remote(reference: str, exists_locally: bool = False) -> bool:
    """A URL or git address; `host.tld/path` only when no such local path exists."""
    return bool(_REMOTE.search(reference)) or (not exists_locally and bool(_HOST_LIKE.match(reference)))


def _resolve(folder: str, reference: str) -> str | None:
    """REFERENCE (relative to FOLDER) relative to the scan root; None if it leaves the root."""
    if os.path.isabs(reference) or reference.startswith("~"):
        return None
    path = posixpath.normpath(posixpath.join(folder, reference))
    if path == ".." or path.startswith("../"):
        return None
    return path


def _join(folder: str, name: str) -> str:
    return posixpath.normpath(posixpath.join(folder, name))


def _relative(path: str, root: str) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")


def _first_document(text: str) -> tuple[YamlDocument | None, YamlInputError | None]:
    try:
        return next(iter(load_documents(text)), None), None
    except YamlInputError as error:
        return None, error


def _documents_of(text: str) -> list[Any]:
    try:
        return [doc.data for doc in load_documents(text)]
    except YamlInputError:
        return []


def _read_mapping(path: str) -> dict[Any, Any] | None:
    try:
        with open(path, "rb") as handle:
            text = handle.read(MAX_COPY_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return None
    doc, _error = _first_document(text)
    return doc.data if doc is not None and isinstance(doc.data, dict) else None


def _line_col(positions: Any, path: tuple[Any, ...]) -> tuple[int, int]:
    while path and path not in positions:
        path = path[:-1]
    line, col, _end = positions.get(path, (1, 1, 1))
    return line, col


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _items(value: Any) -> Iterator[tuple[int, Any]]:
    return iter(enumerate(_list(value)))


def _strings(value: Any) -> Iterator[str]:
    return (item for item in _list(value) if isinstance(item, str))
