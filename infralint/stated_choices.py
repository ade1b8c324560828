"""Stated choices: advice the maintainers answered in a comment beside the setting is not repeated.

A hardening, best-practice or reliability finding holds, but where the file says right there
that the value is chosen (`image: app:latest  # the release script pins master's latest on
purpose`, `# we intentionally run without limits`, `cap_add: [NET_ADMIN]  # needed by the DHCP
server`), a maintainer has already weighed the advice: repeating it is noise. Such findings are
counted in the summary, not listed (`--show-stated-choices` or the config's `stated-choices:
false` lists them).

What is never left out:

* findings of rules tagged `correctness` or `input`: a broken reference is broken whatever the
  comment says;
* findings of rules tagged `security` whose severity is error (the rule's, as configured, or the
  finding's): where the written value is itself the danger (`privileged: true`, `protected-mode
  no`, the runtime socket), a reason beside it does not make it safe. That holds where component
  data already lowered the finding to a note (a CI executor that needs `privileged: true`): the
  note that says so stays, and points at the mitigation;
* a comment that announces work or doubt (TODO, FIXME, "should", "for now", "temporary" ...),
  or that warns about the value (insecure, not for production): that is the opposite of a choice.

"Beside the setting" is the finding's own line (a trailing `# ...`) and the run of full-line
comments directly above it (up to a blank or code line), in the file the finding points at.
In every format infralint reads (YAML, Compose, nginx, HAProxy, Redis) comments start with `#`;
a `#` counts only at the start of a line or after white space and outside quotes, so `"#fff"`,
`http://host/#frag` and `location ~ a#b` are values, not comments. A license header directly
above the first line ("Unless required by applicable law ...") is not a statement about a setting.

A comment is taken to be about the finding when the finding's line holds the value it judges
(`image: app:latest`, `maxmemory 0`, `- NET_ADMIN`). A finding about something missing points at
the object that lacks it (a service, a container's `- name:`, `server {`) or at a config's first
directive, where a comment speaks of the object or of another setting: there the comment must
also name what the rule is about (`# we intentionally run without limits` above a container
answers k8s-missing-memory-limit, not k8s-missing-liveness-probe).
"""

from __future__ import annotations

import itertools
import os
import re
from collections import Counter
from collections.abc import Callable, Sequence

from infralint.findings import Finding, Severity
from infralint.rules.meta import RuleMeta
from infralint.source import Span

# Tags of rules whose findings are facts, not advice: never left out for a comment.
KEPT_TAGS = frozenset({"correctness", "input"})

# Phrases that state a choice, each with why it is on the list. Matched case-insensitively as
# whole words in the comment text. Kept short and conservative: a comment that only describes
# the setting ("# memory limit", "# the proxy") states nothing and must not match.
CHOICE_PHRASES: tuple[tuple[str, str], ...] = (
    (r"on purpose", "the plainest way to say a value is chosen"),
    (r"intentional(?:ly)?", '"intentionally left out"; `\\b` keeps "unintentional" out'),
    (r"deliberate(?:ly)?", "same as intentional"),
    (r"by design", "the component is meant to run this way"),
    (r"(?:is|are)?\s*not needed|isn'?t needed|aren'?t needed", "the advice does not apply here"),
    (r"no need (?:to|for)", '"no need to limit": the advice was weighed'),
    (r"(?:is|are) not required|isn'?t required|aren'?t required", "same as not needed"),
    (r"we (?:do not|don'?t) (?:want|need)", "a decision of the maintainers"),
    (r"(?:required|needed|necessary) (?:by|for)", '"needed by the DHCP server": the reason for the access'),
    (
        r"needs (?:to run as )?(?:root|privileged|privileges|host\w*|access to|the (?:docker )?socket|"
        r"docker\.sock|net_admin|sys_admin|capabilit\w*|to (?:write|bind|listen|reach|access|mount))",
        "the component needs the access it is given",
    ),
    (r"because", "a reason given for the value"),
    (r"so that", "a purpose given for the value"),
    (
        r"otherwise\b[^.;]{0,40}?\b(?:fail\w*|break\w*|crash\w*|won'?t|can'?t|cannot|doesn'?t|does not|"
        r"will not|is not|isn'?t|errors?|refuses?|dies|hangs)",
        '"otherwise X fails": a reason; a bare "otherwise" ("otherwise defaults to 1") describes',
    ),
)
# Words that make a comment anything but a settled choice, each with why.
NOT_A_CHOICE_PHRASES: tuple[tuple[str, str], ...] = (
    (r"todo|fixme|xxx|hack", "work still to do: the finding is what the note asks for"),
    (r"should", '"should be limited": advice, not a decision'),
    (r"change ?me|change_me|changeme", "a placeholder to replace"),
    (r"for now|temporar(?:y|ily)|until", "a stopgap, not a choice"),
    (
        r"uncomment|if you|you (?:may|might|can|could) want|consider|(?:we|i) recommend|recommended to|not recommended",
        'advice to the user; "recommended but not required (DHCP needs NET_ADMIN)" is a maintainer\'s reason',
    ),
    (r"insecure|unsafe|not secure|dangerous|not for production|in production", "a warning about the value"),
)
# A comment run with these is a license or copyright header, not a word about the next line.
_LICENSE = re.compile(r"\b(?:licen[sc]e[sd]?|copyright|spdx)\b", re.IGNORECASE)
_CHOICE = re.compile(r"\b(?:" + "|".join(p for p, _ in CHOICE_PHRASES) + r")\b", re.IGNORECASE)
_NOT_A_CHOICE = re.compile(r"\b(?:" + "|".join(p for p, _ in NOT_A_CHOICE_PHRASES) + r")\b", re.IGNORECASE)
# Whether a comment is about the finding. A finding about a value points at the line that holds
# it (`image: app:latest`, `maxmemory 0`, `- NET_ADMIN`): a comment there is about that value. A
# finding about something missing points at the object that lacks it (a service's key, a
# container's `- name:`, `server {`, a Deployment's first line) or at a config's first directive:
# a comment there is about the object or another setting, so it must also name what the rule is
# about. The finding's line holds its value when its code names a word of the rule id (other than
# TOPIC_STOP_WORDS, or the same word with another ending: "latest" for k8s-image-latest-tag,
# "tokens" for nginx-server-tokens) or a word the message names outside quotes (the message of
# compose-dangerous-capabilities names NET_ADMIN); never when it is an object's header line.
TOPIC_STOP_WORDS = frozenset(
    {"k8s", "compose", "nginx", "haproxy", "redis", "no", "missing", "not", "set", "without", "too", "is", "as"}
    | {"run", "pod", "service", "server", "container", "default", "all", "of", "or", "on", "in", "to", "name"}
)
_WORD = re.compile(r"[a-z0-9]+")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")
# An object's header line: a YAML key opening a mapping (`web:`), a list item naming its object
# (`- name: api`), a manifest's `apiVersion:`/`kind:`, an nginx block (`server {`), an HAProxy section.
_HEADER = re.compile(
    r"\s*(?:-\s+)?[\w.-]+:\s*$|\s*-\s+name:|(?:apiVersion|kind):|.*\{\s*$"
    r"|\s*(?:global|defaults|frontend|backend|listen|peers|resolvers|userlist|cache|program)\b"
)
# The most comment lines above a finding read as its comment: a reason is written close to its value.
MAX_RUN = 12


def applies(meta: RuleMeta) -> bool:
    """Whether findings of the rule may be left out for a stated choice (by its tags)."""
    return not KEPT_TAGS & set(meta.tags)


def leave_out(
    findings: list[Finding],
    metas: Sequence[RuleMeta],
    root: str,
    node_span: Callable[[str], Span | None] | None = None,
) -> tuple[list[Finding], Counter[str]]:
    """The findings to report, and per rule how many were left out because a comment at their
    place states the choice. METAS: the enabled rules, with the configuration's severities;
    NODE_SPAN: a node's own place by its id, to tell a finding at an object's first line."""
    left_out: Counter[str] = Counter()
    security = {meta.id: meta.severity for meta in metas if "security" in meta.tags}
    # Security rules whose severity is error: the written value is the danger (a finding that
    # component data lowered to a note, `privileged: true` for a CI executor, is still it).
    dangers = {rule_id for rule_id, severity in security.items() if severity is Severity.ERROR}
    advice = {meta.id for meta in metas if applies(meta)} - dangers
    comments = _Comments(root)
    kept = []
    for finding in findings:
        rule_id = finding.rule_id
        if (
            rule_id in advice
            and finding.span.line
            and not (finding.severity is Severity.ERROR and rule_id in security)
            and _states_choice_for(finding, comments, node_span)
        ):
            left_out[rule_id] += 1
        else:
            kept.append(finding)
    return kept, left_out


def _states_choice_for(finding: Finding, comments: _Comments, node_span: Callable[[str], Span | None] | None) -> bool:
    found = comments.beside(finding.span.path, finding.span.line or 0)
    if found is None:
        return False
    code, comment = found
    if not states_choice(comment):
        return False
    topic = _topic(finding.rule_id)
    if _holds_value(finding, code, topic, node_span):
        return True
    return _names_topic(_WORD.findall(comment.lower()), topic)


def _holds_value(
    finding: Finding, code: str, topic: frozenset[str], node_span: Callable[[str], Span | None] | None
) -> bool:
    """Whether the finding's line holds the value it is about (see TOPIC_STOP_WORDS)."""
    if _HEADER.match(code):
        return False
    if node_span is not None and finding.node_id:
        span = node_span(finding.node_id)
        if span is not None and span.path == finding.span.path and span.line == finding.span.line:
            return False  # the object's own first line
    words = _WORD.findall(code.lower())
    if _names_topic(words, topic):
        return True
    named = set(_WORD.findall(_QUOTED.sub(" ", finding.message).lower()))
    return any(len(word) >= 4 and word in named for word in words)


_TOPICS: dict[str, frozenset[str]] = {}


def _topic(rule_id: str) -> frozenset[str]:
    topic = _TOPICS.get(rule_id)
    if topic is None:
        topic = _TOPICS[rule_id] = frozenset(part for part in rule_id.split("-") if part not in TOPIC_STOP_WORDS)
    return topic


def _names_topic(words: list[str], topic: frozenset[str]) -> bool:
    """Whether WORDS name a word of TOPIC: the same word but for its ending ("limits" for
    "limit", "capabilities" for "capability", not "files" for "filesystem"), or two words
    written apart ("health check" for "healthcheck")."""
    candidates = words + [first + second for first, second in itertools.pairwise(words)]
    for word in candidates:
        for part in topic:
            if word == part or _same_stem(word, part):
                return True
    return False


def _same_stem(first: str, second: str) -> bool:
    common = 0
    for one, other in zip(first, second, strict=False):
        if one != other:
            break
        common += 1
    return common >= max(4, max(len(first), len(second)) - 3)


def comment_of(line: str) -> str | None:
    """The text of the `#` comment on LINE, or None: a `#` at the start or after white space,
    outside single or double quotes (a quote opens only where a value can start)."""
    if "#" not in line:
        return None
    quote = ""
    previous = " "
    index = 0
    length = len(line)
    while index < length:
        char = line[index]
        if quote:
            if char == "\\" and quote == '"':
                index += 2
                previous = "x"
                continue
            if char == quote:
                quote = ""
        elif char in "\"'" and (previous.isspace() or previous in ":[{,=(-"):
            quote = char
        elif char == "#" and previous.isspace():
            return line[index + 1 :]
        previous = char
        index += 1
    return None


def states_choice(text: str) -> bool:
    """Whether comment TEXT states a choice (and announces no work or doubt)."""
    return _CHOICE.search(text) is not None and _NOT_A_CHOICE.search(text) is None


class _Comments:
    """The comment beside each finding's line, reading each file once and only when one of its
    findings can be left out; a file none of whose text has a choice phrase is not split."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._lines: dict[str, list[str] | None] = {}

    def _file(self, path: str) -> list[str] | None:
        if path in self._lines:
            return self._lines[path]
        lines = None
        try:
            with open(os.path.join(self.root, path), encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except OSError:
            text = ""
        split = text.splitlines()
        # Only comments can state a choice: search the lines that may hold one, not the whole file.
        if _CHOICE.search("\n".join(line for line in split if "#" in line)) is not None:
            lines = split
        self._lines[path] = lines
        return lines

    def beside(self, path: str, line: int) -> tuple[str, str] | None:
        """The code of LINE and the comment on it and directly above it; None when there is no
        comment, or none in the file could state a choice."""
        lines = self._file(path)
        if lines is None or not 0 < line <= len(lines):
            return None
        parts = []
        text = lines[line - 1]
        own = comment_of(text)
        code = text
        if own is not None:
            parts.append(own)
            code = text[: len(text) - len(own) - 1]
        above: list[str] = []
        index = line - 2
        while index >= 0 and len(above) < MAX_RUN:
            stripped = lines[index].lstrip()
            if not stripped.startswith("#"):
                break
            above.append(stripped[1:])
            index -= 1
        if above and not _LICENSE.search(" ".join(above)):
            parts.extend(above)
        return (code, " ".join(parts)) if parts else None
