"""How far trec6's own test questions are from its pool: the same random labels judged on both.

trec6's test split is the 500 TREC-10 questions; the pool is the 5,452 training questions.
A model trained on ``n`` random pool questions (5 seeds) is scored on the test split and on
500 other pool questions held out at random: the gap is the shift any figure estimated on
the pool (the audit sample's) meets when it is judged against the test split.

    python -m benchmarks.trec6_shift
"""

from __future__ import annotations

import numpy as np

from benchmarks.bench_data import DATASETS

SIZES = (300, 600, 1000)
SEEDS = 5
HELD_OUT = 500


def main() -> int:
    data = DATASETS["trec6"]()
    pool, test = data.split_rows(0)
    prepared = data.prepare()
    print("| random labels | accuracy on the test split | on held-out pool questions | gap |")
    print("|---:|---:|---:|---:|")
    for n in SIZES:
        on_test, on_pool = [], []
        for seed in range(SEEDS):
            rng = np.random.default_rng(seed)
            picked = np.sort(rng.choice(len(pool), size=n, replace=False))
            others = np.setdiff1d(np.arange(len(pool)), picked)
            held = np.sort(pool[rng.choice(others, size=HELD_OUT, replace=False)])
            for rows, into in ((test, on_test), (held, on_pool)):
                learner = data.learner(pool, rows, prepared)
                learner.fit(picked)
                into.append(learner.scores()[0])
        print(f"| {n} | {np.mean(on_test):.3f} | {np.mean(on_pool):.3f} | {np.mean(on_test) - np.mean(on_pool):+.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
