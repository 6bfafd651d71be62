"""The text classification sections of a version's report page (rendered here, framed by
:mod:`backend.reports.page`): summary cards, per-class figures, the confusion matrix,
calibration, labels to doubt, annotator agreement and class balance.

Every text that comes from users (labels, task texts, annotator names) goes through Jinja's
autoescaping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from backend.labelstudio.links import task_link
from backend.tasks.text_classification.doubt import AgreementReport, BalanceReport, DoubtfulLabel
from backend.tasks.text_classification.metrics import Evaluation

#: Longest task text shown beside a doubtful label; the link opens the whole task.
TEXT_CHARS = 160

_ENV = Environment(loader=PackageLoader("backend.tasks.text_classification", "templates"), autoescape=True,
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_sections(evaluation: Evaluation | Mapping[str, Any], doubts: Sequence[DoubtfulLabel],
                    agreement: AgreementReport | None, balance: BalanceReport | None, ls_url: str,
                    project: int | str, scaled: Mapping[str, Any] | None = None,
                    calibrate: str | None = None) -> dict[str, Any]:
    """``ok``, ``summary_html``, ``details_html`` and ``footer`` for the report's frame.

    ``evaluation`` may be the stored ``metrics.json`` dict; ``scaled`` is the version's
    calibration record (``model.meta["calibration"]``) and ``calibrate`` its setting.
    """
    metrics = evaluation.to_dict() if isinstance(evaluation, Evaluation) else dict(evaluation)
    ok = metrics.get("status") == "ok"
    # a record from when calibrate was a flag was fitted on folds
    scaled = {"fitted_on": "folds", "rows": 0, **scaled} if scaled else None
    context = {
        "m": metrics, "ok": ok, "cards": _cards(metrics, scaled), "classes": _classes(metrics),
        "confusion": _confusion(metrics), "calibration": _calibration(metrics),
        "doubts": [_doubt_row(d, ls_url, project) for d in doubts], "agreement": agreement,
        "disagreements": _disagreement_rows(agreement, ls_url, project), "balance": balance,
        "scaled": scaled,
        "calibrate": calibrate,
    }
    footer = f"{metrics.get('n_splits')}-fold cross-validation on {metrics.get('n_labels')} labels" if ok else ""
    return {"ok": ok, "summary_html": _ENV.get_template("summary.html").render(**context),
            "details_html": _ENV.get_template("details.html").render(**context), "footer": footer}


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100.0 * float(value):.1f}%"


def _fixed(value: Any) -> str:
    return "–" if value is None else f"{float(value):.3f}"


def _cards(m: Mapping[str, Any], scaled: Mapping[str, Any] | None = None) -> list[tuple[str, str, str]]:
    """(title, value, hint) for the summary cards.

    The calibration card shows the error of the probabilities the version serves: with a
    temperature fitted on the audit sample, its "after" on those tasks (a random sample of
    the pool); otherwise the out-of-fold error on all labels, unscaled.
    """
    cards = [("Labeled tasks", str(m.get("n_labels", 0)), "labels this version learned from")]
    if m.get("status") != "ok":
        return cards
    if m.get("multilabel"):
        cards += [("Subset accuracy (CV)", _pct(m.get("subset_accuracy")), "every choice right; biased, see audit"),
                  ("Micro-F1", _pct(m.get("micro_f1")), "over all choices"),
                  ("Hamming loss", _pct(m.get("hamming_loss")), "wrong yes/no decisions")]
    else:
        cards.append(("Accuracy (CV)", _pct(m.get("accuracy")),
                      f"{m.get('n_splits')}-fold on all labels; strategy-chosen, so biased"))
    cards += [("Macro-F1 (CV)", _pct(m.get("macro_f1")), "classes weigh alike; biased, see audit"),
              _calibration_card(m, scaled)]
    return cards


def _calibration_card(m: Mapping[str, Any], scaled: Mapping[str, Any] | None) -> tuple[str, str, str]:
    if scaled and scaled.get("fitted_on") == "audit":
        return ("Calibration error", _fixed(scaled.get("ece_after")),
                f"ECE on {scaled.get('rows')} audit tasks, scaled (unscaled {_fixed(scaled.get('ece_before'))})")
    return ("Calibration error", _fixed((m.get("calibration") or {}).get("ece")),
            "ECE, 10 bins, on all labels (CV), unscaled; lower is better")


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
