"""The batch state shared by selectors and guards."""

from __future__ import annotations

import numpy as np
import pytest

from strategies.batch import Batch, full_order, rest_order


def test_caps_close_a_class_and_relax_when_nothing_else_is_left() -> None:
    classes = np.array([0, 0, 0, 1])
    batch = Batch(4, 4, classes, cap=2)
    batch.take(0)
    batch.take(1)
    assert batch.available.tolist() == [False, False, False, True]
    batch.take(3)
    assert batch.available.tolist() == [False, False, True, False]  # caps dropped: fill the batch
    batch.take(2)
    assert batch.full


def test_a_row_cannot_be_taken_twice() -> None:
    batch = Batch(3, 2)
    batch.take(1)
    with pytest.raises(ValueError, match="row 1"):
        batch.take(1)


def test_size_is_capped_by_the_pool_and_must_be_positive() -> None:
    assert Batch(3, 10).size == 3
    with pytest.raises(ValueError, match="at least 1"):
        Batch(3, 0)


def test_guard_picks_land_in_random_slots_and_selector_order_is_kept() -> None:
    seen = set()
    for seed in range(20):
        batch = Batch(10, 5)
        for i, guard in [(0, False), (7, True), (1, False), (2, False), (3, False)]:
            batch.take(i, guard=guard)
        order = batch.order(np.random.default_rng(seed)).tolist()
        seen.add(order.index(7))
        assert [i for i in order if i != 7] == [0, 1, 2, 3]
    assert len(seen) > 2


def test_rest_follows_utility_with_random_ties() -> None:
    utility = np.array([0.1, 0.5, 0.5, 0.9, 0.0])
    taken = np.array([False, False, False, False, True])
    firsts = {tuple(rest_order(utility, taken, np.random.default_rng(s))) for s in range(20)}
    assert firsts == {(3, 1, 2, 0), (3, 2, 1, 0)}


def test_full_order_is_the_batch_then_the_tail() -> None:
    batch = Batch(5, 2)
    batch.take(4)
    batch.take(0)
    batch.tail = np.array([0.0, 0.1, 0.9, 0.5, 0.0])
    order = full_order(batch, np.zeros(5), np.random.default_rng(0))
    assert order.tolist() == [4, 0, 2, 3, 1]
