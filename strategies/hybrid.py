"""Uncertainty and diversity together.

* :func:`cluster_best`: cluster the most uncertain candidates and take the most
  uncertain task of each cluster, so a batch does not spend ten labels on ten
  near-copies of one confusing question.
* :func:`badge`: BADGE (Ash et al., 2020): k-means++ seeding in the space of the
  last layer's gradient embeddings. For a linear model the embedding of task ``x``
  is ``a ⊗ [x, 1]`` with ``a = p - onehot(argmax p)``, so inner products factor as
  ``(a_i · a_j)([x_i, 1] · [x_j, 1])`` and the embedding (classes x 2^18 floats per
  task for hashed text) is never built.
"""

from __future__ import annotations

import numpy as np

from strategies._types import FloatArray, IntArray, Pool
from strategies.batch import Batch, Selector, rest_order
from strategies.clusters import kmeans
from strategies.geometry import as_rows, compact_columns, masked_argmax, unit_rows
from strategies.measures import distribution
from strategies.nearest import NearestCentre
from strategies.selectors import top_k


def _clusters(pool: Pool, rows: IntArray, k: int, rng: np.random.Generator) -> IntArray:
    x = unit_rows(compact_columns(as_rows(pool.features)[rows]))
    return np.asarray(kmeans(x, k, rng, max_iter=50).labels_, dtype=np.intp)


def cluster_best(factor: int = 10) -> Selector:
    """A selector: k-means over the ``factor * batch`` most useful available tasks."""

    def select(pool: Pool, utility: FloatArray, batch: Batch, rng: np.random.Generator) -> None:
        k = batch.remaining
        ranked = rest_order(utility, ~batch.available, rng)
        candidates = ranked[: factor * k]
        if k > 1 and candidates.size > k:
            labels = _clusters(pool, candidates, k, rng)
            best_first = {int(c): candidates[labels == c] for c in dict.fromkeys(labels.tolist())}
            for members in best_first.values():  # clusters in order of their best member
                free = members[batch.available[members]]
                if batch.full:
                    break
                if free.size:
                    batch.take(int(free[0]))
        top_k(pool, utility, batch, rng)

    return select


def _gradient_factors(pool: Pool) -> FloatArray:
    """``a = p - onehot(prediction)`` per task: the class part of the gradient embedding."""
    if pool.proba is None:
        return np.zeros((pool.n_samples, 1))
    if pool.multilabel:
        p = np.clip(np.nan_to_num(np.asarray(pool.proba, dtype=np.float64)), 0.0, 1.0)
        return p - (p > 0.5)
    p = distribution(pool.proba)
    a = p.copy()
    a[np.arange(len(p)), np.argmax(p, axis=1)] -= 1.0
    return a


def badge(pool: Pool, utility: FloatArray, batch: Batch, rng: np.random.Generator) -> None:
    """k-means++ seeding on gradient embeddings: large gradients, spread out."""
    a = _gradient_factors(pool)
    space = NearestCentre(pool.features)
    g_sq = np.einsum("ij,ij->i", a, a) * (space.sq + 1.0)
    dist2 = np.full(pool.n_samples, np.inf)

    def add(c: int) -> None:
        d2 = g_sq + g_sq[c] - 2.0 * (a @ a[c]) * (space.dots(c) + 1.0)
        np.minimum(dist2, np.maximum(d2, 0.0), out=dist2)

    for i in batch.picks:
        add(i)
    while not batch.full:
        if np.isinf(dist2).all():
            i = masked_argmax(g_sq, batch.available, rng.random(pool.n_samples))
        else:
            free = np.flatnonzero(batch.available)
            weight = dist2[free]
            if not np.isfinite(weight).all() or weight.sum() <= 0:
                break
            i = int(free[rng.choice(free.size, p=weight / weight.sum())])
        if i < 0:
            break
        batch.take(i)
        add(i)
    top_k(pool, utility, batch, rng)
