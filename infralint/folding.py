"""One root cause, one finding.

Two kinds of findings say one thing several times, and each is folded into one finding that keeps
the others as related locations (role "merged", so pre-commit still shows it for their files):

- Findings that name the same cause (`Finding.cause`): a service without a healthcheck is
  reported by compose-no-healthcheck, by the proxy rules that route to it and by the proxy's
  depends_on rule. The finding at the place of the fix (`fix_here`) is kept.
- One rule at one line for several objects: a YAML anchor shared by 20 services, a template line
  that a `range` turns into many objects. One edit at that line fixes them all.
- One claim in sibling variants of a file: a folder of alternatives (docker-compose.postgres.yml,
  docker-compose.mariadb.yml, docker-compose.sqlite.yml, of which a user picks one) repeats the
  same service with the same fault. Findings of one rule with the same message, on objects in
  files of one folder, are one finding at the file with the shortest name.
- One rule on copies of one object: a repository that commits the output of its kustomize roots
  (argo-cd keeps ten install bundles beside the bases they are built from) holds each object
  several times, byte for byte the same once parsed. The finding is kept where the object is
  written by hand (a rendered object points at its source), the copies become related locations.
  Only identical objects fold: a copy that differs in anything is judged on its own.

Folding runs after suppression and rule selection, so each rule id stays suppressible on its own:
a suppressed or deselected finding never absorbs the others.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from infralint.findings import Finding, Related
from infralint.source import Span

MERGED_ROLE = "merged"
# A cause key that starts with this: each finding of the group already says what they share (one
# decision of a whole project, the objects it covers named in the message), so the kept finding's
# message stands as written and the others become plain pointers to their objects.
STATED_CAUSE = "stated:"
_LISTED = 5  # objects named in a message before "and N more"
MessageFn = Callable[[Finding, list[Finding]], str]
RelatedFn = Callable[[Finding, Finding], Related]  # (kept, folded)
Locate = Callable[[str], "Span | None"]
# A node's copy identity: a digest of its whole top-level object's content, and whether that object
# was rendered (its findings point at the files it is built from). None: not a foldable copy.
CopyOf = Callable[[str], "tuple[str, bool] | None"]
Rank = tuple[bool, int, int, int, int]  # the finding of a group that is kept ranks lowest


def fold(
    findings: list[Finding],
    locate: Locate = lambda node_id: None,
    copy_of: CopyOf = lambda node_id: None,
) -> tuple[list[Finding], Counter[str]]:
    """FINDINGS (sorted) with shared causes, shared lines and copies folded; and how many findings
    of each rule were folded into another. LOCATE gives an object's own place, where a finding
    folded into a shared line points (each folded finding stays one related location of the one
    kept); COPY_OF tells copies of one object apart from objects that only share a name."""
    folded: Counter[str] = Counter()
    findings = _fold_groups(findings, _by_cause(findings), _cause_message, _cause_related, folded)
    # Copies before shared lines: each rendered object first takes in its committed copies, then
    # the objects one kustomization line sets (an `images:` entry) become one finding.
    findings = _fold_groups(
        findings, _by_copy(findings, copy_of), _copy_message, _copy_related, folded, partial(_source_first, copy_of)
    )
    line_related = partial(_line_related, locate)
    findings = _fold_groups(findings, _by_line(findings), _line_message, line_related, folded)
    findings = _fold_groups(findings, _by_variant(findings), _variant_message, _variant_related, folded, _shortest_name)
    return findings, folded


def _by_cause(findings: list[Finding]) -> list[list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for index, finding in enumerate(findings):
        if finding.cause:
            groups[finding.cause].append(index)
    # One rule at one line for all of them (a YAML anchor): the shared-line fold says it better.
    return [group for group in groups.values() if len(group) > 1 and len({_place(findings[i]) for i in group}) > 1]


def _place(finding: Finding) -> tuple[str, str, int | None]:
    return (finding.rule_id, finding.span.path, finding.span.line)


def _by_line(findings: list[Finding]) -> list[list[int]]:
    # Findings of different kustomize roots are different deployments: each keeps its own.
    groups: dict[tuple[str, str, int, int | None, frozenset[Span]], list[int]] = defaultdict(list)
    for index, finding in enumerate(findings):
        span = finding.span
        if finding.node_id is not None and span.line is not None:
            roots = frozenset(r.span for r in finding.related if r.role == "root")
            groups[(finding.rule_id, span.path, span.line, span.col, roots)].append(index)
    return [group for group in groups.values() if len({findings[i].node_id for i in group}) > 1]


def _by_copy(findings: list[Finding], copy_of: CopyOf) -> list[list[int]]:
    """Findings of one rule about the same part of identical objects in different files. A finding
    of renders merged at one line joins the copies of any of its renders' objects."""
    groups: dict[tuple[str, str, str, str], list[int]] = defaultdict(list)
    rendered: list[tuple[int, list[str]]] = []
    for index, finding in enumerate(findings):
        identities = [copy_of(node_id) for node_id in (finding.node_id, *finding.merged_nodes) if node_id]
        digests = [identity[0] for identity in identities if identity is not None]
        if not digests:
            continue
        if any(identity[1] for identity in identities if identity is not None):
            rendered.append((index, digests))
        else:
            groups[_copy_key(finding, digests[0])].append(index)
    for index, digests in rendered:
        keys = [_copy_key(findings[index], digest) for digest in digests]
        joined = next((key for key in keys if key in groups), keys[0])
        groups[joined].append(index)
    return [group for group in groups.values() if len({findings[i].span.path for i in group}) > 1]


def _by_variant(findings: list[Finding]) -> list[list[int]]:
    """Findings that say the same thing (rule and message) about objects in files of one folder."""
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for index, finding in enumerate(findings):
        if finding.node_id is not None and finding.span.line is not None:
            folder = finding.span.path.rpartition("/")[0]
            groups[(finding.rule_id, finding.message, folder)].append(index)
    return [group for group in groups.values() if len({findings[i].span.path for i in group}) > 1]


def _shortest_name(findings: list[Finding], index: int) -> Rank:
    finding = findings[index]
    return (False, -finding.severity.rank, len(finding.span.path), finding.span.line or 0, index)


def _copy_key(finding: Finding, digest: str) -> tuple[str, str, str, str]:
    return (finding.rule_id, finding.subject, finding.locator, digest)


def _fix_here_first(findings: list[Finding], index: int) -> Rank:
    finding = findings[index]
    return (not finding.fix_here, -finding.severity.rank, 0, 0, index)


def _source_first(copy_of: CopyOf, findings: list[Finding], index: int) -> Rank:
    """A rendered copy points at the files it is built from: that is where the fix is made.
    Among plain copies, the one nearest the top of the repository, then the one nearest the top
    of its file (a file of its own rather than a bundle of many objects)."""
    finding = findings[index]
    identity = copy_of(finding.node_id) if finding.node_id else None
    depth, line = finding.span.path.count("/"), finding.span.line or 0
    return (not (identity and identity[1]), -finding.severity.rank, depth, line, index)


def _fold_groups(
    findings: list[Finding],
    groups: list[list[int]],
    message: MessageFn,
    pointer: RelatedFn,
    folded: Counter[str],
    rank: Callable[[list[Finding], int], Rank] = _fix_here_first,
) -> list[Finding]:
    if not groups:
        return findings
    replaced: dict[int, Finding] = {}
    dropped: set[int] = set()
    for group in groups:
        keeper_index = min(group, key=lambda i: rank(findings, i))
        keeper = findings[keeper_index]
        others = [findings[i] for i in group if i != keeper_index]
        replaced[keeper_index] = _absorb(keeper, others, message, pointer)
        dropped.update(i for i in group if i != keeper_index)
        folded.update(other.rule_id for other in others)
    return [replaced.get(i, finding) for i, finding in enumerate(findings) if i not in dropped]


def _absorb(keeper: Finding, others: list[Finding], message: MessageFn, pointer: RelatedFn) -> Finding:
    severity = max((keeper, *others), key=lambda f: f.severity.rank).severity
    # A folded finding replaces a plain pointer at its own place ("proxy depends on it here").
    places = {other.span for other in others}
    related = [r for r in keeper.related if r.role or r.span not in places]
    related.extend(pointer(keeper, other) for other in others)
    # What a folded finding had already absorbed stays shown for its files (a copy of a project
    # whose services were folded into one finding keeps those services' places).
    shown = {(r.span, r.message) for r in related}
    related.extend(
        r for other in others for r in other.related if r.role == MERGED_ROLE and (r.span, r.message) not in shown
    )
    return replace(keeper, severity=severity, message=message(keeper, others), related=tuple(related))


def _cause_related(keeper: Finding, other: Finding) -> Related:
    if other.cause.startswith(STATED_CAUSE):
        return Related(other.span, f"{other.rule_id}: {other.subject or _where(other)}, one of them", MERGED_ROLE)
    return Related(other.span, f"{other.rule_id}: {other.message}", MERGED_ROLE)


def _line_related(locate: Locate, keeper: Finding, other: Finding) -> Related:
    """The folded object's own place: the message already says what is wrong at the line."""
    place = locate(other.node_id) if other.node_id else None
    name = other.subject or other.node_id
    return Related(place or other.span, f"{other.rule_id}: {name} takes it from {_where(keeper)}", MERGED_ROLE)


def _where(finding: Finding) -> str:
    span = finding.span
    return f"{span.path}:{span.line}" if span.line is not None else span.path


def _cause_message(keeper: Finding, others: list[Finding]) -> str:
    if keeper.cause.startswith(STATED_CAUSE):
        return keeper.message
    named = [f"{other.rule_id} at {_where(other)}" for other in others]
    places = listed(list(dict.fromkeys(named))).replace(", ", "; ")
    return f"{keeper.message} (the same cause, reported once: {places})"


def _copy_related(keeper: Finding, other: Finding) -> Related:
    return Related(other.span, f"{other.rule_id}: the same {other.subject or 'object'}, copied here", MERGED_ROLE)


def _variant_related(keeper: Finding, other: Finding) -> Related:
    return Related(other.span, f"{other.rule_id}: the same in this variant", MERGED_ROLE)


def _variant_message(keeper: Finding, others: list[Finding]) -> str:
    places = sorted({_where(other) for other in others})
    count = len(places)
    return f"{keeper.message} (the same in {count} sibling file{'s' if count != 1 else ''}: {listed(places)})"


def _copy_message(keeper: Finding, others: list[Finding]) -> str:
    places = sorted({_where(other) for other in others})
    count = len(places)
    return f"{keeper.message} (also in {count} identical cop{'ies' if count != 1 else 'y'}: {listed(places)})"


def _line_message(keeper: Finding, others: list[Finding]) -> str:
    names = [other.subject or other.node_id or "?" for other in others]
    count = len(names)
    return (
        f"{keeper.message} (this line holds it for {count} more object{'s' if count != 1 else ''} too: {listed(names)})"
    )


def listed(names: list[str]) -> str:
    """NAMES for a message: the first few, then how many more."""
    shown = ", ".join(names[:_LISTED])
    return shown + (f" and {len(names) - _LISTED} more" if len(names) > _LISTED else "")


def repeated_elsewhere(findings: list[Finding]) -> int:
    """How many findings repeat an identical one (rule, message, line, file name) found in another
    file: the same manifest kept in several folders of a repository."""
    seen: Counter[tuple[str, str, int | None, str]] = Counter()
    for finding in findings:
        name = finding.span.path.rsplit("/", 1)[-1]
        seen[(finding.rule_id, finding.message, finding.span.line, name)] += 1
    return sum(count - 1 for count in seen.values() if count > 1)
