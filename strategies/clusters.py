"""k-means as the strategies use it: seeded from the strategy's generator, one thread,
no convergence warnings, and on hashed text only the columns the rows actually use.

Cold start, information density and clustered uncertainty all cluster pool rows; a
2^18-column centre for hashed text would be a dense 2 MB row, while the few thousand
columns a sample uses give the same distances at a fraction of the cost.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.exceptions import ConvergenceWarning

from strategies._threads import one_thread
from strategies._types import FloatArray, IntArray, child_seed


def kmeans(
    x: Any,
    k: int,
    rng: np.random.Generator,
    *,
    max_iter: int = 100,
    minibatch: bool = False,
    sample_weight: FloatArray | None = None,
) -> Any:
    """A fitted k-means (k-means++ seeding, one initialisation) of the rows of ``x``."""
    seed = child_seed(rng)
    model: Any = (
        MiniBatchKMeans(n_clusters=k, n_init=1, max_iter=max_iter, random_state=seed, batch_size=1024)
        if minibatch
        else KMeans(n_clusters=k, n_init=1, max_iter=max_iter, random_state=seed)
    )
    with warnings.catch_warnings(), one_thread():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(x, sample_weight=sample_weight)


def fit_centres(
    x: Any, k: int, rng: np.random.Generator, sample: int, *, minibatch: bool = False
) -> tuple[FloatArray, slice | IntArray]:
    """Up to ``k`` centres fitted on at most ``sample`` rows, and the columns they live on."""
    n = x.shape[0]
    rows = x[np.sort(rng.choice(n, sample, replace=False))] if n > sample else x
    cols: slice | IntArray = slice(None)
    if sp.issparse(rows):
        used = np.unique(rows.indices)
        if used.size:
            cols, rows = used, sp.csr_matrix(rows[:, used])
    model = kmeans(rows, min(k, rows.shape[0]), rng, minibatch=minibatch)
    return np.asarray(model.cluster_centers_, dtype=np.float64), cols
