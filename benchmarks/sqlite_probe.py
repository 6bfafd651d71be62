"""Watch Label Studio's SQLite database from outside: when could another request write or read?

SQLite lets one connection write at a time. A request that cannot get its lock within the busy
timeout (Python's default, 5 s, which Label Studio keeps) fails with 500 "database is locked".
A second connection that tries, every few milliseconds and without waiting, to

* ``BEGIN IMMEDIATE`` (take the write lock): fails while another connection writes;
* ``BEGIN EXCLUSIVE`` (what a writer needs to commit): fails also while another reads;
* read one row: fails while another connection commits a large change,

sees exactly how long each of those doors stays shut. The probe rolls back at once, so it
changes nothing and holds a lock for microseconds.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

#: Sampling period. A blocked stretch shorter than this may be missed; Label Studio's own
#: requests wait up to 5 s, so 20 ms is ample.
INTERVAL = 0.02


@dataclass(frozen=True)
class Sample:
    at: float
    write: bool
    commit: bool
    read: bool


@dataclass(frozen=True)
class Blocked:
    """The longest and the total time each door was shut within a window, in seconds."""

    write_max: float
    write_total: float
    commit_max: float
    commit_total: float
    read_max: float
    read_total: float

    def row(self) -> str:
        return (f"{self.write_max:6.2f} {self.write_total:6.2f} | {self.commit_max:6.2f} "
                f"{self.commit_total:6.2f} | {self.read_max:6.2f} {self.read_total:6.2f}")


def _try(conn: sqlite3.Connection, statement: str) -> bool:
    try:
        conn.execute(statement)
    except sqlite3.OperationalError:
        return False
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    return True


class LockProbe(threading.Thread):
    """Samples the database at ``path`` until :meth:`stop`; ``samples`` grows meanwhile."""

    def __init__(self, path: Path, interval: float = INTERVAL) -> None:
        super().__init__(daemon=True, name="sqlite-probe")
        self.path = path
        self.interval = interval
        self.samples: list[Sample] = []
        self._halt = threading.Event()

    def run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=0, isolation_level=None, check_same_thread=False)
        try:
            while not self._halt.is_set():
                at = time.time()
                write = _try(conn, "BEGIN IMMEDIATE")
                commit = _try(conn, "BEGIN EXCLUSIVE")
                read = _try(conn, "SELECT count(*) FROM (SELECT 1 FROM sqlite_master LIMIT 1)")
                self.samples.append(Sample(at, write, commit, read))
                self._halt.wait(self.interval)
        finally:
            conn.close()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)

    def blocked(self, start: float, end: float) -> Blocked:
        """How long each door stayed shut between ``start`` and ``end`` (wall-clock seconds)."""
        window = [s for s in self.samples if start <= s.at <= end]
        figures: list[float] = []
        for door in ("write", "commit", "read"):
            longest = total = 0.0
            run_start: float | None = None
            previous = start
            for sample in window:
                shut = not getattr(sample, door)
                if shut and run_start is None:
                    run_start = previous
                if shut:
                    total += sample.at - previous
                if not shut and run_start is not None:
                    longest = max(longest, sample.at - run_start)
                    run_start = None
                previous = sample.at
            if run_start is not None:
                longest = max(longest, previous - run_start)
            figures += [longest, total]
        return Blocked(*figures)
