"""Texts to Label Studio predictions: featurize, predict, rank with the strategy.

Shared by ``/predict`` and the rescore job (the whole unlabeled pool), so both produce the
same prediction for the same task.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from backend.errors import BadRequest
from backend.tasks.base import Ranker, Scored
from backend.tasks.text_classification.features import clean_text
from backend.tasks.text_classification.model import TextModel, fit_idf, make_estimator, weight
from backend.tasks.text_classification.schema import TaskSchema
from backend.tasks.text_classification.thresholds import Thresholds, chosen
from strategies import Pool, get_strategy


def task_texts(tasks: Sequence[Mapping[str, Any]], schema: TaskSchema, max_chars: int) -> list[str]:
    """The configured text field of every task; a task without it is the sender's error."""
    missing = [t.get("id", i) for i, t in enumerate(tasks) if schema.value_key not in (t.get("data") or {})]
    if missing:
        shown = ", ".join(str(m)[:20] for m in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise BadRequest(f'{len(missing)} task(s) have no "{schema.value_key}" field in data (task {shown}); '
                         f'the label config reads value="${schema.value_key}"', status=422)
    return [clean_text(t["data"][schema.value_key], schema.object_type, max_chars) for t in tasks]


def pool_of(counts: sp.csr_matrix, model: TextModel | None, schema: TaskSchema) -> Pool:
    """What a strategy sees: weighted features, the model's probabilities, the labeled set."""
    if model is None:
        return Pool(features=weight(counts, fit_idf(counts)), multilabel=schema.multilabel)
    features = weight(counts, model.idf)
    return Pool(features=features, proba=model.predict_proba_weighted(features), multilabel=schema.multilabel,
                labeled_features=model.labeled_features(), labeled_targets=model.targets,
                estimator=make_estimator(schema.multilabel))


@dataclass(frozen=True)
class MultilabelOutputs:
    """A multi-label model's probabilities and the labels each row pre-selects (its thresholds')."""

    proba: npt.NDArray[np.float64]
    picked: npt.NDArray[np.bool_]


def outputs_of(proba: npt.NDArray[np.float64] | None, model: TextModel | None, schema: TaskSchema) -> Any:
    """What :func:`predictions` writes back from: the probabilities, and for multi-label the
    model's own pre-selection (out-of-fold thresholds, or 0.5 for an older artifact)."""
    if proba is None or model is None or not schema.multilabel:
        return proba
    return MultilabelOutputs(proba, chosen(proba, getattr(model, "thresholds", None)))


def score_counts(counts: sp.csr_matrix, model: TextModel | None, schema: TaskSchema, strategy: Ranker, *,
                 batch_size: int = 10, seed: int = 0) -> Scored:
    """Rank hashed counts with ``strategy`` (the cold start when ``model`` is None)."""
    pool = pool_of(counts, model, schema)
    return Scored(strategy.rank(pool, batch_size=batch_size, random_state=seed), outputs_of(pool.proba, model, schema))


def margin_scores(counts: sp.csr_matrix, model: TextModel, schema: TaskSchema) -> Scored:
    """The ``margin`` strategy's scores: task by task, no refit, no other task involved."""
    return score_counts(counts, model, schema, get_strategy("margin"))


def prediction_result(schema: TaskSchema, proba_row: npt.NDArray[np.float64] | None,
                      thresholds: Thresholds | None = None) -> list[dict[str, Any]]:
    """Label Studio's result list for one task: the predicted choice(s), or nothing yet.

    Multi-label: the labels at or above their ``thresholds`` (the model's, see
    :mod:`.thresholds`), else those at 0.5 or more.
    """
    if proba_row is None:
        return []
    if schema.multilabel:
        picked = chosen(np.asarray(proba_row, dtype=np.float64)[None, :], thresholds)[0]
        choices = [label for label, p in zip(schema.labels, picked.tolist(), strict=True) if p]
    else:
        choices = [schema.labels[int(np.argmax(proba_row))]]
    return _choices_result(schema, choices)


def _choices_result(schema: TaskSchema, choices: list[str]) -> list[dict[str, Any]]:
    if not choices:
        return []
    return [{"from_name": schema.from_name, "to_name": schema.to_name, "type": "choices",
             "value": {"choices": choices}}]


def predictions(schema: TaskSchema, scored: Scored, version: str) -> list[dict[str, Any]]:
    """One Label Studio prediction per row, in row order.

    Single-label rows share one result list per class (built once): a pool of 50,000 tasks
    would otherwise spend a second building identical dictionaries.
    """
    scores = [round(s, 6) for s in np.asarray(scored.scores, dtype=np.float64).tolist()]
    proba = scored.outputs
    if proba is None:
        results: list[list[dict[str, Any]]] = [[] for _ in scores]
    elif isinstance(proba, MultilabelOutputs):
        results = [_choices_result(schema, [schema.labels[j] for j in np.flatnonzero(row)]) for row in proba.picked]
    elif schema.multilabel:
        results = [prediction_result(schema, row) for row in proba]
    else:
        one_hot = np.eye(len(schema.labels))
        by_label = [prediction_result(schema, one_hot[j]) for j in range(len(schema.labels))]
        results = [by_label[j] for j in np.asarray(proba).argmax(axis=1).tolist()]
    return [{"result": r, "score": s, "model_version": version} for r, s in zip(results, scores, strict=True)]
