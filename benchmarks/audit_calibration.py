"""Calibration on the audit sample: ECE and accuracy under active learning, with and without it.

By simulation with the service's loop (``ls-active simulate``'s engine): the default
strategy, batch 10, the service's audit share, 5 seeds, from zero labels, today's model.
Two runs per seed, on the same split with the same seeded generators:

* ``off``: probabilities as the model gives them;
* ``audit``: one temperature fitted each round on the labeled audit tasks' probabilities
  from the model the strategy ranks with (trained without them), applied to every
  probability the strategy and the test rows see (``calibrate="audit"``).

Figures per set: the expected calibration error (15 bins, top label) of the test rows'
probabilities at fixed budgets, test accuracy at the same budgets, labels to 95% of
full-pool accuracy (seed mean), and the mean temperature. The decision (the default) is
read on seeds 0-1 and confirmed on seeds 2-4; both groups are printed.

    nice -n 10 .venv/bin/python -m benchmarks.audit_calibration [--sets trec6,subj] [--jobs 2] [--write]

Runs are kept in ``benchmarks/out/audit_calibration`` (resumable).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from backend import defaults
from backend.simulate.engine import run_curve, strategy_chooser
from backend.simulate.results import labels_to
from backend.tasks.text_classification.calibration import ece
from backend.tasks.text_classification.learners import Learner, NumericLearner, TextLearner, text_counts
from benchmarks.bench_common import OUT
from benchmarks.bench_data import DATASETS
from benchmarks.bench_docs import write_section
from strategies import DEFAULT_STRATEGY

HEADING = "## Calibration on the audit sample (issue: model)"
OUT_DIR = OUT / "audit_calibration"
SETS = ("trec6", "subj", "digits", "breast_cancer", "synthetic")
BUDGET = {"trec6": 1000, "subj": 1000, "digits": 500, "breast_cancer": 300, "synthetic": 1000}
AT = (100, 300, 500, 1000)
MODES = ("off", "audit")
SEEDS = 5
CHOOSE_ON = (0, 1)
BATCH = 10
#: Audit estimates are not needed here (only the draws): no version is measured.
NEVER = 10**9


#: What the table says, read once from the runs of 2026-12-04 (the figures themselves are above it).
FINDINGS = [
    "How the default was chosen: the only setting fixed beforehand is the minimum of 20 labeled audit tasks "
    "(not tuned). The decision (calibrate on the audit sample by default, or not) was to be read on seeds "
    "0-1 and confirmed on seeds 2-4. The first version fitted the temperature whenever there were 20 rows; "
    "on digits it then sharpened to T = 0.04 where every audit task was right (the log-loss falls without end "
    "as T shrinks), which raised the ECE from 0.02 to 0.04-0.05 and cost 1.6 points at 500 labels on seeds 0-1. "
    "The guard added after that run (no fit without a mistake; use T only if, fitted on one random half of the "
    "audit tasks, it lowers the log-loss of the other half) is a rule about when a fit is trustworthy, not a "
    "value chosen on these sets; every run was made again with it.",
    "Calibration error: on the text sets, where the model is under-confident (T 0.15-0.35), it fell on both "
    "seed groups from 300 labels on: trec6 0.29-0.36 to 0.04-0.15, subj 0.22-0.24 to 0.02-0.11 (0.02-0.04 "
    "from 500 labels on); synthetic 0.05-0.08 to 0.02-0.06. The goal (<= 0.05 from 500 labels on) holds on "
    "subj, digits, breast cancer and synthetic at 1,000 labels, and on trec6 from about 1,000 labels (0.04-0.06); "
    "at 500 labels trec6 is at 0.07-0.09 and synthetic at 0.04-0.06. Digits and breast cancer, already "
    "calibrated, were almost never rescaled and did not change.",
    "Accuracy: within the seed noise, with the sign changing between the seed groups. Mean accuracy over the "
    "curve, calibrated minus not, per seed: trec6 -0.024, -0.018, +0.001, -0.004, +0.007 (mean -0.008); subj "
    "+0.003, -0.001, -0.004, +0.005, -0.001; synthetic -0.001, -0.003, -0.000, +0.006, +0.010; digits and "
    "breast cancer 0.000 +- 0.001. Labels to 95% of full-pool accuracy move the same way (trec6 610 / 950 "
    "on seeds 0-1 but 960 / 800 on seeds 2-4): a threshold crossing on a two- or three-seed mean moves by "
    "hundreds of labels. A temperature never changes a predicted class, but it reorders a multi-class "
    "strategy's uncertainty a little (on two-class subj the margin order is the same), so the picks differ. "
    "Seeds 0-1 alone would not have shown a gain in accuracy, and none was claimed; the default was taken for "
    "the calibration error, which improved on every text run, at an accuracy change within the noise.",
]


def _learner(name: str, seed: int, mode: str) -> Learner:
    data = DATASETS[name]()
    pool_rows, test_rows = data.split_rows(seed)
    base: type[Learner] = NumericLearner if data.matrix is not None else TextLearner

    class Recording(base):  # type: ignore[valid-type,misc]
        """Keeps each round's test ECE and temperature."""

        eces: list[float]
        temperatures: list[float]

        def scores(self) -> tuple[float, float]:
            self.eces.append(ece(self.test_proba, self.y_test))
            self.temperatures.append(float(self.temperature))
            return super().scores()

    learner: Any
    if data.matrix is not None:
        learner = Recording(data.matrix, pool_rows, test_rows, data.targets, len(data.labels),
                            audit_calibration=mode == "audit")
    else:
        learner = Recording(text_counts(data), pool_rows, test_rows, data.targets, data.labels,
                            model={"calibrate": mode})
    learner.eces, learner.temperatures = [], []
    return learner  # type: ignore[no-any-return]


def one_run(job: tuple[str, str, int]) -> dict[str, Any]:
    """One curve (mode ``off`` or ``audit``), or the full-pool accuracy (mode ``full``)."""
    name, mode, seed = job
    with threadpool_limits(1):
        learner = _learner(name, seed, "off" if mode == "full" else mode)
        if mode == "full":
            learner.fit(np.arange(learner.n_pool, dtype=np.intp))
            return {"job": list(job), "full": learner.scores()[0]}
        budget = min(BUDGET[name], learner.n_pool)
        curve = run_curve(learner, strategy_chooser(DEFAULT_STRATEGY), BATCH, budget, seed,
                          audit_share=defaults.AUDIT_SHARE, audit_every=NEVER)
    return {"job": list(job), "labels": curve.labels, "accuracy": curve.accuracy,
            "ece": learner.eces, "temperature": learner.temperatures}


def _path(job: Sequence[Any]) -> Path:
    return OUT_DIR / "runs" / f"{job[0]}-{job[1]}-{job[2]}.json"


def run_all(sets: Sequence[str], seeds: int, jobs: int) -> list[dict[str, Any]]:
    todo = [(n, m, s) for n in sets for s in range(seeds) for m in ("full", *MODES)]
    done = [json.loads(_path(j).read_text()) for j in todo if _path(j).is_file()]
    missing = [j for j in todo if not _path(j).is_file()]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for result in pool.map(one_run, missing):
            _path(result["job"]).parent.mkdir(parents=True, exist_ok=True)
            _path(result["job"]).write_text(json.dumps(result))
            done.append(result)
            print("done", *result["job"], flush=True)
    return done


def _at(run: dict[str, Any], key: str, n: int) -> float | None:
    return float(run[key][run["labels"].index(n)]) if n in run["labels"] else None


def summary(results: list[dict[str, Any]], name: str, seeds: Sequence[int]) -> dict[str, Any]:
    """Seed means per mode on ``name``: ECE, accuracy and temperature at the budgets, labels to 95%."""
    def runs(mode: str) -> list[dict[str, Any]]:
        return [r for r in results if r["job"][0] == name and r["job"][1] == mode and r["job"][2] in seeds]

    full = float(np.mean([r["full"] for r in runs("full")]))
    out: dict[str, Any] = {"full": full, "seeds": list(seeds)}
    for mode in MODES:
        mine = runs(mode)
        length = min(len(r["labels"]) for r in mine)
        mean_curve = np.mean([r["accuracy"][:length] for r in mine], axis=0)
        row: dict[str, Any] = {"labels_to_95": labels_to(mine[0]["labels"][:length], mean_curve.tolist(),
                                                          0.95 * full)}
        for key in ("ece", "accuracy", "temperature"):
            row[key] = {}
            for n in AT:
                values = [_at(r, key, n) for r in mine]
                kept = [v for v in values if v is not None]
                row[key][n] = (float(np.mean(kept)), float(np.std(kept))) if kept else None
        out[mode] = row
    return out


def _cell(pair: tuple[float, float] | None, digits: int = 3) -> str:
    return "-" if pair is None else f"{pair[0]:.{digits}f} ± {pair[1]:.{digits}f}"


def table(summaries: dict[str, dict[str, Any]]) -> str:
    head = ("| set | seeds | calibration | " + " | ".join(f"ECE@{n}" for n in AT) + " | "
            + " | ".join(f"acc@{n}" for n in AT) + " | labels to 95% of full | T@500 |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for key, s in summaries.items():
        name, group = key.split(":")
        for mode in MODES:
            row = s[mode]
            t500 = row["temperature"][500]
            lines.append(f"| {name} | {group} | {mode} | " + " | ".join(_cell(row["ece"][n]) for n in AT) + " | "
                         + " | ".join(_cell(row["accuracy"][n]) for n in AT) + " | "
                         + f"{row['labels_to_95'] or '-'} | {'-' if t500 is None else f'{t500[0]:.2f}'} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--seeds", type=int, default=SEEDS)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="write the table into BENCHMARKS.md")
    args = parser.parse_args(argv)
    sets = [s for s in args.sets.split(",") if s]
    results = run_all(sets, args.seeds, args.jobs)
    confirm = tuple(s for s in range(args.seeds) if s not in CHOOSE_ON)
    summaries = {}
    for name in sets:
        summaries[f"{name}:0-1"] = summary(results, name, CHOOSE_ON)
        if confirm:
            summaries[f"{name}:{confirm[0]}-{confirm[-1]}"] = summary(results, name, confirm)
    (OUT_DIR / "figures.json").write_text(json.dumps(summaries, indent=1))
    text = table(summaries)
    print(text)
    if args.write:
        intro = __doc__.split(chr(10) * 2, 1)[1].split("    nice")[0].strip()
        command = "`nice -n 10 .venv/bin/python -m benchmarks.audit_calibration --write`"
        findings = "\n".join(f"- {f}" for f in FINDINGS)
        write_section(HEADING, f"{HEADING}\n\n{intro}\n\n{command}\n\n{text}\n\n{findings}\n")


if __name__ == "__main__":
    main()
