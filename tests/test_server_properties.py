"""The real servers judge generated configs: `haproxy -c` and `redis-server` are cheap enough to
ask for every example (about 25 ms and 8 ms a run), so the parsers are held to them on generated
and mutated input, not only on the fixed sets of test_haproxy_oracle.py and test_redis_oracle.py.

Invariants:
- HAProxy: every line where we report a parse error is a line haproxy raises an ALERT for,
  unless an ALERT on an earlier line may have hidden it (haproxy drops a section with an error,
  or stops reading); and every ALERT of the kinds the parser covers
  (HAPROXY_SYNTAX: the tokenizer, sections and their names, `.if` blocks, the final newline) is a
  parse error of ours at that line. Other alerts (unknown keywords, ACL and sample expressions,
  DNS, certificates) are outside a parser that has no keyword table. The generated `.if`
  conditions are constants: one haproxy evaluates from its environment (`defined(VAR)`) is
  unknown to us, so the lines under it are judged as if the block were taken.
- nginx: `nginx -t` accepts the config exactly when we report no parse error, and our first
  error is not before nginx's first (nginx stops there: an earlier one would be a line it
  accepted), unless both fall in one statement spanning lines (nginx names its last line). Its
  syntax errors are ours at that line, except the refusals NGINX_GAPS names (crossplane, whose
  tables we use, has none for them). Upstream hosts are IP addresses and nginx runs without a
  network (`unshare -rn`), so that no name is looked up.
- Redis: redis-server refuses the config exactly when we report a parse error or an unknown
  directive, at the first line we report (redis-server stops there). The one gap is renaming a
  command redis-server does not have (REDIS_GAPS: a name our 7.0 table lacks may be newer).

The example budget is fixed (derandomized "ci" profile in conftest.py): CI draws what developers draw.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import require_binary
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties import NGINX_TEXT, mutated

from infralint import discover
from infralint.checks.redis import unknown_directive
from infralint.graph.model import Graph
from infralint.parsers import haproxy, nginx, redis
from infralint.rules.meta import RuleContext
from infralint.source import SourceFile

# 150 examples per property in CI; more to explore (ORACLE_EXAMPLES=3000 HYPOTHESIS_PROFILE=dev).
ORACLE_SETTINGS = settings(
    max_examples=int(os.environ.get("ORACLE_EXAMPLES", "150")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
TIMEOUT = 20


def either(texts: st.SearchStrategy[str]) -> st.SearchStrategy[bytes]:
    return st.one_of(texts.map(lambda text: text.encode("utf-8")), mutated(texts))


def source_of(folder: Path, name: str, data: bytes, kind: str) -> SourceFile | None:
    """The file as a scan reads it (its BOM noted, its line breaks as the format counts them)."""
    text = discover.decode(data, kind)[0]
    if text is None:
        return None
    path = folder / name
    return SourceFile(name, str(path), text, kind, root=str(folder), bom=data.startswith(discover.UTF8_BOM))


# -- HAProxy ---------------------------------------------------------------------------------

HAPROXY_HEADERS = [
    "global", "global daemon", "defaults", "defaults base", "defaults base2 from base", "frontend web",
    "frontend web from base", "frontend web from nosuch", "backend app", "backend app2", "listen stats",
    "listen stats 10.0.0.1:80", "resolvers dns", "peers mesh", "cache assets", "ring logs", "log-forward logs",
    "log-forward app", "userlist admins", "http-errors errs", "program worker", "mailers alerts", "frontend",
    "backend a/b", "Frontend web", "frontnd web",
]  # fmt: skip
HAPROXY_BODY = [
    "mode http", "bind :80", "default_backend app", "use_backend app if { path_beg /api }",
    "server s1 10.0.0.1:8080 check", "timeout client 30s", "timeout server 1m", "timeout connect 5s",
    "maxconn 100", "option httplog", "acl is_api path_beg /api", "acl bad! path_beg /x",
    "http-request deny if !is_api", "balance roundrobin", 'http-response set-header X-Test "a b"',
    "http-response set-header X-Esc \\x41\\x4", 'description "${HOME}"', 'description "${1X}"',
    'description "${HOME"', "description 'single quoted'", 'description "unterminated',
    "description 'unterminated", "description a\\ b\\#c # comment", "nameserver ns1 10.0.0.53:53",
    "total-max-size 4", "size 32768", "user alice insecure-password secret", "server-template s 2 10.0.0.2:80", "command /bin/true",
    "errorfile 503 /dev/null", "log 10.0.0.2:514 local0", ".if 0", ".if 1", ".elif 1", ".else", ".endif", "description " + " ".join(["w"] * 70),
]  # fmt: skip
HAPROXY_SECTION = st.builds(
    lambda head, body: head + "\n" + "".join(f"    {line}\n" for line in body),
    st.sampled_from(HAPROXY_HEADERS),
    st.lists(st.sampled_from(HAPROXY_BODY), max_size=5),
)
HAPROXY_TEXT = st.lists(HAPROXY_SECTION, min_size=1, max_size=4).map("".join)

HAPROXY_ALERT = re.compile(r"\[ALERT\].*?parsing \[[^\]]*?:(\d+)\]\s*:?\s*(.*)", re.IGNORECASE)
HAPROXY_SYNTAX = re.compile(
    "|".join(
        [
            r"unmatched (quote|brace)",
            r"hexadecimal sequence",
            r"environment variable name",
            r"too many words",
            r"Missing LF on last line",
            r"nul char",
            r"'\.(endif|else|elif)'",
            r"non-terminated '\.if'",
            r"out of section",
            r"expects an <id> argument",
            r"missing name for",
            r"same name as",
            r"another server named",
            r"already exists",
            r"Duplicate cache name",
            r"'(global|namespace_list|traces)' cannot handle unexpected argument",
            r"is not permitted in",
            r"please use the 'bind' keyword",
            r"defaults section '.*' not found",
        ]
    ),
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def haproxy_binary() -> str:
    return require_binary("haproxy")


HAPROXY_ANY_ALERT = re.compile(r"\[ALERT\][^:]*: config : (.*)")
HAPROXY_SUMMARY = re.compile(r"Error\(s\) found in configuration file|Fatal errors found in configuration")


def haproxy_alerts(binary: str, folder: Path, data: bytes) -> list[tuple[int, str]]:
    """haproxy's ALERTs as (line, message); 0 for an alert that names no line (a check made
    when a section ends, such as a cache without a size), leaving out the closing summary."""
    (folder / "haproxy.cfg").write_bytes(data)
    done = subprocess.run(
        [binary, "-c", "-f", "haproxy.cfg"], cwd=folder, capture_output=True, timeout=TIMEOUT, check=False
    )
    alerts = []
    for text in HAPROXY_ANY_ALERT.findall((done.stdout + done.stderr).decode("utf-8", "replace")):
        located = HAPROXY_ALERT.match("[ALERT] " + text)
        if located:
            alerts.append((int(located.group(1)), located.group(2)))
        elif not HAPROXY_SUMMARY.search(text):
            alerts.append((0, text))
    return alerts


@ORACLE_SETTINGS
@given(data=either(HAPROXY_TEXT))
def test_haproxy_parse_errors_are_haproxy_alerts(data: bytes, haproxy_binary: str, tmp_path: Path) -> None:
    source = source_of(tmp_path, "haproxy.cfg", data, "haproxy")
    if source is None:
        return  # not text: a scan reports the file as such
    alerts = haproxy_alerts(haproxy_binary, tmp_path, data)
    ours: dict[int, str] = {}
    for finding in haproxy.parse(source).findings:
        if finding.rule_id != "infralint-parse-error" or finding.span.line is None:
            continue
        line = finding.span.line
        if "never closed with '.endif'" in finding.message:
            # haproxy names the line it stopped reading at (the last one, unless an error
            # stopped it earlier); we name the `.if` left open
            last = source.text.count("\n") + (not source.text.endswith("\n"))
            line = next((number for number, text in alerts if "non-terminated '.if'" in text), last)
        ours.setdefault(line, finding.message)
    alert_lines = {line for line, _ in alerts}
    for line, message in ours.items():
        # One error can hide another from haproxy: a section with an error is dropped (and with
        # it the name a later duplicate would clash with), and servers are compared after the
        # whole file is read, which a fatal error anywhere prevents.
        hidden = any(earlier < line for earlier in alert_lines) or (alerts and "another server" in message)
        assert line in alert_lines or hidden, (line, message, alerts)
    for line, message in alerts:
        if HAPROXY_SYNTAX.search(message):
            # After a misspelled section header (or one a byte order mark spoils) we skip its
            # lines; haproxy reads them into the section before, where they raise alerts of their own.
            skipped = any(
                ours_line < line and ("unknown section" in text or "byte order mark" in text)
                for ours_line, text in ours.items()
            )
            assert line in ours or skipped, f"haproxy: {message!r} at line {line}; our parse errors: {ours}"


# -- nginx ----------------------------------------------------------------------------------

NGINX_ORACLE_TEXT = NGINX_TEXT.filter(lambda text: text.startswith("events {}\n")).map(
    lambda text: (
        text.replace("http://api:8000", "http://127.0.0.1:8000")
        .replace("server api:80", "server 127.0.0.2:80")
        .replace("http://backend", "http://127.0.0.3:8080")
        .replace("http://x", "http://127.0.0.4")
        .replace("/var/log/x.log", "logs/x.log")
    )
)
NGINX_EMERG = re.compile(r"\[emerg\] (?:\d+#\d+: )?(?P<reason>.*?)(?: in (?P<file>\S+):(?P<line>\d+))?$", re.M)
NGINX_SYNTAX = re.compile(
    r'unexpected "|unexpected end of file|is not terminated by ";"|has no opening "\{"'
    r'|directive is not allowed here|invalid number of arguments in|it must be "on" or "off"'
)
NGINX_GAPS = re.compile(r'unknown directive "(?!\ufeff)|directive is duplicate')


@pytest.fixture(scope="module")
def nginx_binary() -> str:
    return require_binary("nginx")


def nginx_verdict(binary: str, folder: Path, data: bytes) -> tuple[bool, str, int | None]:
    """(accepted, reason, line) of `nginx -t` on DATA as the main config, run in FOLDER."""
    (folder / "logs").mkdir(exist_ok=True)
    (folder / "nginx.conf").write_bytes(data)
    command = [binary, "-t", "-q", "-c", str(folder / "nginx.conf"), "-p", f"{folder}/"]
    command += ["-e", str(folder / "logs" / "error.log"), "-g", f"pid {folder / 'nginx.pid'}; user root root;"]
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-rn", "true"], capture_output=True, check=False).returncode == 0:
        command = [unshare, "-rn", *command]
    done = subprocess.run(command, capture_output=True, timeout=TIMEOUT, check=False)
    stderr = done.stderr.decode("utf-8", "replace")
    if done.returncode == 0:
        return True, "", None
    match = NGINX_EMERG.search(stderr)
    assert match is not None, stderr[-500:]
    return False, match.group("reason"), int(match.group("line")) if match.group("line") else None


def _one_statement(text: str, first: int, last: int) -> bool:
    """Whether lines FIRST..LAST can be one statement: none before LAST ends one."""
    return not any(char in line for line in text.split("\n")[first - 1 : last - 1] for char in ";{}")


@ORACLE_SETTINGS
@given(data=either(NGINX_ORACLE_TEXT))
def test_nginx_accepts_exactly_what_we_accept(data: bytes, nginx_binary: str, tmp_path: Path) -> None:
    source = source_of(tmp_path, "nginx.conf", data, "nginx")
    if source is None or "\x00" in source.text:
        return
    errors = [
        f
        for f in nginx.parse(source).findings
        if f.rule_id == "infralint-parse-error" and f.span.path == "nginx.conf" and f.span.line is not None
    ]
    ours = sorted(f.span.line for f in errors if f.span.line is not None)
    accepted, reason, line = nginx_verdict(nginx_binary, tmp_path, data)
    if accepted:
        assert not ours, f"nginx accepts; we report parse errors at {ours}"
        return
    if line is None:
        return  # a refusal about the whole file (a missing file, a certificate): not the parser's
    if "unexpected end of file" in reason:
        # nginx names the end; we name what was left open there (a quote, a brace, a statement)
        assert ours, f"nginx: {reason!r}; we report no parse error"
        return
    first = min(errors, key=lambda f: (f.span.line, f.span.col or 0), default=None)
    if first is not None and first.span.line is not None and first.span.line < line:
        if first.message.startswith(reason):
            return  # the same error: nginx names the statement's last line, we its first
        assert _one_statement(source.text, first.span.line, line), (first.message, ours, line, reason)
    if NGINX_SYNTAX.search(reason) and not NGINX_GAPS.search(reason):
        near = [ours_line for ours_line in ours if ours_line == line or _one_statement(source.text, ours_line, line)]
        assert near, f"nginx: {reason!r} at line {line}; our parse errors are at {ours}"


# -- Redis -----------------------------------------------------------------------------------

ACL_TOKENS = [
    "on", "off", "nopass", "resetpass", "reset", "allkeys", "allcommands", "nocommands", "clearselectors", "~*",
    "~cache:*", "%R~k", "%X~k", "%~k", "&*", ">secret", "<secret", "<other", "#" + "a" * 64, "#abc", "!" + "a" * 64,
    "+@all", "-@dangerous", "+get", "+get|", "+nosuch|", "-config|set", "(~k +get)", "(on)", "(~k", "+@all)", "x",
    "resetkeys", "allchannels", "&x", "resetchannels", "(~* ~k)", "(",
]  # fmt: skip
REDIS_LINES = st.one_of(
    st.sampled_from(
        [
            "port 6379", "bind 127.0.0.1 -::1", "bind 0.0.0.0", 'requirepass "s3cret"', "maxmemory 1gb",
            "maxmemory 100mb", "maxmemory 1.5gb", "maxmemory-policy allkeys-lru", "maxmemory-policy lru",
            "save 900 1", 'save ""', "save 900", "appendonly yes", "appendonly maybe", "protected-mode no",
            "timeout 0", "tcp-keepalive 300", "databases 16", "# a comment", "", "maxmemroy 1gb",
            "client-output-buffer-limit pubsub 32mb 8mb 60", "replicaof 10.0.0.1 6379", "replicaof no one",
            "slaveof 10.0.0.1", 'requirepass "unterminated', "requirepass 'single", 'bind "127.0.0.1"x',
            "port 6379 # trailing", "search.timeout 500", "search.timeout", "MAXMEMORY 512Mb", "hz 10",
        ]
    ),
    st.builds(
        lambda name, rules: " ".join(["user", name, *rules]),
        st.sampled_from(["alice", "bob", "default"]),
        st.lists(st.sampled_from(ACL_TOKENS), max_size=4),
    ),
    st.builds(
        lambda old, new: f"rename-command {old} {new}",
        st.sampled_from(["CONFIG", "FLUSHALL", "config", "admin-config", "CONFIGG"]),
        st.sampled_from(['""', "admin-config", "CONFIG", "cfg", "get"]),
    ),
)  # fmt: skip
REDIS_TEXT = st.lists(REDIS_LINES, min_size=1, max_size=10).map(lambda lines: "\n".join(lines) + "\n")
# What redis-server refuses that we cannot know: renaming a command it does not have (our table
# holds the commands of 7.0, and a name missing from it may be a later release's command).
REDIS_GAPS = re.compile(r"No such command in rename-command")
REDIS_REFUSAL = re.compile(r"FATAL CONFIG FILE ERROR.*?at line (\d+)\n>>> .*?\n(.*?)\n", re.DOTALL)


@pytest.fixture(scope="module")
def redis_binary() -> str:
    return require_binary("redis-server")


def redis_refusal(binary: str, folder: Path, data: bytes) -> tuple[int, str] | None:
    """(line, reason) where redis-server stops loading the config; None when it loads."""
    config = folder / "redis.conf"
    config.write_bytes(data)
    quiet = ["--port", "0", "--tls-port", "0", "--unixsocket", "", "--daemonize", "no", "--dir", str(folder)]
    done = subprocess.run(
        [binary, str(config), *quiet, "--logfile", ""], capture_output=True, timeout=TIMEOUT, check=False
    )
    output = (done.stdout + done.stderr).decode("utf-8", "replace")
    match = REDIS_REFUSAL.search(output)
    if match:
        return int(match.group(1)), match.group(2)
    assert "Configuration loaded" in output, output[-500:]
    return None


def redis_problems(source: SourceFile) -> list[int]:
    """Lines of our parse errors and unknown directives (a module config without its module is
    refused only at start-up, after the load the oracle runs)."""
    result = redis.parse(source)
    lines = [f.span.line for f in result.findings if f.rule_id == "infralint-parse-error"]
    context = RuleContext(Graph(), {})
    for node in result.nodes:
        for hit in unknown_directive(node, context):
            if "no loadmodule" not in hit.message:
                lines.append((hit.span or node.span).line)
    return sorted(line for line in lines if line is not None)


@ORACLE_SETTINGS
@given(data=either(REDIS_TEXT))
def test_redis_refuses_exactly_where_we_report(data: bytes, redis_binary: str, tmp_path: Path) -> None:
    source = source_of(tmp_path, "redis.conf", data, "redis")
    if source is None:
        return
    ours = redis_problems(source)
    theirs = redis_refusal(redis_binary, tmp_path, data)
    if theirs is not None and REDIS_GAPS.search(theirs[1]):
        assert not ours or ours[0] >= theirs[0], (theirs, ours)
        return
    assert (ours[0] if ours else None) == (theirs[0] if theirs else None), (theirs, ours)


def test_the_generators_reach_both_verdicts(redis_binary: str, haproxy_binary: str, tmp_path: Path) -> None:
    """The properties are only as good as what they are fed: both servers accept some of the
    generated configs and refuse others."""
    verdicts: dict[str, set[bool]] = {"redis": set(), "haproxy": set()}

    @settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
    @given(redis_text=REDIS_TEXT, haproxy_text=HAPROXY_TEXT)
    def collect(redis_text: str, haproxy_text: str) -> None:
        verdicts["redis"].add(redis_refusal(redis_binary, tmp_path, redis_text.encode()) is None)
        alerts: Any = haproxy_alerts(haproxy_binary, tmp_path, haproxy_text.encode())
        verdicts["haproxy"].add(not alerts)

    collect()
    assert verdicts == {"redis": {True, False}, "haproxy": {True, False}}
