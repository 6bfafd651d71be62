"""Pool statistics: document frequencies over every pool text, refreshed by growth, pruning."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from backend.tasks.text_classification.features import N_FEATURES, featurize
from backend.tasks.text_classification.model import fit_idf
from backend.tasks.text_classification.pool import PoolStats, document_frequencies, pool_stats

POOL = ["good fun film", "fun fun fun", "dull plot", "slow dull plot", "unique words here"]


def test_document_frequencies_count_rows_not_occurrences() -> None:
    counts = featurize(POOL)
    df = document_frequencies(counts)
    fun = featurize(["fun"]).indices[0]
    dull = featurize(["dull"]).indices[0]
    assert df[fun] == 2 and df[dull] == 2
    assert df.sum() == sum(len(set(row.indices)) for row in counts)


def test_stats_of_parts_equal_stats_of_the_whole() -> None:
    whole = pool_stats(featurize(POOL))
    parts = pool_stats(featurize(POOL[:2]), None, featurize(POOL[2:]))
    assert parts.n_docs == whole.n_docs == len(POOL)
    np.testing.assert_array_equal(parts.df, whole.df)


def test_pool_idf_is_the_labeled_formula_over_the_pool() -> None:
    counts = featurize(POOL)
    np.testing.assert_allclose(pool_stats(counts).idf(), fit_idf(counts))


def test_refresh_after_the_pool_grew_by_the_share() -> None:
    stats = pool_stats(featurize(POOL))
    assert not stats.needs_refresh(5, share=0.2)
    assert not stats.needs_refresh(6, share=0.2)
    assert stats.needs_refresh(7, share=0.2)
    assert stats.needs_refresh(6, share=0.1)


def test_kept_drops_columns_seen_once_but_never_all() -> None:
    stats = pool_stats(featurize(POOL))
    columns = np.unique(featurize(POOL).indices).astype(np.intp)
    kept = stats.kept(columns, min_df=2)
    assert set(kept) == {c for c in columns if stats.df[c] >= 2}
    assert 0 < kept.size < columns.size
    rare = np.unique(featurize(["unique words"]).indices).astype(np.intp)
    np.testing.assert_array_equal(stats.kept(rare, min_df=2), rare)


def test_an_empty_pool_has_no_documents() -> None:
    stats = pool_stats(sp.csr_matrix((0, N_FEATURES)))
    assert stats.n_docs == 0 and stats.df.sum() == 0


@pytest.mark.parametrize(("n_docs", "shape"), [(-1, (N_FEATURES,)), (3, (10,))])
def test_bad_statistics_are_refused(n_docs: int, shape: tuple[int]) -> None:
    with pytest.raises(ValueError, match=r"n_docs|df"):
        PoolStats(n_docs, np.zeros(shape, dtype=np.int32))


def test_the_kind_counts_unlabeled_and_labeled_texts_and_refreshes_by_growth() -> None:
    from backend.tasks.text_classification.kind import TEXT_CLASSIFICATION
    from backend.tasks.text_classification.model import train_model

    model = train_model(featurize(POOL[:2]), [0, 1], ("a", "b"))
    first = TEXT_CLASSIFICATION.pool_stats(featurize(POOL[2:]), model)
    assert first is not None and first.n_docs == len(POOL)
    np.testing.assert_array_equal(first.df, pool_stats(featurize(POOL)).df)
    assert TEXT_CLASSIFICATION.pool_stats(featurize(POOL[2:]), model, first) is None
    grown = TEXT_CLASSIFICATION.pool_stats(featurize(POOL[2:] * 3), model, first)
    assert grown is not None and grown.n_docs == 2 + 3 * 3
    cold = TEXT_CLASSIFICATION.pool_stats(featurize(POOL), None)
    assert cold is not None and cold.n_docs == len(POOL)
