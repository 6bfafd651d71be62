"""The audit sample: a small uniform random share of the queue, placed among a strategy's picks.

Labels chosen by a strategy are not a random sample of the pool, so any figure computed
on them (cross-validated accuracy, a learning curve) follows the strategy's bias. A few
tasks drawn uniformly at random from the unlabeled pool, and remembered as such, give an
unbiased sample to measure on. They are put in the head of the order at positions spread
through it, so annotators meet them as ordinary tasks and label them as soon as the
strategy's own picks.

Plain functions over arrays; randomness passes through a ``numpy.random.Generator``.
"""

from __future__ import annotations

import math

import numpy as np

from strategies._types import FloatArray, IntArray
from strategies.scores import order_from_scores, score_from_order


def audit_count(share: float, head: int, draw: int) -> int:
    """How many audit tasks draw number ``draw`` (0, 1, ...) puts in a head of ``head`` tasks.

    Over draws 0..d the counts add up to ``floor(share * head * (d + 1))``, so a share of
    5% with a head of 10 gives 0, 1, 0, 1, ...: the audit keeps its share even when one
    head holds less than one audit task.
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be in [0, 1]; got {share!r}")
    if head < 0 or draw < 0:
        raise ValueError(f"head and draw must be non-negative; got head={head}, draw={draw}")
    per = share * head
    # a small tolerance so that 0.1 * 10 * 3 counts as 3, not 2.9999999999999996
    return int(math.floor(per * (draw + 1) + 1e-9) - math.floor(per * draw + 1e-9))


def draw_audit(n_pool: int, size: int, rng: np.random.Generator) -> IntArray:
    """``size`` distinct pool positions drawn uniformly at random (fewer if the pool is smaller)."""
    size = max(0, min(int(size), int(n_pool)))
    return np.sort(rng.choice(int(n_pool), size=size, replace=False)).astype(np.intp)


def place_audit(scores: FloatArray, audit: IntArray, head: int, rng: np.random.Generator) -> FloatArray:
    """Scores whose ascending order is the strategy's, with ``audit`` rows at random head positions.

    The audit rows take ``len(audit)`` distinct positions drawn at random among the first
    ``max(head, len(audit))``; every other row keeps its relative order. The result
    encodes the order (see :func:`strategies.scores.score_from_order`), so lower is still
    "label this first".
    """
    scores = np.asarray(scores, dtype=np.float64)
    audit = np.unique(np.asarray(audit, dtype=np.intp))
    n = len(scores)
    if len(audit) == 0:
        return scores
    if audit.min() < 0 or audit.max() >= n:
        raise ValueError(f"audit rows must index the {n} scores; got {audit.min()}..{audit.max()}")
    order = order_from_scores(scores)
    rest = order[~np.isin(order, audit)]
    span = min(max(int(head), len(audit)), n)
    slots = np.sort(rng.choice(span, size=len(audit), replace=False))
    placed = np.empty(n, dtype=np.intp)
    is_audit = np.zeros(n, dtype=bool)
    is_audit[slots] = True
    placed[slots] = rng.permutation(audit)
    placed[~is_audit] = rest
    return score_from_order(placed, n)
