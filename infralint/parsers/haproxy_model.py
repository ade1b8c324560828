"""What HAProxy statements mean: addresses, bind and server lines, conditions, and the
effective settings of a proxy once its `defaults` section is applied."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from infralint.parsers.haproxy_lexer import Statement


def _words(text: str) -> list[str]:
    return text.split()


# Bind and server options that take a value; every other option is a flag.
BIND_VALUE_OPTIONS = frozenset(
    _words(
        """accept-netscaler-cip alpn backlog ca-file ca-ignore-err ca-sign-file ca-sign-pass ca-verify-file
    ciphers ciphersuites client-sigalgs crl-file crt crt-ignore-err crt-list curves default-crt ecdhe
    expose-fd gid group guid-prefix id idle-ping interface ktls label level maxconn mode mss name
    namespace nbconn nice npn ocsp-update process proto quic-cc-algo severity-output shards sigalgs
    ssl-max-ver ssl-min-ver tcp-ut thread tls-ticket-keys uid user verify"""
    )
)
SERVER_VALUE_OPTIONS = frozenset(
    _words(
        """addr agent-addr agent-inter agent-port agent-send alpn ca-file check-alpn check-proto check-sni
    ciphers ciphersuites client-sigalgs cookie crl-file crt curves downinter error-limit fall fastinter
    guid hash-key id init-addr init-state inter log-bufsize log-proto max-reuse maxconn maxqueue minconn
    namespace npn observe on-error on-marked-down on-marked-up pool-conn-name pool-low-conn
    pool-max-conn pool-purge-delay port proto proxy-v2-options redir resolve-net resolve-opts
    resolve-prefer resolvers rise shard sigalgs slowstart sni source ssl-max-ver ssl-min-ver tcp-ut
    track usesrc verify verifyhost weight ws"""
    )
)
# Prefixes that name a socket family rather than a host.
LOCAL_FAMILIES = frozenset({"unix", "abns", "abnsz", "fd", "sockpair"})
NETWORK_FAMILIES = frozenset(
    {
        "ipv4",
        "ipv6",
        "udp",
        "udp4",
        "udp6",
        "tcp",
        "tcp4",
        "tcp6",
        "quic4",
        "quic6",
        "rhttp",
        "mptcp",
        "mptcp4",
        "mptcp6",
    }
)
_PREFIX = re.compile(r"^([a-z0-9]+)@(.*)$")
_PORT = re.compile(r"^[+-]?\d+(?:-\d+)?$")


def parse_address(text: str) -> dict[str, Any]:
    """Split `[family@]host[:port]` the way haproxy reads it; port ranges keep their first port."""
    family = None
    rest = text
    match = _PREFIX.match(text)
    if match:
        family, rest = match.group(1), match.group(2)
    if family in LOCAL_FAMILIES or (family is None and text.startswith("/")):
        return {"address": text, "family": family or "unix", "host": None, "port": None, "local": True}
    host, port_text = _split_host_port(rest)
    port = _port_number(port_text)
    kind = family or _host_family(host)
    return {
        "address": text,
        "family": kind,
        "host": host or None,
        "port": port,
        "port_text": port_text,
        "local": False,
        "variable": "$" in text,
    }


def _split_host_port(text: str) -> tuple[str, str | None]:
    if text.startswith("["):  # [v6]:port
        close = text.find("]")
        if close != -1:
            after = text[close + 1 :]
            return text[1:close], after[1:] if after.startswith(":") else None
    if text.count(":") > 1:  # bare IPv6: the port follows the last colon when it is numeric
        head, _, tail = text.rpartition(":")
        if _PORT.match(tail) and _is_ip(head or "::"):
            return head or "::", tail
        return text, None
    host, sep, port = text.partition(":")
    return host, port if sep else None


def _port_number(text: str | None) -> int | None:
    if text is None or not text[:1].isdecimal():
        return None  # absent, a variable, or an offset such as +1
    digits = re.match(r"\d+", text)
    return int(digits.group()) if digits else None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _host_family(host: str) -> str:
    if not host or host == "*":
        return "any"
    try:
        version = ipaddress.ip_address(host).version
    except ValueError:
        return "hostname"
    return f"ipv{version}"


def is_loopback(address: dict[str, Any]) -> bool:
    """True for addresses no other machine can reach: loopback IPs, localhost, local sockets."""
    if address.get("local"):
        return True
    host = address.get("host")
    if not host or "$" in host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def options(words: list[str], valued: frozenset[str]) -> tuple[dict[str, Any], dict[str, int]]:
    """Options of a bind/server line as {name: value or True}, and the word index of each."""
    found: dict[str, Any] = {}
    where: dict[str, int] = {}
    index = 0
    while index < len(words):
        name = words[index]
        where[name] = index
        if name in valued and index + 1 < len(words):
            found[name] = words[index + 1]
            index += 2
            continue
        found[name] = True
        index += 1
    return found, where


def split_condition(words: list[str]) -> tuple[list[str], dict[str, Any] | None]:
    """Cut `... if|unless <condition>` off a rule; anonymous ACLs in braces stay whole."""
    depth = 0
    for index, word in enumerate(words):
        if word == "{":
            depth += 1
        elif word == "}":
            depth = max(0, depth - 1)
        elif depth == 0 and word in ("if", "unless"):
            terms = words[index + 1 :]
            return words[:index], {"polarity": word, "terms": terms, "acls": referenced_acls(terms)}
    return words, None


def referenced_acls(terms: list[str]) -> list[str]:
    """Names of the ACLs a condition uses (anonymous `{ ... }` ACLs and operators left out)."""
    names = []
    depth = 0
    for term in terms:
        if term == "{":
            depth += 1
        elif term == "}":
            depth = max(0, depth - 1)
        elif depth == 0 and term not in ("or", "||", "!"):
            names.append(term.lstrip("!"))
    return [name for name in names if name]


# Keywords a proxy repeats to build lists; every other keyword is a setting the last line decides.
LIST_KEYWORDS = frozenset(
    _words(
        """acl bind server server-template use_backend use-server http-request http-response
    http-after-response tcp-request tcp-response http-check tcp-check stats log capture errorfile
    errorfiles errorloc errorloc302 errorloc303 redirect filter stick monitor email-alert declare
    http-error compression force-persist ignore-persist use-fcgi-app reqadd rspadd reqrep rsprep
    reqdel rspdel reqirep rspirep block"""
    )
)
# List keywords a proxy takes from its defaults section (rules only from named defaults in haproxy,
# but taking them always errs on the side of fewer findings).
INHERITED_LISTS = frozenset(
    _words(
        """stats log errorfile errorfiles errorloc errorloc302 errorloc303 http-request http-response
    http-after-response tcp-request tcp-response compression email-alert monitor"""
    )
)
# Check rules replace the inherited ones as a whole when a proxy declares its own.
REPLACED_LISTS = frozenset({"http-check", "tcp-check"})
# Pre-1.5 spellings still met in old configs.
LEGACY_TIMEOUTS = {"contimeout": "connect", "clitimeout": "client", "srvtimeout": "server"}


@dataclass
class Origin:
    """Where an effective value was written."""

    statement: Statement
    section: str  # node id of the section holding it


@dataclass
class Settings:
    """The effective configuration of a defaults section or a proxy."""

    timeouts: dict[str, tuple[str, Origin]] = field(default_factory=dict)
    options: dict[str, tuple[bool, list[str], Origin]] = field(default_factory=dict)
    single: dict[str, tuple[list[str], Origin]] = field(default_factory=dict)
    lists: dict[str, list[tuple[list[str], Origin]]] = field(default_factory=dict)
    default_server: dict[str, tuple[Any, Origin]] = field(default_factory=dict)

    def inherit(self) -> Settings:
        """What a proxy starts from when this is its defaults section."""
        child = Settings(
            dict(self.timeouts),
            dict(self.options),
            dict(self.single),
            {k: list(v) for k, v in self.lists.items() if k in INHERITED_LISTS or k in REPLACED_LISTS},
            dict(self.default_server),
        )
        return child

    def apply(self, statements: list[Statement], section_id: str) -> None:
        replaced: set[str] = set()
        for statement in statements:
            self._apply_one(statement, Origin(statement, section_id), replaced)

    def _apply_one(self, statement: Statement, origin: Origin, replaced: set[str]) -> None:
        words = statement.args(0)
        negated = words[0] in ("no", "default") and len(words) > 1
        keyword = words[1] if negated else words[0]
        args = words[2:] if negated else words[1:]
        if keyword == "option" and args:
            self.options[args[0]] = (not negated, args[1:], origin)
        elif keyword == "timeout" and args:
            if negated:
                self.timeouts.pop(args[0], None)
            elif len(args) > 1:
                self.timeouts[args[0]] = (args[1], origin)
        elif keyword in LEGACY_TIMEOUTS and args:
            self.timeouts[LEGACY_TIMEOUTS[keyword]] = (args[0], origin)
        elif keyword == "default-server":
            found, _ = options(args, SERVER_VALUE_OPTIONS)
            for name, value in found.items():
                self.default_server[name] = (value, origin)
        elif keyword in LIST_KEYWORDS:
            if keyword in REPLACED_LISTS and keyword not in replaced:
                replaced.add(keyword)
                self.lists[keyword] = []
            if negated and keyword == "log":
                self.lists.pop("log", None)
                return
            self.lists.setdefault(keyword, []).append((args, origin))
        elif negated:
            self.single.pop(keyword, None)
        else:
            self.single[keyword] = (args, origin)

    def option(self, name: str) -> bool:
        entry = self.options.get(name)
        return bool(entry and entry[0])

    def value(self, keyword: str) -> list[str] | None:
        entry = self.single.get(keyword)
        return entry[0] if entry else None
