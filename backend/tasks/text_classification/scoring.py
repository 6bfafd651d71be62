"""Tasks to Label Studio predictions: featurize, predict, rank with the strategy.

Shared by ``/predict`` (a handful to a thousand tasks, in the request) and the rescore job
(the whole unlabeled pool), so both produce the same prediction for the same task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from backend.errors import BadRequest
from backend.tasks.text_classification.features import clean_text, featurize
from backend.tasks.text_classification.model import TextModel, fit_idf, make_estimator, weight
from backend.tasks.text_classification.schema import TaskSchema
from strategies import Pool, get_strategy

#: Multi-label predictions list every label at least this probable.
MULTILABEL_THRESHOLD = 0.5


def task_texts(tasks: Sequence[dict[str, Any]], schema: TaskSchema, max_chars: int) -> list[str]:
    """The configured text field of every task; a task without it is the sender's error."""
    missing = [t.get("id", i) for i, t in enumerate(tasks) if schema.value_key not in t.get("data", {})]
    if missing:
        shown = ", ".join(str(m) for m in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise BadRequest(
            f'{len(missing)} task(s) have no "{schema.value_key}" field in data (task {shown}); '
            f'the label config reads value="${schema.value_key}"',
            status=422,
        )
    return [clean_text(t["data"][schema.value_key], schema.object_type, max_chars) for t in tasks]


@dataclass(frozen=True)
class Scored:
    """Probabilities (None before any model) and scores for a batch of tasks."""

    proba: npt.NDArray[np.float64] | None
    scores: npt.NDArray[np.float64]


def score_counts(
    counts: sp.csr_matrix,
    model: TextModel | None,
    schema: TaskSchema,
    strategy: str,
    batch_size: int = 10,
    seed: int = 0,
) -> Scored:
    """Rank hashed counts with the project's strategy (cold start when ``model`` is None)."""
    if model is None:
        pool = Pool(features=weight(counts, fit_idf(counts)), multilabel=schema.multilabel)
    else:
        features = weight(counts, model.idf)
        labeled = None if model.train_counts is None else weight(model.train_counts, model.idf)
        pool = Pool(features=features, proba=model.predict_proba_weighted(features), multilabel=schema.multilabel,
                    labeled_features=labeled, labeled_targets=model.targets,
                    estimator=make_estimator(schema.multilabel))
    scores = get_strategy(strategy).rank(pool, batch_size=batch_size, random_state=seed)
    return Scored(pool.proba, scores)


def prediction_result(schema: TaskSchema, proba_row: npt.NDArray[np.float64] | None) -> list[dict[str, Any]]:
    """Label Studio's result list for one task: the predicted choice(s), or nothing yet."""
    if proba_row is None:
        return []
    if schema.multilabel:
        choices = [label for label, p in zip(schema.labels, proba_row, strict=True) if p >= MULTILABEL_THRESHOLD]
    else:
        choices = [schema.labels[int(np.argmax(proba_row))]]
    if not choices:
        return []
    return [{
        "from_name": schema.from_name,
        "to_name": schema.to_name,
        "type": "choices",
        "value": {"choices": choices},
    }]


def predictions(schema: TaskSchema, scored: Scored, version: str) -> list[dict[str, Any]]:
    """One Label Studio prediction per row, in row order.

    Single-label rows share one result list per class (built once): a pool of 50,000 tasks
    would otherwise spend a second building identical dictionaries.
    """
    scores = [round(s, 6) for s in np.asarray(scored.scores, dtype=np.float64).tolist()]
    if scored.proba is None:
        results: list[list[dict[str, Any]]] = [[] for _ in scores]
    elif schema.multilabel:
        results = [prediction_result(schema, row) for row in scored.proba]
    else:
        one_hot = np.eye(len(schema.labels))
        by_label = [prediction_result(schema, one_hot[j]) for j in range(len(schema.labels))]
        results = [by_label[j] for j in scored.proba.argmax(axis=1).tolist()]
    return [{"result": r, "score": s, "model_version": version} for r, s in zip(results, scores, strict=True)]


def predict_tasks(
    tasks: Sequence[dict[str, Any]],
    schema: TaskSchema,
    model: TextModel | None,
    version: str,
    strategy: str,
    max_chars: int,
) -> list[dict[str, Any]]:
    texts = task_texts(tasks, schema, max_chars)
    scored = score_counts(featurize(texts), model, schema, strategy)
    return predictions(schema, scored, version)
