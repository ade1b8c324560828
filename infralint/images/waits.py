"""Which services a compose service's own start-up waits for, before it serves.

A container whose entrypoint loops until its database answers (`until pg_isready -h db; do sleep
1; done`) is held back by itself: `depends_on` waiting only for the database's container to start
loses nothing there. What is read, never run:

- for an image built from the scan (compose `build:`, or an `image:` whose repository's last part
  names the one folder of the scan holding a Dockerfile, as `ghcr.io/acme/worker` and
  `docker/worker/Dockerfile`): the ENTRYPOINT and CMD (or the compose `entrypoint`/`command`
  that replace them), the shell scripts they run, found through the COPY that put them in the
  image or the bind mount that puts them in the container, and the scripts those run or source,
  two steps deep; a supervisord config the command names brings its programs' commands;
- for a published image infralint knows (known.yaml, `waits_for`): the variables its own start-up
  reads the hosts it waits for from.

A wait is a `while`/`until` loop whose condition or body runs a readiness probe (`pg_isready`,
`mysqladmin`/`mariadb-admin ping|status`, `redis-cli ... ping`, `nc -z`, `curl`/`wget` of a URL,
`mongosh --eval`), or a retry helper (`wait-for-it`, `wait-for`, `dockerize -wait`). The host it
probes is read after the script's own assignments, the service's `environment` and `${VAR:-default}`
defaults; a variable assigned in several places gives each value (an `if`/`else` choosing between
a replica and the project's own service waits for the latter by default). A probe of a MySQL
socket waits for the service that shares the socket's named volume. Python or Node one-liners are
not read. The result is plain data in the service's facts (`start_waits`); waited_for() matches
it to a dependency.
"""

from __future__ import annotations

import os
import posixpath
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from infralint.images import built, in_tree
from infralint.images.known import Wait, parse_reference
from infralint.images.known import lookup as known_lookup

Read = Callable[[str], "str | None"]  # a path relative to the scan root -> its text

MAX_SCRIPT_CHARS = 256 * 1024  # a start-up script longer than this is read in part
MAX_DEPTH = 2  # scripts run or sourced by the entry script, and by those
MAX_SCRIPTS = 16  # scripts read per service
MAX_VARIANTS = 16  # expansions of one loop's text
MAX_LOOP_LINES = 40  # lines of one loop read for its probe
UNKNOWN = "\x00"  # stands for a variable without a value: a host holding it is no host

_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh"})
_WRAPPERS = frozenset({"tini", "tini-static", "dumb-init", "exec", "nohup", "--"})
_USER_WRAPPERS = frozenset({"gosu", "su-exec"})  # followed by the user to run as
_NOT_SHELL = re.compile(r"^#!.*\b(python[0-9.]*|node|perl|ruby|php)\b")
_ASSIGNMENT = re.compile(
    r"^\s*(?:export\s+|readonly\s+|(?:local|declare|typeset)(?:\s+-[a-zA-Z]+)*\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$"
)
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-=+?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_LOOP_START = re.compile(r"^(?:[^#]*?[;&|{]\s*|\s*)(while|until)\b")
_LOOP_OPEN = re.compile(r"(?:^|[;&|{(]|\bdo|\bthen|\belse)\s*(while|until|for|select)\b")
_LOOP_CLOSE = re.compile(r"(?:^|[;&|\s])done\b")
_COMMAND_SPLIT = re.compile(r"\$\(|`|;|&&|\|\||\||\(|\)|\[\[|\]\]|\bthen\b|\bdo\b|\n")
_RUNNERS = frozenset({"source", ".", "exec", *_SHELLS})
_HELPERS = ("wait-for-it", "wait-for", "dockerize")
_PROBE_WORDS = frozenset({"while", "until", "if", "!", "command", "exec", "then", "do", "elif"})
_NC_VALUE_FLAGS = frozenset("wipsqWxXIOTV")


@dataclass
class _Reading:
    """What is read for one service: its variables, what is reachable in its image, the result."""

    environment: dict[str, str | None]
    resolve: Callable[[str], str | None]  # path inside the container -> path in the scan
    read: Read
    probes: list[dict[str, Any]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)


# --- facts ---------------------------------------------------------------------------------------


def start_waits(facts: dict[str, Any], root: str, read_absolute: Callable[[str], str | None]) -> list[dict[str, Any]]:
    """The readiness probes a compose service's start-up runs: {"tool", "hosts", "sockets",
    "file", "line", "source"} each (file and line: where the wait is written; source: the
    documentation of a known image)."""

    def read(relative: str) -> str | None:
        return read_absolute(os.path.join(root, *relative.split("/")))

    environment = _environment(facts)
    image = facts.get("image")
    known = known_lookup(image) if not facts.get("build") else None
    waits = known.waits_for if known else ()
    probes = [_known_probe(wait, known.waits_source or known.source, environment) for wait in waits] if known else []
    probes = [probe for probe in probes if probe["hosts"]]
    build = facts.get("image_build")
    if not isinstance(build, dict) and not facts.get("build") and known is None:
        files = facts.get("files") or ()
        build = _built_in_tree(image, str(files[0]) if files else "", root, read)
    # Without a Dockerfile of the scan, only the compose `entrypoint`/`command` are read (a
    # script they run may be bind-mounted).
    image_build: dict[str, Any] = build if isinstance(build, dict) else {}
    reading = _Reading(environment, lambda inside: _source_of(inside, image_build, facts, read), read)
    for words in _start_commands(facts, image_build):
        _read_command(reading, words, _dockerfile_place(image_build), 0)
    return probes + [probe for probe in reading.probes if probe not in probes]


def _environment(facts: dict[str, Any]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name, entry in (facts.get("environment") or {}).items():
        value = entry.get("value") if isinstance(entry, dict) else None
        found[str(name)] = None if value is None or isinstance(value, (dict, list)) else str(value)
    return found


def _known_probe(wait: Wait, source: str, environment: dict[str, str | None]) -> dict[str, Any]:
    value = environment.get(wait.env) if wait.env in environment else None
    value = value if value else wait.default
    hosts = [host for host in [_host(value)] if host] if value else []
    return {"tool": wait.probe, "hosts": hosts, "sockets": [], "file": None, "line": None, "source": source}


def _built_in_tree(image: Any, compose_file: str, root: str, read: Read) -> dict[str, Any] | None:
    """The build facts of the Dockerfile that builds IMAGE in the scan: the one Dockerfile whose
    folder is named as the repository's last part (an organisation's own image, not a Docker
    Official Image, not one infralint knows), in the top folder of the scan that holds the compose
    file (a scan of several repositories matches each within its own). None when there is none,
    or several."""
    reference = parse_reference(image) if isinstance(image, str) else None
    if reference is None or "/" not in reference.repository:
        return None
    name = reference.repository.rsplit("/", 1)[1]
    top = compose_file.split("/", 1)[0] + "/" if "/" in compose_file else ""
    matches = [
        path
        for path in in_tree.dockerfiles(root)
        if path.startswith(top) and posixpath.basename(posixpath.dirname(path)) == name
    ]
    if len(matches) != 1:
        return None
    text = read(matches[0])
    if text is None:
        return None
    return built.describe(text, matches[0], posixpath.dirname(matches[0]))


def _dockerfile_place(build: dict[str, Any]) -> tuple[str | None, int | None]:
    start = build.get("start") or {}
    return build.get("dockerfile"), start.get("entrypoint_line") or start.get("cmd_line")


def _start_commands(facts: dict[str, Any], build: dict[str, Any]) -> list[list[str]]:
    """What the container runs: the entrypoint with the command as its arguments (`sh -c` takes
    its script from the command), and the command alone (an entry script ends in `exec "$@"`).
    A compose `entrypoint` replaces the image's and drops its CMD; a compose `command` replaces
    the CMD."""
    start = build.get("start") or {}
    entrypoint, command = facts.get("entrypoint"), facts.get("command")
    if entrypoint is None:
        entrypoint = start.get("entrypoint")
        command = command if command is not None else start.get("cmd")
    entrypoint, command = list(entrypoint or []), list(command or [])
    return [entrypoint + command, command] if entrypoint else [command]


# --- paths inside the container -> files of the scan ---------------------------------------------


def _source_of(inside: str, build: dict[str, Any], facts: dict[str, Any], read: Read) -> str | None:
    """The file of the scan at path INSIDE of the container: a bind mount of the service, else
    the last COPY of the build that puts a file there."""
    inside = posixpath.normpath(inside)
    for mount in facts.get("bind_mounts") or ():
        if not mount.get("inside_root") or not isinstance(mount.get("target"), str):
            continue
        target = posixpath.normpath(mount["target"])
        if inside == target:
            return str(mount["source"])
        if inside.startswith(target.rstrip("/") + "/"):
            return posixpath.join(str(mount["source"]), inside[len(target.rstrip("/")) + 1 :])
    for copy in reversed(build.get("copies") or ()):
        for candidate in _copied_candidates(inside, copy):
            if read(candidate) is not None:
                return candidate
    return None


def _copied_candidates(inside: str, copy: dict[str, Any]) -> Iterator[str]:
    destination = str(copy.get("destination") or "")
    if not destination.startswith("/") or "$" in destination:
        return  # relative to a WORKDIR, which is not followed
    folder = posixpath.normpath(destination)
    for source in reversed(copy.get("sources") or ()):
        source = str(source)
        if any(c in source for c in "*?["):
            if posixpath.dirname(inside) == folder:
                candidate = posixpath.join(posixpath.dirname(source), posixpath.basename(inside))
                if re.fullmatch(_glob(source), candidate):
                    yield candidate
            continue
        if inside == folder:
            yield source  # the file copied to that very name
        if posixpath.dirname(inside) == folder and posixpath.basename(inside) == posixpath.basename(source):
            yield source  # a file copied into that folder
        if inside.startswith(folder.rstrip("/") + "/"):
            yield posixpath.join(source, inside[len(folder.rstrip("/")) + 1 :])  # below a folder copied there


def _glob(pattern: str) -> str:
    return "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in pattern)


# --- commands and scripts ------------------------------------------------------------------------


def _read_command(reading: _Reading, words: list[str], place: tuple[str | None, int | None], depth: int) -> None:
    """Follow one command: a script it runs, `sh -c TEXT`, or supervisord's programs."""
    words = _unwrapped(words)
    if not words:
        return
    program = posixpath.basename(words[0])
    if program in _SHELLS:
        rest = words[1:]
        if "-c" in rest and rest.index("-c") + 1 < len(rest):
            _read_shell(reading, rest[rest.index("-c") + 1], place, depth)
            return
        words = [word for word in rest if not word.startswith("-")]
        if not words:
            return
    if program == "supervisord":
        _read_supervisord(reading, words, depth)
        return
    if words[0].startswith("/"):
        _read_script(reading, words[0], depth)


def _unwrapped(words: list[str]) -> list[str]:
    """WORDS without the init and user-switching wrappers in front (`tini --`, `gosu app`)."""
    index = 0
    while index < len(words):
        name = posixpath.basename(words[index])
        if name in _WRAPPERS or (words[index].startswith("-") and index > 0):
            index += 1
        elif name in _USER_WRAPPERS:
            index += 2
        else:
            break
    return words[index:]


def _read_script(reading: _Reading, inside: str, depth: int) -> None:
    if depth > MAX_DEPTH or inside in reading.seen or len(reading.seen) >= MAX_SCRIPTS:
        return
    reading.seen.add(inside)
    source = reading.resolve(inside)
    text = reading.read(source) if source else None
    if source is None or text is None or _NOT_SHELL.match(text):
        return
    _read_shell(reading, text[:MAX_SCRIPT_CHARS], (source, 1), depth, own_file=True)


def _read_supervisord(reading: _Reading, words: list[str], depth: int) -> None:
    config = _option(words[1:], "-c", "--configuration")
    candidates = config or ["/etc/supervisord.conf", "/etc/supervisor/supervisord.conf"]
    for inside in candidates:
        source = reading.resolve(inside)
        text = reading.read(source) if source else None
        if text is None:
            continue
        for command in _supervisord_programs(text[:MAX_SCRIPT_CHARS]):
            _read_command(reading, _split(command), (source, None), depth)
        return


def _supervisord_programs(text: str) -> Iterator[str]:
    in_program = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            in_program = stripped.lower().startswith("[program:")
        elif in_program:
            key, equals, value = stripped.partition("=")
            if equals and key.strip().lower() == "command":
                yield value.strip()


def _read_shell(
    reading: _Reading, text: str, place: tuple[str | None, int | None], depth: int, own_file: bool = False
) -> None:
    """The waits in shell TEXT, and the scripts it runs. PLACE: where TEXT is written (its own
    file, whose lines count from 1, or the Dockerfile or config line that holds it)."""
    lines = _logical_lines(text)
    scope = _assignments(lines)
    for index, (number, line) in enumerate(lines):
        where = (place[0], number if own_file else place[1])
        if _LOOP_START.match(line):
            for text in _waiting_parts(_loop_text(lines, index)):
                _add_probes(reading, text, scope, where, in_loop=True)
        elif any(helper in line for helper in _HELPERS):
            _add_probes(reading, line, scope, where, in_loop=False)
        _follow_runs(reading, line, scope, depth)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(line number, text) with continuation lines joined and comment lines dropped."""
    found: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
            if line.lstrip().startswith("#"):
                continue
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        found.append((start, " ".join([*pending, line])))
        pending = []
    if pending:
        found.append((start, " ".join(pending)))
    return found


def _assignments(lines: list[tuple[int, str]]) -> dict[str, list[str]]:
    scope: dict[str, list[str]] = {}
    for _, line in lines:
        match = _ASSIGNMENT.match(line)
        if match is None:
            continue
        words = _split(match.group(2))
        value = words[0] if words else ""
        values = scope.setdefault(match.group(1), [])
        if value not in values:
            values.append(value)
    return scope


def _loop_text(lines: list[tuple[int, str]], index: int) -> str:
    """The loop that starts at line INDEX, up to its `done` (nested loops counted)."""
    depth = 0
    taken: list[str] = []
    for _, line in lines[index : index + MAX_LOOP_LINES]:
        taken.append(line)
        depth += len(_LOOP_OPEN.findall(line)) - len(_LOOP_CLOSE.findall(line))
        if depth <= 0:
            break
    return "\n".join(taken)


def _waiting_parts(loop: str) -> list[str]:
    """The parts of a loop whose probe makes it a wait: the condition of `until` (loops until it
    answers), of `while` when negated (`while ! probe`, `!= "PONG"`: `while probe` loops while
    it answers, as a monitor does), and the body of a loop that can `break` out."""
    match = _LOOP_START.match(loop)
    if match is None:
        return []
    rest = loop[match.end() :]
    condition, _, body = _split_condition(rest)
    parts = [condition] if match.group(1) == "until" or "!" in condition else []
    if re.search(r"(?:^|[;&|\s])break\b", body):
        parts.append(body)
    return parts


def _split_condition(rest: str) -> tuple[str, str, str]:
    """(condition, "do", body) of a loop's text after its keyword."""
    found = re.search(r"(?:^|[;\n]|\s)do\b", rest)
    if found is None:
        return rest, "", ""
    return rest[: found.start()], "do", rest[found.end() :]


def _follow_runs(reading: _Reading, line: str, scope: dict[str, list[str]], depth: int) -> None:
    """A script the line runs by its path, or sources (`. /x.sh`, `source`, `bash /x.sh`, `exec`)."""
    for variant in _expand(line.strip(), scope, reading.environment)[:2]:
        words = _split(variant)
        while words and (posixpath.basename(words[0]) in _RUNNERS or words[0].startswith("-")):
            words = words[1:]
        if words and words[0].startswith("/") and UNKNOWN not in words[0]:
            _read_script(reading, words[0], depth + 1)


def _add_probes(
    reading: _Reading, text: str, scope: dict[str, list[str]], where: tuple[str | None, int | None], in_loop: bool
) -> None:
    for variant in _expand(text, scope, reading.environment):
        for words in _commands(variant):
            found = _probe(words) if in_loop else _helper_probe(words)
            if found is None:
                continue
            tool, hosts, sockets = found
            hosts = [h for h in (_host(host) for host in hosts) if h]
            sockets = [s for s in sockets if UNKNOWN not in s and s.startswith("/")]
            if not hosts and not sockets:
                continue
            probe = {
                "tool": tool,
                "hosts": hosts,
                "sockets": sockets,
                "file": where[0],
                "line": where[1],
                "source": None,
            }
            if probe not in reading.probes:
                reading.probes.append(probe)


# --- variables -----------------------------------------------------------------------------------


def _expand(text: str, scope: dict[str, list[str]], environment: dict[str, str | None]) -> list[str]:
    """TEXT with its variables replaced by each value they may have (bounded); a variable without
    a value becomes UNKNOWN. Single-quoted text is left as written, as the shell does."""
    variants = [text]
    for _ in range(64):
        pending = [v for v in variants if _first_variable(v) is not None]
        if not pending:
            break
        variant = pending[0]
        match = _first_variable(variant)
        assert match is not None
        values = _values(match, scope, environment)
        replaced = [variant[: match.start()] + value + variant[match.end() :] for value in values]
        variants = [v for v in variants if v is not variant]
        variants = (variants + replaced)[:MAX_VARIANTS]
    return [_VARIABLE.sub(UNKNOWN, v) for v in variants]


def _first_variable(text: str) -> re.Match[str] | None:
    quoted = False
    for match in _VARIABLE.finditer(text):
        quoted = text.count("'", 0, match.start()) % 2 == 1
        if not quoted:
            return match
    return None


def _values(match: re.Match[str], scope: dict[str, list[str]], environment: dict[str, str | None]) -> list[str]:
    name = match.group(1) or match.group(4)
    operator, word = match.group(2), match.group(3) or ""
    values = list(scope.get(name, ()))
    outside = environment.get(name)
    if outside is not None and outside not in values:
        values.append(outside)
    if operator and operator.endswith("+"):
        return [word, ""]
    if operator and operator.lstrip(":") in ("-", "="):
        set_values = [v for v in values if v] if operator.startswith(":") else values
        return set_values or [word]
    # Empty, an unquoted word vanishes and the next one takes its place (`-h $EMPTY -p 6379`).
    return [value or UNKNOWN for value in values] or [UNKNOWN]


# --- probes --------------------------------------------------------------------------------------


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=True)
    except ValueError:
        return text.split()


def _commands(text: str) -> Iterator[list[str]]:
    """The simple commands of TEXT, as words, the loop and test keywords in front dropped."""
    for piece in _COMMAND_SPLIT.split(text):
        words = _split(piece)
        while words and (words[0] in _PROBE_WORDS or _is_assignment(words[0])):
            words = words[1:]
        if words and posixpath.basename(words[0]) == "timeout":
            words = [w for w in words[1:] if not w.startswith("-")][1:]
        if words:
            yield words


def _is_assignment(word: str) -> bool:
    """`NAME=value` in front of a command."""
    return re.match(r"[A-Za-z_][A-Za-z0-9_]*=", word) is not None


def _probe(words: list[str]) -> tuple[str, list[str], list[str]] | None:
    """(tool, hosts, sockets) of a readiness probe; None for any other command."""
    tool, args = posixpath.basename(words[0]), words[1:]
    lowered = [arg.lower() for arg in args]
    if tool in ("mysqladmin", "mariadb-admin") and ("ping" in lowered or "status" in lowered):
        return tool, _option(args, "-h", "--host"), _option(args, "-S", "--socket")
    if tool == "pg_isready":
        return tool, _option(args, "-h", "--host"), []
    if tool == "redis-cli" and "ping" in lowered:
        return tool, _option(args, "-h", "--host") + _option(args, "-u", "--uri"), []
    if tool in ("nc", "netcat", "ncat") and any(
        a.startswith("-") and not a.startswith("--") and "z" in a for a in args
    ):
        return tool, _nc_host(args), []
    if tool in ("curl", "wget"):
        return tool, [arg for arg in args if re.match(r"https?://", arg)], []
    if tool in ("mongosh", "mongo") and "--eval" in args:
        return tool, _option(args, "--host", "--host") + [a for a in args if a.startswith("mongodb://")], []
    return _helper_probe(words)


def _helper_probe(words: list[str]) -> tuple[str, list[str], list[str]] | None:
    tool, args = posixpath.basename(words[0]), words[1:]
    if tool.startswith("wait-for-it"):
        positional = [arg for arg in args if ":" in arg and not arg.startswith("-")]
        return "wait-for-it", _option(args, "-h", "--host") + positional[:1], []
    if tool in ("wait-for", "wait-for.sh"):
        return "wait-for", [arg for arg in args if ":" in arg and not arg.startswith("-")][:1], []
    if tool == "dockerize" and "-wait" in args:
        return "dockerize", _option(args, "-wait", "-wait"), []
    return None


def _option(args: list[str], short: str, long: str) -> list[str]:
    """Values of an option: `-h host`, `-hhost`, `--host=host`, `--host host`."""
    found: list[str] = []
    for index, arg in enumerate(args):
        if arg in (short, long) and index + 1 < len(args):
            if not args[index + 1].startswith("-"):  # an empty variable left the value out
                found.append(args[index + 1])
        elif arg.startswith(long + "="):
            found.append(arg[len(long) + 1 :])
        elif len(short) == 2 and arg.startswith(short) and len(arg) > 2 and not arg.startswith("--"):
            found.append(arg[2:])
    return found


def _nc_host(args: list[str]) -> list[str]:
    index = 0
    while index < len(args):
        arg = args[index]
        if arg.startswith("-"):
            index += 2 if arg[-1] in _NC_VALUE_FLAGS and len(arg) == 2 else 1
            continue
        return [arg]
    return []


def _host(value: str) -> str | None:
    """The host a probe argument names (`db`, `db:5432`, `http://db:8080/health`,
    `redis://:pw@cache:6379/0`); None when a part of it is unknown."""
    text = value.strip().strip("\"'")
    if not text or UNKNOWN in text or "$" in text:
        return None
    if "://" in text:
        try:
            host = urlsplit(text).hostname
        except ValueError:
            return None
        return host.lower() if host else None
    host = text.rsplit("@", 1)[-1].split("/", 1)[0]
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return host.lower() or None


# --- rules ---------------------------------------------------------------------------------------


def waited_for(dependent: dict[str, Any], dependency: dict[str, Any]) -> dict[str, Any] | None:
    """The probe of DEPENDENT's start-up that waits for DEPENDENCY (both service facts): one
    naming it (service name, container_name or a network alias), or one of a socket in a named
    volume both mount. None when it does not wait for it."""
    names = {str(name).lower() for name in dependency.get("dns_names") or (dependency.get("service"),)}
    for probe in dependent.get("start_waits") or ():
        if names.intersection(probe.get("hosts") or ()):
            return dict(probe)
        if any(_shared_socket(socket, dependent, dependency) for socket in probe.get("sockets") or ()):
            return dict(probe)
    return None


def _shared_socket(socket: str, dependent: dict[str, Any], dependency: dict[str, Any]) -> bool:
    theirs = {mount.get("source") for mount in dependency.get("volume_mounts") or () if mount.get("source")}
    for mount in dependent.get("volume_mounts") or ():
        target = str(mount.get("target") or "").rstrip("/")
        if mount.get("source") in theirs and target and socket.startswith(target + "/"):
            return True
    return False
