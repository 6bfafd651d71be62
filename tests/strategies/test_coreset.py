"""Greedy k-center: spread-out picks, labeled rows as centres, dense = sparse."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from strategies import Pool
from strategies.batch import Batch
from strategies.coreset import k_center


def _select(pool: Pool, size: int, seed: int = 0) -> Batch:
    batch = Batch(pool.n_samples, size)
    k_center(pool, np.zeros(pool.n_samples), batch, np.random.default_rng(seed))
    return batch


def test_one_pick_per_group(blobs: Any) -> None:
    x, group = blobs(n_per=30, centres=4)
    batch = _select(Pool(features=x), 4)
    assert sorted(group[batch.picks]) == [0, 1, 2, 3]


def test_groups_already_labeled_are_skipped(blobs: Any) -> None:
    x, group = blobs(n_per=30, centres=4)
    labeled = x[group < 2][:3]
    batch = _select(Pool(features=x, labeled_features=labeled), 2)
    assert sorted(group[batch.picks]) == [2, 3]


def test_first_pick_without_labels_is_the_most_useful() -> None:
    x = np.random.default_rng(0).random((20, 3))
    utility = np.zeros(20)
    utility[13] = 1.0
    batch = Batch(20, 1)
    k_center(Pool(features=x), utility, batch, np.random.default_rng(0))
    assert batch.picks == [13]


def test_sparse_and_dense_pick_the_same(blobs: Any) -> None:
    x, _ = blobs(n_per=15, centres=3, seed=4)
    x = np.abs(x)
    dense = _select(Pool(features=x, labeled_features=x[:2]), 5).picks
    sparse = _select(Pool(features=sp.csr_matrix(x), labeled_features=sp.csr_matrix(x[:2])), 5).picks
    assert dense == sparse


def test_rest_is_ordered_by_distance_to_the_nearest_centre() -> None:
    x = np.arange(10.0)[:, None]
    batch = _select(Pool(features=x, labeled_features=np.array([[0.0]])), 1)
    assert batch.picks == [9]
    assert batch.tail is not None and np.argmax(batch.tail) in (4, 5)


def test_respects_the_batch_mask() -> None:
    x = np.arange(10.0)[:, None]
    batch = Batch(10, 2, classes=np.array([0] * 5 + [1] * 5), cap=1)
    k_center(Pool(features=x, labeled_features=np.array([[0.0]])), np.zeros(10), batch,
             np.random.default_rng(0))
    assert batch.picks == [9, 4]
