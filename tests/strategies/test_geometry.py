"""Row geometry without a pool-by-pool matrix, dense and sparse alike."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from strategies import geometry
from strategies.geometry import (
    as_rows,
    compact_columns,
    like,
    masked_argmax,
    min_sq_dist,
    nearest_sq_dist,
    row_sq_norms,
    unit_rows,
)


def brute(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    return ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2).min(axis=1)


@pytest.mark.parametrize("sparse", [False, True])
def test_min_distances_match_brute_force_in_small_blocks(
    sparse: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(geometry, "CHUNK_CELLS", 7)  # force many small blocks
    rng = np.random.default_rng(0)
    x = rng.random((30, 8)) * (rng.random((30, 8)) < 0.4)
    c = rng.random((5, 8))
    rows = as_rows(sp.csr_matrix(x) if sparse else x)
    centres = like(sp.csr_matrix(c) if sparse else c, rows)
    assert np.allclose(min_sq_dist(rows, row_sq_norms(rows), centres), brute(x, c))


@pytest.mark.parametrize("sparse", [False, True])
def test_nearest_centre_index_matches_brute_force_across_blocks(
    sparse: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(geometry, "CHUNK_CELLS", 6)
    monkeypatch.setattr(geometry, "CENTRE_BLOCK", 2)  # the nearest centre is often in a later block
    rng = np.random.default_rng(1)
    x, c = rng.random((23, 6)), rng.random((7, 6))
    rows = as_rows(sp.csr_matrix(x) if sparse else x)
    which, d2 = nearest_sq_dist(rows, row_sq_norms(rows), like(sp.csr_matrix(c) if sparse else c, rows))
    full = ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
    assert which.tolist() == full.argmin(axis=1).tolist()
    assert np.allclose(d2, full.min(axis=1))


def test_float32_stays_float32() -> None:
    assert as_rows(np.ones((4, 3), dtype=np.float32)).dtype == np.float32
    assert as_rows(np.ones((4, 3), dtype=np.int64)).dtype == np.float64


def test_labeled_rows_with_other_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="columns"):
        like(np.ones((2, 5)), as_rows(np.ones((3, 4))))


def test_features_must_be_a_matrix() -> None:
    with pytest.raises(ValueError, match="2-d"):
        as_rows(np.ones(3))


def test_dense_labeled_rows_join_a_sparse_pool() -> None:
    pool = sp.csr_matrix(np.eye(3))
    assert sp.issparse(like(np.eye(3)[:1], pool))


def test_unit_rows_keep_zero_rows() -> None:
    for x in (np.array([[3.0, 4.0], [0.0, 0.0]]), sp.csr_matrix([[3.0, 4.0], [0.0, 0.0]])):
        unit = unit_rows(as_rows(x))
        assert np.allclose(row_sq_norms(unit), [1.0, 0.0])


def test_compact_columns_keeps_distances() -> None:
    x = sp.csr_matrix(np.array([[0, 1.0, 0, 0, 2], [0, 0, 0, 0, 1], [0, 3.0, 0, 0, 0]]))
    small = compact_columns(x)
    assert small.shape == (3, 2)
    assert np.allclose(brute(x.toarray(), x.toarray()[:1]), brute(small.toarray(), small.toarray()[:1]))


def test_masked_argmax_skips_masked_and_breaks_ties() -> None:
    values = np.array([5.0, 3.0, 3.0, 1.0])
    allowed = np.array([False, True, True, True])
    assert masked_argmax(values, allowed, np.array([0, 0.1, 0.9, 0])) == 2
    assert masked_argmax(values, allowed, np.array([0, 0.9, 0.1, 0])) == 1
    assert masked_argmax(values, np.zeros(4, dtype=bool), np.zeros(4)) == -1


def test_non_finite_input_is_cleaned_on_a_copy() -> None:
    dense = np.array([[np.nan, 1.0], [np.inf, 2.0]], dtype=np.float32)
    assert np.array_equal(as_rows(dense), [[0.0, 1.0], [0.0, 2.0]])
    assert np.isnan(dense[0, 0])  # the caller's matrix is untouched
    sparse = sp.csr_matrix(np.array([[np.nan, 1.0]]))
    assert np.array_equal(as_rows(sparse).toarray(), [[0.0, 1.0]])
    assert np.isnan(sparse.data).any()


def test_duplicate_sparse_entries_are_summed() -> None:
    x = sp.csr_matrix((np.array([1.0, 2.0]), np.array([3, 3]), np.array([0, 2])), shape=(1, 5))
    assert row_sq_norms(as_rows(x))[0] == pytest.approx(9.0)
    assert x.data.size == 2  # on a copy


def test_pool_with_large_finite_values_is_kept() -> None:
    x = np.full((2, 2), 1e30)
    assert as_rows(x)[0, 0] == 1e30


def test_float32_norms_agree_with_float64() -> None:
    x = np.random.default_rng(0).standard_normal((50, 384)).astype(np.float32)
    norms = row_sq_norms(x)
    assert norms.dtype == np.float64
    assert np.allclose(norms, row_sq_norms(x.astype(np.float64)), rtol=1e-5)


def test_float32_pool_whose_sum_overflows_is_kept() -> None:
    x = np.full((4, 2), 3e38, dtype=np.float32)  # finite, but the float32 sum is inf
    rows = as_rows(x)
    assert rows.dtype == np.float32
    assert np.array_equal(rows, x)
