"""Composition: a measure, a selector and guards make one ranking function.

Two shapes of strategy exist:

* **per task** (:func:`per_task`): the score is ``1 - utility`` of that task alone, so
  any subset of the pool can be scored on the fly and agree with a full rescore.
* **batch** (:func:`batch`): a batch of ``batch_size`` is chosen jointly (diversity,
  exploration, class balance); its pick order comes first and the rest of the pool
  follows by utility, encoded with :func:`~strategies.scores.score_from_order`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from strategies._types import FloatArray, Measure, Pool, RankFn
from strategies.batch import Selector, full_order
from strategies.coldstart import cold_start_scores, representative, warm_up_picks
from strategies.guards import (
    EXPLORATION,
    MAX_CLASS_SHARE,
    explore,
    new_batch,
    reserve_starved,
    spent_per_class,
)
from strategies.scores import score_from_order, score_from_utility
from strategies.selectors import top_k


def per_task(measure: Measure) -> RankFn:
    """Score = 1 - utility; representative tasks first while there is no model."""

    def rank(pool: Pool, batch_size: int, rng: np.random.Generator) -> FloatArray:
        if pool.proba is None:
            return cold_start_scores(pool, batch_size, rng)
        return score_from_utility(measure(pool, rng))

    return rank


@dataclass(frozen=True)
class Guards:
    """Which guards a batch strategy wears.

    ``explore``: share of random picks. ``balance``: cap each predicted class at
    ``max_share`` of the batch and give starved classes a slot. ``warm_up``: until every
    class has a few labels, give the cold start's representative tasks the share of each
    batch that the starved classes are of all classes; without it, the cold start is
    used only while no model exists.
    """

    explore: float = 0.0
    balance: bool = False
    warm_up: bool = False
    max_share: float = MAX_CLASS_SHARE

    def __post_init__(self) -> None:
        if not 0.0 <= self.explore <= 1.0:
            raise ValueError(f"explore must be a share in [0, 1]; got {self.explore}")
        if not 0.0 < self.max_share <= 1.0:
            raise ValueError(f"max_share must be in (0, 1]; got {self.max_share}")


#: The guards recommended for uncertainty strategies on the project's linear text models.
GUARDED = Guards(explore=EXPLORATION, balance=True, warm_up=True)
#: The same without random picks (the default's guards): in the peer benchmark exploration
#: helped on two data sets and cost labels on two others (see BENCHMARKS.md).
BALANCED = Guards(balance=True, warm_up=True)


def batch(measure: Measure, selector: Selector, guards: Guards | None = None) -> RankFn:
    """A batch ranking: guards pick first, the selector fills, top-k covers any gap."""
    guards = guards or Guards()

    def rank(pool: Pool, batch_size: int, rng: np.random.Generator) -> FloatArray:
        cold = pool.proba is None
        warm = 0 if cold or not guards.warm_up else warm_up_picks(pool, min(batch_size, pool.n_samples))
        utility = np.zeros(pool.n_samples) if cold else measure(pool, rng)
        utility = np.nan_to_num(np.asarray(utility, dtype=np.float64), nan=0.0)
        chosen = new_batch(pool, batch_size, guards.balance or warm > 0, guards.max_share)
        if guards.balance or warm:
            reserve_starved(pool, chosen, utility)
        explore(chosen, guards.explore, rng)
        if cold:
            representative(pool, utility, chosen, rng)
        else:
            representative(pool, utility, chosen, rng, count=warm)
            selector(pool, utility, chosen, rng)
        top_k(pool, utility, chosen, rng)
        return score_from_order(full_order(chosen, utility, rng), pool.n_samples)

    return rank


#: Labels per class below which :func:`by_budget` uses its low-budget ranking.
LOW_BUDGET_PER_CLASS = 10


def by_budget(low: RankFn, high: RankFn, per_class: int = LOW_BUDGET_PER_CLASS) -> RankFn:
    """``low`` while the project has fewer than ``per_class`` labels per class, then ``high``.

    With a handful of labels per class the model's uncertainty is itself unreliable,
    and picks that stand for many tasks teach more than the most uncertain ones; with
    more labels the order reverses (Hacohen et al., 2022, "Active learning on a
    budget"). In the peer benchmark (BENCHMARKS.md) a CLUE phase helped where batches are
    small against the classes (digits: 80 labels to 95% of full-pool accuracy instead of
    110) and cost labels where they are large (synthetic, 50 per batch: 600 instead of 500).
    """
    if per_class < 0:
        raise ValueError(f"per_class must be at least 0; got {per_class}")

    def rank(pool: Pool, batch_size: int, rng: np.random.Generator) -> FloatArray:
        return (high if spent_per_class(pool, per_class) else low)(pool, batch_size, rng)

    return rank
