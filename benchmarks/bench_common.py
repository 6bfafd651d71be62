"""Pieces both sides of the peer benchmark share (ours in the project's environment, the
peers in their own): data on disk as ``.npz``, the timing rule, the memory guard.

Only numpy and the standard library here, so any interpreter can import it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out"
#: trec6 and subj (see datasets/README.md)
DATASETS_DIR = REPO / "datasets"
PEERS_VENV = REPO / "benchmarks" / ".peers-venv"
#: A timing is repeated (best of) while the runs so far took less than this many seconds.
REPEAT_UNDER_SECONDS = 5.0


def best_time(run: Callable[[], Any], repeats: int = 3) -> float:
    """Seconds of the fastest of up to ``repeats`` runs; slow runs are not repeated."""
    best, spent = float("inf"), 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        took = time.perf_counter() - start
        best, spent = min(best, took), spent + took
        if spent > REPEAT_UNDER_SECONDS:
            break
    return best


def available_bytes() -> int:
    """Memory the kernel says is available now (``MemAvailable``), or 8 GiB if unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 * 2**30


def memory_cap() -> int:
    """The most one timing may allocate: half of what is free, as the machine is shared."""
    return available_bytes() // 2


def limit_address_space(cap: int) -> None:
    """Make an allocation beyond ``cap`` fail with MemoryError instead of swapping the host."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def save_timing_pool(path: Path, n: int, d: int, n_labeled: int = 1000, seed: int = 0) -> Path:
    """A 10-class float32 pool of ``n`` x ``d`` plus ``n_labeled`` labeled rows, saved once."""
    if path.exists():
        return path
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=n + n_labeled, n_features=d, n_informative=min(d, 32),
                               n_redundant=0, n_classes=10, random_state=seed)
    x = x.astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, x_labeled=x[:n_labeled], y_labeled=y[:n_labeled].astype(np.int64),
             x_pool=x[n_labeled:])
    return path


def load_timing_pool(path: Path) -> dict[str, Any]:
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def print_json(value: dict[str, Any]) -> None:
    """The one line a worker prints for its parent to read."""
    print("RESULT " + json.dumps(value), flush=True)


def parse_json(stdout: str) -> dict[str, Any]:
    for line in reversed(stdout.splitlines()):
        if line.startswith("RESULT "):
            parsed: dict[str, Any] = json.loads(line[len("RESULT "):])
            return parsed
    raise ValueError("the worker printed no result")


def save_arrays(path: Path, **arrays: Any) -> Path:
    """Arrays for the other interpreter; strings as unicode arrays, so no pickle is needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    present: dict[str, Any] = {k: np.asarray(v) for k, v in arrays.items() if v is not None}
    np.savez(path, **present)
    return path


def load_arrays(path: Path) -> dict[str, Any]:
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def load_runs(path: Path) -> dict[tuple[str, int], dict[str, Any]]:
    """Curves saved by :func:`append_run`, keyed by (strategy, seed)."""
    runs: dict[tuple[str, int], dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                runs[row["name"], int(row["seed"])] = row["curve"]
    return runs


def append_run(path: Path, name: str, seed: int, curve: dict[str, Any]) -> None:
    """Save one finished run at once, so an interrupted benchmark loses at most the runs under way."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"name": name, "seed": seed, "curve": curve}) + "\n")


class Clock:
    """Wall time of a piece of work that may span several (resumed) invocations."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.before = json.loads(path.read_text())["seconds"] if path.exists() else 0.0
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return self.before + time.perf_counter() - self.start

    def tick(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({"seconds": round(self.seconds, 1)}))
