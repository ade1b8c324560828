"""Kustomize builds: safe copies, problems at their entries, and a source map line by line.

The tree under tests/data/kustomize/webapp is built for real (kubectl kustomize, or kustomize);
each origin asserted below is the exact file and line a reader would point at.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infralint.parsers.yamlpos import load_documents
from infralint.render.kustomize import KustomizeBuild, build, find_binary, find_roots
from infralint.render.model import RenderedText

WEBAPP = Path(__file__).parent / "data" / "kustomize" / "webapp"
PROD = WEBAPP / "overlays" / "prod" / "kustomization.yaml"
CORPUS = Path(os.environ.get("INFRALINT_CORPUS_CHARTS", "/work/shared/corpus-charts"))
NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


@pytest.fixture(scope="module")
def binary() -> list[str]:
    found = find_binary()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("neither kustomize nor kubectl is installed: CI must install one")
        pytest.skip("neither kustomize nor kubectl is installed")
    return found


@pytest.fixture(scope="module")
def prod(binary: list[str]) -> KustomizeBuild:
    return build(str(WEBAPP), str(PROD))


@pytest.fixture(scope="module")
def prod_text(prod: KustomizeBuild) -> RenderedText:
    assert len(prod.texts) == 1
    return prod.texts[0]


def origin_of(rendered: RenderedText, needle: str, kind: str | None = None) -> tuple[str, int]:
    """(path, line) of the one rendered line equal to NEEDLE (stripped), inside a KIND object."""
    line = rendered_line(rendered, needle, kind)
    origin = rendered.origin(line)
    assert origin is not None, f"no origin for rendered line {line}: {needle!r}"
    return origin.path, origin.line


def rendered_line(rendered: RenderedText, needle: str, kind: str | None = None) -> int:
    found = []
    current = None
    for number, text in enumerate(rendered.text.splitlines(), start=1):
        if text.startswith("kind: "):
            current = text[len("kind: ") :]
        if text.startswith("---"):
            current = None
        if text.strip() == needle and kind in (None, current):
            found.append(number)
    # kind comes after data in kustomize's sorted output: look again by document
    if not found and kind is not None:
        found = [n for n in _lines_in_kind(rendered.text, kind) if rendered.text.splitlines()[n - 1].strip() == needle]
    assert len(found) == 1, f"{needle!r} in {kind}: rendered lines {found}"
    return found[0]


def _lines_in_kind(text: str, kind: str) -> list[int]:
    lines: list[int] = []
    for doc in load_documents(text):
        if isinstance(doc.data, dict) and doc.data.get("kind") == kind:
            start, _col, end = doc.positions[()]
            lines += range(start, end + 1)
    return lines


def at(rendered: RenderedText, line: int) -> tuple[str, int] | None:
    origin = rendered.origin(line)
    return (origin.path, origin.line) if origin else None


def source_line(path: str, line: int) -> str:
    return (WEBAPP / path).read_text().splitlines()[line - 1]


def tree_digest(folder: Path) -> str:
    """Names, modes and contents of every file and folder under FOLDER."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        digest.update(f"{path.relative_to(folder)}:{stat.filemode(info.st_mode)}\n".encode())
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def kustomizations_under(folder: Path) -> list[str]:
    return [p for p in glob.glob(f"{folder}/**/*", recursive=True) if os.path.basename(p) in NAMES]


# --- roots ------------------------------------------------------------------------------------------


def test_roots_are_the_overlays_not_the_base_nor_components() -> None:
    roots = find_roots(str(WEBAPP), kustomizations_under(WEBAPP))
    assert roots == [str(WEBAPP / "overlays/broken/kustomization.yaml"), str(PROD)]


def test_roots_of_a_garbage_kustomization_and_a_cycle(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "junk").mkdir()
    (tmp_path / "a/kustomization.yaml").write_text("resources: [../b]\n")
    (tmp_path / "b/kustomization.yaml").write_text("resources: [../a]\n")
    (tmp_path / "junk/kustomization.yaml").write_text("resources: [\n")
    files = kustomizations_under(tmp_path)
    # a and b reach each other: neither is a root; a file that does not parse is one (its build says why)
    assert find_roots(str(tmp_path), files) == [str(tmp_path / "junk/kustomization.yaml")]


# --- the overlay, built -----------------------------------------------------------------------------


def test_remote_resource_and_krm_function_are_problems_at_their_entries(prod: KustomizeBuild) -> None:
    found = sorted((p.rule_id, p.path, p.line) for p in prod.problems)
    assert found == [
        ("infralint-not-fetched", "overlays/prod/kustomization.yaml", 7),
        ("infralint-render-error", "overlays/prod/kustomization.yaml", 30),
    ]
    plugin = next(p for p in prod.problems if p.rule_id == "infralint-render-error")
    assert plugin.message.startswith("not run: ") and "set-owner.yaml" in plugin.message
    assert source_line("overlays/prod/kustomization.yaml", 7).strip().startswith("- https://github.com/")
    assert source_line("overlays/prod/kustomization.yaml", 30).strip() == "- set-owner.yaml"


def test_the_rest_builds(prod: KustomizeBuild, prod_text: RenderedText) -> None:
    kinds = sorted(doc.data["kind"] for doc in load_documents(prod_text.text))
    assert kinds == ["ConfigMap", "ConfigMap", "Deployment", "Service"]
    assert prod.root == "overlays/prod/kustomization.yaml"
    assert prod_text.name == "overlays/prod"
    assert prod_text.home == "overlays/prod/kustomization.yaml"


def test_inputs_are_the_files_the_build_read(prod: KustomizeBuild) -> None:
    assert prod.inputs == {
        "base/kustomization.yaml",
        "base/deployment.yaml",
        "base/service.yaml",
        "base/redis.conf",
        "components/monitoring/kustomization.yaml",
        "overlays/prod/kustomization.yaml",
        "overlays/prod/nginx.conf",
        "overlays/prod/resources.yaml",
        "overlays/prod/set-owner.yaml",
    }


def test_build_metadata_annotations_are_stripped_and_lines_aligned(prod_text: RenderedText) -> None:
    assert "config.kubernetes.io/origin" not in prod_text.text
    assert "alpha.config.kubernetes.io/transformations" not in prod_text.text
    assert 'prometheus.io/scrape: "true"' in prod_text.text  # annotations a kustomization asked for stay
    lines = prod_text.text.splitlines()
    assert len(prod_text.lines) == len(lines)
    unmapped = [line for line, origin in zip(lines, prod_text.lines, strict=True) if origin is None]
    assert set(unmapped) == {"---"}


def test_generated_redis_conf_maps_to_the_file_line_by_line(prod_text: RenderedText) -> None:
    assert origin_of(prod_text, "maxmemory 256mb") == ("base/redis.conf", 6)
    assert origin_of(prod_text, "bind 0.0.0.0") == ("base/redis.conf", 2)
    assert origin_of(prod_text, "# Redis for the web cache") == ("base/redis.conf", 1)
    # Columns: the rendered text is indented by 4; the file is not.
    line = rendered_line(prod_text, "maxmemory 256mb")
    origin = prod_text.origin(line)
    assert origin is not None and origin.column(5) == 1 and origin.column(15) == 11


def test_generated_configmap_keys_and_object_map_to_the_generator(prod_text: RenderedText) -> None:
    assert origin_of(prod_text, "redis.conf: |") == ("base/kustomization.yaml", 11)
    assert origin_of(prod_text, "LOG_LEVEL: info") == ("base/kustomization.yaml", 13)
    name = next(line.strip() for line in prod_text.text.splitlines() if "name: prod-redis-config-" in line)
    lines = [n for n, text in enumerate(prod_text.text.splitlines(), 1) if text.strip() == name]
    config_map_line = next(n for n in lines if n in _lines_in_kind(prod_text.text, "ConfigMap"))
    assert at(prod_text, config_map_line) == ("base/kustomization.yaml", 9)
    assert source_line("base/kustomization.yaml", 9).strip() == "- name: redis-config"


def test_generated_nginx_conf_from_the_overlay(prod_text: RenderedText) -> None:
    assert origin_of(prod_text, "proxy_pass http://127.0.0.1:9000;") == ("overlays/prod/nginx.conf", 6)
    assert origin_of(prod_text, "default.conf: |") == ("overlays/prod/kustomization.yaml", 19)


def test_overlay_transformers_map_to_their_entries(prod_text: RenderedText) -> None:
    overlay = "overlays/prod/kustomization.yaml"
    assert origin_of(prod_text, "image: nginx:1.27.1", "Deployment") == (overlay, 12)  # images: newTag
    assert source_line(overlay, 12).strip() == 'newTag: "1.27.1"'
    assert origin_of(prod_text, "replicas: 3", "Deployment") == (overlay, 15)  # replicas: count
    assert origin_of(prod_text, "name: prod-web", "Deployment") == (overlay, 3)  # namePrefix
    assert origin_of(prod_text, "name: prod-web", "Service") == (overlay, 3)
    assert origin_of(prod_text, "namespace: shop", "Service") == (overlay, 4)


def test_patches_map_to_the_patch_lines(prod_text: RenderedText) -> None:
    assert origin_of(prod_text, "memory: 512Mi") == ("overlays/prod/resources.yaml", 12)
    assert origin_of(prod_text, "- name: CACHE_HOST") == ("overlays/prod/resources.yaml", 14)
    assert origin_of(prod_text, "resources:", "Deployment") == ("overlays/prod/resources.yaml", 10)
    # An inline JSON6902 patch: the op's `path:` line inside the kustomization.
    assert origin_of(prod_text, "port: 8080", "Service") == ("overlays/prod/kustomization.yaml", 27)
    assert source_line("overlays/prod/kustomization.yaml", 27).strip() == "path: /spec/ports/0/port"


def test_untouched_fields_map_to_the_base_with_exact_columns(prod_text: RenderedText) -> None:
    assert origin_of(prod_text, "targetPort: http", "Service") == ("base/service.yaml", 11)
    assert origin_of(prod_text, "image: redis:7.2") == ("base/deployment.yaml", 25)
    line = rendered_line(prod_text, "image: redis:7.2")
    rendered_col = prod_text.text.splitlines()[line - 1].index("image") + 1
    origin = prod_text.origin(line)
    assert origin is not None
    assert origin.column(rendered_col) == source_line("base/deployment.yaml", 25).index("image") + 1
    # A name reference kustomize rewrote (prefix + hash) stays at the key the user wrote.
    reference = next(
        n
        for n, text in enumerate(prod_text.text.splitlines(), 1)
        if "name: prod-redis-config-" in text and n in _lines_in_kind(prod_text.text, "Deployment")
    )
    assert at(prod_text, reference) == ("base/deployment.yaml", 36)


def test_a_line_starting_a_list_item_maps_to_its_key_and_keeps_the_item_apart(prod_text: RenderedText) -> None:
    # kustomize sorts keys: the redis container's first rendered line is `- args:`. The line is
    # the `args:` key for findings on it; findings on the container use the item's own line.
    line = next(n for n, text in enumerate(prod_text.text.splitlines(), 1) if text.strip().startswith("- args:"))
    assert source_line(*at(prod_text, line)).strip().startswith("args:")
    item = prod_text.items[line]
    assert (item.path, item.line) == ("base/deployment.yaml", 24)
    assert source_line("base/deployment.yaml", 24).strip() == "- name: redis"
    # The web container starts with `- env:`, which the overlay's patch added: the patch's line.
    assert origin_of(prod_text, "- env:") == ("overlays/prod/resources.yaml", 13)


def test_labels_and_component_annotations_map_to_their_kustomizations(prod_text: RenderedText) -> None:
    label = "app.kubernetes.io/name: webapp"
    lines = [n for n, text in enumerate(prod_text.text.splitlines(), 1) if text.strip() == label]
    # metadata of the base's 3 objects (not the overlay's nginx ConfigMap), selectors, template labels
    assert len(lines) == 6
    assert {at(prod_text, line) for line in lines} == {("base/kustomization.yaml", 7)}
    assert origin_of(prod_text, "component: web", "Service") == ("base/service.yaml", 7)
    scrape = [
        n for n, text in enumerate(prod_text.text.splitlines(), 1) if text.strip() == 'prometheus.io/scrape: "true"'
    ]
    assert {at(prod_text, line) for line in scrape} == {("components/monitoring/kustomization.yaml", 4)}


def test_building_leaves_the_user_tree_unchanged(binary: list[str]) -> None:
    before = tree_digest(WEBAPP)
    for root in find_roots(str(WEBAPP), kustomizations_under(WEBAPP)):
        build(str(WEBAPP), root)
    assert tree_digest(WEBAPP) == before


def test_a_failed_build_is_a_problem_at_the_entry_it_concerns(binary: list[str]) -> None:
    broken = build(str(WEBAPP), str(WEBAPP / "overlays/broken/kustomization.yaml"))
    assert broken.texts == []
    [problem] = broken.problems
    assert (problem.rule_id, problem.path, problem.line) == (
        "infralint-render-error",
        "overlays/broken/kustomization.yaml",
        8,
    )
    assert source_line("overlays/broken/kustomization.yaml", 8).strip() == "- missing.conf"
    assert "overlays/broken/missing.conf" in problem.message
    assert "infralint-kustomize-" not in problem.message and "/tmp" not in problem.message


# --- more trees, built in a temporary folder -----------------------------------------------------------


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  mode: fast\n"


def test_a_merge_into_a_missing_configmap_is_located_at_the_generator(binary: list[str], tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app/kustomization.yaml": "configMapGenerator:\n  - name: env\n    literals: [A=1]\n"
            "  - name: frontend-env\n    behavior: merge\n    literals:\n      - B=2\n",
        },
    )
    result = build(str(tmp_path), str(tmp_path / "app/kustomization.yaml"))
    [problem] = result.problems
    assert (problem.path, problem.line) == ("app/kustomization.yaml", 4)
    assert 'ConfigMap "frontend-env" does not exist; cannot merge or replace' in problem.message


def test_yaml_errors_and_garbage_are_problems(binary: list[str], tmp_path: Path) -> None:
    write(tmp_path, {"bad/kustomization.yaml": "resources:\n- a.yaml\n  oops: [\n", "list/kustomization.yaml": "- a\n"})
    bad = build(str(tmp_path), str(tmp_path / "bad/kustomization.yaml"))
    assert [(p.path, p.line) for p in bad.problems] == [("bad/kustomization.yaml", 3)]
    garbage = build(str(tmp_path), str(tmp_path / "list/kustomization.yaml"))
    assert [p.rule_id for p in garbage.problems] == ["infralint-render-error"] and not garbage.texts
    missing = build(str(tmp_path), str(tmp_path / "nowhere/kustomization.yaml"))
    assert [p.rule_id for p in missing.problems] == ["infralint-render-error"]


def test_nothing_is_read_through_a_symlink_out_of_the_scan(binary: list[str], tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(CONFIG_MAP.replace("name: app", "name: stolen"))
    scan = tmp_path / "scan"
    write(
        scan,
        {
            "app/kustomization.yaml": "resources:\n  - cm.yaml\n  - link.yaml\n  - ../../outside.yaml\n",
            "app/cm.yaml": CONFIG_MAP,
        },
    )
    (scan / "app/link.yaml").symlink_to(outside)
    result = build(str(scan), str(scan / "app/kustomization.yaml"))
    assert [(p.rule_id, p.line) for p in result.problems] == [
        ("infralint-render-error", 3),
        ("infralint-render-error", 4),
    ]
    assert all("outside the scan root" in p.message for p in result.problems)
    assert "stolen" not in result.texts[0].text and "name: app" in result.texts[0].text
    assert result.inputs == {"app/kustomization.yaml", "app/cm.yaml"}


def test_an_exec_plugin_never_runs_and_helm_charts_are_not_inflated(binary: list[str], tmp_path: Path) -> None:
    marker = tmp_path / "RAN"
    write(
        tmp_path,
        {
            "app/kustomization.yaml": "resources:\n  - cm.yaml\ntransformers:\n  - plugin.yaml\n"
            "helmCharts:\n  - name: redis\n    repo: https://charts.example.com\n",
            "app/cm.yaml": CONFIG_MAP,
            "app/plugin.yaml": "apiVersion: example.com/v1\nkind: Touch\nmetadata:\n  name: touch\n  annotations:\n"
            "    config.kubernetes.io/function: |\n      exec:\n        path: ./plugin.sh\n",
            "app/plugin.sh": f"#!/bin/sh\ntouch {marker}\ncat\n",
            "app/legacy/kustomization.yaml": "resources:\n  - cm.yaml\ngenerators:\n  - gen.yaml\n",
            "app/legacy/cm.yaml": CONFIG_MAP,
            "app/legacy/gen.yaml": "apiVersion: someteam.example.com/v1\nkind: SecretsFromVault\nmetadata:\n  name: x\n",
        },
    )
    (tmp_path / "app/plugin.sh").chmod(0o755)
    result = build(str(tmp_path), str(tmp_path / "app/kustomization.yaml"))
    assert sorted((p.line, p.message.split(":")[0]) for p in result.problems) == [(4, "not run"), (6, "not run")]
    assert "helm" in next(p.message for p in result.problems if p.line == 6)
    assert "name: app" in result.texts[0].text
    legacy = build(str(tmp_path), str(tmp_path / "app/legacy/kustomization.yaml"))
    assert [(p.line, "SecretsFromVault" in p.message) for p in legacy.problems] == [(4, True)]
    assert "name: app" in legacy.texts[0].text
    assert not marker.exists()


def test_inline_strategic_merge_patch_and_env_files(binary: list[str], tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app/kustomization.yaml": "resources:\n  - cm.yaml\npatches:\n  - patch: |-\n      apiVersion: v1\n"
            "      kind: ConfigMap\n      metadata:\n        name: app\n      data:\n        mode: slow\n"
            "configMapGenerator:\n  - name: settings\n    envs:\n      - settings.env\n",
            "app/cm.yaml": CONFIG_MAP,
            "app/settings.env": "# settings\nLEVEL=debug\n\nCOLOR=blue\n",
        },
    )
    result = build(str(tmp_path), str(tmp_path / "app/kustomization.yaml"))
    assert result.problems == []
    [text] = result.texts
    assert text.name == "app"
    assert origin_of(text, "mode: slow") == ("app/kustomization.yaml", 10)
    line = rendered_line(text, "mode: slow")
    origin = text.origin(line)
    assert origin is not None and origin.column(3) == 9  # `mode` in the kustomization's patch
    assert origin_of(text, "COLOR: blue") == ("app/settings.env", 4)
    assert origin_of(text, "LEVEL: debug") == ("app/settings.env", 2)
    assert "app/settings.env" in result.inputs


def test_a_timeout_and_oversized_output_are_problems_not_hangs(binary: list[str], tmp_path: Path) -> None:
    documents = [CONFIG_MAP.replace("name: app", f"name: c{i}").replace("fast", "x" * 200) for i in range(2000)]
    write(tmp_path, {"big/kustomization.yaml": "resources:\n  - all.yaml\n", "big/all.yaml": "---\n".join(documents)})
    started = time.monotonic()
    slow = build(str(tmp_path), str(tmp_path / "big/kustomization.yaml"), timeout=0.01)
    large = build(str(tmp_path), str(tmp_path / "big/kustomization.yaml"), max_output_bytes=50_000)
    assert time.monotonic() - started < 30
    assert [(p.rule_id, p.line) for p in slow.problems] == [("infralint-render-error", 1)]
    assert "longer than" in slow.problems[0].message and not slow.texts
    assert [(p.rule_id, p.line) for p in large.problems] == [("infralint-render-error", 1)]
    assert "more than 50000 bytes" in large.problems[0].message and not large.texts


def test_no_binary_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"app/kustomization.yaml": "resources:\n  - cm.yaml\n", "app/cm.yaml": CONFIG_MAP})
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "empty" / "python"))  # no kubectl beside it
    assert find_binary() is None
    result = build(str(tmp_path), str(tmp_path / "app/kustomization.yaml"))
    assert [(p.rule_id, p.path, p.line) for p in result.problems] == [
        ("infralint-render-error", "app/kustomization.yaml", 1)
    ]
    assert result.inputs == {"app/kustomization.yaml", "app/cm.yaml"}


# --- the shared corpus ---------------------------------------------------------------------------------


def key_lines_mapped(rendered: RenderedText, scan_root: Path) -> tuple[int, int]:
    """(key lines, those whose origin line contains the key) in a rendered text."""
    cache: dict[str, list[str]] = {}
    total = good = 0
    for doc in load_documents(rendered.text):
        keys = {line: path[-1] for path, (line, _c, _e) in doc.positions.items() if path and isinstance(path[-1], str)}
        for line, key in keys.items():
            total += 1
            origin = rendered.origin(line)
            if origin is None:
                continue
            if origin.path not in cache:
                cache[origin.path] = (scan_root / origin.path).read_text(errors="replace").splitlines()
            source = cache[origin.path]
            good += origin.line <= len(source) and key in source[origin.line - 1]
    return total, good


def test_every_corpus_root_builds_or_says_why(binary: list[str]) -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} is absent")
    roots = find_roots(str(CORPUS), kustomizations_under(CORPUS))
    started = time.monotonic()
    built = failed = total = good = 0
    for root in roots:
        result = build(str(CORPUS), root)
        assert result.texts or result.problems, root
        built += bool(result.texts)
        failed += not result.texts
        for rendered in result.texts:
            assert len(rendered.lines) == len(rendered.text.splitlines())
            assert "config.kubernetes.io/origin" not in rendered.text
            counted, mapped = key_lines_mapped(rendered, CORPUS)
            total, good = total + counted, good + mapped
    elapsed = time.monotonic() - started
    share = good / max(total, 1)
    report = f"{len(roots)} roots: {built} built, {failed} failed; {good}/{total} key lines ({share:.2%}) map to a line holding the key; {elapsed:.1f}s"
    print(report)
    assert built >= 40 and share >= 0.95, report


@pytest.mark.parametrize(
    "root",
    [
        "stefanprodan__podinfo/deploy/overlays/dev",
        "kubernetes-sigs__metrics-server/manifests/overlays/release-ha-1.21+",
        "kubernetes-sigs__kustomize/examples/springboot/overlays/staging",
    ],
)
def test_stripped_text_equals_a_plain_build(binary: list[str], root: str) -> None:
    """Without infralint's buildMetadata, kustomize prints exactly the text the build returns."""
    if not (CORPUS / root).is_dir():
        pytest.skip(f"{CORPUS / root} is absent")
    plain = subprocess.run(  # kustomize only reads the (read-only) corpus
        [shutil.which(binary[0]) or binary[0], *binary[1:], root],
        cwd=CORPUS,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=True,
    ).stdout
    [rendered] = build(str(CORPUS), str(CORPUS / root / "kustomization.yaml")).texts
    assert rendered.text == plain


OLD_KUSTOMIZE = """#!/bin/sh
# A stand-in for a kustomize older than 4.5 (builtins only: the build's PATH is empty).
while IFS= read -r line; do
  case "$line" in *buildMetadata*) echo 'Error: invalid Kustomization: json: unknown field "buildMetadata"' >&2; exit 1;; esac
  case "$line" in *missing.yaml*) echo "Error: accumulating resources: evalsymlink failure on '$PWD/$2/missing.yaml'" >&2; exit 1;; esac
done < "$2/kustomization.yaml"
while IFS= read -r line; do printf '%s\\n' "$line"; done < "$2/cm.yaml"
"""


def test_standalone_kustomize_is_preferred_and_an_old_one_builds_unmapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tools = tmp_path / "bin"
    write(tools, {"kustomize": OLD_KUSTOMIZE})
    (tools / "kustomize").chmod(0o755)
    monkeypatch.setenv("PATH", str(tools))
    assert find_binary() == ["kustomize", "build"]
    scan = tmp_path / "scan"
    write(
        scan,
        {
            "app/kustomization.yaml": "resources:\n  - cm.yaml\n",
            "app/cm.yaml": CONFIG_MAP,
            "bad/kustomization.yaml": "resources:\n  - cm.yaml\n  - missing.yaml\n",
            "bad/cm.yaml": CONFIG_MAP,
        },
    )
    old = build(str(scan), str(scan / "app/kustomization.yaml"))
    assert old.problems == []
    [rendered] = old.texts
    assert rendered.text == CONFIG_MAP and rendered.lines == [None] * 6  # no annotations: no map
    bad = build(str(scan), str(scan / "bad/kustomization.yaml"))
    assert [(p.path, p.line, p.message) for p in bad.problems] == [
        (
            "bad/kustomization.yaml",
            3,
            "kustomize build failed: accumulating resources: evalsymlink failure on 'bad/missing.yaml'",
        )
    ]


def plain_build(binary: list[str], folder: Path) -> str:
    command = [shutil.which(binary[0]) or binary[0], *binary[1:], str(folder)]
    return subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=True).stdout


def test_annotations_the_user_asked_for_or_wrote_stay(binary: list[str], tmp_path: Path) -> None:
    empty = CONFIG_MAP.replace("  name: app\n", "  name: empty\n  annotations: {}\n")
    own = CONFIG_MAP.replace("  name: app\n", "  name: own\n  annotations:\n    team: web\n")
    write(
        tmp_path,
        {
            "app/kustomization.yaml": "resources: [cm.yaml]\nbuildMetadata: [originAnnotations]\n",
            "app/cm.yaml": CONFIG_MAP,
            "plain/kustomization.yaml": "resources: [cm.yaml]\n",
            "plain/cm.yaml": "---\n".join([empty, own]),
        },
    )
    asked = build(str(tmp_path), str(tmp_path / "app/kustomization.yaml"))
    assert asked.texts[0].text == plain_build(binary, tmp_path / "app")
    assert "config.kubernetes.io/origin" in asked.texts[0].text
    assert "alpha.config.kubernetes.io/transformations" not in asked.texts[0].text
    written = build(str(tmp_path), str(tmp_path / "plain/kustomization.yaml"))
    assert written.texts[0].text == plain_build(binary, tmp_path / "plain")
    assert origin_of(written.texts[0], "team: web") == ("plain/cm.yaml", 14)
    assert (tmp_path / "plain/cm.yaml").read_text().splitlines()[13] == "    team: web"
