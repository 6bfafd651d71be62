"""Uncertainty and diversity together.

* :func:`cluster_best`: cluster the most uncertain candidates and take the most
  uncertain task of each cluster, so a batch does not spend ten labels on ten
  near-copies of one confusing question.
* :func:`weighted_centres`: CLUE (Prabhu et al., 2021): k-means over the candidates
  with each task weighted by its uncertainty, then the task nearest each centre. A
  pick stands for a whole uncertain region rather than its most extreme member, which
  is what a weak model needs (see :func:`strategies.compose.by_budget`).
* :func:`badge`: BADGE (Ash et al., 2020): k-means++ seeding in the space of the
  last layer's gradient embeddings ``a ⊗ [x, 1]`` with ``a = p - onehot(argmax p)``
  for a linear model; the embedding (classes x 2^18 floats per task for hashed text)
  is never built, and a pick does not cost a pass over the pool
  (see :mod:`strategies.seeding`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from strategies._types import FloatArray, IntArray, Pool
from strategies.batch import Batch, Selector, rest_order
from strategies.clusters import kmeans
from strategies.geometry import as_rows, compact_columns, masked_argmax, unit_rows
from strategies.measures import distribution
from strategies.seeding import GradientSeeding
from strategies.selectors import top_k


def _clusters(pool: Pool, rows: IntArray, k: int, rng: np.random.Generator) -> IntArray:
    x = unit_rows(compact_columns(as_rows(pool.features)[rows]))
    return np.asarray(kmeans(x, k, rng, max_iter=50).labels_, dtype=np.intp)


def _one_from_each(batch: Batch, groups: Iterable[IntArray]) -> None:
    """The first available task of each group, group by group, until the batch is full."""
    for members in groups:
        if batch.full:
            break
        free = members[batch.available[members]]
        if free.size:
            batch.take(int(free[0]))


def cluster_best(factor: int = 10) -> Selector:
    """A selector: k-means over the ``factor * batch`` most useful available tasks."""

    def select(pool: Pool, utility: FloatArray, batch: Batch, rng: np.random.Generator) -> None:
        k = batch.remaining
        ranked = rest_order(utility, ~batch.available, rng)
        candidates = ranked[: factor * k]
        if k > 1 and candidates.size > k:
            labels = _clusters(pool, candidates, k, rng)
            # clusters in order of their best member, each one's members best first
            _one_from_each(batch, (candidates[labels == c] for c in dict.fromkeys(labels.tolist())))
        top_k(pool, utility, batch, rng)

    return select


def weighted_centres(factor: int = 25) -> Selector:
    """A selector: utility-weighted k-means over the ``factor * batch`` most useful tasks,
    the task nearest each centre, clusters with the most utility first.

    The candidates are capped (not the whole pool, as in the paper) so that a batch
    from 100,000 tasks costs one k-means over a few thousand rows; its time grows with
    the cap (batch of 100 from 100,000 x 384: 0.66 s at 50, 0.34 s at 25, 0.20 s at
    10). The cap also sets the trade: a wide one spreads picks over the pool, which
    paid on trec6 and digits and cost labels on the dense synthetic set; a narrow one
    (10) keeps picks near the decision boundary and was the best all-round in the peer
    benchmark.
    """

    def select(pool: Pool, utility: FloatArray, batch: Batch, rng: np.random.Generator) -> None:
        k = batch.remaining
        candidates = rest_order(utility, ~batch.available, rng)[: factor * k]
        if k > 1 and candidates.size > k:
            x = compact_columns(as_rows(pool.features)[candidates])
            weight = np.maximum(np.asarray(utility, dtype=np.float64)[candidates], 1e-9)
            model = kmeans(x, k, rng, sample_weight=weight)
            labels = np.asarray(model.labels_, dtype=np.intp)
            gap = np.asarray(model.transform(x), dtype=np.float64)[np.arange(candidates.size), labels]
            mass = np.bincount(labels, weights=weight, minlength=k)
            nearest_first = (np.flatnonzero(labels == c) for c in np.argsort(-mass, kind="stable"))
            _one_from_each(batch, (candidates[m[np.argsort(gap[m], kind="stable")]] for m in nearest_first))
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
    space = GradientSeeding(pool.features, _gradient_factors(pool))
    for i in batch.picks:
        space.add(i)
    while not batch.full:
        if not space.centres:
            i = masked_argmax(space.g_sq, batch.available, rng.random(pool.n_samples))
        else:
            i = space.sample(np.flatnonzero(batch.available), rng)
        if i < 0:
            break
        batch.take(i)
        space.add(i)
    top_k(pool, utility, batch, rng)
