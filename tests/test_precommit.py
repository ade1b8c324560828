"""The pre-commit hook: its context discovery, and the real `pre-commit` running it.

`pre-commit try-repo` installs the hook from a git repository into its own virtualenv, as users
get it; the hook repository is built here from the working tree, so the test checks the code
under test, uncommitted or in a fresh clone alike.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import REPO, require_binary

from infralint.api import ScanOptions, scan
from infralint.context import expand

# What the package build needs (pyproject.toml force-includes rules/, schemas/ and fixtures/).
HOOK_REPO_PATHS = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "infralint", "rules", "schemas", "fixtures")

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 2
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
        - name: api
          image: ghcr.io/example/api:1.4.2
          ports:
            - name: http
              containerPort: 8080
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector:
    app: api
  ports:
    - name: http
      port: 80
      targetPort: http
"""
# Routes to port 8080 of the Service, which only has port 80: known only with service.yaml read.
INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
spec:
  tls:
    - hosts: [shop.example.com]
      secretName: shop-tls
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: api
                port:
                  number: 8080
"""
INGRESS_BAD_LINE = 19
# nginx in a subfolder of a compose project: the compose file above says what `app` exposes.
COMPOSE = """\
services:
  proxy:
    image: nginx:1.27.2
    volumes:
      - ./nginx/nginx.conf:/etc/nginx/nginx.conf:ro
  app:
    image: ghcr.io/example/app:3.1.0
    expose:
      - "9000"
"""
NGINX = """\
events {}
http {
    server_tokens off;
    server {
        listen 80;
        location / {
            proxy_pass http://app:9001;
        }
    }
}
"""
NGINX_BAD_LINE = 7


def has_rule(rule_id: str) -> bool:
    from infralint.catalog import meta_by_id

    return rule_id in meta_by_id()


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def relative(paths: list[str], root: Path) -> set[str]:
    return {Path(p).relative_to(root).as_posix() for p in paths}


# --- context discovery -----------------------------------------------------------------------


def test_context_of_a_mounted_config_is_its_folder_and_the_compose_file_above(tmp_path: Path, in_dir) -> None:
    write(
        tmp_path,
        {
            "shop/compose.yaml": "services:\n  proxy:\n    image: nginx:1.27\n",
            "shop/nginx/nginx.conf": "events {}\n",
            "shop/nginx/extra.conf": "server { listen 80; }\n",
            "shop/nginx/deeper/ignored.conf": "server { listen 81; }\n",
            "shop/redis.conf": "port 6379\n",
            "other/compose.yaml": "services:\n  a:\n    image: a:1\n",
            "README.md": "not a config\n",
        },
    )
    (tmp_path / ".git").mkdir()
    in_dir(tmp_path)
    got = relative(expand(["shop/nginx/nginx.conf"]), tmp_path)
    # Not the sibling folder's files, not the Redis config beside the compose file, not below.
    assert got == {"shop/nginx/nginx.conf", "shop/nginx/extra.conf", "shop/compose.yaml"}


def test_context_of_a_compose_file_adds_what_it_bind_mounts(tmp_path: Path, in_dir) -> None:
    write(
        tmp_path,
        {
            "compose.yaml": """\
                services:
                  proxy:
                    image: nginx:1.27
                    volumes:
                      - ./proxy/nginx.conf:/etc/nginx/nginx.conf:ro
                      - ./proxy/sites:/etc/nginx/conf.d:ro
                      - data:/data
                volumes:
                  data: {}
                """,
            "proxy/nginx.conf": "events {}\n",
            "proxy/sites/a.conf": "server { listen 80; }\n",
            "unmounted/nginx.conf": "events {}\n",
        },
    )
    (tmp_path / ".git").mkdir()
    in_dir(tmp_path)
    got = relative(expand(["compose.yaml"]), tmp_path)
    assert got == {"compose.yaml", "proxy/nginx.conf", "proxy/sites/a.conf"}


def test_context_follows_kustomizations_and_honours_gitignore(tmp_path: Path, in_dir) -> None:
    write(
        tmp_path,
        {
            "base/kustomization.yaml": "resources:\n  - deployment.yaml\n  - https://example.com/remote.yaml\n",
            "base/deployment.yaml": DEPLOYMENT,
            "overlays/prod/kustomization.yaml": "resources:\n  - ../../base\npatches:\n  - path: patch.yaml\n",
            "overlays/prod/patch.yaml": DEPLOYMENT,
            "overlays/prod/local-secret.yaml": SERVICE,
            ".gitignore": "local-*.yaml\n",
        },
    )
    (tmp_path / ".git").mkdir()
    in_dir(tmp_path)
    got = relative(expand(["overlays/prod/patch.yaml"]), tmp_path)
    assert got == {
        "overlays/prod/patch.yaml",
        "overlays/prod/kustomization.yaml",
        "base/kustomization.yaml",
        "base/deployment.yaml",
    }


def test_context_stops_at_the_repository_root(tmp_path: Path, in_dir) -> None:
    write(tmp_path, {"compose.yaml": "services: {}\n", "repo/app/web.yaml": INGRESS, "repo/svc.yaml": SERVICE})
    (tmp_path / "repo" / ".git").mkdir()
    in_dir(tmp_path)
    got = relative(expand(["repo/app/web.yaml"]), tmp_path)
    assert got == {"repo/app/web.yaml", "repo/svc.yaml"}


def _located(report, path: str) -> set[tuple[str, int | None, str]]:
    return {(f.rule_id, f.span.line, f.message) for f in report.findings if f.span.path == path}


@pytest.mark.parametrize(
    "changed",
    sorted(p.relative_to(REPO).as_posix() for p in (REPO / "examples").rglob("*") if p.is_file()),
)
def test_a_changed_example_gets_what_a_full_scan_reports_on_it(changed: str, in_dir) -> None:
    """The hook's promise: on a changed file, the findings of a scan of the whole project."""
    in_dir(REPO)
    full = scan([str(Path(changed).parts[0] + "/" + Path(changed).parts[1])])
    hook = scan(expand([changed]), ScanOptions(report_only=[changed]))
    assert _located(hook, changed) == _located(full, changed)
    # Elsewhere only what the changed file sets: a rendered value written in a changed values file.
    elsewhere = [f for f in hook.findings if f.span.path != changed]
    assert all(any(r.role and r.span.path == changed for r in f.related) for f in elsewhere)
    assert {(f.rule_id, f.span.path, f.span.line) for f in elsewhere} <= {
        (f.rule_id, f.span.path, f.span.line) for f in full.findings
    }


def test_a_changed_nginx_conf_is_judged_against_the_compose_file_above(tmp_path: Path, in_dir) -> None:
    if not has_rule("nginx-upstream-port-mismatch"):
        pytest.skip("nginx-upstream-port-mismatch is not in the catalog yet")
    write(tmp_path, {"shop/compose.yaml": COMPOSE, "shop/nginx/nginx.conf": NGINX})
    (tmp_path / ".git").mkdir()
    in_dir(tmp_path)
    changed = "shop/nginx/nginx.conf"
    alone = scan([changed])
    in_context = scan(expand([changed]), ScanOptions(report_only=[changed]))
    assert "nginx-upstream-port-mismatch" not in {f.rule_id for f in alone.findings}  # no compose: not judged
    (mismatch,) = [f for f in in_context.findings if f.rule_id == "nginx-upstream-port-mismatch"]
    assert (mismatch.span.path, mismatch.span.line) == (changed, NGINX_BAD_LINE)
    assert [r.span.path for r in mismatch.related] == ["shop/compose.yaml"]


def test_report_only_keeps_findings_located_in_the_changed_files(tmp_path: Path, in_dir) -> None:
    write(tmp_path, {"k8s/deploy.yaml": DEPLOYMENT, "k8s/service.yaml": SERVICE, "k8s/ingress.yaml": INGRESS})
    (tmp_path / ".git").mkdir()
    in_dir(tmp_path)
    on_ingress = scan(expand(["k8s/ingress.yaml"]), ScanOptions(report_only=["k8s/ingress.yaml"]))
    assert [(f.rule_id, f.span.path, f.span.line) for f in on_ingress.findings] == [
        ("k8s-ingress-backend-missing", "k8s/ingress.yaml", INGRESS_BAD_LINE)
    ]
    # The Service beside it: read, so the Ingress is judged against its ports ...
    assert "has no such port" in on_ingress.findings[0].message
    assert [r.span.path for r in on_ingress.findings[0].related] == ["k8s/service.yaml"]
    # ... and a commit of the Service alone is not blocked by the Ingress pointing at it.
    on_service = scan(expand(["k8s/service.yaml"]), ScanOptions(report_only=["k8s/service.yaml"]))
    assert on_service.findings == []


def test_config_exclude_holds_for_changed_files(tmp_path: Path, in_dir) -> None:
    """A plain scan reads a file named on the command line even when excluded; pre-commit names
    every changed file, so there the configuration's `exclude` must hold."""
    from click.testing import CliRunner

    from infralint.cli import main

    latest = DEPLOYMENT.replace("api:1.4.2", "api:latest")
    write(tmp_path, {".infralint.yaml": "exclude:\n  - vendor/\n", "vendor/web.yaml": latest, "app/web.yaml": latest})
    (tmp_path / ".git").mkdir()
    in_dir(tmp_path)

    def reported(*args: str) -> set[str]:
        result = CliRunner().invoke(main, ["scan", "--no-color", "--format", "json", *args])
        assert result.exit_code in (0, 1), result.output
        return {finding["location"]["path"] for finding in json.loads(result.output)["findings"]}

    assert reported("--with-context", "vendor/web.yaml", "app/web.yaml") == {"app/web.yaml"}
    assert reported("--with-context", "vendor/web.yaml") == set()
    assert reported("vendor/web.yaml") == {"vendor/web.yaml"}  # named on a plain command line: scanned


# --- the real pre-commit ---------------------------------------------------------------------


def pre_commit_command() -> list[str]:
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        return [require_binary("pre-commit")]
    return [sys.executable, "-m", "pre_commit"]


def clean_env(tmp_path: Path) -> dict[str, str]:
    """No GIT_* leaking in from an outer hook; a private pre-commit cache; this Python first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["NO_COLOR"] = "1"
    return env


def git(cwd: Path, *args: str, env: dict[str, str]) -> None:
    identity = ["-c", "user.name=infralint tests", "-c", "user.email=tests@infralint.invalid"]
    subprocess.run(["git", *identity, *args], cwd=cwd, env=env, check=True, capture_output=True)


def hook_repository(tmp_path: Path, env: dict[str, str]) -> Path:
    """A git repository holding the working tree's package and hook manifest, committed."""
    hook = tmp_path / "hook-repo"
    hook.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in HOOK_REPO_PATHS:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, hook / name, ignore=ignore)
        else:
            shutil.copy2(source, hook / name)
    git(hook, "init", "-q", env=env)
    git(hook, "add", ".", env=env)
    git(hook, "commit", "-q", "-m", "hook under test", env=env)
    return hook


def run_hook(command: list[str], hook: Path, project: Path, files: list[str], env: dict[str, str]):
    return subprocess.run(
        [*command, "try-repo", str(hook), "infralint", "--color", "never", "--files", *files],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_pre_commit_try_repo_reports_changed_files_in_their_context(tmp_path: Path) -> None:
    require_binary("git")
    command = pre_commit_command()
    env = clean_env(tmp_path)
    hook = hook_repository(tmp_path, env)
    project = tmp_path / "project"
    write(
        project,
        {
            "k8s/deploy.yaml": DEPLOYMENT,
            "k8s/service.yaml": SERVICE,
            "k8s/ingress.yaml": INGRESS,
            "shop/compose.yaml": COMPOSE,
            "shop/nginx/nginx.conf": NGINX,
        },
    )
    git(project, "init", "-q", env=env)
    git(project, "add", ".", env=env)

    bad = run_hook(command, hook, project, ["k8s/ingress.yaml", "shop/nginx/nginx.conf"], env)
    output = bad.stdout + bad.stderr
    assert bad.returncode == 1, output
    assert "infralint" in output and "Failed" in output
    assert f"k8s/ingress.yaml:{INGRESS_BAD_LINE}:19: error k8s-ingress-backend-missing" in output
    assert "has no such port" in output  # judged against service.yaml, which was not passed
    assert "k8s/service.yaml:8:3" in output  # the related location in the context file
    assert "deploy.yaml:" not in output.replace("k8s/deploy.yaml", "")  # context findings stay quiet
    assert "Scanned 5 files (1 compose, 3 k8s, 1 nginx)" in output  # 2 passed, 3 read for context
    if has_rule("nginx-upstream-port-mismatch"):  # judged against shop/compose.yaml, not passed
        assert f"shop/nginx/nginx.conf:{NGINX_BAD_LINE}:13: error nginx-upstream-port-mismatch" in output
        assert "shop/compose.yaml:" in output

    good = run_hook(command, hook, project, ["k8s/service.yaml"], env)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout
    assert "k8s-" not in good.stdout


def test_repository_own_hook_passes_on_the_repository(tmp_path: Path) -> None:
    """The repo's .pre-commit-config.yaml runs infralint on itself and skips the broken fixtures.

    It runs in a copy of the working tree (files git tracks or would track): pre-commit fails a
    hook when files change under it, as they may in a tree someone is editing."""
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    command = pre_commit_command()
    env = clean_env(tmp_path)
    listing = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    files = subprocess.run(listing, cwd=REPO, env=env, capture_output=True, check=True).stdout.decode().split("\0")
    copy = tmp_path / "repo"
    for name in files:
        if name and (REPO / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, copy / name)
    git(copy, "init", "-q", env=env)
    git(copy, "add", ".", env=env)
    for check in (["validate-config", ".pre-commit-config.yaml"], ["validate-manifest", ".pre-commit-hooks.yaml"]):
        result = subprocess.run([*command, *check], cwd=copy, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
    result = subprocess.run(
        [*command, "run", "infralint", "--all-files", "--color", "never", "--verbose"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout
