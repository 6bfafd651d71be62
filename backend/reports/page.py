"""The per-version model report: one self-contained HTML page and the learning-curve PNG.

The page carries its CSS inline and the plot as a base64 ``data:`` image, so it shows
with no other request (saved to disk, mailed, or served behind basic auth alike). Every
text that comes from users (labels, task texts, annotator names) goes through Jinja's
autoescaping. Plots use matplotlib's ``Figure`` with the Agg canvas and never ``pyplot``,
which keeps global state out of worker processes.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from backend.reports.stopping import LearningCurve, StopSuggestion
from backend.tasks.text_classification.doubt import AgreementReport, BalanceReport, DoubtfulLabel
from backend.tasks.text_classification.metrics import Evaluation

#: Line colours of the plot; tests look for ACCURACY_COLOR in a browser screenshot.
ACCURACY_COLOR = "#2563eb"
MACRO_F1_COLOR = "#ea580c"
PLOT_SIZE_PX = (960, 400)
_DPI = 100
#: Longest task text shown beside a doubtful label; the link opens the whole task.
TEXT_CHARS = 160

_ENV = Environment(
    loader=PackageLoader("backend.reports", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def learning_curve_png(curve: LearningCurve | None) -> bytes:
    """The learning curve (accuracy and macro-F1 against labels) as PNG bytes."""
    fig = Figure(figsize=(PLOT_SIZE_PX[0] / _DPI, PLOT_SIZE_PX[1] / _DPI), dpi=_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    points = curve.points if curve else []
    if points:
        _plot_line(ax, points, ACCURACY_COLOR, "Accuracy (cross-validated)", "-")
        if curve and curve.macro_f1_points:
            _plot_line(ax, curve.macro_f1_points, MACRO_F1_COLOR, "Macro-F1", "--")
        ax.legend(loc="lower right", frameon=False)
    else:
        ax.text(0.5, 0.5, "No evaluated version yet", ha="center", va="center",
                transform=ax.transAxes, color="#6b7280", fontsize=13)
        ax.set_xticks([])
    ax.set_xlabel("Labeled tasks")
    ax.set_ylabel("Score")
    ax.set_ylim(0.0, 1.0)
    ax.grid(True, color="#e5e7eb", linewidth=0.8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def _plot_line(ax: Any, points: Sequence[tuple[int, float]], color: str, label: str,
               style: str) -> None:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    ax.plot(xs, ys, style, color=color, linewidth=2.6, marker="o", markersize=5, label=label)


def write_learning_curve_png(curve: LearningCurve | None, path: str | Path) -> Path:
    """Write the PNG atomically (temporary file, then rename) and return its path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(learning_curve_png(curve))
    os.replace(tmp, target)
    return target


def task_link(ls_url: str, project: int | str, task_id: int | str) -> str | None:
    """The task in Label Studio's Data Manager, or None when ``ls_url`` is not http(s)."""
    base = ls_url.strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{base}/projects/{quote(str(project), safe='')}/data?task={quote(str(task_id), safe='')}"


def render_report(
    *,
    project: int | str,
    version: str,
    ls_url: str,
    evaluation: Evaluation | Mapping[str, Any],
    curve: LearningCurve | None = None,
    stop: StopSuggestion | None = None,
    doubts: Sequence[DoubtfulLabel] = (),
    agreement: AgreementReport | None = None,
    balance: BalanceReport | None = None,
    title: str = "",
    generated_at: str = "",
) -> str:
    """The whole report page as an HTML string.

    ``evaluation`` may be the stored ``metrics.json`` dict. ``curve`` defaults to the one
    inside ``stop``. Sections without data say so instead of disappearing.
    """
    metrics = evaluation.to_dict() if isinstance(evaluation, Evaluation) else dict(evaluation)
    curve = curve if curve is not None else (stop.curve if stop else None)
    png = base64.b64encode(learning_curve_png(curve)).decode("ascii")
    context = {
        "project": str(project),
        "title": title or f"Project {project}",
        "version": version,
        "generated_at": generated_at,
        "m": metrics,
        "ok": metrics.get("status") == "ok",
        "cards": _cards(metrics),
        "classes": _classes(metrics),
        "confusion": _confusion(metrics),
        "calibration": _calibration(metrics),
        "curve": curve,
        "plot_src": f"data:image/png;base64,{png}",
        "plot_size": PLOT_SIZE_PX,
        "stop": stop,
        "doubts": [_doubt_row(d, ls_url, project) for d in doubts],
        "agreement": agreement,
        "disagreements": _disagreement_rows(agreement, ls_url, project),
        "balance": balance,
    }
    return _ENV.get_template("report.html").render(**context)


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100.0 * float(value):.1f}%"


def _fixed(value: Any) -> str:
    return "–" if value is None else f"{float(value):.3f}"


def _cards(m: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(title, value, hint) for the summary cards."""
    cards = [("Labeled tasks", str(m.get("n_labels", 0)), "labels this version learned from")]
    if m.get("status") != "ok":
        return cards
    if m.get("multilabel"):
        cards += [("Subset accuracy", _pct(m.get("subset_accuracy")), "every choice right"),
                  ("Micro-F1", _pct(m.get("micro_f1")), "over all choices"),
                  ("Hamming loss", _pct(m.get("hamming_loss")), "wrong yes/no decisions")]
    else:
        cards.append(("Accuracy", _pct(m.get("accuracy")), f"{m.get('n_splits')}-fold, out of fold"))
    cards += [("Macro-F1", _pct(m.get("macro_f1")), "classes weigh alike"),
              ("Calibration error", _fixed((m.get("calibration") or {}).get("ece")),
               "ECE, 10 bins; lower is better")]
    return cards


def _classes(m: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for row in m.get("per_class") or []:
        rows.append({"label": row["label"], "precision": _pct(row["precision"]),
                     "recall": _pct(row["recall"]), "f1": _pct(row["f1"]),
                     "support": row["support"], "predicted": row["predicted"],
                     "weak": row["support"] > 0 and row["f1"] < 0.5})
    return rows


def _confusion(m: Mapping[str, Any]) -> dict[str, Any] | None:
    matrix = m.get("confusion_matrix")
    if not matrix:
        return None
    rows = []
    for i, (name, counts) in enumerate(zip(m["labels"], matrix, strict=True)):
        total = sum(counts) or 1
        cells = [{"n": n, "alpha": round(0.08 + 0.8 * n / total, 3) if n else 0.0,
                  "dark": n / total > 0.5, "diag": i == j} for j, n in enumerate(counts)]
        rows.append({"label": name, "cells": cells, "total": sum(counts)})
    return {"labels": m["labels"], "rows": rows}


def _calibration(m: Mapping[str, Any]) -> list[dict[str, str]]:
    bins = (m.get("calibration") or {}).get("bins") or []
    return [{"range": f"{b['lower']:.1f}–{b['upper']:.1f}", "count": str(b["count"]),
             "confidence": _pct(b["confidence"]), "accuracy": _pct(b["accuracy"])}
            for b in bins if b["count"]]


def _doubt_row(d: DoubtfulLabel, ls_url: str, project: int | str) -> dict[str, Any]:
    text = d.text if len(d.text) <= TEXT_CHARS else d.text[: TEXT_CHARS - 1] + "…"
    return {"task_id": str(d.task_id), "link": task_link(ls_url, project, d.task_id),
            "text": text, "given": d.given, "suggested": d.suggested,
            "given_proba": _pct(d.given_proba), "suggested_proba": _pct(d.suggested_proba)}


def _disagreement_rows(
    agreement: AgreementReport | None, ls_url: str, project: int | str
) -> list[dict[str, Any]]:
    if agreement is None:
        return []
    return [{"task_id": str(d.task_id), "link": task_link(ls_url, project, d.task_id),
             "labels": sorted(d.labels.items())} for d in agreement.disagreements]
