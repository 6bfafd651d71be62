"""The "Model quality" section of BENCHMARKS.md from :mod:`benchmarks.model_quality`'s report."""

from __future__ import annotations

from typing import Any

BUDGETS = ("50", "100", "200", "500", "1000")
ECE_AT = ("100", "500", "1000")
NAMES = {"today": "today (LR, labeled IDF, raw)", "new": "new default"}


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


def section(report: dict[str, Any]) -> str:
    """The whole section; the method text is kept beside the figures it explains."""
    from benchmarks.model_quality import HEADING

    seeds = ", ".join(map(str, report["seeds"]))
    lines = [HEADING, "",
             f"`nice -n 10 .venv/bin/python -m benchmarks.model_quality --seeds {seeds} --write` "
             f"({report['minutes']} min on this machine, 2 processes). Strategy `{report['strategy']}` from "
             f"zero labels, batch 10, seeds {seeds} (the same splits for both models), mean ± sd over seeds. "
             "ECE: 15-bin top-label expected calibration error of the test probabilities. Retrain time: "
             "best of 3 fits on 2,000 random pool texts, one thread, calibration included.", ""]
    for name, figures in report["sets"].items():
        lines += set_table(name, figures, report["budget"])
    return "\n".join(lines)
