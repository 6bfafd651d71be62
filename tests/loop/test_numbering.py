"""Version numbers continue from the highest ever used and never repeat, even under races."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from backend.loop.cleanup import superseded
from backend.loop.numbering import RESERVED, highest, newest_version, reserve, reserved, version_name, version_number
from tests.conftest import ROOT

P = "ls-active-v"


def test_numbers_are_read_from_our_names_only() -> None:
    assert version_number("ls-active-v12-20260101T000000") == 12
    assert version_number("ls-active-cold-start") is None
    assert version_number("other-v3-20260101T000000") is None
    assert highest(["ls-active-v9-a", "ls-active-v10-b", "default", "ls-active-cold-start"]) == 10
    assert highest([]) == 0
    name = version_name(7)
    assert name.startswith("ls-active-v7-") and version_number(name) == 7


def test_a_reservation_is_never_handed_out_twice(tmp_path: Path) -> None:
    assert reserve(tmp_path, 1) == 1
    assert reserve(tmp_path, 1) == 2, "1 is taken: the next free number above every reservation"
    assert reserve(tmp_path, 10) == 10
    assert reserve(tmp_path, 3) == 11
    assert reserved(tmp_path) == 11
    assert (tmp_path / RESERVED).stat().st_mode & 0o077 == 0


def test_old_reservations_are_pruned(tmp_path: Path) -> None:
    for _ in range(60):
        reserve(tmp_path, 1)
    kept = sorted(int(p.name) for p in (tmp_path / RESERVED).iterdir())
    assert kept[-1] == 60 and len(kept) <= 21


RACER = """
import sys
from pathlib import Path
from backend.loop.numbering import reserve
print(" ".join(str(reserve(Path(sys.argv[1]), 1)) for _ in range(40)))
"""


def test_processes_racing_get_distinct_numbers(tmp_path: Path) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", RACER, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}) for _ in range(4)]
    numbers = [int(n) for p in procs for n in p.communicate(timeout=120)[0].split()]
    assert len(numbers) == 160 and len(set(numbers)) == 160


def test_only_versions_proven_older_than_the_current_one_are_superseded() -> None:
    names = [f"{P}{n}-20260101T00000{n % 10}" for n in range(1, 7)]
    assert superseded(names, names[4], P, 1) == names[:3], "v1-v3 go; v4 is kept, v5 is current, v6 is newer"
    assert superseded(names, names[4], P, 0) == names[:4]
    assert superseded(names, names[0], P, 0) == [], "nothing is older than v1"
    assert superseded(names, None, P, 0) == []
    assert superseded(names, "ls-active-cold-start", P, 0) == [], "no numbered current version: no proof"
    assert superseded(names, "default", P, 0) == []
    assert superseded([*names, "ls-active-cold-start", "theirs-v1-x"], names[2], P, 0) == names[:2]


def test_the_newest_version_is_the_highest_number_not_the_latest_name() -> None:
    names = ["ls-active-v9-20261204T100000", "ls-active-v10-20261201T000000", "ls-active-cold-start", "other-v99-x"]
    assert newest_version(names) == "ls-active-v10-20261201T000000"
    assert newest_version([]) is None
