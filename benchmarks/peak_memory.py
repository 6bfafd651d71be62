"""Peak resident memory of the service's processes while a benchmark runs.

A work horse lives for one job and its own high-water mark (``VmHWM``) dies with it, so the
processes are sampled instead: every ``interval`` seconds the resident size of each process in
the watched process groups (gunicorn's master and workers; the RQ worker and its work horses),
summed per group, and the largest single process. Linux only (``/proc``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

PAGE = os.sysconf("SC_PAGE_SIZE")


def group_rss(groups: Mapping[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """Bytes resident per named process group now: (sum over its processes, largest process)."""
    wanted = {pgid: name for name, pgid in groups.items()}
    total = dict.fromkeys(groups, 0)
    largest = dict.fromkeys(groups, 0)
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:  # gone since the listing
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        name = wanted.get(int(fields[2]))  # pgrp
        if name is None:
            continue
        rss = int(fields[21]) * PAGE
        total[name] += rss
        largest[name] = max(largest[name], rss)
    return total, largest


@dataclass
class PeakMemory:
    """Context manager: the peaks of :func:`group_rss` over its lifetime, in bytes."""

    groups: Mapping[str, int]
    interval: float = 0.2
    total: dict[str, int] = field(default_factory=dict)
    largest: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        total, largest = group_rss(self.groups)
        for name in self.groups:
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
        return "; ".join(f"{name}: peak {self.total.get(name, 0) / mb:.0f} MB over its processes, largest process "
                         f"{self.largest.get(name, 0) / mb:.0f} MB" for name in self.groups)
