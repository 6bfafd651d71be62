"""The "Model quality" section of BENCHMARKS.md from :mod:`benchmarks.model_quality`'s report."""

from __future__ import annotations

import json
from typing import Any

BUDGETS = ("50", "100", "200", "500", "1000")
ECE_AT = ("100", "500", "1000")
NAMES = {"today": "today (LR, labeled IDF, raw)", "new": "auto, pool IDF, calibrated"}


def _f(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _n(value: Any, budget: int) -> str:
    return f"> {budget}" if value is None else str(value)


def _ratio(before: Any, after: Any) -> str:
    return f"x{before / after:.2f}" if before and after else "-"


def set_table(name: str, figures: dict[str, Any], budget: int) -> list[str]:
    """One set's rows: accuracy (± seed sd) at the budgets, labels to 95%, ECE, retrain time."""
    variants = [v for v in ("today", "new") if v in figures]
    lines = [f"**{name}** (full-pool accuracy: today {_f(figures['full'].get('today'))}, "
             f"new {_f(figures['full'].get('new'))})", "",
             "| model | " + " | ".join(f"acc@{b}" for b in BUDGETS) + " | labels to 95% of today's full | "
             + " | ".join(f"ECE@{b}" for b in ECE_AT) + " | retrain at 2,000 (s) |",
             "|---|" + "---|" * (len(BUDGETS) + len(ECE_AT) + 2)]
    for v in variants:
        row = figures[v]
        acc = [f"{_f(row['accuracy'][b])} ± {_f(row['accuracy_sd'][b])}" for b in BUDGETS]
        eces = [_f(row["ece"][b]) for b in ECE_AT]
        lines.append(f"| {NAMES[v]} | " + " | ".join(acc) + f" | {_n(row['to_95_today'], budget)} | "
                     + " | ".join(eces) + f" | {_f(figures['retrain_seconds'][v], 2)} |")
    new = figures.get("new", {})
    today = figures.get("today", {})
    lines += ["", f"Labels to 95% of today's full-pool accuracy: today {_n(today.get('to_95_today'), budget)}, "
              f"new {_n(new.get('to_95_today'), budget)} "
              f"({_ratio(today.get('to_95_today'), new.get('to_95_today'))} fewer). "
              f"Labels to 95% of the new model's own full-pool accuracy: default strategy "
              f"{_n(new.get('to_95_own'), budget)}, random order {_n(new.get('random_to_95_own'), budget)} "
              f"({_ratio(new.get('random_to_95_own'), new.get('to_95_own'))}); today's model with the default "
              f"strategy to its own 95%: {_n(today.get('to_95_own'), budget)}.", ""]
    return lines


CHOICE = """How the default was chosen: the candidates' passive learning curves (random labeled
subsets, the same for every candidate, calibrated unless named `-uncal`) on **seeds 0-1 of
trec6 and subj only** (`benchmarks/model_choice.py`, tables below), then the candidate confirmed
under active learning on seeds 0-4 (the tables above; seeds 2-3 first). Rule: prefer what wins everywhere by a
little. Complement naive Bayes (`cnb`) won at every size up to 1,000 labels on both sets;
logistic regression with the pool's IDF won first at 2,000 labels (trec6) and was the best
calibrated there. The pool's IDF cost naive Bayes a little at most sizes (trec6 at 100
labels: 0.51 against 0.60 with the labeled IDF) and gave logistic regression a little at
every size from 1,000 on; pruning columns seen in one pool text changed accuracy by less than
the seed noise and makes logistic regression several times faster. `nblr` and `ensemble` were
no better and 3-10 times slower. So `auto` is `cnb` on the labeled IDF below 2,000 labels and
`lr` on the pool's IDF with pruning from 2,000 on, both calibrated ("auto, pool IDF, calibrated" or "new" in the
tables: `learner="auto", idf="auto", calibrate=True`).

Verdict of the confirmation: not better under active learning. It learned sooner only at the
very start of subj (50 labels) and on trec6 around 500 labels, and needed more labels to reach
95% of today's full-pool accuracy on both text sets; the goal (x1.3 fewer on every text set)
is not met. Calibration fitted out of fold on the labels the strategy chose does not carry to
the pool: ECE at 500-1,000 labels stayed at 0.27-0.35 under active learning, while the same
model with random order had 0.02-0.03 on subj and 0.10-0.11 on trec6. The service's default
therefore stays today's model (`lr`, labeled IDF, uncalibrated); the pool statistics are
computed and stored, and `auto`, the other learners and calibration are options. What the
figures point to next: fit the temperature on the audit sample's random labels rather than
on all labels (done since: it is the default now, see "Calibration on the audit sample"),
and a switch of learner that does not throw away the naive-Bayes-chosen labels' fit (accuracy fell at the switch).

One correction was made after seeing confirmation runs, and it is reported as such: the first
confirmation runs (seeds 2-3) switched to logistic regression at 1,000 labels, which the choice
figures did not support (naive Bayes had won at 1,000); there the accuracy fell at the switch
(trec6 seed 2: 0.838 at 990 labels, 0.820 at 1,000; seed 3: 0.854, 0.812), because the labels
chosen while naive Bayes ranked the pool suit naive Bayes. The switch was moved to 2,000, the
first size at which logistic regression won on the choice seeds, and all seeds were run with it."""


SPEED = """Other sets and speed. digits, breast cancer and the synthetic set are numeric: their
model (logistic regression on standardized columns) is not changed by this work, so their
figures are those of the sections above. `/predict` and scoring throughput could not be
re-measured in absolute terms by the deadline: the machine ran at a load of 10-15 on 2 cores
(featurizing 10,000 texts took 3.8-6.6 s instead of 0.12 s). `benchmarks/model_speed.py` times
today's model and `auto` (calibrated) interleaved in one process, on the same featurized tasks
(median of 3, 10,000 tasks, models trained on 500 and 2,000 labels): with the default strategy
100 tasks took 625 ms (today) against 244 ms (new) at 500 labels and 543 against 566 ms at
2,000, 10,000 tasks 1,059 against 1,403 ms and 1,480 against 1,357 ms; with `margin` 91
against 85 ms, 680 against 655 ms, 80 against 125 ms and 684 against 1,042 ms. The two are
within the noise of that load of each other: scoring adds a temperature (one exp per
probability) and naive Bayes scores no slower than logistic regression, so the targets met in
the sections above (`/predict` 100 tasks p50 < 50 ms, >= 20,000 tasks/s at 10,000 tasks)
are expected to hold; re-run `benchmarks.service_latency` and `benchmarks.loop_latency
--skip-loop` on a quiet machine to confirm. Today's model is timed here with this version's
Newton-CG solver; main's L-BFGS reached the same optimum in 0.65 s against 0.06 s at 2,000
trec6 labels (measured before the load rose)."""


def choice_table(choice: dict[str, Any]) -> list[str]:
    """Accuracy / ECE of every candidate at every size, per set (seed means of the choice seeds)."""
    lines: list[str] = []
    for name, variants in choice.items():
        sizes = [int(p["n"]) for p in next(iter(variants.values()))]
        lines += [f"**{name}**, seeds 0-1, accuracy / ECE at " + ", ".join(map(str, sizes)) + " labels", "",
                  "| candidate | " + " | ".join(map(str, sizes)) + " |", "|---|" + "---|" * len(sizes)]
        for variant, points in variants.items():
            lines.append(f"| {variant} | " + " | ".join(f"{p['accuracy']:.3f} / {p['ece']:.3f}" for p in points) + " |")
        lines.append("")
    return lines


def section(report: dict[str, Any], choice: dict[str, Any] | None = None) -> str:
    """The whole section; the method text is kept beside the figures it explains."""
    from benchmarks.model_quality import HEADING

    report = json.loads(json.dumps(report))  # budgets as the strings a saved report has
    seeds = ", ".join(map(str, report["seeds"]))
    args = " ".join(map(str, report["seeds"]))
    lines = [HEADING, "",
             f"`nice -n 10 .venv/bin/python -m benchmarks.model_quality --seeds {args} --write` "
             f"(runs are saved one by one and resumed). Strategy `{report['strategy']}` from "
             f"zero labels, batch 10, seeds {seeds} (the same splits for both models), mean ± sd over seeds. "
             "ECE: 15-bin top-label expected calibration error of the test probabilities. Retrain time: "
             "least CPU seconds of 3 trainings on 2,000 random pool texts, one thread, calibration included "
             "(CPU time because the machine was shared: wall times were 5-30 times higher while other work ran).",
             ""]
    for name, figures in report["sets"].items():
        lines += set_table(name, figures, report["budget"])
    lines += [SPEED, "", CHOICE, ""]
    if choice:
        lines += choice_table(choice)
    return "\n".join(lines)
