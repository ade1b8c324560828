"""Project configuration: `.infralint.yaml` / `.infralint.yml`, or `[tool.infralint]` in pyproject.toml.

The file is looked for from the scan root upward (the first one found wins), validated against
schemas/config.schema.json, and turned into the settings of one scan by ``settings()``. A file
that is not valid is a usage error that names the file, the line and the key; a rule id the
catalog does not know is a finding (`infralint-unknown-rule`) at the line that names it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING, Any

from infralint.findings import Finding, Severity
from infralint.rules.meta import RuleMeta
from infralint.selection import matches
from infralint.source import Span

if TYPE_CHECKING:
    from infralint.api import ScanOptions
    from infralint.development import DevelopmentPaths
    from infralint.discover import Excludes

YAML_NAMES = (".infralint.yaml", ".infralint.yml")
PYPROJECT = "pyproject.toml"
# Target versions switch rules through the rule option `<product>_version` of every rule
# that declares it (k8s-deprecated-api: kubernetes_version, haproxy-weak-tls: haproxy_version ...).
PRODUCTS = ("kubernetes", "nginx", "haproxy", "redis")
Path = tuple[Any, ...]
Pos = tuple[int, int]  # line, column (1-based)


class ConfigError(ValueError):
    """The configuration cannot be used; the message says where and why."""


@dataclass
class Config:
    path: str  # absolute
    data: dict[str, Any]
    positions: dict[Path, Pos] = field(default_factory=dict)
    prefix: Path = ()  # ("tool", "infralint") in pyproject.toml, so messages name the key as written

    def key(self, path: Path) -> str:
        return key_name((*self.prefix, *path))

    @property
    def folder(self) -> str:
        return os.path.dirname(self.path)

    def position(self, path: Path) -> Pos:
        """Where PATH is written; the nearest enclosing key when it has no position of its own."""
        while path:
            if path in self.positions:
                return self.positions[path]
            path = path[:-1]
        return self.positions.get((), (1, 1))

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def resolve(self, relative: str) -> str:
        """A path written in the config is relative to the config's folder."""
        return os.path.normpath(os.path.join(self.folder, relative))


# --- finding and reading ---------------------------------------------------------------------


def find(start: str) -> str | None:
    """The first config file in START or one of its parents (up to the filesystem root)."""
    folder = os.path.abspath(start)
    while True:
        for name in YAML_NAMES:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate):
                return candidate
        candidate = os.path.join(folder, PYPROJECT)
        if os.path.isfile(candidate) and _has_tool_table(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _has_tool_table(path: str) -> bool:
    """Cheap test first (a pyproject.toml of another tool must not be judged by us), then parse."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return False
    if not re.search(r"^\s*\[\s*tool\s*\.\s*[\"']?infralint\b", text, re.MULTILINE):
        return False
    return "infralint" in _toml(path, text).get("tool", {})


def discover_and_load(paths: Sequence[str], config_file: str | None, no_config: bool) -> Config | None:
    """The config a scan of PATHS uses: --config FILE, else the one found upward, else none."""
    if no_config:
        return None
    if config_file:
        return load(config_file)
    from infralint.discover import scan_root

    found = find(scan_root(list(paths) or ["."]))
    return load(found) if found else None


def load(path: str) -> Config:
    path = os.path.abspath(path)
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read().replace("\r\n", "\n")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ConfigError(f"{shown(path)}: cannot read the configuration: {reason}") from None
    config = _pyproject(path, text) if os.path.basename(path) == PYPROJECT else _yaml(path, text)
    validate(config)
    return config


def shown(path: str) -> str:
    """A path as a message shows it: relative to the working directory when below it."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _yaml(path: str, text: str) -> Config:
    from infralint.parsers.yamlpos import YamlInputError, load_documents

    try:
        documents = list(load_documents(text))
    except YamlInputError as error:
        where = f":{error.line}" if error.line else ""
        raise ConfigError(f"{shown(path)}{where}: not valid YAML: {error.message}") from None
    if len(documents) > 1:
        raise ConfigError(f"{shown(path)}:{documents[1].line}: one YAML document expected, found several")
    if not documents or documents[0].data is None:
        return Config(path, {})
    document = documents[0]
    positions = {key: (pos[0], pos[1]) for key, pos in document.positions.items()}
    if not isinstance(document.data, dict):
        raise ConfigError(f"{shown(path)}:{document.line}: the configuration must be a mapping of keys")
    return Config(path, document.data, positions)


def _pyproject(path: str, text: str) -> Config:
    data = _toml(path, text).get("tool", {}).get("infralint")
    if data is None:
        raise ConfigError(f"{shown(path)}: no [tool.infralint] table")
    if not isinstance(data, dict):
        raise ConfigError(f"{shown(path)}: tool.infralint must be a table")
    prefix = ("tool", "infralint")
    positions = {key[2:]: pos for key, pos in _toml_positions(text).items() if key[:2] == prefix}
    return Config(path, data, positions, prefix)


def _toml(path: str, text: str) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the tomli dependency
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{shown(path)}: not valid TOML: {error}") from None
    return data


# --- validation ------------------------------------------------------------------------------


@cache
def schema() -> dict[str, Any]:
    from infralint.resources import data_dir

    loaded: dict[str, Any] = json.loads((data_dir("schemas") / "config.schema.json").read_text(encoding="utf-8"))
    return loaded


def validate(config: Config) -> None:
    """Raise ConfigError listing every problem as `file:line: key: reason`."""
    from jsonschema import Draft202012Validator

    problems = _key_problems(config, config.data, ())
    if problems:  # YAML allows `123:` or `true:` as keys; the rest of the checks assume strings
        _raise(config, problems)
    for error in Draft202012Validator(schema()).iter_errors(config.data):
        problems.extend(_describe(config, tuple(error.absolute_path), error))
    problems.extend(_option_problems(config))
    if problems:
        _raise(config, problems)


def _raise(config: Config, problems: list[tuple[int, str]]) -> None:
    problems.sort(key=lambda item: item[0])
    raise ConfigError("\n".join(f"{shown(config.path)}:{line}: {text}" for line, text in problems))


def _key_problems(config: Config, data: Any, path: Path) -> list[tuple[int, str]]:
    problems = []
    if isinstance(data, dict):
        for key, value in data.items():
            if not isinstance(key, str):
                where = config.key(path) if path else "(top level)"
                problems.append((config.position((*path, key))[0], f"{where}: key {key!r} must be a string (quote it)"))
            else:
                problems.extend(_key_problems(config, value, (*path, key)))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            problems.extend(_key_problems(config, item, (*path, index)))
    return problems


def key_name(path: Path) -> str:
    """`rules.k8s-secret-in-env.secret_name_pattern`, `select[2]`, `per-path-ignores."vendor/**"`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", str(part)):
            text += f".{part}" if text else str(part)
        else:
            text += f".{json.dumps(part)}" if text else json.dumps(part)
    return text or "(top level)"


def _describe(config: Config, path: Path, error: Any) -> list[tuple[int, str]]:
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(error.schema.get("properties", {}))
        extra = [key for key in error.instance if key not in known]
        hint = f" (known keys: {', '.join(known)})" if known else ""
        return [(config.position((*path, key))[0], f"{config.key((*path, key))}: unknown key{hint}") for key in extra]
    value = error.instance
    if "propertyNames" in error.schema_path and isinstance(value, str):
        path = (*path, value)  # a bad key: point at the key itself
    line = config.position(path)[0]
    name = config.key(path)
    if error.validator == "type" and path[:1] == ("target-versions",) and isinstance(value, (int, float)):
        return [(line, f"{name}: write the version as a string in quotes (YAML reads 1.30 as the number 1.3)")]
    if error.validator == "enum":
        choices = ", ".join(str(choice) for choice in error.validator_value)
        return [(line, f"{name}: {value!r} is not one of {choices}")]
    if error.validator == "type":
        return [(line, f"{name}: expected {_type_name(error.validator_value)}, got {_type_name(_json_type(value))}")]
    if error.validator == "pattern":
        described = error.schema.get("x-expected") or f"a value matching {error.validator_value}"
        return [(line, f"{name}: {value!r} is not {described}")]
    return [(line, f"{name}: {error.message}")]


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _type_name(kind: Any) -> str:
    names = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer"}
    names |= {"boolean": "true or false", "number": "a number", "null": "nothing"}
    if isinstance(kind, list):
        return " or ".join(names.get(str(k), str(k)) for k in kind)
    return names.get(kind, str(kind))


def _option_problems(config: Config) -> list[tuple[int, str]]:
    """Options of known rules must be options the rule has, of the type of its default."""
    from infralint.catalog import meta_by_id

    rules = config.get("rules")
    if not isinstance(rules, dict):
        return []
    metas = meta_by_id()
    problems = []
    for rule_id, options in rules.items():
        meta = metas.get(rule_id)
        if meta is None or not isinstance(options, dict):
            continue  # an unknown rule is a finding, a wrong shape a schema error
        for name, value in options.items():
            path = ("rules", rule_id, name)
            problem = _option_problem(meta, name, value)
            if problem:
                problems.append((config.position(path)[0], f"{config.key(path)}: {problem}"))
    return problems


def _option_problem(meta: RuleMeta, name: str, value: Any) -> str | None:
    if name not in meta.options:
        known = ", ".join(sorted(meta.options)) or "none"
        return f"{meta.id} has no option {name!r} (its options: {known})"
    default = meta.options[name]
    expected = _json_type(default)
    if isinstance(default, int) and not isinstance(default, bool):
        expected = "integer"
        if not isinstance(value, int) or isinstance(value, bool):
            return f"expected an integer, got {_type_name(_json_type(value))}"
    elif _json_type(value) != expected:
        return f"expected {_type_name(expected)} like the default {default!r}, got {_type_name(_json_type(value))}"
    if expected == "array" and not all(isinstance(item, str) for item in value):
        return "expected a list of strings"
    if name.endswith("_pattern") and isinstance(value, str):
        try:
            re.compile(value)
        except re.error as error:
            return f"not a valid regular expression: {error}"
    if name.endswith("_version") and isinstance(value, str) and not _VERSION.match(value):
        return f'{value!r} is not a version such as "1.29"'
    return None


_VERSION = re.compile(r"^(\d+(\.\d+){0,2}|latest|unknown)$")


def version_tuple(text: str) -> tuple[int, ...] | None:
    """(1, 29) from "1.29"; None for "latest"/"unknown" (no limit)."""
    if not re.fullmatch(r"\d+(\.\d+){0,2}", text.strip()):
        return None
    return tuple(int(part) for part in text.strip().split("."))


# --- the settings of one scan ----------------------------------------------------------------


@dataclass
class PathIgnore:
    glob: str
    selectors: list[str]
    spec: Any  # pathspec.GitIgnoreSpec of the one glob
    used: set[str] = field(default_factory=set)


@dataclass
class Settings:
    """What a scan runs with: the command line (ScanOptions) over the config file."""

    config: Config | None
    select: list[str]
    ignore: list[str]
    severity: dict[str, Severity]
    rule_options: dict[str, dict[str, Any]]
    baseline: str | None
    path_ignores: list[PathIgnore]
    exclude_spec: Any  # pathspec.GitIgnoreSpec or None
    unknown: list[tuple[Path, str]]  # (where in the config, rule id) naming no rule
    default_excludes: bool = True  # skip vendored and test folders (discover.DEFAULT_EXCLUDED_FOLDERS)
    # Globs of development files, which get only correctness checks (infralint.development); () is off.
    development_paths: tuple[str, ...] = ()
    # Leave out advice findings whose place carries a comment stating the choice (infralint.stated_choices).
    stated_choices: bool = True

    def with_severities(self, metas: Iterable[RuleMeta]) -> list[RuleMeta]:
        return [replace(m, severity=self.severity[m.id]) if m.id in self.severity else m for m in metas]

    def apply_severities(self, findings: list[Finding]) -> None:
        for finding in findings:
            override = self.severity.get(finding.rule_id)
            if override is not None:
                finding.severity = override

    def _relative(self, root: str, path: str) -> str | None:
        """PATH (relative to the scan root) relative to the config's folder; None when outside it."""
        assert self.config is not None
        relative = os.path.relpath(os.path.join(root, path), self.config.folder).replace(os.sep, "/")
        return None if relative == ".." or relative.startswith("../") else relative

    def excluded(self, root: str) -> Excludes:
        """A test for discovery: is this absolute path excluded, by the config's `exclude` or as a
        vendored or test folder (unless `default-excludes` is off, or `exclude` re-includes it
        with a `!` pattern)?"""
        from infralint.discover import Excludes

        return Excludes(root, self.default_excludes, self._config_excluded(), self._config_included())

    def _config_relative(self, absolute: str, is_dir: bool) -> str | None:
        assert self.config is not None
        relative = os.path.relpath(absolute, self.config.folder).replace(os.sep, "/")
        if relative == ".." or relative.startswith("../"):
            return None
        return relative + "/" if is_dir else relative

    def _config_excluded(self) -> Callable[[str, bool], bool] | None:
        spec = self.exclude_spec
        if spec is None or self.config is None:
            return None

        def test(absolute: str, is_dir: bool) -> bool:
            relative = self._config_relative(absolute, is_dir)
            return relative is not None and bool(spec.match_file(relative))

        return test

    def _config_included(self) -> Callable[[str], bool] | None:
        """Whether the config's `exclude` re-includes a folder by a `!` pattern (its last match)."""
        spec = self.exclude_spec
        if spec is None or self.config is None:
            return None

        def test(absolute: str) -> bool:
            relative = self._config_relative(absolute, True)
            return relative is not None and spec.check_file(relative).include is False

        return test

    def development(self, root: str) -> DevelopmentPaths:
        """A test of paths relative to the scan root: is this a development file? Globs are
        matched relative to the config's folder (the scan root without a config, or for a file
        outside that folder)."""
        from infralint.development import DevelopmentPaths

        def relative(path: str) -> str:
            inside = self._relative(root, path) if self.config is not None else None
            return inside if inside is not None else path

        return DevelopmentPaths(self.development_paths, relative)

    def apply_path_ignores(self, findings: list[Finding], root: str) -> list[Finding]:
        if not self.path_ignores:
            return findings
        kept = []
        for finding in findings:
            relative = self._relative(root, finding.span.path)
            if relative is None or not self._path_ignored(finding.rule_id, relative):
                kept.append(finding)
        return kept

    def _path_ignored(self, rule_id: str, relative: str) -> bool:
        ignored = False
        for entry in self.path_ignores:
            selector = next((s for s in entry.selectors if matches(rule_id, s)), None)
            if selector is not None and entry.spec.match_file(relative):
                entry.used.add(selector)
                ignored = True  # go on: every entry that covers the finding counts as used
        return ignored

    def unknown_rule_findings(self, root: str) -> list[Finding]:
        findings = []
        for path, rule_id in self.unknown:
            assert self.config is not None
            message = f"configuration key {self.config.key(path)} names unknown rule {rule_id!r}"
            if path[0] in ("severity", "rules") and len(path) == 2:
                message += " (it takes exact rule ids, not prefixes)"
            findings.append(self._config_finding("infralint-unknown-rule", Severity.WARNING, message, path, root))
        return findings

    def unused_path_ignore_findings(self, root: str, enabled: set[str]) -> list[Finding]:
        """Per-path ignores that hid nothing (only those that could have: their rules ran)."""
        findings = []
        for entry in self.path_ignores:
            for index, selector in enumerate(entry.selectors):
                if selector in entry.used or not any(matches(rule_id, selector) for rule_id in enabled):
                    continue
                path = ("per-path-ignores", entry.glob, index)
                message = f"per-path ignore of {selector!r} for {entry.glob!r} matched no finding"
                findings.append(self._config_finding("infralint-unused-ignore", Severity.NOTE, message, path, root))
        return findings

    def _config_finding(self, rule_id: str, severity: Severity, message: str, path: Path, root: str) -> Finding:
        assert self.config is not None
        line, col = self.config.position(path)
        relative = os.path.relpath(self.config.path, root).replace(os.sep, "/")
        return Finding(rule_id, severity, message, Span(relative, line, col), locator=f"config:{key_name(path)}")


def settings(options: ScanOptions, metas: Sequence[RuleMeta]) -> Settings:
    """Merge the command line over the config: --select replaces the config's select and
    ignore (it says exactly what to run), --ignore adds to the config's ignore."""
    config = options.config
    known = {meta.id for meta in metas}
    unknown: list[tuple[Path, str]] = []
    if config is None:
        return Settings(
            None,
            list(options.select),
            list(options.ignore),
            {},
            _options(options, metas, None),
            options.baseline,
            [],
            None,
            [],
            _default_excludes(options, None),
            _development_paths(options, None),
            _stated_choices(options, None),
        )

    def selectors(key: str) -> list[str]:
        values = config.get(key) or []
        for index, selector in enumerate(values):
            if not any(matches(rule_id, selector) for rule_id in known):
                unknown.append(((key, index), selector))
        return [s for s in values if any(matches(rule_id, s) for rule_id in known)]

    config_select, config_ignore = selectors("select"), selectors("ignore")
    if options.select:
        select, ignore = list(options.select), list(options.ignore)
    else:
        select, ignore = config_select, [*config_ignore, *options.ignore]
    ignore += _outside_pss_profile(config, metas, select)
    severity = {}
    for rule_id, level in (config.get("severity") or {}).items():
        if rule_id in known:
            severity[rule_id] = Severity(level)
        else:
            unknown.append((("severity", rule_id), rule_id))
    for rule_id in config.get("rules") or {}:
        if rule_id not in known:
            unknown.append((("rules", rule_id), rule_id))
    path_ignores = _path_ignores(config, known, unknown)
    baseline = options.baseline
    if baseline is None and config.get("baseline"):
        baseline = config.resolve(config.get("baseline"))
    return Settings(
        config,
        select,
        ignore,
        severity,
        _options(options, metas, config),
        baseline,
        path_ignores,
        _exclude_spec(config),
        unknown,
        _default_excludes(options, config),
        _development_paths(options, config),
        _stated_choices(options, config),
    )


def _outside_pss_profile(config: Config, metas: Sequence[RuleMeta], select: Sequence[str]) -> list[str]:
    """`pss-profile: baseline`: the rules of Pod Security Standards controls that only the
    restricted profile has are off, unless selected by their exact id."""
    if config.get("pss-profile", "restricted") != "baseline":
        return []
    return [m.id for m in metas if m.pss is not None and m.pss.profile == "restricted" and m.id not in select]


def _default_excludes(options: ScanOptions, config: Config | None) -> bool:
    """`--no-default-excludes` (ScanOptions.default_excludes=False), else the config's key."""
    if options.default_excludes is not None:
        return options.default_excludes
    return bool(config.get("default-excludes", True)) if config is not None else True


def _stated_choices(options: ScanOptions, config: Config | None) -> bool:
    """`--show-stated-choices` (ScanOptions.stated_choices=False), else the config's key."""
    if options.stated_choices is not None:
        return options.stated_choices
    return bool(config.get("stated-choices", True)) if config is not None else True


def _development_paths(options: ScanOptions, config: Config | None) -> tuple[str, ...]:
    """`--no-development-paths` (ScanOptions.development_paths=False): none; else the config's
    list, which replaces the default (infralint.development.DEFAULT_DEVELOPMENT_PATHS)."""
    from infralint.development import DEFAULT_DEVELOPMENT_PATHS

    if options.development_paths is False:
        return ()
    if config is not None and config.get("development-paths") is not None:
        return tuple(config.get("development-paths"))
    return DEFAULT_DEVELOPMENT_PATHS


def _path_ignores(config: Config, known: set[str], unknown: list[tuple[Path, str]]) -> list[PathIgnore]:
    import pathspec

    entries = []
    for glob, selectors in (config.get("per-path-ignores") or {}).items():
        kept = []
        for index, selector in enumerate(selectors):
            if any(matches(rule_id, selector) for rule_id in known):
                kept.append(selector)
            else:
                unknown.append((("per-path-ignores", glob, index), selector))
        entries.append(PathIgnore(glob, kept, pathspec.GitIgnoreSpec.from_lines([glob])))
    return entries


def _exclude_spec(config: Config) -> Any:
    globs = config.get("exclude") or []
    if not globs:
        return None
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(globs)


def _options(options: ScanOptions, metas: Sequence[RuleMeta], config: Config | None) -> dict[str, dict[str, Any]]:
    """Rule options: target versions, then the config's `rules:`, then the API caller's."""
    merged: dict[str, dict[str, Any]] = {}
    versions = (config.get("target-versions") or {}) if config else {}
    for meta in metas:
        for product, version in versions.items():
            if f"{product}_version" in meta.options:
                merged.setdefault(meta.id, {})[f"{product}_version"] = str(version)
    for rule_id, values in ((config.get("rules") or {}) if config else {}).items():
        merged.setdefault(rule_id, {}).update(values)
    for rule_id, values in options.rule_options.items():
        merged.setdefault(rule_id, {}).update(values)
    return merged


# --- positions in pyproject.toml --------------------------------------------------------------


def _toml_positions(text: str) -> dict[Path, Pos]:
    """Line and column of each key, table and array item (tomllib keeps none)."""
    return _TomlScanner(text).scan()


_BARE_VALUE = re.compile(r"[^,\]}\n#]*")  # numbers, booleans, dates
_HEADER = re.compile(r"\[\[?([^\]\n]*)\]\]?")


class _TomlScanner:
    """Just enough TOML to know where things are: tables, dotted keys, arrays, inline tables.

    Runs only on text tomllib accepted, so it does not validate anything."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0
        self.positions: dict[Path, Pos] = {}

    def pos(self, offset: int) -> Pos:
        line_start = self.text.rfind("\n", 0, offset) + 1
        return self.text.count("\n", 0, offset) + 1, offset - line_start + 1

    def scan(self) -> dict[Path, Pos]:
        table: Path = ()
        while self.skip_blank():
            if self.text[self.at] == "[":
                match = _HEADER.match(self.text, self.at)
                if match is None:
                    return self.positions
                table = tuple(self.key_parts(match.group(1)))
                self.positions.setdefault(table, self.pos(self.at))
                self.at = match.end()
                continue
            self.key_value(table)
        return self.positions

    def skip_blank(self, newlines: bool = True) -> bool:
        """Skip spaces, comments (and newlines); False at the end of the text."""
        text = self.text
        while self.at < len(text):
            char = text[self.at]
            if char == "#":
                end = text.find("\n", self.at)
                self.at = len(text) if end == -1 else end
            elif char in " \t\r" or (newlines and char == "\n"):
                self.at += 1
            else:
                return True
        return False

    @staticmethod
    def key_parts(text: str) -> list[str]:
        return [part.strip().strip("\"'") for part in re.findall(r"\"[^\"]*\"|'[^']*'|[^.]+", text) if part.strip()]

    def key_value(self, table: Path) -> None:
        start = self.at
        equals = self.key_end()
        if equals is None:
            self.at = len(self.text)
            return
        path = (*table, *self.key_parts(self.text[start:equals]))
        self.positions.setdefault(path, self.pos(start))
        self.at = equals + 1
        self.skip_blank(newlines=False)
        self.value(path)

    def key_end(self) -> int | None:
        """Offset of the `=` after a (possibly quoted, dotted) key."""
        text, index = self.text, self.at
        while index < len(text):
            char = text[index]
            if char in "\"'":
                close = text.find(char, index + 1)
                index = len(text) if close == -1 else close + 1
                continue
            if char == "=":
                return index
            if char in "\n}":
                return None
            index += 1
        return None

    def value(self, path: Path) -> None:
        text = self.text
        if self.at >= len(text):
            return
        char = text[self.at]
        if char == "[":
            self.at += 1
            index = 0
            while self.skip_blank() and text[self.at] != "]":
                if text[self.at] == ",":
                    self.at += 1
                    continue
                self.positions.setdefault((*path, index), self.pos(self.at))
                self.value((*path, index))
                index += 1
            self.at += 1
        elif char == "{":
            self.at += 1
            while self.skip_blank() and text[self.at] != "}":
                if text[self.at] == ",":
                    self.at += 1
                    continue
                self.key_value(path)
            self.at += 1
        elif char in "\"'":
            self.string(char)
        else:
            match = _BARE_VALUE.match(text, self.at)
            self.at = max(match.end() if match else 0, self.at + 1)

    def string(self, quote: str) -> None:
        text = self.text
        triple = text.startswith(quote * 3, self.at)
        if triple:
            close = text.find(quote * 3, self.at + 3)
            self.at = len(text) if close == -1 else close + 3
            return
        index = self.at + 1
        while index < len(text) and text[index] != quote:
            index += 2 if quote == '"' and text[index] == "\\" else 1
        self.at = index + 1
