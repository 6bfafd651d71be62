"""k-means++ sampling in BADGE's gradient space without a pass over the pool per pick.

k-means++ draws each next centre with probability proportional to its squared distance
to the nearest centre so far. Kept exact, every pick costs one pass over the pool
(for 100,000 x 384 float32 rows about 150 MB read, 100 times per batch). Distances only
shrink as centres are added, so stale distances are upper bounds, and rejection
sampling turns bounds into exact draws: propose a row with probability proportional to
its bound, bring that one row up to date, accept it with probability
``distance / bound``. Accepted draws follow the k-means++ distribution exactly. When
most proposals are rejected (the new centres sit in a dense region whose bounds have
become loose), one blocked product over the centres added since the last update
tightens every bound at once.

For a linear model the embedding of task ``x`` is ``a ⊗ [x, 1]``, so inner products
factor as ``(a_i · a_j)([x_i, 1] · [x_j, 1])`` and the embedding itself is never built.
"""

from __future__ import annotations

import numpy as np

from strategies._threads import one_thread
from strategies._types import Features, FloatArray, IntArray
from strategies.geometry import as_rows, products, row_sq_norms

#: Rows proposed at once; drawing them costs one pass over the bounds of the free rows.
PROPOSALS = 32
#: Rows per block when every bound is brought up to date.
SETTLE_ROWS = 16_384


class GradientSeeding:
    """Squared distances in the gradient space to the nearest centre, kept as bounds."""

    def __init__(self, features: Features, factors: FloatArray) -> None:
        self.x = as_rows(features)
        self.a = np.asarray(factors, dtype=np.float64)
        self.x_sq = row_sq_norms(self.x) + 1.0  # [x, 1]
        #: the squared length of every task's gradient embedding
        self.g_sq = np.einsum("ij,ij->i", self.a, self.a) * self.x_sq
        self.bound = np.full(self.x.shape[0], np.inf)
        self.centres: list[int] = []
        self._stamp = np.zeros(self.x.shape[0], dtype=np.intp)

    def add(self, i: int) -> None:
        """Make row ``i`` a centre (other rows learn of it when they are next needed)."""
        self.centres.append(int(i))
        self.bound[i] = 0.0
        self._stamp[i] = len(self.centres)

    def _update(self, rows: IntArray | slice, since: int) -> None:
        new = np.asarray(self.centres[since:], dtype=np.intp)
        dots = (products(self.x[rows], self.x[new]) + 1.0) * (self.a[rows] @ self.a[new].T)
        d2 = self.g_sq[rows, None] + self.g_sq[None, new] - 2.0 * dots
        self.bound[rows] = np.minimum(self.bound[rows], np.maximum(d2.min(axis=1), 0.0))
        self._stamp[rows] = len(self.centres)

    def refresh(self, rows: IntArray) -> None:
        """Exact distances for ``rows`` (a few: one small product)."""
        since = int(self._stamp[rows].min()) if rows.size else len(self.centres)
        if since < len(self.centres):
            with one_thread():  # a small product: threads only add waiting
                self._update(rows, since)

    def settle(self) -> None:
        """Exact distances for every row: one blocked product over the new centres."""
        since = int(self._stamp.min())
        if since >= len(self.centres):
            return
        for start in range(0, self.x.shape[0], SETTLE_ROWS):
            self._update(slice(start, start + SETTLE_ROWS), since)

    def sample(self, free: IntArray, rng: np.random.Generator) -> int:
        """A free row drawn with probability proportional to its exact squared distance
        (-1 when every free row is at distance 0)."""
        if np.isinf(self.bound[free]).any():
            self.settle()
        while True:
            weight = self.bound[free]
            total = weight.sum()
            if not np.isfinite(total) or total <= 0.0:
                return -1
            drawn = free[rng.choice(free.size, size=PROPOSALS, p=weight / total)]
            stale = self.bound[drawn].copy()
            self.refresh(np.unique(drawn))
            accepted = np.flatnonzero(rng.random(PROPOSALS) * stale < self.bound[drawn])
            if accepted.size:
                return int(drawn[accepted[0]])
            self.settle()  # every proposal rejected: the bounds have grown loose
