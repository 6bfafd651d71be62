"""Learning curves to the figures a person compares: labels to X%, AULC, savings, a plot.

``labels_to_X`` is the first label count at which the seed-mean accuracy reaches X% of
the accuracy of a model trained on the whole pool (``None`` if the budget ran out first).
``aulc`` is the area under the seed-mean accuracy curve divided by the width of the label
range, i.e. the mean accuracy over the budget, so it lies in [0, 1] and a strategy that
learns sooner scores higher.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Shares of full-pool accuracy reported as "labels to X%".
TARGETS = (90, 95, 99)


@dataclass
class Curve:
    """One run of one strategy under one seed: a point per round."""

    labels: list[int] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    f1_macro: list[float] = field(default_factory=list)
    query_seconds: float = 0.0
    #: What the labels cost at each point besides their count (tokens, for named entities).
    cost: list[int] = field(default_factory=list)
    #: Expected calibration error of the test rows' probabilities at each point (a kind with
    #: class probabilities; calibrated on the audit sample when the run has one).
    ece: list[float] = field(default_factory=list)
    #: With an audit sample: per round the true accuracy and, on evaluated rounds, the audit
    #: estimate, gain, stop verdict and labels saved (see :mod:`backend.simulate.audit_run`).
    rounds: list[dict[str, Any]] = field(default_factory=list)


def labels_to(labels: Sequence[int], accuracy: Sequence[float], target: float) -> int | None:
    """The first label count whose accuracy reaches ``target``, else ``None``."""
    for n, acc in zip(labels, accuracy, strict=True):
        if acc >= target - 1e-12:
            return int(n)
    return None


def aulc(labels: Sequence[int], accuracy: Sequence[float]) -> float:
    """Mean accuracy over the label range (trapezoid area / width); one point is its value."""
    if len(labels) < 2:
        return float(accuracy[0]) if len(accuracy) else 0.0
    width = float(labels[-1] - labels[0])
    return float(np.trapezoid(accuracy, labels) / width)


def summarize(runs: Sequence[Curve], full_pool_accuracy: float) -> dict[str, Any]:
    """Seed means and the derived figures for one strategy's runs."""
    length = min(len(c.labels) for c in runs)
    labels = [int(n) for n in runs[0].labels[:length]]
    acc = np.array([c.accuracy[:length] for c in runs])
    f1 = np.array([c.f1_macro[:length] for c in runs])
    mean = acc.mean(axis=0)
    out: dict[str, Any] = {
        "labels": labels,
        "accuracy_mean": [round(float(v), 6) for v in mean],
        "accuracy_std": [round(float(v), 6) for v in acc.std(axis=0)],
        "f1_macro_mean": [round(float(v), 6) for v in f1.mean(axis=0)],
    }
    for pct in TARGETS:
        out[f"labels_to_{pct}"] = labels_to(labels, mean.tolist(), full_pool_accuracy * pct / 100)
    if all(len(c.cost) >= length for c in runs):
        cost = np.array([c.cost[:length] for c in runs], dtype=np.float64).mean(axis=0)
        out["cost_mean"] = [round(float(v), 1) for v in cost]
        for pct in TARGETS:
            n = out[f"labels_to_{pct}"]
            out[f"cost_to_{pct}"] = None if n is None else round(float(cost[labels.index(n)]), 1)
    if all(len(c.ece) >= length for c in runs):
        out["ece_mean"] = [round(float(v), 6) for v in np.array([c.ece[:length] for c in runs]).mean(axis=0)]
    out["aulc"] = round(aulc(labels, mean.tolist()), 6)
    out["query_seconds_mean"] = round(float(np.mean([c.query_seconds for c in runs])), 3)
    if any(c.rounds for c in runs):
        out["audit_rounds"] = [c.rounds for c in runs]
    return out


def build_results(
    curves: Mapping[str, Sequence[Curve]], full_pool: Sequence[float], settings: dict[str, Any]
) -> dict[str, Any]:
    """The ``results.json`` document: full-pool accuracy, per-strategy figures, settings."""
    full = float(np.mean(full_pool))
    return {
        "full_pool_accuracy": round(full, 6),
        "strategies": {name: summarize(runs, full) for name, runs in curves.items()},
        "settings": settings,
    }


def write_results(results: dict[str, Any], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "results.json"
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return path


def plot_curves(results: dict[str, Any], path: Path, title: str = "") -> Path:
    """Seed-mean accuracy (band = one standard deviation) per strategy, with the 95% line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5.5), dpi=110)
    colors, dashes = [plt.get_cmap("tab20")(i) for i in range(20)], ("-", "--", "-.", ":")
    default = results.get("settings", {}).get("default_strategy")
    for i, (name, s) in enumerate(results["strategies"].items()):
        mean, std = np.array(s["accuracy_mean"]), np.array(s["accuracy_std"])
        style: dict[str, Any] = {"color": colors[i % 20], "linestyle": dashes[i // 20 % 4]}
        if name == "random":
            style = {"color": "black", "linestyle": "--"}
        width = 2.4 if name == default else 1.2
        ax.plot(s["labels"], mean, label=name, linewidth=width, **style)
        ax.fill_between(s["labels"], mean - std, mean + std, alpha=0.08, color=style["color"])
    full = results["full_pool_accuracy"]
    ax.axhline(full, color="grey", linewidth=0.8)
    ax.axhline(0.95 * full, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel("labels")
    ax.set_ylabel("test accuracy (seed mean)")
    ax.set_title(title or f"learning curves (full pool {full:.3f}; dotted: 95%)")
    ax.legend(fontsize=7, ncol=2, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def saving(strategy: int | None, random: int | None, budget: int) -> str:
    """Labels saved against random at one target, with the ratio (``>`` when random ran out)."""
    if strategy is None:
        return "not reached"
    if random is None:
        return f"> {budget - strategy} (> x{budget / strategy:.1f})"
    return f"{random - strategy} (x{random / strategy:.1f})"


def _cell(value: int | None, budget: int) -> str:
    return f"> {budget}" if value is None else str(value)


def savings_table(results: dict[str, Any], budget: int) -> str:
    """A plain-text table: labels to 90/95/99% and the labels saved against random."""
    rows = results["strategies"]
    base = rows.get("random", {})
    head = ["strategy", "to 90%", "to 95%", "to 99%", "saved at 95%", "saved at 99%", "AULC"]
    lines = [head]
    for name, s in rows.items():
        lines.append([
            name,
            *(_cell(s[f"labels_to_{p}"], budget) for p in TARGETS),
            *(saving(s[f"labels_to_{p}"], base.get(f"labels_to_{p}"), budget) for p in (95, 99)),
            f"{s['aulc']:.3f}",
        ])
    widths = [max(len(row[i]) for row in lines) for i in range(len(head))]
    text = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(text)
