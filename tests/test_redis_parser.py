"""The Redis parser: quoting, values, effective settings, ACL facts, Sentinel, includes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scanning import found, scan_tree, write

from infralint.parsers.redis import parse
from infralint.parsers.redis_directives import DIRECTIVES, lookup, memory_bytes, suggestion
from infralint.parsers.redis_lexer import SplitError, split_args
from infralint.source import SourceFile


def node_of(text: str, name: str = "redis.conf"):
    result = parse(SourceFile(name, f"/nowhere/{name}", text, "redis"))
    [node] = result.nodes
    return node, result.findings


# --- splitting -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "args"),
    [
        ("save 900 1", [("save", 0), ("900", 5), ("1", 9)]),
        ('requirepass "a b"', [("requirepass", 0), ("a b", 12)]),
        ('x "tab\\there\\nnl\\x41\\"q\\\\"', [("x", 0), ('tab\there\nnlA"q\\', 2)]),
        ('x "\\xZZ"', [("x", 0), ("xZZ", 2)]),  # not hex: the backslash escapes the x
        ("x 'it\\'s' 'a\\b'", [("x", 0), ("it's", 2), ("a\\b", 10)]),
        ('x pre"quoted part"', [("x", 0), ("prequoted part", 2)]),
        ("x \"\" ''", [("x", 0), ("", 2), ("", 5)]),
        ("port 6379 # note", [("port", 0), ("6379", 5), ("#", 10), ("note", 12)]),
        ("a\tb\x0bc", [("a", 0), ("b\x0bc", 2)]),  # \v separates nothing inside a word, as in Redis
    ],
)
def test_split_args_like_sdssplitargs(line: str, args: list[tuple[str, int]]) -> None:
    assert split_args(line) == args


@pytest.mark.parametrize(
    ("line", "offset", "reason"),
    [
        ('bind "127.0.0.1', 5, "unterminated double quote"),
        ("bind '127.0.0.1", 5, "unterminated single quote"),
        ('bind "127.0.0.1"x', 16, "closing quote"),
        ('x "ends with a backslash\\', 2, "unterminated double quote"),
        ("x 'escaped end\\'", 2, "unterminated single quote"),
    ],
)
def test_split_errors_say_where(line: str, offset: int, reason: str) -> None:
    with pytest.raises(SplitError) as error:
        split_args(line)
    assert error.value.offset == offset
    assert reason in error.value.reason


# --- values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("100", 100),
        ("1k", 1000),
        ("1kb", 1024),
        ("1K", 1000),
        ("1KB", 1024),
        ("2m", 2_000_000),
        ("2mb", 2 * 1024**2),
        ("1g", 1_000_000_000),
        ("1Gb", 1024**3),
        ("10b", 10),
        ("", 0),
        ("1.5gb", None),
        ("-1", None),
        ("1 gb", None),
        ("1tb", None),
        ("0x10", None),
    ],
)
def test_memory_units_as_redis_defines_them(text: str, value: int | None) -> None:
    assert memory_bytes(text) == value


def test_table_aliases_point_at_canonical_settings() -> None:
    for alias, canonical in (
        ("slaveof", "replicaof"),
        ("slave-read-only", "replica-read-only"),
        ("slave-serve-stale-data", "replica-serve-stale-data"),
        ("hash-max-ziplist-entries", "hash-max-listpack-entries"),
        ("hash-max-ziplist-value", "hash-max-listpack-value"),
        ("zset-max-ziplist-value", "zset-max-listpack-value"),
        ("list-max-ziplist-size", "list-max-listpack-size"),
        ("lua-time-limit", "busy-reply-threshold"),
    ):
        directive = lookup(alias)
        assert directive is not None and directive.setting == canonical and directive.is_alias
    assert lookup("MaxMemory") is DIRECTIVES["maxmemory"]
    assert {d.since for d in DIRECTIVES.values()} == {"7.0", "7.2", "7.4"}


def test_did_you_mean() -> None:
    assert suggestion("maxmemroy") == "maxmemory"
    assert suggestion("slave-read-onyl") == "slave-read-only"
    assert suggestion("completely-unrelated-words") is None
    assert suggestion("x" * 10_000) is None


# --- lines, columns and values Redis refuses -------------------------------------------------


def test_errors_point_at_line_and_column() -> None:
    text = 'bind 127.0.0.1\n  requirepass "open\nport 6379 # default\nappendonly on\nsave 900\n'
    _, findings = node_of(text)
    where = sorted((f.span.line, f.span.col, f.rule_id) for f in findings)
    assert where == [
        (2, 15, "infralint-parse-error"),  # the opening quote
        (3, 11, "infralint-parse-error"),  # the '#' read as an argument
        (4, 12, "infralint-parse-error"),  # the value
        (5, 6, "infralint-parse-error"),  # the odd argument
    ]
    messages = " ".join(f.message for f in findings)
    assert "'#' starts a comment only at the start of a line" in messages
    assert "yes, no" in messages


def test_a_trailing_comment_still_counts_with_the_value_before_it() -> None:
    node, findings = node_of("maxmemory 2gb # half the node\nbind 127.0.0.1\n")
    assert [f.rule_id for f in findings] == ["infralint-parse-error"]
    assert node.facts["maxmemory"] == 2 * 1024**3


def test_whole_line_comments_only() -> None:
    node, findings = node_of("# maxmemory 1gb\n   # bind 0.0.0.0\n\t\nrequirepass #not-a-comment\n")
    assert findings == []
    assert node.facts["requirepass_set"] and node.facts["maxmemory"] == 0
    assert node.facts["bind"] == ["*", "-::*"] and not node.facts["bind_explicit"]


# --- effective settings ----------------------------------------------------------------------


def test_last_line_wins_across_aliases_and_case() -> None:
    node, _ = node_of("slave-read-only no\nREPLICA-READ-ONLY yes\nslaveof 10.0.0.1 6379\nreplicaof no one\n")
    assert node.attrs["settings"]["replica-read-only"] == ["yes"]
    assert node.facts["replicaof"] is None


def test_bind_is_replaced_and_save_accumulates() -> None:
    node, _ = node_of("bind 0.0.0.0\nbind 127.0.0.1 -::1\nsave 900 1\nsave 300 10 60 10000\n")
    assert node.facts["bind"] == ["127.0.0.1", "-::1"]
    assert node.facts["save"] == [[900, 1], [300, 10], [60, 10000]]


@pytest.mark.parametrize(
    ("lines", "points"),
    [
        ("", [[3600, 1], [300, 100], [60, 10000]]),
        ('save ""\n', []),
        ("save\n", []),
        ('save 900 1\nsave ""\n', []),
        ('save ""\nsave 900 1\n', [[900, 1]]),
    ],
)
def test_save_points(lines: str, points: list[list[int]]) -> None:
    node, _ = node_of("bind 127.0.0.1\n" + lines)
    assert node.facts["save"] == points
    assert node.facts["rdb_enabled"] is bool(points)


def test_facts_for_the_cross_format_graph() -> None:
    node, findings = node_of(
        "bind 10.0.0.5 127.0.0.1\nport 6380\ntls-port 6381\nprotected-mode no\nmaxmemory 512mb\n"
        "maxmemory-policy allkeys-lru\nappendonly yes\nrename-command CONFIG cfg-7f3a\nrename-command KEYS ''\n"
        "unixsocket /run/redis.sock\n"
    )
    assert findings == []
    facts = node.facts
    assert facts["bind"] == ["10.0.0.5", "127.0.0.1"] and facts["bind_explicit"]
    assert (facts["port"], facts["tls_port"], facts["unixsocket"]) == (6380, 6381, "/run/redis.sock")
    assert facts["protected_mode"] is False
    assert facts["maxmemory"] == 512 * 1024**2 and facts["maxmemory_policy"] == "allkeys-lru"
    assert facts["appendonly"] is True
    assert facts["rename_commands"] == {"config": "renamed", "keys": "disabled"}
    assert facts["exposure"] is None  # set by the cross-format linkers later
    assert node.kinds == ("redis/config",) and node.id == "redis/redis.conf"


def test_acl_users_and_the_default_user() -> None:
    node, _ = node_of("user alice on >alice-pw ~* +@all\nuser bob off nopass\n")
    facts = node.facts
    assert facts["default_user"] == {"name": "default", "enabled": True, "nopass": True, "has_password": False}
    assert facts["acl_users"] == [
        {"name": "alice", "enabled": True, "nopass": False, "has_password": True},
        {"name": "bob", "enabled": False, "nopass": True, "has_password": False},
    ]
    node, _ = node_of(
        "user default on #ad2318a47c3cf9fb711dbd13aeba544d3bb3115fa6b8bc9cf82eba1c94f5f470 ~* +@all -@dangerous\n"
    )
    assert node.facts["default_user"]["has_password"]
    assert node.facts["default_user_may_run"] == dict.fromkeys(
        ("flushall", "flushdb", "config", "debug", "keys", "shutdown", "module", "replicaof", "slaveof", "migrate"),
        False,
    )
    node, _ = node_of("requirepass s3cret\n")
    assert node.facts["default_user"]["has_password"] and not node.facts["default_user"]["nopass"]


def test_a_password_written_without_its_marker_is_not_echoed() -> None:
    node, findings = node_of("user alice on forgot-the-marker ~* +@all\nuser bob on (>in-a-selector)\n")
    errors = [(f.span.line, f.span.col) for f in findings if f.rule_id == "infralint-parse-error"]
    assert errors == [(1, 15), (2, 13)]
    shown = json.dumps([node.attrs, node.facts]) + " ".join(f.message for f in findings)
    assert "forgot-the-marker" not in shown and "in-a-selector" not in shown


def test_secrets_never_reach_attrs_facts_or_messages() -> None:
    secrets = ("requirepass-value-1", "masterauth-value-2", "acl-password-3", "keypass-4")
    text = (
        f"requirepass {secrets[0]}\nmasterauth {secrets[1]}\nuser app on >{secrets[2]} ~* +@all\n"
        f"tls-key-file-pass {secrets[3]}\nbind 0.0.0.0\nappendonly maybe\n"
    )
    node, findings = node_of(text)
    dumped = json.dumps([node.attrs, node.facts]) + " ".join(f.message for f in findings)
    for secret in secrets:
        assert secret not in dumped
    assert node.facts["requirepass_set"] is True


# --- Sentinel ----------------------------------------------------------------------------------


def test_sentinel_configs_are_recognised() -> None:
    by_name, _ = node_of("port 26379\ndir /tmp\n", name="sentinel.conf")
    by_content, _ = node_of("port 26379\nsentinel monitor mymaster 127.0.0.1 6379 2\n", name="my-sentinel.conf")
    server, _ = node_of("port 6379\n", name="redis.conf")
    assert by_name.kinds == by_content.kinds == ("redis/sentinel",)
    assert by_content.facts["role"] == "sentinel"
    assert server.kinds == ("redis/config",)


def test_server_rules_do_not_run_on_sentinel(tmp_path: Path) -> None:
    write(tmp_path, "sentinel.conf", "protected-mode no\nport 26379\nsentinel monitor m 10.0.0.1 6379 2\nsentnel x\n")
    report = scan_tree(tmp_path)
    assert found(report) == {("sentinel.conf", 4, "redis-unknown-directive")}


# --- includes ----------------------------------------------------------------------------------


def test_include_is_read_in_place_and_later_lines_win(tmp_path: Path) -> None:
    write(tmp_path, "common.conf", "maxmemory 1gb\nmaxmemory-policy allkeys-lru\nbind 0.0.0.0\n")
    write(tmp_path, "redis.conf", "include common.conf\nbind 127.0.0.1\nrequirepass x\n")
    source = SourceFile("redis.conf", str(tmp_path / "redis.conf"), (tmp_path / "redis.conf").read_text(), "redis")
    source.root = str(tmp_path)
    result = parse(source)
    facts = result.nodes[0].facts
    assert result.findings == []
    assert facts["maxmemory"] == 1024**3 and facts["bind"] == ["127.0.0.1"]
    assert facts["includes"] == [
        {"target": "common.conf", "file": "redis.conf", "line": 1, "followed": ["common.conf"]}
    ]


def test_an_included_fragment_is_judged_in_the_config_that_includes_it(tmp_path: Path) -> None:
    write(tmp_path, "conf.d/common.conf", "maxmemroy 1gb\nmaxmemory-policy allkeys-lru\n")
    write(tmp_path, "redis.conf", "bind 127.0.0.1\nrequirepass x\ninclude conf.d/common.conf\n")
    report = scan_tree(tmp_path, select=["redis-unknown-directive", "redis-no-maxmemory"])
    assert found(report) == {
        ("conf.d/common.conf", 1, "redis-unknown-directive"),  # once, reported by redis.conf
        ("conf.d/common.conf", 2, "redis-no-maxmemory"),  # the typo leaves no limit; the policy line is where it goes
    }


def test_a_byte_order_mark_in_an_included_file_is_reported_there(tmp_path: Path) -> None:
    (tmp_path / "common.conf").write_bytes(b"\xef\xbb\xbfmaxmemory 1gb\n")
    write(tmp_path, "redis.conf", "bind 127.0.0.1\nrequirepass x\ninclude common.conf\n")
    source = SourceFile("redis.conf", str(tmp_path / "redis.conf"), (tmp_path / "redis.conf").read_text(), "redis")
    source.root = str(tmp_path)
    result = parse(source)
    spans = [(f.span.path, f.span.line, f.span.col) for f in result.findings if f.rule_id == "infralint-parse-error"]
    assert spans == [("common.conf", 1, 1)]
    assert result.nodes[0].facts["maxmemory"] == 1024**3  # what the author meant is still judged


def test_missing_and_outside_includes_are_not_found(tmp_path: Path) -> None:
    write(
        tmp_path,
        "redis.conf",
        "bind 127.0.0.1\ninclude /etc/passwd\ninclude ../outside.conf\ninclude missing.conf\ninclude conf.d/*.conf\n",
    )
    (tmp_path.parent / "outside.conf").write_text("maxmemroy 1\n")
    report = scan_tree(tmp_path, select=["infralint-include-not-found"])
    got = {(f.span.line, f.span.col, f.rule_id) for f in report.findings if f.rule_id.startswith("infralint")}
    assert got == {
        (2, 9, "infralint-include-not-found"),
        (3, 9, "infralint-include-not-found"),
        (4, 9, "infralint-include-not-found"),
    }  # an unmatched wildcard is fine for Redis too
    messages = [f.message for f in report.findings]
    assert any("'/etc/passwd' points outside the scan root: not read" in m for m in messages)
    assert not any("maxmemroy" in m for m in messages)


def test_symlinked_include_leaving_the_root_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.conf").write_text("maxmemroy 1\n")
    root = tmp_path / "repo"
    write(root, "redis.conf", "bind 127.0.0.1\ninclude link.conf\n")
    (root / "link.conf").symlink_to(outside / "secret.conf")
    report = scan_tree(root, "redis.conf")
    assert found(report, "infralint") == {("redis.conf", 2, "infralint-include-not-found")}
    assert found(report, "redis-unknown") == set()


def test_wildcard_includes_read_every_match_in_order(tmp_path: Path) -> None:
    write(tmp_path, "conf.d/10-memory.conf", "maxmemory 1gb\n")
    write(tmp_path, "conf.d/20-memory.conf", "maxmemory 2gb\n")
    write(tmp_path, "redis.conf", "bind 127.0.0.1\ninclude conf.d/*.conf\n")
    source = SourceFile("redis.conf", str(tmp_path / "redis.conf"), (tmp_path / "redis.conf").read_text(), "redis")
    source.root = str(tmp_path)
    facts = parse(source).nodes[0].facts
    assert facts["maxmemory"] == 2 * 1024**3
    assert facts["includes"][0]["followed"] == ["conf.d/10-memory.conf", "conf.d/20-memory.conf"]


def test_include_cycles_and_depth_are_bounded(tmp_path: Path) -> None:
    write(tmp_path, "a.conf", "maxmemory 1gb\ninclude b.conf\n")
    write(tmp_path, "b.conf", "maxmemory-policy allkeys-lru\ninclude a.conf\n")
    write(tmp_path, "self.conf", "maxmemory 1gb\ninclude self.conf\n")
    for index in range(15):
        write(tmp_path, f"chain/{index}.conf", f"maxmemory {index + 1}mb\ninclude {index + 1}.conf\n")
    write(tmp_path, "chain/15.conf", "maxmemory 1gb\n")
    report = scan_tree(tmp_path, select=["infralint-parse-error"])
    errors = {(f.span.path, f.span.line) for f in report.findings if f.rule_id == "infralint-parse-error"}
    assert ("b.conf", 2) in errors and ("a.conf", 2) in errors and ("self.conf", 2) in errors
    assert any(path.startswith("chain/") for path, _ in errors)
    assert any("include cycle" in f.message for f in report.findings)
    assert any("nested more than 10 deep" in f.message for f in report.findings)
