"""Core-set selection: greedy k-center (Sener & Savarese, 2018) without a distance matrix.

Each pick is the available task farthest from every labeled task and every earlier
pick, which covers the pool with as few "balls" as possible. Distances to the nearest
centre are kept in one vector and updated with one matrix-vector product per pick
(:class:`~strategies.geometry.NearestCentre`), so a batch of ``b`` from ``n`` rows
costs ``O(b * nnz)`` time and ``O(n)`` memory, dense or sparse.
"""

from __future__ import annotations

import numpy as np

from strategies._types import FloatArray, Pool
from strategies.batch import Batch
from strategies.geometry import masked_argmax
from strategies.selectors import centres_so_far


def k_center(pool: Pool, utility: FloatArray, batch: Batch, rng: np.random.Generator) -> None:
    """Farthest-first picks; the first pick without any centre is the most useful task.

    The rest of the pool is then ordered by distance to the nearest centre, the same
    criterion continued.
    """
    nearest = centres_so_far(pool, batch, rng)
    tiebreak = rng.random(pool.n_samples)
    u = np.nan_to_num(np.asarray(utility, dtype=np.float64), nan=0.0)
    while not batch.full:
        no_centre = bool(np.isinf(nearest.dist2).all())
        i = masked_argmax(u if no_centre else nearest.dist2, batch.available, tiebreak)
        if i < 0:
            return
        batch.take(i)
        nearest.add(i)
    batch.tail = nearest.dist2
