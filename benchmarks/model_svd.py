"""Low-rank pool features beside the sparse ones: do they help under active learning?

Truncated SVD (latent semantic analysis) of the whole pool's TF-IDF is known before any
label. This benchmark appends each text's ``COMPONENTS`` SVD coordinates (L2-normalised,
so they weigh like the unit-norm sparse row; fixed beforehand, not tuned) to the service's
sparse features and trains the same logistic regression (C=10) on both, against the same
pipeline without them. Both are calibrated on the audit sample as the service is, both
rank with the default strategy, batch 10, the service's audit share, from zero labels, on
the same splits, seeds 0-4 (the decision on seeds 0-1, confirmed on 2-4).

    nice -n 10 .venv/bin/python -m benchmarks.model_svd [--sets trec6,subj] [--jobs 2] [--write]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.decomposition import TruncatedSVD
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits

from backend import defaults
from backend.simulate.engine import run_curve, strategy_chooser
from backend.simulate.results import aulc, labels_to
from backend.tasks.text_classification import calibration
from backend.tasks.text_classification.learners import Predictor, TextLearner, text_counts
from backend.tasks.text_classification.model import fit_idf, make_estimator, weight
from benchmarks.bench_common import OUT
from benchmarks.bench_data import DATASETS
from benchmarks.bench_docs import write_section
from strategies import DEFAULT_STRATEGY, IntArray

HEADING = "## Low-rank pool features (issue: model)"
OUT_DIR = OUT / "model_svd"
SETS = ("trec6", "subj")
BUDGET = 1000
AT = (50, 100, 200, 500, 1000)
COMPONENTS = 100
VARIANTS = ("sparse", "sparse+svd")
CHOOSE_ON = (0, 1)
NEVER = 10**9


#: What the table says, read once from the runs of 2026-12-04 (the figures themselves are above it).
FINDINGS = [
    "Nothing was tuned: 100 components and unit-norm rows were fixed before the first run, and the runs "
    "on seeds 0-1 and 2-4 agree in direction on both sets.",
    "subj (two classes, long sentences): the SVD features learn sooner at every budget on both seed groups "
    "(AULC 0.829 -> 0.853 and 0.835 -> 0.853; at 200 labels +3.3 and +3.0 points) and reach 95% of the "
    "sparse model's full-pool accuracy with 440 instead of 830 and 520 instead of 630 labels (x1.9, x1.2).",
    "trec6 (six classes, short questions): about level up to 500 labels (AULC +0.007 and +0.004; at 50 "
    "labels +11 and +4 points, at 200 labels -6.7 and +4.9, at 500 +0.6 and +0.7), but lower at 1,000 labels "
    "(-1.0 and -2.4 points), so it does not reach 95% of the sparse full-pool accuracy within 1,000 labels; "
    "its full-pool accuracy is also lower (0.877 and 0.873 against 0.880), "
    "as on subj (0.901 and 0.896 against 0.913): with many labels the 100 dense coordinates crowd out the "
    "sparse n-grams the model needs.",
    "Choosing per project on the audit sample (``ChoosingLearner``, run ``choose``: both models at every "
    "fit, the one with the lower log-loss on the labeled audit tasks at its own best temperature ranks and "
    "is measured; the sparse one below 20 audit tasks) did not win either. Seed-group means at 500 and "
    "1,000 labels, chosen against sparse: trec6 0.777 / 0.821 against 0.792 / 0.837 (seeds 0-1) and 0.805 "
    "/ 0.844 against 0.802 / 0.855 (2-4); subj 0.866 / 0.876 against 0.861 / 0.878 and 0.859 / 0.875 against "
    "0.853 / 0.877; AULC within 0.01 of sparse everywhere and below sparse+svd on subj. The choice arrives "
    "late (20 audit tasks means 200 labels, when the SVD's early lead is mostly spent), and 20-100 audit "
    "tasks cannot tell models apart that differ by 1-2 points: it picked the SVD model in 0-81% of the "
    "rounds, switching back and forth.",
    "So low-rank features are not a better default on their own: they help on subj and cost late on trec6. "
    "What the figures point to: weigh the dense block down as labels grow (a fixed schedule, to be "
    "chosen on some sets and confirmed on others), not a choice made from the audit sample. Not in the "
    "service yet: this pipeline mirrors the "
    "service's sparse model (labeled IDF, the labeled rows' columns, logistic regression C=10) but builds "
    "its own features.",
]


class LowRankLearner(TextLearner):
    """The service's sparse features (labeled IDF, the labeled rows' columns), optionally with SVD ones."""

    def __init__(self, *args: Any, components: int = 0, seed: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dense: np.ndarray | None = None
        self.use_dense = True
        if components:
            x = weight(self.counts, fit_idf(self.counts[: self.n_pool]))
            svd = TruncatedSVD(components, random_state=seed).fit(x[: self.n_pool])
            self.dense = normalize(svd.transform(x))

    def fit_rows(self, rows: IntArray, targets: IntArray) -> Predictor:
        rows = np.asarray(rows)
        idf = fit_idf(self.counts[rows])
        self.last_idf = idf
        columns = np.unique(self.counts[rows].indices)
        classes = np.unique(targets)
        n_classes, counts = self.n_classes, self.counts
        dense = self.dense if self.use_dense else None

        def features(r: np.ndarray) -> sp.csr_matrix:
            sparse = weight(counts[r], idf)[:, columns]
            return sparse if dense is None else sp.hstack([sparse, sp.csr_matrix(dense[r])], format="csr")

        if len(classes) < 2:
            def constant(r: IntArray) -> np.ndarray:
                out = np.zeros((len(r), n_classes))
                out[:, int(classes[0])] = 1.0
                return out
            return constant
        estimator = clone(make_estimator(False)).fit(features(rows), targets)
        fitted = np.asarray(estimator.classes_, dtype=np.intp)

        def predict(r: IntArray) -> np.ndarray:
            out = np.zeros((len(r), n_classes))
            out[:, fitted] = estimator.predict_proba(features(np.asarray(r)))
            return out

        return predict


class ChoosingLearner(LowRankLearner):
    """Both models at every fit; the one whose probabilities of the labeled audit rows (which the
    ranking fit did not see) have the lower log-loss, each at its own best temperature, is the one
    the strategy ranks with and the one measured. The sparse one until there are enough audit rows."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, components=COMPONENTS, **kwargs)
        self.choice = False
        self.chosen: list[bool] = []
        self._both: dict[bool, tuple[np.ndarray, np.ndarray]] = {}

    def fit(self, labeled: IntArray) -> None:
        for flag in (False, True):
            self.use_dense = flag
            predict = self.fit_rows(labeled, self.y_pool[labeled])
            self._both[flag] = (predict(np.arange(self.n_pool)), predict(self.n_pool + np.arange(len(self.y_test))))
        self.use_dense = self.choice
        self._refresh_features()
        self._raw = self._both[self.choice]
        self._scale()

    def calibrate_on(self, rows: IntArray) -> None:
        rows = np.asarray(rows, dtype=np.intp)
        if len(rows) >= calibration.MIN_HELD_OUT:
            y = self.y_pool[rows]
            loss = {flag: calibration.nll(calibration.scale(raw[0][rows], calibration.fit_temperature(raw[0][rows], y)),
                                          y) for flag, raw in self._both.items()}
            self.choice = loss[True] < loss[False]
            self._raw = self._both[self.choice]
        self.chosen.append(self.choice)
        super().calibrate_on(rows)


def one_choosing_run(name: str, seed: int) -> dict[str, Any]:
    data = DATASETS[name]()
    pool_rows, test_rows = data.split_rows(seed)
    learner = ChoosingLearner(text_counts(data), pool_rows, test_rows, data.targets, data.labels,
                              model={"calibrate": "audit"}, seed=seed)
    curve = run_curve(learner, strategy_chooser(DEFAULT_STRATEGY), 10, min(BUDGET, learner.n_pool), seed,
                      audit_share=defaults.AUDIT_SHARE, audit_every=NEVER)
    return {"job": [name, "choose", seed], "labels": curve.labels, "accuracy": curve.accuracy, "ece": curve.ece,
            "svd_share": float(np.mean(learner.chosen)) if learner.chosen else 0.0}


def one_run(job: tuple[str, str, int]) -> dict[str, Any]:
    name, variant, seed = job
    if variant == "choose":
        with threadpool_limits(1):
            return one_choosing_run(name, seed)
    data = DATASETS[name]()
    pool_rows, test_rows = data.split_rows(seed)
    with threadpool_limits(1):
        learner = LowRankLearner(text_counts(data), pool_rows, test_rows, data.targets, data.labels,
                                 model={"calibrate": "audit"}, components=COMPONENTS if "svd" in variant else 0,
                                 seed=seed)
        if variant.endswith(":full"):
            learner.fit(np.arange(learner.n_pool, dtype=np.intp))
            return {"job": list(job), "full": learner.scores()[0]}
        strategy = "random" if variant.endswith(":random") else DEFAULT_STRATEGY
        curve = run_curve(learner, strategy_chooser(strategy), 10, min(BUDGET, learner.n_pool), seed,
                          audit_share=defaults.AUDIT_SHARE if strategy != "random" else 0.0, audit_every=NEVER)
    return {"job": list(job), "labels": curve.labels, "accuracy": curve.accuracy, "ece": curve.ece}


def _path(job: Sequence[Any]) -> Path:
    return OUT_DIR / "runs" / f"{job[0]}-{job[1].replace(':', '_').replace('+', '_')}-{job[2]}.json"


def run_all(sets: Sequence[str], seeds: Sequence[int], jobs: int) -> list[dict[str, Any]]:
    todo = [(n, f"{v}{suffix}", s) for n in sets for s in seeds for v in VARIANTS
            for suffix in ("", ":full", ":random")] + [(n, "choose", s) for n in sets for s in seeds]
    done = [json.loads(_path(j).read_text()) for j in todo if _path(j).is_file()]
    missing = [j for j in todo if not _path(j).is_file()]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for result in pool.map(one_run, missing):
            _path(result["job"]).parent.mkdir(parents=True, exist_ok=True)
            _path(result["job"]).write_text(json.dumps(result))
            done.append(result)
            print("done", *result["job"], flush=True)
    return done


def summary(results: list[dict[str, Any]], name: str, seeds: Sequence[int]) -> dict[str, Any]:
    def runs(variant: str) -> list[dict[str, Any]]:
        return [r for r in results if r["job"][0] == name and r["job"][1] == variant and r["job"][2] in seeds]

    full_sparse = float(np.mean([r["full"] for r in runs("sparse:full")]))
    out: dict[str, Any] = {"full_sparse": full_sparse}
    for variant in VARIANTS:
        row: dict[str, Any] = {"full": float(np.mean([r["full"] for r in runs(f"{variant}:full")]))}
        for kind in ("", ":random"):
            mine = runs(variant + kind)
            length = min(len(r["labels"]) for r in mine)
            labels = mine[0]["labels"][:length]
            mean = np.mean([r["accuracy"][:length] for r in mine], axis=0)
            row[f"curve{kind}"] = {
                "at": {n: round(float(mean[labels.index(n)]), 4) for n in AT if n in labels},
                "to_95_sparse_full": labels_to(labels, mean.tolist(), 0.95 * full_sparse),
                "to_95_own_full": labels_to(labels, mean.tolist(), 0.95 * row["full"]),
                "aulc": round(aulc(labels, mean.tolist()), 4),
            }
        out[variant] = row
    return out


def table(summaries: dict[str, dict[str, Any]]) -> str:
    head = ("| set | seeds | features | full pool | " + " | ".join(f"acc@{n}" for n in AT)
            + " | AULC | labels to 95% of sparse full | to 95% of own full (random) |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for key, s in summaries.items():
        name, group = key.split(":")
        for variant in VARIANTS:
            row, curve, rnd = s[variant], s[variant]["curve"], s[variant]["curve:random"]
            cells = " | ".join(f"{curve['at'].get(n, float('nan')):.3f}" for n in AT)
            lines.append(f"| {name} | {group} | {variant} | {row['full']:.3f} | {cells} | {curve['aulc']:.3f} | "
                         f"{curve['to_95_sparse_full'] or '> 1000'} | {curve['to_95_own_full'] or '> 1000'} "
                         f"({rnd['to_95_own_full'] or '> 1000'}) |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    sets = [s for s in args.sets.split(",") if s]
    seeds = [int(s) for s in args.seeds.split(",")]
    results = run_all(sets, seeds, args.jobs)
    summaries: dict[str, dict[str, Any]] = {}
    for name in sets:
        summaries[f"{name}:0-1"] = summary(results, name, [s for s in seeds if s in CHOOSE_ON])
        rest = [s for s in seeds if s not in CHOOSE_ON]
        if rest:
            summaries[f"{name}:{rest[0]}-{rest[-1]}"] = summary(results, name, rest)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "figures.json").write_text(json.dumps(summaries, indent=1))
    text = table(summaries)
    print(text)
    if args.write:
        intro = __doc__.split("\n\n", 1)[1].split("    nice")[0].strip()
        findings = "\n".join(f"- {f}" for f in FINDINGS)
        write_section(HEADING, f"{HEADING}\n\n{intro}\n\n`nice -n 10 .venv/bin/python -m benchmarks.model_svd "
                      f"--write`\n\n{text}\n\n{findings}\n")


if __name__ == "__main__":
    main()
