"""A text classification version's figures: cross-validated quality, doubts, agreement, balance.

Computed on exactly the labels the version was trained on (they travel with the artifact in
its training file) and on the project's stop set of unlabeled texts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from backend.tasks.base import Figures, Refit
from backend.tasks.text_classification.doubt import annotator_agreement, class_balance, doubtful_labels
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.metrics import evaluate
from backend.tasks.text_classification.model import TextModel, train_model
from backend.tasks.text_classification.page import render_sections
from backend.tasks.text_classification.thresholds import chosen


def training_file(task_ids: Sequence[int], texts: Sequence[str], votes: Sequence[tuple[int, Any, Any]]) -> bytes:
    """What the report needs of the labels besides the model: ids, texts, who said what."""
    return json.dumps({"task_ids": list(task_ids), "texts": [t[:500] for t in texts],
                       "votes": [[t, str(a), v] for t, a, v in votes]}).encode()


def stop_set_labels(model: TextModel, texts: Sequence[str]) -> tuple[list[Any], np.ndarray]:
    """The model's label (a list of them, multi-label) for each stop-set text, and the probabilities."""
    proba = model.predict_proba(featurize(list(texts)))
    if model.multilabel:
        values: list[Any] = [[model.labels[j] for j in np.flatnonzero(row)]
                             for row in chosen(proba, getattr(model, "thresholds", None))]
    else:
        values = [model.labels[int(j)] for j in proba.argmax(axis=1)]
    return values, proba


def model_options(model: TextModel) -> dict[str, Any]:
    """The training options ``model`` was fitted with (none for an artifact from before them),
    so a refit for the audit trains the project's model, not the default one."""
    return dict(model.meta.get("options") or {})


def version_options(model: TextModel) -> dict[str, Any]:
    """:func:`model_options` with the version's own learner, even where ``auto`` would switch
    at another label count: refits measure the model that was served."""
    return {**model_options(model), "learner": getattr(model, "learner", "logreg")}


def refit(model: TextModel) -> Refit:
    """The service's model retrained on subsets of ``model``'s labels (BLAS on one thread).

    Multi-label refits return the labels the refitted model pre-selects (0 or 1, with
    thresholds chosen on its own training rows), so the audit measures what annotators see.
    """
    targets = model.targets if model.targets is not None else np.zeros(0, dtype=int)
    counts = model.train_counts if model.train_counts is not None else featurize([])
    options = version_options(model)

    def fit_predict(train: npt.NDArray[np.intp], test: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
        # Uncalibrated: the audit reads the predicted class, which a temperature never changes,
        # and calibrating would cost each refit five more fits.
        with threadpool_limits(limits=1):
            fitted = train_model(counts[train], targets[train], model.labels, model.multilabel,
                                 choose_thresholds=model.multilabel, **{**options, "calibrate": False})
            proba = np.asarray(fitted.predict_proba(counts[test]), dtype=np.float64)
        return chosen(proba, fitted.thresholds).astype(np.float64) if model.multilabel else proba

    return Refit(fit_predict, targets, model.multilabel)


def figures(model: TextModel, training: Mapping[str, Any] | None, stop_set: Mapping[str, str], ls_url: str,
            project: int) -> Figures:
    training = training or {}
    targets = model.targets if model.targets is not None else np.zeros(0, dtype=int)
    counts = model.train_counts if model.train_counts is not None else featurize([])
    evaluation = evaluate(counts, targets, model.labels, model.multilabel, random_state=0,
                          options=version_options(model))
    task_ids = training.get("task_ids") or list(range(len(targets)))
    texts = training.get("texts") or None
    doubts = (doubtful_labels(evaluation.oof_proba, targets, task_ids, model.labels, model.multilabel, texts)
              if evaluation.oof_proba is not None else [])
    agreement = annotator_agreement([tuple(v) for v in training.get("votes", [])])
    stop_values, stop_proba = stop_set_labels(model, list(stop_set.values())) if stop_set else ([], None)
    balance = (class_balance(targets, stop_proba, model.labels, model.multilabel)
               if stop_proba is not None and len(targets) else None)
    return Figures(
        headline={"accuracy": evaluation.metrics.get("accuracy"), "macro_f1": evaluation.metrics.get("macro_f1")},
        status=str(evaluation.metrics.get("status")),
        stop_predictions=dict(zip(stop_set, stop_values, strict=True)),
        sections={"evaluation": evaluation.to_dict(), "doubtful_labels": [d.to_dict() for d in doubts],
                  "annotator_agreement": agreement.to_dict(),
                  "class_balance": balance.to_dict() if balance else None},
        **render_sections(evaluation, doubts, agreement, balance, ls_url, project,
                          scaled=model.meta.get("calibration"), calibrate=model_options(model).get("calibrate")),
    )
