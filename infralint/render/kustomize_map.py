"""The source map of a kustomize build: each rendered line's file and line in the repository.

The build runs with ``buildMetadata: [originAnnotations, transformerAnnotations]``, so each
rendered object says where it came from (``config.kubernetes.io/origin``: a resource file, or the
kustomization whose generator made it) and which kustomizations transformed it
(``alpha.config.kubernetes.io/transformations``). kustomize lists every transformer that visited
an object, not the fields each one changed, so a field is attributed by value:

1. a generated object's data key maps to its generator entry (a value read from a file maps
   line by line to that file: an embedded redis.conf is judged at its own lines);
2. a value equal to the origin document's value at the same key path maps to that key's line;
3. else the latest transformer whose configuration holds that value claims it (a patch's key,
   a JSON6902 op's path, the `images:` or `replicas:` entry, namePrefix, namespace, labels);
4. else the key's line in the origin document (a name reference kustomize rewrote), or the
   object's first line there.

Lists are aligned by merge key (`name`, `containerPort` ...) rather than index, as a strategic
merge patch may add items before the original ones. The annotations themselves are then cut
out of the text (the user's own annotations stay).
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from infralint.parsers.embedded_lines import ScalarLines, scalar_lines
from infralint.parsers.yamlpos import YamlDocument, YamlInputError, load_documents
from infralint.render.model import LineOrigin, RenderedText, ScalarOrigin

MAPPED_METADATA = ("originAnnotations", "transformerAnnotations")
ORIGIN = "config.kubernetes.io/origin"
TRANSFORMATIONS = "alpha.config.kubernetes.io/transformations"
_ANNOTATION_OPTION = {ORIGIN: "originAnnotations", TRANSFORMATIONS: "transformerAnnotations"}
_ANNOTATIONS = ("metadata", "annotations")
MAX_SOURCE_BYTES = 16 * 1024 * 1024

# Keys that identify an item of a Kubernetes list (strategic merge keys, most specific first).
_MERGE_KEYS = ("name", "mountPath", "containerPort", "devicePath", "key", "ip", "port", "topologyKey")
_LABEL_PARENTS = frozenset({"labels", "matchLabels", "selector"})
_GENERATOR_KEYS = {"ConfigMapGenerator": "configMapGenerator", "SecretGenerator": "secretGenerator"}
_PATCH_KINDS = frozenset({"PatchTransformer", "PatchStrategicMergeTransformer", "PatchJson6902Transformer"})
_NAME_KINDS = frozenset({"PrefixTransformer", "SuffixTransformer", "PrefixSuffixTransformer"})
_YAML11_BOOLS = {"yes": True, "no": False, "on": True, "off": False, "y": True, "n": False}

Path = tuple[Any, ...]
_MISSING = object()


# --- the files a build read ----------------------------------------------------------------------


@dataclass
class SourceDoc:
    """One YAML document of a file of the scan (or an inline patch inside a kustomization).

    ``base`` selects an object inside the document (an item of a `kind: List`); positions of an
    inline patch are shifted by ``line_offset``/``col_offset`` to the kustomization's lines, and a
    patch written on one line (``flat``) maps every key to that line.
    """

    path: str
    data: Any
    positions: dict[Path, tuple[int, int, int]]
    blocks: dict[Path, tuple[str, int]]
    lines: list[str]
    base: Path = ()
    line_offset: int = 0
    col_offset: int = 0
    flat: tuple[int, int] | None = None
    source_text: str | None = field(default=None, repr=False, compare=False)  # the text LINES came from

    def at(self, path: Path, rendered_col: int | None = None) -> LineOrigin | None:
        """The origin of PATH's line: columns shifted to match when the rendered column is given."""
        if self.flat is not None:
            return LineOrigin(self.path, self.flat[0], col=self.flat[1])
        position = self.positions.get(self.base + path)
        if position is None:
            return None
        line, col = position[0] + self.line_offset, position[1] + self.col_offset
        if rendered_col is None:
            return LineOrigin(self.path, line, col=col)
        return LineOrigin(self.path, line, col_shift=col - rendered_col)

    def block(self, path: Path) -> tuple[list[str], int, int] | None:
        """A literal block scalar's content lines, the file line of the first, and the line offset."""
        block = self.blocks.get(self.base + path)
        position = self.positions.get(self.base + path)
        if self.flat is not None or block is None or position is None or not block[0].startswith("|"):
            return None
        first = block[1]  # the `|` line; content starts on the next one
        indent = _owner_indent(self.lines, path, position)
        return _block_content(self.lines, first, indent), first + 1 + self.line_offset, self.col_offset

    def scalar(self, path: Path, value: str) -> ScalarLines | None:
        """Where the characters of PATH's string VALUE are in this document's text, when the
        document holds that very value there (else None: nothing to map one to one)."""
        if self.flat is not None or _get(self.data, path, _MISSING) != value:
            return None
        position = self.positions.get(self.base + path)
        if position is None:
            return None
        style, start = self.blocks.get(self.base + path, ("", position[0]))
        if self.source_text is None:
            self.source_text = "\n".join(self.lines)
        return scalar_lines(self.source_text, style, start, value)

    def view(self, base: Path) -> SourceDoc:
        return SourceDoc(
            self.path,
            _get(self.data, base),
            self.positions,
            self.blocks,
            self.lines,
            base,
            self.line_offset,
            self.col_offset,
            self.flat,
            self.source_text,
        )


class Sources:
    """The files of the scan a build read, parsed once each, by path relative to the scan root."""

    def __init__(self, scan_root: str, inputs: set[str], kustomizations: dict[str, YamlDocument | None]) -> None:
        self.scan_root = scan_root
        self.inputs = inputs  # only these are read: the tree walk checked they stay in the scan
        self.kustomization_docs = kustomizations  # in walk order, the root first
        self._texts: dict[str, str | None] = {}
        self._lines: dict[str, list[str] | None] = {}
        self._documents: dict[str, list[SourceDoc]] = {}
        self._patches: dict[str, list[_Patch]] = {}

    def text(self, path: str) -> str | None:
        if path not in self._texts:
            self._texts[path] = self._read(path)
        return self._texts[path]

    def lines(self, path: str) -> list[str] | None:
        if path not in self._lines:
            text = self.text(path)
            self._lines[path] = text.splitlines() if text is not None else None
        return self._lines[path]

    def _read(self, path: str) -> str | None:
        if path not in self.inputs:
            return None
        try:
            with open(os.path.join(self.scan_root, *path.split("/")), "rb") as handle:
                return handle.read(MAX_SOURCE_BYTES).decode("utf-8", errors="replace")
        except OSError:
            return None

    def documents(self, path: str) -> list[SourceDoc]:
        if path not in self._documents:
            text = self.text(path)
            docs: list[YamlDocument] = []
            if path in self.kustomization_docs:
                kustomization = self.kustomization_docs[path]
                docs = [kustomization] if kustomization is not None else []
            elif text is not None:
                docs = _parse(text)  # the text as read: a block ending the file keeps its line break
            lines = self.lines(path) or []
            self._documents[path] = [
                SourceDoc(path, d.data, d.positions, d.blocks, lines, source_text=text) for d in docs
            ]
        return self._documents[path]

    def kustomization(self, path: str) -> SourceDoc | None:
        if path not in self.kustomization_docs:
            return None
        docs = self.documents(path)
        return docs[0] if docs and isinstance(docs[0].data, dict) else None

    def kustomizations(self) -> Iterable[SourceDoc]:
        for path in self.kustomization_docs:
            doc = self.kustomization(path)
            if doc is not None:
                yield doc

    def patches(self, path: str) -> list[_Patch]:
        if path not in self._patches:
            self._patches[path] = _read_patches(self, path)
        return self._patches[path]


def _parse(text: str) -> list[YamlDocument]:
    try:
        return list(load_documents(text))
    except YamlInputError:
        return []


# --- the output: annotations out, lines mapped ---------------------------------------------------


@dataclass
class _Annotations:
    origin: dict[str, Any] = field(default_factory=dict)
    transformations: list[dict[str, Any]] = field(default_factory=list)


def map_output(text: str, root_folder: str, sources: Sources, kept: frozenset[str] = frozenset()) -> RenderedText:
    """The build's text less the annotations buildMetadata added, with a LineOrigin per line.

    KEPT: the buildMetadata options the user's root asked for (their annotations stay).
    """
    raw = _parse(text)
    annotations = [_read_annotations(doc.data) for doc in raw]
    final_text = _strip_annotations(text, raw, kept)
    final = _parse(final_text) if final_text != text else raw
    text_lines = final_text.splitlines()
    lines: list[LineOrigin | None] = [None] * len(text_lines)
    items: dict[int, LineOrigin] = {}
    scalars: dict[int, ScalarOrigin] = {}
    if len(final) == len(raw):
        for doc, notes in zip(final, annotations, strict=True):
            if isinstance(doc.data, dict):
                mapper = _ObjectMapper(sources, root_folder, doc.data, notes)
                for number, origin in _document_lines(doc, mapper, text_lines, sources, items).items():
                    if 1 <= number <= len(lines):
                        lines[number - 1] = origin
                scalars.update(_document_scalars(doc, mapper, final_text, sources))
    return RenderedText(name="", text=final_text, lines=lines, items=items, scalars=scalars)


def _read_annotations(data: Any) -> _Annotations:
    found = _get(data, _ANNOTATIONS)
    notes = _Annotations()
    if not isinstance(found, dict):
        return notes
    origin = _safe_yaml(found.get(ORIGIN))
    if isinstance(origin, dict):
        notes.origin = origin
    steps = _safe_yaml(found.get(TRANSFORMATIONS))
    if isinstance(steps, list):
        notes.transformations = [step for step in steps if isinstance(step, dict)]
    return notes


_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _safe_yaml(text: Any) -> Any:
    if not isinstance(text, str):
        return None
    return _annotation_data(text)


@functools.lru_cache(maxsize=256)
def _annotation_data(text: str) -> Any:
    """An annotation's YAML (objects of a build share their transformations list: read once)."""
    try:
        return yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError:
        return None


def _strip_annotations(text: str, docs: list[YamlDocument], kept: frozenset[str]) -> str:
    """TEXT less the lines of the annotations infralint asked for (and of `annotations:` if emptied).

    kustomize prints block style, one key a line, so a key's lines are it and the deeper-indented
    lines below it; a document where that does not hold keeps the annotations.
    """
    lines = text.splitlines(keepends=True)
    dropped: set[int] = set()
    for doc in docs:
        found = _get(doc.data, _ANNOTATIONS)
        if not isinstance(found, dict):
            continue
        ours = [key for key, option in _ANNOTATION_OPTION.items() if key in found and option not in kept]
        if not ours:
            continue
        keys = [_ANNOTATIONS] if len(ours) == len(found) else [(*_ANNOTATIONS, key) for key in ours]
        spans = [_key_lines(lines, doc.positions.get(key), key[-1]) for key in keys]
        if all(span is not None for span in spans):
            for span in spans:
                assert span is not None
                dropped.update(range(span[0] - 1, span[1]))
    return "".join(line for index, line in enumerate(lines) if index not in dropped)


def _key_lines(lines: list[str], position: tuple[int, int, int] | None, key: str) -> tuple[int, int] | None:
    """The lines (1-based, inclusive) of a block-style KEY and its value, or None if not block style."""
    if position is None:
        return None
    start, col = position[0], position[1]
    first = lines[start - 1] if start - 1 < len(lines) else ""
    if not first[col - 1 :].startswith(key + ":") or first[: col - 1].strip():
        return None
    return start, start + len(_deeper_lines(lines, start, col - 1))


def _deeper_lines(lines: list[str], line: int, indent: int) -> list[str]:
    """The lines after LINE (1-based) indented deeper than INDENT, blank ones included, trailing blanks not."""
    found: list[str] = []
    for text in lines[line:]:
        if text.strip() and len(text) - len(text.lstrip(" ")) <= indent:
            break
        found.append(text)
    while found and not found[-1].strip():
        found.pop()
    return found


def _document_lines(
    doc: YamlDocument,
    mapper: _ObjectMapper,
    text_lines: list[str],
    sources: Sources,
    items: dict[int, LineOrigin],
) -> dict[int, LineOrigin]:
    """Origins of one rendered document's lines, by line number. A line that starts a list item
    (`- args: ...`: kustomize sorts keys) maps to its key; ITEMS gets the item's own origin."""
    starts: dict[int, Path] = {}  # the deepest path starting on each line
    covers: dict[int, Path] = {}  # the deepest path spanning a line it does not start on
    for path, (line, _col, end) in doc.positions.items():
        if line not in starts or len(path) > len(starts[line]):
            starts[line] = path
        for inner in range(line + 1, end + 1):
            if inner not in covers or len(path) > len(covers[inner]):
                covers[inner] = path
    hits: dict[Path, _Hit | None] = {}

    def hit_of(path: Path) -> _Hit | None:
        if path not in hits:
            hits[path] = mapper.origin_of(path, doc.positions[path][1])
        return hits[path]

    result: dict[int, LineOrigin] = {}
    for line, path in starts.items():
        starts_item = len(path) >= 2 and doc.positions.get(path[:-1], (0, 0, 0))[0] == line
        hit = hit_of(path)
        if starts_item:
            item = hit_of(path[:-1])
            if item is not None:
                items[line] = item.origin
            hit = hit or item
        if hit is not None:
            result[line] = hit.origin
    for line, path in covers.items():
        hit = hit_of(path)
        if line not in starts and hit is not None:  # a folded scalar's next line: no column
            result[line] = LineOrigin(hit.origin.path, hit.origin.line)
    for path, (style, indicator) in doc.blocks.items():
        hit = hit_of(path)
        if style.startswith("|") and hit is not None:
            indent = _owner_indent(text_lines, path, doc.positions[path])
            rendered = _block_content(text_lines, indicator, indent)
            result.update(_block_lines(rendered, indicator + 1, hit, sources))
    return result


def _document_scalars(doc: YamlDocument, mapper: _ObjectMapper, text: str, sources: Sources) -> dict[int, ScalarOrigin]:
    """The configs a rendered ConfigMap holds whose value is their source's, by the rendered
    lines they are on: kustomize prints a string in the style it likes (a quoted one when a line
    ends in blanks), so a config line is found by its characters, not by its line."""
    from infralint.parsers.kubernetes import embedded_kind

    data = doc.data.get("data") if doc.data.get("kind") == "ConfigMap" else None
    found: dict[int, ScalarOrigin] = {}
    for key, value in data.items() if isinstance(data, dict) else ():
        path = ("data", key)
        position = doc.positions.get(path)
        if not isinstance(key, str) or not isinstance(value, str) or position is None:
            continue
        if embedded_kind(key, value) is None:
            continue
        source = _source_scalar(mapper.origin_of(path, position[1]), value, sources)
        style, start = doc.blocks.get(path, ("", position[0]))
        rendered = scalar_lines(text, style, start, value) if source is not None else None
        if source is None or rendered is None:
            continue
        scalar = ScalarOrigin(source[0], rendered, source[1], *source[2])
        for line in range(start, rendered.file_lines().stop):
            found[line] = scalar
    return found


def _source_scalar(hit: _Hit | None, value: str, sources: Sources) -> tuple[str, ScalarLines, tuple[int, int]] | None:
    """The file behind HIT holding VALUE, where its characters are, and the shift of that text
    in the file: a document's string (an inline patch is shifted), or a generator's file (its
    lines are the value's lines)."""
    if hit is None:
        return None
    if hit.file is not None:
        lines = sources.lines(hit.file)
        if lines is None or "\n".join(lines) != value.removesuffix("\n"):
            return None
        return hit.file, ScalarLines(value), (0, 0)
    if hit.source is None or hit.path is None:
        return None
    found = hit.source.scalar(hit.path, value)
    if found is None:
        return None
    return hit.source.path, found, (hit.source.line_offset, hit.source.col_offset)


def _block_lines(rendered: list[str], first: int, hit: _Hit, sources: Sources) -> dict[int, LineOrigin]:
    """A literal block's lines mapped one to one onto its source's lines, where the text agrees."""
    if hit.file is not None:
        source_lines = sources.lines(hit.file)
        if source_lines is None:
            return {}
        path, source, source_first, col_offset = hit.file, source_lines, 1, 0
    elif hit.source is not None and hit.path is not None:
        block = hit.source.block(hit.path)
        if block is None:
            return {}
        path, (source, source_first, col_offset) = hit.source.path, block
    else:
        return {}
    rendered_indent, source_indent = _indent(rendered), _indent(source)
    result: dict[int, LineOrigin] = {}
    for index, line in enumerate(rendered[: len(source)]):
        wanted = source[index]
        if line[rendered_indent:] == wanted[source_indent:] or not (line.strip() or wanted.strip()):
            shift = source_indent - rendered_indent + col_offset
            result[first + index] = LineOrigin(path, source_first + index, col_shift=shift)
    return result


def _block_content(lines: list[str], indicator: int, indent: int) -> list[str]:
    """The content lines of a block scalar whose `|` is on line INDICATOR (1-based).

    Content is what is indented deeper than INDENT, its key's (yamlpos's end line for a block
    scalar may take in the next key's line).
    """
    if not 1 <= indicator <= len(lines):
        return []
    return _deeper_lines(lines, indicator, indent)


def _owner_indent(lines: list[str], path: Path, position: tuple[int, int, int]) -> int:
    """How far a block scalar's key (or, for a list item, its `-`) is indented."""
    line, col = position[0], position[1]
    if path and isinstance(path[-1], str):
        return col - 1
    text = lines[line - 1] if 1 <= line <= len(lines) else ""
    return max(text.rfind("-", 0, col - 1), 0)


def _indent(lines: list[str]) -> int:
    indents = [len(line) - len(line.lstrip(" ")) for line in lines if line.strip()]
    return min(indents, default=0)


# --- one rendered object -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Hit:
    origin: LineOrigin
    source: SourceDoc | None = None  # the document and path the line came from (for blocks)
    path: Path | None = None
    file: str | None = None  # a generator's file the value was read from


@dataclass(frozen=True)
class _Transformer:
    file: str  # the kustomization (or transformer config) that configured it
    kind: str
    name: str | None


@dataclass
class _Generator:
    source: SourceDoc
    entry: Path  # the entry in the kustomization (or () for a generator config file)
    folder: str  # where its files are relative to


class _ObjectMapper:
    """Origins of one rendered object's key paths."""

    def __init__(self, sources: Sources, root_folder: str, data: dict[Any, Any], notes: _Annotations) -> None:
        self.sources = sources
        self.data = data
        self.kind = data.get("kind")
        name = _get(data, ("metadata", "name"))
        self.name = name if isinstance(name, str) else ""
        self.origin: SourceDoc | None = None
        self.generators: list[_Generator] = []
        self._locate(root_folder, notes.origin)
        self.transformers = _transformers(root_folder, notes.transformations)
        # The names a patch or `replicas:` entry may use: the rendered one and the original.
        original = _get(self.origin.data, ("metadata", "name")) if self.origin else None
        self.names = {name for name in (self.name, original) if isinstance(name, str) and name}

    def _locate(self, root_folder: str, origin: dict[str, Any]) -> None:
        if isinstance(origin.get("path"), str) and not origin.get("repo"):
            self.origin = _pick_document(
                self.sources.documents(_join(root_folder, origin["path"])), self.kind, self.name
            )
        by = origin.get("configuredBy")
        kind = by.get("kind") if isinstance(by, dict) else None
        if isinstance(origin.get("configuredIn"), str) and kind in _GENERATOR_KEYS:
            self.generators = _generators(self.sources, _join(root_folder, origin["configuredIn"]), kind, self.name)

    def origin_of(self, path: Path, rendered_col: int) -> _Hit | None:
        value = _get(self.data, path, _MISSING)
        if self.generators:
            generated = self._generated(path, rendered_col)
            if generated is not None:
                return generated
        aligned = _align(path, self.data, self.origin.data) if self.origin else None
        before = _get(self.origin.data, aligned) if self.origin is not None and aligned is not None else None
        if path and (path[-1] == "image" or path == ("spec", "replicas")):
            # An `images:` or `replicas:` entry that sets the value decides it even when the base
            # writes the same: editing the base would change nothing, the entry is the fix.
            for transformer in self.transformers:
                claimed = self._claim(transformer, path, value, before, rendered_col)
                if claimed is not None:
                    return claimed
        if self.origin is not None and aligned is not None and _same(value, _get(self.origin.data, aligned, _MISSING)):
            return _hit(self.origin, aligned, rendered_col)
        for transformer in self.transformers:
            claimed = self._claim(transformer, path, value, before, rendered_col)
            if claimed is not None:
                return claimed
        if self.origin is not None and aligned is not None:
            return _hit(self.origin, aligned, rendered_col)
        child = self._first_child(path, value)
        if child is not None:
            return child
        if self.origin is not None:
            return _hit(self.origin, (), None)
        if self.generators:
            return self._generator_line()
        return None

    def _first_child(self, path: Path, value: Any) -> _Hit | None:
        """A map or list the origin lacks (a transformer added it whole): where its first item came from."""
        if isinstance(value, dict) and value:
            step: Any = next(iter(value))
        elif isinstance(value, list) and value:
            step = 0
        else:
            return None
        hit = self.origin_of((*path, step), 0)
        return _Hit(LineOrigin(hit.origin.path, hit.origin.line, col=hit.origin.column(None))) if hit else None

    # Generated objects -------------------------------------------------------------------------

    def _generated(self, path: Path, rendered_col: int) -> _Hit | None:
        """Data keys map to their literal/file/env entry, the name and the rest to the entry."""
        if len(path) >= 2 and path[0] in ("data", "binaryData"):
            return self._data_key(str(path[1]), rendered_col) or self._generator_line()
        if path[:2] in (("metadata", "labels"), ("metadata", "annotations")):
            return self._generator_option(path, rendered_col)  # else a transformer set it
        if path[:2] == ("metadata", "namespace"):
            return None  # the transformer that set it says where
        return self._generator_line()

    def _generator_option(self, path: Path, rendered_col: int) -> _Hit | None:
        """A label or annotation from the entry's `options:` or the kustomization's `generatorOptions:`."""
        value = _get(self.data, path, _MISSING)
        for generator in reversed(self.generators):
            wheres: list[Path] = [(*generator.entry, "options", path[1])] if generator.entry else [(path[1],)]
            if generator.entry:
                wheres.append(("generatorOptions", path[1]))
            for where in wheres:
                pairs = _get(generator.source.data, where)
                if not isinstance(pairs, dict):
                    continue
                if len(path) == 2 and isinstance(value, dict) and pairs.keys() <= value.keys():
                    return _hit(generator.source, where, None)
                if len(path) == 3 and path[2] in pairs and _same(value, pairs[path[2]]):
                    return _hit(generator.source, (*where, path[2]), rendered_col)
        return None

    def _generator_line(self) -> _Hit | None:
        generator = self.generators[-1]  # the one that made the object (merges come before it)
        name_key = (*generator.entry, "name") if generator.entry else ("metadata", "name")
        origin = generator.source.at(name_key) or generator.source.at(generator.entry)
        return _Hit(origin) if origin else None

    def _data_key(self, key: str, rendered_col: int) -> _Hit | None:
        for generator in self.generators:
            entry = _get(generator.source.data, generator.entry)
            if not isinstance(entry, dict):
                continue
            found = _literal_entry(generator, entry, key, rendered_col) or self._file_entry(
                generator, entry, key, rendered_col
            )
            if found is not None:
                return found
        return None

    def _file_entry(self, generator: _Generator, entry: dict[Any, Any], key: str, rendered_col: int) -> _Hit | None:
        for index, source in enumerate(_list(entry.get("files"))):
            if not isinstance(source, str):
                continue
            name, _sep, file = source.partition("=") if "=" in source else (posixpath.basename(source), "", source)
            if name.strip() == key:
                origin = generator.source.at((*generator.entry, "files", index), rendered_col)
                return _Hit(origin, file=_join(generator.folder, file.strip())) if origin else None
        for env in [*_list(entry.get("envs")), entry.get("env")]:
            if isinstance(env, str):
                found = self._env_line(_join(generator.folder, env), key, rendered_col)
                if found is not None:
                    return found
        return None

    def _env_line(self, path: str, key: str, rendered_col: int) -> _Hit | None:
        for number, line in enumerate(self.sources.lines(path) or [], start=1):
            stripped = line.strip()
            if stripped and not stripped.startswith("#") and stripped.split("=", 1)[0].strip() == key:
                col = len(line) - len(line.lstrip()) + 1
                return _Hit(LineOrigin(path, number, col_shift=col - rendered_col))
        return None

    # Transformers ----------------------------------------------------------------------------

    def _claim(self, transformer: _Transformer, path: Path, value: Any, before: Any, col: int) -> _Hit | None:
        configs = self._configs(transformer)
        kind = transformer.kind
        for config, in_kustomization in configs:
            if kind in _PATCH_KINDS:
                found = self._patch_claim(transformer.file, path, value, col)
            elif kind == "LabelTransformer":
                found = _map_claim(config, _label_maps(config, in_kustomization), path, value, col, _LABEL_PARENTS)
            elif kind == "AnnotationsTransformer":
                maps = [("commonAnnotations",)] if in_kustomization else [("annotations",)]
                found = _map_claim(config, maps, path, value, col, frozenset({"annotations"}))
            elif kind == "NamespaceTransformer":
                found = _namespace_claim(config, in_kustomization, path, value)
            elif kind in _NAME_KINDS:
                found = _name_claim(config, in_kustomization, path, value)
            elif kind == "ReplicaCountTransformer":
                found = self._replica_claim(config, in_kustomization, path, value)
            elif kind == "ImageTagTransformer":
                found = _image_claim(config, in_kustomization, path, value, before)
            else:
                found = None
            if found is not None:
                return found
        return None

    def _configs(self, transformer: _Transformer) -> list[tuple[SourceDoc, bool]]:
        """The kustomization that configured a transformer, or its config documents."""
        kustomization = self.sources.kustomization(transformer.file)
        if kustomization is not None:
            return [(kustomization, True)]
        return [
            (doc, False)
            for doc in self.sources.documents(transformer.file)
            if isinstance(doc.data, dict)
            and doc.data.get("kind") == transformer.kind
            and (transformer.name is None or _get(doc.data, ("metadata", "name")) == transformer.name)
        ]

    def _patch_claim(self, file: str, path: Path, value: Any, col: int) -> _Hit | None:
        for patch in reversed(self.sources.patches(file)):
            if patch.target is not None and not self._targeted(patch.target):
                continue
            for doc in reversed(patch.docs):
                found = (
                    self._json_claim(doc, path, value, col)
                    if isinstance(doc.data, list)
                    else self._merge_claim(doc, patch, path, value, col)
                )
                if found is not None:
                    return found
        return None

    def _merge_claim(self, doc: SourceDoc, patch: _Patch, path: Path, value: Any, col: int) -> _Hit | None:
        if not isinstance(doc.data, dict):
            return None
        if patch.target is None and not self._names_this(doc.data):
            return None
        aligned = _align(path, self.data, doc.data)
        if aligned is not None and _same(value, _get(doc.data, aligned, _MISSING)):
            return _hit(doc, aligned, col)
        return None

    def _json_claim(self, doc: SourceDoc, path: Path, value: Any, col: int) -> _Hit | None:
        """The latest op writing PATH: its value's key when that holds the value, else its `path:`."""
        fallback: _Hit | None = None
        for index in reversed(range(len(doc.data))):
            op = doc.data[index]
            if not isinstance(op, dict) or op.get("op") not in ("add", "replace", "copy", "move"):
                continue
            pointer = _pointer(op.get("path"))
            if pointer is None or len(path) < len(pointer) or not _pointer_matches(path[: len(pointer)], pointer):
                continue
            rest = path[len(pointer) :]
            if rest and "value" in op:
                aligned = _align(rest, _get(self.data, path[: len(pointer)]), op["value"])
                if aligned is not None and _same(value, _get(op["value"], aligned, _MISSING)):
                    return _hit(doc, (index, "value", *aligned), col)
            if "-" in pointer:
                continue  # an append matches any item: only its own values say it wrote this one
            origin = doc.at((index, "path"))
            if origin is not None and fallback is None:
                fallback = _Hit(origin)
        return fallback

    def _names_this(self, patch: dict[Any, Any]) -> bool:
        kind = patch.get("kind")
        name = _get(patch, ("metadata", "name"))
        if kind is not None and kind != self.kind:
            return False
        return not isinstance(name, str) or name in self.names or (bool(name) and name in self.name)

    def _targeted(self, target: dict[Any, Any]) -> bool:
        for key, values in (("kind", {self.kind}), ("name", self.names)):
            wanted = target.get(key)
            if isinstance(wanted, str) and not any(_full_match(wanted, str(v)) for v in values if v):
                return False
        return True

    def _replica_claim(self, config: SourceDoc, in_kustomization: bool, path: Path, value: Any) -> _Hit | None:
        if path != ("spec", "replicas"):
            return None
        entries = (
            list(enumerate(_list(config.data.get("replicas"))))
            if in_kustomization
            else [(None, config.data.get("replica"))]
        )
        for index, entry in reversed(entries):
            if isinstance(entry, dict) and entry.get("name") in self.names and _same(value, entry.get("count")):
                where = ("replicas", index) if index is not None else ("replica",)
                origin = config.at((*where, "count")) or config.at(where)
                return _Hit(origin) if origin else None
        return None


def _transformers(root_folder: str, steps: list[dict[str, Any]]) -> list[_Transformer]:
    """The transformers that visited an object, latest first, each once."""
    found: dict[_Transformer, None] = {}
    for step in steps:
        by = step.get("configuredBy")
        if isinstance(step.get("configuredIn"), str) and isinstance(by, dict) and isinstance(by.get("kind"), str):
            name = by.get("name")
            transformer = _Transformer(
                _join(root_folder, step["configuredIn"]), by["kind"], name if isinstance(name, str) else None
            )
            found.pop(transformer, None)
            found[transformer] = None
    return list(reversed(found))


def _label_maps(config: SourceDoc, in_kustomization: bool) -> list[Path]:
    if not in_kustomization:
        return [("labels",)]
    maps: list[Path] = [("commonLabels",)]
    maps += [("labels", index, "pairs") for index, _ in enumerate(_list(config.data.get("labels")))]
    return maps


def _map_claim(
    config: SourceDoc, maps: list[Path], path: Path, value: Any, col: int, parents: frozenset[str]
) -> _Hit | None:
    """A label/annotation a transformer added: its key in the map, or the map for a new map."""
    for where in reversed(maps):
        pairs = _get(config.data, where)
        if not isinstance(pairs, dict) or not pairs:
            continue
        if isinstance(value, dict):
            if path and path[-1] in parents and all(_same(value.get(k, _MISSING), v) for k, v in pairs.items()):
                return _hit(config, where, None)
        elif len(path) >= 2 and path[-2] in parents and path[-1] in pairs and _same(value, pairs[path[-1]]):
            return _hit(config, (*where, path[-1]), col)
    return None


def _namespace_claim(config: SourceDoc, in_kustomization: bool, path: Path, value: Any) -> _Hit | None:
    where = ("namespace",) if in_kustomization else ("metadata", "namespace")
    namespace = _get(config.data, where)
    if path and path[-1] == "namespace" and isinstance(namespace, str) and value == namespace:
        return _hit(config, where, None)
    return None


def _name_claim(config: SourceDoc, in_kustomization: bool, path: Path, value: Any) -> _Hit | None:
    if path != ("metadata", "name") or not isinstance(value, str):
        return None
    prefix, suffix = ("namePrefix", "nameSuffix") if in_kustomization else ("prefix", "suffix")
    for key, fits in ((prefix, value.startswith), (suffix, value.endswith)):
        part = config.data.get(key)
        if isinstance(part, str) and part and fits(part):
            return _hit(config, (key,), None)
    return None


def _image_claim(config: SourceDoc, in_kustomization: bool, path: Path, value: Any, before: Any) -> _Hit | None:
    """An `images:` entry that rewrote an image: its newTag, newName or digest line."""
    if not path or path[-1] != "image" or not isinstance(value, str):
        return None
    entries = (
        list(enumerate(_list(config.data.get("images")))) if in_kustomization else [(None, config.data.get("imageTag"))]
    )
    names = {_image_name(value)} | ({_image_name(before)} if isinstance(before, str) else set())
    for index, entry in reversed(entries):
        if not isinstance(entry, dict) or not (
            entry.get("name") in names or entry.get("newName") == _image_name(value)
        ):
            continue
        where: Path = ("images", index) if index is not None else ("imageTag",)
        for key, applies in (
            ("digest", "@" in value),
            ("newTag", _image_tag(value) == str(entry.get("newTag"))),
            ("newName", _image_name(value) == entry.get("newName")),
        ):
            if key in entry and applies:
                return _hit(config, (*where, key), None)
        return _hit(config, where, None)
    return None


def _image_name(image: str) -> str:
    image = image.split("@", 1)[0]
    head, _sep, tail = image.rpartition("/")
    return f"{head}/{tail.split(':', 1)[0]}" if head else tail.split(":", 1)[0]


def _image_tag(image: str) -> str:
    tail = image.split("@", 1)[0].rpartition("/")[2]
    return tail.split(":", 1)[1] if ":" in tail else ""


def _literal_entry(generator: _Generator, entry: dict[Any, Any], key: str, rendered_col: int) -> _Hit | None:
    for index, literal in enumerate(_list(entry.get("literals"))):
        if isinstance(literal, str) and literal.split("=", 1)[0].strip() == key:
            origin = generator.source.at((*generator.entry, "literals", index), rendered_col)
            return _Hit(origin) if origin else None
    return None


def _hit(source: SourceDoc, path: Path, rendered_col: int | None) -> _Hit | None:
    origin = source.at(path, rendered_col)
    return _Hit(origin, source, path) if origin else None


# --- finding the documents -------------------------------------------------------------------------


def _pick_document(docs: list[SourceDoc], kind: Any, name: str) -> SourceDoc | None:
    """The document (or `kind: List` item) a rendered object came from: same kind, then name.

    The rendered name may carry prefixes, suffixes or a hash: the longest original name it
    contains wins.
    """
    candidates: list[SourceDoc] = []
    for doc in docs:
        if not isinstance(doc.data, dict):
            continue
        items = doc.data.get("items")
        if str(doc.data.get("kind", "")).endswith("List") and isinstance(items, list):
            candidates += [doc.view(("items", index)) for index, item in enumerate(items) if isinstance(item, dict)]
        else:
            candidates.append(doc)
    same_kind = [doc for doc in candidates if doc.data.get("kind") == kind]
    # A patch may even change the kind (a StatefulSet made a Deployment): then the name decides.
    return _by_name(same_kind, name) or _by_name(candidates, name) or (candidates[0] if len(candidates) == 1 else None)


def _by_name(candidates: list[SourceDoc], name: str) -> SourceDoc | None:
    named = [(doc, _get(doc.data, ("metadata", "name"))) for doc in candidates]
    exact = [doc for doc, original in named if original == name]
    if exact:
        return exact[0]
    contained = [
        (len(original), doc) for doc, original in named if isinstance(original, str) and original and original in name
    ]
    if contained:
        return max(contained, key=lambda pair: pair[0])[1]
    return candidates[0] if len(candidates) == 1 else None


def _generators(sources: Sources, configured_in: str, kind: str, name: str) -> list[_Generator]:
    """The generator entry that made NAME, preceded by the entries merging into it (outermost first)."""
    key = _GENERATOR_KEYS[kind]
    made: _Generator | None = None
    kustomization = sources.kustomization(configured_in)
    if kustomization is not None:
        made = _entry_for(kustomization, key, name, configured_in)
    else:
        for doc in sources.documents(configured_in):  # a generator config from `generators:`
            original = _get(doc.data, ("metadata", "name"))
            if (
                isinstance(doc.data, dict)
                and doc.data.get("kind") == kind
                and isinstance(original, str)
                and original in name
            ):
                made = _Generator(doc, (), posixpath.dirname(configured_in))
    if made is None:
        return []
    original = _get(made.source.data, (*made.entry, "name")) if made.entry else None
    merges: list[_Generator] = []
    for doc in sources.kustomizations():
        for index, entry in enumerate(_list(doc.data.get(key))):
            if (
                isinstance(entry, dict)
                and entry.get("name") == original
                and entry.get("behavior") in ("merge", "replace")
            ):
                merges.append(_Generator(doc, (key, index), posixpath.dirname(doc.path)))
    return [*merges, made]


def _entry_for(kustomization: SourceDoc, key: str, name: str, path: str) -> _Generator | None:
    best: tuple[int, int] | None = None
    for index, entry in enumerate(_list(kustomization.data.get(key))):
        original = entry.get("name") if isinstance(entry, dict) else None
        creates = entry.get("behavior") not in ("merge", "replace") if isinstance(entry, dict) else False
        if (
            isinstance(original, str)
            and original
            and original in name
            and creates
            and (best is None or len(original) > best[0])
        ):
            best = (len(original), index)
    return _Generator(kustomization, (key, best[1]), posixpath.dirname(path)) if best else None


# --- patches ---------------------------------------------------------------------------------------


@dataclass
class _Patch:
    docs: list[SourceDoc]
    target: dict[Any, Any] | None


def _read_patches(sources: Sources, path: str) -> list[_Patch]:
    """The patches a kustomization (or a patch transformer config) applies, in order."""
    kustomization = sources.kustomization(path)
    if kustomization is None:
        return [
            patch
            for doc in sources.documents(path)
            if isinstance(doc.data, dict)
            for patch in _config_patches(sources, doc)
        ]
    data = kustomization.data
    folder = posixpath.dirname(path)
    patches: list[_Patch] = []
    for key in ("patches", "patchesJson6902", "patchesStrategicMerge"):
        for index, item in enumerate(_list(data.get(key))):
            if isinstance(item, str):  # patchesStrategicMerge: a file, or an inline patch
                docs = (
                    _inline_docs(kustomization, (key, index))
                    if "\n" in item
                    else sources.documents(_join(folder, item))
                )
                patches.append(_Patch(docs, None))
            elif isinstance(item, dict):
                target = item.get("target") if isinstance(item.get("target"), dict) else None
                patches.append(_Patch(_patch_docs(sources, kustomization, (key, index), item, folder), target))
    return patches


def _patch_docs(sources: Sources, owner: SourceDoc, where: Path, item: dict[Any, Any], folder: str) -> list[SourceDoc]:
    if isinstance(item.get("path"), str):
        return sources.documents(_join(folder, item["path"]))
    if isinstance(item.get("patch"), str):
        return _inline_docs(owner, (*where, "patch"))
    return []


def _config_patches(sources: Sources, config: SourceDoc) -> list[_Patch]:
    """A builtin patch transformer config's patches (files relative to the config's folder)."""
    data = config.data
    if data.get("kind") not in _PATCH_KINDS:
        return []
    folder = posixpath.dirname(config.path)
    target = data.get("target") if isinstance(data.get("target"), dict) else None
    docs: list[SourceDoc] = []
    for name in _list(data.get("paths")):
        if isinstance(name, str):
            docs += sources.documents(_join(folder, name))
    docs += _patch_docs(sources, config, (), data, folder)
    if isinstance(data.get("jsonOp"), str):
        docs += _inline_docs(config, ("jsonOp",))
    return [_Patch(docs, target)]


def _inline_docs(owner: SourceDoc, where: Path) -> list[SourceDoc]:
    """A patch written inside a kustomization, positioned at the kustomization's own lines."""
    text = _get(owner.data, where)
    if not isinstance(text, str):
        return []
    docs = _parse(text)
    block = owner.block(where)
    if block is None:  # a quoted or one-line patch: every key is at the entry's line
        position = owner.positions.get(owner.base + where, (1, 1, 1))
        flat = (position[0] + owner.line_offset, position[1] + owner.col_offset)
        return [
            SourceDoc(owner.path, doc.data, doc.positions, doc.blocks, text.splitlines(), flat=flat, source_text=text)
            for doc in docs
        ]
    lines, first, col_offset = block
    indent = _indent(lines)
    return [
        SourceDoc(
            owner.path,
            doc.data,
            doc.positions,
            doc.blocks,
            text.splitlines(),
            (),
            first - 1,
            indent + col_offset,
            source_text=text,
        )
        for doc in docs
    ]


# --- paths and values --------------------------------------------------------------------------------


def _align(path: Path, rendered: Any, target: Any) -> Path | None:
    """PATH of the rendered object as a path in TARGET, list items matched by merge key."""
    aligned: list[Any] = []
    for step in path:
        if isinstance(step, int):
            if not isinstance(rendered, list) or not isinstance(target, list) or step >= len(rendered):
                return None
            index = _matching_item(rendered[step], target, step)
            if index is None:
                return None
            rendered, target = rendered[step], target[index]
            aligned.append(index)
        else:
            if not isinstance(target, dict) or step not in target or not isinstance(rendered, dict):
                return None
            rendered, target = rendered.get(step), target[step]
            aligned.append(step)
    return tuple(aligned)


def _matching_item(item: Any, items: list[Any], index: int) -> int | None:
    """The index in ITEMS of the rendered ITEM (at INDEX in its list), or None if it is new."""
    if isinstance(item, dict):
        for key in _MERGE_KEYS:
            if key in item:
                same = [i for i, other in enumerate(items) if isinstance(other, dict) and other.get(key) == item[key]]
                if same:
                    return index if index in same else same[0]
                if key == "name":
                    return None  # a named item the source does not have (a patch added it)
        return _most_alike(item, items, index)
    if index < len(items) and _same(item, items[index]):
        return index
    equal = [i for i, other in enumerate(items) if _same(item, other)]
    if equal:
        return equal[0]
    return index if index < len(items) else None


def _most_alike(item: dict[Any, Any], items: list[Any], index: int) -> int | None:
    """The source item sharing the most fields with ITEM (a patch may have changed its key)."""
    scores = [
        (sum(1 for key, value in item.items() if key in other and _same(value, other[key])), i == index, i)
        for i, other in enumerate(items)
        if isinstance(other, dict)
    ]
    best = max(scores, default=None)
    if best is not None and best[0] > 0:
        return best[2]
    return (
        index if index < len(items) and isinstance(items[index], dict) and not item.keys() & set(_MERGE_KEYS) else None
    )


def _same(rendered: Any, source: Any) -> bool:
    """Whether a source value is what was rendered: a collection for a collection, else equal text."""
    if rendered is _MISSING or source is _MISSING:
        return False
    if isinstance(rendered, (dict, list)) or isinstance(source, (dict, list)):
        return type(rendered) is type(source)
    if rendered == source and type(rendered) is type(source):
        return True
    if isinstance(source, bool) and isinstance(rendered, str):  # YAML 1.1 `yes` read by PyYAML
        return _YAML11_BOOLS.get(rendered.lower()) is source or rendered.lower() == str(source).lower()
    return _text(rendered) == _text(source)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _pointer(text: Any) -> Path | None:
    if not isinstance(text, str) or not text.startswith("/"):
        return None
    steps: list[Any] = []
    for part in text[1:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        steps.append(int(part) if part.isdigit() else part)
    return tuple(steps)


def _pointer_matches(path: Path, pointer: Path) -> bool:
    return all(
        step == wanted or (wanted == "-" and isinstance(step, int)) for step, wanted in zip(path, pointer, strict=True)
    )


def _full_match(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return pattern == value


def _join(folder: str, name: str) -> str:
    return posixpath.normpath(posixpath.join(folder, name))


def _get(data: Any, path: Path, default: Any = None) -> Any:
    for step in path:
        in_map = isinstance(data, dict) and step in data
        if not in_map and not (isinstance(data, list) and isinstance(step, int) and 0 <= step < len(data)):
            return default
        data = data[step]
    return data


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
