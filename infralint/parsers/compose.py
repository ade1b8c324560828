"""Docker Compose projects: one node per project, service, network, volume, secret and config.

A project is built once, from its base file: `compose.yaml` (or `docker-compose.yml` ...) with
the override file Compose loads beside it (`compose.override.yaml` ...), or the files
`COMPOSE_FILE` lists, merged in (compose_files.py says which), `extends` resolved (same file or
another), variables interpolated from the `.env` of the project directory, and the files named
by top-level `include:` read for the names they define. When discovery hands over an override
file itself, it yields no nodes (its base's parse holds them), so a project scanned as two
files is reported once. A fragment that completes a base it is not merged into (a
`docker-compose.prod.yml`, an override in a subfolder) is a partial project of its own, judged
from the base's folder and with the base's names; so is an add-on (`jibri.yml`, run with `-f
docker-compose.yml -f jibri.yml`), whose services are its own but whose names another file
declares (compose_files.addon_sources) or that also adds to services a compose file at or above
it runs (`jaeger/docker-compose.yaml` setting the environment of the base's `frontend`); and so
is a file that a CI workflow, the Makefile or a script lists after another
(compose_invocations.py). Node ids come from the file parsed:

    compose/<base>                      kinds ("compose/project",)
    compose/<base>/service[<name>]      kinds ("compose/service",)
    compose/<base>/network[<name>]      (volume, secret, config alike)

Attributes are the effective, merged values in one notation (environment, labels, depends_on
and networks as mappings); each keeps the file and line it was written at, so a finding about
an attribute set in the override file points into the override file.

Files are read only inside the scan root, with discovery's size cap and decoding.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from pathlib import Path as FilePath
from typing import Any

from infralint import discover
from infralint.findings import Finding
from infralint.graph.model import Node, SpanMap
from infralint.parsers import compose_files, compose_invocations, compose_yaml
from infralint.parsers.compose_facts import FactContext, service_facts
from infralint.parsers.compose_interpolate import parse_env_file
from infralint.parsers.compose_model import (
    Located,
    Origin,
    Origins,
    cast_booleans,
    group,
    interpolate_located,
    merge,
    normalize_service,
    prune,
    ungroup,
    with_own_origin,
)
from infralint.parsers.result import ParseResult, input_finding, yaml_error_finding
from infralint.parsers.yamlpos import Path, YamlInputError
from infralint.source import SourceFile, Span

RESOURCE_KINDS = (("networks", "network"), ("volumes", "volume"), ("secrets", "secret"), ("configs", "config"))
MAX_INCLUDED_FILES = 200
MAX_EXTENDS_DEPTH = 50


class ComposeSpans(SpanMap):
    """Positions of a node whose attributes come from several files (base, override, extends).

    ``file`` is the node's home (where its first line is); paths written elsewhere remember
    their own file, so findings on them point into that file."""

    __slots__ = ("files",)

    def __init__(self, file: str, origins: Origins) -> None:
        table = {path: (o.line, o.col, o.end_line) for path, o in origins.items()}
        super().__init__(file, table)
        self.files = {path: o.file for path, o in origins.items() if o.file != file}

    def file_of(self, path: Path) -> str:
        path = tuple(path)
        while path and path not in self.table:
            path = path[:-1]
        return self.files.get(path, self.file)

    def span(self, path: Path = ()) -> Span:
        path = tuple(path)
        while True:
            pos = self.extra.get(path) or self.table.get(path)
            if pos is not None:
                return Span(self.files.get(path, self.file), pos[0], pos[1])
            if not path:
                return Span(self.file)
            path = path[:-1]


def parse(source: SourceFile) -> ParseResult:
    result = ParseResult()
    if source.embedded_in is not None:  # a compose file inside a ConfigMap is only data
        return result
    _Project(source, result).build()
    return result


def project_id(relative_path: str) -> str:
    return f"compose/{relative_path}"


def service_id(project: str, name: str) -> str:
    return f"{project}/service[{name}]"


# Reading other files safely


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def read_inside_root(absolute: str, root: str, max_bytes: int = discover.DEFAULT_MAX_BYTES) -> tuple[str | None, str]:
    """The text of a file inside the scan root, or None and why not. Nothing outside the root
    is opened or even looked at: the path is checked before any file system access."""
    absolute = os.path.normpath(absolute)
    root = os.path.normpath(os.path.abspath(root))
    if not _inside(absolute, root):
        return None, "is outside the scan root: not read"
    try:
        real = os.path.realpath(absolute, strict=True)
    except OSError:
        return None, "was not found"
    if not _inside(real, os.path.realpath(root)):
        return None, "is a symlink to a file outside the scan root: not read"
    try:
        info = os.stat(real)
        if not stat.S_ISREG(info.st_mode):
            return None, "is not a regular file"
        if info.st_size > max_bytes:
            return None, "is over the size limit: not read"
        data = FilePath(real).read_bytes()
    except OSError as error:
        return None, f"cannot be read: {error.strerror or error}"
    text, problem, _line, _col = discover.decode(data, "compose")
    if problem is not None or text is None:
        return None, f"cannot be read: {problem.message if problem else 'not text'}"
    return text, ""


class _Project:
    def __init__(self, source: SourceFile, result: ParseResult) -> None:
        self.source = source
        self.result = result
        self.root = os.path.abspath(source.root or os.path.dirname(source.abspath))
        self.folder = os.path.dirname(os.path.abspath(source.abspath))
        self.name = os.path.basename(source.abspath)
        self.texts: dict[str, str] = {}
        self.sources: dict[str, SourceFile] = {}
        self.partial = False  # a fragment, or a file of the project failed to parse
        self.env: dict[str, str] = {}
        self.file_models: dict[str, Located | None] = {}
        self.extends_errors: dict[str, dict[str, Any]] = {}
        self.env_file: str | None = None  # the .env read for interpolation, if any
        # Where relative paths of the project's files start: the folder of its first file.
        self.project_dir = self.folder
        self.documents: dict[str, list[compose_yaml.ComposeDocument]] = {}  # read ahead, once
        # Files declaring what this file leaves undefined, with their names; an add-on's base
        # is the first project file of them (compose_files.addon_sources).
        self.name_sources: list[tuple[str, compose_files.Names]] = []
        self.addon = False

    # files

    def relative(self, absolute: str) -> str:
        return os.path.relpath(absolute, self.root).replace(os.sep, "/")

    def absolute(self, relative: str) -> str:
        return os.path.join(self.root, *relative.split("/"))

    def read(self, absolute: str) -> str | None:
        return read_inside_root(absolute, self.root)[0]

    def build(self) -> None:
        if compose_files.base_for(self.folder, self.name, self.root, self.read) is not None:
            # The base file's parse builds the project; report this file's own YAML problems
            # (the base's parse reports the same finding, and the engine keeps one).
            self.load_env()
            self.load_file(self.source)
            return
        listed = compose_invocations.listed_before(self.source.abspath, self.root, self.read)
        fragment_of = listed[0][0] if listed else None
        fragment_of = fragment_of or compose_files.sibling_base(self.folder, self.name) or self.completed_base()
        if fragment_of is None:
            fragment_of = self.completed_by_addon()
            self.addon = fragment_of is not None
        self.name_sources = self.sources_of_missing_names(fragment_of)
        if listed:
            # The files listed between the base and this one: their names are declared too.
            known = {path for path, _ in self.name_sources}
            for path in listed[0][1:]:
                names = self.names_in(path)
                if names is not None and path not in known:
                    self.name_sources.append((path, {key: set(value) for key, value in names.items()}))
        if fragment_of is None and self.name_sources:
            fragment_of = compose_files.addon_base([path for path, _ in self.name_sources])
            self.addon = True
        if fragment_of is not None:
            self.project_dir = os.path.dirname(fragment_of)
        self.load_env()
        model = self.load_file(self.source)
        if model is None:
            return
        files = [self.source.path]
        for override in compose_files.overrides_for(self.folder, self.name, self.read):
            other = self.other_source(override)
            if other is None:
                continue
            files.append(other.path)
            override_model = self.load_file(other)
            if override_model is not None:
                model = merge(model, override_model)
        if fragment_of is not None or compose_files.OVERRIDE_NAME.match(self.name):
            self.partial = True
        self.emit(model, files, fragment_of)

    def own_documents(self) -> list[compose_yaml.ComposeDocument] | None:
        """The file's documents, read ahead once (load_file takes them over)."""
        if self.source.path not in self.documents:
            try:
                self.documents[self.source.path] = compose_yaml.load(self.source.text)
            except YamlInputError:
                return None  # load_file reports it
        return self.documents[self.source.path]

    def completed_base(self) -> str | None:
        """The base elsewhere that this file completes, when its services say so (none can
        run alone, and a compose file here or above defines them all)."""
        documents = self.own_documents()
        if documents is None:
            return None
        services = compose_files.completing_services(documents)
        if services is None:
            return None
        return compose_files.completed_base(self.source.abspath, services, self.root, self.read)

    def completed_by_addon(self) -> str | None:
        """For an add-on that also adds to services of a base (`jaeger/compose.yaml` runs `jaeger`
        and sets only the environment of `frontend`): the nearest compose file, here or above,
        that runs those services. Compose refuses a service with no image nor build, so the file
        never runs alone, whatever its name."""
        documents = self.own_documents()
        partial = compose_files.partial_services(documents) if documents is not None else set()
        if not partial:
            return None
        return compose_files.completed_base(self.source.abspath, partial, self.root, self.read)

    def sources_of_missing_names(self, fragment_of: str | None) -> list[tuple[str, compose_files.Names]]:
        """The files that declare the names this file uses and neither it (with its includes and
        overrides) nor its base declares: Compose refuses an undefined name, so the file is
        run together with them. The project file of a folder runs alone (unless it is an add-on
        completing a base): none for it."""
        documents = self.own_documents()
        if documents is None or (self.name in compose_files.DEFAULT_FILES and not self.addon):
            return []
        own = [self.names_in(self.source.abspath, self.source.text)]
        own += [self.names_in(path) for path in compose_files.overrides_for(self.folder, self.name, self.read)]
        if fragment_of is not None:
            own.append(self.names_in(fragment_of))
        missing = compose_files.missing_names(compose_files.referenced_names(documents), *own)
        if not missing:
            return []
        return compose_files.addon_sources(self.source.abspath, missing, self.root, self.read, self.names_in)

    def relative_dir(self, absolute: str) -> str:
        relative = self.relative(absolute)
        return "" if relative == "." else relative

    def load_env(self) -> None:
        self.env = {"PWD": "."}  # `${PWD}/x` means the project folder in practice
        path = os.path.join(self.project_dir, ".env")
        text = self.read(path)
        if text is not None:
            self.env.update(parse_env_file(text))
            self.env_file = self.relative(path)

    def other_source(self, absolute: str) -> SourceFile | None:
        text = self.read(absolute)
        if text is None:
            return None
        relative = self.relative(absolute)
        return SourceFile(relative, absolute, text, "compose", root=self.root)

    def load_file(self, source: SourceFile) -> Located | None:
        """One file's model: documents merged in order, checked, interpolated, normalised."""
        if source.path in self.file_models:
            return self.file_models[source.path]
        self.file_models[source.path] = None
        self.texts[source.path] = source.text
        self.sources[source.path] = source
        try:
            documents = self.documents.pop(source.path, None) or compose_yaml.load(source.text)
        except YamlInputError as error:
            self.partial = True
            self.result.findings.append(self.yaml_error(source, error))
            return None
        if "{{" in source.text and any(doc.complex_keys for doc in documents):
            self.result.findings.append(_template_finding(source))
            self.partial = True
            return None
        model: Located | None = None
        for document in documents:
            self.result.documents += 1
            origins = {
                path: Origin(source.path, *source.position(*pos), tag=document.tags.get(path))
                for path, pos in document.positions.items()
            }
            located = Located(document.data, prune(document.data, origins))
            checked = self.check_structure(located, source)
            if checked is None:
                continue
            checked = _normalize_services(cast_booleans(interpolate_located(checked, self.env)))
            model = checked if model is None else merge(model, checked)
        self.file_models[source.path] = model
        return model

    def yaml_error(self, source: SourceFile, error: YamlInputError) -> Finding:
        if "{{" in source.text:
            return _template_finding(source)
        return yaml_error_finding(source, error)

    def structure_error(self, origin: Origin | None, message: str) -> None:
        self.partial = True
        span = Span(origin.file, origin.line, origin.col) if origin else Span(self.source.path, 1)
        text = self.texts.get(span.path)
        if text is not None and span.line is not None and span.line > text.count("\n") + 1:
            # libyaml places an empty document's null on the line after `---`, even past the end
            span = Span(span.path, text.count("\n") + 1, len(text) - text.rfind("\n"))
        self.result.findings.append(
            input_finding("infralint-parse-error", f"not a valid compose file: {message}", span)
        )

    def check_structure(self, located: Located, source: SourceFile) -> Located | None:
        """Keep what Compose would accept the shape of; report the rest (never crash on it)."""
        data = located.value
        if not isinstance(data, dict):
            shape = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
            shape = "empty (a document with nothing in it)" if data is None else shape
            self.structure_error(located.origin, f"the top level is {shape}, not a mapping of services, networks ...")
            return None
        own, groups = group(located.origins)
        value = dict(data)
        services = value.get("services")
        if services is not None and not isinstance(services, dict):
            self.structure_error(groups.get("services", {}).get(()), "`services` must be a mapping of service names")
            value.pop("services")
        elif isinstance(services, dict):
            kept = {}
            service_groups = group(groups.get("services", {}))[1]
            for name, service in services.items():
                if isinstance(service, dict):
                    kept[str(name)] = service
                else:
                    origin = service_groups.get(name, {}).get(())
                    self.structure_error(origin, f"service {name!r} must be a mapping, not {_shape(service)}")
            value["services"] = kept
            groups["services"] = {
                (str(path[0]), *path[1:]) if path else path: o for path, o in groups.get("services", {}).items()
            }
        for key, _kind in RESOURCE_KINDS:
            entries = value.get(key)
            if entries is not None and not isinstance(entries, dict):
                self.structure_error(groups.get(key, {}).get(()), f"`{key}` must be a mapping of names")
                value.pop(key)
        include = value.get("include")
        if include is not None and not isinstance(include, list):
            self.structure_error(groups.get("include", {}).get(()), "`include` must be a list")
            value.pop("include")
        return Located(value, prune(value, ungroup(own, groups)))

    # the project

    def emit(self, model: Located, files: list[str], fragment_of: str | None) -> None:
        project = project_id(self.source.id_path)
        services = _entries(model, "services")
        resolved = {name: self.resolve_extends(name, services, self.source.path, []) for name in services}
        includes, included_names = self.includes(model)
        base_names = self.fragment_base_names(fragment_of)
        name = _project_name(model.value.get("name"), self.project_dir)
        facts = {
            "id": project,
            "name": name,
            "project": project,
            "project_name": name,
            "files": files,
            "directory": self.relative_dir(self.project_dir),
            "partial": self.partial,
            "fragment_of": self.relative(fragment_of) if fragment_of else None,
            # An add-on runs with its base but is not part of it: the base runs without it.
            "addon": self.addon,
            # The files that declare what this one leaves undefined, base first.
            "combined_with": self.combined_with(fragment_of),
            "defined": {
                "services": sorted(services),
                **{key: sorted(str(k) for k in _dict(model.value.get(key))) for key, _ in RESOURCE_KINDS},
            },
            "included": included_names,
            "base_defined": base_names,
            "templates": self.template_names(),
            "includes": includes,
            "versions": self.versions(files),
            "env_file": self.env_file,
        }
        top = {k: v for k, v in model.value.items() if k != "services"}
        top_origins = {p: o for p, o in model.origins.items() if not p or p[0] != "services"}
        self.result.nodes.append(
            Node(project, ("compose/project",), top, ComposeSpans(self.source.path, top_origins), facts)
        )
        folders = dict.fromkeys(files, self.relative_dir(self.project_dir))
        context = FactContext(self.root, self.texts, self.read, folders)
        for service_name, service in resolved.items():
            self.result.nodes.append(self.service_node(project, service_name, service, facts, context, base_names))
        self.result.extra_texts.update(context.dockerfiles)
        for key, kind in RESOURCE_KINDS:
            for entry_name, entry in _entries(model, key).items():
                self.result.nodes.append(self.resource_node(project, entry, kind, entry_name, facts))

    def service_node(
        self,
        project: str,
        name: str,
        service: Located,
        project_facts: dict[str, Any],
        context: FactContext,
        base_names: dict[str, list[str]] | None,
    ) -> Node:
        attrs = dict(service.value)
        attrs.pop("extends", None)
        facts = service_facts(name, Located(attrs, service.origins), project_facts, context)
        facts["extends"] = self.extends_errors.get(name)
        # A provider service is run by a plugin, not as a container.
        facts["provider"] = "provider" in attrs
        # A fragment: a service that the project file beside this one also defines (judged
        # there), or one with nothing to run (no image, build or provider), which only makes
        # sense merged onto a definition elsewhere (`docker compose -f base.yml -f this.yml`).
        in_base = bool(base_names and name in base_names.get("services", ()))
        runnable = any(key in attrs for key in ("image", "build", "provider"))
        facts["fragment"] = in_base or not runnable
        origin = service.origin
        home = origin.file if origin else self.source.path
        return Node(
            service_id(project, name),
            ("compose/service",),
            attrs,
            ComposeSpans(home, service.origins),
            facts,
            parent=project,
            end_line=origin.end_line if origin and origin.file == home else None,
        )

    def resource_node(
        self, project: str, located: Located, kind: str, name: str, project_facts: dict[str, Any]
    ) -> Node:
        key = f"{kind}s"
        attrs = located.value if isinstance(located.value, dict) else {}
        origin = located.origin
        facts = {
            "project": project,
            "project_name": project_facts["name"],
            "name": str(name),
            "object": f"{kind} '{name}'",
            "external": bool(attrs.get("external")),
            "driver": attrs.get("driver"),
            "real_name": attrs.get("name") or f"{project_facts['name']}_{name}",
        }
        if key in ("secrets", "configs"):
            facts["file"] = attrs.get("file")
            facts["environment"] = attrs.get("environment")
        return Node(
            f"{project}/{kind}[{name}]",
            (f"compose/{kind}",),
            attrs,
            ComposeSpans(origin.file if origin else self.source.path, located.origins),
            facts,
            parent=project,
            end_line=origin.end_line if origin else None,
        )

    def versions(self, files: list[str]) -> list[dict[str, Any]]:
        """Each file's top-level `version:` (every file that has one is at fault)."""
        found = []
        for file in files:
            model = self.file_models.get(file)
            if model is None or "version" not in model.value:
                continue
            origin = model.origins.get(("version",))
            if origin is not None:
                found.append({"file": file, "line": origin.line, "col": origin.col, "value": model.value["version"]})
        return found

    # extends

    def resolve_extends(
        self, name: str, services: dict[str, Located], file: str, chain: list[tuple[str, str]]
    ) -> Located:
        service = services[name]
        extends = service.value.get("extends")
        if extends is None or len(chain) > MAX_EXTENDS_DEPTH:
            return service
        reference, other_file = _extends_target(extends)
        if reference is None:
            return service
        # Compose drops `extends` once applied; its position stays for findings about it.
        local = Located(
            {k: v for k, v in service.value.items() if k != "extends"},
            {p: o for p, o in service.origins.items() if p[:1] != ("extends",)},
        )
        unresolved = Located(local.value, service.origins)
        target_services, target_file = services, file
        if other_file is not None:
            origin = service.origins.get(("extends", "file")) or service.origins.get(("extends",))
            loaded = self.extended_file(other_file, origin)
            if loaded is None:
                return unresolved
            target_services, target_file = loaded
        if not chain:
            self.extends_errors[name] = {
                "service": reference,
                "file": other_file,
                "found": reference in target_services,
            }
        looped = (target_file, reference) in chain or (target_file, reference) == (file, name)
        if reference not in target_services or looped:
            return unresolved
        base = self.resolve_extends(reference, target_services, target_file, [*chain, (file, name)])
        merged = merge(base, local, ("services", name))
        merged = with_own_origin(merged, service.origin)
        merged.origins.update({p: o for p, o in service.origins.items() if p[:1] == ("extends",)})
        return merged

    def extended_file(self, reference: str, origin: Origin | None) -> tuple[dict[str, Located], str] | None:
        folder = posixpath.dirname(origin.file) if origin else posixpath.dirname(self.source.path)
        absolute = os.path.normpath(os.path.join(self.absolute(folder) if folder else self.root, reference))
        text, problem = read_inside_root(absolute, self.root)
        if text is None:
            self.partial = True
            span = Span(origin.file, origin.line, origin.col) if origin else Span(self.source.path, 1)
            message = f"extends file {reference!r} {problem}"
            self.result.findings.append(input_finding("infralint-include-not-found", message, span))
            return None
        other = SourceFile(self.relative(absolute), absolute, text, "compose", root=self.root)
        model = self.load_file(other)
        if model is None or not isinstance(model.value.get("services"), dict):
            return None
        return _entries(model, "services"), other.path

    # include

    def includes(self, model: Located) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
        """The files `include:` names: reported when missing or outside the root, read for the
        names they define (their own parse builds their nodes)."""
        entries = model.value.get("include")
        included: list[dict[str, Any]] = []
        names: dict[str, set[str]] = {"services": set(), **{key: set() for key, _ in RESOURCE_KINDS}}
        if not isinstance(entries, list):
            return included, {}
        for index, entry in enumerate(entries):
            for path, origin in self.include_paths(model, index, entry):
                if "://" in path or path.startswith(("git@", "oci:")):
                    continue  # remote: not part of the repository
                base_folder = posixpath.dirname(origin.file) if origin else posixpath.dirname(self.source.path)
                absolute = os.path.normpath(os.path.join(self.absolute(base_folder), path))
                text, problem = read_inside_root(absolute, self.root)
                span = Span(origin.file, origin.line, origin.col) if origin else Span(self.source.path, 1)
                if text is None:
                    self.partial = True
                    message = f"included file {path!r} {problem}"
                    self.result.findings.append(input_finding("infralint-include-not-found", message, span))
                    continue
                relative = self.relative(absolute)
                start = self.absolute(self.source.path)
                cycle = self.collect_names(absolute, text, [os.path.normpath(start)], names, [0])
                if cycle:
                    chain = " -> ".join(self.relative(p) for p in cycle)
                    message = f"not a valid compose file: include cycle {chain}"
                    self.result.findings.append(input_finding("infralint-parse-error", message, span))
                included.append(
                    {
                        "path": relative,
                        "project": project_id(relative),
                        "origin": (origin.file, origin.line) if origin else None,
                    }
                )
        return included, {key: sorted(value) for key, value in names.items()}

    @staticmethod
    def include_paths(model: Located, index: int, entry: Any) -> list[tuple[str, Origin | None]]:
        origins = model.origins
        if isinstance(entry, str):
            return [(entry, origins.get(("include", index)))]
        if not isinstance(entry, dict):
            return []
        path = entry.get("path")
        if isinstance(path, str):
            return [(path, origins.get(("include", index, "path")) or origins.get(("include", index)))]
        if isinstance(path, list):
            return [
                (item, origins.get(("include", index, "path", i)) or origins.get(("include", index)))
                for i, item in enumerate(path)
                if isinstance(item, str)
            ]
        return []

    def collect_names(
        self, absolute: str, text: str, chain: list[str], names: dict[str, set[str]], budget: list[int]
    ) -> list[str] | None:
        """Names defined by an included file and the files it includes; the cycle, if any."""
        absolute = os.path.normpath(absolute)
        if absolute in chain:
            return [*chain, absolute]
        budget[0] += 1
        if budget[0] > MAX_INCLUDED_FILES:
            return None
        try:
            documents = compose_yaml.load(text)
        except YamlInputError:
            return None  # the file's own parse reports it
        for document in documents:
            data = document.data if isinstance(document.data, dict) else {}
            for key in names:
                names[key].update(str(k) for k in _dict(data.get(key)))
            include = data.get("include")
            for entry in include if isinstance(include, list) else []:
                paths = [entry] if isinstance(entry, str) else _dict(entry).get("path")
                for path in paths if isinstance(paths, list) else [paths]:
                    if not isinstance(path, str) or "://" in path:
                        continue
                    target = os.path.normpath(os.path.join(os.path.dirname(absolute), path))
                    target_text = read_inside_root(target, self.root)[0]
                    if target_text is None:
                        continue
                    cycle = self.collect_names(target, target_text, [*chain, absolute], names, budget)
                    if cycle:
                        return cycle
        return None

    def fragment_base_names(self, fragment_of: str | None) -> dict[str, list[str]] | None:
        """The names of the base a fragment completes and of the files that declare what it
        leaves undefined (an add-on's base, a file beside it)."""
        if fragment_of is None:
            return None
        names = {key: set(value) for key, value in (self.names_in(fragment_of) or {}).items()}
        for _path, declared in self.name_sources:
            for key, value in declared.items():
                names.setdefault(key, set()).update(value)
        return {key: sorted(value) for key, value in names.items()}

    def names_in(self, absolute: str, text: str | None = None) -> dict[str, list[str]] | None:
        """The names a file (and the files it includes) defines, by top-level key."""
        text = self.read(absolute) if text is None else text
        if text is None:
            return None
        names: dict[str, set[str]] = {"services": set(), **{key: set() for key, _ in RESOURCE_KINDS}}
        self.collect_names(absolute, text, [], names, [0])
        return {key: sorted(value) for key, value in names.items()}

    def combined_with(self, fragment_of: str | None) -> list[str]:
        paths = [fragment_of] if fragment_of else []
        paths += [path for path, _ in self.name_sources if path != fragment_of]
        return [self.relative(path) for path in paths]

    def template_names(self) -> list[dict[str, Any]]:
        """Committed templates of the override file (`compose.override.yml.example`): each host
        copies one into place, so what it declares is declared when the project runs."""
        found = []
        for template in compose_files.templates_for(self.folder, self.name):
            names = self.names_in(template)
            if names is not None:
                found.append({"file": self.relative(template), "defined": names})
        return found


def _entries(model: Located, key: str) -> dict[str, Located]:
    """The named entries of a top-level mapping (services, networks ...), each with its origins;
    one pass over the origins, however many entries there are."""
    entries = model.value.get(key)
    if not isinstance(entries, dict):
        return {}
    _, groups = group(model.origins)
    _, by_name = group(groups.get(key, {}))
    return {name: Located(value, by_name.get(name, {})) for name, value in entries.items()}


def _normalize_services(model: Located) -> Located:
    services = model.value.get("services")
    if not isinstance(services, dict):
        return model
    own, groups = group(model.origins)
    services_own, service_groups = group(groups.get("services", {}))
    normalized = {}
    for name in services:
        service = normalize_service(Located(services[name], service_groups.get(name, {})))
        normalized[name] = service.value
        service_groups[name] = service.origins
    groups["services"] = ungroup(services_own, service_groups)
    return Located({**model.value, "services": normalized}, ungroup(own, groups))


def _extends_target(extends: Any) -> tuple[str | None, str | None]:
    if isinstance(extends, str):
        return extends, None
    if isinstance(extends, dict):
        service = extends.get("service")
        file = extends.get("file")
        return (service if isinstance(service, str) else None), (file if isinstance(file, str) else None)
    return None, None


def _project_name(declared: Any, folder: str) -> str:
    """`name:` or, as Compose does, the folder name lowercased to [a-z0-9_-]."""
    if isinstance(declared, str) and declared.strip():
        return declared.strip()
    normalized = re.sub(r"[^a-z0-9_-]", "", os.path.basename(folder).lower())
    return normalized.lstrip("_-") or "default"


def _dict(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _shape(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def _template_finding(source: SourceFile) -> Finding:
    line = source.text.count("\n", 0, source.text.index("{{")) + 1
    return input_finding(
        "infralint-unsupported-template",
        "template syntax ({{ }}): render the template, then scan the output",
        source.span(line),
    )
