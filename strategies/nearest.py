"""Distance from every pool row to its nearest centre, kept lazily for greedy picks.

Core-set and ranked batch both pick, again and again, the task
that maximises a criterion increasing in its distance to the nearest centre (labeled
tasks and earlier picks). Updating every distance after each pick costs one pass over
the pool per pick: for 100,000 x 384 floats that pass is memory-bound (about 150 MB
read) and dominates. Distances only ever shrink as centres are added, so a stale
distance is an upper bound: :meth:`NearestCentre.farthest` brings up to date only the
rows whose bound could still win, a few hundred per pick, and :meth:`settle` updates
the rest once at the end with one matrix product. The labeled rows are centres from the
start, and the same argument spares most of their cost: every row first gets its
distance to a sample of them (:data:`FIRST_LABELED`), an upper bound, and only rows that
could win a pick are measured against all of them. The picks are those of the eager
greedy algorithm; rows no pick ever reached keep that bound (see :meth:`settle`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from strategies._threads import one_thread
from strategies._types import BoolArray, Features, FloatArray, IntArray
from strategies.geometry import as_rows, like, min_sq_dist, products, row_sq_norms

#: Labeled rows used as existing centres; above this a random subset stands in for them.
#: A pass over the pool against all of them costs pool x MAX_CENTRES products: about
#: 0.35 s for 100,000 x 384 float32 rows on 2 cores, twice that at 1000.
MAX_CENTRES = 500
#: Labeled rows every pool row is measured against up front; the others only for rows
#: that could be picked. A tenth of the full pass for 100,000 x 384 rows.
FIRST_LABELED = 48
#: Rows brought up to date in the first round of a lazy pick.
FIRST_BLOCK = 256

#: Rows kept on the shortlist of likely winners, as a multiple of the block refreshed.
SHORTLIST = 8

#: ``criterion(squared distances, row indices)``, non-decreasing in the distance.
Criterion = Callable[[FloatArray, IntArray], FloatArray]


class NearestCentre:
    """Squared distance to the nearest centre (``inf`` while there is none)."""

    def __init__(
        self,
        features: Features,
        centres: Features | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.x = as_rows(features)
        self.sq = row_sq_norms(self.x)
        self.dist2 = np.full(self.x.shape[0], np.inf)
        self.centres: list[int] = []
        self._stamp = np.zeros(self.x.shape[0], dtype=np.intp)
        self._labeled = centres is not None and centres.shape[0] > 0
        #: labeled centres not yet measured, and which rows have been measured against them
        self._later: Features | None = None
        self._measured = np.ones(self.x.shape[0], dtype=bool)
        #: rows whose bound is at least this are the shortlist of :meth:`_largest`
        self._threshold = np.inf
        if centres is not None and self._labeled:
            c = like(centres, self.x)
            if c.shape[0] > MAX_CENTRES:
                keep = (rng or np.random.default_rng(0)).choice(c.shape[0], MAX_CENTRES, replace=False)
                c = c[np.sort(keep)]
            # the sample is drawn apart from ``rng``: it changes costs, never the picks
            first = np.random.default_rng(c.shape[0]).permutation(c.shape[0]) < FIRST_LABELED
            self.dist2 = min_sq_dist(self.x, self.sq, c[first])
            if not first.all():
                self._later = c[~first]
                self._measured[:] = False

    @property
    def has_centres(self) -> bool:
        return self._labeled or bool(self.centres)

    def add(self, i: int) -> None:
        """Make pool row ``i`` a centre (other rows are updated when needed)."""
        self.centres.append(int(i))
        self.dist2[i] = 0.0
        self._stamp[i] = len(self.centres)

    def _measure(self, rows: IntArray) -> None:
        """Bring ``rows`` (not yet measured) up to date with the labeled rows beyond the sample."""
        if rows.size == 0 or self._later is None:
            return
        d2 = min_sq_dist(self.x[rows], self.sq[rows], self._later)
        self.dist2[rows] = np.minimum(self.dist2[rows], d2)
        self._measured[rows] = True

    def refresh(self, rows: IntArray) -> None:
        """Bring ``rows`` up to date with every labeled row and every centre added so far."""
        if rows.size == 0:
            return
        with one_thread():
            self._measure(rows[~self._measured[rows]])
        if not self.centres:
            return
        lo = int(self._stamp[rows].min())
        if lo >= len(self.centres):
            return
        new = np.asarray(self.centres[lo:], dtype=np.intp)
        with one_thread():  # a small product: threads only add waiting
            prod = products(self.x[rows], self.x[new])
        d2 = self.sq[rows, None] - 2.0 * prod + self.sq[None, new]
        self.dist2[rows] = np.minimum(self.dist2[rows], np.maximum(d2.min(axis=1), 0.0))
        self._stamp[rows] = len(self.centres)

    def settle(self, labeled: bool = True) -> FloatArray:
        """Every distance up to date (blocked matrix products); returns them.

        With ``labeled=False`` rows are brought up to date with the added centres only,
        and rows never measured against every labeled row keep their distance to the
        labeled sample: enough to order the tasks after a batch, at a tenth of the cost.
        """
        if labeled:
            self._measure(np.flatnonzero(~self._measured))
        if self.centres and int(self._stamp.min()) < len(self.centres):
            new = np.asarray(self.centres[int(self._stamp.min()) :], dtype=np.intp)
            np.minimum(self.dist2, min_sq_dist(self.x, self.sq, self.x[new]), out=self.dist2)
            self._stamp[:] = len(self.centres)
        return self.dist2

    def farthest(self, allowed: BoolArray, criterion: Criterion, tiebreak: FloatArray) -> int:
        """The allowed row with the largest ``criterion`` (-1 if none is allowed).

        Rows are refreshed in order of their (stale, hence optimistic) criterion until
        the best refreshed value is at least every remaining bound. Rows whose bound
        equals that value (duplicate texts, say) are refreshed too, so that ``tiebreak``
        decides between equals, not the order of a partition.
        """
        free = np.flatnonzero(allowed)
        if free.size == 0:
            return -1
        if self.centres and np.isinf(self.dist2[free]).any():
            self.settle()  # the first centre: every row needs its first real distance
        bound = criterion(self.dist2[free], free)
        block = min(free.size, FIRST_BLOCK)
        while 4 * block < free.size:
            top = self._largest(bound, block)
            self.refresh(free[top])
            fresh = criterion(self.dist2[free[top]], free[top])
            bound[top] = -np.inf
            rest = bound.max()
            bound[top] = fresh
            best = fresh.max()
            if best > rest:
                return _best(free[top], fresh, tiebreak)
            if best == rest:
                tied = free[bound >= best]
                self.refresh(tied)
                return _best(tied, criterion(self.dist2[tied], tied), tiebreak)
            block *= 4
        self.settle()  # a large share of the rows is in question: one blocked product
        return _best(free, criterion(self.dist2[free], free), tiebreak)

    def _largest(self, values: FloatArray, count: int) -> IntArray:
        """Positions of the ``count`` largest ``values``.

        A full partition of 100,000 bounds costs about 1 ms, as much as the rest of a
        pick. Bounds only shrink, so the rows at or above a threshold taken from an
        earlier pick's bounds are a shortlist that lasts several picks; any threshold
        gives the same answer as long as the shortlist holds ``count`` rows.
        """
        shortlist = np.flatnonzero(values >= self._threshold)
        if shortlist.size < count:
            keep = min(values.size, SHORTLIST * count)
            cut = values.size - keep
            self._threshold = float(np.partition(values, cut)[cut]) if cut else -np.inf
            shortlist = np.flatnonzero(values >= self._threshold)
        return shortlist[np.argpartition(-values[shortlist], count - 1)[:count]]


def _best(rows: IntArray, values: FloatArray, tiebreak: FloatArray) -> int:
    winners = rows[values == values.max()]
    return int(winners[np.argmax(tiebreak[winners])])


def distance(d2: FloatArray, rows: IntArray) -> FloatArray:
    """The plain k-center criterion: the squared distance itself."""
    return d2
