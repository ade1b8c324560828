"""The real-world corpus, nginx side: every nginx file parses (none is a syntax error for nginx
either: checked with `nginx -t` when this was written) and no rule fails on it."""

from __future__ import annotations

import csv
import dataclasses

import pytest

from infralint.dev import corpus_summary


@pytest.fixture(scope="module")
def nginx_report(corpus_report):
    """The shared corpus scan, narrowed to the nginx rules and input problems."""
    return dataclasses.replace(
        corpus_report, findings=[f for f in corpus_report.findings if f.rule_id.startswith(("nginx-", "infralint-"))]
    )


def _nginx_files() -> set[str]:
    with open(corpus_summary.corpus_path() / "files.tsv", encoding="utf-8") as handle:
        return {
            f"{row[0].replace('/', '__')}/{row[4]}" for row in csv.reader(handle, delimiter="\t") if row[2] == "nginx"
        }


def test_every_nginx_file_is_read_as_nginx(nginx_report) -> None:
    assert nginx_report.files_by_kind["nginx"] == len(_nginx_files())


def test_no_parse_or_rule_errors_on_nginx_files(nginx_report) -> None:
    nginx_files = _nginx_files()
    assert [f for f in nginx_report.findings if f.rule_id == "infralint-rule-error"] == []
    assert [
        f for f in nginx_report.findings if f.rule_id == "infralint-parse-error" and f.span.path in nginx_files
    ] == []


def test_embedded_nginx_configs_are_linted(nginx_report) -> None:
    yaml_findings = {f.span.path for f in nginx_report.findings if f.rule_id.startswith("nginx-")}
    assert any(path.endswith(".yaml") for path in yaml_findings)
