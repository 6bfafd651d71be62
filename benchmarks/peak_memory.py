"""Peak resident memory of the service's processes while a benchmark runs.

A work horse lives for one job and its own high-water mark (``VmHWM``) dies with it, so the
processes are sampled instead: every ``interval`` seconds the resident size of each watched
process and all its descendants (gunicorn's master and workers; the RQ worker and its work
horses), summed per root, and the largest single process. Descendants, not process groups:
RQ's work horse starts a session of its own. Linux only (``/proc``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(roots: Mapping[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """Bytes resident per named root process and its descendants now: (sum, largest process)."""
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:  # gone since the listing
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        parent[int(proc.name)] = int(fields[1])
        rss[int(proc.name)] = int(fields[21]) * PAGE
    total = dict.fromkeys(roots, 0)
    largest = dict.fromkeys(roots, 0)
    owner = {pid: name for name, pid in roots.items()}
    for pid, size in rss.items():
        seen, at = 0, pid
        while at not in owner and at in parent and seen < 64:  # up the tree to a root, or to init
            at, seen = parent[at], seen + 1
        name = owner.get(at)
        if name is not None:
            total[name] += size
            largest[name] = max(largest[name], size)
    return total, largest


@dataclass
class PeakMemory:
    """Context manager: the peaks of :func:`tree_rss` over its lifetime, in bytes."""

    roots: Mapping[str, int]
    interval: float = 0.2
    total: dict[str, int] = field(default_factory=dict)
    largest: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        total, largest = tree_rss(self.roots)
        for name in self.roots:
            self.total[name] = max(self.total.get(name, 0), total[name])
            self.largest[name] = max(self.largest.get(name, 0), largest[name])

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> PeakMemory:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def summary(self) -> str:
        mb = 1024 * 1024
        return "; ".join(f"{name}: peak {self.total.get(name, 0) / mb:.0f} MB over it and its children, "
                         f"largest process {self.largest.get(name, 0) / mb:.0f} MB" for name in self.roots)
