"""Development context: findings in files that are not a deployment get only correctness checks.

A developer environment (a devcontainer, a Tilt overlay, `docker-compose.dev.yml`), a CI or test
compose file, a local stub of a cloud service or a fake API is run by the people who write it,
not by users: that it runs as root, publishes a database port or keeps a literal password is by
design there. Such a file is still parsed and linked (a production file may mount or extend it),
and its correctness and input findings are reported; the production-hardening findings (security,
availability, reliability, performance, caching, observability) are counted in the summary, not
listed.

A finding is in development context when the place it holds in is development:

* a plain file: its own path is a development path, or it is a server config that only
  development services run (every compose service or container mounting it is development);
* a rendered object: every render it holds in is development, i.e. every kustomize root is at a
  development path, and every Helm release has its chart at one or is rendered only with values
  files at development paths (by default: the chart's chart-testing `ci/*-values.yaml`);
* a config file the deployments of the scan do not use: an nginx, HAProxy or Redis file nothing
  runs, while a deployment beside it runs another component for its role (Caddy in front instead
  of nginx, nginx with another config file): see "Configs the scan's deployments do not use" below.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from infralint.findings import Finding
from infralint.graph.mounts import CONFIG_KINDS  # the server configs a service or container runs

if TYPE_CHECKING:
    from infralint.graph.model import Graph, Node
    from infralint.rules.meta import RuleMeta

# Folders that hold a developer environment, whatever the files in them are called.
DEVELOPMENT_FOLDERS = (
    "devenv",
    "dev-env",
    ".devcontainer",
    "devcontainer",
    "gitpod",
    ".gitpod",
    "dev-tilt",
    "tilt",
    "localstack",
)
# Words that make a file or folder name development when they are a part of their own, between
# `.`, `-` or `_` (docker-compose.dev.yml, test-nginx.conf, fake-teams-api.yaml, docker-compose.ci-test.yml).
# Only whole parts count, so devices.yaml, latest.yaml, contest.yaml or citadel.yaml do not; and a
# name that is only the word (an overlay folder `dev/`, a folder `testing/`) does not either: it is
# usually a deployment to a development cluster, not a developer's machine. `demo` marks a setup
# shown to try something (demo-setups/, compose.demo.yaml); `example` does not, because an example
# is what users copy into production.
DEVELOPMENT_WORDS = (
    "dev",
    "devel",
    "development",
    "devcontainer",
    "test",
    "tests",
    "testing",
    "e2e",
    "fake",
    "mock",
    "stub",
    "tilt",
    "demo",
)
# Words that count only as the variant part of a file name: `local` and `ci` also name what a
# production file is about (node-local-dns.yaml, local-path-storage.yaml, gitlab-ci-runner.yaml,
# a deployment-local.yaml that loads a model from local disk), while a development variant of a
# file adds them after a dot or a compose file's name (compose.local.yaml, docker-compose-ci.yml,
# nginx.local.conf, local.yml).
VARIANT_WORDS = ("local", "ci")
# Chart-testing's values files: a chart rendered with these only is rendered for its tests.
TEST_VALUES = ("**/ci/*-values.yaml", "**/ci/*-values.yml")
_SEPARATORS = "[._-]"


def _default_globs() -> tuple[str, ...]:
    folders = tuple(f"{name}/" for name in DEVELOPMENT_FOLDERS)
    anywhere = tuple(
        glob
        for word in DEVELOPMENT_WORDS
        for glob in (f"{word}{_SEPARATORS}*", f"*{_SEPARATORS}{word}{_SEPARATORS}*", f"*{_SEPARATORS}{word}")
    )
    variants = tuple(
        glob for word in VARIANT_WORDS for glob in (f"{word}.*", f"*.{word}.*", f"*compose{_SEPARATORS}{word}.*")
    )
    return folders + anywhere + variants + TEST_VALUES


# The default of the `development-paths` setting: gitignore-style globs (a glob without a `/`
# matches a file or folder name at any depth).
DEFAULT_DEVELOPMENT_PATHS = _default_globs()
# Tags of the checks that hold on a developer's machine too: a broken reference or an unreadable
# file is a bug wherever the file runs. A rule's metadata `development: true|false` overrides this.
DEVELOPMENT_TAGS = frozenset({"correctness", "input"})


def applies_in_development(meta: RuleMeta) -> bool:
    """Whether the rule is reported in development files too."""
    if meta.development is not None:
        return meta.development
    return bool(DEVELOPMENT_TAGS & set(meta.tags))


class DevelopmentPaths:
    """Which paths (relative to the scan root) are development, by the settings' globs."""

    def __init__(self, globs: Sequence[str], relative: Callable[[str], str]) -> None:
        import pathspec

        self._spec = pathspec.GitIgnoreSpec.from_lines(globs) if globs else None
        self._relative = relative
        self._known: dict[str, bool] = {}

    @property
    def active(self) -> bool:
        return self._spec is not None

    def __call__(self, path: str) -> bool:
        known = self._known.get(path)
        if known is None:
            known = self._spec is not None and bool(self._spec.match_file(self._relative(path)))
            self._known[path] = known
        return known


def leave_out(
    findings: list[Finding],
    paths: DevelopmentPaths,
    metas: Iterable[RuleMeta],
    graph: Graph | None,
    root: str | None = None,
) -> tuple[list[Finding], Counter[str]]:
    """The findings to report, and per rule how many production-hardening findings were left out
    because they are in development context."""
    left_out: Counter[str] = Counter()
    if not paths.active:
        return findings, left_out
    hardening = {meta.id for meta in metas if not applies_in_development(meta)}
    context = _Context(paths, graph, root)
    kept = []
    for finding in findings:
        if finding.rule_id in hardening and context.is_development(finding):
            left_out[finding.rule_id] += 1
        else:
            kept.append(finding)
    return kept, left_out


class _Context:
    def __init__(self, paths: DevelopmentPaths, graph: Graph | None, root: str | None = None) -> None:
        self.paths = paths
        self.graph = graph
        self.root = root
        self._helm_scopes: dict[str, list[str]] | None = None
        self._copied: set[str] | None = None
        self._deployments: _Deployments | None = None
        self._not_deployed_configs: dict[str, bool] = {}
        self._config_verdicts: dict[str, bool] = {}  # node id -> development by the configs rules

    def _copied_into_an_image(self, path: str) -> bool:
        """Whether a Dockerfile of the scan copies the file into an image: that image may run
        anywhere, so a config a developer container also mounts is not development only."""
        if self.root is None:
            return False
        if self._copied is None:
            from infralint.images.in_tree import image_files

            self._copied = {source for sources in image_files(self.root).values() for source in sources}
        return path in self._copied

    def is_development(self, finding: Finding) -> bool:
        roots = [related.span.path for related in finding.related if related.role == "root"]
        if roots:  # rendered by kustomize: where it holds decides, not the base file it points at
            return all(self.paths(root) for root in roots)
        node = self.graph.nodes.get(finding.node_id) if self.graph is not None and finding.node_id else None
        scope = node.facts.get("render_scope") if node is not None else None
        if scope:
            return self._scope_is_development(str(scope))
        if self.paths(finding.span.path):
            return True
        if node is None or not node.kind.startswith(_CONFIG_DOMAINS):
            return False  # only server configs run in, or are left out of, deployments
        known = self._config_verdicts.get(node.id)
        if known is None:
            known = self._config_verdicts[node.id] = self._runs_only_in_development(node) or self._not_deployed(node)
        return known

    def _scope_is_development(self, scope: str) -> bool:
        kind, _, name = scope.partition(":")
        if kind == "kustomize":
            return self.paths(f"{name}/kustomization.yaml" if name not in ("", ".") else "kustomization.yaml")
        if kind == "helm":
            chart = name.partition("@")[0]
            # A finding merged over several releases names one of them: all releases of the chart
            # must be development (a chart also rendered with production values keeps it).
            return all(self._release_is_development(other) for other in self._releases_of(chart))
        return False

    def _releases_of(self, chart: str) -> list[str]:
        if self._helm_scopes is None:
            self._helm_scopes = {}
            for node in self.graph.nodes.values() if self.graph is not None else ():
                scope = str(node.facts.get("render_scope") or "")
                if scope.startswith("helm:"):
                    releases = self._helm_scopes.setdefault(scope[5:].partition("@")[0], [])
                    if scope not in releases:
                        releases.append(scope)
        return self._helm_scopes.get(chart, [])

    def _release_is_development(self, scope: str) -> bool:
        """A release (scope id `helm:<chart folder>@<release>[<values files>]`, see render.step) of
        a chart at a development path, or rendered only with values files at development paths
        (by default the chart's `ci/*-values.yaml`). A values set named in the configuration
        (`[prod]`) names no file: it is not development."""
        chart, _, tag = scope[5:].partition("@")
        chart_file = f"{chart}/Chart.yaml" if chart not in ("", ".") else "Chart.yaml"
        if self.paths(chart_file):
            return True
        if not tag.endswith("]") or "[" not in tag:
            return False  # the chart's own values.yaml
        files = tag[tag.index("[") + 1 : -1].split(", ")
        return all(self.paths(_joined(chart, file)) for file in files)

    def _config_of(self, node: Node) -> Node | None:
        """The server config a node is (a part of), if any."""
        assert self.graph is not None
        config: Node | None = node
        while config is not None and not any(kind in CONFIG_KINDS for kind in config.kinds):
            config = self.graph.nodes.get(config.parent) if config.parent else None
        return config

    def _not_deployed(self, node: Node) -> bool:
        """A config file that no deployment of the scan runs while another component takes its role."""
        if self.root is None or self.graph is None:
            return False
        config = self._config_of(node)
        if config is None:
            return False
        known = self._not_deployed_configs.get(config.id)
        if known is None:
            if self._deployments is None:
                self._deployments = _Deployments(self.graph, self.root, self._node_is_development)
            known = not self._copied_into_an_image(config.path) and self._deployments.not_deployed(config)
            self._not_deployed_configs[config.id] = known
        return known

    def _runs_only_in_development(self, node: Node) -> bool:
        """A server config (or a part of one) that only development services or containers run."""
        config = self._config_of(node)
        if config is None or self._copied_into_an_image(config.path):
            return False
        assert self.graph is not None
        ids = config.facts.get("runs_in") or ()
        runners = [self.graph.nodes[ident] for ident in ids if ident in self.graph.nodes]
        if not runners or len(runners) != len(ids):
            return False
        return all(self._node_is_development(runner) for runner in runners)

    def _node_is_development(self, node: Node) -> bool:
        scope = node.facts.get("render_scope")
        return self._scope_is_development(str(scope)) if scope else self.paths(node.path)


# The domains whose nodes are (parts of) server configs, as CONFIG_KINDS names them.
_CONFIG_DOMAINS = tuple(sorted({kind.split("/", 1)[0] + "/" for kind in CONFIG_KINDS}))


def _joined(chart: str, file: str) -> str:
    return os.path.normpath(os.path.join(chart, file)).replace(os.sep, "/") if chart not in ("", ".") else file


# --- Configs the scan's deployments do not use ---------------------------------------------------
#
# An nginx, HAProxy or Redis config file left in a repository whose deployment now runs another
# component for its role (Caddy or Traefik in front instead of nginx, nginx with another config
# file, Redis with another config or with none) is not deployed: nothing runs it. It is judged as
# a development file is. Every piece of evidence must hold, else the file is judged normally:
#
# - nothing runs it: no compose service or k8s container mounts it (graph/mounts.py), no
#   Dockerfile of the scan copies it, no other config includes it;
# - it is not offered to copy: no `example`, `sample`, `template`, `contrib` or `doc(s)` part in its
#   path, and no Helm chart above it (a chart reads its files with `.Files.Get`);
# - a deployment in the same part of the repository (a compose service or k8s container in its
#   folder, a folder above it or a folder below it; when the repository root is known by its `.git`
#   or `.github` and the config lies at its top or in a top-level folder, anywhere in the repository) runs a
#   different component for its role, and no deployment there runs the same component with a
#   config the scan does not know, or mounts a path written with an unset variable;
# - no file around (scripts, Makefiles, workflows, docs, manifests, compose files,
#   kustomizations) names it: a path ending in its name, its name alone, or its folder counts.

ROLE_OF_KIND = {"nginx/config": "nginx", "haproxy/config": "haproxy", "redis/config": "redis"}
# Image repositories (the last part of the name, any registry and tag) by the component they run.
_COMPONENT_IMAGES = {
    "nginx": frozenset(
        {"nginx", "openresty", "nginx-unprivileged", "nginx-proxy", "nginx-proxy-manager", "swag", "angie"}
    ),
    "haproxy": frozenset({"haproxy", "haproxy-alpine", "haproxy-debian", "haproxy-ubuntu"}),
    "redis": frozenset({"redis", "valkey", "redis-stack", "redis-stack-server"}),
    "caddy": frozenset({"caddy", "caddy-docker-proxy", "caddy-gen"}),
    "traefik": frozenset({"traefik"}),
    "envoy": frozenset({"envoy", "envoy-alpine", "envoy-distroless"}),
}
_PROXIES = frozenset({"nginx", "haproxy", "caddy", "traefik", "envoy"})
# Words of a path (between `/`, `.`, `-`, `_`) that offer the file to copy, not to run here.
_OFFERED_WORDS = frozenset(
    {"example", "examples", "sample", "samples", "template", "templates", "tmpl", "dist", "contrib", "doc", "docs"}
)
_WORDS = re.compile(r"[/._-]")
# Files read for a mention of a config's name.
_TEXT_SUFFIXES = frozenset(
    {
        ".md", ".rst", ".txt", ".adoc", ".sh", ".bash", ".zsh", ".ps1", ".bat", ".cmd", ".yml", ".yaml",
        ".json", ".toml", ".ini", ".cfg", ".conf", ".env", ".j2", ".jinja", ".jinja2", ".tpl", ".tmpl",
        ".py", ".js", ".mjs", ".ts", ".go", ".rb", ".pl", ".hcl", ".tf", ".nix", ".service", ".mk",
        ".jsonnet", ".libsonnet", ".cue", ".dockerfile", ".containerfile",
    }
)  # fmt: skip
_TEXT_NAMES = frozenset(
    {"makefile", "gnumakefile", "tiltfile", "vagrantfile", "procfile", "justfile", "jenkinsfile", "taskfile",
     "earthfile", "caddyfile", ".env"}
)  # fmt: skip
_SKIPPED_FOLDERS = frozenset(
    {"node_modules", "vendor", "third_party", "bower_components", "site-packages", "__pycache__"}
)
_LOCK_FILES = frozenset({"package-lock.json", "pnpm-lock.yaml", "composer.lock", "poetry.lock", "cargo.lock"})
MAX_READ_FILES = 3000  # files read around one config; beyond, the config is judged normally
MAX_READ_BYTES = 512 * 1024  # read of each file
MAX_READ_TOTAL = 32 * 1024 * 1024
_NAME_CHAR = re.compile(r"[A-Za-z0-9_-]")
_PATH_TAIL = re.compile(r"[A-Za-z0-9_.\-/${}~@+%]*$")
_VARIABLE = re.compile(r"[${}%~*]")


def component_of(image: object) -> str | None:
    """nginx, haproxy, redis, caddy, traefik or envoy: what an image reference runs, if known."""
    if not isinstance(image, str) or not image.strip() or "$" in image:
        return None
    repository = image.strip().split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0].lower()
    return next((name for name, images in _COMPONENT_IMAGES.items() if repository in images), None)


def _offered_to_copy(path: str) -> bool:
    return any(word in _OFFERED_WORDS for word in _WORDS.split(path.lower()))


def names_path(text: str, path: str) -> bool:
    """Whether TEXT names the file PATH (relative, posix): a path that ends like PATH (after `./`,
    `../` or a variable), or its bare name; `/etc/nginx/nginx.conf` or `other/nginx.conf` does not
    name `nginx/nginx.conf`, `nginx.conf.bak` and `my-nginx.conf` do not name `nginx.conf`."""
    return _named(text, path.split("/"), folder=False)


def names_folder(text: str, folder: str) -> bool:
    """Whether TEXT names the folder itself (`cp -r nginx/ /etc/nginx`, `--from-file=./nginx`,
    `nginx/*.conf`), not a file in it (`./nginx/prod.conf`): written with a `/`, ending like it."""
    return bool(folder) and _named(text, folder.split("/"), folder=True)


def _named(text: str, segments: list[str], folder: bool) -> bool:
    name = segments[-1]
    start = 0
    while True:
        index = text.find(name, start)
        if index < 0:
            return False
        start = index + 1
        end = index + len(name)
        after = text[end] if end < len(text) else ""
        following = text[end + 1] if end + 1 < len(text) else ""
        if folder and after == "/":
            if _NAME_CHAR.match(following) or following == ".":
                continue  # a file or a folder inside it, named on its own
        elif _NAME_CHAR.match(after) or (after == "." and following.isalnum()):
            continue  # a longer name
        before = text[index - 1] if index else ""
        if before and (_NAME_CHAR.match(before) or before == "."):
            continue
        if before != "/":
            if not folder or after == "/":
                return True  # the bare name (a folder's with its slash)
            continue
        prefix = _PATH_TAIL.search(text, max(0, index - 300), index)
        written = (prefix.group(0) if prefix else "") + name
        if _ends_like(posixpath.normpath(written).split("/"), segments):
            return True


def _ends_like(written: list[str], segments: list[str]) -> bool:
    parts = [part for part in written if part not in ("", ".")]
    while parts and parts[0] == "..":
        parts.pop(0)
    extra = len(parts) - len(segments)
    if extra > 0 and not all(_VARIABLE.search(part) for part in parts[:extra]):
        return False  # longer than the path: `/etc/nginx/nginx.conf` for `nginx/nginx.conf`
    tail = parts[max(0, extra) :]
    return all(
        part == segment or _VARIABLE.search(part) for part, segment in zip(tail, segments[-len(tail) :], strict=True)
    )


class _Runner:
    """A compose service or k8s container as a deployment of the scan."""

    __slots__ = ("component", "configs", "folder", "node", "unknown")

    def __init__(self, node: Node, component: str | None, folder: str, configs: set[str], unknown: bool) -> None:
        self.node = node
        self.component = component  # what it runs (component_of), None when unknown
        self.folder = folder
        self.configs = configs  # the kinds of server config of the scan it runs
        self.unknown = unknown  # it may run a config the scan cannot see (an unset variable in a mount ...)


class _Deployments:
    """Which file configs no deployment of the scan uses while another component takes their role."""

    def __init__(self, graph: Graph, root: str, is_development: Callable[[Node], bool]) -> None:
        self.graph = graph
        self.root = root
        self._is_development = is_development
        self._runners: list[_Runner] | None = None
        self._included: set[str] | None = None
        self._repositories: dict[str, tuple[str, bool]] = {}
        self._texts: dict[str, list[tuple[str, str]] | None] = {}

    def not_deployed(self, config: Node) -> bool:
        role = ROLE_OF_KIND.get(config.kind)
        if role is None or config.facts.get("embedded_in") or config.facts.get("embedded"):
            return False
        if config.facts.get("runs_in") or config.facts.get("included_by") or _offered_to_copy(config.path):
            return False
        if config.path in self._included_files():
            return False
        folder = posixpath.dirname(config.path)
        repository, known = self._repository(folder)
        runners = [runner for runner in self._all_runners() if _in_part(runner.folder, folder, repository, known)]
        if not _role_taken_elsewhere(role, runners) or self._in_chart(folder, repository):
            return False
        whole = known and (folder == repository or posixpath.dirname(folder) == repository)
        # The folders are all on one line of descent: the shortest holds the others.
        around = repository if whole else min([folder, *(runner.folder for runner in runners)], key=len)
        texts = self._texts_around(around, repository)
        if texts is None:
            return False  # too many files to tell
        # Its own file, and the files it includes (`# included by nginx.conf`), do not count.
        own = {config.path, *_include_paths(config)}
        return not any(
            path not in own and (names_path(text, config.path) or names_folder(text, folder)) for path, text in texts
        )

    def _all_runners(self) -> list[_Runner]:
        if self._runners is None:
            configs: dict[str, set[str]] = {}
            for config in self.graph.of_kind(*CONFIG_KINDS):
                for ident in config.facts.get("runs_in") or ():
                    configs.setdefault(ident, set()).add(config.kind)
            self._runners = []
            for node in self.graph.of_kind("compose/service", "k8s/container"):
                if self._is_development(node):
                    continue
                self._runners.append(
                    _Runner(
                        node,
                        _runner_component(node),
                        posixpath.dirname(node.path),
                        configs.get(node.id, set()),
                        _may_run_unseen_config(node),
                    )
                )
        return self._runners

    def _included_files(self) -> set[str]:
        """Files another config includes (nginx `include`, Redis `include`, by the name written)."""
        if self._included is None:
            included = {path for config in self.graph.of_kind(*CONFIG_KINDS) for path in _include_paths(config)}
            names = {posixpath.basename(path) for path in included}
            self._included = included | {
                node.path for node in self.graph.of_kind(*CONFIG_KINDS) if posixpath.basename(node.path) in names
            }
        return self._included

    def _repository(self, folder: str) -> tuple[str, bool]:
        """The repository root around FOLDER (relative to the scan root), and whether it is known by
        its `.git` or `.github` (else it is the scan root)."""
        found = self._repositories.get(folder)
        if found is None:
            from infralint.parsers.compose_invocations import repository_root

            root = os.path.abspath(self.root)
            absolute = repository_root(os.path.join(root, *folder.split("/")) if folder else root, root)
            relative = os.path.relpath(absolute, root).replace(os.sep, "/")
            relative = "" if relative == "." else relative
            known = os.path.isdir(os.path.join(absolute, ".github")) or os.path.exists(os.path.join(absolute, ".git"))
            found = self._repositories[folder] = (relative, known)
        return found

    def _in_chart(self, folder: str, repository: str) -> bool:
        """Whether a Helm chart holds the folder: its templates may read the file (`.Files.Get`)."""
        current = folder
        while True:
            if os.path.exists(os.path.join(self.root, *current.split("/"), "Chart.yaml")):
                return True
            if current == repository or not current:
                return False
            current = posixpath.dirname(current)

    def _texts_around(self, folder: str, repository: str) -> list[tuple[str, str]] | None:
        """(path, text) of the files below FOLDER that may name a config, with the repository
        root's own files and workflows; None when there are more than MAX_READ_FILES."""
        if folder in self._texts:
            return self._texts[folder]
        paths = _text_files(self.root, folder)
        extra = [] if folder == repository else _text_files(self.root, repository, nested=False)
        workflows = _text_files(
            self.root, posixpath.join(repository, ".github/workflows") if repository else ".github/workflows"
        )
        texts: list[tuple[str, str]] | None = None
        if paths is not None and extra is not None and workflows is not None:
            every = sorted({*paths, *extra, *workflows})
            if len(every) <= MAX_READ_FILES and _size(self.root, every) <= MAX_READ_TOTAL:
                texts = []
                for path in every:
                    text = _read(os.path.join(self.root, *path.split("/")))
                    if text is not None:
                        texts.append((path, text))
        self._texts[folder] = texts
        return texts


def _in_part(runner: str, config: str, repository: str, known: bool) -> bool:
    """Whether a deployment in folder RUNNER is in the part of the repository the config's folder
    CONFIG is in: either folder holds the other, or the config lies at the top of a known repository."""
    if repository and runner != repository and not runner.startswith(repository + "/"):
        return False
    if not runner or config == runner or config.startswith(runner + "/"):
        return True  # the config is in the deployment's folder tree
    if not config or runner.startswith(config + "/"):
        return True  # the deployment is in the config's folder tree
    return known and (config == repository or posixpath.dirname(config) == repository)


def _role_taken_elsewhere(role: str, runners: list[_Runner]) -> bool:
    """Whether the deployments run another component for ROLE, or ROLE's component with another
    config, and none may run a config the scan does not see."""
    if not runners or any(runner.unknown for runner in runners):
        return False
    same = [runner for runner in runners if runner.component == role]
    if role == "redis":
        # Redis with its own config of the scan, or with none (no `.conf` on its command line).
        return bool(same) and all(
            "redis/config" in runner.configs or not _names_a_config(runner.node) for runner in same
        )
    kind = f"{role}/config"
    if any(kind not in runner.configs for runner in same):
        return False  # it runs the image's own config, or one from outside the scan
    others = [runner for runner in runners if runner.component in _PROXIES and runner.component != role]
    return bool(same or others)


def _include_paths(config: Node) -> set[str]:
    """The files a config includes, as they are known (nginx: resolved; Redis: also as written)."""
    found: set[str] = set()
    for item in config.facts.get("includes") or ():
        if isinstance(item, str):
            found.add(item)
        elif isinstance(item, dict):  # Redis: the target as written, and the files it reached
            found.update(str(path) for path in [item.get("target"), *(item.get("followed") or ())] if path)
    return found


def _runner_component(node: Node) -> str | None:
    if node.kind == "compose/service":
        built = node.facts.get("image_build")
        if isinstance(built, dict):
            return component_of(built.get("base"))
        if node.facts.get("build"):
            return None  # built from a Dockerfile the scan cannot read
        return component_of(node.facts.get("image"))
    return component_of(node.attrs.get("image"))


def _may_run_unseen_config(node: Node) -> bool:
    """A compose service with a bind mount written with an unset variable (`${NGINX_CONFIG_PATH}:/etc/nginx/conf.d`,
    which leaves no source to resolve): it may mount the file."""
    if any(mount.get("unresolved") for mount in node.facts.get("bind_mounts") or () if isinstance(mount, dict)):
        return True
    volumes = node.attrs.get("volumes") if node.kind == "compose/service" else None
    for item in volumes if isinstance(volumes, list) else ():
        if isinstance(item, str) and (item.startswith(":") or "$" in item):
            return True
        if isinstance(item, dict) and item.get("type") == "bind" and not item.get("source"):
            return True
    return False


def _names_a_config(node: Node) -> bool:
    from infralint.graph.mounts import command_line

    return any(".conf" in word for word in command_line(node))


def _text_files(root: str, folder: str, nested: bool = True) -> list[str] | None:
    """Paths (relative, posix) of the files below FOLDER that may name another file; None when
    there are more than MAX_READ_FILES."""
    found: list[str] = []
    top = os.path.join(root, *folder.split("/")) if folder else root
    for current, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if nested and not d.startswith(".") and d not in _SKIPPED_FOLDERS)
        for name in sorted(files):
            lower = name.lower()
            if lower in _LOCK_FILES:
                continue
            if (
                lower in _TEXT_NAMES
                or os.path.splitext(lower)[1] in _TEXT_SUFFIXES
                or lower.startswith(("dockerfile", "containerfile", ".env", "env."))
            ):
                found.append(os.path.relpath(os.path.join(current, name), root).replace(os.sep, "/"))
                if len(found) > MAX_READ_FILES:
                    return None
    return found


def _size(root: str, paths: list[str]) -> int:
    total = 0
    for path in paths:
        with contextlib.suppress(OSError):
            total += min(os.stat(os.path.join(root, *path.split("/"))).st_size, MAX_READ_BYTES)
    return total


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(MAX_READ_BYTES)
    except OSError:
        return None
