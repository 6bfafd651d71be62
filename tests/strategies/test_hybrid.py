"""Uncertainty plus diversity: best of each cluster, CLUE, and BADGE."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from strategies import Pool
from strategies.batch import Batch
from strategies.hybrid import _gradient_factors, badge, cluster_best, weighted_centres


def test_cluster_best_takes_one_per_group_of_near_copies(blobs: Any) -> None:
    x, group = blobs(n_per=10, centres=3)
    utility = np.where(group == 0, 0.9, 0.8)  # a top-k would spend the batch on group 0
    utility[np.arange(30) % 10 == 4] = 1.0  # each group's best is its 5th row
    batch = Batch(30, 3)
    cluster_best(factor=10)(Pool(features=x), utility, batch, np.random.default_rng(0))
    assert sorted(batch.picks) == [4, 14, 24]


def test_cluster_best_considers_only_the_most_uncertain(blobs: Any) -> None:
    x, group = blobs(n_per=10, centres=3)
    utility = np.where(group == 2, 0.0, 0.5) + np.linspace(0, 0.01, 30)
    batch = Batch(30, 2)
    cluster_best(factor=2)(Pool(features=x), utility, batch, np.random.default_rng(0))
    assert set(group[batch.picks]) <= {0, 1}


def hashed_rows(n: int, rng: np.random.Generator, per_row: int = 12) -> sp.csr_matrix:
    """Rows like hashed text: a dozen counts each among 2^18 columns."""
    cols = rng.integers(0, 2**18, size=(n, per_row))
    rows = np.repeat(np.arange(n), per_row)
    return sp.csr_matrix((np.ones(n * per_row), (rows, cols.ravel())), shape=(n, 2**18))


@pytest.mark.parametrize("selector", [cluster_best(), weighted_centres()], ids=["cluster_best", "clue"])
@pytest.mark.parametrize("flat", [False, True], ids=["utility", "zero_utility"])
def test_clustering_selectors_on_hashed_text_sized_sparse_rows(selector: Any, flat: bool) -> None:
    rng = np.random.default_rng(0)
    x = hashed_rows(200, rng)
    batch = Batch(200, 10)
    selector(Pool(features=x), np.zeros(200) if flat else rng.random(200), batch, rng)
    assert len(set(batch.picks)) == 10


def test_weighted_centres_takes_the_task_nearest_each_uncertain_group(blobs: Any) -> None:
    x, group = blobs(n_per=10, centres=3)
    x[np.arange(30) % 10 == 7] = x[np.arange(30) % 10 == 7].round() + 0.0  # the exact centre
    utility = np.where(group == 0, 0.9, 0.5)
    utility[np.arange(30) % 10 == 2] = 1.0  # the most uncertain row of each group is not central
    batch = Batch(30, 3)
    weighted_centres(factor=10)(Pool(features=x), utility, batch, np.random.default_rng(0))
    assert sorted(batch.picks) == [7, 17, 27]  # cluster_best would take rows 2, 12, 22
    assert batch.picks[0] == 7  # the group with the most uncertainty comes first


def test_weighted_centres_pulls_centres_towards_uncertain_tasks() -> None:
    # a tight group at 0 and a line from 5 to 6 whose far end is where the model is unsure
    line = np.linspace(5.0, 6.0, 11)
    x = np.concatenate([np.zeros(10), line])[:, None]
    utility = np.concatenate([np.full(10, 0.1), np.where(line > 5.75, 1.0, 0.05)])
    batch = Batch(21, 2)
    weighted_centres(factor=20)(Pool(features=x), utility, batch, np.random.default_rng(0))
    assert x[batch.picks[0], 0] > 5.7  # unweighted, the line's centre task is 5.5
    assert x[batch.picks[1], 0] == 0.0


def test_weighted_centres_only_among_the_best_candidates(blobs: Any) -> None:
    x, group = blobs(n_per=10, centres=3)
    utility = np.where(group == 2, 0.0, 0.5) + np.linspace(0, 0.01, 30)
    batch = Batch(30, 2)
    weighted_centres(factor=4)(Pool(features=x), utility, batch, np.random.default_rng(0))
    assert set(group[batch.picks]) <= {0, 1} and len(set(batch.picks)) == 2


def test_gradient_factors_vanish_for_confident_predictions() -> None:
    proba = np.array([[1.0, 0.0], [0.5, 0.5]])
    a = _gradient_factors(Pool(features=np.zeros((2, 1)), proba=proba))
    assert np.allclose(a[0], 0.0) and np.linalg.norm(a[1]) > 0.5


def test_badge_starts_from_the_largest_gradient() -> None:
    proba = np.tile([0.95, 0.05], (6, 1))
    proba[4] = [0.55, 0.45]
    batch = Batch(6, 1)
    badge(Pool(features=np.eye(6), proba=proba), np.zeros(6), batch, np.random.default_rng(0))
    assert batch.picks == [4]


def test_badge_never_picks_two_near_copies(blobs: Any) -> None:
    x, group = blobs(n_per=10, centres=3)
    proba = np.tile([0.5, 0.5], (30, 1))
    for seed in range(10):
        batch = Batch(30, 3)
        badge(Pool(features=x, proba=proba), np.zeros(30), batch, np.random.default_rng(seed))
        assert sorted(group[batch.picks]) == [0, 1, 2]


def test_badge_sparse_equals_dense(blobs: Any) -> None:
    x, _ = blobs(n_per=10, centres=3, seed=2)
    x = np.abs(x)
    proba = np.random.default_rng(3).dirichlet(np.ones(3), size=30)
    got = []
    for features in (x, sp.csr_matrix(x)):
        batch = Batch(30, 6)
        badge(Pool(features=features, proba=proba), np.zeros(30), batch, np.random.default_rng(7))
        got.append(batch.picks)
    assert got[0] == got[1]


def test_badge_without_any_gradient_falls_back_to_utility() -> None:
    proba = np.tile([1.0, 0.0], (5, 1))
    utility = np.array([0.1, 0.2, 0.9, 0.3, 0.8])
    batch = Batch(5, 2)
    badge(Pool(features=np.eye(5), proba=proba), utility, batch, np.random.default_rng(0))
    assert len(batch.picks) == 2 and 2 in batch.picks
