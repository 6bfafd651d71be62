"""Information density: similarity to the pool without a pool-by-pool matrix."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from strategies import Pool
from strategies.density import similarity, weighted


def _crowd_and_outlier() -> np.ndarray:
    rng = np.random.default_rng(0)
    crowd = np.abs([1.0, 1.0, 0.0] + 0.05 * rng.standard_normal((40, 3)))
    return np.vstack([crowd, [[0.0, 0.0, 1.0]]])


def test_a_crowded_task_is_more_similar_than_an_outlier() -> None:
    sim = similarity(_crowd_and_outlier(), np.random.default_rng(0), n_centres=1)
    assert sim[:40].min() > sim[40]
    assert ((sim >= 0) & (sim <= 1)).all()


def test_one_centre_is_proportional_to_the_average_cosine_similarity() -> None:
    x = _crowd_and_outlier()
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    average = (unit @ unit.T).mean(axis=1)
    sim = similarity(x, np.random.default_rng(0), n_centres=1)
    assert np.allclose(sim / sim.max(), average / average.max())


def test_several_centres_serve_several_groups(blobs: Any) -> None:
    x, _ = blobs(n_per=20, centres=3)
    x = np.vstack([np.abs(x), [[0, 0, 0, 1.0, 1.0]]])
    sim = similarity(x, np.random.default_rng(0), n_centres=3)
    assert sim[:60].min() > 0.9 > sim[60]


def test_sparse_matches_dense() -> None:
    x = _crowd_and_outlier()
    dense = similarity(x, np.random.default_rng(3), n_centres=1)
    sparse = similarity(sp.csr_matrix(x), np.random.default_rng(3), n_centres=1)
    assert np.allclose(dense, sparse)


def test_zero_rows_and_empty_pools() -> None:
    assert np.array_equal(similarity(np.zeros((3, 2)), np.random.default_rng(0)), np.zeros(3))
    assert similarity(np.zeros((0, 2)), np.random.default_rng(0)).shape == (0,)


def test_weighting_demotes_an_uncertain_outlier() -> None:
    x = _crowd_and_outlier()

    def flat(pool: Pool, rng: np.random.Generator) -> np.ndarray:
        u = np.full(pool.n_samples, 0.8)
        u[-1] = 0.9  # the outlier is the most uncertain
        return u

    u = weighted(flat, beta=2.0, n_centres=1)(Pool(features=x), np.random.default_rng(0))
    assert np.argmax(u) != 40


def test_sparse_centres_fitted_on_used_columns_match_dense(blobs: Any) -> None:
    x, _ = blobs(n_per=20, centres=3)
    x = np.hstack([np.abs(x), np.zeros((60, 50))])
    dense = similarity(x, np.random.default_rng(3), n_centres=3)
    sparse = similarity(sp.csr_matrix(x), np.random.default_rng(3), n_centres=3)
    assert np.allclose(dense, sparse, atol=1e-6)


def test_sparse_only_weighting_leaves_dense_features_to_the_measure() -> None:
    x = np.abs(_crowd_and_outlier())

    def flat(pool: Pool, rng: np.random.Generator) -> np.ndarray:
        u = np.full(pool.n_samples, 0.8)
        u[-1] = 0.9
        return u

    text_only = weighted(flat, beta=2.0, n_centres=1, sparse_only=True)
    dense = text_only(Pool(features=x), np.random.default_rng(0))
    assert np.array_equal(dense, flat(Pool(features=x), np.random.default_rng(0)))
    sparse = text_only(Pool(features=sp.csr_matrix(x)), np.random.default_rng(0))
    assert np.argmax(sparse) != len(x) - 1  # on text the outlier is demoted as before
