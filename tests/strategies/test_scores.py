"""The score convention: lower = label first, batch order encoded exactly."""

from __future__ import annotations

import numpy as np
import pytest

from strategies import order_from_scores, score_from_order, score_from_utility


def test_higher_utility_means_lower_score() -> None:
    scores = score_from_utility(np.array([0.9, 0.1, np.nan]))
    assert np.allclose(scores, [0.1, 0.9, 1.0])


def test_order_round_trips_through_scores() -> None:
    order = np.random.default_rng(0).permutation(50)
    scores = score_from_order(order)
    assert scores[order[0]] == 0.0 and scores[order[-1]] == 1.0
    assert np.array_equal(order_from_scores(scores), order)


def test_single_task_scores_zero() -> None:
    assert score_from_order(np.array([0])).tolist() == [0.0]


@pytest.mark.parametrize("order", [[0, 0, 1], [0, 2], [1, 2, 3]])
def test_non_permutation_is_refused(order: list[int]) -> None:
    with pytest.raises(ValueError, match="permutation"):
        score_from_order(np.array(order), n_samples=3)
