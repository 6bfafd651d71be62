"""Reading Label Studio's own log: which requests failed on SQLite's lock, and whose they were.

Label Studio (on SQLite) retries a request that failed with "database is locked" up to 15
times, sleeping 1 s, 1.5 s, 2.25 s, ... in between, so a client rarely sees the error: it
waits instead. Its log keeps every failure with a traceback; the frames tell whose request
it was.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

_RECORD = re.compile(r"^\[\d{4}-\d\d-\d\d [\d:,]+\] \[(?P<source>[^\]]+)\] \[(?P<level>\w+)\] ?(?P<text>.*)$")
#: Frames that name the request, most specific first.
_KINDS = (
    ("next_task", "actions/next_task.py"),
    ("annotation save", "AnnotationsListAPI"),
    ("annotation save", "tasks/api.py\", line"),
    ("prediction delete", "remove_predictions_from_project"),
    ("version delete", "delete_predictions"),
    ("prediction import", "data_import/api.py"),
    ("project update", "projects/api.py"),
)


def lock_errors(text: str) -> Counter[str]:
    """How many requests Label Studio logged as failed on "database is locked", by kind."""
    kinds: Counter[str] = Counter()
    blocks: list[list[str]] = []
    for line in text.splitlines():
        record = _RECORD.match(line)
        if record:
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
    for block in blocks:
        head = _RECORD.match(block[0])
        if head is None or "custom_exception_handler" not in head["source"] or "database is locked" not in block[0]:
            continue
        body = "\n".join(block)
        kinds[next((kind for kind, frame in _KINDS if frame in body), "other")] += 1
    return kinds


def lock_errors_since(path: Path, offset: int) -> Counter[str]:
    """:func:`lock_errors` for what was written to ``path`` after byte ``offset``."""
    with path.open("rb") as handle:
        handle.seek(offset)
        return lock_errors(handle.read().decode(errors="replace"))
