"""Re-run some of our strategies of the peer benchmark and compare with the committed runs.

After a change meant to leave behaviour as it is (a refactor), the curves must come out the
same, run for run: this prints, per data set and strategy, the largest accuracy difference
over all rounds and seeds, and the labels to 95% of full-pool accuracy, stored and now.

    python -m benchmarks.peers_recheck --strategies default,random
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from backend.simulate.command import resolve_strategies
from backend.simulate.engine import pool_size, run_all
from backend.simulate.results import Curve, build_results
from benchmarks.bench_common import OUT, load_runs
from benchmarks.bench_data import DATASETS, setting


def recheck(name: str, strategies: list[str], jobs: int) -> list[str]:
    data = DATASETS[name]()
    st = setting(name, quick=False)
    seeds = list(range(st.seeds))
    budget = min(st.budget, pool_size(data))
    runs = OUT / "full" / name / f"runs_batch{st.batch_size}_budget{budget}.jsonl"
    stored = {k: Curve(**v) for k, v in load_runs(runs).items()}
    curves, full = run_all(data, strategies, seeds, st.batch_size, budget, jobs, show_progress=False)
    now = build_results(curves, full, {})
    before = build_results({s: [stored[s, seed] for seed in seeds] for s in strategies}, full, {})
    lines = []
    for strategy in strategies:
        diff = max(float(np.max(np.abs(np.asarray(a.accuracy) - np.asarray(stored[strategy, seed].accuracy))))
                   for seed, a in zip(seeds, curves[strategy], strict=True))
        was = before["strategies"][strategy]["labels_to_95"]
        is_ = now["strategies"][strategy]["labels_to_95"]
        lines.append(f"| {name} | {strategy} | {len(seeds)} | {diff:.2e} | {was} | {is_} |")
        print(lines[-1], flush=True)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strategies", default="default,random")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    strategies = resolve_strategies(args.strategies)
    print("| data set | strategy | seeds | largest accuracy difference | labels to 95%, stored | now |\n"
          "|---|---|---:|---:|---:|---:|", flush=True)
    for name in args.datasets.split(","):
        recheck(name, strategies, args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
