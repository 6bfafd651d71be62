"""Term statistics of the whole pool: what every task says before any of them is labeled.

An IDF fitted on the labeled texts alone (a few dozen early on) calls every word rare; the
pool's own document frequencies are known from the start and say which words are common.
The statistics are fitted once and refreshed only when the pool has grown by a share
(:data:`REFRESH_SHARE`), and each model copies its IDF into its artifact, so every process
weighs a task the same way for a given version.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from backend.tasks.text_classification.features import N_FEATURES

#: Refit the pool's statistics once it has this share more tasks than when they were fitted.
REFRESH_SHARE = 0.2
#: A hashed column in fewer pool tasks than this is dropped from the model's columns
#: (a term seen in one task cannot say anything about another).
MIN_POOL_DF = 2


@dataclass(frozen=True)
class PoolStats:
    """Document frequencies over ``n_docs`` pool texts (labeled and unlabeled)."""

    n_docs: int
    df: npt.NDArray[np.int32]

    def __post_init__(self) -> None:
        if self.n_docs < 0:
            raise ValueError(f"n_docs must be >= 0, got {self.n_docs}")
        if self.df.shape != (N_FEATURES,):
            raise ValueError(f"df must have {N_FEATURES} entries, got shape {self.df.shape}")

    def idf(self) -> npt.NDArray[np.float64]:
        """Smoothed IDF (scikit-learn's formula), as the labeled-only IDF is computed."""
        return np.log((1.0 + self.n_docs) / (1.0 + self.df)) + 1.0

    def kept(self, columns: npt.NDArray[np.intp], min_df: int = MIN_POOL_DF) -> npt.NDArray[np.intp]:
        """``columns`` without those seen in fewer than ``min_df`` pool texts (never none)."""
        keep = columns[self.df[columns] >= min_df]
        return keep if keep.size else columns

    def needs_refresh(self, n_docs: int, share: float = REFRESH_SHARE) -> bool:
        """Whether a pool of ``n_docs`` texts has outgrown these statistics."""
        return n_docs > self.n_docs * (1.0 + share)


def document_frequencies(counts: sp.spmatrix) -> npt.NDArray[np.int32]:
    """In how many rows each hashed column occurs."""
    x = sp.csr_matrix(counts)
    x.sum_duplicates()
    return np.bincount(x.indices[x.data != 0], minlength=N_FEATURES).astype(np.int32)


def pool_stats(*parts: sp.spmatrix | None) -> PoolStats:
    """The statistics of the pool made of ``parts`` (the unlabeled counts, the labeled ones)."""
    present = [p for p in parts if p is not None and p.shape[0] > 0]
    df = np.zeros(N_FEATURES, dtype=np.int32)
    for part in present:
        df += document_frequencies(part)
    return PoolStats(int(sum(p.shape[0] for p in present)), df)
