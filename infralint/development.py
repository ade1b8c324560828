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
  files at development paths (by default: the chart's chart-testing `ci/*-values.yaml`).
"""

from __future__ import annotations

import os
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
        return node is not None and self._runs_only_in_development(node)

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

    def _runs_only_in_development(self, node: Node) -> bool:
        """A server config (or a part of one) that only development services or containers run."""
        assert self.graph is not None
        config: Node | None = node
        while config is not None and not any(kind in CONFIG_KINDS for kind in config.kinds):
            config = self.graph.nodes.get(config.parent) if config.parent else None
        if config is None or self._copied_into_an_image(config.path):
            return False
        ids = config.facts.get("runs_in") or ()
        runners = [self.graph.nodes[ident] for ident in ids if ident in self.graph.nodes]
        if not runners or len(runners) != len(ids):
            return False
        return all(self._node_is_development(runner) for runner in runners)

    def _node_is_development(self, node: Node) -> bool:
        scope = node.facts.get("render_scope")
        return self._scope_is_development(str(scope)) if scope else self.paths(node.path)


def _joined(chart: str, file: str) -> str:
    return os.path.normpath(os.path.join(chart, file)).replace(os.sep, "/") if chart not in ("", ".") else file
