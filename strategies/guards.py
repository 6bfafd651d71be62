"""Guards any batch strategy can wear: exploration and class balance.

* **Exploration**: a share of each batch is drawn uniformly at random. A model that
  only asks about what it already finds uncertain can stay blind to whole regions it
  is confidently wrong about (sampling bias); random picks keep checking them.
* **Class balance**: no predicted class may fill more than ``max_share`` of a batch,
  and each *starved* class (fewer than ``min_per_class`` labels) gets one slot for the
  task most likely to belong to it, so rare classes are found early.
"""

from __future__ import annotations

import math

import numpy as np

from strategies._types import FloatArray, IntArray, Pool
from strategies.batch import Batch
from strategies.geometry import masked_argmax
from strategies.measures import clean_proba, predicted_classes

#: Share of every batch drawn at random.
EXPLORATION = 0.1
#: Labels a class needs before it stops counting as starved.
MIN_PER_CLASS = 3
#: Largest share of a batch one predicted class may take.
MAX_CLASS_SHARE = 0.5


def class_counts(pool: Pool, n_classes: int) -> IntArray | None:
    """Labels per class (per label when multi-label); ``None`` if targets are unreadable."""
    if pool.labeled_targets is None:
        return np.zeros(n_classes, dtype=np.intp)
    try:
        y = np.asarray(pool.labeled_targets).astype(np.intp)
    except (TypeError, ValueError):
        return None
    if pool.multilabel:
        if y.ndim != 2:
            return None
        counts = np.zeros(n_classes, dtype=np.intp)
        width = min(n_classes, y.shape[1])
        counts[:width] = (y[:, :width] > 0).sum(axis=0)
        return counts
    y = y.ravel()
    y = y[(y >= 0) & (y < n_classes)]
    return np.bincount(y, minlength=n_classes).astype(np.intp)


def spent_per_class(pool: Pool, per_class: int) -> bool:
    """At least ``per_class`` labels per class (one class while there is no model)."""
    return pool.n_labeled >= per_class * max(pool.n_classes, 1)


def starved_classes(pool: Pool, min_per_class: int = MIN_PER_CLASS) -> IntArray:
    """Classes with fewer than ``min_per_class`` labels, fewest first (needs a model)."""
    if pool.proba is None:
        return np.zeros(0, dtype=np.intp)
    counts = class_counts(pool, pool.n_classes)
    if counts is None:
        return np.zeros(0, dtype=np.intp)
    starved = np.flatnonzero(counts < min_per_class)
    return starved[np.argsort(counts[starved], kind="stable")].astype(np.intp)


def new_batch(pool: Pool, size: int, balance: bool, max_share: float = MAX_CLASS_SHARE) -> Batch:
    """A batch with per-predicted-class caps when ``balance`` and a model exists."""
    if not balance or pool.proba is None:
        return Batch(pool.n_samples, size)
    cap = max(1, math.ceil(max_share * min(size, pool.n_samples)))
    return Batch(pool.n_samples, size, predicted_classes(pool.proba), cap)


def reserve_starved(
    pool: Pool, batch: Batch, utility: FloatArray, min_per_class: int = MIN_PER_CLASS
) -> None:
    """One pick per starved class (up to half the batch): the likeliest member of it.

    A class the model gives no probability anywhere (never labeled yet) gets no slot:
    there is nothing to aim at, and the cold start's diversity has to find it.
    """
    if pool.proba is None:
        return
    proba = clean_proba(pool.proba)
    slots = batch.size // 2
    for c in starved_classes(pool, min_per_class)[:slots]:
        if batch.full or proba[:, c].max() <= 0:
            continue
        i = masked_argmax(proba[:, c], batch.available, utility)
        if i >= 0:
            batch.take(i, guard=True)


def explore(batch: Batch, share: float, rng: np.random.Generator) -> None:
    """Fill ``share`` of the batch with uniform random picks.

    The count is rounded at random (``share * size`` = 0.5 gives one pick half the
    time), so the long-run share is the requested one even for batches of 1.
    """
    if share <= 0:
        return
    expected = min(share, 1.0) * batch.size
    count = int(expected) + int(rng.random() < expected - int(expected))
    for _ in range(min(count, batch.remaining)):
        free = np.flatnonzero(batch.available)
        if free.size == 0:
            return
        batch.take(int(rng.choice(free)), guard=True)
