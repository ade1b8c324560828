"""SARIF 2.1.0 built with sarif-om: one run, every enabled rule, stable fingerprints."""

from __future__ import annotations

import json
from typing import Any

import attr
import sarif_om as om

from infralint.findings import Finding, Severity
from infralint.report import Report
from infralint.reporters import rule_docs_url, rule_metas
from infralint.rules.meta import RuleMeta
from infralint.source import Span

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
ROOT = "SRCROOT"
# GitHub ranks security alerts by this score (0-10); from the rule's severity.
SECURITY_SEVERITY = {Severity.ERROR: "8.0", Severity.WARNING: "5.5", Severity.NOTE: "3.0"}


def _region(span: Span) -> om.Region | None:
    if span.line is None:
        return None
    return om.Region(start_line=span.line, start_column=span.col)


def _location(span: Span, message: str | None = None) -> om.Location:
    return om.Location(
        physical_location=om.PhysicalLocation(
            artifact_location=om.ArtifactLocation(uri=span.path, uri_base_id=ROOT),
            region=_region(span),
        ),
        message=om.Message(text=message) if message else None,
    )


def _descriptor(meta: RuleMeta) -> om.ReportingDescriptor:
    properties: dict[str, Any] = {"tags": sorted(meta.tags)}
    if "security" in meta.tags:
        properties["security-severity"] = SECURITY_SEVERITY[meta.severity]
    help_text = f"{meta.rationale}\n\nRemediation: {meta.remediation}"
    return om.ReportingDescriptor(
        id=meta.id,
        name=meta.id,
        short_description=om.MultiformatMessageString(text=meta.summary),
        full_description=om.MultiformatMessageString(text=meta.rationale),
        help=om.MultiformatMessageString(text=help_text, markdown=help_text),
        help_uri=rule_docs_url(meta.id),
        default_configuration=om.ReportingConfiguration(level=meta.severity.value),
        properties=properties,
    )


def _result(finding: Finding, rule_index: dict[str, int]) -> om.Result:
    return om.Result(
        rule_id=finding.rule_id,
        rule_index=rule_index.get(finding.rule_id, -1),
        level=finding.severity.value,
        message=om.Message(text=message_text(finding)),
        locations=[_location(finding.span)],
        related_locations=[_with_id(_location(r.span, r.message), index) for index, r in enumerate(finding.related, 1)]
        or None,
        partial_fingerprints={"infralintFingerprint/v1": finding.fingerprint},
    )


def message_text(finding: Finding) -> str:
    """The result's message; one with related places links each (`[text](id)`), which is how
    code scanning shows related locations."""
    if not finding.related:
        return finding.message
    links = ", ".join(f"[{_literal(r.message)}]({index})" for index, r in enumerate(finding.related, 1))
    return f"{_literal(finding.message)} ({links})"


def _literal(text: str) -> str:
    """Text beside embedded links: brackets escaped so they are not read as links."""
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _with_id(location: om.Location, index: int) -> om.Location:
    location.id = index
    return location


def build(report: Report, category: str | None = None) -> om.SarifLog:
    # Input findings from rules that are not enabled still need a descriptor.
    metas = rule_metas(report)
    rule_index = {meta.id: index for index, meta in enumerate(metas)}
    run = om.Run(
        tool=om.Tool(
            driver=om.ToolComponent(
                name="infralint",
                version=report.tool_version,
                semantic_version=report.tool_version,
                information_uri="https://github.com/infralint/infralint",
                rules=[_descriptor(meta) for meta in metas],
            )
        ),
        original_uri_base_ids={ROOT: om.ArtifactLocation(uri=_root_uri(report.root))},
        results=[_result(finding, rule_index) for finding in report.findings],
        properties=_baseline_properties(report),
        column_kind="unicodeCodePoints",
        automation_details=om.RunAutomationDetails(id=automation_id(category)) if category else None,
    )
    return om.SarifLog(version="2.1.0", schema_uri=SCHEMA, runs=[run])


def _baseline_properties(report: Report) -> dict[str, Any] | None:
    """Findings hidden by a baseline are left out of the results, not marked with `suppressions`:
    code scanning ingests suppressed results as open alerts. The counts stay visible here."""
    if report.baseline is None:
        return None
    return {"infralint/baseline": {"hidden": report.baseline.hidden, "stale": len(report.baseline.stale)}}


def automation_id(category: str) -> str:
    """GitHub reads `automationDetails.id` as `<category>/<run id>`: a trailing slash makes the
    whole value the category, so two categories never replace each other's alerts."""
    return category if category.endswith("/") else category + "/"


def _root_uri(root: str) -> str:
    return "file://" + root.rstrip("/") + "/" if root.startswith("/") else root


def to_plain(value: Any) -> Any:
    """sarif-om objects to JSON data under their schema names, leaving out unset fields."""
    if attr.has(type(value)):
        data: dict[str, Any] = {}
        for field in attr.fields(type(value)):
            item = getattr(value, field.name)
            if item is None:
                continue
            default = field.default
            if isinstance(default, attr.Factory):  # type: ignore[arg-type]
                default = default.factory()
            if field.name != "level" and default is not attr.NOTHING and item == default:
                continue
            data[field.metadata.get("schema_property_name", field.name)] = to_plain(item)
        return data
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(item) for item in value]
    return value


def render(report: Report, category: str | None = None, **_: Any) -> str:
    data = to_plain(build(report, category))
    # A clean scan still has a results array: code scanning reads "none" from it.
    data["runs"][0].setdefault("results", [])
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
