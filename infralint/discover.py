"""Find the files to scan (sorted, .gitignore honoured) and classify each by name, then content."""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from infralint import sniff
from infralint.source import SourceFile

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_EXCLUDES = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".terraform",
    }
)
# Skipped by default (`default-excludes: false` or `--no-default-excludes` scans them): folders
# of other people's code, vendored by a package manager, and folders of test data. Neither is
# deployed as it stands, so findings there are noise to the project that scans them. Folder
# names only: a file name (`fake-api.yaml`) says too little about what a file is for.
VENDORED_FOLDERS = frozenset(
    {
        "vendor",  # Go modules (`go mod vendor`), PHP Composer, Ruby Bundler (vendor/bundle)
        "third_party",  # the Bazel and Chromium convention for imported sources
        "third-party",
        "bower_components",  # Bower
        ".bundle",  # Bundler's local settings and installed gems
        "site-packages",  # Python packages installed into the tree
    }
)
TEST_FOLDERS = frozenset(
    {
        "test",
        "tests",
        "testdata",  # Go: the go tool ignores it; it holds inputs of tests
        "__tests__",  # Jest
        "e2e",
        "_integration-test",
        "integration-test",
        "integration-tests",
        "fixtures",
    }
)
DEFAULT_EXCLUDED_FOLDERS = VENDORED_FOLDERS | TEST_FOLDERS
YAML_SUFFIXES = (".yaml", ".yml")
CONF_SUFFIXES = (".conf", ".cfg")
COMPOSE_NAME = re.compile(r"^(docker-)?compose(\.[\w-]+)*\.ya?ml$")

_K8S_API = re.compile(r"^apiVersion\s*:", re.MULTILINE)
_K8S_KIND = re.compile(r"^kind\s*:", re.MULTILINE)
_COMPOSE_SERVICES = re.compile(r"^services\s*:", re.MULTILINE)


@dataclass
class InputProblem:
    """A candidate file that could not be read or holds nothing; becomes an input finding."""

    path: str
    rule_id: str
    message: str
    line: int | None = None
    col: int | None = None


def classify_name(name: str) -> str | None:
    lower = name.lower()
    if COMPOSE_NAME.match(lower):
        return "compose"
    if lower.endswith(YAML_SUFFIXES):
        return "yaml"
    by_name = sniff.kind_by_name(lower)
    if by_name is not None:
        return by_name
    if lower.endswith(CONF_SUFFIXES) or sniff.is_candidate_name(lower):
        return "conf"
    return None


def classify_content(by_name: str, text: str, relative_path: str = "") -> str | None:
    """Settle a kind the name left open (generic YAML, .conf/.cfg)."""
    if by_name == "yaml" and os.path.basename(relative_path).lower() in ("kustomization.yaml", "kustomization.yml"):
        return "k8s"
    if by_name == "yaml":
        if _K8S_KIND.search(text) and _K8S_API.search(text):
            return "k8s"
        if _COMPOSE_SERVICES.search(text):
            return "compose"
        return None
    if by_name == "conf":
        return sniff.kind_by_content(relative_path, text)
    return by_name


UTF8_BOM = b"\xef\xbb\xbf"


def decode(data: bytes, kind: str | None = None) -> tuple[str | None, InputProblem | None, int, int]:
    """Text of a file, or why it is not text (with the line and column of the first bad byte).
    Line breaks are made one as the file's KIND counts them (see line_breaks)."""
    nul = data.find(b"\x00")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return line_breaks(data.decode("utf-16"), kind), None, 0, 0
        except UnicodeDecodeError:
            pass
    if nul != -1:
        line, col = _line_col(data, nul)
        return None, InputProblem("", "infralint-parse-error", "binary content (NUL byte): not a text file"), line, col
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line, col = _line_col(data, error.start)
        reason = f"not UTF-8 text (byte 0x{data[error.start]:02x})"
        return None, InputProblem("", "infralint-parse-error", reason), line, col
    return line_breaks(text, kind), None, 0, 0


YAML_KINDS = frozenset({"k8s", "compose"})
# Every line break YAML knows (CR LF, a lone CR, NEL, LS, PS) becomes LF in YAML files, so that
# a line number means the same to libyaml and to our line counting.
_YAML_LINE_BREAKS = re.compile("\r\n?|[\x85\u2028\u2029]")


def line_breaks(text: str, kind: str | None) -> str:
    """CR LF becomes LF in every file. nginx, HAProxy and Redis end lines at LF only, so there
    a lone CR stays what it is to them (a blank to nginx and Redis, the end of a line's words to
    HAProxy); in YAML (KIND in YAML_KINDS) a lone CR, NEL, LS and PS are line breaks too."""
    if kind in YAML_KINDS:
        if "\r" in text or "\x85" in text or "\u2028" in text or "\u2029" in text:
            return _YAML_LINE_BREAKS.sub("\n", text)
        return text
    return text.replace("\r\n", "\n") if "\r" in text else text


def _line_col(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


class _Ignores:
    """The .gitignore files met on the way down, each matching paths relative to its folder."""

    def __init__(self) -> None:
        self.specs: list[tuple[str, object]] = []

    def load(self, folder: str) -> None:
        path = os.path.join(folder, ".gitignore")
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                lines = handle.read().splitlines()
        except OSError:
            return
        import pathspec

        self.specs.append((folder, pathspec.GitIgnoreSpec.from_lines(lines)))

    def ignored(self, path: str, is_dir: bool) -> bool:
        """As git decides: the deepest .gitignore with a matching pattern wins (so `!x` can re-include)."""
        for folder, spec in reversed(self.specs):
            if not (path == folder or path.startswith(folder + os.sep)):
                continue
            relative = os.path.relpath(path, folder).replace(os.sep, "/")
            if is_dir:
                relative += "/"
            decision = spec.check_file(relative).include  # type: ignore[attr-defined]
            if decision is not None:
                return bool(decision)
        return False


def gitignored(root: str, relative: str) -> bool:
    """Whether the .gitignore files from ROOT down ignore RELATIVE (a posix path inside ROOT,
    which need not exist), or a folder on the way to it: as `walk` would decide."""
    ignores = _Ignores()
    folder = os.path.abspath(root)
    parts = [part for part in relative.split("/") if part not in ("", ".")]
    for index, part in enumerate(parts):
        ignores.load(folder)
        path = os.path.join(folder, part)
        last = index == len(parts) - 1
        # A missing source may be meant as a file or a folder: either pattern counts.
        if ignores.ignored(path, True) or (last and ignores.ignored(path, False)):
            return True
        folder = path
    return False


def _is_virtualenv(folder: str) -> bool:
    return os.path.exists(os.path.join(folder, "pyvenv.cfg"))


def is_default_excluded_folder(folder: str) -> bool:
    """Whether FOLDER (a path) is a vendored or test folder that scans skip by default. A Helm
    chart's `templates/tests/` is not: it is part of the chart (its `helm test` pods)."""
    if os.path.basename(folder) not in DEFAULT_EXCLUDED_FOLDERS:
        return False
    parent = os.path.dirname(folder)
    if os.path.basename(parent) == "templates":
        chart = os.path.dirname(parent)
        return not any(os.path.isfile(os.path.join(chart, name)) for name in ("Chart.yaml", "Chart.yml"))
    return True


@dataclass
class Excludes:
    """What a scan leaves out beyond the folders it never walks into: the config's `exclude`
    (``config(absolute path, is_dir)``) and, when ``default_folders``, vendored and test folders.

    A folder met while walking is judged by its name; a path named on its own (a file pre-commit
    passes) by the folders between ROOT and it as well, as walking down to it would have."""

    root: str
    default_folders: bool = True
    config: Callable[[str, bool], bool] | None = None
    reincluded: Callable[[str], bool] | None = None  # a `!folder/` of the config's `exclude`

    def walking(self, absolute: str, is_dir: bool) -> bool:
        if is_dir and self._default_excluded(absolute):
            return True
        return bool(self.config and self.config(absolute, is_dir))

    def __call__(self, absolute: str, is_dir: bool) -> bool:
        if self.walking(absolute, is_dir):
            return True
        return any(self._default_excluded(folder) for folder in self._folders_above(absolute))

    def _default_excluded(self, folder: str) -> bool:
        return (
            self.default_folders
            and is_default_excluded_folder(folder)
            and not (self.reincluded is not None and self.reincluded(folder))
        )

    def _folders_above(self, absolute: str) -> Iterator[str]:
        root = os.path.abspath(self.root)
        folder = os.path.dirname(absolute)
        while folder != root and folder.startswith(root.rstrip(os.sep) + os.sep):
            yield folder
            folder = os.path.dirname(folder)


def walk(paths: list[str], root: str, exclude: Excludes | Callable[[str, bool], bool] | None = None) -> Iterator[str]:
    """Absolute paths of candidate files, in sorted order; given files are always candidates,
    and given folders are walked whatever their name.

    ``exclude(absolute path, is_dir)`` prunes more of the folders walked (the config's `exclude`,
    vendored and test folders: see Excludes).
    """
    if isinstance(exclude, Excludes):
        exclude = exclude.walking
    ignores = _Ignores()
    for given in sorted(set(paths)):
        absolute = os.path.abspath(given)
        if not os.path.isdir(absolute):
            yield absolute
            continue
        for folder, dirs, files in os.walk(absolute):
            ignores.load(folder)
            dirs[:] = sorted(
                d
                for d in dirs
                if d not in DEFAULT_EXCLUDES
                and not _is_virtualenv(os.path.join(folder, d))
                and not ignores.ignored(os.path.join(folder, d), True)
                and not (exclude and exclude(os.path.join(folder, d), True))
            )
            for name in sorted(files):
                full = os.path.join(folder, name)
                if classify_name(name) is None or ignores.ignored(full, False) or (exclude and exclude(full, False)):
                    continue
                yield full


class RealPaths:
    """Where the files of one scan really are, with the root and each folder resolved once.

    Every file is resolved (so a symlink cannot lead out of the scan root); resolving its
    folder once for all its files leaves one lstat per file instead of one per path part.
    """

    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)
        self._folders: dict[str, str] = {}

    def resolve(self, absolute: str) -> str:
        """``os.path.realpath(absolute, strict=True)``, raising OSError as it does."""
        folder, name = os.path.split(absolute)
        if os.name != "posix" or name in ("", os.curdir, os.pardir):
            return os.path.realpath(absolute, strict=True)
        real_folder = self._folders.get(folder)
        if real_folder is None:
            real_folder = self._folders[folder] = os.path.realpath(folder, strict=True)
        if stat.S_ISLNK(os.lstat(absolute).st_mode):
            return os.path.realpath(absolute, strict=True)
        return os.path.join(real_folder, name)


def read(
    absolute: str, root: str, max_bytes: int, real_paths: RealPaths | None = None
) -> SourceFile | InputProblem | None:
    """Read and classify one file; None when it is not a kind infralint knows.

    A scan passes one ``RealPaths`` of its root for all its files.
    """
    relative = os.path.relpath(absolute, root).replace(os.sep, "/")
    by_name = classify_name(os.path.basename(absolute)) or "conf"
    real_paths = real_paths or RealPaths(root)
    try:
        real = real_paths.resolve(absolute)
    except OSError as error:
        reason = "symlink loop" if error.errno == errno.ELOOP else (error.strerror or str(error))
        return InputProblem(relative, "infralint-unreadable-file", f"cannot read: {reason}")
    real_root = real_paths.root
    if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
        return InputProblem(relative, "infralint-unreadable-file", "symlink to a file outside the scan root: not read")
    try:
        info = os.stat(real)
        if not stat.S_ISREG(info.st_mode):
            return InputProblem(relative, "infralint-unreadable-file", "not a regular file: not read")
        if info.st_size > max_bytes:
            size = f"{info.st_size / (1024 * 1024):.1f} MiB"
            limit = f"{max_bytes / (1024 * 1024):.1f} MiB"
            return InputProblem(relative, "infralint-file-too-large", f"{size} is over the {limit} limit: skipped")
        data = Path(real).read_bytes()
    except OSError as error:
        return InputProblem(relative, "infralint-unreadable-file", f"cannot read: {error.strerror or error}")
    # A .yaml name means YAML whatever it turns out to hold; a .conf is classified first.
    text, problem, line, col = decode(data, "k8s" if by_name in ("yaml", "compose") else None)
    if problem is not None:
        if by_name == "conf":  # an unknown .conf/.cfg that is not text is not ours to judge
            return None
        problem.path, problem.line, problem.col = relative, line, col
        return problem
    assert text is not None
    if not text.strip():
        if by_name == "conf":
            return None
        return InputProblem(relative, "infralint-empty-file", "empty file: nothing to check")
    kind = classify_content(by_name, text, relative)
    if kind is None:
        return None
    text = line_breaks(text, kind)  # a .conf holding YAML
    return SourceFile(relative, absolute, text, kind, root=os.path.abspath(root), bom=data.startswith(UTF8_BOM))


def scan_root(paths: list[str]) -> str:
    """The folder findings are relative to: the working directory when it holds every path."""
    cwd = os.getcwd()
    absolute = [os.path.abspath(p) for p in paths]
    if all(p == cwd or p.startswith(cwd.rstrip(os.sep) + os.sep) for p in absolute):
        return cwd
    common = os.path.commonpath(absolute)
    return common if os.path.isdir(common) else os.path.dirname(common)
