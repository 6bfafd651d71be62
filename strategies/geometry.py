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
#: Most centres multiplied against a block of rows at once.
CENTRE_BLOCK = 1024


def _finite_dense(x: Any) -> Any:
    """``x`` itself when finite (the common case, checked by one cheap sum), else a copy.

    The sum stays in the array's dtype (a float64 sum of float32 rows converts them
    block by block, three times slower); if a float32 sum overflows, the copy is made
    and changes nothing but its cost.
    """
    with np.errstate(over="ignore"):
        total = x.sum()
    return x if np.isfinite(total) else np.nan_to_num(x, posinf=0.0, neginf=0.0)


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
    """Squared L2 norm of every row, as float64.

    Float32 rows are summed in float32, as the products they are combined with in
    :func:`nearest_sq_dist` are; summing them in float64 made einsum convert every
    block first, six times slower.
    """
    if sp.issparse(x):
        return np.asarray(x.multiply(x).sum(axis=1), dtype=np.float64).ravel()
    if x.dtype == np.float32:
        return np.einsum("ij,ij->i", x, x).astype(np.float64)
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


def nearest_sq_dist(x: Any, x_sq: FloatArray, centres: Any) -> tuple[IntArray, FloatArray]:
    """Index of the nearest centre and ``min_c ||x - c||^2`` per row, block by block.

    Squared distances are ``||x||^2 + (||c||^2 - 2 x·c)``: the row norm is added after the
    minimum, and each block stays in the pool's dtype, so the only pass over a block is the
    product itself plus one fused update.
    """
    c_sq = row_sq_norms(centres)
    best = np.full(x.shape[0], np.inf)
    which = np.zeros(x.shape[0], dtype=np.intp)
    step_c = max(1, min(centres.shape[0], CENTRE_BLOCK))
    step_r = max(1, CHUNK_CELLS // step_c)
    for c0 in range(0, centres.shape[0], step_c):
        block_c = centres[c0 : c0 + step_c]
        offset = c_sq[c0 : c0 + step_c].astype(x.dtype)
        for r0 in range(0, x.shape[0], step_r):
            prod = x[r0 : r0 + step_r] @ block_c.T
            prod = prod.toarray() if sp.issparse(prod) else np.asarray(prod)
            prod *= -2.0
            prod += offset[None, :]
            arg = prod.argmin(axis=1)
            low = prod[np.arange(prod.shape[0]), arg]
            rows = slice(r0, r0 + step_r)
            better = low < best[rows]
            which[rows][better] = arg[better] + c0
            best[rows][better] = low[better]
    return which, np.maximum(best + x_sq, 0.0)


def min_sq_dist(x: Any, x_sq: FloatArray, centres: Any) -> FloatArray:
    """``min_c ||x - c||^2`` per row (see :func:`nearest_sq_dist`)."""
    return nearest_sq_dist(x, x_sq, centres)[1]


def masked_argmax(values: FloatArray, allowed: BoolArray, tiebreak: FloatArray) -> int:
    """Index of the largest allowed value, ties broken by ``tiebreak`` (-1 if none allowed)."""
    idx: IntArray = np.flatnonzero(allowed)
    if idx.size == 0:
        return -1
    v = values[idx]
    top = np.flatnonzero(v == v.max())
    return int(idx[top[np.argmax(tiebreak[idx[top]])]]) if top.size > 1 else int(idx[top[0]])
