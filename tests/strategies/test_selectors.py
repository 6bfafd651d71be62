"""Top-k with random ties, and ranked batch mode."""

from __future__ import annotations

from typing import Any

import numpy as np

from strategies import Pool
from strategies.batch import Batch
from strategies.selectors import ranked_batch, top_k


def test_top_k_takes_the_highest_utilities_in_order() -> None:
    utility = np.array([0.2, 0.9, 0.5, 0.7])
    batch = Batch(4, 3)
    top_k(Pool(features=np.zeros((4, 1))), utility, batch, np.random.default_rng(0))
    assert batch.picks == [1, 3, 2]


def test_top_k_breaks_ties_at_random_but_reproducibly() -> None:
    pool = Pool(features=np.zeros((10, 1)))
    picks = []
    for seed in range(10):
        batch = Batch(10, 1)
        top_k(pool, np.ones(10), batch, np.random.default_rng(seed))
        picks.append(batch.picks[0])
    assert len(set(picks)) > 3  # not always the lowest index
    again = Batch(10, 1)
    top_k(pool, np.ones(10), again, np.random.default_rng(0))
    assert again.picks[0] == picks[0]


def test_top_k_honours_class_caps() -> None:
    utility = np.array([0.9, 0.8, 0.7, 0.1])
    batch = Batch(4, 2, classes=np.array([0, 0, 0, 1]), cap=1)
    top_k(Pool(features=np.zeros((4, 1))), utility, batch, np.random.default_rng(0))
    assert batch.picks == [0, 3]


def test_ranked_batch_spreads_out_while_labels_are_few(blobs: Any) -> None:
    x, group = blobs(n_per=20, centres=3)
    utility = np.where(group == 0, 1.0, 0.0)  # all the uncertainty in one group
    batch = Batch(len(x), 3)
    ranked_batch(Pool(features=x), utility, batch, np.random.default_rng(0))
    assert sorted(group[batch.picks]) == [0, 1, 2]


def test_ranked_batch_follows_uncertainty_once_labels_dominate(blobs: Any) -> None:
    x, group = blobs(n_per=20, centres=3)
    labeled = np.repeat(x, 50, axis=0)  # alpha = 60 / (60 + 3000): uncertainty rules
    utility = np.where(group == 0, 1.0, 0.0)
    batch = Batch(len(x), 3)
    ranked_batch(Pool(features=x, labeled_features=labeled), utility, batch, np.random.default_rng(0))
    assert (group[batch.picks] == 0).all()
    assert batch.tail is not None and batch.tail.shape == (len(x),)
