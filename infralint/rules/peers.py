"""The peer tools' check catalogs (rules/peers/*.yaml) and how infralint's rules map onto them.

A rule names the peer checks it corresponds to in its metadata (`peers: {kube-linter:
[run-as-non-root]}`); a catalog lists every check of one peer tool within infralint's formats,
so a team migrating from that tool can map its suppressions and see what has no counterpart.
Several catalog files may describe one tool (say, KICS's Kubernetes and Compose queries); they
are merged in file-name order.

Only `rules`, `explain` and the docs read the catalogs: a scan never imports this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import yaml

from infralint.rules.meta import RuleMeta

# Every tool a rule may name, in the order the docs and listings show them.
TOOLS = ("kube-linter", "polaris", "checkov", "kics", "gixy", "hapr", "dclint")

_TOP_KEYS = {"tool", "title", "source", "version", "url", "checks"}
_REQUIRED = ("tool", "title", "source", "version", "checks")
_CHECK_KEYS = {"id", "name"}
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PeerCatalogError(ValueError):
    """A catalog file that is not well-formed; the message lists every problem."""


@dataclass(frozen=True)
class PeerCheck:
    """One check of a peer tool, as its catalog lists it."""

    tool: str
    id: str
    name: str = ""
    url: str = ""  # the check's page, from the catalog's url pattern ("" when it has none)


@dataclass(frozen=True)
class PeerSource:
    """Where the ids of one catalog file were read, and from which release or commit."""

    source: str
    version: str
    file: str


@dataclass(frozen=True)
class PeerTool:
    """A peer tool's merged catalog: its checks in catalog order."""

    tool: str
    title: str
    sources: tuple[PeerSource, ...]
    checks: tuple[PeerCheck, ...]

    def check(self, check_id: str) -> PeerCheck | None:
        return self._by_id.get(check_id)

    @cached_property
    def _by_id(self) -> dict[str, PeerCheck]:
        return {check.id: check for check in self.checks}


def check_url(pattern: str, check_id: str) -> str:
    """The page of one check: the catalog's `url` with `{id}` filled in."""
    return pattern.replace("{id}", check_id) if pattern else ""


def validate_catalog(data: Any, name: str = "catalog") -> list[str]:
    """Every problem of one catalog file's content, each naming the file and the place."""
    if not isinstance(data, dict):
        return [f"{name}: a peer catalog must be a mapping"]
    problems = [f"{name}: unknown key {key!r}" for key in sorted(set(map(str, data)) - _TOP_KEYS)]
    problems += [f"{name}: missing {key!r}" for key in _REQUIRED if key not in data]
    if "tool" in data and data["tool"] not in TOOLS:
        problems.append(f"{name}: tool {data['tool']!r} is not one of {', '.join(TOOLS)}")
    for key in ("title", "source", "version"):
        if key in data and not (isinstance(data[key], str) and data[key].strip()):
            hint = " (quote it: YAML reads 1.10 as a number)" if key == "version" and data[key] is not None else ""
            problems.append(f"{name}: {key!r} must be a non-empty string{hint}")
    if isinstance(data.get("source"), str) and not data["source"].startswith(("https://", "http://")):
        problems.append(f"{name}: 'source' must be a URL")
    url = data.get("url")
    if url is not None and not (isinstance(url, str) and url.startswith(("https://", "http://")) and "{id}" in url):
        problems.append(f"{name}: 'url' must be a URL pattern holding {{id}}")
    if "checks" in data:
        problems += _check_problems(data["checks"], name)
    return problems


def _check_problems(checks: Any, name: str) -> list[str]:
    if not isinstance(checks, list) or not checks:
        return [f"{name}: 'checks' must be a non-empty list"]
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(checks):
        where = f"{name}: checks[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a mapping with an id")
            continue
        problems += [f"{where}: unknown key {key!r}" for key in sorted(set(map(str, entry)) - _CHECK_KEYS)]
        check_id = entry.get("id")
        if not (isinstance(check_id, str) and check_id.strip() and check_id == check_id.strip()):
            problems.append(f"{where}: 'id' must be a non-empty string without surrounding spaces")
            continue
        if "name" in entry and not isinstance(entry["name"], str):
            problems.append(f"{where}: 'name' must be a string")
        if check_id in seen:
            problems.append(f"{where}: id {check_id!r} already listed at checks[{seen[check_id]}]")
        seen.setdefault(check_id, index)
    return problems


def load_catalogs(folder: Path) -> dict[str, PeerTool]:
    """Read and merge every catalog of `folder` (tool -> PeerTool, in TOOLS order).

    Raises PeerCatalogError listing every problem: a malformed file, or one id that two files
    of a tool name differently.
    """
    parts: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    problems: list[str] = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else ():
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        except yaml.YAMLError as error:
            problems.append(f"{path.name}: not valid YAML ({error})")
            continue
        found = validate_catalog(data, path.name)
        if found:
            problems += found
            continue
        parts.setdefault(data["tool"], []).append((path.name, data))
    tools = {}
    for tool in TOOLS:
        if tool in parts:
            merged, found = _merge(tool, parts[tool])
            problems += found
            tools[tool] = merged
    if problems:
        raise PeerCatalogError("peer catalogs in " + str(folder) + ":\n  " + "\n  ".join(problems))
    return tools


def _merge(tool: str, files: list[tuple[str, dict[str, Any]]]) -> tuple[PeerTool, list[str]]:
    problems = []
    # Files may qualify their part ("KICS (Kubernetes)"); the tool goes by the shortest title.
    title = min((data["title"].strip() for _, data in files), key=lambda t: (len(t), t))
    checks: dict[str, PeerCheck] = {}
    origin: dict[str, str] = {}
    for file_name, data in files:
        for entry in data["checks"]:
            check = PeerCheck(
                tool, entry["id"], (entry.get("name") or "").strip(), check_url(data.get("url") or "", entry["id"])
            )
            known = checks.get(check.id)
            if known is None:
                checks[check.id], origin[check.id] = check, file_name
            elif known.name and check.name and known.name != check.name:
                problems.append(f"{file_name}: {tool} check {check.id!r} named differently in {origin[check.id]}")
    sources = tuple(PeerSource(data["source"].strip(), data["version"].strip(), name) for name, data in files)
    return PeerTool(tool, title, sources, tuple(checks.values())), problems


@cache
def peer_tools() -> dict[str, PeerTool]:
    """The packaged catalogs (rules/peers/), read once."""
    from infralint.resources import data_dir
    from infralint.rules.loader import PEERS_FOLDER

    return load_catalogs(data_dir("rules") / PEERS_FOLDER)


def tool_title(tool: str, tools: Mapping[str, PeerTool]) -> str:
    return tools[tool].title if tool in tools else tool


def _tool_order(tool: str) -> tuple[int, str]:
    return (TOOLS.index(tool), tool) if tool in TOOLS else (len(TOOLS), tool)


def rule_peers(meta: RuleMeta, tools: Mapping[str, PeerTool]) -> list[tuple[str, list[PeerCheck]]]:
    """The peer checks a rule names, per tool in TOOLS order, with the names and links the
    catalogs give (an id no catalog knows keeps only its id; the tests keep that from shipping)."""
    out = []
    for tool in sorted(meta.peers, key=_tool_order):
        catalog = tools.get(tool)
        checks = []
        for check_id in meta.peers[tool]:
            known = catalog.check(check_id) if catalog else None
            checks.append(known or PeerCheck(tool, check_id))
        if checks:
            out.append((tool, checks))
    return out


@dataclass(frozen=True)
class PeerRow:
    """One check of a peer tool and the infralint rules that correspond to it."""

    check: PeerCheck
    rules: tuple[RuleMeta, ...]


@dataclass(frozen=True)
class PeerCoverage:
    """A peer tool's checks in catalog order, each with its infralint rules (none: no counterpart)."""

    tool: PeerTool
    rows: tuple[PeerRow, ...]
    # Ids that rules name but the catalog lacks (an error the tests catch), with those rules.
    unknown: tuple[PeerRow, ...]

    @property
    def covered(self) -> int:
        return sum(1 for row in self.rows if row.rules)

    @property
    def total(self) -> int:
        return len(self.rows)

    def summary(self) -> str:
        return f"{self.tool.title}: {self.covered} of {self.total} checks have a counterpart"


def coverage(tool: PeerTool, metas: Iterable[RuleMeta]) -> PeerCoverage:
    by_check: dict[str, list[RuleMeta]] = {}
    for meta in metas:
        for check_id in dict.fromkeys(meta.peers.get(tool.tool, ())):
            by_check.setdefault(check_id, []).append(meta)
    rows = tuple(PeerRow(check, tuple(by_check.pop(check.id, ()))) for check in tool.checks)
    unknown = tuple(PeerRow(PeerCheck(tool.tool, check_id), tuple(rules)) for check_id, rules in by_check.items())
    return PeerCoverage(tool, rows, unknown)


def mapping_problems(metas: Iterable[RuleMeta], tools: Mapping[str, PeerTool]) -> list[str]:
    """What is wrong with the rules' `peers`: a tool without a catalog, an id its tool's
    catalog does not list, an id a rule names twice. Several rules may share one peer id."""
    problems = []
    for meta in metas:
        for tool, ids in meta.peers.items():
            if tool not in tools:
                known = ", ".join(tools) or "none"
                problems.append(
                    f"{meta.id}: peers names {tool!r}, which has no catalog in rules/peers/ (catalogs: {known})"
                )
                continue
            if not ids:
                problems.append(f"{meta.id}: peers.{tool} lists no check")
            for check_id in sorted({i for i in ids if ids.count(i) > 1}):
                problems.append(f"{meta.id}: peers.{tool} names {check_id!r} twice")
            for check_id in ids:
                if tools[tool].check(check_id) is None:
                    problems.append(
                        f"{meta.id}: {tool} has no check {check_id!r} in its catalog ({_sources(tools[tool])})"
                    )
    return problems


def _sources(tool: PeerTool) -> str:
    return ", ".join(f"{source.file} at {source.version}" for source in tool.sources)
