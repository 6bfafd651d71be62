"""Query time for one batch on large pools: ours beside the peers.

Every timing runs in its own process with a timeout and an address-space cap, so a
strategy that tries to allocate an n x n matrix fails alone instead of taking the
machine down; peers known to build one are skipped up front when it cannot fit.
Ours are timed from the fitted model's probabilities (``predict_proba`` is inside the
clock) to the returned scores; committees fit their members inside the clock.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bench_common import (
    OUT,
    PEERS_VENV,
    REPO,
    best_time,
    limit_address_space,
    load_timing_pool,
    memory_cap,
    parse_json,
    print_json,
    save_timing_pool,
)
from benchmarks.peers_timing import N_BY_N, peak_bytes

#: Pool shapes timed (rows, columns); float32 like embeddings from a sentence encoder.
POOLS = ((20_000, 50), (100_000, 384))
QUICK_POOLS = ((20_000, 50),)
TIMEOUT_SECONDS = 600


def time_ours(name: str, pool: dict[str, Any], batch_size: int) -> float:
    from sklearn.base import clone

    from backend.tasks.text_classification.model import make_estimator
    from strategies import Pool, get_strategy

    strategy = get_strategy(name)
    model = clone(make_estimator(False)).fit(pool["x_labeled"], pool["y_labeled"])

    def query() -> Any:
        proba = model.predict_proba(pool["x_pool"])
        task_pool = Pool(features=pool["x_pool"], proba=proba, labeled_features=pool["x_labeled"],
                         labeled_targets=pool["y_labeled"], estimator=make_estimator(False))
        return strategy.rank(task_pool, batch_size, np.random.default_rng(0))

    return best_time(query)


def _run(command: list[str], timeout: int) -> str:
    """Seconds as text, or why there are none."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              cwd=REPO, check=False)
    except subprocess.TimeoutExpired:
        return f"> {timeout} s (stopped)"
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        return "out of memory" if "MemoryError" in done.stderr else f"failed: {tail[0][:80]}"
    return f"{parse_json(done.stdout)['seconds']:.3f}"


def time_all(ours: list[str], peers: list[str], quick: bool, batch_size: int = 100,
             timeout: int = TIMEOUT_SECONDS) -> dict[str, dict[str, str]]:
    """``{pool label: {strategy: seconds or reason}}`` for every pool shape."""
    table: dict[str, dict[str, str]] = {}
    for n, d in QUICK_POOLS if quick else POOLS:
        label = f"{n:,} x {d}"
        path = save_timing_pool(OUT / f"timing_{n}x{d}.npz", n, d)
        cap = memory_cap()
        row: dict[str, str] = {}
        for name in ours:
            row[name] = _run([sys.executable, "-m", "benchmarks.bench_timing", "--pool", str(path),
                              "--strategy", name, "--batch-size", str(batch_size),
                              "--memory-cap", str(cap)], timeout)
            print(f"  timing {label} {name}: {row[name]}", file=sys.stderr, flush=True)
        for name in peers:
            if peak_bytes(name, n, d, 10) > cap:
                why = "n×n" if name in N_BY_N else f"{peak_bytes(name, n, d, 10) / 2**30:.0f} GiB"
                row[name] = f"out of memory / skipped ({why})"
            else:
                row[name] = _run([str(PEERS_VENV / "bin" / "python"), "-m",
                                  "benchmarks.peers_worker", "time", "--pool", str(path),
                                  "--strategy", name, "--batch-size", str(batch_size),
                                  "--memory-cap", str(cap)], timeout)
            print(f"  timing {label} {name}: {row[name]}", file=sys.stderr, flush=True)
        table[label] = row
    return table


def main() -> int:
    """One timing of one of our strategies, in a process of its own (see :func:`time_all`)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--pool", type=Path, required=True)
    parser.add_argument("--strategy", required=True)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--memory-cap", type=int, required=True)
    args = parser.parse_args()
    limit_address_space(args.memory_cap)
    pool = load_timing_pool(args.pool)
    print_json({"seconds": time_ours(args.strategy, pool, args.batch_size)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
