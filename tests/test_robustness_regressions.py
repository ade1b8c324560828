"""Every input the fuzzer (fuzz/) found a bug with, fed through its target again.

tests/data/fuzz-regressions/<target>/<name>: the raw bytes atheris saved; <target> is a parser
(k8s, compose, nginx, haproxy, redis) or `scan`, whose first byte picks the file name as in
fuzz/targets.py. The invariants are the fuzzer's: no exception escapes, every finding and node
points at a line inside the file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scanning import scan_tree

from infralint import discover
from infralint.parsers.registry import parser_for
from infralint.source import SourceFile

CASES = Path(__file__).resolve().parent / "data" / "fuzz-regressions"
NAMES = {"k8s": "fuzz.yaml", "compose": "compose.yaml", "nginx": "nginx.conf", "haproxy": "haproxy.cfg"}
NAMES["redis"] = "redis.conf"
SCAN_NAMES = ("fuzz.yaml", "compose.yaml", "nginx.conf", "haproxy.cfg", "redis.conf", "app.conf")


def _cases() -> list[Path]:
    return sorted(path for path in CASES.glob("*/*") if path.is_file())


def _assert_inside(text: str, name: str, spans: list) -> None:  # type: ignore[type-arg]
    lines = text.count("\n") + 1
    for span in spans:
        if span.path == name and span.line is not None:
            assert 1 <= span.line <= lines, f"{span} outside 1..{lines}"


@pytest.mark.parametrize("case", _cases(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_fuzz_regression(case: Path, tmp_path: Path) -> None:
    target, data = case.parent.name, case.read_bytes()
    if target == "scan":
        name = SCAN_NAMES[data[0] % len(SCAN_NAMES)]
        (tmp_path / name).write_bytes(data[1:])
        report = scan_tree(tmp_path)
        assert not [f for f in report.findings if f.rule_id == "infralint-rule-error"]
        source = discover.read(str(tmp_path / name), str(tmp_path), discover.DEFAULT_MAX_BYTES)
        if isinstance(source, SourceFile):  # the text as the scan read it
            _assert_inside(source.text, name, [f.span for f in report.findings])
        return
    text = discover.decode(data, target)[0]
    if text is None:
        return
    name = NAMES[target]
    parse = parser_for(target)
    assert parse is not None
    result = parse(SourceFile(name, str(tmp_path / name), text, target, root=str(tmp_path)))
    _assert_inside(text, name, [f.span for f in result.findings] + [n.span for n in result.nodes])


def test_there_are_regression_cases() -> None:
    assert _cases(), "tests/data/fuzz-regressions/ should hold the fuzzer's past finds"


@pytest.mark.parametrize("kind", ["k8s", "compose", "nginx", "haproxy", "redis"])
@pytest.mark.parametrize("line_break", ["\r", "\r\n", "\x85", "\u2028", "\u2029"])
def test_line_breaks_count_as_the_format_counts_them(kind: str, line_break: str, tmp_path: Path) -> None:
    """Found by fuzzing: libyaml counts a lone CR (and NEL, LS, PS) as a line break, so in YAML
    they are one; nginx, HAProxy and Redis end lines at LF only (CR LF is LF to all). Either way
    no finding may point past the end of the file."""
    texts = {
        "k8s": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: a\n      image: x:latest\n",
        "compose": "services:\n  web:\n    image: x:latest\n",
        "nginx": "events {}\nhttp {\n  server {\n    listen 80;\n  }\n}\n",
        "haproxy": "defaults\n  mode http\nfrontend www\n  bind :80\n",
        "redis": "port 6379\nbind 0.0.0.0\n",
    }
    data = texts[kind].replace("\n", line_break).encode("utf-8")
    name = NAMES[kind]
    (tmp_path / name).write_bytes(data)
    source = discover.read(str(tmp_path / name), str(tmp_path), discover.DEFAULT_MAX_BYTES)
    one_line_break = kind in discover.YAML_KINDS or line_break == "\r\n"
    if isinstance(source, SourceFile):
        assert (source.text == texts[kind]) == one_line_break
        assert source.text.count("\n") == (texts[kind].count("\n") if one_line_break else 0)
    else:  # a server config on one line may no longer look like one; then it is not read at all
        assert not one_line_break and source is None
    report = scan_tree(tmp_path)
    if isinstance(source, SourceFile):
        _assert_inside(source.text, name, [f.span for f in report.findings])
