"""Configs held in ConfigMap strings: findings point at the YAML line holding the config's line,
whatever the string's style; where that line cannot be known, at the key."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st

from infralint.api import ScanOptions, scan
from infralint.parsers.embedded_lines import literal_block_indent, quoted_map
from infralint.parsers.yamlpos import load_documents

HAPROXY = (
    "defaults\n  mode http\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n"
    "frontend stats\n  bind :9101 \n  stats enable\n  stats uri /stats\n"
)


def _configmap(value_yaml: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lb\ndata:\n  haproxy.cfg: {value_yaml}\n"


def _stats_lines(tmp_path: Path, text: str, in_dir) -> list[tuple[int | None, int | None]]:
    (tmp_path / "cm.yaml").write_text(text, encoding="utf-8")
    in_dir(tmp_path)
    report = scan(["."], ScanOptions(select=["haproxy-stats-no-auth"]))
    return [(f.span.line, f.span.col) for f in report.findings]


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_double_quoted_string_as_kustomize_prints_it(tmp_path: Path, in_dir) -> None:
    # A trailing blank (`bind :9101 `) makes YAML printers quote the string and fold it.
    dumped = yaml.dump({"haproxy.cfg": HAPROXY}, default_style='"', width=40).split(": ", 1)[1]
    text = _configmap(dumped.replace("\n", "\n  ").rstrip())
    assert "\\n" in text and "stats enable" in text
    [(line, col)] = _stats_lines(tmp_path, text, in_dir)
    assert line is not None and col is not None
    assert text.splitlines()[line - 1][col - 1 :].startswith("stats enable")


def test_double_quoted_line_starting_in_the_middle_of_a_yaml_line(tmp_path: Path, in_dir) -> None:
    text = _configmap(
        '"defaults\\n  mode http\\n  timeout connect 5s\\n  timeout client 30s\\n  timeout server 30s\\nfrontend\n'
        '    stats\\n  bind :9101\\n  stats enable\\n"'
    )
    assert _stats_lines(tmp_path, text, in_dir) == [(_line_of(text, "stats enable"), 28)]


def test_single_quoted_string(tmp_path: Path, in_dir) -> None:
    text = _configmap("'" + HAPROXY.replace("\n", "\n\n    ") + "'")
    assert _stats_lines(tmp_path, text, in_dir) == [(_line_of(text, "stats enable"), 7)]


def test_literal_block_chomping_and_indentation_indicators(tmp_path: Path, in_dir) -> None:
    body = "".join(f"    {line}\n" for line in HAPROXY.splitlines())
    # An indicator gives the indent (the key's plus N) when the first line is indented deeper.
    deeper = "".join(f"      {line}\n" for line in ("  # first line indented", *HAPROXY.splitlines()))
    for header, content in (("|-", body), ("|+", body + "\n\n"), ("|4", deeper), ("|2 # c", "  " + deeper[2:])):
        text = _configmap(header + "\n" + content)
        line = _line_of(text, "stats enable")
        indent = len(text.splitlines()[line - 1]) - len(text.splitlines()[line - 1].lstrip())
        assert _stats_lines(tmp_path, text, in_dir) == [(line, indent + 1)], header


def test_plain_and_folded_strings_point_at_the_key(tmp_path: Path, in_dir) -> None:
    key_line = 6
    plain = _configmap("defaults\n\n    frontend stats\n\n    stats enable\n")
    assert _stats_lines(tmp_path, plain, in_dir) == [(key_line, 1)]
    folded = _configmap(">\n" + "".join(f"    {line}\n\n" for line in HAPROXY.splitlines()))
    assert _stats_lines(tmp_path, folded, in_dir) == [(key_line, 1)]


def test_quoted_key_on_the_line_of_the_value() -> None:
    text = '"haproxy.cfg": "global\\n  maxconn 10\\n"\n'
    [doc] = list(load_documents(text))
    mapped = quoted_map(text, 1, '"', doc.data["haproxy.cfg"])
    assert mapped is not None and mapped.place(2, None) == (1, 27)  # `maxconn`, after `\n  `
    assert mapped.place(2, 3) == (1, 27)


def test_a_string_that_does_not_decode_to_the_value_has_no_map() -> None:
    assert quoted_map('k: "a\\nb"\n', 1, '"', "something else") is None
    assert literal_block_indent(["k: |", "  a", "  c"], 1, "a\nb\n") is None


_WORDS = st.text(alphabet="abc:{}#/$\\'\" \t", min_size=0, max_size=12)


@given(st.lists(_WORDS, min_size=2, max_size=8), st.sampled_from(['"', "'"]), st.integers(10, 60))
def test_every_character_maps_onto_itself(lines: list[str], style: str, width: int) -> None:
    value = "\n".join(lines) + "\n"
    text = yaml.dump({"data": {"cfg": value}}, default_style=style, width=width, allow_unicode=True)
    [doc] = list(load_documents(text))
    assert doc.data["data"]["cfg"] == value
    scalar = yaml.compose(text).value[0][1].value[0][1]  # the printer may pick another style
    mapped = quoted_map(text, scalar.start_mark.line + 1, scalar.style, value)
    assert mapped is not None
    file_lines = text.splitlines()
    for number, line in enumerate(value.split("\n")[:-1], 1):
        for col, ch in enumerate(line, 1):
            if ch.isspace() or ch in "\\'\"":
                continue  # escaped in the file: `\t`, `\"`, `''`
            outer_line, outer_col = mapped.place(number, col)
            assert outer_col is not None
            assert file_lines[outer_line - 1][outer_col - 1] == ch


def test_nginx_and_redis_in_double_quoted_strings(tmp_path: Path, in_dir) -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n"
        '  nginx.conf: "events {}\\nhttp {\\n  server {\\n    listen 8080;\\n\n'
        '    \\    server_tokens on;\\n  }\\n}\\n"\n'
        '  redis.conf: "port 6379\\n\n    maxmemory 0\\n"\n'
    )
    (tmp_path / "cm.yaml").write_text(text, encoding="utf-8")
    in_dir(tmp_path)
    report = scan(["."], ScanOptions(select=["nginx-server-tokens", "redis-no-maxmemory"]))
    assert sorted((f.rule_id, f.span.line) for f in report.findings) == [
        ("nginx-server-tokens", _line_of(text, "server_tokens")),
        ("redis-no-maxmemory", _line_of(text, "maxmemory 0")),
    ]
