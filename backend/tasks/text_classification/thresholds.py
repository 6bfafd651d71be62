"""Which labels a multi-label prediction pre-selects: per-label thresholds chosen out of fold.

A one-vs-rest logistic regression trained on a handful of positives per label puts almost
every probability below 0.5, so a fixed 0.5 pre-selects nothing for most tasks early on
(383 of 388 tasks at 12 labels on one project). The probabilities still rank the tasks
well; what is off is where to cut. So at train time the labeled set is split into folds,
each fold is predicted by a model trained on the others, and each label gets the cut that
maximizes its own F1 on those out-of-fold probabilities. A label with too few positives
keeps the fixed threshold. Where no label passes its cut, the most probable label is still
pre-selected when that is likely enough, again judged out of fold: the floor above which
adding it raised the tasks' F1 (``None`` when it never did, say where most tasks have no label).

Pure numpy: the caller hands in the out-of-fold probabilities (see :func:`fold_indices`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from backend import defaults

#: Trains on the first rows and returns probabilities (one column per label) for the second.
FitPredict = Callable[[npt.NDArray[np.intp], npt.NDArray[np.intp]], npt.NDArray[np.float64]]


@dataclass(frozen=True)
class Thresholds:
    """A model's pre-selection rule: a cut per label (config order) and the top-label floor."""

    per_label: tuple[float, ...]
    #: Where no label passes its cut, the top label is pre-selected at this probability or more.
    top_floor: float | None = None

    def to_dict(self) -> dict[str, object]:
        return {"per_label": list(self.per_label), "top_floor": self.top_floor}


def chosen(proba: npt.NDArray[np.float64], thresholds: Thresholds | None) -> npt.NDArray[np.bool_]:
    """Which labels each row pre-selects; without thresholds (an older model) the fixed 0.5 rule."""
    proba = np.atleast_2d(np.asarray(proba, dtype=np.float64))
    if thresholds is None:
        return proba >= defaults.MULTILABEL_THRESHOLD
    picked = proba >= np.asarray(thresholds.per_label, dtype=np.float64)
    if thresholds.top_floor is not None and proba.shape[1]:
        top = proba.argmax(axis=1)
        empty = ~picked.any(axis=1) & (proba[np.arange(len(proba)), top] >= thresholds.top_floor)
        picked[np.flatnonzero(empty), top[empty]] = True
    return picked


def fold_indices(n: int, seed: int = 0) -> list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]]:
    """Shuffled folds over ``n`` rows (at most :data:`~backend.defaults.MULTILABEL_FOLDS`); empty
    when there are too few rows to hold any out."""
    folds = min(defaults.MULTILABEL_FOLDS, n)
    if folds < 2:
        return []
    order = np.random.default_rng(seed).permutation(n)
    parts = np.array_split(order, folds)
    return [(np.sort(np.concatenate(parts[:i] + parts[i + 1:])).astype(np.intp), np.sort(part).astype(np.intp))
            for i, part in enumerate(parts)]


def out_of_fold(fit_predict: FitPredict, n: int, n_labels: int, seed: int = 0) -> npt.NDArray[np.float64] | None:
    """Every row's probabilities from a model that did not see it; None with too few rows."""
    splits = fold_indices(n, seed)
    if not splits:
        return None
    oof = np.zeros((n, n_labels))
    for train, test in splits:
        oof[test] = np.asarray(fit_predict(train, test), dtype=np.float64)[:, :n_labels]
    return oof


def _cut(scores: npt.NDArray[np.float64], gains: npt.NDArray[np.float64]) -> tuple[float, float] | None:
    """The cut (between two distinct scores) that maximizes the summed ``gains`` of the rows at or
    above it, and that sum; the highest such cut on ties. None without rows."""
    if scores.size == 0:
        return None
    order = np.argsort(-scores, kind="stable")
    s, total = scores[order], np.cumsum(gains[order])
    # a cut can only fall between distinct scores: the last row of each run of equal ones
    ends = np.flatnonzero(np.r_[s[:-1] > s[1:], True])
    best = ends[int(np.argmax(total[ends]))]
    below = s[best + 1] if best + 1 < s.size else 0.0
    return float((s[best] + below) / 2.0), float(total[best])


def label_threshold(y: npt.NDArray[np.int_], p: npt.NDArray[np.float64]) -> float:
    """The cut maximizing this label's F1 on out-of-fold ``p``; the fixed threshold when the
    label has fewer than :data:`~backend.defaults.MULTILABEL_MIN_POSITIVES` positives (too few
    to place a cut) or no negatives."""
    y = np.asarray(y).astype(bool)
    positives = int(y.sum())
    if positives < defaults.MULTILABEL_MIN_POSITIVES or positives == y.size:
        return defaults.MULTILABEL_THRESHOLD
    order = np.argsort(-p, kind="stable")
    s, tp = p[order], np.cumsum(y[order])
    ends = np.flatnonzero(np.r_[s[:-1] > s[1:], True])
    f1 = 2.0 * tp[ends] / (ends + 1 + positives)
    best = ends[int(np.argmax(f1))]
    below = s[best + 1] if best + 1 < s.size else 0.0
    low, high = defaults.MULTILABEL_THRESHOLD_RANGE
    return float(np.clip((s[best] + below) / 2.0, low, high))


def top_floor(targets: npt.NDArray[np.int_], oof: npt.NDArray[np.float64],
              cuts: npt.NDArray[np.float64]) -> float | None:
    """The top-label floor, judged on the rows where no label passes its cut.

    Adding the top label changes a row's F1 (its predicted set against its true set, 1 for
    two empty sets) by ``2/(1+|true|)`` when right, 0 when wrong but the row has labels, and
    -1 when the row has none: the floor keeps the rows above it whose sum of changes is
    largest, and is None when no floor gains anything.
    """
    empty = ~(oof >= cuts).any(axis=1)
    if not empty.any():
        return None
    rows = np.flatnonzero(empty)
    top = oof[rows].argmax(axis=1)
    truth = np.asarray(targets)[rows].astype(bool)
    sizes = truth.sum(axis=1)
    gains = np.where(sizes == 0, -1.0, 2.0 * truth[np.arange(rows.size), top] / (1.0 + sizes))
    found = _cut(oof[rows, top], gains)
    if found is None or found[1] <= 0:
        return None
    return float(max(found[0], defaults.MULTILABEL_THRESHOLD_RANGE[0]))


def fit_thresholds(targets: npt.NDArray[np.int_], fit_predict: FitPredict, seed: int = 0) -> Thresholds | None:
    """Out-of-fold thresholds for a 0/1 target matrix; None below
    :data:`~backend.defaults.MULTILABEL_MIN_ROWS` rows. Above
    :data:`~backend.defaults.MULTILABEL_FOLD_ROWS` rows the folds cover a random subset of them."""
    y = np.asarray(targets)
    if y.ndim != 2 or y.shape[0] < defaults.MULTILABEL_MIN_ROWS:
        return None
    rows = np.arange(y.shape[0], dtype=np.intp)
    if rows.size > defaults.MULTILABEL_FOLD_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, defaults.MULTILABEL_FOLD_ROWS, replace=False))
        y = y[rows]

    def on_subset(train: npt.NDArray[np.intp], test: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
        return fit_predict(rows[train], rows[test])

    oof = out_of_fold(on_subset, y.shape[0], y.shape[1], seed)
    if oof is None:
        return None
    cuts = np.array([label_threshold(y[:, j], oof[:, j]) for j in range(y.shape[1])])
    return Thresholds(tuple(float(c) for c in cuts), top_floor(y, oof, cuts))
