"""Sequence rankings: per-sentence scores, a diverse batch, and the cold start for entities.

* :func:`per_sentence` turns a measure into scores (``1 - utility``), the cold start while
  no model exists.
* :func:`diverse` keeps the batch from being ten near-copies (retweets, templates): k-means
  over the ``10 x batch`` most uncertain sentences' vectors, the most uncertain of each
  cluster, through the same selector the text strategies use.
* :func:`cold_start_scores` orders the pool before any model: sentences that look like they
  name something first (``entity_prior`` above its median), each half in the round-robin
  k-means order of :func:`strategies.coldstart.representative_order`. A sentence without
  an entity is a label too, but a model learns names only from names.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from strategies._types import FloatArray, IntArray, Pool
from strategies.coldstart import representative_order
from strategies.compose import batch
from strategies.hybrid import cluster_best
from strategies.scores import score_from_order, score_from_utility
from strategies.sequence.pool import SequencePool

#: A sequence measure: the pool to one utility per sentence in [0, 1], higher = ask sooner.
SequenceMeasure = Callable[[SequencePool], FloatArray]
#: A sequence strategy's core: (pool, batch size, generator) to one score per sentence.
SequenceRankFn = Callable[[SequencePool, int, np.random.Generator], FloatArray]


def _ordered(pool: SequencePool, rows: IntArray, clusters: int, rng: np.random.Generator) -> IntArray:
    if rows.size == 0:
        return rows
    order = representative_order(pool.features[rows], clusters, rng, pool.labeled_features)
    return rows[order]


def cold_start_scores(pool: SequencePool, batch_size: int, rng: np.random.Generator) -> FloatArray:
    """Likely-entity sentences first, each group in representative (round-robin k-means) order."""
    n = pool.n_samples
    prior = np.zeros(n) if pool.entity_prior is None else np.asarray(pool.entity_prior, dtype=np.float64)
    likely = prior >= np.median(prior) if n and prior.max() > prior.min() else np.ones(n, dtype=bool)
    clusters = batch_size + pool.n_labeled
    first = _ordered(pool, np.flatnonzero(likely).astype(np.intp), clusters, rng)
    rest = _ordered(pool, np.flatnonzero(~likely).astype(np.intp), clusters, rng)
    return score_from_order(np.concatenate([first, rest]).astype(np.intp), n)


def per_sentence(measure: SequenceMeasure) -> SequenceRankFn:
    """Score = 1 - utility of each sentence alone; the cold start while there is no model."""

    def rank(pool: SequencePool, batch_size: int, rng: np.random.Generator) -> FloatArray:
        if not pool.has_model:
            return cold_start_scores(pool, batch_size, rng)
        return score_from_utility(measure(pool))

    return rank


def diverse(measure: SequenceMeasure, factor: int = 10) -> SequenceRankFn:
    """The most uncertain sentence of each k-means cluster of the ``factor x batch`` most uncertain."""
    select = cluster_best(factor)

    def rank(pool: SequencePool, batch_size: int, rng: np.random.Generator) -> FloatArray:
        if not pool.has_model:
            return cold_start_scores(pool, batch_size, rng)
        utility = measure(pool)
        # the text selectors see a pool with the sentence vectors and a placeholder model
        flat = Pool(features=pool.features, proba=np.ones((pool.n_samples, 1)))
        return batch(lambda _pool, _rng: utility, select)(flat, batch_size, rng)

    return rank
