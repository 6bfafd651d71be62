"""Strategies for sequence labeling (named entities): token marginals in, sentence scores out.

:class:`SequencePool` is what they see, :mod:`~strategies.sequence.measures` the pure
measures (token entropy aggregated by max, mean or sum; least-confident and margin of
the whole sequence; committee vote entropy), :mod:`~strategies.sequence.ranking` the
cold start and the diverse batch, and :data:`SEQUENCE_STRATEGIES` the registry. Scores
follow :mod:`strategies.scores` (lower = label first).
"""

from strategies.sequence.pool import SequencePool
from strategies.sequence.registry import (
    COMMITTEE_SIZE,
    DEFAULT_SEQUENCE_STRATEGY,
    SEQUENCE_STRATEGIES,
    SequenceStrategy,
    UnknownSequenceStrategyError,
    get_sequence_strategy,
)

__all__ = [
    "COMMITTEE_SIZE",
    "DEFAULT_SEQUENCE_STRATEGY",
    "SEQUENCE_STRATEGIES",
    "SequencePool",
    "SequenceStrategy",
    "UnknownSequenceStrategyError",
    "get_sequence_strategy",
]
