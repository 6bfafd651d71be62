"""Cold start: what to ask before the model can tell classes apart.

Without probabilities the first labels are best spent on tasks that *represent* the
pool: each should stand for a large group of others, and together they should cover
the pool's groups rather than ten paraphrases of its commonest question. Here the pool
is split by k-means (k-means++ seeding, fitted on a sample when the pool is large) and
the order is round-robin over the clusters: the task nearest each centre, biggest
cluster first, then the second nearest of each, and so on. Clusters that already hold
labeled tasks wait their turn (a cluster with two labels starts at the third round), so
the same order serves the first batch and the warm-up batches after it.

An earlier version ranked by similarity to the pool's mean direction ("typicality"):
on standardized numeric columns that is meaningless, and on text it picked the
commonest question ten times. Its first batches taught the model less than a random
batch on four of the five benchmark data sets; this order does better than random.

Once a model exists, the warm-up guard keeps a share of each batch for this order while
some class has fewer than a few labels: the share of classes still starved. It gives up
after ``WARM_UP_LABELS_PER_CLASS`` labels per class, since a class in the label config may
not occur in the data at all.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from strategies._types import Features, FloatArray, IntArray, Pool
from strategies.batch import Batch
from strategies.clusters import fit_centres
from strategies.geometry import as_rows, like, nearest_sq_dist, row_sq_norms
from strategies.guards import MIN_PER_CLASS, class_counts, spent_per_class
from strategies.scores import score_from_order

#: The cold start ends after this many labels per class even if a class is still starved.
WARM_UP_LABELS_PER_CLASS = 10
#: Rows k-means is fitted on; the rest of the pool is only assigned to the centres.
FIT_SAMPLE = 4000
#: Most clusters: beyond a few hundred the order is round-robin over near-singletons.
MAX_CLUSTERS = 256


def _assign(rows: Any, centres: FloatArray, cols: slice | IntArray) -> tuple[IntArray, FloatArray]:
    """Nearest centre and squared distance to it, for rows in the pool's representation."""
    if sp.issparse(rows) and not isinstance(cols, slice):
        rows = sp.csr_matrix(rows[:, cols])
    c = like(centres, rows)
    return nearest_sq_dist(rows, row_sq_norms(rows), c)


def representative_order(
    features: Features,
    n_clusters: int,
    rng: np.random.Generator,
    labeled_features: Features | None = None,
) -> IntArray:
    """Every row, in round-robin order over ``n_clusters`` k-means clusters.

    Within a cluster, rows come nearest-to-centre first; within a round, the biggest
    cluster first. A cluster's labeled rows count as rounds it has already had.
    """
    n = int(features.shape[0])
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    k = max(1, min(n_clusters, n, MAX_CLUSTERS))
    rows = as_rows(features)
    centres, cols = fit_centres(rows, k, rng, FIT_SAMPLE)
    cluster, d2 = _assign(rows, centres, cols)
    sizes = np.bincount(cluster, minlength=len(centres))
    head_start: IntArray = np.zeros(len(centres), dtype=np.intp)
    if labeled_features is not None and labeled_features.shape[0] > 0:
        head_start = np.bincount(_assign(like(labeled_features, rows), centres, cols)[0], minlength=len(centres))
    by_place = np.lexsort((d2, cluster))  # rows grouped by cluster, nearest first
    place = np.empty(n, dtype=np.intp)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    place[by_place] = np.arange(n) - np.repeat(starts, sizes)
    rounds = place + head_start[cluster]
    return np.lexsort((rng.random(n), d2, -sizes[cluster], rounds)).astype(np.intp)


def cold_start_scores(pool: Pool, batch_size: int = 10, rng: np.random.Generator | None = None) -> FloatArray:
    """The cold-start order as scores (lower = label first)."""
    order = representative_order(pool.features, _clusters_for(pool, batch_size),
                                 rng or np.random.default_rng(0), pool.labeled_features)
    return score_from_order(order, pool.n_samples)


def _clusters_for(pool: Pool, batch_size: int) -> int:
    """One new cluster per slot of the batch, beside one per labeled task."""
    return batch_size + pool.n_labeled


def _starved(pool: Pool, min_per_class: int, labels_per_class: int) -> tuple[int, int]:
    """(classes still under ``min_per_class`` labels, classes): all of one class without a
    model, none once ``labels_per_class`` labels per class were spent or targets are unreadable."""
    if pool.proba is None:
        return 1, 1
    counts = class_counts(pool, pool.n_classes)
    n_classes = max(pool.n_classes, 1)
    if counts is None or spent_per_class(pool, labels_per_class):
        return 0, n_classes
    return int((counts < min_per_class).sum()), n_classes


def needs_cold_start(
    pool: Pool,
    min_per_class: int = MIN_PER_CLASS,
    labels_per_class: int = WARM_UP_LABELS_PER_CLASS,
) -> bool:
    """No model yet, or some class has fewer than ``min_per_class`` labels (early on)."""
    return _starved(pool, min_per_class, labels_per_class)[0] > 0


def warm_up_picks(pool: Pool, size: int, min_per_class: int = MIN_PER_CLASS) -> int:
    """How many of a batch of ``size`` go to representative tasks while classes are starved.

    The share is that of the classes still under ``min_per_class`` labels: with one class
    of ten missing, one pick in ten keeps exploring the pool's groups for it and the rest
    follow the model. (Spending whole batches on the cold start until the last class shows
    up cost up to 300 labels on the benchmark's synthetic set.)
    """
    starved, n_classes = _starved(pool, min_per_class, WARM_UP_LABELS_PER_CLASS)
    return -(-size * starved // n_classes)


def representative(
    pool: Pool, utility: FloatArray, batch: Batch, rng: np.random.Generator, count: int | None = None
) -> None:
    """A selector: ``count`` picks (all that are left by default) in :func:`representative_order`.

    ``utility`` is unused. When it fills the batch, the rest of the pool keeps the same
    order (``batch.tail``), so an annotator who labels past the batch before the next
    model still gets representative tasks.
    """
    if count is not None and count <= 0:
        return
    order = representative_order(pool.features, _clusters_for(pool, batch.size), rng, pool.labeled_features)
    stop = len(batch.picks) + (batch.remaining if count is None else min(count, batch.remaining))
    for i in order:
        if len(batch.picks) >= stop:
            break
        if batch.available[i]:
            batch.take(int(i))
    if batch.full and count is None:
        tail = np.empty(pool.n_samples)
        tail[order] = np.arange(pool.n_samples, 0, -1, dtype=np.float64)
        batch.tail = tail
