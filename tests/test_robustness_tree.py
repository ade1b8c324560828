"""A tree of hostile files scanned as a user would (a subprocess): every file reported, exit 1,
no traceback, nothing read outside the root, and within a stated time and memory bound.

The bounds have headroom for a loaded 2-core CI machine: the scan takes about 3 s and under
200 MiB on one (most of it the dense-selectors file, which unbounded took minutes and gigabytes).
"""

from __future__ import annotations

import builtins
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from scanning import POD, scan_tree, write

WALL_SECONDS = 60  # the whole scan, wall clock
CPU_SECONDS = 60  # user + system time of the child
MAX_RSS_BYTES = 1024 * 1024 * 1024  # 1 GiB peak resident memory of the child
REPO = Path(__file__).resolve().parent.parent


def _alias_bomb() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n" + "".join(f"  {x}\n" for x in lines)


def dense_selectors(count: int) -> str:
    """COUNT Services and COUNT Deployments that all share one label: every Service selects
    every Deployment (COUNT squared pairs), which the graph must not try to build."""
    service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s{i}\nspec:\n  selector:\n    app: web\n"
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{i}\nspec:\n  replicas: 2\n"
        "  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n"
        "        app: web\n    spec:\n      containers:\n        - name: c\n          image: nginx:1.27\n"
    )
    return "---\n".join(part.format(i=i) for i in range(count) for part in (service, deployment))


def dense_references(count: int) -> str:
    """COUNT ConfigMaps all named `cfg`, and COUNT Deployments (all named `web`) that use it:
    every name is ambiguous COUNT ways."""
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  key: value\n"
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n"
        "    matchLabels:\n      app: w{i}\n  template:\n    metadata:\n      labels:\n        app: w{i}\n"
        "    spec:\n      containers:\n        - name: c\n          image: nginx:1.27\n"
        "          envFrom:\n            - configMapRef:\n                name: cfg\n"
    )
    return "---\n".join(part.format(i=i) for i in range(count) for part in (config, deployment))


def dense_upstream(count: int) -> str:
    """An upstream of COUNT servers that COUNT locations pass to."""
    servers = "".join(f"    server 10.0.{i // 250}.{i % 250}:80;\n" for i in range(count))
    locations = "".join(f"    location /p{i} {{ proxy_pass http://backend; }}\n" for i in range(count))
    return f"events {{}}\nhttp {{\n  upstream backend {{\n{servers}  }}\n  server {{\n    listen 80;\n{locations}  }}\n}}\n"


def build_tree(base: Path) -> tuple[Path, Path, set[str]]:
    """(root, a folder outside it, the files inside the root each finding must name)."""
    root, outside = base / "root", base / "outside"
    write(outside, "secret.conf", "user admin\n")
    write(outside, "nginx-secret.conf", "server { listen 1; }\n")
    deep = 20_000
    hostile: dict[str, str | bytes] = {
        "k8s/alias-bomb.yaml": _alias_bomb(),
        "k8s/deep-flow.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndata: " + "[" * deep + "]" * deep,
        "k8s/deep-block.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndata:\n"
        + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(1_500)),
        "k8s/binary.yaml": b"apiVersion: v1\nkind: Pod\n\x00\x01\x02\xff\xfe garbage\n",
        "k8s/latin1.yaml": "apiVersion: v1\nkind: ConfigMap\ndata:\n  city: Z\u00fcrich\n".encode("latin-1"),
        "k8s/huge.yaml": POD + "# " + "x" * (6 * 1024 * 1024) + "\n",
        "k8s/empty.yaml": "",
        "k8s/dense-selectors.yaml": dense_selectors(3_000),
        "k8s/dense-references.yaml": dense_references(3_000),
        "k8s/blank.yaml": "\n\n   \n",
        "nginx/dense-upstream/nginx.conf": dense_upstream(5_000),
        "nginx/unbalanced/nginx.conf": "events {}\nhttp {\n  server {\n    listen 80;\n",
        "nginx/extra-brace/nginx.conf": "events {}\nhttp { }\n}\n",
        "nginx/escape/nginx.conf": "events {}\nhttp {\n  include /etc/passwd;\n  include ../../../outside/nginx-secret.conf;\n}\n",
        "nginx/cycle/nginx.conf": "events {}\nhttp {\n  include nginx.conf;\n}\n",
        "nginx/cycle2/nginx.conf": "events {}\nhttp {\n  include conf.d/*.inc;\n}\n",
        "nginx/cycle2/conf.d/a.inc": "include nginx.conf;\n",
        "redis/cycle2/redis.conf": "port 6379\ninclude other.inc\n",
        "redis/cycle2/other.inc": "include redis.conf\n",
        "haproxy/haproxy.cfg": b"global\n  maxconn 100\n\x00defaults\n  mode http\n",
        "redis/nul/redis.conf": b"port 6379\nbind 127.0.0.1\x00\n",
        "redis/escape/redis.conf": "port 6379\ninclude /etc/passwd\ninclude ../../../outside/secret.conf\n",
        "redis/cycle/redis.conf": "port 6379\ninclude ./redis.conf\n",
        "compose/list/compose.yaml": "- web\n- db\n",
        "compose/empty/compose.yaml": "",
        "compose/bomb/compose.yaml": "services:\n" + _alias_bomb().split("data:\n", 1)[1].replace("  a", "  x-a"),
    }
    for name, text in hostile.items():
        write(root, name, text)
    links = {
        "links/self-loop.yaml": "self-loop.yaml",
        "links/loop-a.yaml": "loop-b.yaml",
        "links/loop-b.yaml": "loop-a.yaml",
        "links/outside.yaml": str(outside / "secret.conf"),
        "links/etc-passwd.conf": "/etc/passwd",
    }
    for name, target in links.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, root / name)
    os.symlink("..", root / "links" / "up")  # a folder loop: walking must not follow it
    # A two-file include cycle is reported where it closes: in the included file.
    expected = set(hostile) - {"nginx/cycle2/nginx.conf", "redis/cycle2/redis.conf"}
    # Valid input that only costs: bounded silently (names followed to a few), judged as usual.
    expected -= {"k8s/dense-references.yaml", "nginx/dense-upstream/nginx.conf"}
    expected |= set(links) - {"links/etc-passwd.conf"}  # a .conf nobody claims is not ours to report
    return root, outside, expected


def _run_measured(command: list[str], cwd: Path, out: Path, err: Path) -> tuple[int, float, float, int]:
    """(exit code, wall seconds, cpu seconds, peak RSS bytes) of one child, measured by wait4."""
    with out.open("wb") as stdout, err.open("wb") as stderr:
        started = time.monotonic()
        child = subprocess.Popen(command, cwd=cwd, stdout=stdout, stderr=stderr)
        killer = threading.Timer(WALL_SECONDS * 3, child.kill)  # never hang the test suite itself
        killer.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            killer.cancel()
        wall = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return child.returncode, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def _scan_command() -> list[str]:
    return [sys.executable, "-m", "infralint", "scan", ".", "--format", "json", "--no-config"]


def _env_ok() -> None:
    if not hasattr(os, "wait4"):
        pytest.skip("needs os.wait4 (POSIX)")


def test_hostile_tree_in_a_subprocess_is_reported_bounded(tmp_path: Path) -> None:
    _env_ok()
    root, _, expected = build_tree(tmp_path)
    out, err = tmp_path / "out.json", tmp_path / "err.txt"
    code, wall, cpu, rss = _run_measured(_scan_command(), root, out, err)
    stderr = err.read_text(errors="replace")
    print(f"hostile tree: exit {code}, {wall:.1f} s wall, {cpu:.1f} s cpu, {rss / 2**20:.0f} MiB peak RSS")
    assert code == 1, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    findings = json.loads(out.read_text())["findings"]
    named = {finding["location"]["path"] for finding in findings if finding["rule"].startswith("infralint-")}
    assert expected <= named, f"not reported: {sorted(expected - named)}"
    assert not [f for f in findings if f["rule"] == "infralint-rule-error"]
    assert wall < WALL_SECONDS and cpu < CPU_SECONDS, (wall, cpu)
    assert rss < MAX_RSS_BYTES, rss


def _opened_outside(paths: set[str], root: Path) -> set[str]:
    """Paths opened that are neither in the root nor part of Python and infralint themselves."""
    allowed = [str(root.resolve()), str(REPO), sys.prefix, sys.base_prefix, sys.exec_prefix]
    allowed += [p for p in sys.path if p and os.path.isdir(p)]
    allowed += [
        "/dev/",
        "/proc/",
        "/sys/",
        "/usr/lib",
        "/lib",
        "/usr/share/",
        "/etc/ld.so",
        "/etc/localtime",
        "/etc/ssl/",
    ]
    return {
        path
        for path in paths
        if not any(os.path.realpath(path).startswith(prefix) or path.startswith(prefix) for prefix in allowed)
    }


def test_hostile_tree_reads_nothing_outside_the_root_strace(tmp_path: Path) -> None:
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace not installed (the in-process variant below still runs)")
    root, outside, _ = build_tree(tmp_path)
    log = tmp_path / "opens.log"
    command = [strace, "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", str(log), *_scan_command()]
    completed = subprocess.run(command, cwd=root, capture_output=True, timeout=WALL_SECONDS * 3)
    if completed.returncode != 1 and b"ptrace" in completed.stderr:
        pytest.skip("strace cannot trace here (ptrace not permitted)")
    assert completed.returncode == 1, completed.stderr[-2000:]
    opened = set()
    for line in log.read_text(errors="replace").splitlines():
        if '"' in line and "ENOENT" not in line:
            opened.add(line.split('"')[1])
    assert opened, "strace recorded no open at all"
    assert not {p for p in opened if p.startswith(str(outside)) or p.startswith("/etc/passwd")}
    assert not _opened_outside(opened, root), sorted(_opened_outside(opened, root))


def test_hostile_tree_reads_nothing_outside_the_root_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, outside, expected = build_tree(tmp_path)
    scan_tree(tmp_path / "outside")  # warm up: the catalog and modules load before recording
    opened: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def recording_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(file, (str, bytes, os.PathLike)):
            opened.append(os.path.abspath(os.fsdecode(file)))
        return real_open(file, *args, **kwargs)

    def recording_os_open(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(os.path.abspath(os.fsdecode(path)))
        return real_os_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", recording_open)
    monkeypatch.setattr(io, "open", recording_open)
    monkeypatch.setattr(os, "open", recording_os_open)
    report = scan_tree(root)
    monkeypatch.undo()
    assert expected <= {finding.span.path for finding in report.findings if finding.rule_id.startswith("infralint-")}
    real_root = str(root.resolve())
    read_outside = {
        path for path in opened if not os.path.realpath(path).startswith(real_root) and not path.startswith(str(REPO))
    }
    assert not read_outside, sorted(read_outside)
    assert opened, "the recorder saw no open: the scan reads files some other way"
    assert not [path for path in opened if path.startswith(str(outside))]
