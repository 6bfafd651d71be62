"""BENCHMARKS.md: each benchmark owns one ``## `` section and rewrites only that one.

Benchmarks run at different times (the peer comparison takes an hour, the service
latency a minute), so each replaces its own section and leaves every other line as it
is. The file is written to a temporary name and renamed over the original, so a run
killed half way never leaves a truncated document.
"""

from __future__ import annotations

import os
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
TITLE = "# Benchmarks"


def replace_section(document: str, heading: str, new_section: str) -> str:
    """``document`` with the section under ``heading`` (up to the next ``## ``) replaced or appended."""
    lines = document.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == heading]
    if not starts:
        return document.rstrip("\n") + "\n\n" + new_section.rstrip("\n") + "\n"
    start = starts[0]
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    rest = lines[end:]
    merged = [*lines[:start], *new_section.rstrip("\n").splitlines(), *([""] if rest else []), *rest]
    return "\n".join(merged).rstrip("\n") + "\n"


def write_section(heading: str, new_section: str, path: Path = BENCHMARKS) -> None:
    """Replace the section under ``heading`` in ``path`` (creating file or section if absent)."""
    current = path.read_text(encoding="utf-8") if path.exists() else f"{TITLE}\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(replace_section(current, heading, new_section), encoding="utf-8")
    os.replace(tmp, path)
