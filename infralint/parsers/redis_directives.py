"""The directives redis-server 7.x accepts in a config file, with their arity and value type.

Source of truth: the `static_configs[]` table and `loadServerConfigFromString()` of Redis 7.0
(src/config.c), the names `CONFIG GET *` lists on redis-server 7.0.15, and redis.conf of 7.2/7.4
for the names added later. Every row is checked against the installed redis-server by
tests/test_redis_oracle.py; rows newer than the oracle carry their version in ``since`` and the
oracle skips them as version skew.

Aliases (``slaveof``, ``slave-read-only``, ``hash-max-ziplist-entries`` ...) are rows of their own
whose ``setting`` names the canonical directive, so "last one wins" works across spellings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

ORACLE_VERSION = (7, 0)  # the redis-server the tests run (Debian 12)
# The oldest release the table describes: ``since="7.0"`` means "in 7.0, maybe long before".
TABLE_FLOOR = (7, 0)


@dataclass(frozen=True)
class Directive:
    name: str  # the spelling in the file (lower case: Redis lowers the directive name)
    setting: str  # the canonical directive this spelling sets
    kind: str  # bool, int, octal, memory, memory-or-percent, enum, enum-flags, string, multi, special
    sample: tuple[str, ...]  # arguments redis-server accepts (the oracle loads them)
    min_args: int = 1
    max_args: int | None = 1  # None: no upper bound
    values: tuple[str, ...] = ()  # enum values (case-insensitive)
    since: str = "7.0"
    hidden: bool = False  # accepted but not listed by CONFIG GET (test and debug knobs)
    deprecated: bool = False  # accepted and ignored
    sentinel_only: bool = False

    @property
    def is_alias(self) -> bool:
        return self.name != self.setting

    @property
    def version(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.since.split("."))


_ROWS: list[Directive] = []


def _add(
    name: str,
    kind: str,
    sample: str | tuple[str, ...],
    *,
    aliases: tuple[str, ...] = (),
    since: str = "7.0",
    args: tuple[int, int | None] = (1, 1),
    values: tuple[str, ...] = (),
    hidden: bool = False,
    deprecated: bool = False,
    sentinel_only: bool = False,
) -> None:
    sample_args = (sample,) if isinstance(sample, str) else sample
    for spelling in (name, *aliases):
        _ROWS.append(
            Directive(
                spelling, name, kind, sample_args, args[0], args[1], values, since, hidden, deprecated, sentinel_only
            )
        )


_YES_NO = ("yes", "no")
_PROTECTED = ("no", "yes", "local")

# Booleans: `yes` or `no` (sample = Redis's default, except where the default would not let
# the oracle load and exit: daemonize stays `no`).
for _name, _default, _aliases in (
    ("rdbchecksum", "yes", ()),
    ("daemonize", "no", ()),
    ("io-threads-do-reads", "no", ()),
    ("always-show-logo", "no", ()),
    ("protected-mode", "yes", ()),
    ("rdbcompression", "yes", ()),
    ("rdb-del-sync-files", "no", ()),
    ("activerehashing", "yes", ()),
    ("stop-writes-on-bgsave-error", "yes", ()),
    ("set-proc-title", "yes", ()),
    ("dynamic-hz", "yes", ()),
    ("lazyfree-lazy-eviction", "no", ()),
    ("lazyfree-lazy-expire", "no", ()),
    ("lazyfree-lazy-server-del", "no", ()),
    ("lazyfree-lazy-user-del", "no", ()),
    ("lazyfree-lazy-user-flush", "no", ()),
    ("repl-disable-tcp-nodelay", "no", ()),
    ("repl-diskless-sync", "yes", ()),
    ("aof-rewrite-incremental-fsync", "yes", ()),
    ("no-appendfsync-on-rewrite", "no", ()),
    ("cluster-require-full-coverage", "yes", ()),
    ("rdb-save-incremental-fsync", "yes", ()),
    ("aof-load-truncated", "yes", ()),
    ("aof-use-rdb-preamble", "yes", ()),
    ("aof-timestamp-enabled", "no", ()),
    ("cluster-replica-no-failover", "no", ("cluster-slave-no-failover",)),
    ("replica-lazy-flush", "no", ("slave-lazy-flush",)),
    ("replica-serve-stale-data", "yes", ("slave-serve-stale-data",)),
    ("replica-read-only", "yes", ("slave-read-only",)),
    ("replica-ignore-maxmemory", "yes", ("slave-ignore-maxmemory",)),
    ("jemalloc-bg-thread", "yes", ()),
    ("activedefrag", "no", ()),
    ("syslog-enabled", "no", ()),
    ("cluster-enabled", "no", ()),
    ("appendonly", "no", ()),
    ("cluster-allow-reads-when-down", "no", ()),
    ("cluster-allow-pubsubshard-when-down", "yes", ()),
    ("crash-log-enabled", "yes", ()),
    ("crash-memcheck-enabled", "yes", ()),
    ("disable-thp", "yes", ()),
    ("cluster-allow-replica-migration", "yes", ()),
    ("replica-announced", "yes", ()),
    ("latency-tracking", "yes", ()),
    ("aof-disable-auto-gc", "no", ()),
    ("replica-ignore-disk-write-errors", "no", ()),
    ("tls-cluster", "no", ()),
    ("tls-replication", "no", ()),
    ("tls-prefer-server-ciphers", "no", ()),
    ("tls-session-caching", "yes", ()),
):
    _add(_name, "bool", _default, aliases=_aliases, values=_YES_NO)
_add("use-exit-on-panic", "bool", "no", values=_YES_NO, hidden=True)
# Added by the 2025 Lua security fixes (upstream 7.2.7/7.4.2; Debian's 7.0.15 carries it too).
_add("lua-enable-deprecated-api", "bool", "no", values=_YES_NO, hidden=True)
_add("hide-user-data-from-log", "bool", "no", values=_YES_NO, since="7.4")

# Strings: any single argument ("" included).
for _name, _sample, _aliases in (
    ("aclfile", "", ()),
    ("unixsocket", "", ()),  # a socket path would make the oracle listen instead of exiting
    ("pidfile", "", ()),
    ("replica-announce-ip", "10.0.0.5", ("slave-announce-ip",)),
    ("masteruser", "replication", ()),
    ("cluster-announce-ip", "10.0.0.5", ()),
    ("cluster-config-file", "nodes.conf", ()),
    ("cluster-announce-hostname", "redis-0.example.com", ()),
    ("syslog-ident", "redis", ()),
    ("dbfilename", "dump.rdb", ()),
    ("appendfilename", "appendonly.aof", ()),
    ("appenddirname", "appendonlydir", ()),
    ("server_cpulist", "0", ()),
    ("bio_cpulist", "0", ()),
    ("aof_rewrite_cpulist", "0", ()),
    ("bgsave_cpulist", "0", ()),
    ("ignore-warnings", "", ()),
    ("proc-title-template", "{title} {listen-addr} {server-mode}", ()),
    ("bind-source-addr", "", ()),
    ("logfile", "", ()),
    ("masterauth", "", ()),
    ("requirepass", "", ()),
    ("tls-cert-file", "redis.crt", ()),
    ("tls-key-file", "redis.key", ()),
    ("tls-key-file-pass", "", ()),
    ("tls-client-cert-file", "client.crt", ()),
    ("tls-client-key-file", "client.key", ()),
    ("tls-client-key-file-pass", "", ()),
    ("tls-dh-params-file", "redis.dh", ()),
    ("tls-ca-cert-file", "ca.crt", ()),
    ("tls-ca-cert-dir", "/etc/ssl/certs", ()),
    ("tls-protocols", "TLSv1.2 TLSv1.3", ()),
    ("tls-ciphers", "DEFAULT:!MEDIUM", ()),
    ("tls-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256", ()),
    ("notify-keyspace-events", "", ()),
):
    _add(_name, "string", _sample, aliases=_aliases)
_add("dir", "string", "{dir}")  # the oracle substitutes a temporary folder (Redis chdirs into it)
_add("locale-collate", "string", "", since="7.2")
_add("cluster-announce-human-nodename", "string", "", since="7.2")
# 7.4 gave the CPU-list directives hyphenated names; the underscore names stay as aliases.
for _name in ("server", "bio", "aof-rewrite", "bgsave"):
    _add(f"{_name}-cpulist", "string", "0", since="7.4")

# Enumerations (case-insensitive).
for _name, _values in (
    ("supervised", ("upstart", "systemd", "auto", "no")),
    ("syslog-facility", ("user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7")),
    ("repl-diskless-load", ("disabled", "on-empty-db", "swapdb")),
    ("loglevel", ("debug", "verbose", "notice", "warning", "nothing")),  # nothing: 7.2+
    (
        "maxmemory-policy",
        (
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction",
        ),
    ),
    ("appendfsync", ("everysec", "always", "no")),
    ("oom-score-adj", ("no", "yes", "relative", "absolute")),
    ("acl-pubsub-default", ("allchannels", "resetchannels")),
    ("sanitize-dump-payload", ("no", "yes", "clients")),
    ("enable-protected-configs", _PROTECTED),
    ("enable-debug-command", _PROTECTED),
    ("enable-module-command", _PROTECTED),
    ("cluster-preferred-endpoint-type", ("ip", "hostname", "unknown-endpoint")),
    ("propagation-error-behavior", ("ignore", "panic", "panic-on-replicas")),
    ("tls-auth-clients", ("no", "yes", "optional")),
):
    _sample_value = "no" if "no" in _values else ("notice" if _name == "loglevel" else _values[0])
    _add(_name, "enum", _sample_value, values=_values)
for _name in ("shutdown-on-sigint", "shutdown-on-sigterm"):
    _add(_name, "enum-flags", "default", args=(1, None), values=("default", "save", "nosave", "now", "force"))

# Integers (plain decimal, no unit suffix).
for _name, _sample, _aliases in (
    ("databases", "16", ()),
    ("port", "6379", ()),
    ("io-threads", "1", ()),
    ("auto-aof-rewrite-percentage", "100", ()),
    ("cluster-replica-validity-factor", "10", ("cluster-slave-validity-factor",)),
    ("list-max-listpack-size", "-2", ("list-max-ziplist-size",)),
    ("tcp-keepalive", "300", ()),
    ("cluster-migration-barrier", "1", ()),
    ("active-defrag-cycle-min", "1", ()),
    ("active-defrag-cycle-max", "25", ()),
    ("active-defrag-threshold-lower", "10", ()),
    ("active-defrag-threshold-upper", "100", ()),
    ("lfu-log-factor", "10", ()),
    ("lfu-decay-time", "1", ()),
    ("replica-priority", "100", ("slave-priority",)),
    ("repl-diskless-sync-delay", "5", ()),
    ("maxmemory-samples", "5", ()),
    ("maxmemory-eviction-tenacity", "10", ()),
    ("timeout", "0", ()),
    ("replica-announce-port", "0", ("slave-announce-port",)),
    ("tcp-backlog", "511", ()),
    ("cluster-port", "0", ()),
    ("cluster-announce-bus-port", "0", ()),
    ("cluster-announce-port", "0", ()),
    ("cluster-announce-tls-port", "0", ()),
    ("repl-timeout", "60", ()),
    ("repl-ping-replica-period", "10", ("repl-ping-slave-period",)),
    ("list-compress-depth", "0", ()),
    ("active-expire-effort", "1", ()),
    ("hz", "10", ()),
    ("min-replicas-to-write", "0", ("min-slaves-to-write",)),
    ("min-replicas-max-lag", "10", ("min-slaves-max-lag",)),
    ("shutdown-timeout", "10", ()),
    ("repl-diskless-sync-max-replicas", "0", ()),
    ("maxclients", "10000", ()),
    ("active-defrag-max-scan-fields", "1000", ()),
    ("slowlog-max-len", "128", ()),
    ("acllog-max-len", "128", ()),
    ("busy-reply-threshold", "5000", ("lua-time-limit",)),
    ("cluster-node-timeout", "15000", ()),
    ("slowlog-log-slower-than", "10000", ()),
    ("latency-monitor-threshold", "0", ()),
    ("stream-node-max-entries", "100", ()),
    ("set-max-intset-entries", "512", ()),
    ("hash-max-listpack-entries", "512", ("hash-max-ziplist-entries",)),
    ("zset-max-listpack-entries", "128", ("zset-max-ziplist-entries",)),
    ("tracking-table-max-keys", "1000000", ()),
    ("repl-backlog-ttl", "3600", ()),
    ("socket-mark-id", "0", ()),
    ("tls-port", "0", ()),  # a TLS port would make the oracle listen
    ("tls-session-cache-size", "20480", ()),
    ("tls-session-cache-timeout", "300", ()),
):
    _add(_name, "int", _sample, aliases=_aliases)
for _name, _sample in (
    ("rdb-key-save-delay", "0"),
    ("key-load-delay", "0"),
    ("watchdog-period", "0"),
    ("loading-process-events-interval-bytes", "2097152"),
):
    _add(_name, "int", _sample, hidden=True)
_add("unixsocketperm", "octal", "700")
_add("set-max-listpack-entries", "int", "128", since="7.2")
_add("max-new-connections-per-cycle", "int", "10", since="7.2")
_add("max-new-tls-connections-per-cycle", "int", "1", since="7.2")

# Memory sizes: a number with an optional unit (k=1000, kb=1024, m, mb, g, gb; any case).
for _name, _sample, _aliases in (
    ("proto-max-bulk-len", "512mb", ()),
    ("repl-backlog-size", "1mb", ()),
    ("maxmemory", "100mb", ()),
    ("cluster-link-sendbuf-limit", "0", ()),
    ("active-defrag-ignore-bytes", "100mb", ()),
    ("hash-max-listpack-value", "64", ("hash-max-ziplist-value",)),
    ("stream-node-max-bytes", "4kb", ()),
    ("zset-max-listpack-value", "64", ("zset-max-ziplist-value",)),
    ("hll-sparse-max-bytes", "3000", ()),
    ("client-query-buffer-limit", "1gb", ()),
    ("auto-aof-rewrite-min-size", "64mb", ()),
):
    _add(_name, "memory", _sample, aliases=_aliases)
_add("maxmemory-clients", "memory-or-percent", "0")
_add("set-max-listpack-value", "memory", "64", since="7.2")

# Directives with several arguments; their own setters check the count further.
_add("save", "multi", ("3600", "1", "300", "100"), args=(0, None))
_add("bind", "multi", ("127.0.0.1", "-::1"), args=(0, None))
_add("client-output-buffer-limit", "multi", ("normal", "0", "0", "0"), args=(4, None))
_add("oom-score-adj-values", "multi", ("0", "200", "800"), args=(3, 3))
_add("replicaof", "multi", ("no", "one"), aliases=("slaveof",), args=(2, 2))
_add("latency-tracking-info-percentiles", "multi", ("50", "99", "99.9"), args=(0, None))

# Handled by the loader itself rather than the config table.
_add("include", "special", "{include}")  # the oracle writes a small file to include
_add("rename-command", "special", ("flushdb", ""), args=(2, 2))
_add("user", "special", ("alice", "on", ">alice-password", "~*", "+@all"), args=(1, None))
_add("loadmodule", "special", "/nonexistent/module.so", args=(1, None))  # queued, loaded after startup
_add("sentinel", "special", ("monitor", "mymaster", "127.0.0.1", "6379", "2"), args=(0, None), sentinel_only=True)

# Accepted and ignored since 7.0 (the encodings they tuned are gone).
_add("list-max-ziplist-entries", "int", "512", deprecated=True)
_add("list-max-ziplist-value", "int", "64", deprecated=True)
_add("lua-replicate-commands", "bool", "yes", values=_YES_NO, deprecated=True)

DIRECTIVES: dict[str, Directive] = {row.name: row for row in _ROWS}
if len(DIRECTIVES) != len(_ROWS):  # a typo in the table must not hide a row
    raise RuntimeError("duplicate Redis directive in the table")

# Directives where every line counts; for the rest the last line wins.
CUMULATIVE = frozenset({"save", "rename-command", "user", "loadmodule", "include", "client-output-buffer-limit"})

# Module configs are `<module>.<name>`: Redis queues them for the module to claim.
MODULE_CONFIG = re.compile(r"^[^.\s]+\.[^\s]+$")


def too_new(since: str | None, target: tuple[int, ...]) -> bool:
    """Was the directive added after the TARGET release? Only additions after the table's
    floor are known, so for a target before 7.0 the 7.0 rows are given the benefit of the doubt."""
    if not since:
        return False
    added = tuple(int(part) for part in since.split("."))
    return added > TABLE_FLOOR and added > target


def lookup(name: str) -> Directive | None:
    return DIRECTIVES.get(name.lower())


def suggestion(name: str) -> str | None:
    """The known directive closest to a misspelled one (None when nothing is close)."""
    import difflib

    if len(name) > 64:
        return None
    matches = difflib.get_close_matches(name.lower(), list(DIRECTIVES), n=1, cutoff=0.75)
    return matches[0] if matches else None


# --- values -------------------------------------------------------------------------------

_MEMORY = re.compile(r"([0-9]*)([A-Za-z]*)")
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}
_INTEGER = re.compile(r"0|-?[1-9][0-9]*")
_OCTAL = re.compile(r"[0-7]+")
_PERCENT = re.compile(r"[0-9]+%")


def memory_bytes(text: str) -> int | None:
    """Bytes of a Redis memory value: `1k` is 1000, `1kb` is 1024 (units in any case); None if invalid.

    Like Redis, an empty value is 0 and there is no sign, fraction or space.
    """
    match = _MEMORY.fullmatch(text)
    if match is None:
        return None
    multiplier = _UNITS.get(match.group(2).lower())
    if multiplier is None or len(match.group(1)) > 100:
        return None
    digits = match.group(1)
    return (int(digits) if digits else 0) * multiplier


def _integer(text: str) -> bool:
    return _INTEGER.fullmatch(text) is not None and -(2**63) <= int(text) < 2**63


def _one_of(directive: Directive, args: list[str]) -> tuple[int, str] | None:
    for index, value in enumerate(args):
        if value.lower() not in directive.values:
            return index, f"must be one of {', '.join(directive.values)}"
    return None


def _single(test: Callable[[str], bool], reason: str) -> Callable[[Directive, list[str]], tuple[int, str] | None]:
    def check(directive: Directive, args: list[str]) -> tuple[int, str] | None:
        return None if test(args[0]) else (0, reason)

    return check


_VALUE_CHECKS: dict[str, Callable[[Directive, list[str]], tuple[int, str] | None]] = {
    "bool": _one_of,
    "enum": _one_of,
    "enum-flags": _one_of,
    "int": _single(_integer, "must be a whole number (no unit)"),
    "octal": _single(lambda text: _OCTAL.fullmatch(text) is not None, "must be an octal number such as 700"),
    "memory": _single(
        lambda text: memory_bytes(text) is not None, "must be a size such as 100mb (units k, kb, m, mb, g, gb)"
    ),
    "memory-or-percent": _single(
        lambda text: memory_bytes(text) is not None or _PERCENT.fullmatch(text) is not None,
        "must be a size such as 100mb or a percentage such as 5%",
    ),
}


def value_problem(directive: Directive, args: list[str]) -> tuple[int, str] | None:
    """Why redis-server would reject these arguments: (index of the argument, reason); None if fine."""
    check = _VALUE_CHECKS.get(directive.kind)
    return check(directive, args) if check is not None and args else None
