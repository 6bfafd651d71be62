"""Cold start: typical and diverse tasks first, until every class has a few labels."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from strategies import Pool, cold_start_scores
from strategies.batch import Batch
from strategies.coldstart import needs_cold_start, typical_diverse, typicality


def _groups_and_outliers(blobs: Any) -> tuple[np.ndarray, np.ndarray]:
    x, group = blobs(n_per=20, centres=3)
    x = np.abs(x) + 0.5  # shared positive mass: every row resembles the pool a little
    outliers = np.zeros((3, x.shape[1]))
    outliers[:, 3:] = [[9.0, 0.1], [0.1, 9.0], [6.0, 6.0]]
    return np.vstack([x, outliers]), np.concatenate([group, [-1, -1, -1]])


def test_typicality_prefers_the_bulk_over_outliers(blobs: Any) -> None:
    x, group = _groups_and_outliers(blobs)
    t = typicality(x)
    assert t[group >= 0].min() > t[group < 0].max()


def test_typicality_sparse_equals_dense(blobs: Any) -> None:
    x, _ = _groups_and_outliers(blobs)
    assert np.allclose(typicality(x), typicality(sp.csr_matrix(x)))


def test_cold_start_scores_put_typical_tasks_first(blobs: Any) -> None:
    x, group = _groups_and_outliers(blobs)
    scores = cold_start_scores(Pool(features=x))
    assert scores[group < 0].min() > scores[group >= 0].max()


def test_typical_diverse_covers_every_group_and_skips_outliers(blobs: Any) -> None:
    x, group = _groups_and_outliers(blobs)
    batch = Batch(len(x), 3)
    typical_diverse(Pool(features=x), typicality(x), batch, np.random.default_rng(0))
    assert sorted(group[batch.picks]) == [0, 1, 2]


def test_typical_diverse_avoids_groups_already_labeled(blobs: Any) -> None:
    x, group = _groups_and_outliers(blobs)
    pool = Pool(features=x, labeled_features=x[group == 0][:2])
    batch = Batch(len(x), 2)
    typical_diverse(pool, typicality(x), batch, np.random.default_rng(0))
    assert sorted(group[batch.picks]) == [1, 2]


def test_cold_start_until_each_class_has_three_labels(make_pool: Any) -> None:
    assert needs_cold_start(make_pool(proba=None))
    assert needs_cold_start(make_pool(labeled_targets=np.array([0, 0, 0, 1, 1, 1, 2, 2])))
    assert not needs_cold_start(make_pool(labeled_targets=np.repeat([0, 1, 2], 3)))


def test_cold_start_ends_after_enough_labels_even_if_a_class_never_shows(make_pool: Any) -> None:
    few = make_pool(labeled_targets=np.repeat([0, 1], 5))
    many = make_pool(labeled_targets=np.repeat([0, 1], 15))
    assert needs_cold_start(few) and not needs_cold_start(many)


def test_unreadable_targets_do_not_hold_the_cold_start(make_pool: Any) -> None:
    assert not needs_cold_start(make_pool(labeled_targets=np.array(["x", "y"])))
