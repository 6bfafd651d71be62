"""Version numbers that never repeat, whatever Redis remembers.

A trained version is named ``ls-active-v<n>-<UTC time>``; the number orders versions, and the
cleanup deletes by it, so a number used twice would make a newer version look older. The next
number is one more than the highest found anywhere: the artifacts under ``MODEL_DIR``, Label
Studio's prediction versions, the version records in Redis and the numbers already reserved.
A reservation is a file created exclusively under the project's folder, so two workers that
train the same project at once (after Redis lost the retrain slot) still get two numbers.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable
from pathlib import Path

from backend import defaults

#: Our version names: ``<prefix><number>-<UTC timestamp>``; the number orders them.
_NUMBERED = re.compile(r"^(?P<prefix>.+-v)(?P<number>\d+)-")
#: Where a project's reserved numbers live, beside its versions.
RESERVED = ".numbers"
#: Reservations kept below the newest (older ones are redundant: the versions hold those numbers).
_KEEP_RESERVED = 20


def version_number(version: str, prefix: str = defaults.VERSION_PREFIX) -> int | None:
    """The number in one of our version names (``ls-active-v12-...`` -> 12), else None."""
    match = _NUMBERED.match(version)
    if match is None or match["prefix"] != prefix:
        return None
    return int(match["number"])


def highest(versions: Iterable[str], prefix: str = defaults.VERSION_PREFIX) -> int:
    """The highest number among ``versions`` (0 when none is ours)."""
    return max((n for v in versions if (n := version_number(v, prefix)) is not None), default=0)


def newest_version(versions: Iterable[str], prefix: str = defaults.VERSION_PREFIX) -> str | None:
    """The highest-numbered of ``versions`` (a name breaks a tie; None when there are none)."""
    return max(versions, key=lambda v: (version_number(v, prefix) or 0, v), default=None)


def version_name(number: int, prefix: str = defaults.VERSION_PREFIX) -> str:
    return f"{prefix}{number}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}"


def reserved(project_dir: Path) -> int:
    """The highest number reserved in ``project_dir`` (0 when none)."""
    folder = project_dir / RESERVED
    if not folder.is_dir():
        return 0
    return max((int(p.name) for p in folder.iterdir() if p.name.isdigit()), default=0)


def reserve(project_dir: Path, at_least: int) -> int:
    """Reserve and return the first free number that is at least ``at_least`` and above every reservation.

    Old reservations are pruned, so a file that could be created may be one pruned after
    another process used it: a number that far below the newest reservation is not taken.
    """
    folder = project_dir / RESERVED
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    number = max(at_least, reserved(project_dir) + 1)
    while True:
        try:
            os.close(os.open(folder / str(number), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            number += 1
            continue
        newest = reserved(project_dir)
        if number >= newest - _KEEP_RESERVED:
            break
        number = newest + 1  # in pruned territory: it may have been handed out already
    for old in folder.iterdir():
        if old.name.isdigit() and int(old.name) < number - _KEEP_RESERVED:
            old.unlink(missing_ok=True)
    return number
