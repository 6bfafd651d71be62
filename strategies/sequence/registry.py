"""The named strategies of named-entity projects (a literal dict, as for text classification).

Scores follow :mod:`strategies.scores`: floats in [0, 1], lower = label first. The
default is :data:`DEFAULT_SEQUENCE_STRATEGY`, chosen by the benchmark in ``benchmarks/``
(BENCHMARKS.md, "Named entities").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from strategies._types import FloatArray, RandomState, as_generator
from strategies.scores import score_from_order
from strategies.sequence import measures as m
from strategies.sequence.pool import SequencePool
from strategies.sequence.ranking import SequenceMeasure, SequenceRankFn, diverse, per_sentence

#: The strategy of a named-entity project that names none.
DEFAULT_SEQUENCE_STRATEGY = "entropy_sum"
#: CRFs in a committee (each on a bootstrap sample of the labeled sentences).
COMMITTEE_SIZE = 4


class UnknownSequenceStrategyError(ValueError):
    """A strategy name that is not in the sequence registry."""


@dataclass(frozen=True)
class SequenceStrategy:
    """A named way to rank unlabeled sentences.

    ``per_task``: a sentence's score depends on it alone (``/predict`` may compute it).
    ``members``: committee size the caller must train and hand over in ``pool.members``
    (0: none); a strategy with members ``refits``, so it runs in jobs, never in a request.
    """

    name: str
    description: str
    rank_fn: SequenceRankFn
    per_task: bool
    members: int = 0

    @property
    def refits(self) -> bool:
        return self.members > 0

    def rank(self, pool: SequencePool, batch_size: int = 10, random_state: RandomState = None) -> FloatArray:
        """Scores for every sentence of ``pool``: floats in [0, 1], lower = label first."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1; got {batch_size}")
        if pool.n_samples == 0:
            return np.zeros(0)
        if self.members and pool.has_model and len(pool.members) < 2:
            raise ValueError(f"{self.name} needs a committee in pool.members; got {len(pool.members)} members")
        scores = self.rank_fn(pool, batch_size, as_generator(random_state))
        return np.clip(np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=1.0), 0.0, 1.0)


def _random(pool: SequencePool, batch_size: int, rng: np.random.Generator) -> FloatArray:
    return score_from_order(np.argsort(rng.random(pool.n_samples), kind="stable"))


def _entropy(how: m.Aggregate) -> SequenceMeasure:
    return lambda pool: m.entropy_utility(_marginals(pool), pool.lengths, how)


def _marginals(pool: SequencePool) -> FloatArray:
    if pool.marginals is None:
        raise ValueError("this measure needs the model's marginals")
    return pool.marginals


def _best(pool: SequencePool) -> FloatArray:
    if pool.best_proba is None:
        raise ValueError("this measure needs the best sequence's probability")
    return pool.best_proba


def _least_confident(pool: SequencePool) -> FloatArray:
    return m.least_confident(_best(pool))


def _per_token_least_confident(pool: SequencePool) -> FloatArray:
    return m.per_token(m.least_confident(_best(pool)), pool.lengths)


def _margin(pool: SequencePool) -> FloatArray:
    second = pool.second_proba if pool.second_proba is not None else np.zeros(pool.n_samples)
    return m.sequence_margin(_best(pool), second)


def _committee(pool: SequencePool) -> FloatArray:
    return m.vote_entropy(pool.members, pool.lengths, "sum")


def _strategy(name: str, description: str, measure: SequenceMeasure, members: int = 0) -> SequenceStrategy:
    return SequenceStrategy(name, description, per_sentence(measure), per_task=True, members=members)


SEQUENCE_STRATEGIES: dict[str, SequenceStrategy] = {
    "random": SequenceStrategy("random", "uniformly random order (the baseline)", _random, per_task=False),
    "least_confident": _strategy("least_confident", "lowest probability of the most likely tag sequence first",
                                 _least_confident),
    "least_confident_per_token": _strategy(
        "least_confident_per_token", "least-confident sequence divided by its tokens (cost-aware)",
        _per_token_least_confident),
    "sequence_margin": _strategy("sequence_margin", "smallest gap between the two most likely tag sequences first",
                                 _margin),
    "entropy_max": _strategy("entropy_max", "the sentence's most uncertain token (tag entropy) first",
                             _entropy("max")),
    "entropy_mean": _strategy("entropy_mean", "highest mean tag entropy per token first", _entropy("mean")),
    "entropy_sum": _strategy("entropy_sum", "highest total tag entropy over the sentence first", _entropy("sum")),
    "committee": _strategy("committee", f"most split vote of {COMMITTEE_SIZE} bootstrap CRFs, summed over tokens",
                           _committee, members=COMMITTEE_SIZE),
    "diverse_entropy_sum": SequenceStrategy(
        "diverse_entropy_sum", "total tag entropy, the best of each cluster of the 10 x batch most uncertain",
        diverse(_entropy("sum")), per_task=False),
    "diverse_least_confident": SequenceStrategy(
        "diverse_least_confident", "least-confident sequence, the best of each cluster of the 10 x batch most"
        " uncertain", diverse(_least_confident), per_task=False),
}


def get_sequence_strategy(name: str | None) -> SequenceStrategy:
    """The registered sequence strategy ``name`` (``None`` or ``"default"``: the default)."""
    key = DEFAULT_SEQUENCE_STRATEGY if name in (None, "", "default") else str(name).strip().lower()
    try:
        return SEQUENCE_STRATEGIES[key]
    except KeyError:
        known = ", ".join(sorted(SEQUENCE_STRATEGIES))
        raise UnknownSequenceStrategyError(f"unknown strategy {name!r}; choose one of: {known}") from None
