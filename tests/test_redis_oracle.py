"""The installed redis-server is the oracle for the Redis parser and its directive table.

`redis-server FILE --port 0` loads the file and exits right after "Configuration loaded" (nothing
to listen on), or prints "FATAL CONFIG FILE ERROR" for a line it refuses. Every run is bounded
by a timeout and the process is always reaped.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest
from conftest import require_binary

from infralint.checks.redis import unknown_directive
from infralint.graph.model import Graph
from infralint.parsers.redis import parse
from infralint.parsers.redis_directives import DIRECTIVES, MODULE_CONFIG, Directive
from infralint.rules.meta import RuleContext
from infralint.source import SourceFile

TIMEOUT = 10


@pytest.fixture(scope="module")
def redis_server() -> str:
    return require_binary("redis-server")


@pytest.fixture(scope="module")
def installed_version(redis_server: str) -> tuple[int, ...]:
    out = subprocess.run([redis_server, "--version"], capture_output=True, text=True, timeout=TIMEOUT).stdout
    match = re.search(r"v=(\d+)\.(\d+)", out)
    assert match, out
    return (int(match.group(1)), int(match.group(2)))


def _run(binary: str, args: list[str], timeout: float = TIMEOUT) -> str:
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"{binary} did not exit within {timeout}s:\n{output}")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return output


def load(binary: str, text: str, folder: Path, sentinel: bool = False) -> tuple[bool, str]:
    """(accepted, output) of redis-server loading TEXT as its config (listening nowhere)."""
    config = folder / "oracle.conf"
    config.write_text(text, encoding="utf-8")
    mode = ["--sentinel"] if sentinel else []
    quiet = ["--port", "0", "--tls-port", "0", "--unixsocket", "", "--daemonize", "no", "--dir", str(folder)]
    output = _run(binary, [binary, str(config), *mode, *quiet, "--logfile", ""])
    accepted = "Configuration loaded" in output and "FATAL CONFIG FILE ERROR" not in output
    return accepted, output


def starts(binary: str, text: str, folder: Path) -> tuple[bool, str]:
    """(started, output) of redis-server running TEXT on a Unix socket: the checks made after
    the config is loaded (module configs without their module) refuse only a real start."""
    config = folder / "start.conf"
    config.write_text(text, encoding="utf-8")
    sock_path = folder / "start.sock"
    arguments = ["--port", "0", "--tls-port", "0", "--unixsocket", str(sock_path), "--daemonize", "no"]
    arguments += ["--dir", str(folder), "--save", "", "--appendonly", "no", "--logfile", ""]
    process = subprocess.Popen([binary, str(config), *arguments], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    started = False
    try:
        deadline = time.monotonic() + TIMEOUT
        while not started and process.poll() is None and time.monotonic() < deadline:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock, contextlib.suppress(OSError):
                sock.connect(os.fspath(sock_path))
                started = True
            time.sleep(0.02)
    finally:
        running = process.poll() is None
        if running:
            process.kill()
        output = process.communicate(timeout=TIMEOUT)[0].decode("utf-8", "replace")
        with contextlib.suppress(FileNotFoundError):
            sock_path.unlink()
    if not started and running:
        pytest.fail(f"redis-server neither started nor exited within {TIMEOUT}s:\n{output}")
    return started, output


def quote(arg: str) -> str:
    if arg and not re.search(r"[\s\"'\\]", arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sample_line(directive: Directive, folder: Path) -> str:
    args = []
    for arg in directive.sample:
        if arg == "{dir}":
            arg = str(folder)
        elif arg == "{include}":
            included = folder / "included.conf"
            included.write_text("# included by the oracle config\nhz 10\n", encoding="utf-8")
            arg = str(included)
        args.append(quote(arg))
    return " ".join([directive.name, *args])


def ours(text: str, folder: Path) -> list[str]:
    """Our verdicts on a config: parse errors and unknown directives (empty when we accept it)."""
    source = SourceFile("oracle.conf", str(folder / "oracle.conf"), text, "redis", root=str(folder))
    result = parse(source)
    problems = [f"{f.rule_id}: {f.message}" for f in result.findings if f.rule_id == "infralint-parse-error"]
    context = RuleContext(Graph(), {})
    for node in result.nodes:
        problems += [f"redis-unknown-directive: {hit.message}" for hit in unknown_directive(node, context)]
    return problems


def _server_rows(installed: tuple[int, ...]) -> tuple[list[Directive], list[Directive], list[Directive]]:
    """(rows the installed server must accept, newer rows (version skew), Sentinel-only rows)."""
    checked, newer, sentinel = [], [], []
    for directive in DIRECTIVES.values():
        if directive.sentinel_only:
            sentinel.append(directive)
        elif directive.version > installed:
            newer.append(directive)
        else:
            checked.append(directive)
    return checked, newer, sentinel


def test_every_directive_in_the_table_is_accepted(
    redis_server: str, installed_version: tuple[int, ...], tmp_path: Path
) -> None:
    checked, newer, sentinel = _server_rows(installed_version)
    lines = [sample_line(directive, tmp_path) for directive in checked]
    text = "\n".join(lines) + "\n"
    accepted, output = load(redis_server, text, tmp_path)
    if not accepted:  # find the culprits one line at a time
        refused = [line for line in lines if not load(redis_server, line + "\n", tmp_path)[0]]
        pytest.fail(f"redis-server refuses table rows: {refused}\n{output[-2000:]}")
    assert ours(text, tmp_path) == []
    assert len(checked) > 200 and sentinel  # the table is not silently empty
    print(f"{len(checked)} directives verified, {len(newer)} skipped as newer than {installed_version}")


def test_newer_directives_are_real_version_skew(
    redis_server: str, installed_version: tuple[int, ...], tmp_path: Path
) -> None:
    """A row marked newer than the installed server is one it does not know (else the mark is wrong)."""
    _, newer, _ = _server_rows(installed_version)
    for directive in newer:
        accepted, output = load(redis_server, sample_line(directive, tmp_path) + "\n", tmp_path)
        assert not accepted and "Bad directive" in output, f"{directive.name} is marked {directive.since}"
        assert ours(sample_line(directive, tmp_path) + "\n", tmp_path) == []


def test_sentinel_rows_load_in_sentinel_mode(
    redis_server: str, installed_version: tuple[int, ...], tmp_path: Path
) -> None:
    _, _, sentinel = _server_rows(installed_version)
    text = "".join(sample_line(directive, tmp_path) + "\n" for directive in sentinel)
    accepted, output = load(redis_server, text, tmp_path, sentinel=True)
    assert accepted, output
    assert parse(SourceFile("s.conf", str(tmp_path / "s.conf"), text, "redis")).nodes[0].kinds == ("redis/sentinel",)


REJECTING_MARKERS = re.compile(r"#\s*expect(?:@\d+)?:.*\b(redis-unknown-directive|infralint-parse-error)\b")


def test_fixtures_agree_with_redis_server(
    redis_server: str, installed_version: tuple[int, ...], tmp_path: Path
) -> None:
    """A fixture loads in redis-server exactly when it expects no unknown directive or parse error
    (lines newer than the installed server are left out: version skew)."""
    fixtures = Path(__file__).resolve().parent.parent / "fixtures"
    disagreements = []
    for path in sorted(fixtures.glob("redis-*/**/*.conf")):
        text = path.read_text(encoding="utf-8")
        kept = []
        for line in text.splitlines():
            directive = DIRECTIVES.get(line.split(None, 1)[0].lower()) if line.strip() else None
            if directive is None or directive.version <= installed_version:
                kept.append(line)
        config = "\n".join(kept) + "\n"
        sentinel = path.name == "sentinel.conf"
        accepted, output = load(redis_server, config, tmp_path, sentinel=sentinel)
        names = [line.split(None, 1)[0].lower() for line in kept if line.strip() and not line.lstrip().startswith("#")]
        if accepted and not sentinel and "loadmodule" not in names and any(map(MODULE_CONFIG.match, names)):
            # A module's config without its module is refused at start-up, not at load; other
            # start-up checks (an aclfile, a module that is not on this machine) are not the
            # fixtures' concern.
            accepted, output = starts(redis_server, config, tmp_path)
        if accepted == bool(REJECTING_MARKERS.search(text)):
            disagreements.append(f"{path.relative_to(fixtures)}: {'accepted' if accepted else output[-300:]}")
    assert disagreements == []


@pytest.mark.parametrize(
    ("line", "suggested"),
    [
        ("maxmemroy 1gb", "maxmemory"),
        ("slave-read-onyl yes", "slave-read-only"),
        ("apendonly yes", "appendonly"),
        ("protected_mode no", "protected-mode"),
        ("enable-turbo-mode yes", None),
    ],
)
def test_a_misspelled_directive_is_rejected_by_both(
    redis_server: str, tmp_path: Path, line: str, suggested: str | None
) -> None:
    accepted, output = load(redis_server, line + "\n", tmp_path)
    assert not accepted and "Bad directive" in output
    problems = ours(line + "\n", tmp_path)
    assert len(problems) == 1 and problems[0].startswith("redis-unknown-directive")
    if suggested:
        assert f"did you mean '{suggested}'" in problems[0]
    else:
        assert "did you mean" not in problems[0]


# Lines redis-server refuses or accepts, and whether our parser must report a problem.
VERDICT_LINES = [
    ('bind "127.0.0.1', False),
    ("bind '127.0.0.1", False),
    ('bind "127.0.0.1"x', False),
    ("port 6379 # the default", False),
    ("maxmemory 1.5gb", False),
    ("maxmemory -1", False),
    ("maxmemory 1 gb", False),
    ("appendonly on", False),
    ("maxmemory-policy lru", False),
    ("save 900", False),
    ("save 0 1", False),
    ("port abc", False),
    ("unixsocketperm 999", False),
    ("replicaof 10.0.0.1", False),
    ("client-output-buffer-limit normal 0 0", False),
    ("rename-command flushall", False),
    ("requirepass", False),
    ("include", False),
    ("maxmemory 1GB", True),
    ("MAXMEMORY 512Mb", True),
    ("maxmemory 10b", True),
    ("maxmemory ''", True),
    ('requirepass "with \\"quotes\\" and \\x41 hex"', True),
    ("requirepass 'single \\' quoted'", True),
    ('bind 127.0.0.1 "::1"', True),
    ("  # an indented comment", True),
    ("appendonly YES", True),
    ("maxmemory-policy ALLKEYS-LRU", True),
    ('save ""', True),
    ("save 900 1 300 10", True),
    ("slaveof no one", True),
    ("replicaof NO ONE", True),
    ("replicaof no body", False),
    ("replicaof 10.0.0.1 65536", False),
    ("replicaof redis-master 6379", True),
    ("maxmemory-clients 5%", True),
    ("client-output-buffer-limit pubsub 32mb 8mb 60 replica 256mb 64mb 60", True),
    ("user bob on >pw ~* +@all", True),
    ("loadmodule /nonexistent/module.so", True),
    ("shutdown-on-sigterm nosave now", True),
    ("list-max-ziplist-entries 512", True),
    ("maxmemory\r1gb", True),  # a lone CR is a blank to redis-server, not a line break
    ("maxmemory 1gb\rfoo", False),
]


def test_parser_agrees_with_redis_server_on_each_line(redis_server: str, tmp_path: Path) -> None:
    disagreements = []
    for line, redis_accepts in VERDICT_LINES:
        accepted, _ = load(redis_server, line + "\n", tmp_path)
        if accepted != redis_accepts:
            disagreements.append(f"{line!r}: redis-server {'accepted' if accepted else 'refused'} (table is wrong)")
        problems = ours(line + "\n", tmp_path)
        if bool(problems) == accepted:
            disagreements.append(f"{line!r}: redis-server {'accepted' if accepted else 'refused'}, we said {problems}")
    assert disagreements == []


def refused_line(output: str) -> int | None:
    """The line redis-server names in its FATAL CONFIG FILE ERROR report."""
    match = re.search(r"FATAL CONFIG FILE ERROR.*?at line (\d+)", output, re.S)
    return int(match.group(1)) if match else None


def our_lines(text: str, folder: Path) -> list[int | None]:
    source = SourceFile("oracle.conf", str(folder / "oracle.conf"), text, "redis", root=str(folder))
    return [f.span.line for f in parse(source).findings if f.rule_id == "infralint-parse-error"]


# Configs refused for what an earlier line did: redis-server keeps state while it loads.
STATEFUL_CONFIGS = [
    "user alice on >pw ~* +@all\nport 6379\nuser alice off\n",
    "user alice on\nuser Alice on\n",
    'rename-command CONFIG ""\nport 6379\nrename-command config ""\n',
    "rename-command CONFIG admin-config\nrename-command admin-config cfg\n",
    'rename-command CONFIG x\nrename-command x CONFIG\nrename-command CONFIG ""\n',
    "rename-command GET fetch\nrename-command SET fetch\n",
    "rename-command CONFIG CONFIG\nrename-command CONFIG fetch\n",
    "port 6379\nmymodule.setting\n",
    "rename-command CONFIG get\n",
    'rename-command GET ""\nrename-command CONFIG get\n',
    "rename-command CONFIG Flushall\n",
    "mymodule.setting 1\n",
]


@pytest.mark.parametrize("text", STATEFUL_CONFIGS, ids=lambda text: text.replace("\n", " / "))
def test_state_kept_while_loading_agrees_with_redis_server(redis_server: str, tmp_path: Path, text: str) -> None:
    accepted, output = load(redis_server, text, tmp_path)
    expected = [] if accepted else [refused_line(output)]
    assert our_lines(text, tmp_path) == expected, output[-300:]


# ACL rules in a `user` line, judged by redis-server as it loads the config (no expectations
# written here: the server decides, and the set holds both verdicts).
HASH = "a" * 64
ACL_RULES = [
    "ON", "Off", "skip-sanitize-payload", "sanitize-payload", "nopass", "resetpass", "reset", "allkeys",
    "resetkeys", "allchannels", "resetchannels", "allcommands", "nocommands", "clearselectors", "~", "~*",
    "%R~k", "%W~k", "%RW~k", "%WR~k", "%X~k", "%~k", "%R", "%r~k", "%RWX~k", "%R~", "%", "%~", "%rw", "&",
    "&*", ">", "<", "<nope", ">p <p", "reset >p", f"#{HASH}", f"#{HASH.upper()}", f"!{HASH}", f"#{HASH} !{HASH}",
    "!abc", "#abc", "+", "-", "+@", "+@nosuchcat", "+@all", "-@all", "+get|x", "-get|x", "+nosuch|x", "+|x",
    "-@", "+@all|x", "+get|x|y", "+get|", "(", ")", "()", "(+get", "(on)", "(~k +get)", "(+get ~k)",
    "(allkeys +get)", "(resetkeys)", "(nocommands)", "(nopass)", "(clearselectors)", "(>p)", "(~k) (~j)", "(~k",
    "(%R~k)", "(&x)", ") (", "(~k)x", "(~k)(", "x", "allkeys(", "~* ~*", "allkeys ~*", "~* ~x", "~x ~*",
    "allkeys resetkeys ~x", "&* &x", "allchannels &x", "&x &*", "~* %R~x", "%R~* ~x", "~* reset ~x", "(~* ~x)",
    "~* (~x)", "allkeys (allkeys ~x)", "~* %RW~x", "allchannels resetchannels &x", "%RW~* ~x", "allkeys %R",
    "allkeys ~* %R~*", "~* ~", '""', "on '' off", "(~k (~k +get)", "((~k))", "(~k ()", "(( ~k)", "(~k (x)",
    "(~k x)", "(~k ( )", "(~k (~x", "(~k ~l)", "(x~k)", "(~k (+get)", "(~k (~)", "(~k ~k))", "(~k (( )",
    "+{get|", "-get|", "+GET|", "+nosuch|", "(+get|)", "+config|",
]  # fmt: skip


def test_acl_rules_agree_with_redis_server(redis_server: str, tmp_path: Path) -> None:
    verdicts = {}
    disagreements = []
    for rules in ACL_RULES:
        text = f"user alice {rules}\n"
        accepted, _ = load(redis_server, text, tmp_path)
        verdicts[rules] = accepted
        if bool(our_lines(text, tmp_path)) == accepted:
            disagreements.append(f"{rules!r}: redis-server {'accepts' if accepted else 'refuses'}, we do not")
    assert disagreements == []
    assert sum(verdicts.values()) >= 20 and len(verdicts) - sum(verdicts.values()) >= 20


def test_a_byte_order_mark_is_refused_by_both(redis_server: str, tmp_path: Path) -> None:
    from infralint import discover

    path = tmp_path / "redis.conf"
    path.write_bytes(b"\xef\xbb\xbfport 6379\nmaxmemory 1gb\n")
    accepted, output = load(redis_server, path.read_text(encoding="utf-8"), tmp_path)
    assert not accepted and refused_line(output) == 1
    source = discover.read(str(path), str(tmp_path), 1 << 20)
    assert isinstance(source, SourceFile) and source.bom
    errors = [(f.span.line, f.span.col) for f in parse(source).findings if f.rule_id == "infralint-parse-error"]
    assert errors == [(1, 1)]


# --- effective values: what we compute equals what the running server reports --------------


def _command(sock: socket.socket, *args: str) -> list[str]:
    """Send one command (RESP) and read a flat array reply."""
    payload = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
    sock.sendall(payload.encode())
    reader = sock.makefile("rb")
    header = reader.readline()
    assert header.startswith(b"*"), header
    values = []
    for _ in range(int(header[1:])):
        size = int(reader.readline()[1:])
        values.append(reader.read(size + 2)[:-2].decode())
    return values


@contextlib.contextmanager
def running(binary: str, config: Path, folder: Path):
    """A server on a Unix socket only (no TCP port), killed on the way out."""
    sock_path = folder / "redis.sock"
    arguments = ["--port", "0", "--unixsocket", str(sock_path), "--daemonize", "no", "--dir", str(folder)]
    process = subprocess.Popen(
        [binary, str(config), *arguments, "--logfile", ""],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            # The socket file appears when bound, a moment before the server listens on it.
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(TIMEOUT)
            try:
                sock.connect(os.fspath(sock_path))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                sock.close()
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("redis-server did not start")
                time.sleep(0.02)
        with sock:
            yield sock
    finally:
        process.kill()
        process.wait(timeout=TIMEOUT)


EFFECTIVE = """\
bind 0.0.0.0
protected-mode no
bind 127.0.0.1 -::1
save 900 1
save 300 10 60 10000
maxmemory 1gb
maxmemory 3k
maxmemory-policy allkeys-lru
appendonly no
protected-mode yes
rename-command FLUSHALL ""
"""


def test_the_command_table_holds_only_commands_the_server_has(redis_server: str, tmp_path: Path) -> None:
    """BUILTIN_COMMANDS decides rename clashes and `+cmd|` rules: every name in it must be a
    command of the installed server (which may have more: later releases add commands)."""
    from infralint.parsers.redis_commands import BUILTIN_COMMANDS

    config = tmp_path / "empty.conf"
    config.write_text("", encoding="utf-8")
    with running(redis_server, config, tmp_path) as sock:
        installed = {name for name in _command(sock, "COMMAND", "LIST") if "|" not in name}
    assert len(BUILTIN_COMMANDS) >= 200
    assert sorted(BUILTIN_COMMANDS - installed) == []


def test_effective_values_match_the_running_server(redis_server: str, tmp_path: Path) -> None:
    config = tmp_path / "effective.conf"
    config.write_text(EFFECTIVE, encoding="utf-8")
    facts = parse(SourceFile("effective.conf", str(config), EFFECTIVE, "redis", root=str(tmp_path))).nodes[0].facts
    with running(redis_server, config, tmp_path) as sock:

        def get(name: str) -> str:
            return _command(sock, "CONFIG", "GET", name)[1]

        assert get("bind").split() == facts["bind"] == ["127.0.0.1", "-::1"]  # the last bind line wins
        assert [int(n) for n in get("save").split()] == [n for point in facts["save"] for n in point]
        assert int(get("maxmemory")) == facts["maxmemory"] == 3000  # k is 1000, kb would be 1024
        assert get("maxmemory-policy") == facts["maxmemory_policy"]
        assert (get("protected-mode") == "yes") is facts["protected_mode"] is True
        assert (get("appendonly") == "yes") is facts["appendonly"] is False
    assert facts["rename_commands"] == {"flushall": "disabled"}


@pytest.mark.parametrize(
    "text",
    [
        "bind 127.0.0.1\n",
        "requirepass foo\n",
        "requirepass foo\nuser default on nopass ~* +@all\n",  # an explicit nopass beats requirepass
        "user default on nopass ~* +@all\nrequirepass foo\n",
        "user default on ~* +@all\nrequirepass foo\n",  # requirepass gives the declared user its password
        "user default on ~* +@all\n",  # no password and no nopass: nobody logs in as default
        "user alice on >x ~* +@all\n",  # other users leave the default user open
        "user default off\n",
        "user default reset on nopass\n",
    ],
)
def test_default_user_openness_matches_the_running_server(redis_server: str, tmp_path: Path, text: str) -> None:
    config = tmp_path / "acl.conf"
    config.write_text(text, encoding="utf-8")
    facts = parse(SourceFile("acl.conf", str(config), text, "redis")).nodes[0].facts
    we_say_open = facts["default_user"]["enabled"] and facts["default_user"]["nopass"]
    with running(redis_server, config, tmp_path) as sock:
        sock.sendall(b"PING\r\n")
        reply = sock.recv(200)
    # Open means no AUTH needed (a NOPERM reply still came from a logged-in client).
    assert (not reply.startswith(b"-NOAUTH")) is we_say_open, reply


DRYRUN = {
    "flushall": ["FLUSHALL"],
    "flushdb": ["FLUSHDB"],
    "config": ["CONFIG", "SET", "maxmemory", "1"],
    "debug": ["DEBUG", "OBJECT", "k"],
    "keys": ["KEYS", "*"],
}


@pytest.mark.parametrize(
    "rules",
    [
        "on nopass ~* &* +@all",
        "on nopass ~* &* +@all -@dangerous",
        "on nopass ~* &* +@all -flushall -config|set",
        "on nopass ~* &* -@all +@read +@write",
        "on nopass ~* &* allcommands -@admin",
        "on nopass ~* &* nocommands +keys +flushdb",
        "on nopass ~* &* +@all -@keyspace +flushdb",
    ],
)
def test_command_permissions_match_acl_dryrun(redis_server: str, tmp_path: Path, rules: str) -> None:
    text = f"user default {rules}\nuser admin on >admin-pw ~* &* +@all\n"
    config = tmp_path / "acl.conf"
    config.write_text(text, encoding="utf-8")
    may_run = parse(SourceFile("acl.conf", str(config), text, "redis")).nodes[0].facts["default_user_may_run"]
    with running(redis_server, config, tmp_path) as sock:
        sock.sendall(b"AUTH admin admin-pw\r\n")
        assert sock.recv(100).startswith(b"+OK")
        for command, args in DRYRUN.items():
            payload = "".join(f"${len(a)}\r\n{a}\r\n" for a in ["ACL", "DRYRUN", "default", *args])
            sock.sendall(f"*{len(args) + 3}\r\n{payload}".encode())
            reply = sock.recv(500)
            assert reply.startswith(b"+OK") is may_run[command], (command, reply)
