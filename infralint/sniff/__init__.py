"""Content sniffers for server configs: one small module per format, regexes only (cheap to
import), asked in order by discovery for files whose name left the kind open, and by the
Kubernetes parser for ConfigMap data keys.

Each module answers two questions: `sniff` (does the content alone prove the format?) and
`plausible` (could it be that format, given a name that says so, such as `haproxy-edge.cfg` or a
`nginx-site.conf` key?). Neither claims a text written in another syntax."""

from __future__ import annotations

from infralint.sniff import haproxy, nginx, redis

# Order matters: the first format that claims a file wins.
SNIFFERS = (("nginx", nginx), ("haproxy", haproxy), ("redis", redis))

# Names (ConfigMap keys or files) that already say another format: content that happens to look
# like a server config (a `server {` block, an `include x;` line) does not override them.
OTHER_FORMAT_NAMES = frozenset(
    {
        "caddyfile",
        "corefile",
        "unbound.conf",
        "fluent-bit.conf",
        "fluentbit.conf",
        "td-agent-bit.conf",
        "telegraf.conf",
        "named.conf",
        "supervisord.conf",
        "keepalived.conf",
        "squid.conf",
        "stunnel.conf",
        "httpd.conf",
        "apache2.conf",
        "php-fpm.conf",
        "postgresql.conf",
        "pg_hba.conf",
        "resolv.conf",
        "nsswitch.conf",
        "krb5.conf",
        "rsyslog.conf",
        "logrotate.conf",
    }
)
OTHER_FORMAT_SUFFIXES = (
    ".hcl",
    ".tf",
    ".toml",
    ".json",
    ".yaml",
    ".yml",
    ".ini",
    ".cnf",
    ".properties",
    ".xml",
    ".lua",
    ".js",
    ".py",
    ".sh",
    ".sql",
    ".php",
    ".rb",
    ".md",
    ".html",
)


def kind_by_name(name: str) -> str | None:
    lower = name.lower()
    for kind, module in SNIFFERS:
        if lower in module.NAMES:
            return kind
    return None


def is_candidate_name(name: str) -> bool:
    """A name that does not settle the kind but is worth reading to let the content decide."""
    lower = name.lower()
    return any(lower in getattr(module, "CANDIDATE_NAMES", ()) for _, module in SNIFFERS)


def kind_by_content(relative_path: str, text: str) -> str | None:
    name = relative_path.rsplit("/", 1)[-1].lower()
    if name in OTHER_FORMAT_NAMES or name.endswith(OTHER_FORMAT_SUFFIXES):
        return None
    for kind, module in SNIFFERS:
        if kind in name and module.plausible(text):
            return kind
    for kind, module in SNIFFERS:
        if module.sniff(relative_path, text):
            return kind
    return None
