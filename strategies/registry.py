"""The named strategies Label Studio projects can choose (``STRATEGY`` or ``/setup`` params).

A strategy ranks the whole unlabeled pool: ``rank(pool, batch_size, rng)`` returns one
score per task in [0, 1], lower = label first (see :mod:`strategies.scores`).
Each entry is a composition of a measure, a selector and guards (see
:mod:`strategies.compose`). The registry is a literal dict: adding a strategy means
adding an entry here; changing the default means changing :data:`DEFAULT_STRATEGY`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from strategies import measures
from strategies._types import FloatArray, Pool, RandomState, RankFn, as_generator
from strategies.coldstart import cold_start_scores
from strategies.committee import consensus_entropy, kl_max_disagreement, qbc, vote_entropy
from strategies.compose import BALANCED, GUARDED, batch, by_budget, per_task
from strategies.coreset import k_center
from strategies.density import weighted
from strategies.expected import eer, egl
from strategies.hybrid import badge, cluster_best, weighted_centres
from strategies.scores import score_from_order
from strategies.selectors import ranked_batch, top_k

__all__ = [
    "DEFAULT_STRATEGY",
    "STRATEGIES",
    "Strategy",
    "UnknownStrategyError",
    "cold_start_scores",
    "get_strategy",
]

#: The strategy used when a project names none. Change this one line to change it; the
#: peer benchmark (``benchmarks/``) is where the choice is measured.
DEFAULT_STRATEGY = "focused_clue"


class UnknownStrategyError(ValueError):
    """A strategy name that is not in the registry."""


@dataclass(frozen=True)
class Strategy:
    """A named way to rank the pool.

    ``per_task`` is true when a task's score depends on that task alone (given the
    same labels and seed); then the service may score any subset of tasks on the fly
    and agree with a full rescore. ``refits`` is true when ranking fits models (a
    committee, an approximate refit): too slow for a web request. ``description`` is one
    line for people choosing.
    """

    name: str
    description: str
    rank_fn: RankFn
    per_task: bool
    refits: bool = False

    def rank(self, pool: Pool, batch_size: int = 10, random_state: RandomState = None) -> FloatArray:
        """Scores for every task of ``pool``: floats in [0, 1], lower = label first."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1; got {batch_size}")
        if pool.n_samples == 0:
            return np.zeros(0)
        scores = self.rank_fn(pool, batch_size, as_generator(random_state))
        return np.clip(np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=1.0), 0.0, 1.0)


def _random(pool: Pool, batch_size: int, rng: np.random.Generator) -> FloatArray:
    """A random order, encoded like every batch strategy's (the same draws pick the same tasks)."""
    return score_from_order(np.argsort(rng.random(pool.n_samples), kind="stable"))


_margin = measures.from_proba(measures.margin)
_entropy = measures.from_proba(measures.entropy)
_least_confidence = measures.from_proba(measures.least_confidence)
_density_cluster_margin = batch(weighted(_margin, beta=0.5, sparse_only=True), cluster_best(), BALANCED)
_clue = batch(_margin, weighted_centres(), BALANCED)
_focused_clue = batch(_margin, weighted_centres(factor=10), BALANCED)

STRATEGIES: dict[str, Strategy] = {
    "random": Strategy("random", "uniformly random order (the baseline)", _random, per_task=False),
    "least_confidence": Strategy(
        "least_confidence", "lowest top-class probability first",
        per_task(_least_confidence), per_task=True,
    ),
    "margin": Strategy(
        "margin", "smallest gap between the two most likely classes first",
        per_task(_margin), per_task=True,
    ),
    "entropy": Strategy(
        "entropy", "highest entropy of the class distribution first",
        per_task(_entropy), per_task=True,
    ),
    "egl": Strategy(
        "egl", "expected gradient length: the label expected to change the model most first",
        per_task(egl), per_task=True,
    ),
    "qbc_vote": Strategy(
        "qbc_vote", "query by committee: most split vote of 5 bootstrap models first",
        per_task(qbc(vote_entropy)), per_task=True, refits=True,
    ),
    "qbc_consensus": Strategy(
        "qbc_consensus", "query by committee: highest entropy of the committee's average first",
        per_task(qbc(consensus_entropy)), per_task=True, refits=True,
    ),
    "qbc_kl": Strategy(
        "qbc_kl", "query by committee: largest KL divergence of a member from the consensus first",
        per_task(qbc(kl_max_disagreement)), per_task=True, refits=True,
    ),
    "eer": Strategy(
        "eer", "expected error reduction over the 200 most uncertain tasks (approximate refit)",
        batch(eer(), top_k), per_task=False, refits=True,
    ),
    "density": Strategy(
        "density", "information density: entropy times similarity to the pool's main groups",
        batch(weighted(_entropy), top_k), per_task=False,
    ),
    "coreset": Strategy(
        "coreset", "core-set (greedy k-center): the task farthest from everything labeled first",
        batch(_margin, k_center), per_task=False,
    ),
    "ranked_batch": Strategy(
        "ranked_batch", "ranked batch mode: uncertainty traded against distance to labeled tasks",
        batch(_least_confidence, ranked_batch), per_task=False,
    ),
    "badge": Strategy(
        "badge", "BADGE: k-means++ over gradient embeddings (large and diverse updates)",
        batch(_margin, badge), per_task=False,
    ),
    "cluster_margin": Strategy(
        "cluster_margin", "the most uncertain task of each cluster of the 10 x batch most uncertain",
        batch(_margin, cluster_best()), per_task=False,
    ),
    "margin_explore": Strategy(
        "margin_explore",
        "margin with guards: 10% random picks, class balance, diverse cold start",
        batch(_margin, top_k, GUARDED), per_task=False,
    ),
    "cluster_margin_explore": Strategy(
        "cluster_margin_explore",
        "clustered margin with guards: 10% random picks, class balance, diverse cold start",
        batch(_margin, cluster_best(), GUARDED), per_task=False,
    ),
    "density_margin_explore": Strategy(
        "density_margin_explore",
        "margin times similarity to the pool's main groups;"
        " guards: 10% random picks, class balance, diverse cold start",
        batch(weighted(_margin), top_k, GUARDED), per_task=False,
    ),
    "density_cluster_margin": Strategy(
        "density_cluster_margin",
        "margin (on text: times the square root of similarity to the pool), best of each cluster"
        " of candidates; guards: class balance, representative picks while a class is starved",
        _density_cluster_margin, per_task=False,
    ),
    "clue": Strategy(
        "clue",
        "CLUE: margin-weighted k-means over the 25 x batch best candidates, the task nearest"
        " each centre; guards: class balance, representative picks while a class is starved",
        _clue, per_task=False,
    ),
    "focused_clue": Strategy(
        "focused_clue",
        "CLUE over the 10 x batch most uncertain tasks only: margin-weighted k-means, the task"
        " nearest each centre; guards: class balance, representative picks while a class is starved",
        _focused_clue, per_task=False,
    ),
    "clue_cluster_margin": Strategy(
        "clue_cluster_margin",
        "clue while there are fewer than 10 labels per class, then density_cluster_margin",
        by_budget(_clue, _density_cluster_margin), per_task=False,
    ),
    "density_cluster_margin_explore": Strategy(
        "density_cluster_margin_explore",
        "margin times similarity to the pool, best of each cluster of candidates;"
        " guards: 10% random picks, class balance, diverse cold start",
        batch(weighted(_margin), cluster_best(), GUARDED), per_task=False,
    ),
}


def get_strategy(name: str | None) -> Strategy:
    """The registered strategy called ``name`` (``None`` or ``"default"`` = the default)."""
    key = DEFAULT_STRATEGY if name in (None, "", "default") else str(name).strip().lower()
    try:
        return STRATEGIES[key]
    except KeyError:
        known = ", ".join(sorted(STRATEGIES))
        raise UnknownStrategyError(f"unknown strategy {name!r}; choose one of: {known}") from None
