"""The project context of a few changed files, for scans that report on those files only.

pre-commit hands a hook the files a commit changes, yet a changed nginx.conf is judged against the
compose file that mounts it, and a changed Ingress against the Service it routes to. ``expand``
adds the files that usually hold that context, so the graph is built as a full scan would build
it, and ``touching`` keeps the findings located in the changed files.

The context of a changed file, inside its repository (the nearest folder above it that holds
``.git``; without one, the working directory when it holds the file, else the file's own folder):

- every file infralint reads in the file's own folder (not below it);
- in each folder above it, up to the repository root, the YAML files (compose files, Kubernetes
  manifests and kustomizations: the scan settles which by content) and the main nginx and HAProxy
  configs (``nginx.conf``, ``haproxy.cfg``), which may include the changed file;
- for a kustomization among those, the files and folders it lists (resources, components, patches),
  followed through the kustomizations it reaches;
- for a changed compose file, the bind-mounted files and folders inside the repository.

Files that .gitignore excludes are not context, and the configuration's `exclude` holds for the
changed files and their context alike (``not_excluded``). Nothing else is searched, so a run costs a
few folder listings more than a scan of the changed files alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from infralint import discover
from infralint.findings import Finding
from infralint.source import SourceFile

ANCESTOR_CONFIG_NAMES = frozenset({"nginx.conf", "haproxy.cfg"})
KUSTOMIZATION_NAMES = frozenset({"kustomization.yaml", "kustomization.yml"})
# Kustomization keys that list local files or folders (remote URLs are skipped).
_KUSTOMIZE_LISTS = ("resources", "bases", "components", "patchesStrategicMerge", "crds")
_KUSTOMIZE_PATCH_LISTS = ("patches", "patchesJson6902")


def expand(paths: Sequence[str]) -> list[str]:
    """Absolute paths of the files to read: PATHS (folders walked) plus their context, each once."""
    finder = _ContextFinder()
    chosen: dict[str, None] = {}
    for given in paths:
        absolute = os.path.abspath(given)
        for path in _walk([absolute]):
            chosen[path] = None
        for path in finder.context_of(absolute):
            chosen[path] = None
    return sorted(chosen)


def touching(findings: Iterable[Finding], paths: Iterable[str], root: str) -> list[Finding]:
    """The findings located in PATHS (files, or folders holding them).

    A graph finding on a changed file whose other side is in a context file is kept; one located
    in a context file is not, even when it points at a changed file: a commit is not blocked by a
    file it did not touch (a full scan, in CI, reports those).
    """
    wanted = {_relative(path, root) for path in paths}
    if "." in wanted:
        return list(findings)
    folders = tuple(w + "/" for w in wanted if os.path.isdir(os.path.join(root, w)))

    def inside(path: str) -> bool:
        return path in wanted or bool(folders and path.startswith(folders))

    # A values file or a kustomize overlay is where a rendered finding is fixed too.
    return [f for f in findings if inside(f.span.path) or any(r.role and inside(r.span.path) for r in f.related)]


def chart_of(path: str) -> str | None:
    """The top-level Helm chart folder PATH lies in (a vendored subchart renders with its parent)."""
    from infralint.render.charts import is_chart_folder

    found = None
    current = path if os.path.isdir(path) else os.path.dirname(path)
    while True:
        if is_chart_folder(current):
            found = current
        parent = os.path.dirname(current)
        if parent == current or os.path.exists(os.path.join(current, ".git")):
            return found
        current = parent


def not_excluded(paths: Sequence[str], exclude: Callable[[str, bool], bool] | None) -> list[str]:
    """PATHS less those the configuration's `exclude` names.

    A normal scan reads a file named on the command line even when excluded; pre-commit names every
    changed file, so in this mode the exclude holds for them (and for their context) too.
    """
    if exclude is None:
        return list(paths)
    return [path for path in paths if not exclude(os.path.abspath(path), os.path.isdir(path))]


def _relative(path: str, root: str) -> str:
    return os.path.relpath(os.path.abspath(path), root).replace(os.sep, "/")


def _walk(paths: list[str]) -> Iterator[str]:
    """discover's walk (sorted, .gitignore honoured), which ignores its root argument."""
    yield from discover.walk(paths, "")


def repository_root(folder: str) -> str:
    """The nearest folder at or above FOLDER holding .git; else the working directory or FOLDER."""
    current = folder
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    cwd = os.getcwd()
    return cwd if folder == cwd or folder.startswith(cwd.rstrip(os.sep) + os.sep) else folder


class _ContextFinder:
    """Folder listings and .gitignore rules, each read once per run."""

    def __init__(self) -> None:
        self._listings: dict[str, list[str]] = {}
        self._tops: dict[str, str] = {}
        self._ignores: dict[str, Any] = {}
        self._loaded: set[str] = set()
        self._kustomizations_seen: set[str] = set()
        self._kustomization_index: dict[str, list[str]] = {}

    def context_of(self, absolute: str) -> Iterator[str]:
        folder = absolute if os.path.isdir(absolute) else os.path.dirname(absolute)
        if folder not in self._tops:
            self._tops[folder] = repository_root(folder)
        top = self._tops[folder]
        beside = self._files_in(folder, top)
        above = [
            path
            for ancestor in _ancestors(folder, top)
            for path in self._files_in(ancestor, top)
            if _is_ancestor_context(os.path.basename(path))
        ]
        yield from beside
        yield from above
        chart = chart_of(absolute)
        if chart is not None:  # the chart is rendered whole
            yield from _walk([chart])
        for path in beside + above + self._roots_reaching(absolute, top):
            if os.path.basename(path).lower() in KUSTOMIZATION_NAMES:
                yield path
                yield from self._kustomize_closure(path, top)
        if os.path.isfile(absolute):
            yield from self._compose_mounts(absolute, top)

    def _files_in(self, folder: str, top: str) -> list[str]:
        """The files of FOLDER (not below) that infralint reads and .gitignore keeps."""
        if folder not in self._listings:
            ignores = self._ignores_for(folder, top)
            try:
                names = sorted(os.listdir(folder))
            except OSError:
                names = []
            self._listings[folder] = [
                os.path.join(folder, name)
                for name in names
                if discover.classify_name(name) is not None
                and os.path.isfile(os.path.join(folder, name))
                and not ignores.ignored(os.path.join(folder, name), False)
            ]
        return self._listings[folder]

    def _ignores_for(self, folder: str, top: str) -> Any:
        """The .gitignore rules of TOP and every folder down to FOLDER."""
        ignores = self._ignores.setdefault(top, discover._Ignores())
        chain = [*reversed(list(_ancestors(folder, top))), folder]  # top first: deeper rules win
        for step in chain:
            if step not in self._loaded:
                self._loaded.add(step)
                ignores.load(step)
        return ignores

    def _kustomize_closure(self, kustomization: str, top: str) -> Iterator[str]:
        if kustomization in self._kustomizations_seen:
            return
        self._kustomizations_seen.add(kustomization)
        base = os.path.dirname(kustomization)
        for reference in _kustomize_references(kustomization):
            target = os.path.normpath(os.path.join(base, reference))
            if not _inside(target, top):
                continue
            if os.path.isfile(target):
                yield target
            elif os.path.isdir(target):
                for path in self._files_in(target, top):
                    yield path
                    if os.path.basename(path).lower() in KUSTOMIZATION_NAMES:
                        yield from self._kustomize_closure(path, top)

    def _roots_reaching(self, absolute: str, top: str) -> list[str]:
        """Kustomizations of the repository whose closure holds ABSOLUTE (the roots that build a
        changed base), looked for only when the file lies in a kustomize tree."""
        if not self._in_kustomize_tree(absolute, top):
            return []
        reaching = []
        for kustomization in self._all_kustomizations(top):
            closure = _KustomizeClosure(self, top)
            if absolute in closure.files(kustomization):
                reaching.append(kustomization)
        return reaching

    def _in_kustomize_tree(self, absolute: str, top: str) -> bool:
        folder = absolute if os.path.isdir(absolute) else os.path.dirname(absolute)
        for candidate in [folder, *_ancestors(folder, top)]:
            if any(os.path.isfile(os.path.join(candidate, name)) for name in KUSTOMIZATION_NAMES):
                return True
        return False

    def _all_kustomizations(self, top: str) -> list[str]:
        if top not in self._kustomization_index:
            found = []
            for folder, dirs, files in os.walk(top):
                dirs[:] = sorted(d for d in dirs if d not in discover.DEFAULT_EXCLUDES)
                found += [os.path.join(folder, n) for n in sorted(files) if n.lower() in KUSTOMIZATION_NAMES]
            self._kustomization_index[top] = found
        return self._kustomization_index[top]

    def _compose_mounts(self, absolute: str, top: str) -> Iterator[str]:
        """Bind-mounted sources of a compose file, inside the repository."""
        if discover.classify_name(os.path.basename(absolute)) not in ("compose", "yaml"):
            return
        source = discover.read(absolute, top, discover.DEFAULT_MAX_BYTES)
        if not isinstance(source, SourceFile) or source.kind != "compose":
            return
        from infralint.parsers.compose import parse

        try:
            nodes = parse(source).nodes
        except Exception:  # the scan itself reports the problem; context is best effort
            return
        for service in (node for node in nodes if "compose/service" in node.kinds):
            for mount in service.facts.get("bind_mounts") or ():
                target = os.path.join(top, *str(mount["source"]).split("/"))
                if mount.get("inside_root") and os.path.exists(target):
                    yield from _walk([target])


class _KustomizeClosure:
    """The files one kustomization reaches (its own walk, apart from what the run has yielded)."""

    def __init__(self, finder: _ContextFinder, top: str) -> None:
        self.finder, self.top = finder, top
        self.seen: set[str] = set()

    def files(self, kustomization: str) -> set[str]:
        found: set[str] = set()
        self._visit(kustomization, found)
        return found

    def _visit(self, kustomization: str, found: set[str]) -> None:
        if kustomization in self.seen:
            return
        self.seen.add(kustomization)
        found.add(kustomization)
        base = os.path.dirname(kustomization)
        for reference in _kustomize_references(kustomization):
            target = os.path.normpath(os.path.join(base, reference))
            if not _inside(target, self.top):
                continue
            if os.path.isfile(target):
                found.add(target)
            elif os.path.isdir(target):
                for path in self.finder._files_in(target, self.top):
                    found.add(path)
                    if os.path.basename(path).lower() in KUSTOMIZATION_NAMES:
                        self._visit(path, found)


def _ancestors(folder: str, top: str) -> Iterator[str]:
    """The folders above FOLDER, nearest first, up to and including TOP (none when FOLDER is TOP)."""
    if not _inside(folder, top) or folder == top:
        return
    current = os.path.dirname(folder)
    while True:
        yield current
        if current == top:
            return
        current = os.path.dirname(current)


def _inside(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip(os.sep) + os.sep)


def _is_ancestor_context(name: str) -> bool:
    lower = name.lower()
    return discover.classify_name(lower) in ("compose", "yaml") or lower in ANCESTOR_CONFIG_NAMES


def _kustomize_references(path: str) -> list[str]:
    """Local paths a kustomization lists; an unreadable one lists none (the scan reports it)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    if not isinstance(data, dict):
        return []
    found: list[str] = []
    for key in _KUSTOMIZE_LISTS:
        found += [item for item in _list(data.get(key)) if isinstance(item, str)]
    for key in _KUSTOMIZE_PATCH_LISTS:
        found += [
            item["path"]
            for item in _list(data.get(key))
            if isinstance(item, dict) and isinstance(item.get("path"), str)
        ]
    return [item for item in found if _is_local(item)]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _is_local(reference: str) -> bool:
    return "://" not in reference and not reference.startswith(("git@", "github.com/", "gitlab.com/"))
