"""Query strategies: pure numpy/scikit-learn, no HTTP, no Redis.

Public surface: :class:`Pool` (what a strategy sees), :func:`get_strategy` and
:data:`STRATEGIES` (the registry), and the score convention in :mod:`strategies.scores`.

A strategy is a measure (probabilities to a utility per task: :mod:`~strategies.measures`,
:mod:`~strategies.committee`, :mod:`~strategies.expected`, :mod:`~strategies.density`), a
selector (utilities and features to an ordered batch: :mod:`~strategies.selectors`,
:mod:`~strategies.coreset`, :mod:`~strategies.hybrid`) and guards
(:mod:`~strategies.guards`, :mod:`~strategies.coldstart`), put together in
:mod:`~strategies.compose` and named in :mod:`~strategies.registry`.
"""

from strategies._types import Features, FloatArray, IntArray, Pool, as_generator
from strategies.audit import audit_count, draw_audit, place_audit
from strategies.registry import (
    DEFAULT_STRATEGY,
    STRATEGIES,
    Strategy,
    UnknownStrategyError,
    cold_start_scores,
    get_strategy,
)
from strategies.scores import order_from_scores, score_from_order, score_from_utility

__all__ = [
    "DEFAULT_STRATEGY",
    "STRATEGIES",
    "Features",
    "FloatArray",
    "IntArray",
    "Pool",
    "Strategy",
    "UnknownStrategyError",
    "as_generator",
    "audit_count",
    "cold_start_scores",
    "draw_audit",
    "get_strategy",
    "order_from_scores",
    "place_audit",
    "score_from_order",
    "score_from_utility",
]
