"""The text model before and after pool statistics, learner choice and calibration.

Each text set is simulated from zero labels with the default strategy (and random order
with the new model), batch 10, for the given seeds; every run records test accuracy and
the expected calibration error (ECE) of the test probabilities per round. Figures: accuracy
at fixed budgets, labels to 95% of today's full-pool accuracy, labels to 95% of each
model's own full-pool accuracy against random order with the same model, ECE, and the
retrain time at 2,000 labels. ``--choose`` runs the candidate learners instead (the
choice is made on seeds 0-1 and confirmed on the others; see BENCHMARKS.md).

    nice -n 10 .venv/bin/python -m benchmarks.model_quality --seeds 0 1 2 3 4 --write
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from backend.simulate.engine import run_curve, strategy_chooser
from backend.simulate.results import labels_to
from backend.tasks.text_classification.calibration import ece
from backend.tasks.text_classification.learners import TextLearner, text_counts
from backend.tasks.text_classification.model import train_model
from backend.tasks.text_classification.pool import pool_stats
from benchmarks.bench_common import OUT
from benchmarks.bench_data import DATASETS
from benchmarks.bench_docs import write_section
from strategies import DEFAULT_STRATEGY, IntArray

HEADING = "## Model quality (issue: model)"
TEXT_SETS = ("trec6", "subj")
BUDGETS = (50, 100, 200, 500, 1000)
ECE_AT = (100, 500, 1000)
#: name -> (IDF from the pool, train_model keyword arguments)
VARIANTS: dict[str, tuple[bool, dict[str, Any]]] = {
    "today": (False, {"learner": "logreg", "calibrate": False}),
    "new": (True, {"learner": "auto", "idf": "auto", "calibrate": True}),
}
CANDIDATES: dict[str, tuple[bool, dict[str, Any]]] = {
    "today": VARIANTS["today"],
    "pool-lr-uncal": (True, {"learner": "logreg", "calibrate": False, "idf": "pool"}),
    "pool-lr": (True, {"learner": "logreg", "calibrate": True, "idf": "pool"}),
    "pool-nblr": (True, {"learner": "nblr", "calibrate": True, "idf": "pool"}),
    "pool-cnb": (True, {"learner": "cnb", "calibrate": True, "idf": "pool"}),
    "labeled-cnb": (False, {"learner": "cnb", "calibrate": True}),
    "pool-cnb-unpruned": (True, {"learner": "cnb", "prune": False, "calibrate": True, "idf": "pool"}),
    "pool-lr-unpruned": (True, {"learner": "logreg", "prune": False, "calibrate": True, "idf": "pool"}),
    "pool-ensemble": (True, {"learner": "ensemble", "calibrate": True, "idf": "pool"}),
}
OUT_DIR = OUT / "model_quality"


class Recording(TextLearner):
    """The simulator's text learner, also keeping the ECE of every round's test probabilities."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.eces: list[float] = []

    def scores(self) -> tuple[float, float]:
        self.eces.append(ece(self.test_proba, self.y_test))
        return super().scores()


def _learner(name: str, seed: int, variant: tuple[bool, dict[str, Any]]) -> Recording:
    data = DATASETS[name]()
    pool_rows, test_rows = data.split_rows(seed)
    use_pool, options = variant
    return Recording(text_counts(data), pool_rows, test_rows, data.targets, data.labels,
                     use_pool=use_pool, model=options)


def one_run(job: tuple[str, str, int, str, int, tuple[bool, dict[str, Any]]]) -> dict[str, Any]:
    """A curve (strategy name) or the full-pool accuracy (strategy ``None``) of one variant."""
    name, _, seed, strategy, budget, variant = job
    with threadpool_limits(1):
        learner = _learner(name, seed, variant)
        if strategy == "full":
            learner.fit(np.arange(learner.n_pool, dtype=np.intp))
            return {"job": job[:4], "budget": budget, "full": learner.scores()[0], "ece": learner.eces[-1]}
        chooser = strategy_chooser(strategy)
        curve = run_curve(learner, chooser, 10, budget, seed)
    return {"job": job[:4], "budget": budget, "labels": curve.labels, "accuracy": curve.accuracy,
            "ece": learner.eces}


def _run_path(job: tuple[Any, ...]) -> Path:
    name, variant, seed, strategy, budget, _ = job
    return OUT_DIR / "runs" / f"{name}-{variant}-{seed}-{strategy}-{budget}.json"


def _cached(job: tuple[Any, ...]) -> dict[str, Any] | None:
    """A run finished earlier (a long benchmark resumes where it stopped)."""
    path = _run_path(job)
    return json.loads(path.read_text()) if path.is_file() else None


def _save(result: dict[str, Any]) -> None:
    path = _run_path((*result["job"], result.get("budget"), None))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result))


def retrain_seconds(name: str, variant: tuple[bool, dict[str, Any]], n: int = 2000) -> float:
    """Least CPU seconds of 3 trainings on ``n`` random pool rows, one thread, as the retrain job does.

    CPU time, not wall time: on a machine shared with other work the wall time of a
    single-threaded fit measures the other work; its CPU time is what the fit costs.
    """
    data = DATASETS[name]()
    pool_rows, _ = data.split_rows(0)
    counts = text_counts(data)
    rows = np.random.default_rng(0).choice(pool_rows, min(n, len(pool_rows)), replace=False)
    use_pool, options = variant
    stats = pool_stats(counts[pool_rows]) if use_pool else None
    best = float("inf")
    with threadpool_limits(1):
        for _ in range(3):
            start = time.process_time()
            train_model(counts[rows], data.targets[rows], data.labels, pool=stats, **options)
            best = min(best, time.process_time() - start)
    return best


def _at(run: dict[str, Any], key: str, n: int) -> float | None:
    labels = run["labels"]
    return float(run[key][labels.index(n)]) if n in labels else None


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if len(kept) == len(values) and kept else None


def _mean_curve(runs: Sequence[dict[str, Any]]) -> tuple[list[int], IntArray]:
    length = min(len(r["labels"]) for r in runs)
    return runs[0]["labels"][:length], np.mean([r["accuracy"][:length] for r in runs], axis=0)


def summary(results: list[dict[str, Any]], variants: Sequence[str], strategy: str) -> dict[str, Any]:
    """Seed means per variant: accuracy and ECE at the budgets, labels to 95% targets."""
    def runs(variant: str, strat: str) -> list[dict[str, Any]]:
        return [r for r in results if r["job"][1] == variant and r["job"][3] == strat]

    full = {v: float(np.mean([r["full"] for r in runs(v, "full")])) for v in variants}
    out: dict[str, Any] = {"full": full}
    for v in variants:
        mine = runs(v, strategy)
        labels, acc = _mean_curve(mine)
        row: dict[str, Any] = {
            "accuracy": {n: _mean([_at(r, "accuracy", n) for r in mine]) for n in BUDGETS},
            "accuracy_sd": {n: float(np.std([_at(r, "accuracy", n) or 0.0 for r in mine])) for n in BUDGETS},
            "ece": {n: _mean([_at(r, "ece", n) for r in mine]) for n in ECE_AT},
            "to_95_today": labels_to(labels, acc.tolist(), 0.95 * full.get("today", full[v])),
            "to_95_own": labels_to(labels, acc.tolist(), 0.95 * full[v]),
        }
        rand = runs(v, "random")
        if rand:
            r_labels, r_acc = _mean_curve(rand)
            row["random_to_95_own"] = labels_to(r_labels, r_acc.tolist(), 0.95 * full[v])
        out[v] = row
    return out


def _choice() -> dict[str, Any]:
    """Every saved choice run (benchmarks/model_choice.py), merged per set."""
    merged: dict[str, Any] = {}
    for path in sorted(OUT_DIR.glob("choice-0-1*.json")):
        for name, variants in json.loads(path.read_text()).items():
            merged.setdefault(name, {}).update(variants)
    return merged


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", default=list(TEXT_SETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--choose", action="store_true", help="compare the candidate learners")
    parser.add_argument("--no-random", action="store_true", help="skip random order with the new model")
    parser.add_argument("--write", action="store_true", help="write the section of BENCHMARKS.md")
    parser.add_argument("--summarize", action="store_true", help="only summarize the runs saved so far")
    parser.add_argument("--only", nargs="+", default=[], help="run only these variants' jobs")
    args = parser.parse_args(argv)
    variants = CANDIDATES if args.choose else VARIANTS
    # Seed by seed, so a run stopped half way leaves whole seeds to summarize.
    strategies = ("full", DEFAULT_STRATEGY)
    jobs = []
    for seed in args.seeds:
        for s in args.sets:
            jobs += [(s, v, seed, strat, args.budget, spec) for v, spec in variants.items() for strat in strategies]
            if not args.choose and not args.no_random:
                jobs.append((s, "new", seed, "random", args.budget, VARIANTS["new"]))
    started = time.perf_counter()
    results = [r for r in map(_cached, jobs) if r is not None]
    todo = [j for j in jobs if _cached(j) is None and not args.summarize and (not args.only or j[1] in args.only)]
    if todo:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            for result in pool.map(one_run, todo):
                _save(result)
                results.append(result)
    done = {tuple(r["job"]) for r in results}
    seeds = [seed for seed in args.seeds if all(tuple(j[:4]) in done for j in jobs if j[2] == seed)]
    if not seeds:
        raise SystemExit("no seed has all its runs yet")
    results = [r for r in results if r["job"][2] in seeds]
    report: dict[str, Any] = {"seeds": seeds, "budget": args.budget, "strategy": DEFAULT_STRATEGY,
                              "minutes": round((time.perf_counter() - started) / 60, 1), "sets": {}}
    for s in args.sets:
        mine = [r for r in results if r["job"][0] == s]
        report["sets"][s] = summary(mine, list(variants), DEFAULT_STRATEGY)
        report["sets"][s]["retrain_seconds"] = {v: round(retrain_seconds(s, spec), 3)
                                                for v, spec in variants.items()}
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    tag = "choose" if args.choose else "compare"
    (OUT_DIR / f"{tag}-{'-'.join(map(str, seeds))}.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))
    if args.write and not args.choose:
        from benchmarks.model_quality_doc import section

        write_section(HEADING, section(report, _choice()))


if __name__ == "__main__":
    main()
