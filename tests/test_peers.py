"""The peer mapping: catalogs of the peer tools' checks (rules/peers/), the `peers` each rule
names, `infralint rules --peer` and the generated comparison docs.

The tests over the shipped data pass with any number of mapped rules (zero included) but fail on
a tool without a catalog, an id its catalog does not list, or a malformed catalog file: that is
what keeps the mapping honest. The loader's own behaviour is tested on small synthetic catalogs.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from infralint import catalog, docs
from infralint.cli import PEER_TOOLS, main
from infralint.rules import peers
from infralint.rules.meta import RuleMeta

REPO = Path(__file__).resolve().parent.parent
PEERS_DIR = REPO / "rules" / "peers"

KUBE_LINTER = """\
tool: kube-linter
title: kube-linter
source: https://github.com/stackrox/kube-linter
version: v0.7.2
url: https://docs.kubelinter.io/#/generated/checks#{id}
checks:
  - id: run-as-non-root
  - id: latest-tag
  - id: privileged-container
    name: Privileged container
"""
KICS_A = """\
tool: kics
title: KICS
source: https://github.com/Checkmarx/kics
version: v2.1.3
checks:
  - id: 0ad60203-c050-4115-83b6-b94bde92541d
    name: Container Running As Root
"""
KICS_B = """\
tool: kics
title: KICS
source: https://github.com/Checkmarx/kics
version: v2.1.3
url: https://docs.kics.io/latest/queries/dockercompose-queries/{id}
checks:
  - id: 1c1325ff-831d-43a1-973e-839ae57dfcc0
    name: Privileged Containers Enabled
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _meta(rule_id: str, default_enabled: bool = True, **peer_ids: list[str]) -> RuleMeta:
    base = catalog.meta_by_id()["k8s-run-as-root"]
    tools = {tool.replace("_", "-"): tuple(ids) for tool, ids in peer_ids.items()}
    return dataclasses.replace(base, id=rule_id, default_enabled=default_enabled, peers=tools)


@pytest.fixture
def tmp_catalogs(tmp_path: Path) -> dict[str, peers.PeerTool]:
    folder = tmp_path / "peers"
    _write(folder, "kube-linter.yaml", KUBE_LINTER)
    _write(folder, "kics-k8s.yaml", KICS_A)
    _write(folder, "kics-compose.yaml", KICS_B)
    return peers.load_catalogs(folder)


# --- the shipped data -----------------------------------------------------------------------


def test_shipped_catalogs_are_well_formed() -> None:
    """Every file of rules/peers/ passes validation and the files of one tool merge cleanly."""
    problems = []
    for path in sorted(PEERS_DIR.glob("*")) if PEERS_DIR.is_dir() else ():
        if path.suffix != ".yaml":
            problems.append(f"{path.name}: catalogs are .yaml files")
            continue
        problems += peers.validate_catalog(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)
    assert problems == []
    peers.load_catalogs(PEERS_DIR)  # raises on conflicts between the files of one tool


def test_every_peer_id_a_rule_names_is_in_its_tools_catalog() -> None:
    """A tool named in any rule's `peers` has a catalog, and each id is one of its checks."""
    tools = peers.load_catalogs(PEERS_DIR)
    assert peers.mapping_problems(catalog.all_metas(), tools) == []


def test_peer_keys_of_the_rule_schema_are_the_known_tools() -> None:
    schema = json.loads((REPO / "schemas" / "rule.schema.json").read_text())
    assert tuple(schema["properties"]["peers"]["propertyNames"]["enum"]) == peers.TOOLS == PEER_TOOLS


def test_packaged_catalogs_are_the_source_trees(monkeypatch: pytest.MonkeyPatch) -> None:
    """peer_tools() reads rules/peers/ through data_dir: infralint/_data/rules/peers in a wheel."""
    peers.peer_tools.cache_clear()
    try:
        assert peers.peer_tools() == peers.load_catalogs(PEERS_DIR)
    finally:
        peers.peer_tools.cache_clear()


def test_rule_loading_skips_the_catalogs() -> None:
    assert all(meta.id.split("-", 1)[0] in docs.DOMAIN_TITLES for meta in catalog.all_metas())


def test_generated_peers_page_is_current() -> None:
    current = (REPO / "docs" / "peers.md").read_text() if (REPO / "docs" / "peers.md").exists() else ""
    assert current == docs.peers_markdown(list(catalog.all_metas())), "run: python -m infralint.docs"


def test_a_scan_does_not_read_the_catalogs(tmp_path: Path) -> None:
    """Start-up time: neither the catalogs nor the docs module load for a scan."""
    _write(
        tmp_path,
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n    - name: a\n      image: a:1\n",
    )
    code = (
        "import sys\nfrom infralint.cli import main\n"
        "try:\n    main(['scan', sys.argv[1], '--no-config'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m in ('infralint.rules.peers', 'infralint.docs')))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


# --- the loader, on synthetic catalogs ------------------------------------------------------


def test_catalogs_merge_per_tool_in_tools_order(tmp_catalogs: dict[str, peers.PeerTool]) -> None:
    assert list(tmp_catalogs) == ["kube-linter", "kics"]
    kics = tmp_catalogs["kics"]
    # merged in file-name order: kics-compose.yaml, then kics-k8s.yaml
    assert [c.id for c in kics.checks] == [
        "1c1325ff-831d-43a1-973e-839ae57dfcc0",
        "0ad60203-c050-4115-83b6-b94bde92541d",
    ]
    assert [s.file for s in kics.sources] == ["kics-compose.yaml", "kics-k8s.yaml"]
    # the url pattern is per file: the k8s file has none
    assert (
        kics.checks[0].url
        == "https://docs.kics.io/latest/queries/dockercompose-queries/1c1325ff-831d-43a1-973e-839ae57dfcc0"
    )
    assert kics.checks[1].url == ""
    assert kics.check("0ad60203-c050-4115-83b6-b94bde92541d") == peers.PeerCheck(
        "kics", "0ad60203-c050-4115-83b6-b94bde92541d", "Container Running As Root", ""
    )
    linter = tmp_catalogs["kube-linter"]
    assert linter.title == "kube-linter" and linter.sources[0].version == "v0.7.2"
    assert linter.check("latest-tag") == peers.PeerCheck(
        "kube-linter", "latest-tag", "", "https://docs.kubelinter.io/#/generated/checks#latest-tag"
    )
    assert linter.check("no-such-check") is None


def test_an_empty_or_missing_folder_has_no_catalogs(tmp_path: Path) -> None:
    assert peers.load_catalogs(tmp_path / "absent") == {}
    assert peers.load_catalogs(tmp_path) == {}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- a\n", "must be a mapping"),
        (KUBE_LINTER.replace("tool: kube-linter", "tool: kubelinter"), "tool 'kubelinter' is not one of"),
        (KUBE_LINTER.replace("version: v0.7.2", "version: 1.10"), "'version' must be a non-empty string (quote it"),
        (KUBE_LINTER.replace("source: https://github.com/stackrox/kube-linter\n", ""), "missing 'source'"),
        (KUBE_LINTER.replace("source: https://", "source: "), "'source' must be a URL"),
        (KUBE_LINTER.replace("#{id}", "#"), "'url' must be a URL pattern holding {id}"),
        (KUBE_LINTER + "notes: x\n", "unknown key 'notes'"),
        (KUBE_LINTER + "  - id: latest-tag\n", "checks[3]: id 'latest-tag' already listed at checks[1]"),
        (KUBE_LINTER + "  - name: no id\n", "checks[3]: 'id' must be a non-empty string"),
        (KUBE_LINTER + "  - id: 23\n", "checks[3]: 'id' must be a non-empty string"),
        (KUBE_LINTER + "  - id: x\n    severity: high\n", "checks[3]: unknown key 'severity'"),
        (KUBE_LINTER.split("checks:")[0] + "checks: []\n", "'checks' must be a non-empty list"),
        ("tool: [\n", "not valid YAML"),
    ],
)
def test_malformed_catalogs_are_refused_naming_file_and_place(tmp_path: Path, text: str, problem: str) -> None:
    _write(tmp_path, "bad.yaml", text)
    with pytest.raises(peers.PeerCatalogError, match=r"bad\.yaml") as error:
        peers.load_catalogs(tmp_path)
    assert problem in str(error.value)


def test_files_of_one_tool_must_agree_on_names(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", KICS_A)
    _write(tmp_path, "c.yaml", KICS_A.replace("Container Running As Root", "Root containers"))
    with pytest.raises(peers.PeerCatalogError) as error:
        peers.load_catalogs(tmp_path)
    assert "c.yaml: kics check '0ad60203-c050-4115-83b6-b94bde92541d' named differently in a.yaml" in str(error.value)


def test_a_tool_goes_by_its_shortest_title(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", KICS_A.replace("title: KICS", "title: KICS (Kubernetes)"))
    _write(tmp_path, "b.yaml", KICS_B)
    assert peers.load_catalogs(tmp_path)["kics"].title == "KICS"


def test_an_id_two_files_list_alike_is_one_check(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", KICS_A)
    _write(tmp_path, "b.yaml", KICS_A)
    assert len(peers.load_catalogs(tmp_path)["kics"].checks) == 1


# --- the mapping ----------------------------------------------------------------------------


def test_mapping_problems_name_unknown_tools_and_ids(tmp_catalogs: dict[str, peers.PeerTool]) -> None:
    metas = [
        _meta("k8s-a", kube_linter=["run-as-non-root"], polaris=["runAsRootAllowed"]),
        _meta("k8s-b", kube_linter=["run-as-non-root", "run-as-nonroot", "latest-tag", "latest-tag"]),
        _meta("k8s-c", kube_linter=[]),
    ]
    assert peers.mapping_problems(metas, tmp_catalogs) == [
        "k8s-a: peers names 'polaris', which has no catalog in rules/peers/ (catalogs: kube-linter, kics)",
        "k8s-b: peers.kube-linter names 'latest-tag' twice",
        "k8s-b: kube-linter has no check 'run-as-nonroot' in its catalog (kube-linter.yaml at v0.7.2)",
        "k8s-c: peers.kube-linter lists no check",
    ]


def test_several_rules_may_share_one_peer_check(tmp_catalogs: dict[str, peers.PeerTool]) -> None:
    metas = [_meta("k8s-a", kube_linter=["run-as-non-root"]), _meta("k8s-b", False, kube_linter=["run-as-non-root"])]
    assert peers.mapping_problems(metas, tmp_catalogs) == []
    cover = peers.coverage(tmp_catalogs["kube-linter"], metas)
    assert [(r.check.id, [m.id for m in r.rules]) for r in cover.rows] == [
        ("run-as-non-root", ["k8s-a", "k8s-b"]),
        ("latest-tag", []),
        ("privileged-container", []),
    ]
    assert cover.summary() == "kube-linter: 1 of 3 checks have a counterpart"


def test_coverage_keeps_ids_the_catalog_lacks_apart(tmp_catalogs: dict[str, peers.PeerTool]) -> None:
    cover = peers.coverage(tmp_catalogs["kube-linter"], [_meta("k8s-a", kube_linter=["gone", "latest-tag"])])
    assert (cover.covered, cover.total) == (1, 3)
    assert [(r.check.id, [m.id for m in r.rules]) for r in cover.unknown] == [("gone", ["k8s-a"])]


def test_rule_peers_come_in_tools_order_with_names_and_links(tmp_catalogs: dict[str, peers.PeerTool]) -> None:
    meta = _meta("k8s-a", kics=["0ad60203-c050-4115-83b6-b94bde92541d"], kube_linter=["privileged-container", "x"])
    assert peers.rule_peers(meta, tmp_catalogs) == [
        (
            "kube-linter",
            [
                peers.PeerCheck(
                    "kube-linter",
                    "privileged-container",
                    "Privileged container",
                    "https://docs.kubelinter.io/#/generated/checks#privileged-container",
                ),
                peers.PeerCheck("kube-linter", "x"),
            ],
        ),
        ("kics", [peers.PeerCheck("kics", "0ad60203-c050-4115-83b6-b94bde92541d", "Container Running As Root")]),
    ]


# --- docs and explain -----------------------------------------------------------------------


def test_rule_section_compares_with_the_peers(tmp_catalogs: dict[str, peers.PeerTool]) -> None:
    meta = _meta("k8s-run-as-root", kube_linter=["run-as-non-root"], kics=["0ad60203-c050-4115-83b6-b94bde92541d"])
    page = docs.rules_markdown([meta], tmp_catalogs)
    assert (
        "**Compared with.** kube-linter: [`run-as-non-root`](https://docs.kubelinter.io/#/generated/checks#run-as-non-root); "
        "KICS: `0ad60203-c050-4115-83b6-b94bde92541d` Container Running As Root ([all peers](peers.md))\n"
    ) in page
    assert "Compared with" not in docs.rules_markdown([_meta("k8s-run-as-root")], tmp_catalogs)


def test_peers_page_lists_each_tools_checks_and_coverage(tmp_catalogs: dict[str, peers.PeerTool]) -> None:
    metas = [
        _meta("k8s-run-as-root", kube_linter=["run-as-non-root"]),
        _meta("k8s-missing-cpu-limit", False, kube_linter=["run-as-non-root"]),
    ]
    page = docs.peers_markdown(metas, tmp_catalogs)
    assert "| [kube-linter](#kube-linter) | 1 of 3 |\n| [KICS](#kics) | 0 of 2 |\n" in page
    assert (
        textwrap.dedent("""\
        ## kube-linter

        Checks read from <https://github.com/stackrox/kube-linter> at v0.7.2.

        | check | infralint rule(s) |
        |---|---|
        | [`run-as-non-root`](https://docs.kubelinter.io/#/generated/checks#run-as-non-root) | [k8s-run-as-root](rules.md#k8s-run-as-root), [k8s-missing-cpu-limit](rules.md#k8s-missing-cpu-limit) (default off) |
        | [`latest-tag`](https://docs.kubelinter.io/#/generated/checks#latest-tag) | no counterpart |
        | [`privileged-container`](https://docs.kubelinter.io/#/generated/checks#privileged-container) Privileged container | no counterpart |

        **kube-linter: 1 of 3 checks have a counterpart.**
        """)
        in page
    )
    assert (
        "Checks read from <https://github.com/Checkmarx/kics> at v2.1.3, <https://github.com/Checkmarx/kics> at v2.1.3."
        in page
    )
    assert docs.peers_markdown(metas, {}).endswith("No peer catalogs yet.\n")


def test_explain_shows_the_peers(monkeypatch: pytest.MonkeyPatch, tmp_catalogs: dict[str, peers.PeerTool]) -> None:
    monkeypatch.setattr(peers, "peer_tools", lambda: tmp_catalogs)
    text = docs.explain_text(_meta("k8s-run-as-root", kube_linter=["run-as-non-root"], polaris=["runAsRootAllowed"]))
    assert (
        "Compared with (peer checks it corresponds to):\n"
        "  kube-linter: run-as-non-root <https://docs.kubelinter.io/#/generated/checks#run-as-non-root>\n"
        "  polaris: runAsRootAllowed\n"
    ) in text


def test_docs_check_reports_stale_pages_and_writes_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "docs"
    assert docs.main([str(folder), "--check"]) == 1
    assert not folder.exists()
    assert docs.main([str(folder)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["peers.md", "rules.md"]
    assert docs.main([str(folder), "--check"]) == 0
    assert docs.main([str(folder / "rules.md"), "--check"]) == 0  # the old form: a path to rules.md


# --- the command line -----------------------------------------------------------------------


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def mapped(monkeypatch: pytest.MonkeyPatch, tmp_catalogs: dict[str, peers.PeerTool]) -> None:
    """The real rules, two of them mapped onto the synthetic catalogs."""
    extra = {
        "k8s-run-as-root": {"kube-linter": ("run-as-non-root",), "kics": ("0ad60203-c050-4115-83b6-b94bde92541d",)},
        "k8s-privileged-container": {"kube-linter": ("privileged-container",)},
    }
    metas = tuple(dataclasses.replace(m, peers=extra.get(m.id, {})) for m in catalog.all_metas())
    monkeypatch.setattr(catalog, "all_metas", lambda: metas)
    monkeypatch.setattr(peers, "peer_tools", lambda: tmp_catalogs)


def test_rules_json_lists_every_rule_with_its_peers(mapped: None) -> None:
    code, out = _run("rules", "--format", "json")
    rows = {row["id"]: row for row in json.loads(out)}
    assert code == 0 and len(rows) == len(catalog.all_metas())
    row = rows["k8s-run-as-root"]
    assert set(row) == {"id", "severity", "default_enabled", "summary", "tags", "scope", "graph", "pss", "peers"}
    assert row["peers"] == {
        "kube-linter": [
            {
                "id": "run-as-non-root",
                "name": None,
                "url": "https://docs.kubelinter.io/#/generated/checks#run-as-non-root",
            }
        ],
        "kics": [{"id": "0ad60203-c050-4115-83b6-b94bde92541d", "name": "Container Running As Root", "url": None}],
    }
    assert rows["k8s-image-latest-tag"]["peers"] == {}
    assert rows["k8s-image-latest-tag"]["scope"] and isinstance(rows["k8s-image-latest-tag"]["graph"], bool)


def test_rules_markdown_is_a_table_with_peers(mapped: None) -> None:
    code, out = _run("rules", "--format", "markdown")
    lines = out.splitlines()
    assert code == 0 and lines[:2] == ["| id | severity | default | summary | peers |", "|---|---|---|---|---|"]
    assert len(lines) == 2 + len(catalog.all_metas())
    assert all(line.count(" | ") == 4 or line.count("|") - line.count("\\|") == 6 for line in lines[2:])
    row = next(line for line in lines if line.startswith("| k8s-privileged-container |"))
    assert row.endswith(
        "| kube-linter: [`privileged-container`](https://docs.kubelinter.io/#/generated/checks#privileged-container) Privileged container |"
    )


def test_rules_peer_lists_the_tools_checks_with_their_rules(mapped: None) -> None:
    code, out = _run("rules", "--peer", "kube-linter")
    assert code == 0
    assert out == (
        "kube-linter: checks read from https://github.com/stackrox/kube-linter at v0.7.2\n"
        "run-as-non-root       -> k8s-run-as-root\n"
        "latest-tag            -> no counterpart\n"
        "privileged-container  -> k8s-privileged-container  [Privileged container]\n"
        "kube-linter: 2 of 3 checks have a counterpart\n"
    )


def test_rules_peer_json_and_markdown(mapped: None) -> None:
    code, out = _run("rules", "--peer", "kics", "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert (data["tool"], data["title"], data["coverage"], data["unknown"]) == (
        "kics",
        "KICS",
        {"covered": 1, "total": 2},
        [],
    )
    assert [(c["id"], [r["id"] for r in c["rules"]]) for c in data["checks"]] == [
        ("1c1325ff-831d-43a1-973e-839ae57dfcc0", []),
        ("0ad60203-c050-4115-83b6-b94bde92541d", ["k8s-run-as-root"]),
    ]
    assert data["checks"][1]["rules"][0] == {"id": "k8s-run-as-root", "severity": "warning", "default_enabled": True}
    assert data["summary"] == "KICS: 1 of 2 checks have a counterpart"
    code, out = _run("rules", "--peer", "kube-linter", "--format", "markdown")
    assert code == 0 and out.startswith(
        "## kube-linter\n\nChecks read from <https://github.com/stackrox/kube-linter> at v0.7.2.\n"
    )
    assert "| [`latest-tag`](https://docs.kubelinter.io/#/generated/checks#latest-tag) | no counterpart |" in out
    assert (
        "| [`run-as-non-root`](https://docs.kubelinter.io/#/generated/checks#run-as-non-root) | `k8s-run-as-root` |"
        in out
    )
    assert out.endswith("**kube-linter: 2 of 3 checks have a counterpart.**\n")


def test_rules_peer_without_a_catalog_is_a_usage_error(mapped: None) -> None:
    code, out = _run("rules", "--peer", "hapr")
    assert code == 2 and "no catalog of hapr's checks is packaged (catalogs: kube-linter, kics)" in out
    code, out = _run("rules", "--peer", "kubelinter")
    assert code == 2 and "Invalid value for '--peer'" in out


def test_a_broken_catalog_is_no_traceback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _write(tmp_path, "bad.yaml", "tool: nope\n")
    monkeypatch.setattr(peers, "peer_tools", lambda: peers.load_catalogs(tmp_path))
    result = CliRunner().invoke(main, ["rules", "--format", "json"])
    assert result.exit_code == 2 and "bad.yaml: tool 'nope' is not one of" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_shipped_peer_listings_work() -> None:
    """With the real data: every packaged catalog lists, and its coverage line adds up."""
    for tool, catalog_ in peers.load_catalogs(PEERS_DIR).items():
        code, out = _run("rules", "--peer", tool, "--format", "json")
        data = json.loads(out)
        assert code == 0 and data["unknown"] == []
        assert data["coverage"]["total"] == len(catalog_.checks)
        assert data["coverage"]["covered"] == sum(1 for c in data["checks"] if c["rules"])


# --- exact output on known shipped rules ----------------------------------------------------


def test_known_rules_list_their_peers_exactly() -> None:
    code, out = _run("rules", "--format", "json")
    rows = {row["id"]: row for row in json.loads(out)}
    assert code == 0
    assert rows["nginx-ssrf"]["peers"] == {
        "gixy": [
            {"id": "ssrf", "name": "SSRF", "url": "https://github.com/dvershinin/gixy/blob/master/gixy/plugins/ssrf.py"}
        ]
    }
    assert rows["compose-obsolete-version"]["peers"] == {
        "dclint": [
            {
                "id": "no-version-field",
                "name": None,
                "url": "https://github.com/zavoloklom/docker-compose-linter/blob/main/docs/rules/no-version-field-rule.md",
            }
        ]
    }
    code, out = _run("rules", "--peer", "dclint")
    assert code == 0
    lines = [line.split() for line in out.splitlines()]
    assert ["no-version-field", "->", "compose-obsolete-version"] in lines
    assert ["no-duplicate-container-names", "->", "compose-duplicate-container-name"] in lines
    code, out = _run("explain", "nginx-ssrf")
    assert code == 0
    assert (
        "Compared with (peer checks it corresponds to):\n"
        "  gixy-ng: ssrf (SSRF) <https://github.com/dvershinin/gixy/blob/master/gixy/plugins/ssrf.py>\n"
    ) in out
