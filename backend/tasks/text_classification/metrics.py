"""How good is a model version, measured honestly on the labels it was trained with.

Every labeled task gets an out-of-fold prediction: stratified cross-validation trains the
service's own model (:func:`backend.tasks.text_classification.model.train_model`) on the other folds, so no task is
scored by a model that saw its label. The same out-of-fold probabilities feed the
"labels to doubt" step (:mod:`backend.tasks.text_classification.doubt`). Below a minimum, the result says "not
enough labels" instead of printing a number that means nothing.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    hamming_loss,
    precision_recall_fscore_support,
)
from sklearn.model_selection import KFold, StratifiedKFold
from threadpoolctl import threadpool_limits

from backend.tasks.text_classification.model import train_model
from backend.tasks.text_classification.thresholds import chosen

#: Fewer labels than this and cross-validated figures are noise, so none are reported.
MIN_LABELS = 10
#: A class counts towards "enough labels" once it has this many examples (one to train, one to test).
MIN_PER_CLASS = 2
#: Folds of the cross-validation; fewer only when the largest class is smaller than this.
MAX_SPLITS = 5
#: Equal-width confidence bins of the expected calibration error.
ECE_BINS = 10
OK = "ok"
NOT_ENOUGH = "not_enough_labels"


@dataclass
class Evaluation:
    """Cross-validated metrics of one version (``metrics``, JSON-ready) and its ``oof_proba``.

    ``oof_proba`` has one row per labeled task and one column per label in config order;
    it is ``None`` when there were not enough labels to cross-validate. ``oof_picked``
    (multi-label) holds the labels each fold's model pre-selects, which the figures count.
    """

    metrics: dict[str, Any]
    oof_proba: npt.NDArray[np.float64] | None = field(default=None, repr=False)
    oof_picked: npt.NDArray[np.bool_] | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return bool(self.metrics.get("status") == OK)

    def to_dict(self) -> dict[str, Any]:
        """What is stored as ``metrics.json`` beside the model artifact."""
        return dict(self.metrics)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evaluation:
        """A stored ``metrics.json`` back (without the out-of-fold probabilities)."""
        return cls(dict(data))


def evaluate(
    counts: sp.spmatrix,
    targets: Sequence[int] | npt.NDArray[Any],
    labels: Sequence[str],
    multilabel: bool = False,
    random_state: int = 0,
    options: Mapping[str, Any] | None = None,
) -> Evaluation:
    """Cross-validate the service's model on ``counts`` (hashed, from ``featurize``).

    ``targets`` are label indices into ``labels`` or, when ``multilabel``, a 0/1 matrix
    with one column per label. ``options`` are :func:`~.model.train_model`'s settings (the
    project's learner, C, class weights), so the figures are those of the model it serves.
    BLAS threads are limited to one during the folds: on a busy two-core machine that made
    each fit about three times faster.
    """
    started = time.perf_counter()
    y = np.asarray(targets).astype(int)
    if multilabel and y.size == 0:  # no labels yet: an empty list is a 0 x labels matrix
        y = y.reshape(0, len(labels))
    _check_shapes(counts, y, labels, multilabel)
    base: dict[str, Any] = {
        "multilabel": bool(multilabel),
        "labels": [str(x) for x in labels],
        "n_labels": int(y.shape[0]),
        "label_counts": _label_counts(y, labels, multilabel),
    }
    reason = not_enough_reason(y, labels, multilabel)
    if reason:
        return Evaluation({**base, "status": NOT_ENOUGH, "reason": reason,
                           "accuracy": None, "macro_f1": None})
    keys = _stratification_keys(y, multilabel)
    n_splits = max(2, min(MAX_SPLITS, int(np.bincount(keys).max())))
    with threadpool_limits(limits=1):
        proba, picked = _oof_proba(counts, y, labels, multilabel, keys, n_splits, random_state, options or {})
    scores = multilabel_metrics(y, proba, labels, picked) if multilabel else single_label_metrics(
        y, proba, labels)
    metrics = {**base, "status": OK, "reason": None, "n_splits": n_splits,
               "random_state": random_state, **scores,
               "seconds": round(time.perf_counter() - started, 3)}
    return Evaluation(metrics, proba, picked)


def not_enough_reason(y: npt.NDArray[Any], labels: Sequence[str], multilabel: bool) -> str | None:
    """Why the labels cannot be cross-validated yet, or ``None`` when they can."""
    n = int(y.shape[0])
    if n < MIN_LABELS:
        return f"{n} labeled tasks so far; metrics need at least {MIN_LABELS}."
    if multilabel:
        pos = y.sum(axis=0)
        if not ((pos >= MIN_PER_CLASS) & (n - pos >= MIN_PER_CLASS)).any():
            return (f"no label is both given and not given on at least {MIN_PER_CLASS} tasks "
                    "yet; label tasks with and without each choice.")
        return None
    counts = np.bincount(y, minlength=len(labels))
    if int((counts >= MIN_PER_CLASS).sum()) < 2:
        return (f"metrics need at least two classes with {MIN_PER_CLASS} or more labels each; "
                "so far: " + _describe_counts(counts, labels) + ".")
    return None


def single_label_metrics(
    y: npt.NDArray[Any], proba: npt.NDArray[np.float64], labels: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, macro-F1 over classes with labels, per-class table, confusion, calibration."""
    pred = proba.argmax(axis=1)
    everything = list(range(len(labels)))
    present = [int(c) for c in np.unique(y)]
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=everything, zero_division=0)
    predicted = np.bincount(pred, minlength=len(labels))
    confidence = proba.max(axis=1)
    return {
        "accuracy": float(accuracy_score(y, pred)),
        "macro_f1": float(f1_score(y, pred, labels=present, average="macro", zero_division=0)),
        "weighted_f1": float(f1_score(y, pred, labels=present, average="weighted",
                                      zero_division=0)),
        "per_class": _per_class(labels, p, r, f, s, predicted),
        "confusion_matrix": confusion_matrix(y, pred, labels=everything).tolist(),
        "calibration": calibration(confidence, pred == y),
    }


def multilabel_metrics(
    y: npt.NDArray[Any], proba: npt.NDArray[np.float64], labels: Sequence[str],
    picked: npt.NDArray[np.bool_] | None = None,
) -> dict[str, Any]:
    """Subset accuracy, Hamming loss, micro/macro F1, per-label table, calibration.

    A label applies as the model pre-selects it: ``picked`` (each fold's model deciding with
    thresholds it chose on its own training rows, :mod:`.thresholds`), else when its
    probability is at least 0.5. Macro-F1 averages over labels given at least once, so a
    choice nobody used yet does not count as a failure. Calibration pools every
    (task, label) yes/no probability.
    """
    pred = (proba >= 0.5 if picked is None else picked).astype(int)
    everything = list(range(len(labels)))
    present = [int(j) for j in np.flatnonzero(y.sum(axis=0) > 0)]
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=everything, zero_division=0)
    subset = float(accuracy_score(y, pred))
    confidence = np.maximum(proba, 1.0 - proba).ravel()
    return {
        "accuracy": subset,
        "subset_accuracy": subset,
        "hamming_loss": float(hamming_loss(y, pred)),
        "micro_f1": float(f1_score(y, pred, average="micro", zero_division=0)),
        "macro_f1": float(f1_score(y, pred, labels=present, average="macro", zero_division=0)),
        "per_class": _per_class(labels, p, r, f, s, pred.sum(axis=0)),
        "confusion_matrix": None,
        "calibration": calibration(confidence, (pred == y).ravel()),
    }


def calibration(
    confidence: npt.NDArray[np.float64], correct: npt.NDArray[np.bool_], n_bins: int = ECE_BINS
) -> dict[str, Any]:
    """Expected calibration error over equal-width bins of confidence, and the bins.

    ECE = sum over bins of (share of predictions in the bin) x |accuracy - mean confidence|.
    A well-calibrated model's "90% sure" is right nine times in ten.
    """
    conf = np.asarray(confidence, dtype=np.float64)
    hit = np.asarray(correct, dtype=np.float64)
    which = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    bins: list[dict[str, Any]] = []
    ece = 0.0
    for b in range(n_bins):
        mask = which == b
        count = int(mask.sum())
        mean_conf = float(conf[mask].mean()) if count else None
        acc = float(hit[mask].mean()) if count else None
        if count and mean_conf is not None and acc is not None:
            ece += count / len(conf) * abs(acc - mean_conf)
        bins.append({"lower": b / n_bins, "upper": (b + 1) / n_bins, "count": count,
                     "confidence": mean_conf, "accuracy": acc})
    return {"ece": float(ece), "bins": bins}


def _check_shapes(
    counts: sp.spmatrix, y: npt.NDArray[Any], labels: Sequence[str], multilabel: bool
) -> None:
    if counts.shape[0] != y.shape[0]:
        raise ValueError(f"counts has {counts.shape[0]} rows but targets has {y.shape[0]}; "
                         "pass one target per labeled text")
    if multilabel and (y.ndim != 2 or y.shape[1] != len(labels)):
        raise ValueError(f"multi-label targets must be a 0/1 matrix with {len(labels)} columns "
                         f"(one per label); got shape {y.shape}")
    if not multilabel and (y.ndim != 1 or (y.size and not 0 <= y.min() <= y.max() < len(labels))):
        raise ValueError(f"targets must be label indices in 0..{len(labels) - 1}; "
                         f"got shape {y.shape}")


def _label_counts(y: npt.NDArray[Any], labels: Sequence[str], multilabel: bool) -> dict[str, int]:
    if multilabel:
        counts = y.sum(axis=0) if y.size else np.zeros(len(labels), dtype=int)
    else:
        counts = np.bincount(y, minlength=len(labels))
    return {str(name): int(c) for name, c in zip(labels, counts, strict=True)}


def _describe_counts(counts: npt.NDArray[Any], labels: Sequence[str]) -> str:
    parts = [f"{name}: {int(c)}" for name, c in zip(labels, counts, strict=True) if c]
    return ", ".join(parts) or "no labels"


def _stratification_keys(y: npt.NDArray[Any], multilabel: bool) -> npt.NDArray[np.intp]:
    """Single-label: the class. Multi-label: the row's rarest given label (last key = none),
    so rare labels spread over the folds instead of landing in one."""
    if not multilabel:
        return np.asarray(y, dtype=np.intp)
    freq = y.sum(axis=0).astype(float)
    rarity = np.where(y > 0, freq[None, :], np.inf)
    keys = np.where(np.isfinite(rarity.min(axis=1)), rarity.argmin(axis=1), y.shape[1])
    return np.asarray(keys, dtype=np.intp)


def _oof_proba(
    counts: sp.spmatrix,
    y: npt.NDArray[Any],
    labels: Sequence[str],
    multilabel: bool,
    keys: npt.NDArray[np.intp],
    n_splits: int,
    random_state: int,
    options: Mapping[str, Any],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_] | None]:
    """Each row's probabilities from the model trained on the other folds, and (multi-label)
    the labels that model pre-selects.

    Why the folds follow the largest class, not the smallest: a class with c >= 2 examples
    keeps c - 1 of them in training whatever the number of folds, so fewer folds would only
    shrink every other class's training set.
    """
    x = sp.csr_matrix(counts)
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    if np.bincount(keys).max() < n_splits:  # multi-label rows whose rarest labels are all unique
        splitter = KFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    proba = np.zeros((x.shape[0], len(labels)))
    picked = np.zeros(proba.shape, dtype=bool) if multilabel else None
    with warnings.catch_warnings():
        # rare classes below n_splits members, and one-vs-rest labels constant in a fold,
        # are expected with few labels and handled by the model
        warnings.simplefilter("ignore", UserWarning)
        for train, test in splitter.split(np.zeros(len(keys)), keys):
            model = train_model(x[train], y[train], labels, multilabel, choose_thresholds=multilabel, **options)
            proba[test] = model.predict_proba(x[test])
            if picked is not None:
                picked[test] = chosen(proba[test], model.thresholds)
    return proba, picked


def _per_class(
    labels: Sequence[str],
    precision: npt.NDArray[Any],
    recall: npt.NDArray[Any],
    f1: npt.NDArray[Any],
    support: npt.NDArray[Any],
    predicted: npt.NDArray[Any],
) -> list[dict[str, Any]]:
    return [
        {"label": str(name), "precision": float(p), "recall": float(r), "f1": float(f),
         "support": int(s), "predicted": int(n)}
        for name, p, r, f, s, n in zip(labels, precision, recall, f1, support, predicted,
                                       strict=True)
    ]
