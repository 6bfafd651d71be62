"""The score convention, in one place.

A prediction's ``score`` sent to Label Studio is a float in [0, 1] and **lower means
"label this first"**. Label Studio's Data Manager sorts by it ascending and its
"Uncertainty sampling" serves the lowest score first, so this is the order annotators see.

* Per-task measures (least confidence, margin, entropy, ...) produce a *utility*
  (higher = more informative); the score is ``1 - utility`` after the utility is
  normalised to [0, 1] by its theoretical maximum, so a task's score does not depend
  on which other tasks were scored with it.
* Batch and diversity strategies choose an *order*; the score encodes the position so
  that an ascending sort reproduces the chosen order exactly.
"""

from __future__ import annotations

import numpy as np

from strategies._types import FloatArray, IntArray


def score_from_utility(utility: FloatArray) -> FloatArray:
    """Map a utility already normalised to [0, 1] (higher = ask sooner) to a score."""
    u = np.nan_to_num(np.asarray(utility, dtype=np.float64), nan=0.0)
    return np.clip(1.0 - u, 0.0, 1.0)


def score_from_order(order: IntArray, n_samples: int | None = None) -> FloatArray:
    """Scores whose ascending sort reproduces ``order`` (a permutation of pool indices).

    Position ``i`` of ``n`` gets ``i / (n - 1)``: the first pick scores 0.0 and the last 1.0.
    Distinct positions give distinct scores, so no tie can reorder the batch.
    """
    order = np.asarray(order, dtype=np.intp)
    n = len(order) if n_samples is None else n_samples
    if len(order) != n or (n and (np.sort(order) != np.arange(n)).any()):
        raise ValueError(f"order must be a permutation of range({n}); got {len(order)} indices")
    scores = np.empty(n, dtype=np.float64)
    scores[order] = np.arange(n, dtype=np.float64) / max(n - 1, 1)
    return scores


def order_from_scores(scores: FloatArray) -> IntArray:
    """The labeling order a score vector implies (stable for equal scores)."""
    return np.argsort(np.asarray(scores), kind="stable").astype(np.intp)
