"""Just enough of Redis ACL rules (`user <name> <rule> ...` lines) to answer two questions:
can a client log in as a user without a password, and may that user run a given command?

Only flags are kept, never the passwords or hashes themselves.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from infralint.parsers.redis_commands import BUILTIN_COMMANDS

# ACL categories of the commands the dangerous-commands rule looks at (Redis 7 command tables;
# for CONFIG and MODULE, those of the subcommands that change the server).
_ADMIN = frozenset({"admin", "slow", "dangerous"})
COMMAND_CATEGORIES: dict[str, frozenset[str]] = {
    "flushall": frozenset({"keyspace", "write", "slow", "dangerous"}),
    "flushdb": frozenset({"keyspace", "write", "slow", "dangerous"}),
    "config": _ADMIN,
    "debug": _ADMIN,
    "keys": frozenset({"keyspace", "read", "slow", "dangerous"}),
    "shutdown": _ADMIN,
    "module": _ADMIN,
    "replicaof": _ADMIN,
    "slaveof": _ADMIN,
    "migrate": frozenset({"keyspace", "write", "slow", "dangerous"}),
}


@dataclass
class AclUser:
    name: str
    enabled: bool = False
    nopass: bool = False
    passwords: int = 0  # how many passwords or hashes; the values are never kept
    command_rules: list[str] = field(default_factory=list)  # +@all, -flushall ... in order
    all_keys: bool = False  # ~*, allkeys or %RW~* outside a selector, not reset since

    @property
    def all_commands(self) -> bool:
        """Every command: +@all (or allcommands) with nothing taken away after it."""
        granted = False
        for rule in self.command_rules:
            if rule.lower() == "+@all":
                granted = True
            elif rule[0] == "-":
                granted = False
        return granted

    @property
    def full_access(self) -> bool:
        """An enabled user that may run every command on every key: an administrator."""
        return self.enabled and self.all_commands and self.all_keys

    @property
    def has_password(self) -> bool:
        return self.passwords > 0

    @property
    def passwordless_login(self) -> bool:
        """An enabled user anyone can log in as (the default user needs no AUTH at all)."""
        return self.enabled and self.nopass

    def may_run(self, command: str) -> bool:
        """Whether the rules grant the whole command (a subcommand rule restricts it)."""
        categories = COMMAND_CATEGORIES.get(command, frozenset())
        covers = {"@all", command, *(f"@{category}" for category in categories)}
        allowed = False
        for rule in self.command_rules:
            sign, target = rule[0], rule[1:].lower()
            if target in covers:
                allowed = sign == "+"
            elif target.startswith(command + "|") and sign == "-":
                allowed = False  # part of it is taken away: it is restricted
        return allowed

    def summary(self) -> dict[str, object]:
        return {"name": self.name, "enabled": self.enabled, "nopass": self.nopass, "has_password": self.has_password}


def implicit_default_user(requirepass: str) -> AclUser:
    """The default user when no `user default` line exists: on, all commands, and no password
    unless `requirepass` gives it one."""
    user = AclUser("default", enabled=True, command_rules=["+@all"], all_keys=True)
    if requirepass:
        user.passwords = 1
    else:
        user.nopass = True
    return user


def parse_user(args: list[str]) -> AclUser:
    """`user alice on >secret ~* +@all` -> AclUser; Redis resets a user before applying a line."""
    user = AclUser(args[0])
    selector_depth = 0
    for rule in args[1:]:
        if rule.startswith("("):
            selector_depth += 1
        in_selector = selector_depth > 0
        if rule.endswith(")") and selector_depth:
            selector_depth -= 1
        _apply(user, rule.strip("()") if in_selector else rule, in_selector)
    return user


def _apply(user: AclUser, rule: str, in_selector: bool) -> None:
    lower = rule.lower()
    if not rule:
        return
    if in_selector:
        # A selector adds permissions on top of the root ones; only command grants matter here.
        if rule[0] == "+":
            user.command_rules.append(rule)
        return
    if lower == "on":
        user.enabled = True
    elif lower == "off":
        user.enabled = False
    elif lower == "nopass":
        user.nopass, user.passwords = True, 0
    elif lower == "resetpass":
        user.nopass, user.passwords = False, 0
    elif lower == "reset":
        user.enabled, user.nopass, user.passwords, user.all_keys = False, False, 0, False
        user.command_rules = ["-@all"]
    elif lower == "allkeys" or rule == "~*" or _ALL_KEYS_PERMISSION.fullmatch(rule):
        user.all_keys = True
    elif lower == "resetkeys":
        user.all_keys = False
    elif rule[0] in ">#":
        user.passwords += 1
        user.nopass = False
    elif rule[0] in "<!":
        user.passwords = max(0, user.passwords - 1)
    elif lower == "allcommands":
        user.command_rules.append("+@all")
    elif lower == "nocommands":
        user.command_rules.append("-@all")
    elif rule[0] in "+-":
        user.command_rules.append(rule)


def redact(args: list[str]) -> list[str]:
    """A `user` line's arguments with passwords and hashes replaced (for attrs and messages), and
    any word that is no ACL rule too: it may be a password written without its '>'."""
    return args[:1] + [_redacted(arg) for arg in args[1:]]


def _redacted(arg: str) -> str:
    bare = arg.strip("()")
    if bare[:1] in (">", "<", "#", "!"):
        return arg[0] + "<redacted>" if arg[0] not in "()" else "(<redacted>)"
    if not bare or bare.lower() in _FLAGS or bare[:1] in ("~", "&", "%", "+", "-"):
        return arg
    return "<redacted>"


# What redis-server accepts in a `user` line when it loads its config (checked against 7.0):
# flags, key/channel patterns, passwords and hashes, command rules, and `( ... )` selectors,
# which take patterns, command rules and the selector flags only. Command and category names
# are not checked at load time.
_SELECTOR_FLAGS = frozenset({"allkeys", "resetkeys", "allchannels", "resetchannels", "allcommands", "nocommands"})
_FLAGS = _SELECTOR_FLAGS | {"on", "off", "skip-sanitize-payload", "sanitize-payload", "nopass", "resetpass", "reset"}
_FLAGS |= {"clearselectors"}
_HASH = re.compile(r"[0-9a-f]{64}")
_PERMISSIONS = re.compile(r"%[RWrw]+(~.*)?", re.S)
_ALL_KEYS_PERMISSION = re.compile(r"%(RW|WR)~\*", re.I)  # read and write on every key


def acl_problem(args: list[str]) -> tuple[int, str] | None:
    """(index in ARGS, why) of the first rule of a `user NAME rule...` line that redis-server
    refuses; None when it loads. Passwords are compared as SHA-256 digests and not kept."""
    hashes: set[str] = set()
    root = _Patterns()
    index = 1
    while index < len(args):
        rule = args[index]
        if rule.startswith("("):
            text, end = _selector_text(args, index)
            if text is None:
                return index, "opens a selector '(' that is never closed"
            selector = _Patterns()
            for part in text[1:-1].split():
                if not _selector_rule(part):
                    allowed = "only patterns, command rules and key/channel/command flags"
                    return index, f"a selector holds a rule it does not allow ({allowed})"
                problem = selector.apply(part)
                if problem is not None:
                    return index, problem
            index = end + 1
            continue
        problem = _root_rule_problem(rule, hashes) or root.apply(rule)
        if problem is not None:
            return index, problem
        index += 1
    return None


def _selector_text(args: list[str], start: int) -> tuple[str | None, int]:
    """The `( ... )` selector that begins at ARGS[START], joined, and the index of its last
    argument; (None, _) when it is never closed. As redis-server does, an argument that opens
    another `(` on the way starts the selector afresh (the text before it is dropped)."""
    parts = [args[start]]
    index = start
    while not parts[-1].endswith(")"):
        index += 1
        if index >= len(args):
            return None, index
        word = args[index]
        if word.startswith("(") and not word.endswith(")"):
            parts = [word]
        else:
            parts.append(word)
    return " ".join(parts), index


class _Patterns:
    """Key and channel patterns of one selector (the root or a `( ... )`): after `~*` or
    `allkeys` another key pattern is refused, and after `&*` or `allchannels` another channel
    pattern, until resetkeys/resetchannels/reset."""

    def __init__(self) -> None:
        self.all_keys = False
        self.all_channels = False

    def apply(self, rule: str) -> str | None:
        lower = rule.lower()
        if lower in ("reset", "resetkeys"):
            self.all_keys = False
        if lower in ("reset", "resetchannels"):
            self.all_channels = False
        if lower == "allkeys":
            self.all_keys = True
        elif lower == "allchannels":
            self.all_channels = True
        elif rule[:1] == "~" or rule[:1] == "%":
            if self.all_keys and rule != "~*":
                return "a key pattern after '~*' or 'allkeys' (use 'resetkeys' first)"
            self.all_keys = self.all_keys or rule == "~*"
        elif rule[:1] == "&":
            if self.all_channels and rule != "&*":
                return "a channel pattern after '&*' or 'allchannels' (use 'resetchannels' first)"
            self.all_channels = self.all_channels or rule == "&*"
        return None


def _selector_rule(rule: str) -> bool:
    return (
        rule[:1] in ("~", "&")
        or _PERMISSIONS.fullmatch(rule) is not None
        or _command_rule(rule)
        or rule.lower() in _SELECTOR_FLAGS
    )


def _command_rule(rule: str) -> bool:
    """`+get`, `-@admin`, `+config|get`. An empty subcommand to allow (`+get|`) is refused when
    the command exists; an unknown command is let through at load time (a module may add it)."""
    if rule[:1] not in ("+", "-"):
        return False
    command, bar, subcommand = rule[1:].rpartition("|")
    return not (rule[0] == "+" and bar and not subcommand and command.lower() in BUILTIN_COMMANDS)


def _root_rule_problem(rule: str, hashes: set[str]) -> str | None:
    lower = rule.lower()
    if not rule or lower in _FLAGS:  # an empty rule ("") changes nothing
        if lower in ("nopass", "resetpass", "reset"):
            hashes.clear()
        return None
    first = rule[:1]
    if first in ("~", "&") or _command_rule(rule) or _PERMISSIONS.fullmatch(rule):
        return None
    if first in (">", "<"):
        digest = hashlib.sha256(rule[1:].encode("utf-8", "surrogatepass")).hexdigest()
    elif first in ("#", "!"):
        digest = rule[1:]
        if not _HASH.fullmatch(digest):
            return "a password hash must be exactly 64 lowercase hexadecimal characters"
    else:  # not echoed: it may be a password written without its '>'
        return "not an ACL rule (syntax error; a password needs a '>' before it)"
    if first in (">", "#"):
        hashes.add(digest)
        return None
    if digest not in hashes:
        return "removes a password the user does not have"
    hashes.discard(digest)
    return None
