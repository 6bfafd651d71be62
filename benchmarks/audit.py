"""Does the audit sample tell the truth? Estimates, stop advice and "labels saved" against held-out truth.

By simulation (``ls-active simulate``'s engine) on trec6, subj, digits and the synthetic
set (and ``trec6_pool``: trec6's training questions with a random held-out part, since its
own test questions come from another year and are easier for the model), 5 seeds, batch
10, the default strategy with the service's audit share; every 50 labels a version is
measured on its audit tasks exactly as the report measures it, and compared with its
accuracy on the held-out test rows:

* error: mean absolute error of the estimate, and the share of versions whose 95%
  interval holds the true accuracy, from 100 labels on (versions with an estimate);
* false stops: versions advised "stop" although the true accuracy still gains at least
  1 point per 100 labels over the next 200 labels (least-squares slope of the run's curve);
* the price of the audit: labels to 95% of full-pool accuracy (seed mean) with the audit
  share against the same strategy without it;
* "labels saved" as the report estimates it against the true saving: the labels the
  seed-mean random curve needs to reach the version's true accuracy, minus those spent.

    python -m benchmarks.audit [--sets trec6,trec6_pool,subj,digits,synthetic] [--jobs 2]

Runs are kept in ``benchmarks/out/audit`` (resumable); the figures go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from backend import defaults
from backend.simulate.results import Curve, labels_to
from benchmarks.audit_runs import AUDIT, AUDIT_EVERY, BATCH, PLANS, SEEDS, run_set, runs_dir
from benchmarks.bench_docs import write_section

HEADING = "## Audit sample: estimates, stop advice and labels saved against the truth"
FROM_LABELS = 100
#: What the table says, read once from this run (the figures themselves are above it).
FINDINGS = [
    "Versions before 30 labeled audit tasks (300 labels at 10%) show no estimate, only how many audit labels "
    "are missing; the error and coverage columns are over the versions that show one.",
    "Every run was made again with the current code on 2026-12-04 (the table before was computed from runs "
    "kept from older code versions). Goals met: no false stop on any set (the advice fired "
    "only on digits, saturated near 0.97); coverage >= 0.9 on trec6_pool, subj, digits and synthetic; MAE "
    "<= 0.04 on digits. Missed: MAE 0.043 to 0.051 on the other sets, where each seed's error persists over "
    "its run (mean signed error by seed from -0.11 to +0.08: 30 to 100 audit labels, kept from version to "
    "version, carry the same sampling error); coverage 0.85 on trec6 judged on its own test split; and the "
    "price in labels to 95% of full-pool accuracy on trec6 (830 / 710, +17%) and synthetic (670 / 550, "
    "+22%), while subj and digits needed fewer labels with the audit than without (650 / 790, 100 / 110): "
    "labels to 95% is a threshold crossing on a seed-mean curve and moves by tens of labels with the draws.",
    "trec6_pool runs the same benchmark on trec6's 5,452 training questions with a stratified 20% held out per "
    "seed as the truth (pool 4,362), because trec6's own test split is the 500 TREC-10 questions, gathered "
    "after the training ones and easier for the model: the same random labels score +0.022, +0.027 and +0.003 "
    "higher on them than on held-out training questions at 300, 600 and 1,000 labels (`python -m "
    "benchmarks.trec6_shift`). Judged against held-out questions of the pool's own kind the estimate's "
    "intervals hold the truth in 93% of versions (against 85% on the test split), with a mean signed error "
    "of +0.020 (against -0.018). The estimate is of accuracy on tasks like the pool's, which is what a "
    "project's own unlabeled tasks are; a test set gathered otherwise can differ by a few points.",
    "\"Labels saved\" is shown for few versions and below the true saving (estimated means -77 to 233 "
    "labels against true 350 to 1,520; the report says \"at least\" and that it errs low): a power law "
    "fitted on a few dozen audit labels and read ten times further out rises too fast. Its 95% range held "
    "the true saving in 90-100% of the versions that show one.",
    "Why the default share stays 10%: at 5% the price goal holds on every set (table above: trec6 780 / "
    "710, +10%, at the goal; the others at or below their no-audit runs) and coverage is 0.87-1.0, but a "
    "figure first shows at 600 labels instead of 300 (versions with an estimate: 45 against 75 on trec6 "
    "and trec6_pool, 25 against 55 on subj and synthetic, none within 500 labels on digits). Chosen on "
    "trec6_pool and subj, where neither share costs labels; confirmed on digits and synthetic, where 5% is "
    "cheaper (synthetic +22% at 10%, -2% at 5%) and 10% gives the only figures digits gets. Most projects "
    "stop within a few hundred labels, where only 10% shows a figure at all; a project that will label "
    "thousands and counts every label can set "
    "`audit_share` to 0.05.",
]


def _slope(labels: Sequence[int], accuracy: Sequence[float], start: int, span: int = 200) -> float | None:
    """True accuracy points per 100 labels from ``start`` over the next ``span`` labels."""
    x = np.array([n for n in labels if start <= n <= start + span], dtype=np.float64)
    if len(x) < 2 or x[-1] - x[0] < span:
        return None
    y = np.array([a for n, a in zip(labels, accuracy, strict=True) if start <= n <= start + span])
    return float(np.polyfit(x, y, 1)[0] * 100 * 100)


def _mean_curve(runs: Sequence[Curve]) -> tuple[list[int], list[float]]:
    length = min(len(c.labels) for c in runs)
    return list(runs[0].labels[:length]), np.mean([c.accuracy[:length] for c in runs], axis=0).tolist()


def figures(curves: dict[str, list[Curve]], full: list[float]) -> dict[str, Any]:
    """The benchmark's figures for one data set."""
    errors, signed, covered, stops, false_stops, with_estimate, versions = [], [], [], 0, 0, 0, 0
    saved_est, saved_true, saved_in = [], [], []
    rand_labels, rand_acc = _mean_curve(curves["random"])
    for curve in curves[AUDIT]:
        for row in curve.rounds:
            if "estimate" not in row or row["labels"] < FROM_LABELS:
                continue
            versions += 1
            est, true = row["estimate"], row["accuracy"]
            if est["accuracy"] is not None:
                with_estimate += 1
                errors.append(abs(est["accuracy"] - true))
                signed.append(est["accuracy"] - true)
                covered.append(est["low"] <= true <= est["high"])
            if row["stop"] == "stop":
                stops += 1
                gain = _slope(curve.labels, curve.accuracy, row["labels"])
                false_stops += int(gain is not None and gain >= 1.0)
            saved = row.get("saved") or {}
            need = labels_to(rand_labels, rand_acc, true)
            if saved.get("saved") is not None and need is not None:
                saved_est.append(saved["saved"])
                saved_true.append(need - row["labels"])
                saved_in.append(saved["low"] <= need - row["labels"] <= (saved["high"] if saved["high"]
                                                                        is not None else float("inf")))
    full_mean = float(np.mean(full))
    to95 = {name: labels_to(*_mean_curve(curves[name]), 0.95 * full_mean) for name in (AUDIT, "default")}
    return {
        "full_pool_accuracy": round(full_mean, 4), "versions": versions, "with_estimate": with_estimate,
        "mae": round(float(np.mean(errors)), 4) if errors else None,
        "bias": round(float(np.mean(signed)), 4) if signed else None,
        "coverage": round(float(np.mean(covered)), 4) if covered else None,
        "stops": stops, "false_stops": false_stops,
        "to95_audit": to95[AUDIT], "to95_without": to95["default"],
        "saved_versions": len(saved_est),
        "saved_estimated_mean": round(float(np.mean(saved_est)), 1) if saved_est else None,
        "saved_true_mean": round(float(np.mean(saved_true)), 1) if saved_true else None,
        "saved_mae": round(float(np.mean(np.abs(np.subtract(saved_est, saved_true)))), 1) if saved_est else None,
        "saved_range_holds": round(float(np.mean(saved_in)), 3) if saved_in else None,
    }


def _cell(value: Any, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value}{suffix}"


#: The other share measured beside the service's (``--share``), shown when its figures exist.
OTHER_SHARE = 0.05


def share_table(results: dict[str, dict[str, Any]], other: dict[str, dict[str, Any]]) -> list[str]:
    """The service's share against ``OTHER_SHARE`` on the sets both ran: what the choice rests on."""
    both = [name for name in results if name in other]
    if not both:
        return []
    lines = ["", f"Audit share {defaults.AUDIT_SHARE:.0%} against {OTHER_SHARE:.0%} (`python -m benchmarks.audit "
             f"--share {OTHER_SHARE:g}`, runs in benchmarks/out/audit-share-{OTHER_SHARE:g}; the no-audit "
             "runs are the same code and seeds, so the two \"without\" columns agree):", "",
             "| set | versions with an estimate | MAE | 95% coverage | labels to 95%: audit / without |",
             "|---|---|---|---|---|"]
    for name in both:
        a, b = results[name], other[name]
        lines.append(f"| {name} | {a['with_estimate']} / {b['with_estimate']} | {_cell(a['mae'])} / "
                     f"{_cell(b['mae'])} | {_cell(a['coverage'])} / {_cell(b['coverage'])} | "
                     f"{_cell(a['to95_audit'])} / {_cell(a['to95_without'])} against "
                     f"{_cell(b['to95_audit'])} / {_cell(b['to95_without'])} |")
    return lines


def section(results: dict[str, dict[str, Any]], other: dict[str, dict[str, Any]] | None = None) -> str:
    head = ("| set | budget | versions >= 100 labels (with estimate) | MAE | mean signed error | 95% coverage | "
            "stops (false) | labels to 95%: audit / without | labels saved: estimated / true (mean), range holds |")
    lines = [HEADING, "",
             f"Default strategy, audit share {defaults.AUDIT_SHARE:.0%}, batch {BATCH}, {SEEDS} seeds, a version "
             f"measured every {BATCH * AUDIT_EVERY} labels against its held-out test accuracy; random baseline "
             "at batch 50. Reproduce with `python -m benchmarks.audit` (runs kept in benchmarks/out/audit).",
             "Goals: MAE <= 0.04 and coverage >= 0.9 from 100 labels on; no false stop (stop while the true "
             "accuracy gains >= 1 point per 100 labels over the next 200); at most 10% more labels to 95%.",
             "", head, "|" + "---|" * 9]
    for name, f in results.items():
        lines.append(
            f"| {name} | {PLANS[name].budget} | {f['versions']} ({f['with_estimate']}) | {_cell(f['mae'])} | "
            f"{_cell(f.get('bias'))} | "
            f"{_cell(f['coverage'])} | {f['stops']} ({f['false_stops']}) | "
            f"{_cell(f['to95_audit'])} / {_cell(f['to95_without'])} | "
            f"{_cell(f['saved_estimated_mean'])} / {_cell(f['saved_true_mean'])} over {f['saved_versions']} "
            f"versions, {_cell(f['saved_range_holds'])} |")
    lines += share_table(results, other or {})
    lines += ["", *FINDINGS]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="trec6,trec6_pool,subj,digits,synthetic")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--share", type=float, default=defaults.AUDIT_SHARE,
                        help="audit share to measure; another than the service's is kept apart and printed only")
    args = parser.parse_args(argv)
    out = runs_dir(args.share) / "figures.json"
    results: dict[str, dict[str, Any]] = json.loads(out.read_text()) if out.exists() else {}
    for name in [s for s in args.sets.split(",") if s]:
        curves, full = run_set(name, args.jobs, share=args.share)
        results[name] = figures(curves, full)
        print(name, json.dumps(results[name]))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n")
        if args.share == defaults.AUDIT_SHARE:
            other_file = runs_dir(OTHER_SHARE) / "figures.json"
            other = json.loads(other_file.read_text()) if other_file.exists() else {}
            write_section(HEADING, section({k: results[k] for k in PLANS if k in results}, other))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
