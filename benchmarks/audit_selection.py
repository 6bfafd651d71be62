"""Why the audit estimate errs low, measured: the strategy sees the audit labels it is judged on.

Runs the default strategy with the service's audit share (``ls-active simulate``'s engine,
batch 10, an estimate every 50 labels, exactly as the report computes it) twice per seed:

* **sees audit labels**: the strategy chooses from the model trained on every label, audit
  labels included (what the service does);
* **blind to audit labels**: the strategy chooses from a model trained without the labeled
  audit rows; the model that is measured (and would be served) still trains on every label.

For each it prints the estimate's mean absolute and signed error against the version's
held-out test accuracy and the share of 95% intervals holding it (versions from 100 labels
on that show an estimate), the mean test accuracy over the last 100 labels, and the lowest
test accuracy of any run from 150 labels on relative to the same seed's other mode (what
blind selection can cost the strategy mid-run). Seeds are split: the first ones are where the cause was found,
the others confirm it.

    python -m benchmarks.audit_selection [--sets trec6,subj] [--seeds 0,1,2,3,4] [--budget 700]
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from backend import defaults
from backend.simulate.engine import run_curve, strategy_chooser
from benchmarks.bench_data import DATASETS

FROM_LABELS = 100
EVERY = 5  # rounds of 10 labels between estimates


def run(name: str, seed: int, budget: int, blind: bool) -> dict[str, Any]:
    """One run's estimate errors and its late test accuracy."""
    data = DATASETS[name]()
    pool, test = data.split_rows(seed)
    learner = data.learner(pool, test, data.prepare())
    with threadpool_limits(limits=1):
        curve = run_curve(learner, strategy_chooser("default", data), 10, budget, seed,
                          audit_share=defaults.AUDIT_SHARE, audit_every=EVERY, blind_selection=blind)
    true = dict(zip(curve.labels, curve.accuracy, strict=True))
    signed, covered = [], []
    for row in curve.rounds:
        estimate = row.get("estimate")
        if not estimate or estimate.get("accuracy") is None or row["labels"] < FROM_LABELS:
            continue
        truth = true[row["labels"]]
        signed.append(estimate["accuracy"] - truth)
        covered.append(estimate["low"] <= truth <= estimate["high"])
    late = [a for n, a in true.items() if n > budget - 100]
    area = [a for n, a in true.items() if n >= FROM_LABELS]
    return {"signed": signed, "covered": covered, "late": float(np.mean(late)), "area": float(np.mean(area)),
            "curve": true}


def worst_gap(blind: Sequence[dict[str, Any]], seen: Sequence[dict[str, Any]]) -> float:
    """The largest accuracy deficit of blind selection against the same seed's served run,
    from 150 labels on (negative: blind is behind)."""
    return min(b["curve"][n] - s["curve"][n] for b, s in zip(blind, seen, strict=True)
               for n in b["curve"] if n >= 150)


def worst_drop(runs: Sequence[dict[str, Any]]) -> float:
    """The largest fall of test accuracy from one version to the next within a run, from 150
    labels on: how far the model itself swings from one batch to the next, the noise floor
    against which :func:`worst_gap` is read."""
    falls = []
    for r in runs:
        labels = list(r["curve"])
        falls += [r["curve"][b] - r["curve"][a] for a, b in itertools.pairwise(labels) if b >= 150]
    return min(falls)


def summary(runs: Sequence[dict[str, Any]]) -> str:
    signed = np.array([x for r in runs for x in r["signed"]])
    covered = np.array([x for r in runs for x in r["covered"]])
    late = np.mean([r["late"] for r in runs])
    area = np.mean([r["area"] for r in runs])
    return (f"{len(signed)} | {np.abs(signed).mean():.4f} | {signed.mean():+.4f} | {covered.mean():.2f} | "
            f"{area:.4f} | {late:.4f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="trec6,subj")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--budget", type=int, default=700)
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    print("| set | seeds | selection | versions | MAE | mean signed error | 95% coverage | "
          "mean test accuracy from 100 labels | test accuracy, last 100 labels | worst gap to served from 150 labels | "
          "served runs' worst fall between two versions |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in args.sets.split(","):
        seen = [run(name, seed, args.budget, False) for seed in seeds]
        print(f"| {name} | {args.seeds} | sees audit labels (served) | {summary(seen)} | | {worst_drop(seen):+.3f} |",
              flush=True)
        blind = [run(name, seed, args.budget, True) for seed in seeds]
        print(f"| {name} | {args.seeds} | blind to audit labels | {summary(blind)} | "
              f"{worst_gap(blind, seen):+.3f} | |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
