"""Read `# expect: rule-id[, rule-id]` markers from fixture files.

An end-of-line marker expects the rules on its own line; an own-line marker expects them on
the next line that is not a comment (Redis has no trailing comments). A marker may name a
line explicitly, `# expect@12: rule-id`, for findings on lines that cannot carry a comment.
"""

from __future__ import annotations

import re
from pathlib import Path

MARKER = re.compile(r"#\s*expect(?:@(\d+))?:\s*([a-z0-9, -]+)")


def expected_findings(folder: Path, root: Path) -> set[tuple[str, int, str]]:
    files = [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.is_file())
    expected: set[tuple[str, int, str]] = set()
    for path in files:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (UnicodeDecodeError, OSError):
            continue
        relative = path.relative_to(root).as_posix()
        for index, line in enumerate(lines):
            match = MARKER.search(line)
            if match is None:
                continue
            rule_ids = [part.strip() for part in match.group(2).split(",") if part.strip()]
            if match.group(1):
                target = int(match.group(1))
            elif line[: match.start()].strip():
                target = index + 1
            else:
                target = _next_content_line(lines, index + 1)
            for rule_id in rule_ids:
                expected.add((relative, target, rule_id))
    return expected


def _next_content_line(lines: list[str], start: int) -> int:
    for index in range(start, len(lines)):
        stripped = lines[index].strip()
        if stripped and not stripped.startswith("#"):
            return index + 1
    raise ValueError("an own-line expect marker with no line after it")
