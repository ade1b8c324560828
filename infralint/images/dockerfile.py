"""Read a Dockerfile into its build stages, never running anything.

What is kept is what infralint's rules need of the image a build produces: each stage's base
(`FROM image AS name`, with `ARG` defaults substituted), and its `HEALTHCHECK`, `EXPOSE`,
`USER`, `VOLUME`, `COPY`/`ADD`, `ENTRYPOINT` and `CMD` instructions with their lines. The syntax
handled:

- logical lines: a line ending in the escape character continues on the next one; comment
  lines and blank lines inside a continuation are dropped (as BuildKit does);
- parser directives at the top (`# escape=`` ` ``, `# syntax=...`);
- heredocs (`RUN <<EOF ... EOF`): their bodies are skipped, never read as instructions;
- JSON (exec) and shell forms of `HEALTHCHECK CMD`, `VOLUME`, `COPY` and `ADD`;
- `$VAR`, `${VAR}`, `${VAR:-default}` from `ARG`/`ENV` values known at that point.

Which stage is the image, and what a stage inherits from its base, is decided in
infralint/images/built.py.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$")
_HEREDOC = re.compile(r"<<(-?)\s*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")
_FLAG = re.compile(r"--([a-z][a-z0-9-]*)(?:=(\S*))?")
_HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, HEALTHCHECK ...
    args: str  # the text after the keyword, continuation lines joined with a space
    line: int  # 1-based line the instruction starts on


@dataclass(frozen=True)
class Healthcheck:
    line: int
    disabled: bool  # HEALTHCHECK NONE
    test: str  # the command as written ("" for NONE)


@dataclass(frozen=True)
class Port:
    port: int
    end: int
    protocol: str  # tcp or udp
    line: int


@dataclass(frozen=True)
class Copy:
    sources: tuple[str, ...]  # as written (relative to the build context unless from_stage)
    destination: str
    from_stage: str | None  # COPY --from=...: another stage or image, not the context
    line: int
    keyword: str  # COPY or ADD


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]  # exec form as written; the shell form is ("/bin/sh", "-c", text)
    line: int


@dataclass
class Stage:
    index: int
    base: str  # the FROM image after ARG substitution ("" when it cannot be read)
    base_written: str  # as written
    name: str | None  # lower case, as `AS name`
    line: int
    healthcheck: Healthcheck | None = None  # the stage's own last HEALTHCHECK
    ports: list[Port] = field(default_factory=list)
    unread_ports: int = 0  # EXPOSE entries that could not be read (an unknown variable)
    user: tuple[str, int] | None = None  # (value, line) of the stage's own last USER
    volumes: list[tuple[str, int]] = field(default_factory=list)
    copies: list[Copy] = field(default_factory=list)
    entrypoint: Command | None = None  # the stage's own last ENTRYPOINT
    cmd: Command | None = None  # the stage's own last CMD


@dataclass
class Dockerfile:
    stages: list[Stage]
    global_args: dict[str, str]  # ARG defaults before the first FROM

    def stage_named(self, name: str, before: int | None = None) -> Stage | None:
        """The stage called NAME (case-insensitive), among those before index BEFORE: a FROM
        or COPY --from names only stages defined earlier, which rules out cycles."""
        wanted = name.lower()
        for stage in self.stages[: before if before is not None else len(self.stages)]:
            if stage.name == wanted:
                return stage
        return None


# --- lines -> instructions -----------------------------------------------------------------------


def instructions(text: str) -> list[Instruction]:
    lines = text.splitlines()
    escape = "\\"
    found: list[Instruction] = []
    index = 0
    # Parser directives: only at the very top, before any other line.
    while index < len(lines):
        match = _DIRECTIVE.match(lines[index].strip())
        if match is None:
            break
        if match.group(1).lower() == "escape" and match.group(2) in ("\\", "`"):
            escape = match.group(2)
        index += 1
    while index < len(lines):
        stripped = lines[index].strip()
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        start = index
        parts, index = _logical_line(lines, index, escape)
        keyword, _, args = " ".join(parts).strip().partition(" ")
        keyword = keyword.upper()
        args = args.strip()
        if keyword in _HEREDOC_KEYWORDS:
            index = _skip_heredocs(lines, index, args)
        found.append(Instruction(keyword, args, start + 1))
    return found


def _logical_line(lines: list[str], index: int, escape: str) -> tuple[list[str], int]:
    """The physical lines of one instruction, continuation marks removed; the next index."""
    parts: list[str] = []
    while index < len(lines):
        line = lines[index].rstrip()
        index += 1
        stripped = line.strip()
        if parts and (not stripped or stripped.startswith("#")):
            continue  # blank and comment lines inside a continuation are not part of it
        if line.endswith(escape) and not line.endswith(escape * 2):
            parts.append(line[:-1].strip())
            continue
        parts.append(stripped)
        break
    return parts, index


def _skip_heredocs(lines: list[str], index: int, args: str) -> int:
    for strip_tabs, _, word in _HEREDOC.findall(args):
        while index < len(lines):
            line = lines[index].lstrip("\t") if strip_tabs else lines[index]
            index += 1
            if line.rstrip("\r") == word:
                break
    return index


# --- instructions -> stages ----------------------------------------------------------------------


def read(text: str, build_args: dict[str, str] | None = None) -> Dockerfile:
    """The stages of a Dockerfile; BUILD_ARGS override `ARG` defaults (compose `build.args`)."""
    given = dict(build_args or {})
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    scope: dict[str, str] = {}  # ARG/ENV values the current stage's instructions see
    for instruction in instructions(text):
        keyword, args = instruction.keyword, instruction.args
        if keyword == "FROM":
            stage = _stage(len(stages), args, instruction.line, global_args)
            stages.append(stage)
            scope = {}
        elif keyword == "ARG":
            target = scope if stages else global_args
            for name, default in _arg_definitions(args):
                if name in given:
                    target[name] = given[name]
                elif default is not None:
                    target[name] = substitute(default, target) or ""
                elif stages and name in global_args:
                    target[name] = global_args[name]  # `ARG NAME` in a stage brings in the global default
        elif not stages:
            continue  # nothing but ARG may come before the first FROM
        elif keyword == "ENV":
            scope.update(_env_definitions(args, scope))
        else:
            _stage_instruction(stages[-1], instruction, scope)
    return Dockerfile(stages, global_args)


def _stage(index: int, args: str, line: int, global_args: dict[str, str]) -> Stage:
    words = [word for word in args.split() if not word.startswith("--")]
    written = words[0] if words else ""
    name = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else None
    base = substitute(written, global_args)
    return Stage(index, base or "", written, name, line)


def _stage_instruction(stage: Stage, instruction: Instruction, scope: dict[str, str]) -> None:
    keyword, args, line = instruction.keyword, instruction.args, instruction.line
    if keyword == "HEALTHCHECK":
        stage.healthcheck = _healthcheck(args, line) or stage.healthcheck
    elif keyword == "EXPOSE":
        for word in args.split():
            port = _port(substitute(word, scope), line)
            if port is None:
                stage.unread_ports += 1
            else:
                stage.ports.append(port)
    elif keyword == "USER":
        stage.user = (substitute(args.split()[0], scope) or args.split()[0], line) if args.split() else None
    elif keyword == "VOLUME":
        stage.volumes += [(substitute(path, scope) or path, line) for path in _list_form(args)]
    elif keyword in ("COPY", "ADD"):
        copy = _copy(keyword, args, line, scope)
        if copy is not None:
            stage.copies.append(copy)
    elif keyword == "ENTRYPOINT":
        stage.entrypoint = _command(args, line)
    elif keyword == "CMD":
        stage.cmd = _command(args, line)


def _command(args: str, line: int) -> Command:
    """ENTRYPOINT or CMD: the JSON (exec) form as its words, the shell form run by /bin/sh -c."""
    text = args.strip()
    words = _json_words(text)
    if words is not None:
        return Command(tuple(words), line)
    return Command(("/bin/sh", "-c", text), line)


def _json_words(text: str) -> list[str] | None:
    """The words of an instruction's JSON (exec) form, or None when TEXT is not one."""
    if not text.startswith("["):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, list) and all(isinstance(item, str) for item in value) else None


def _healthcheck(args: str, line: int) -> Healthcheck | None:
    """None for a HEALTHCHECK without a command, which Docker refuses to build."""
    words = args.split(None, 1)
    while words and words[0].startswith("--"):
        words = words[1].split(None, 1) if len(words) > 1 else []
    if not words:
        return None
    if words and words[0].upper() == "NONE":
        return Healthcheck(line, True, "")
    test = words[1].strip() if len(words) > 1 and words[0].upper() == "CMD" else " ".join(words)
    return Healthcheck(line, False, test)


def _port(word: str | None, line: int) -> Port | None:
    if not word:
        return None
    number, _, protocol = word.partition("/")
    low, _, high = number.partition("-")
    if not low.isdecimal() or (high and not high.isdecimal()):
        return None
    return Port(int(low), int(high or low), (protocol or "tcp").lower(), line)


def _copy(keyword: str, args: str, line: int, scope: dict[str, str]) -> Copy | None:
    flags: dict[str, str] = {}
    rest = args
    while rest.startswith("--"):
        match = _FLAG.match(rest)
        if match is None:
            break
        flags[match.group(1)] = match.group(2) or ""
        rest = rest[match.end() :].lstrip()
    if _HEREDOC.search(rest):
        return None  # the file is written inline, nothing comes from the context
    paths = [substitute(path, scope) or path for path in _list_form(rest)]
    if len(paths) < 2:
        return None
    source = flags.get("from")
    return Copy(tuple(paths[:-1]), paths[-1], source.lower() if source else None, line, keyword)


def _list_form(args: str) -> list[str]:
    """Arguments in JSON form (`["a", "b"]`) or whitespace-separated (shell form)."""
    text = args.strip()
    words = _json_words(text)
    if words is not None:
        return words
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _arg_definitions(args: str) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    for word in _list_form(args):
        name, equals, default = word.partition("=")
        if name:
            found.append((name, default if equals else None))
    return found


def _env_definitions(args: str, scope: dict[str, str]) -> dict[str, str]:
    words = _list_form(args)
    if words and "=" not in words[0]:
        # The legacy `ENV NAME value with spaces` form.
        name, _, value = args.strip().partition(" ")
        return {name: substitute(value.strip(), scope) or ""}
    found: dict[str, str] = {}
    for word in words:
        name, equals, value = word.partition("=")
        if name and equals:
            found[name] = substitute(value, {**scope, **found}) or ""
    return found


def substitute(text: str, values: dict[str, str]) -> str | None:
    """TEXT with `$VAR`, `${VAR}` and `${VAR:-default}` replaced; None when a variable has no
    value and no default (the result would be a guess)."""
    unknown = False

    def replace(match: re.Match[str]) -> str:
        nonlocal unknown
        name = match.group(1) or match.group(5)
        value = values.get(name)
        colon, operator, word = match.group(2), match.group(3), match.group(4)
        # With a colon an empty value counts as unset, as in the shell.
        is_set = bool(value) if colon else value is not None
        if operator == "-":
            return value if is_set and value is not None else word
        if operator == "+":
            return word if is_set else ""
        if value is None:
            unknown = True
            return ""
        return value

    result = _VARIABLE.sub(replace, text)
    return None if unknown else result
