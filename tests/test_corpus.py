"""The real-world corpus: no internal error, and every YAML parse error is a file that is not valid YAML."""

from __future__ import annotations

import pytest
import yaml


def test_no_internal_errors(corpus_report) -> None:
    assert [f for f in corpus_report.findings if f.rule_id == "infralint-rule-error"] == []
    assert corpus_report.files_by_kind["k8s"] >= 900


def test_every_parse_error_is_really_invalid_yaml(corpus_report, corpus_path) -> None:
    broken = sorted(
        {
            f.span.path
            for f in corpus_report.findings
            if f.rule_id == "infralint-parse-error" and f.span.path.endswith((".yaml", ".yml"))
        }
    )
    for relative in broken:
        text = (corpus_path / relative).read_text(encoding="utf-8")
        # The pure-Python loader as an independent reference: it must reject the file too.
        with pytest.raises(yaml.YAMLError):
            list(yaml.load_all(text, Loader=yaml.SafeLoader))
    assert all(f.span.line is not None for f in corpus_report.findings if f.rule_id == "infralint-parse-error")
    assert len(broken) == 6
