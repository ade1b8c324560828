"""The same input gives byte-identical text, JSON and SARIF: across runs, across PYTHONHASHSEED
values and across the order the file system lists the files in.

(There is no parallel scan yet; when there is, add the worker count to the variations here.)
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FORMATS = ("text", "json", "sarif")
PER_DOMAIN = 8  # fixture cases per rule domain: every parser and most rule kinds, in a few seconds

# One process scans once and renders every format (the timing, the only field that varies
# between runs, set to zero); the output is a JSON object format -> rendering.
_RENDER_ALL = """
import json, sys
from infralint.api import ScanOptions, scan
from infralint.reporters import reporter
report = scan(["."], ScanOptions())
report.seconds = 0.0
print(json.dumps({name: reporter(name)(report, color=False, category=None) for name in sys.argv[1:]}))
"""


def _cases() -> list[Path]:
    by_domain: dict[str, list[Path]] = {}
    for case in sorted((REPO / "fixtures").iterdir()):
        by_domain.setdefault(case.name.split("-")[0], []).append(case)
    chosen = [case for cases in by_domain.values() for case in cases[:PER_DOMAIN]]
    return chosen + [REPO / "examples" / name for name in sorted(os.listdir(REPO / "examples"))]


def _files() -> list[tuple[Path, Path]]:
    """(source, path relative to the tree) for every file of the chosen cases."""
    files = []
    for case in _cases():
        for path in sorted(case.rglob("*")):
            if path.is_file():
                files.append((path, Path(case.name) / path.relative_to(case)))
    return files


def make_tree(root: Path, order: list[tuple[Path, Path]]) -> Path:
    for source, relative in order:
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return root


def render(root: Path, hash_seed: str = "0") -> dict[str, str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    completed = subprocess.run(
        [sys.executable, "-c", _RENDER_ALL, *FORMATS], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    outputs: dict[str, str] = json.loads(completed.stdout)
    # SARIF names the scan root's absolute URI; two trees in two folders differ only there.
    return {
        name: text.replace(root.as_uri(), "file:///ROOT").replace(str(root), "/ROOT") for name, text in outputs.items()
    }


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tree(tmp_path_factory.mktemp("forward"), _files())


@pytest.fixture(scope="module")
def baseline(tree: Path) -> dict[str, str]:
    outputs = render(tree)
    findings = json.loads(outputs["json"])["findings"]
    assert len(findings) > 50, "the tree should give plenty of findings to compare"
    assert len({finding["rule"].split("-")[0] for finding in findings}) >= 4, "every format should be represented"
    return outputs


def _assert_same(outputs: dict[str, str], expected: dict[str, str], what: str) -> None:
    for name in FORMATS:
        assert outputs[name] == expected[name], f"{name} output differs {what}"


def test_identical_across_runs(tree: Path, baseline: dict[str, str]) -> None:
    _assert_same(render(tree), baseline, "between two runs")


@pytest.mark.parametrize("hash_seed", ["1", "12345", "random"])
def test_identical_across_hash_seeds(tree: Path, baseline: dict[str, str], hash_seed: str) -> None:
    _assert_same(render(tree, hash_seed), baseline, f"with PYTHONHASHSEED={hash_seed}")


@pytest.mark.parametrize("order", ["reversed", "shuffled"])
def test_identical_across_file_system_order(tmp_path: Path, baseline: dict[str, str], order: str, tree: Path) -> None:
    files = _files()
    if order == "reversed":
        files.reverse()
    else:
        random.Random(7).shuffle(files)
    other = make_tree(tmp_path / "tree", files)
    assert sorted(os.listdir(other)) == sorted(os.listdir(tree))
    _assert_same(render(other), baseline, f"when the files were created in {order} order")


def test_the_command_line_output_is_identical_across_runs(tree: Path) -> None:
    def run(output_format: str) -> str:
        command = [sys.executable, "-m", "infralint", "scan", ".", "--format", output_format, "--no-color"]
        completed = subprocess.run(command, cwd=tree, capture_output=True, text=True, timeout=300)
        assert completed.returncode == 1, completed.stderr[-2000:]
        return re.sub(r" in \d+\.\d+s\.", " in Ns.", completed.stdout)  # the text summary's timing

    for output_format in FORMATS:
        assert run(output_format) == run(output_format), output_format


class _Shuffled:
    """os.scandir with its entries in a fixed but scrambled order (ext4 lists a folder in hash
    order whatever the creation order, so creating files in another order alone may not show)."""

    def __init__(self, real, seed: int) -> None:  # type: ignore[no-untyped-def]
        self.real, self.seed = real, seed

    def __call__(self, path="."):  # type: ignore[no-untyped-def]
        with self.real(path) as entries:
            listed = list(entries)
        random.Random(f"{self.seed}:{path}").shuffle(listed)
        return _Entries(listed)


class _Entries:
    """What os.scandir returns: an iterator and a context manager."""

    def __init__(self, entries: list[os.DirEntry[str]]) -> None:
        self._iterator = iter(entries)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return self

    def __next__(self) -> os.DirEntry[str]:
        return next(self._iterator)

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def close(self) -> None:
        return None


@pytest.mark.parametrize("seed", [1, 2])
def test_identical_when_the_file_system_lists_in_another_order(
    tree: Path, baseline: dict[str, str], monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    from infralint.api import ScanOptions, scan
    from infralint.reporters import reporter

    real_listdir = os.listdir
    monkeypatch.setattr(os, "scandir", _Shuffled(os.scandir, seed))
    monkeypatch.setattr(os, "listdir", lambda path=".": sorted(real_listdir(path), reverse=bool(seed % 2)))
    monkeypatch.chdir(tree)
    report = scan(["."], ScanOptions())
    monkeypatch.undo()
    report.seconds = 0.0
    outputs = {name: reporter(name)(report, color=False, category=None) for name in FORMATS}
    outputs = {
        name: text.replace(tree.as_uri(), "file:///ROOT").replace(str(tree), "/ROOT") for name, text in outputs.items()
    }
    _assert_same(outputs, baseline, f"when folders are listed in another order (seed {seed})")
