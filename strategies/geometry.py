"""Distances between pool rows and a few centres at a time, never pool by pool.

A pool can be a dense 100,000 x 384 float32 matrix or a CSR matrix with 2^18 hashed
columns; a pool-by-pool distance matrix would need tens of GiB. Everything here works
from squared row norms and products with a bounded block of centres, so memory stays
at about ``CHUNK_CELLS`` floats whatever the pool size. Dense float32 stays float32
(half the memory traffic, which is what a matrix-vector product costs).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from strategies._types import BoolArray, Features, FloatArray, IntArray

#: Largest block (rows x centres) of products held in memory at once.
CHUNK_CELLS = 4_000_000
#: Labeled rows used as existing centres; above this a random subset stands in for them,
#: which bounds the first pass at pool x MAX_CENTRES products.
MAX_CENTRES = 2000


def _finite_dense(x: Any) -> Any:
    """``x`` itself when finite (the common case, checked by one cheap sum), else a copy."""
    return x if np.isfinite(x.sum(dtype=np.float64)) else np.nan_to_num(x, posinf=0.0, neginf=0.0)


def as_rows(features: Features) -> Any:
    """CSR for sparse input, a C-contiguous float array (float32 kept) for dense input.

    Never modifies the caller's matrix: NaN/inf become 0 and duplicate sparse entries
    are summed on a copy.
    """
    if sp.issparse(features):
        x = sp.csr_matrix(features)
        if x.dtype not in (np.float32, np.float64):
            x = x.astype(np.float64)
        if not x.has_canonical_format or not np.isfinite(x.data).all():
            x = x.copy()
            x.sum_duplicates()
            x.data = np.nan_to_num(x.data, posinf=0.0, neginf=0.0)
        return x
    x = np.asarray(features)
    if x.ndim != 2:
        raise ValueError(f"features must be a 2-d matrix (n_samples, n_features); got {x.shape}")
    dtype = np.float32 if x.dtype == np.float32 else np.float64
    return _finite_dense(np.ascontiguousarray(x, dtype=dtype))


def like(features: Features, reference: Any) -> Any:
    """``features`` in the same representation (sparse or dense) as ``reference``."""
    if sp.issparse(reference):
        return as_rows(sp.csr_matrix(features, dtype=reference.dtype))
    dense = sp.csr_matrix(features).toarray() if sp.issparse(features) else np.asarray(features)
    x = np.ascontiguousarray(dense, dtype=reference.dtype)
    if x.ndim != 2 or x.shape[1] != reference.shape[1]:
        raise ValueError(
            f"labeled features have {x.shape[-1]} columns but the pool has {reference.shape[1]};"
            " featurize both the same way"
        )
    return _finite_dense(x)


def row_sq_norms(x: Any) -> FloatArray:
    """Squared L2 norm of every row, as float64."""
    if sp.issparse(x):
        return np.asarray(x.multiply(x).sum(axis=1), dtype=np.float64).ravel()
    return np.einsum("ij,ij->i", x, x, dtype=np.float64)


def unit_rows(x: Any) -> Any:
    """Rows scaled to length 1 (an all-zero row stays zero)."""
    norms = np.sqrt(row_sq_norms(x))
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    if sp.issparse(x):
        return sp.csr_matrix(sp.diags(inv) @ x)
    return (x * inv[:, None].astype(x.dtype)).astype(x.dtype, copy=False)


def compact_columns(x: Any) -> Any:
    """A sparse matrix restricted to the columns where it has entries (distances unchanged).

    Clustering a few hundred hashed rows in 2^18 columns would give dense centres of
    2^18 floats each; only the columns those rows use matter.
    """
    if not sp.issparse(x):
        return x
    cols = np.unique(x.indices)
    if cols.size == 0:
        return sp.csr_matrix((x.shape[0], 1), dtype=x.dtype)
    return sp.csr_matrix(x[:, cols])


def products(x: Any, y: Any) -> FloatArray:
    """``x @ y.T`` as a dense float64 array (the caller keeps ``y`` small)."""
    out = x @ y.T
    return np.asarray(out.toarray() if sp.issparse(out) else out, dtype=np.float64)


def _min_sq_dist(x: Any, x_sq: FloatArray, centres: Any) -> FloatArray:
    c_sq = row_sq_norms(centres)
    best = np.full(x.shape[0], np.inf)
    step_c = max(1, min(centres.shape[0], 1024))
    step_r = max(1, CHUNK_CELLS // step_c)
    for c0 in range(0, centres.shape[0], step_c):
        block = centres[c0 : c0 + step_c]
        for r0 in range(0, x.shape[0], step_r):
            d2 = x_sq[r0 : r0 + step_r, None] - 2.0 * products(x[r0 : r0 + step_r], block)
            d2 += c_sq[None, c0 : c0 + step_c]
            np.minimum(best[r0 : r0 + step_r], d2.min(axis=1), out=best[r0 : r0 + step_r])
    return np.maximum(best, 0.0)


class NearestCentre:
    """Squared distance from every pool row to its nearest centre, one new centre at a time.

    Adding a centre costs one matrix-vector product over the pool; memory is O(pool).
    Without any centre every distance is ``inf``.
    """

    def __init__(
        self,
        features: Features,
        centres: Features | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.x = as_rows(features)
        self.sq = row_sq_norms(self.x)
        self.dist2 = np.full(self.x.shape[0], np.inf)
        self._buffer = np.zeros(self.x.shape[1], dtype=self.x.dtype) if sp.issparse(self.x) else None
        if centres is not None and centres.shape[0] > 0:
            c = like(centres, self.x)
            if c.shape[0] > MAX_CENTRES:
                keep = (rng or np.random.default_rng(0)).choice(c.shape[0], MAX_CENTRES, replace=False)
                c = c[np.sort(keep)]
            self.dist2 = _min_sq_dist(self.x, self.sq, c)

    def dots(self, i: int) -> FloatArray:
        """Inner products of pool row ``i`` with every pool row."""
        if self._buffer is None:
            return np.asarray(self.x @ self.x[i], dtype=np.float64)
        lo, hi = self.x.indptr[i], self.x.indptr[i + 1]
        cols = self.x.indices[lo:hi]
        self._buffer[cols] = self.x.data[lo:hi]
        out = np.asarray(self.x @ self._buffer, dtype=np.float64)
        self._buffer[cols] = 0.0
        return out

    def add(self, i: int) -> FloatArray:
        """Make pool row ``i`` a centre; returns its squared distances to every row."""
        d2 = np.maximum(self.sq - 2.0 * self.dots(i) + self.sq[i], 0.0)
        d2[i] = 0.0
        np.minimum(self.dist2, d2, out=self.dist2)
        return d2


def masked_argmax(values: FloatArray, allowed: BoolArray, tiebreak: FloatArray) -> int:
    """Index of the largest allowed value, ties broken by ``tiebreak`` (-1 if none allowed)."""
    idx: IntArray = np.flatnonzero(allowed)
    if idx.size == 0:
        return -1
    v = values[idx]
    top = np.flatnonzero(v == v.max())
    return int(idx[top[np.argmax(tiebreak[idx[top]])]]) if top.size > 1 else int(idx[top[0]])
