"""Property-based tests: every parser, and the whole scan, on generated input, valid and mutated.

Invariants:
- no exception escapes a parser or the scan, and no internal error (infralint-rule-error) is reported;
- every finding points at a line inside its file (a line of the file, or none for whole-file findings);
- a parse error is reported exactly when the reference parser rejects the input:
  YAML (k8s, compose): PyYAML's C parser (``yaml.compose_all`` with CSafeLoader);
  nginx: crossplane's own ``parse`` (where its lexer cuts words as nginx does), with the
  differences nginx_syntax.py documents: we also reject
  what crossplane's lexer passes over silently (an unterminated quote, a statement cut off by a
  `}` or the end of the file, a stray `;` or `{`, text glued to a quoted word), all of which nginx
  rejects too; so "crossplane rejects => we reject" holds exactly and "we reject, crossplane
  accepts" only with one of those messages;
  HAProxy and Redis: the real servers judge generated configs in test_server_properties.py
  (a subprocess per example, with a budget of its own), so that invariant is not checked here;
- the same input gives the same result twice (parsers) and byte-identical text, JSON and SARIF (scan).

The example budget comes from the hypothesis profile tests/conftest.py loads ("ci": fixed, derandomized).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scanning import scan_tree

from infralint import discover
from infralint.parsers.conf_templates import template_line
from infralint.parsers.registry import parser_for
from infralint.reporters import reporter
from infralint.source import SourceFile

WHOLE_FILE_RULES = frozenset({"infralint-empty-file", "infralint-file-too-large", "infralint-unreadable-file"})
PARSER_SETTINGS = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
SCAN_SETTINGS = settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
ROOT = tempfile.mkdtemp(prefix="infralint-properties-")  # empty: includes find nothing here

# -- mutations -----------------------------------------------------------------------------

JUNK = ['"', "'", "{", "}", "[", "]", ":", "\x00", "\t", "&a ", "*a", "- ", "\n", "#", "|", ">", ";", "\\"]
JUNK += ["!!binary ", "<<: ", "---\n", "\ufeff", "\u00e9", "${", "{{ x }}", " ", "\r\n", "\x7f"]


@st.composite
def mutated(draw: st.DrawFn, texts: st.SearchStrategy[str]) -> bytes:
    """A valid text with a few byte flips, deletions, truncations and inserted quotes/braces/NULs."""
    data = bytearray(draw(texts).encode("utf-8"))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["insert", "insert", "delete", "truncate", "flip", "duplicate"]))
        if op == "insert":
            data[pos:pos] = draw(st.sampled_from(JUNK)).encode("utf-8")
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 8))]
        elif op == "truncate":
            del data[pos:]
        elif op == "flip" and pos < len(data):
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "duplicate":
            data[pos:pos] = data[max(0, pos - 20) : pos]
    return bytes(data)


def either(texts: st.SearchStrategy[str]) -> st.SearchStrategy[bytes]:
    return st.one_of(texts.map(lambda text: text.encode("utf-8")), mutated(texts))


# -- generators ----------------------------------------------------------------------------

NAME = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10)
ODD = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.text(max_size=8), st.just([]), st.just({}))
IMAGE = st.sampled_from(["nginx", "nginx:latest", "redis:7.4", "app:1.0", "ghcr.io/a/b@sha256:" + "a" * 64, ""])
QUANTITY = st.one_of(st.sampled_from(["64Mi", "1Gi", "500m", "2", "0", "1e3", "abc", "-1Mi"]), ODD)


def _maybe(values: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=values)


CONTAINER = st.fixed_dictionaries(
    {"name": NAME, "image": IMAGE},
    optional={
        "resources": _maybe(
            {"limits": _maybe({"memory": QUANTITY, "cpu": QUANTITY}), "requests": _maybe({"memory": QUANTITY})}
        ),
        "securityContext": _maybe(
            {"runAsNonRoot": st.booleans(), "privileged": st.booleans(), "runAsUser": st.integers(-1, 70000)}
        ),
        "ports": st.lists(_maybe({"containerPort": st.one_of(st.integers(0, 70000), st.text(max_size=4))}), max_size=2),
        "livenessProbe": _maybe({"httpGet": _maybe({"path": st.just("/healthz"), "port": ODD})}),
        "env": st.lists(_maybe({"name": NAME, "value": ODD}), max_size=2),
        "imagePullPolicy": st.sampled_from(["Always", "IfNotPresent", "Never", "x"]),
        "odd": ODD,
    },
)
POD_SPEC = st.fixed_dictionaries(
    {"containers": st.lists(CONTAINER, max_size=3)},
    optional={"hostNetwork": st.booleans(), "initContainers": st.lists(CONTAINER, max_size=1), "odd": ODD},
)
LABELS = st.dictionaries(NAME, NAME, max_size=2)


@st.composite
def k8s_object(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "Service"]))
    kind = draw(st.sampled_from([kind, kind, "ConfigMap", "Ingress", "PodDisruptionBudget", "NetworkPolicy"]))
    obj: dict[str, Any] = {"apiVersion": draw(st.sampled_from(["v1", "apps/v1", "batch/v1"])), "kind": kind}
    obj["metadata"] = draw(st.fixed_dictionaries({"name": NAME}, optional={"namespace": NAME, "labels": LABELS}))
    pod = {"metadata": {"labels": draw(LABELS)}, "spec": draw(POD_SPEC)}
    if kind == "Pod":
        obj["spec"] = pod["spec"]
    elif kind == "CronJob":
        obj["spec"] = {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": pod}}}
    elif kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        obj["spec"] = {"replicas": draw(ODD), "selector": {"matchLabels": draw(LABELS)}, "template": pod}
    elif kind == "Service":
        obj["spec"] = {"selector": draw(LABELS), "ports": [{"port": draw(ODD), "targetPort": draw(ODD)}]}
    elif kind == "ConfigMap":
        obj["data"] = draw(st.dictionaries(NAME, st.text(max_size=20), max_size=2))
        if draw(st.booleans()):  # a server config embedded in the ConfigMap, parsed with positions in this file
            key, text = draw(st.deferred(lambda: EMBEDDED))
            obj["data"][key] = text
    else:
        obj["spec"] = draw(st.dictionaries(NAME, ODD, max_size=2))
    return obj


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings as `|` blocks where YAML allows it (quoted otherwise), as ConfigMaps are written."""


_BlockDumper.add_representer(
    str,
    lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None),
)
K8S_TEXT = st.lists(k8s_object(), min_size=1, max_size=3).map(
    lambda objects: yaml.dump_all(objects, Dumper=_BlockDumper, sort_keys=False)
)

SERVICE = st.fixed_dictionaries(
    {"image": IMAGE},
    optional={
        "ports": st.lists(
            st.sampled_from(["80:80", "127.0.0.1:6379:6379", "8000", "53/udp", 8080, "1-3:1-3"]), max_size=2
        ),
        "environment": st.one_of(st.dictionaries(NAME, ODD, max_size=2), st.lists(NAME, max_size=2)),
        "depends_on": st.one_of(
            st.lists(NAME, max_size=2), st.dictionaries(NAME, st.just({"condition": "service_healthy"}), max_size=1)
        ),
        "healthcheck": _maybe({"test": st.just(["CMD", "true"]), "interval": st.sampled_from(["10s", "x"])}),
        "deploy": _maybe({"replicas": ODD, "resources": _maybe({"limits": _maybe({"memory": QUANTITY})})}),
        "volumes": st.lists(
            st.sampled_from(["./data:/data", "/var/run/docker.sock:/var/run/docker.sock", "db:/x"]), max_size=2
        ),
        "privileged": st.booleans(),
        "network_mode": st.sampled_from(["host", "bridge", "service:db"]),
        "restart": st.sampled_from(["always", "no", "unless-stopped"]),
        "command": st.one_of(st.text(max_size=12), st.lists(st.text(max_size=6), max_size=3)),
        "odd": ODD,
    },
)
COMPOSE_TEXT = st.fixed_dictionaries(
    {"services": st.dictionaries(NAME, SERVICE, max_size=3)},
    optional={"volumes": st.dictionaries(NAME, st.just({}), max_size=1), "name": NAME},
).map(lambda data: yaml.safe_dump(data, sort_keys=False))

# Directives by the block they belong in (a few misplaced ones too, for context errors).
NGINX_DIRECTIVES = {
    "http": ["server_tokens off", "client_max_body_size 1m", "access_log off", "include conf.d/*.conf",
             "ssl_protocols TLSv1 TLSv1.2", "proxy_set_header Host $host", "unknown_module_directive 1 2"],
    "server": ["listen 80", "listen 443 ssl", "server_name example.com www.example.com", "root /var/www",
               "index index.html", "return 301 https://$host$request_uri", 'add_header X-Frame "DENY"',
               "autoindex on", "access_log /var/log/x.log"],
    "location": ["proxy_pass http://api:8000", "proxy_pass http://backend", "alias /data/", "try_files $uri =404",
                 "root /srv", "return 404", 'add_header Cache-Control "no-store"', "autoindex off"],
    "upstream": ["server 10.0.0.1:8000", "server api:80 max_fails=3", "keepalive 16"],
    "if": ["return 403", "set $x 1"],
}  # fmt: skip
NGINX_CHILDREN = {
    "http": ["server", "upstream backend"],
    "server": ["location /", "location ~ \\.php$", "if ($x)"],
    "location": ["location /api/", "if ($x)"],
    "upstream": [],
    "if": [],
}
NGINX_MISPLACED = st.sampled_from(["listen 80", "proxy_pass http://x", "server_tokens", "events {}"])
NGINX_COMMENT = st.sampled_from(["# a comment", "# infralint: ignore=nginx-server-tokens"])


@st.composite
def nginx_block(draw: st.DrawFn, header: str, depth: int) -> str:
    kind = header.split()[0]
    lines = [f"{header} {{"]
    # Distinct directives (nginx rejects most duplicates), then nested blocks, a comment, and
    # now and then a directive that does not belong here.
    lines += [d + ";" for d in draw(st.lists(st.sampled_from(NGINX_DIRECTIVES[kind]), unique=True, max_size=3))]
    children = NGINX_CHILDREN[kind] if depth < 3 else []
    for child in draw(st.lists(st.sampled_from(children), unique=True, max_size=2)) if children else []:
        lines.append(draw(nginx_block(child, depth + 1)))
    if draw(st.integers(0, 4)) == 2:
        lines.append(draw(NGINX_COMMENT))
    if draw(st.integers(0, 39)) == 20:  # not 0: hypothesis favours the smallest values
        lines.append(draw(NGINX_MISPLACED) + ";")
    lines.append("}")
    return "\n".join(lines)


NGINX_TEXT = st.builds(
    lambda events, http: f"events {{}}\n{http}\n" if events else http + "\n",
    st.booleans(),
    st.deferred(lambda: nginx_block("http", 0)),
)

HAPROXY_LINES = st.sampled_from(
    [
        "mode http", "bind :80", "bind *:443 ssl crt /etc/ssl/site.pem", "default_backend app",
        "use_backend app if { path_beg /api }", "server s1 10.0.0.1:8080 check", "server s2 app:80",
        "timeout client 30s", "timeout server 1m", "maxconn 100", "option httplog", "acl is_api path_beg /api",
        "http-request deny if !is_api", "balance roundrobin", "log stdout format raw local0",
        'http-response set-header X-Test "a b"', "stats uri /stats", "ssl-default-bind-options ssl-min-ver TLSv1.0",
    ]
)  # fmt: skip
HAPROXY_SECTION = st.builds(
    lambda head, body: head + "\n" + "".join(f"    {line}\n" for line in body),
    st.sampled_from(["global", "defaults", "frontend web", "backend app", "listen stats", "resolvers dns"]),
    st.lists(HAPROXY_LINES, max_size=5),
)
HAPROXY_TEXT = st.lists(HAPROXY_SECTION, min_size=1, max_size=4).map("".join)

REDIS_LINES = st.sampled_from(
    [
        "port 6379", "port 0", "bind 127.0.0.1 -::1", "bind 0.0.0.0", 'requirepass "s3cret"', "maxmemory 1gb",
        "maxmemory 100", "maxmemory-policy allkeys-lru", 'rename-command CONFIG ""', "user alice on >pw ~* +@all",
        "user default off", "save 900 1", 'save ""', "appendonly yes", "protected-mode no", "tls-port 6380",
        "include /etc/redis/extra.conf", "unknowndirective x", "# comment", "", "dir /data", 'logfile ""',
    ]
)  # fmt: skip
REDIS_TEXT = st.lists(REDIS_LINES, min_size=1, max_size=10).map(lambda lines: "\n".join(lines) + "\n")

EMBEDDED = st.tuples(
    st.sampled_from(["nginx.conf", "haproxy.cfg", "redis.conf"]),
    st.one_of(
        NGINX_TEXT,
        HAPROXY_TEXT,
        REDIS_TEXT,
        mutated(st.one_of(NGINX_TEXT, REDIS_TEXT)).map(lambda data: data.decode("utf-8", "replace")),
    ),
)
FORMATS: dict[str, tuple[str, st.SearchStrategy[str]]] = {
    "k8s": ("app.yaml", K8S_TEXT),
    "compose": ("compose.yaml", COMPOSE_TEXT),
    "nginx": ("nginx.conf", NGINX_TEXT),
    "haproxy": ("haproxy.cfg", HAPROXY_TEXT),
    "redis": ("redis.conf", REDIS_TEXT),
}

# -- invariants ----------------------------------------------------------------------------


def _lines(text: str) -> int:
    return text.count("\n") + 1


def assert_inside(findings: list[Any], texts: dict[str, str]) -> None:
    for finding in findings:
        assert finding.rule_id != "infralint-rule-error", finding.message
        span = finding.span
        if span.path not in texts:
            continue
        if span.line is None:
            assert finding.rule_id in WHOLE_FILE_RULES, f"{finding.rule_id} has no line: {finding.message}"
        else:
            assert 1 <= span.line <= _lines(texts[span.path]), (finding.rule_id, span, finding.message)


def parse_text(kind: str, text: str) -> Any:
    name = FORMATS[kind][0]
    parse = parser_for(kind)
    assert parse is not None
    return parse(SourceFile(name, os.path.join(ROOT, name), text, kind, root=ROOT))


def _summary(result: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    findings = [(f.rule_id, f.message, f.span) for f in result.findings]
    nodes = [(n.id, n.kinds, repr(n.attrs), n.span) for n in result.nodes]
    return findings, nodes


def check_parser(kind: str, data: bytes) -> tuple[str, Any]:
    text = discover.decode(data, kind)[0]
    assume(text is not None)
    assert text is not None
    result = parse_text(kind, text)
    name = FORMATS[kind][0]
    assert_inside(result.findings, {name: text})
    for node in result.nodes:
        if node.span.path == name and node.span.line is not None:
            assert 1 <= node.span.line <= _lines(text), (node.id, node.span)
    assert _summary(parse_text(kind, text)) == _summary(result), "the same text parsed twice differs"
    return text, result


def yaml_rejects(text: str) -> bool:
    try:
        for _ in yaml.compose_all(text, Loader=yaml.CSafeLoader):
            pass
    except yaml.YAMLError:
        return True
    return False


def _yaml_errors(result: Any) -> list[str]:
    return [
        f.message for f in result.findings if f.rule_id == "infralint-parse-error" and "not valid YAML" in f.message
    ]


# -- parsers -------------------------------------------------------------------------------


@PARSER_SETTINGS
@given(data=either(K8S_TEXT))
def test_kubernetes_parser(data: bytes) -> None:
    text, result = check_parser("k8s", data)
    if "{{" not in text:  # templates are reported as such, not as YAML errors
        assert bool(_yaml_errors(result)) == yaml_rejects(text), _yaml_errors(result)


@PARSER_SETTINGS
@given(data=either(COMPOSE_TEXT))
def test_compose_parser(data: bytes) -> None:
    text, result = check_parser("compose", data)
    if "{{" not in text:
        assert bool(_yaml_errors(result)) == yaml_rejects(text), _yaml_errors(result)


# What crossplane's lexer passes over and we (like nginx) reject; see nginx_syntax.py.
NGINX_STRICTER = re.compile(r'^unexpected (end of file|";"|"\{"|"\}"|".")|^unknown directive ".*": it holds')
# Where crossplane cuts words otherwise than nginx (a brace inside a word, `${`, a Unicode blank
# other than space, tab, CR, LF) we follow nginx, and test_server_properties.py asks nginx itself.
NGINX_WORDS_DIFFER = re.compile(r"\$\{|[^\s;{}]\}|[^\S \t\r\n]")


def crossplane_error(text: str) -> str | None:
    import crossplane

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "nginx.conf")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        payload = crossplane.parse(path, single=True)
    return payload["errors"][0]["error"] if payload["errors"] else None


def _is_full_config(text: str) -> bool:
    """A fragment (no events/http at the top) gets a guessed context in our parser; crossplane has
    none, so it is compared only on whole configs."""
    return text.startswith("events {}\nhttp {")


@PARSER_SETTINGS
@given(data=either(NGINX_TEXT))
def test_nginx_parser(data: bytes) -> None:
    text, result = check_parser("nginx", data)
    if template_line(text) is not None:
        # a template for another tool ({{ .Env.X }}) is one note, and nothing of it is judged
        assert [f.rule_id for f in result.findings] == ["infralint-unsupported-template"]
        assert not result.nodes
        return
    if not _is_full_config(text) or "\x00" in text or "\r" in text or NGINX_WORDS_DIFFER.search(text):
        return
    ours = [f.message for f in result.findings if f.rule_id == "infralint-parse-error"]
    theirs = crossplane_error(text)
    if theirs is not None:
        assert ours, f"crossplane rejects ({theirs}), we accept"
    elif ours:
        assert NGINX_STRICTER.match(ours[0]), f"we reject ({ours[0]}), crossplane accepts"


@PARSER_SETTINGS
@given(data=either(HAPROXY_TEXT))
def test_haproxy_parser(data: bytes) -> None:
    check_parser("haproxy", data)


@PARSER_SETTINGS
@given(data=either(REDIS_TEXT))
def test_redis_parser(data: bytes) -> None:
    check_parser("redis", data)


# -- the whole scan ------------------------------------------------------------------------

TREE = st.dictionaries(
    st.sampled_from(sorted(FORMATS)),
    st.sampled_from(sorted(FORMATS)).flatmap(lambda kind: either(FORMATS[kind][1])),
    min_size=1,
    max_size=3,
)


def render_all(report: Any) -> dict[str, str]:
    report.seconds = 0.0  # the only field that may differ between two runs
    return {name: reporter(name)(report, color=False, category=None) for name in ("text", "json", "sarif")}


@SCAN_SETTINGS
@given(tree=TREE)
def test_whole_scan(tree: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        texts = {}
        for kind, data in tree.items():
            name = FORMATS[kind][0]
            (root / name).write_bytes(data)
            source = discover.read(str(root / name), str(root), discover.DEFAULT_MAX_BYTES)
            if isinstance(source, SourceFile):  # the text as the scan reads it
                texts[name] = source.text
        first = scan_tree(root)
        assert_inside(first.findings, texts)
        assert render_all(first) == render_all(scan_tree(root)), "two scans of the same tree render differently"


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_generators_make_valid_input_too(kind: str) -> None:
    """The unmutated generators are not all parse errors: the properties see real structure."""
    examples: list[str] = []

    @settings(max_examples=40)
    @given(text=FORMATS[kind][1])
    def collect(text: str) -> None:
        examples.append(text)

    collect()
    clean = [
        text for text in examples if not [f for f in parse_text(kind, text).findings if "parse-error" in f.rule_id]
    ]
    assert len(clean) >= len(examples) // 2, f"{kind}: {len(examples) - len(clean)} of {len(examples)} fail to parse"
