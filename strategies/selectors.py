"""Selectors: utilities (and, for diversity, features) to an ordered batch.

Each selector fills a :class:`~strategies.batch.Batch` and respects its availability
mask, so guards compose with any of them.
"""

from __future__ import annotations

import numpy as np

from strategies._types import FloatArray, IntArray, Pool
from strategies.batch import Batch, rest_order
from strategies.nearest import NearestCentre


def top_k(pool: Pool, utility: FloatArray, batch: Batch, rng: np.random.Generator) -> None:
    """Highest utility first; equal utilities in random order (no index bias)."""
    while not batch.full:
        before = len(batch.picks)
        for i in rest_order(utility, batch.taken, rng):
            if batch.full:
                return
            if batch.available[i]:
                batch.take(int(i))
        if len(batch.picks) == before:  # nothing was takeable: cannot happen, but never spin
            return


def centres_so_far(pool: Pool, batch: Batch, rng: np.random.Generator) -> NearestCentre:
    """Nearest-centre distances to the labeled rows and to the batch's picks so far."""
    nearest = NearestCentre(pool.features, pool.labeled_features, rng)
    for i in batch.picks:
        nearest.add(i)
    return nearest


def ranked_batch(pool: Pool, utility: FloatArray, batch: Batch, rng: np.random.Generator) -> None:
    """Ranked batch mode (Cardoso et al., 2017): ``alpha * (1 - similarity) + (1 - alpha) * u``.

    Similarity is ``1 / (1 + d)`` to the nearest labeled or already chosen task, and
    ``alpha = |pool| / (|pool| + |labeled|)``: diversity dominates while labels are few,
    uncertainty takes over as they accumulate.
    """
    n_labeled = 0 if pool.labeled_features is None else int(pool.labeled_features.shape[0])
    alpha = pool.n_samples / (pool.n_samples + n_labeled)
    u = np.nan_to_num(np.asarray(utility, dtype=np.float64), nan=0.0)

    def criterion(d2: FloatArray, rows: IntArray) -> FloatArray:
        return alpha * (1.0 - 1.0 / (1.0 + np.sqrt(d2))) + (1.0 - alpha) * u[rows]

    nearest = centres_so_far(pool, batch, rng)
    tiebreak = rng.random(pool.n_samples)
    while not batch.full:
        i = nearest.farthest(batch.available, criterion, tiebreak)
        if i < 0:
            return
        batch.take(i)
        nearest.add(i)
    batch.tail = criterion(nearest.settle(labeled=False), np.arange(pool.n_samples))
