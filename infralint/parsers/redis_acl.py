"""Just enough of Redis ACL rules (`user <name> <rule> ...` lines) to answer two questions:
can a client log in as a user without a password, and may that user run a given command?

Only flags are kept, never the passwords or hashes themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# ACL categories of the commands the dangerous-commands rule looks at (Redis 7 command tables).
COMMAND_CATEGORIES: dict[str, frozenset[str]] = {
    "flushall": frozenset({"keyspace", "write", "slow", "dangerous"}),
    "flushdb": frozenset({"keyspace", "write", "slow", "dangerous"}),
    "config": frozenset({"admin", "slow", "dangerous"}),
    "debug": frozenset({"admin", "slow", "dangerous"}),
    "keys": frozenset({"keyspace", "read", "slow", "dangerous"}),
}


@dataclass
class AclUser:
    name: str
    enabled: bool = False
    nopass: bool = False
    passwords: int = 0  # how many passwords or hashes; the values are never kept
    command_rules: list[str] = field(default_factory=list)  # +@all, -flushall ... in order

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
    user = AclUser("default", enabled=True, command_rules=["+@all"])
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
        user.enabled, user.nopass, user.passwords = False, False, 0
        user.command_rules = ["-@all"]
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
    """A `user` line's arguments with passwords and hashes replaced (for attrs and messages)."""
    return args[:1] + [arg[0] + "<redacted>" if arg[:1] in (">", "<", "#", "!") else arg for arg in args[1:]]
