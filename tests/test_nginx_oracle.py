"""The real nginx as an oracle: every complete config among the rule fixtures and tests/data/nginx is
checked with `nginx -t` in a temporary prefix. A config nginx accepts must parse without
infralint-parse-error; one it rejects for syntax must produce one, at the line nginx names.

Rejections that are not about syntax (a module the Debian build lacks, such as stream; a name
that does not resolve; semantic checks such as a TLS listener without certificate) say nothing
about the parser and are skipped with nginx's reason. Dummy certificates are made with openssl
for every relative ssl_certificate path, and stock files (mime.types ...) are copied from the
installed nginx, so that most fixtures get a real verdict. As root (CI) the copy is checked as it
is; otherwise nginx runs in a user namespace with logs, temp folders and pid in the prefix.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO, require_binary

from infralint.parsers import nginx
from infralint.source import SourceFile

DATA = REPO / "tests" / "data" / "nginx"
STOCK = Path("/etc/nginx")

# nginx messages that mean the text itself is wrong.
SYNTAX = re.compile(
    r'unexpected "|unexpected end of file|is not terminated by ";"|has no opening "\{"'
    r"|directive is not allowed here|invalid number of arguments in|it must be \"on\" or \"off\""
    '|unknown directive "\ufeff'  # a byte order mark glued to the first directive
    r'|unknown directive "[^"]*[^\w"][^"]*"'  # a name no directive has (a pasted no-break space)
)
# Rejections that come from the machine, not the config (non-root runs, busy ports).
ENVIRONMENT = re.compile(r"bind\(\) to|Permission denied|Operation not permitted|Address already in use")
EMERG = re.compile(r"\[emerg\] (?:\d+#\d+: )?(?P<reason>.*?)(?: in (?P<file>\S+):(?P<line>\d+))?$", re.MULTILINE)
_TLS_FILE = re.compile(r"^\s*(ssl_certificate|ssl_certificate_key|ssl_trusted_certificate)\s+([^;\s$]+)\s*;", re.M)
_INCLUDE = re.compile(r"^\s*include\s+([^;\s]+)\s*;", re.MULTILINE)


def _complete(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    return re.search(r"^\ufeff?\s*events\s*\{", text, re.MULTILINE) is not None


def _cases() -> list[tuple[str, Path]]:
    cases: list[tuple[str, Path]] = []
    candidates = sorted(FIXTURES.glob("nginx-*/*")) + sorted(DATA.iterdir())
    for case in candidates:
        main = case / "nginx.conf" if case.is_dir() else case
        if main.suffix == ".conf" and main.exists() and _complete(main):
            cases.append((f"{case.parent.name}/{case.name}", case))
    return cases


@pytest.fixture(scope="module")
def nginx_binary() -> str:
    return require_binary("nginx")


@pytest.fixture(scope="module")
def dummy_tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path] | None:
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    folder = tmp_path_factory.mktemp("tls")
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=infralint.test"]
    subprocess.run(
        [openssl, *request, "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return folder / "cert.pem", folder / "key.pem"


def _prepare(case: Path, prefix: Path, tls: tuple[Path, Path] | None) -> Path:
    """Copy the case into the prefix with the files nginx -t opens: certificates, stock includes."""
    if case.is_dir():
        shutil.copytree(case, prefix, dirs_exist_ok=True)
        main = prefix / "nginx.conf"
    else:
        main = prefix / case.name
        shutil.copy(case, main)
    (prefix / "logs").mkdir(exist_ok=True)
    (prefix / "temp").mkdir(exist_ok=True)
    if os.geteuid() != 0:
        _keep_out_of_system_paths(main)
    for path in prefix.rglob("*.conf"):
        text = path.read_text(encoding="utf-8", errors="replace")
        for directive, target in _TLS_FILE.findall(text):
            if tls is not None and not target.startswith("/"):
                (prefix / target).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(tls[1] if directive.endswith("_key") else tls[0], prefix / target)
        for target in _INCLUDE.findall(text):
            stock = STOCK / Path(target).name
            if not target.startswith("/") and not (prefix / target).exists() and stock.is_file():
                shutil.copy(stock, prefix / target)
    return main


NON_ROOT_HTTP = (
    "access_log logs/access.log",
    "client_body_temp_path temp/body",
    "proxy_temp_path temp/proxy",
    "fastcgi_temp_path temp/fastcgi",
    "uwsgi_temp_path temp/uwsgi",
    "scgi_temp_path temp/scgi",
)


def _keep_out_of_system_paths(main: Path) -> None:
    """Not root: nginx -t opens the default access log and temp folders under /var. Point them
    into the prefix, on the http line itself so line numbers stay (infralint reads this copy)."""
    text = main.read_text(encoding="utf-8")
    # access_log may repeat; the temp paths may not, so a config that sets one keeps its own.
    added = " ".join(
        f"{d};"
        for d in NON_ROOT_HTTP
        if d.startswith("access_log") or not re.search(rf"^\s*{d.split()[0]}\s", text, re.M)
    )
    main.write_text(re.sub(r"^(\s*http\s*\{)", lambda m: f"{m.group(1)} {added}", text, count=1, flags=re.M))


def _command(binary: str, main: Path, prefix: Path) -> list[str]:
    command = [binary, "-t", "-q", "-c", str(main), "-p", str(prefix) + "/", "-e", str(prefix / "logs" / "error.log")]
    if os.geteuid() == 0:
        return command
    # Not root: nginx -t still binds the listeners and writes the default pid path. In a user and
    # network namespace it may bind port 80; `user root root` is that namespace's root.
    text = main.read_text(encoding="utf-8")
    settings = [] if re.search(r"^\s*pid\s", text, re.M) else [f"pid {prefix / 'nginx.pid'};"]
    settings += [] if re.search(r"^\s*user\s", text, re.M) else ["user root root;"]
    unshare = shutil.which("unshare")
    return ([unshare, "-rn"] if unshare else []) + command + (["-g", " ".join(settings)] if settings else [])


def _nginx_verdict(binary: str, main: Path, prefix: Path) -> tuple[bool, str, str | None, int | None]:
    """(accepted, reason, file, line) of `nginx -t`; file is "" when nginx itself did not run."""
    completed = subprocess.run(
        _command(binary, main, prefix),
        capture_output=True,
        text=True,
        timeout=30,
    )
    if completed.returncode == 0:
        return True, "", None, None
    match = EMERG.search(completed.stderr)
    if match is None:  # nginx did not get to judge the config (file "" says so)
        return False, completed.stderr.strip() or f"exit {completed.returncode}", "", None
    line = int(match.group("line")) if match.group("line") else None
    return False, match.group("reason"), match.group("file"), line


def _parse_errors(main: Path, prefix: Path) -> list[tuple[str, int | None, str]]:
    relative = main.relative_to(prefix).as_posix()
    data = main.read_bytes()
    text = data.decode("utf-8-sig")
    source = SourceFile(relative, str(main), text, "nginx", root=str(prefix), bom=data.startswith(b"\xef\xbb\xbf"))
    result = nginx.parse(source)
    return [(f.span.path, f.span.line, f.message) for f in result.findings if f.rule_id == "infralint-parse-error"]


CASES = _cases()


def test_the_oracle_set_has_both_verdicts() -> None:
    names = [name for name, _ in CASES]
    assert sum("broken-" in name for name in names) >= 10
    assert sum("fixtures" not in str(case) or "good" in name for name, case in CASES) >= 10


@pytest.mark.parametrize("case", [case for _, case in CASES], ids=[name for name, _ in CASES])
def test_nginx_and_infralint_agree(
    case: Path, nginx_binary: str, dummy_tls: tuple[Path, Path] | None, tmp_path: Path
) -> None:
    prefix = tmp_path / "prefix"
    prefix.mkdir()
    main = _prepare(case, prefix, dummy_tls)
    accepted, reason, file, line = _nginx_verdict(nginx_binary, main, prefix)
    errors = _parse_errors(main, prefix)
    if accepted:
        assert errors == [], f"nginx accepts {case.name}"
        assert not case.name.startswith("broken-"), "a broken-* oracle case must be one nginx rejects"
        return
    if file == "" or ENVIRONMENT.search(reason):
        pytest.skip(f"nginx could not check it here: {reason}")
    if not SYNTAX.search(reason):
        assert not case.name.startswith(("broken-", "ok-")), f"nginx rejects {case.name} for: {reason}"
        pytest.skip(f"nginx rejects it for a reason that is not syntax: {reason}")
    assert errors, f"nginx rejects {case.name} ({reason} at {file}:{line}) and infralint found no parse error"
    assert not case.name.startswith("ok-")
    if file is not None and line is not None and "end of file" not in reason:
        expected = (Path(file).resolve().relative_to(prefix.resolve()).as_posix(), line)
        assert expected in {(path, found_line) for path, found_line, _ in errors}, (reason, errors)


# --- fragments -----------------------------------------------------------------------------------
# A file that is not a whole config is read in the first context where nginx allows every one of
# its directives, nested ones included; the real nginx confirms each guess by accepting the
# fragment written into a config at that place, and refuses the misfit in every place.

FRAGMENTS = {
    "if-adding-a-header": ('if ($request_uri ~ "^/api/v[0-9]+/") {\n    add_header X-Api yes;\n}\n', "http/location"),
    "if-proxying": ("if ($arg_debug) {\n    proxy_pass http://127.0.0.1:9000;\n}\n", "http/location"),
    "if-redirecting": (
        "if ($host = old.example.com) {\n    return 301 https://example.com$request_uri;\n}\n",
        "http/server",
    ),
    "location-directives": ("alias /srv/static/;\nexpires 7d;\n", "http/location"),
    "http-directives": (
        "proxy_cache_path /tmp/cache keys_zone=pages:10m;\nlimit_req_zone $binary_remote_addr zone=one:10m rate=1r/s;\n",
        "http",
    ),
    "header-and-server": ("add_header X-Frame-Options DENY;\nserver {\n    listen 8081;\n}\n", "http"),
}
# Fragments no context takes, with the line of the directive out of place.
MISFITS = {
    "listen-in-if": ("if ($arg_x) {\n    listen 8082;\n}\n", 2),
    "if-in-if": ("if ($arg_x) {\n    if ($arg_y) {\n        return 404;\n    }\n}\n", 2),
    "listen-and-alias": ("listen 8083;\nalias /srv/static/;\n", 2),
}
# Where a fragment of each context is written into a whole config: text before it (one line,
# after `events {}` on line 1) and after it.
PLACES = {
    "http": ("http {", "}"),
    "http/server": ("http { server { listen 8080;", "} }"),
    "http/server/if": ("http { server { listen 8080; if ($arg_z) {", "} } }"),
    "http/location": ("http { server { listen 8080; location / {", "} } }"),
    "http/location/if": ("http { server { listen 8080; location / { if ($arg_z) {", "} } } }"),
}


def _fragment_context(tmp_path: Path, text: str) -> tuple[str, list[tuple[int | None, str]]]:
    (tmp_path / "fragment.conf").write_text(text, encoding="utf-8")
    source = SourceFile("fragment.conf", str(tmp_path / "fragment.conf"), text, "nginx", root=str(tmp_path))
    result = nginx.parse(source)
    errors = [(f.span.line, f.message) for f in result.findings if f.rule_id == "infralint-parse-error"]
    config = next(node for node in result.nodes if node.id == "nginx/fragment.conf")
    return config.facts["context"], errors


@pytest.mark.parametrize("case", sorted(FRAGMENTS))
def test_a_fragment_is_read_where_all_its_directives_fit(tmp_path: Path, case: str) -> None:
    text, context = FRAGMENTS[case]
    assert _fragment_context(tmp_path, text) == (context, [])


@pytest.mark.parametrize("case", sorted(MISFITS))
def test_a_fragment_that_fits_nowhere_is_a_parse_error(tmp_path: Path, case: str) -> None:
    text, line = MISFITS[case]
    _, errors = _fragment_context(tmp_path, text)
    assert [found for found, _ in errors] == [line], errors


def _placed_verdict(binary: str, root: Path, text: str, place: str) -> tuple[bool, str, int | None]:
    """nginx's verdict on TEXT written at PLACE of a whole config, with the line in TEXT it names."""
    before, after = PLACES[place]
    folder = root / place.replace("/", "-")
    folder.mkdir()
    (folder / "nginx.conf").write_text(f"events {{}}\n{before}\n{text}{after}\n", encoding="utf-8")
    prefix = folder / "prefix"
    prefix.mkdir()
    main = _prepare(folder / "nginx.conf", prefix, None)
    accepted, reason, file, line = _nginx_verdict(binary, main, prefix)
    if file == "" or ENVIRONMENT.search(reason):
        pytest.skip(f"nginx could not check it here: {reason}")
    return accepted, reason, None if line is None else line - 2


@pytest.mark.parametrize("case", sorted(FRAGMENTS))
def test_nginx_accepts_a_fragment_where_infralint_reads_it(nginx_binary: str, tmp_path: Path, case: str) -> None:
    text, context = FRAGMENTS[case]
    accepted, reason, line = _placed_verdict(nginx_binary, tmp_path, text, context)
    assert accepted, f"nginx refuses {case} in {context}: {reason} at line {line}"


@pytest.mark.parametrize("case", sorted(MISFITS))
def test_nginx_refuses_a_misfit_everywhere(nginx_binary: str, tmp_path: Path, case: str) -> None:
    text, _ = MISFITS[case]
    verdicts = {place: _placed_verdict(nginx_binary, tmp_path, text, place) for place in PLACES}
    assert not any(accepted for accepted, _, _ in verdicts.values()), verdicts
    assert all("not allowed here" in reason for _, reason, _ in verdicts.values()), verdicts
