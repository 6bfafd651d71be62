"""Cold start: what to ask before the model can tell classes apart.

Without probabilities, the first labels are best spent on *typical* tasks: ones that
resemble many others, so each label teaches the model about a large part of the pool.
Typicality here is the cosine similarity of a task to the pool's mean direction. A
batch also needs *diverse* tasks, so :func:`typical_diverse` trades typicality against
distance to what is labeled or already chosen. The cold start lasts until every class
has a few labels (or a model exists and enough labels were spent trying).
"""

from __future__ import annotations

import numpy as np

from strategies._types import Features, FloatArray, IntArray, Pool
from strategies.batch import Batch
from strategies.geometry import as_rows, compact_columns, masked_argmax, products, unit_rows
from strategies.guards import MIN_PER_CLASS, class_counts
from strategies.scores import score_from_utility
from strategies.selectors import centres_so_far

#: The cold start ends after this many labels per class even if a class is still
#: starved (a class in the label config may not occur in the data at all).
WARM_UP_LABELS_PER_CLASS = 10


def typicality(features: Features) -> FloatArray:
    """Cosine similarity to the pool centroid, scaled to [0, 1] (1 = most typical)."""
    n = features.shape[0]
    if n == 0:
        return np.zeros(0)
    # only the columns the pool uses matter: a dense centroid of 2^18 hashed columns is slow
    unit = compact_columns(unit_rows(as_rows(features)))
    centroid = np.asarray(unit.mean(axis=0), dtype=np.float64).reshape(1, -1)
    c_norm = float(np.linalg.norm(centroid))
    if c_norm == 0:
        return np.zeros(n)
    return np.clip(products(unit, (centroid / c_norm).astype(unit.dtype)).ravel(), 0.0, 1.0)


def cold_start_scores(pool: Pool) -> FloatArray:
    """Typical tasks first: the per-task order used before any model exists."""
    return score_from_utility(typicality(pool.features))


def needs_cold_start(
    pool: Pool,
    min_per_class: int = MIN_PER_CLASS,
    labels_per_class: int = WARM_UP_LABELS_PER_CLASS,
) -> bool:
    """No model yet, or some class has fewer than ``min_per_class`` labels (early on)."""
    if pool.proba is None:
        return True
    n_classes = int(np.shape(pool.proba)[1])
    counts = class_counts(pool, n_classes)
    if counts is None or pool.n_labeled >= labels_per_class * n_classes:
        return False
    return bool((counts < min_per_class).any())


def typical_diverse(pool: Pool, utility: FloatArray, batch: Batch, rng: np.random.Generator) -> None:
    """Greedy ``typicality * distance to the nearest labeled or chosen task``.

    ``utility`` is the typicality. The first pick (nothing labeled) is the most typical
    task; each later one is typical *and* far from everything chosen, so a batch covers
    the pool's main groups instead of ten paraphrases of its commonest question.
    """
    t = np.nan_to_num(np.asarray(utility, dtype=np.float64), nan=0.0)

    def criterion(d2: FloatArray, rows: IntArray) -> FloatArray:
        return t[rows] * np.sqrt(d2)

    nearest = centres_so_far(pool, batch, rng)
    tiebreak = rng.random(pool.n_samples)
    while not batch.full:
        if nearest.has_centres:
            i = nearest.farthest(batch.available, criterion, tiebreak)
        else:
            i = masked_argmax(t, batch.available, tiebreak)
        if i < 0:
            return
        batch.take(i)
        nearest.add(i)
    batch.tail = criterion(nearest.settle(), np.arange(pool.n_samples)) if nearest.has_centres else t
