"""How a repository runs `docker compose` with several files, read from its CI and scripts.

A file meant only to be merged onto a base (`ci/certbot/compose.yaml`, used with
`COMPOSE_FILE=compose.yaml:ci/base.yaml:ci/certbot/compose.yaml`) has its relative paths
resolved from the folder of the first file of the list, not from its own. Besides the `.env`
of a folder (compose_files.py), the lists are read, as text and never run, from:

- GitHub Actions workflows (`.github/workflows/*.yml`): `COMPOSE_FILE` in the `env:` maps of the
  workflow, of a job and of a step, and in `run:` scripts;
- the `Makefile` at the repository root (the nearest folder above the compose file with a
  `.github` or `.git` folder, else the scan root) and the `*.sh` scripts anywhere in it (a
  bounded number, hidden and vendored folders left out);

and in scripts both `COMPOSE_FILE=a:b` and `docker compose -f a -f b` (`docker-compose`,
`--file`, `--file=`). A script's `cd <folder>` moves the folder the paths start from; a run step's
`working-directory` (or the job's or the workflow's `defaults.run.working-directory`) too.
A script's own folder (`cd "$(dirname "$0")/.."`, `${BASH_SOURCE[0]}`) is known. A script below
the root may be run from its own folder or from the root (`dev/run.sh` listing
`deploy/compose.yaml`): each list is read from both, and the folder where every file it names
exists is taken.

An element written with an expression or a variable (`${{ matrix.dir }}compose.yaml`,
`$DIR/compose.yaml`) is a pattern: the unknown part matches any text inside one path segment,
and, when it starts a segment, any folders too (`${{ matrix.dir }}compose.yaml` matches
`ci/certbot/compose.yaml`, since a matrix folder is often written with its slash, but
`compose.${{ matrix.env }}.yaml` does not match `x/compose.y.yaml`). An element that is all
unknown matches nothing, and the first element (the base) must be known and exist. A list with
`--project-directory`, or after a `cd` to an unknown folder, is left out.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from infralint.resources import load_yaml

Reader = Callable[[str], str | None]

UNKNOWN = "\0"  # stands for the text of an expression or a variable in a path
_EXPRESSION = re.compile(r"\$\{\{.*?\}\}|\$\([^)]*\)|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\$\d")
_COMPOSE_FILE_ASSIGNMENT = re.compile(r"\bCOMPOSE_FILE\s*[:?+]?=\s*(\S+)")
_COMPOSE_COMMAND = re.compile(r"\bdocker(?:\s+|-)compose\b")
_CD = re.compile(r"""^\s*(?:cd|pushd)\s+("[^"]*"|'[^']*'|\S+)\s*$""")
# `DIR=...` in a script: a folder named after the script's own is known from then on.
_ASSIGNMENT = re.compile(r"""^\s*(?:export\s+|local\s+|readonly\s+)?([A-Za-z_]\w*)=("[^"]*"|'[^']*'|\S*)\s*$""")
_COMMAND_SEPARATOR = re.compile(r"&&|\|\||;")
# Global options of `docker compose` that take a value (the subcommand comes after them).
_VALUED_OPTIONS = frozenset(
    {"-p", "--project-name", "--env-file", "--profile", "--ansi", "--progress", "--parallel", "-c", "--context"}
)
_SCRIPT_SUFFIXES = (".sh", ".bash")
_MAKEFILES = ("Makefile", "makefile", "GNUmakefile")
MAX_SCRIPTS = 40  # workflows, and files at the repository root
MAX_NESTED_SCRIPTS = 200  # scripts in the folders below it
MAX_FOLDERS = 5000  # folders walked to find them
_SKIPPED_FOLDERS = frozenset({"node_modules", "vendor", "third_party", "bower_components", "site-packages"})
# `$(dirname "$0")`, `$(dirname "${BASH_SOURCE[0]}")`, `${0%/*}`, with backquotes or a `cd ... && pwd`.
_SCRIPT_FOLDER = re.compile(
    r"""\$\(\s*cd\s+"?\$\(\s*dirname\s+"?\$(?:0|\{0\}|\{BASH_SOURCE(?:\[0\])?\})"?\s*\)"?\s*(?:&&|;)\s*pwd(?:\s+-P)?\s*\)"""
    r"""|\$\(\s*dirname\s+"?\$(?:0|\{0\}|\{BASH_SOURCE(?:\[0\])?\})"?\s*\)"""
    r"""|`\s*dirname\s+"?\$(?:0|\{0\}|\{BASH_SOURCE(?:\[0\])?\})"?\s*`"""
    r"""|\$\{0%/\*\}|\$\{BASH_SOURCE(?:\[0\])?%/\*\}"""
)


@dataclass(frozen=True)
class FileList:
    """A list of compose files, as written, and the folder its paths start from."""

    folder: str
    entries: tuple[str, ...]
    origin: str


def _unknown_parts(text: str) -> str:
    return _EXPRESSION.sub(UNKNOWN, text)


def _split_list(value: str) -> list[str]:
    separator = ";" if ";" in value and ":" not in value else ":"
    return [part.strip() for part in value.split(separator) if part.strip()]


def _unquote(token: str) -> str:
    return token.strip().strip("'\"")


# Scripts


def _logical_lines(script: str) -> Iterator[str]:
    """Lines with their `\\` continuations joined; comments dropped."""
    pending = ""
    for line in script.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        joined = pending + line
        pending = ""
        if not joined.lstrip().startswith("#"):
            yield joined
    if pending:
        yield pending


def _command_files(rest: str) -> tuple[list[str], bool]:
    """The `-f` files of a compose command line (after `docker compose`), and whether it sets
    a project directory of its own. Options after the subcommand are not global ones
    (`logs -f` follows the log)."""
    tokens = [_unquote(token) for token in rest.split()]
    files: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token in ("-f", "--file") and index + 1 < len(tokens):
            files.append(tokens[index + 1])
            index += 2
        elif token.startswith("--file="):
            files.append(token[len("--file=") :])
            index += 1
        elif token.startswith("--project-directory"):
            return files, True
        elif token in _VALUED_OPTIONS:
            index += 2
        elif token.startswith("-"):
            index += 1
        else:
            break  # the subcommand, or the end of this command
    return files, False


def script_lists(
    script: str, folder: str, origin: str, cd_persists: bool = True, script_folder: str | None = None
) -> Iterator[FileList]:
    """The file lists a shell script (or a Makefile recipe, or a `run:` step) gives compose. A
    Makefile runs each recipe line in a shell of its own: a `cd` lasts for that line only. In a
    script file (SCRIPT_FOLDER is its folder), `$(dirname "$0")` and its kin name that folder."""
    current: str | None = folder
    folders: dict[str, str] = {}  # variables holding a known folder
    for line in _logical_lines(script):
        if not cd_persists:
            current = folder
        if script_folder is not None:
            line = _SCRIPT_FOLDER.sub(lambda _: script_folder, line)
        for command in _COMMAND_SEPARATOR.split(line):
            if script_folder is not None:
                command = _with_known_folders(command, folders)
                if _remember_folder(command, folders):
                    continue
            moved = _CD.match(command)
            if moved is not None:
                target = _unknown_parts(_unquote(moved.group(1)))
                inside = current is not None and UNKNOWN not in target
                current = os.path.normpath(os.path.join(current, target)) if inside and current else None
            elif current is not None:
                yield from _command_lists(command, current, origin)


def _with_known_folders(command: str, folders: dict[str, str]) -> str:
    for name, value in folders.items():
        command = re.sub(rf"\$\{{{name}\}}|\${name}\b", value.replace("\\", "\\\\"), command)
    return command


def _remember_folder(command: str, folders: dict[str, str]) -> bool:
    """Whether COMMAND is an assignment; the variable is known when its value is a folder path
    (built from the script's own folder) with nothing left unknown."""
    assigned = _ASSIGNMENT.match(command)
    if assigned is None:
        return False
    name, value = assigned.group(1), _unquote(assigned.group(2))
    if os.path.isabs(value) and "$" not in value and "`" not in value:
        folders[name] = os.path.normpath(value)
    else:
        folders.pop(name, None)
    return "COMPOSE_FILE" not in name


def _relative_entry(entry: str, folder: str) -> str:
    """An element as a path from FOLDER (one built from the script's folder is absolute)."""
    return os.path.relpath(entry, folder) if os.path.isabs(entry) else entry


def _command_lists(command: str, folder: str, origin: str) -> Iterator[FileList]:
    for assignment in _COMPOSE_FILE_ASSIGNMENT.finditer(command):
        entries = _split_list(_unquote(assignment.group(1)))
        if len(entries) > 1:
            yield FileList(folder, tuple(_unknown_parts(_relative_entry(e, folder)) for e in entries), origin)
    for invocation in _COMPOSE_COMMAND.finditer(command):
        files, own_directory = _command_files(command[invocation.end() :])
        if len(files) > 1 and not own_directory:
            yield FileList(folder, tuple(_unknown_parts(_relative_entry(f, folder)) for f in files), origin)


# GitHub Actions workflows


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _working_directory(mapping: dict[str, Any], folder: str | None) -> str | None:
    """The folder a workflow's, job's `defaults.run` or a step's `working-directory` names."""
    written = mapping.get("working-directory")
    if written is None:
        written = _dict(_dict(mapping.get("defaults")).get("run")).get("working-directory")
    if written is None or folder is None:
        return folder
    target = _unknown_parts(str(written))
    return None if UNKNOWN in target else os.path.normpath(os.path.join(folder, target))


def _env_list(mapping: dict[str, Any], folder: str | None, origin: str) -> Iterator[FileList]:
    value = _dict(mapping.get("env")).get("COMPOSE_FILE")
    if folder is not None and isinstance(value, str):
        entries = _split_list(value)
        if len(entries) > 1:
            yield FileList(folder, tuple(_unknown_parts(e) for e in entries), origin)


def workflow_lists(text: str, root: str, origin: str) -> Iterator[FileList]:
    try:
        workflow = load_yaml(text)
    except yaml.YAMLError:
        return
    workflow = _dict(workflow)
    top = _working_directory(workflow, root)
    yield from _env_list(workflow, root, origin)
    for job in _dict(workflow.get("jobs")).values():
        job = _dict(job)
        job_folder = _working_directory(job, top)
        yield from _env_list(job, job_folder, origin)
        steps = job.get("steps")
        for step in steps if isinstance(steps, list) else ():
            step = _dict(step)
            step_folder = _working_directory(step, job_folder)
            yield from _env_list(step, step_folder, origin)
            run = step.get("run")
            if isinstance(run, str) and step_folder is not None:
                yield from script_lists(run, step_folder, origin)


# Where to read them


def repository_root(folder: str, scan_root: str) -> str:
    """The nearest folder at or above FOLDER, inside the scan root, with `.github` or `.git`."""
    current = folder
    while current == scan_root or current.startswith(scan_root.rstrip(os.sep) + os.sep):
        if os.path.isdir(os.path.join(current, ".github")) or os.path.exists(os.path.join(current, ".git")):
            return current
        if current == scan_root:
            break
        current = os.path.dirname(current)
    return scan_root


def _sources(repository: str) -> list[tuple[str, str]]:
    """(path, kind) of the files read for lists: workflows, the Makefile, root scripts, then the
    scripts of the folders below."""
    found: list[tuple[str, str]] = []
    workflows = os.path.join(repository, ".github", "workflows")
    for folder, kind, accept in (
        (workflows, "workflow", lambda n: n.endswith((".yml", ".yaml"))),
        (repository, "script", lambda n: n in _MAKEFILES or n.endswith(_SCRIPT_SUFFIXES)),
    ):
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        found += [(os.path.join(folder, n), kind) for n in names if accept(n)][:MAX_SCRIPTS]
    return found + [(path, "script") for path in _nested_scripts(repository)]


_NESTED: dict[tuple[str, int], tuple[str, ...]] = {}


def _nested_scripts(repository: str) -> tuple[str, ...]:
    """The `*.sh` scripts in the folders below the repository root (sorted, bounded), walked
    once per repository while its root folder is unchanged: every compose file of a scan asks."""
    try:
        key = (repository, os.stat(repository).st_mtime_ns)
    except OSError:
        return ()
    if key not in _NESTED:
        if len(_NESTED) >= MAX_CACHED:
            _NESTED.clear()
        _NESTED[key] = tuple(_walk_scripts(repository))
    return _NESTED[key]


def _walk_scripts(repository: str) -> Iterator[str]:
    found = folders = 0
    for folder, subfolders, names in os.walk(repository):
        subfolders[:] = sorted(n for n in subfolders if not n.startswith(".") and n not in _SKIPPED_FOLDERS)
        folders += 1
        if folders > MAX_FOLDERS:
            return
        if folder == repository:
            continue  # read with the root's files
        for name in sorted(names):
            if name.endswith(_SCRIPT_SUFFIXES):
                yield os.path.join(folder, name)
                found += 1
                if found >= MAX_NESTED_SCRIPTS:
                    return


def _signature(repository: str) -> tuple[tuple[str, int, int], ...]:
    signature = []
    for path, _ in _sources(repository):
        try:
            info = os.stat(path)
        except OSError:
            continue
        signature.append((path, info.st_mtime_ns, info.st_size))
    return tuple(signature)


MAX_CACHED = 64
_CACHE: dict[tuple[str, str, tuple[tuple[str, int, int], ...]], tuple[FileList, ...]] = {}


def file_lists(folder: str, scan_root: str, read: Reader) -> tuple[FileList, ...]:
    """The lists of several compose files the repository around FOLDER runs (read once per
    repository and scan root while its files are unchanged)."""
    repository = repository_root(folder, scan_root)
    key = (repository, scan_root, _signature(repository))
    if key not in _CACHE:
        if len(_CACHE) >= MAX_CACHED:
            _CACHE.clear()
        _CACHE[key] = tuple(_read_lists(repository, read))
    return _CACHE[key]


def _read_lists(repository: str, read: Reader) -> Iterator[FileList]:
    for path, kind in _sources(repository):
        text = read(path)
        if text is None or ("COMPOSE_FILE" not in text and "compose" not in text):
            continue
        origin = os.path.relpath(path, repository).replace(os.sep, "/")
        if kind == "workflow":
            yield from workflow_lists(text, repository, origin)
        elif not path.endswith(_SCRIPT_SUFFIXES):
            yield from script_lists(text, repository, origin, cd_persists=False)  # a Makefile
        else:
            yield from _script_file_lists(text, path, repository, origin)


def _script_file_lists(text: str, path: str, repository: str, origin: str) -> Iterator[FileList]:
    """The lists of a script file. One below the root may be run from its own folder or from the
    root: each list is read from both, and the first where every file it names exists is kept
    (else the one from the script's folder)."""
    folder = os.path.dirname(path)
    starts = [folder] if folder == repository else [folder, repository]
    readings = [list(script_lists(text, start, origin, script_folder=folder)) for start in starts]
    if len({len(reading) for reading in readings}) != 1:
        yield from readings[0]  # not expected: a start folder never decides whether a line lists files
        return
    for variants in zip(*readings, strict=True):
        yield next((listing for listing in variants if _all_exist(listing)), variants[0])


def _all_exist(listing: FileList) -> bool:
    known = [entry for entry in listing.entries if UNKNOWN not in entry]
    return bool(known) and all(os.path.isfile(os.path.join(listing.folder, entry)) for entry in known)


# Matching


def _pattern(entry: str) -> re.Pattern[str]:
    """An element with unknown parts as a regular expression over a relative path."""
    parts = entry.replace(os.sep, "/").split(UNKNOWN)
    regex = re.escape(parts[0])
    for before, part in itertools.pairwise(parts):
        starts_segment = before == "" or before.endswith("/")
        regex += ("(?:[^/]+/)*[^/]*" if starts_segment else "[^/]*") + re.escape(part)
    return re.compile(regex)


def _matches(entry: str, relative: str) -> bool:
    if UNKNOWN not in entry:
        return os.path.normpath(entry).replace(os.sep, "/") == relative
    if not entry.replace(UNKNOWN, "").strip("/."):
        return False  # all unknown: it could be any file
    return _pattern(os.path.normpath(entry)).fullmatch(relative) is not None


def listed_before(path: str, scan_root: str, read: Reader) -> tuple[list[str], str] | None:
    """For a file some list names after its first file: the existing known files listed before
    it (the base first), and where the list is written. None when no list names it so."""
    for listing in file_lists(os.path.dirname(path), scan_root, read):
        relative = os.path.relpath(path, listing.folder).replace(os.sep, "/")
        if relative.startswith("../") or UNKNOWN in listing.entries[0]:
            continue
        base = os.path.normpath(os.path.join(listing.folder, listing.entries[0]))
        if base == path or not os.path.isfile(base):
            continue
        for index, entry in enumerate(listing.entries[1:], start=1):
            if _matches(entry, relative):
                before = [os.path.normpath(os.path.join(listing.folder, e)) for e in listing.entries[:index]]
                known = [p for p in before if UNKNOWN not in p and p != path and os.path.isfile(p)]
                return known, listing.origin
    return None
