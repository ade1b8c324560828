"""Coverage-guided fuzz targets (atheris), one per parser plus the whole scan of one file.

Run through ``python fuzz/run.py`` (it builds the seed corpus from the fixtures first); not run
by the default tests. A target fails (and atheris saves the input) when an exception escapes
a parser or a finding points outside the file.

    python fuzz/targets.py <target> [libFuzzer options] [corpus folders]
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

import atheris

with atheris.instrument_imports():
    from infralint import api, discover
    from infralint.parsers import compose, haproxy, kubernetes, nginx, redis
    from infralint.source import SourceFile

# target -> (file name the bytes are given, kind, parser); a root with no other file in it,
# so includes resolve to nothing (the parsers must still bound them).
PARSERS: dict[str, tuple[str, str, Any]] = {
    "k8s": ("fuzz.yaml", "k8s", kubernetes.parse),
    "compose": ("compose.yaml", "compose", compose.parse),
    "nginx": ("nginx.conf", "nginx", nginx.parse),
    "haproxy": ("haproxy.cfg", "haproxy", haproxy.parse),
    "redis": ("redis.conf", "redis", redis.parse),
}
TARGETS = (*PARSERS, "scan")
_ROOT = tempfile.mkdtemp(prefix="infralint-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)


class LocationOutsideFile(AssertionError):
    pass


def check_locations(text: str, path: str, result: Any) -> None:
    """Every finding and node of PATH points at a line of the file (or at the whole file)."""
    lines = text.count("\n") + 1
    spans = [finding.span for finding in result.findings] + [node.span for node in result.nodes]
    for span in spans:
        if span.path != path:
            continue
        if span.line is not None and not 1 <= span.line <= lines:
            raise LocationOutsideFile(f"{span} outside 1..{lines}")


def fuzz_parser(target: str, data: bytes) -> None:
    name, kind, parse = PARSERS[target]
    text = discover.decode(data, kind)[0]
    if text is None:
        return
    source = SourceFile(name, os.path.join(_ROOT, name), text, kind, root=_ROOT)
    check_locations(text, name, parse(source))


_SCAN_NAMES = ("fuzz.yaml", "compose.yaml", "nginx.conf", "haproxy.cfg", "redis.conf", "app.conf")


def fuzz_scan(data: bytes) -> None:
    """The whole scan of one file; the first byte picks its name (and so its kind)."""
    if not data:
        return
    name = _SCAN_NAMES[data[0] % len(_SCAN_NAMES)]
    folder = tempfile.mkdtemp(dir=_ROOT)
    path = os.path.join(folder, name)
    try:
        with open(path, "wb") as handle:
            handle.write(data[1:])
        previous = os.getcwd()
        os.chdir(folder)
        try:
            report = api.scan(["."], api.ScanOptions(file_timeout=None))
        finally:
            os.chdir(previous)
        internal = [f for f in report.findings if f.rule_id == "infralint-rule-error"]
        if internal:
            raise AssertionError(internal[0].message)
        source = discover.read(path, folder, discover.DEFAULT_MAX_BYTES)
        if isinstance(source, SourceFile):  # the text as the scan read it
            text = source.text
            lines = text.count("\n") + 1
            for finding in report.findings:
                line = finding.span.line
                if finding.span.path == name and line is not None and not 1 <= line <= lines:
                    raise LocationOutsideFile(f"{finding.rule_id} at {finding.span} outside 1..{lines}")
    finally:
        for leftover in os.listdir(folder):
            os.unlink(os.path.join(folder, leftover))
        os.rmdir(folder)


def main() -> None:
    target = sys.argv[1]
    if target not in TARGETS:
        raise SystemExit(f"unknown target {target}; one of {', '.join(TARGETS)}")
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    test = fuzz_scan if target == "scan" else (lambda data: fuzz_parser(target, data))
    atheris.Setup([sys.argv[0], *sys.argv[2:]], test)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
