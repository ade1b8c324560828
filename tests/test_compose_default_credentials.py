"""compose-secret-in-environment and the default credentials of a project's own datastores."""

from __future__ import annotations

from pathlib import Path

from scanning import scan_tree, write

RULE = "compose-secret-in-environment"

PAIR = """\
services:
  app:
    image: example/app:2.4.1
    ports: ["8000:8000"]
    environment:
      APP_DB_PASSWORD: shop
  db:
    image: postgres:16.4{ports}
    environment:
      POSTGRES_USER: shop
      POSTGRES_PASSWORD: shop
"""


def _messages(root: Path) -> dict[int | None, tuple[str, list[str]]]:
    report = scan_tree(root, select=[RULE])
    return {f.span.line: (f.message, [r.message for r in f.related]) for f in report.findings if f.rule_id == RULE}


def test_internal_pair_is_quiet_and_published_pair_says_why(tmp_path: Path) -> None:
    write(tmp_path / "internal", "compose.yaml", PAIR.format(ports=""))
    assert _messages(tmp_path / "internal") == {}
    write(tmp_path / "published", "compose.yaml", PAIR.format(ports='\n    ports: ["5432:5432"]'))
    found = _messages(tmp_path / "published")
    assert set(found) == {6, 12}
    client, related = found[6]
    assert "default credential" in client and "published service" in client and "5432:5432" in client
    assert any("service 'db', which it guards" in label for label in related)


def test_a_base_that_publishes_the_database_counts_for_its_fragment(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "services:\n  db:\n    image: postgres:16.4\n    ports: ['5432:5432']\n")
    write(
        tmp_path,
        "compose.prod.yaml",
        "services:\n  db:\n    image: postgres:16.4\n    environment:\n      POSTGRES_PASSWORD: postgres\n",
    )
    assert set(_messages(tmp_path)) == {5}


def test_a_real_looking_value_on_an_internal_database_is_reported(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        PAIR.format(ports="").replace("POSTGRES_PASSWORD: shop", "POSTGRES_PASSWORD: Zq8vP2mLx4rT"),
    )
    # The client's value is no datastore's now: what it guards cannot be told, reported as before.
    assert set(_messages(tmp_path)) == {6, 11}
