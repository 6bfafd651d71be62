"""Choosing the learner: passive learning curves of the candidates on the choice seeds only.

Random labeled subsets of 50-2,000 pool texts per seed, each candidate trained on the same
subset with the pool's statistics, measured on the test split: accuracy, log-loss and ECE.
One fit per point, no strategy in the loop, so all candidates are compared on the same
labels; the chosen one is then confirmed under active learning on the other seeds by
:mod:`benchmarks.model_quality`.

    nice -n 10 .venv/bin/python -m benchmarks.model_choice --seeds 0 1
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from backend.tasks.text_classification.calibration import ece, nll
from backend.tasks.text_classification.learners import text_counts
from backend.tasks.text_classification.model import train_model
from backend.tasks.text_classification.pool import pool_stats
from benchmarks.bench_data import DATASETS
from benchmarks.model_quality import CANDIDATES, OUT_DIR

SIZES = (50, 100, 200, 500, 1000, 2000)


def curves(name: str, seed: int, variants: Sequence[str] = (), sizes: Sequence[int] = SIZES) -> dict[str, Any]:
    """Every candidate's figures at every size for one set and seed."""
    data = DATASETS[name]()
    counts = text_counts(data)
    pool_rows, test_rows = data.split_rows(seed)
    stats = pool_stats(counts[pool_rows])
    order = np.random.default_rng(seed).permutation(pool_rows)
    y_test = data.targets[test_rows]
    out: dict[str, Any] = {}
    for variant in variants or list(CANDIDATES):
        use_pool, options = CANDIDATES[variant]
        rows_out = []
        for n in sizes:
            rows = order[:n]
            start = time.perf_counter()
            model = train_model(counts[rows], data.targets[rows], data.labels,
                                pool=stats if use_pool else None, **options)
            seconds = time.perf_counter() - start
            proba = model.predict_proba(counts[test_rows])
            rows_out.append({"n": n, "accuracy": float((proba.argmax(axis=1) == y_test).mean()),
                             "nll": nll(proba, y_test), "ece": ece(proba, y_test), "seconds": seconds})
        out[variant] = rows_out
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", default=["trec6", "subj"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--variants", nargs="+", default=list(CANDIDATES), choices=list(CANDIDATES))
    args = parser.parse_args(argv)
    report: dict[str, Any] = {}
    with threadpool_limits(1):
        for name in args.sets:
            per_seed = [curves(name, s, args.variants) for s in args.seeds]
            report[name] = {v: [{k: float(np.mean([run[v][i][k] for run in per_seed])) for k in per_seed[0][v][i]}
                                for i in range(len(SIZES))] for v in args.variants}
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"choice-{'-'.join(map(str, args.seeds))}-{'-'.join(args.variants)}.json"
    path.write_text(json.dumps(report, indent=1))
    for name, variants in report.items():
        print(f"\n{name}: accuracy / ECE / seconds at {', '.join(map(str, SIZES))}")
        for v, points in variants.items():
            print(f"  {v:15s}", "  ".join(f"{p['accuracy']:.3f}/{p['ece']:.3f}/{p['seconds']:.2f}" for p in points))


if __name__ == "__main__":
    main()
