"""The rule catalog is complete and consistent: metadata, implementation, fixtures, docs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from infralint import catalog
from infralint.docs import rules_markdown

REPO = Path(__file__).resolve().parent.parent
CATALOG = REPO.parent / "shared" / "RULES.md"
# rules/peers/ holds the peer tools' catalogs (tests/test_peers.py), not rules.
RULE_FILES = sorted(path for path in (REPO / "rules").glob("*/*.yaml") if path.parent.name != "peers")


def test_rule_files_match_schema() -> None:
    schema = json.loads((REPO / "schemas" / "rule.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    problems = []
    for path in RULE_FILES:
        data = yaml.safe_load(path.read_text())
        problems += [f"{path.name}: {e.message}" for e in validator.iter_errors(data)]
        if data.get("id") != path.stem:
            problems.append(f"{path.name}: id {data.get('id')} differs from the file name")
        if path.parent.name != data["id"].split("-", 1)[0]:
            problems.append(f"{path.name}: lives in rules/{path.parent.name}, not its domain's folder")
    assert problems == []


def test_declarative_conditions_are_valid_json_schema() -> None:
    for meta in catalog.all_metas():
        for schema in (meta.where, meta.require):
            if schema is not None:
                Draft202012Validator.check_schema(schema)


def test_every_rule_has_an_implementation() -> None:
    rules = catalog.all_rules()  # raises when a rule has none, or a check has no metadata
    assert {rule.id for rule in rules} == {meta.id for meta in catalog.all_metas()}


def test_every_rule_with_a_scope_has_bad_and_good_fixtures() -> None:
    missing = []
    for meta in catalog.all_metas():
        if not meta.scope:
            continue
        folder = REPO / "fixtures" / meta.id
        names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
        if not any(n.startswith("bad") for n in names) or not any(n.startswith("good") for n in names):
            missing.append(meta.id)
    assert missing == []


def test_every_fixture_folder_belongs_to_a_rule() -> None:
    ids = {meta.id for meta in catalog.all_metas()}
    strays = [p.name for p in (REPO / "fixtures").iterdir() if p.is_dir() and p.name not in ids]
    assert strays == []


# The catalog's second part (the checks every peer ships) is an open issue of its own; the
# first part is what the product ships today.
SECOND_CATALOG = "# Second catalog"


def _shipped_catalog() -> str:
    if not CATALOG.exists():
        pytest.skip("the shared rule catalog is not beside the repository")
    return CATALOG.read_text().split("\n" + SECOND_CATALOG, 1)[0]


def _catalog_ids(domain: str) -> list[str]:
    return re.findall(rf"^\| ({domain}-[a-z0-9-]+) \|", _shipped_catalog(), flags=re.MULTILINE)


@pytest.mark.parametrize("domain", ["k8s", "infralint", "nginx", "haproxy", "redis", "compose"])
def test_every_catalog_rule_of_a_domain_exists(domain: str) -> None:
    ids = {meta.id for meta in catalog.all_metas()}
    assert [rule_id for rule_id in _catalog_ids(domain) if rule_id not in ids] == []


def test_catalog_severities_are_kept() -> None:
    rows = re.findall(r"^\| ([a-z0-9]+-[a-z0-9-]+) \| (error|warning|note) \|", _shipped_catalog(), flags=re.MULTILINE)
    by_id = catalog.meta_by_id()
    assert [(rule_id, sev) for rule_id, sev in rows if by_id[rule_id].severity.value != sev] == []


def test_generated_docs_are_current() -> None:
    current = (REPO / "docs" / "rules.md").read_text()
    assert current == rules_markdown(list(catalog.all_metas())), "run: python -m infralint.docs"
