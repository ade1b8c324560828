from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parent.parent

# Property-based tests: a fixed, derandomized budget so CI runs the same examples every time
# (HYPOTHESIS_PROFILE=dev explores new ones, with more examples, on a developer machine).
settings.register_profile("ci", max_examples=500, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("dev", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
FIXTURES = REPO / "fixtures"
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def in_dir():
    """Run a scan from a given folder (scan roots and relative paths depend on it)."""
    previous = os.getcwd()

    def change(path: Path) -> None:
        os.chdir(path)

    yield change
    os.chdir(previous)


def require_tool(env_var: str, what: str) -> Path:
    """A tool used as an oracle: skipped on a developer machine without it, a failure in CI."""
    value = os.environ.get(env_var)
    if value and Path(value).exists():
        return Path(value)
    message = f"{what} not available (set {env_var})"
    if os.environ.get("CI"):
        pytest.fail(message + ": CI must install it")
    pytest.skip(message)


def require_binary(name: str) -> str:
    """A real server used as an oracle (nginx, haproxy, redis-server): skipped on a developer
    machine without it, a failure in CI, which installs it."""
    import shutil

    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/local/sbin")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not installed: CI must install it")
    pytest.skip(f"{name} is not installed")


@pytest.fixture(scope="session")
def corpus_report():
    """The shared corpus scanned once for every test that reads it (default rules, no config)."""
    from infralint.dev import corpus_summary

    corpus = corpus_summary.corpus_path()
    if not corpus.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"the corpus is missing at {corpus}")
        pytest.skip("the shared corpus is not beside the repository")
    return corpus_summary.scan_corpus(corpus)


@pytest.fixture(scope="session")
def corpus_path() -> Path:
    from infralint.dev import corpus_summary

    return corpus_summary.corpus_path()
