"""The project explains itself: no file points at notes kept outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = re.compile(
    "|".join(
        [
            "THREATS" + r"(\.md)?\b",
            "ARCHITECTURE" + r"(\.md| rule)",
            "shared" + r"/(notes|fixtures)/",
        ]
    )
)
"""References to the team's own notes, which a reader of the repository does not have."""


def project_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "dev.py"]
    for folder in ("providers", "tui", "tests", "benchmarks", "screenshots"):
        files += [p for p in (ROOT / folder).rglob("*") if p.suffix in {".py", ".md", ".tcss"}]
    return [path for path in files if path != Path(__file__).resolve()]


def test_no_file_points_at_notes_outside_the_repository() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in project_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not found, "\n".join(found)


def test_the_pattern_finds_such_a_reference() -> None:
    assert OUTSIDE.search("see " + "THREATS" + ".md section 2")
    assert OUTSIDE.search("see ../" + "shared/notes/streams.md")
    assert not OUTSIDE.search("threats: path traversal")
