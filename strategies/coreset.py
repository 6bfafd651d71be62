"""Core-set selection: greedy k-center (Sener & Savarese, 2018) without a distance matrix.

Each pick is the available task farthest from every labeled task and every earlier
pick, which covers the pool with as few "balls" as possible. Distances to the nearest
centre live in one vector (:class:`~strategies.nearest.NearestCentre`): memory is
``O(n)``, and each pick refreshes only the rows that could be the farthest.
"""

from __future__ import annotations

import numpy as np

from strategies._types import FloatArray, Pool
from strategies.batch import Batch
from strategies.geometry import masked_argmax
from strategies.nearest import distance
from strategies.selectors import centres_so_far


def k_center(pool: Pool, utility: FloatArray, batch: Batch, rng: np.random.Generator) -> None:
    """Farthest-first picks; the first pick without any centre is the most useful task.

    The rest of the pool is then ordered by distance to the nearest centre, the same
    criterion continued (for rows no pick came near, distance to the nearest of a sample
    of the labeled rows: see :mod:`strategies.nearest`).
    """
    nearest = centres_so_far(pool, batch, rng)
    tiebreak = rng.random(pool.n_samples)
    u = np.nan_to_num(np.asarray(utility, dtype=np.float64), nan=0.0)
    while not batch.full:
        if nearest.has_centres:
            i = nearest.farthest(batch.available, distance, tiebreak)
        else:
            i = masked_argmax(u, batch.available, tiebreak)
        if i < 0:
            return
        batch.take(i)
        nearest.add(i)
    batch.tail = nearest.settle(labeled=False)
