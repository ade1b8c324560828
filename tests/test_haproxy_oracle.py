"""The real haproxy as an oracle for the parser.

Every HAProxy fixture and every config under tests/data/haproxy/valid must pass `haproxy -c`
(exit 0, or 2 for "valid but nothing listens") and parse without infralint-parse-error. Every
config under tests/data/haproxy/invalid is rejected by haproxy (exit 1) and must give a parse
error at the line its first comment names. A fixture whose first line says
`# haproxy -c: rejected (...)` shows a problem haproxy refuses at startup but that is not
syntax (an undefined backend): haproxy must reject it, and it must still parse cleanly.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO, require_binary

from infralint.parsers.haproxy import parse
from infralint.source import SourceFile

DATA = REPO / "tests" / "data" / "haproxy"
EXPECTED_LINE = re.compile(r"^# haproxy rejects line (\d+)")
REJECTED_MARK = "# haproxy -c: rejected"


def _fixture_configs() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("haproxy-*/**/*.cfg") if p.is_file())


def _valid_configs() -> list[Path]:
    return sorted((DATA / "valid").glob("*.cfg"))


def _invalid_configs() -> list[Path]:
    return sorted((DATA / "invalid").glob("*.cfg"))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder to run haproxy in, with the certificate the fixtures name (certs/site.pem)."""
    folder = tmp_path_factory.mktemp("haproxy-oracle")
    openssl = require_binary("openssl")
    certs = folder / "certs"
    certs.mkdir()
    key, cert = folder / "key.pem", folder / "cert.pem"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=infralint.test"]
    subprocess.run(
        [openssl, *request, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    (certs / "site.pem").write_bytes(cert.read_bytes() + key.read_bytes())
    return folder


def haproxy_check(config: bytes, workspace: Path) -> tuple[int, str]:
    """Exit code and output of `haproxy -c` on this config, run from the workspace."""
    binary = require_binary("haproxy")
    target = workspace / "haproxy.cfg"
    target.write_bytes(config)
    done = subprocess.run(
        [binary, "-c", "-f", str(target)], cwd=workspace, capture_output=True, text=True, timeout=60, check=False
    )
    return done.returncode, done.stdout + done.stderr


def parse_errors(text: str) -> list[tuple[int | None, str]]:
    bom = text.startswith("\ufeff")  # as a scan reads it: the mark is noted, not kept in the text
    source = SourceFile("haproxy.cfg", "/nonexistent/haproxy.cfg", text.removeprefix("\ufeff"), "haproxy", bom=bom)
    result = parse(source)
    return [(f.span.line, f.message) for f in result.findings if f.rule_id == "infralint-parse-error"]


def _name(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


@pytest.mark.parametrize("path", _fixture_configs() + _valid_configs(), ids=_name)
def test_accepted_configs_parse_cleanly(path: Path, workspace: Path) -> None:
    data = path.read_bytes()
    code, output = haproxy_check(data, workspace)
    text = data.decode("utf-8")
    if text.startswith(REJECTED_MARK):
        assert code == 1, f"haproxy was expected to reject {path.name}:\n{output}"
    else:
        assert code in (0, 2), f"haproxy rejects {path.name}:\n{output}"
    assert parse_errors(text) == []


@pytest.mark.parametrize("path", _invalid_configs(), ids=_name)
def test_rejected_configs_give_a_parse_error_at_the_line(path: Path, workspace: Path) -> None:
    data = path.read_bytes()
    code, output = haproxy_check(data, workspace)
    assert code == 1, f"haproxy accepts {path.name}, so it does not belong to the invalid set:\n{output}"
    text = data.decode("utf-8")
    marker = EXPECTED_LINE.match(text)
    assert marker, "an invalid config starts with '# haproxy rejects line N: why'"
    lines = {line for line, _ in parse_errors(text)}
    assert int(marker.group(1)) in lines, f"no parse error at line {marker.group(1)}: {parse_errors(text)}"


# Inputs a text file in the repository cannot carry well: built here, judged by both.
GENERATED = {
    "nul-byte": (b"global\n    maxconn 10\x00 20\n", 2),
    "no-final-newline": (b"global\n    maxconn 10", 2),
    "carriage-return-in-quotes": (b'global\n    description "open\r"\n', 2),
    "byte-order-mark": (b"\xef\xbb\xbfglobal\n    maxconn 10\n", 1),
    # A lone CR ends a line's words (the quote after it is ignored) but is no line break.
    "lone-carriage-return": (b'global\n    maxconn 10\r"\n    description "x\n', 3),
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_rejections(name: str, workspace: Path) -> None:
    data, line = GENERATED[name]
    code, output = haproxy_check(data, workspace)
    assert code == 1, output
    assert line in {found for found, _ in parse_errors(data.decode("utf-8"))}


def test_crlf_line_ends_are_accepted(workspace: Path) -> None:
    data = (DATA / "valid" / "quoting.cfg").read_bytes().replace(b"\n", b"\r\n")
    code, output = haproxy_check(data, workspace)
    assert code in (0, 2), output
    # discovery turns CRLF into LF before parsing; a stray CR alone ends the line for haproxy
    assert parse_errors(data.decode("utf-8").replace("\r\n", "\n")) == []


def test_no_line_continuation(workspace: Path) -> None:
    """A trailing backslash does not join lines: haproxy sees `maxconn` twice."""
    text = (DATA / "valid" / "no-continuation.cfg").read_text(encoding="utf-8")
    code, output = haproxy_check(text.encode(), workspace)
    assert code in (0, 2) and "'maxconn' already specified" in output
    source = SourceFile("haproxy.cfg", "/nonexistent/haproxy.cfg", text, "haproxy")
    glob = next(n for n in parse(source).nodes if n.kind == "haproxy/global")
    keywords = [d["keyword"] for d in glob.attrs["directives"]]
    assert keywords == ["maxconn", "description", "maxconn"]
    assert glob.attrs["directives"][1]["args"][-1] == "\\"


def _findings(text: str, rule_id: str) -> list[str]:
    from infralint import catalog
    from infralint.graph.build import build
    from infralint.rules.meta import RuleContext

    source = SourceFile("haproxy.cfg", "/nonexistent/haproxy.cfg", text, "haproxy")
    graph = build(parse(source).nodes)
    rule = next(r for r in catalog.all_rules() if r.id == rule_id)
    context = RuleContext(graph, dict(rule.meta.options))
    return [hit.message for node in graph.of_kind(*rule.meta.scope) for hit in rule.check(node, context)]


@pytest.mark.parametrize("path", _fixture_configs() + _valid_configs(), ids=_name)
def test_effective_timeouts_agree_with_haproxy(path: Path, workspace: Path) -> None:
    """haproxy warns "missing timeouts for <proxy>" exactly where the rule finds them: the
    defaults sections were applied as haproxy applies them."""
    code, output = haproxy_check(path.read_bytes(), workspace)
    if code == 1:
        pytest.skip("haproxy stops before its timeout checks on a rejected config")
    theirs = set(re.findall(r"missing timeouts for \w+ '([^']*)'", output))
    messages = _findings(path.read_text(encoding="utf-8"), "haproxy-missing-timeouts")
    # A finding at a defaults section names every proxy under it that lacks the timeouts.
    ours = {name for message in messages for name in re.findall(r"(?:frontend|backend|listen) '([^']*)'", message)}
    assert ours == theirs


def test_undefined_backends_agree_with_haproxy(workspace: Path) -> None:
    path = FIXTURES / "haproxy-undefined-backend" / "bad.cfg"
    _, output = haproxy_check(path.read_bytes(), workspace)
    theirs = set(re.findall(r"unable to find required \w+: '([^']*)'", output))
    messages = _findings(path.read_text(encoding="utf-8"), "haproxy-undefined-backend")
    assert {re.search(r"names backend '([^']*)'", m).group(1) for m in messages} == theirs  # type: ignore[union-attr]
