"""The state of one batch being chosen: picks so far and the rows still allowed.

Selectors (top-k, core-set, clusters, ...) and guards (exploration, class balance)
all pick through one :class:`Batch`, so a guard composes with any selector: a class
that reached its cap simply stops being available, and a pick a guard made is a
centre the selector spreads away from.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from strategies._types import BoolArray, FloatArray, IntArray, Pool

#: A selector fills ``batch`` from ``pool`` given each task's utility.
Selector = Callable[[Pool, FloatArray, "Batch", np.random.Generator], None]


class Batch:
    """Up to ``size`` distinct picks from ``n`` rows, with optional per-class caps.

    ``classes`` (the predicted class of each row) and ``cap`` limit how many picks one
    predicted class may take; when every row left is capped, the caps are dropped so a
    batch is always filled. ``tail`` may be set by a selector to order the rows after
    the batch (default: the strategy's utility).
    """

    def __init__(
        self,
        n: int,
        size: int,
        classes: IntArray | None = None,
        cap: int | None = None,
    ) -> None:
        if size < 1:
            raise ValueError(f"batch size must be at least 1; got {size}")
        self.n = n
        self.size = min(size, n)
        self.picks: list[int] = []
        self.from_guard: list[bool] = []
        self.taken: BoolArray = np.zeros(n, dtype=bool)
        self.available: BoolArray = np.ones(n, dtype=bool)
        self.classes = classes
        self.cap = cap
        self._counts: dict[int, int] = {}
        self.tail: FloatArray | None = None

    @property
    def remaining(self) -> int:
        return self.size - len(self.picks)

    @property
    def full(self) -> bool:
        return self.remaining <= 0

    def take(self, i: int, guard: bool = False) -> None:
        """Add row ``i`` to the batch (``guard``: picked by a guard, not the selector)."""
        i = int(i)
        if self.full or self.taken[i]:
            raise ValueError(f"row {i} cannot join the batch (already taken or batch full)")
        self.picks.append(i)
        self.from_guard.append(guard)
        self.taken[i] = True
        self.available[i] = False
        if self.classes is not None and self.cap is not None:
            c = int(self.classes[i])
            self._counts[c] = self._counts.get(c, 0) + 1
            if self._counts[c] >= self.cap:
                self.available &= self.classes != c
        if not self.full and not self.available.any():
            self.available = ~self.taken

    def order(self, rng: np.random.Generator) -> IntArray:
        """The batch in labeling order: selector picks in their order, guard picks at
        random positions (so a partly labeled batch still carries its share of them)."""
        picks = np.asarray(self.picks, dtype=np.intp)
        guard = np.asarray(self.from_guard, dtype=bool)
        if not guard.any():
            return picks
        slots = np.zeros(len(picks), dtype=bool)
        slots[rng.choice(len(picks), int(guard.sum()), replace=False)] = True
        out = np.empty(len(picks), dtype=np.intp)
        out[slots] = picks[guard]
        out[~slots] = picks[~guard]
        return out


def rest_order(utility: FloatArray, taken: BoolArray, rng: np.random.Generator) -> IntArray:
    """Rows not in the batch, highest utility first, ties in random order."""
    rest = np.flatnonzero(~taken)
    u = np.nan_to_num(np.asarray(utility, dtype=np.float64)[rest], nan=-np.inf)
    return rest[np.lexsort((rng.random(rest.size), -u))].astype(np.intp)


def full_order(batch: Batch, utility: FloatArray, rng: np.random.Generator) -> IntArray:
    """The whole pool: the batch first, then everything else (``batch.tail`` or utility)."""
    tail = utility if batch.tail is None else batch.tail
    return np.concatenate([batch.order(rng), rest_order(tail, batch.taken, rng)])
