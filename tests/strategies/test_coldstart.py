"""Cold start: representative tasks of every group first, until each class has a few labels."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from strategies import Pool, cold_start_scores, order_from_scores
from strategies.batch import Batch
from strategies.coldstart import needs_cold_start, representative, representative_order


def _groups(blobs: Any, sizes: tuple[int, ...] = (40, 25, 10)) -> tuple[np.ndarray, np.ndarray]:
    """Three separated groups of different sizes, rows shuffled so index order says nothing."""
    x, group = blobs(n_per=max(sizes), centres=len(sizes), spread=0.3)
    keep = np.concatenate([np.flatnonzero(group == g)[:n] for g, n in enumerate(sizes)])
    perm = np.random.default_rng(1).permutation(keep)
    return x[perm], group[perm]


def test_the_first_rounds_take_one_task_of_each_group_biggest_first(blobs: Any) -> None:
    x, group = _groups(blobs)
    order = representative_order(x, 3, np.random.default_rng(0))
    assert sorted(order.tolist()) == list(range(len(x)))
    assert group[order[:3]].tolist() == [0, 1, 2]
    assert sorted(group[order[3:6]].tolist()) == [0, 1, 2]  # round-robin, not the big group again


def test_each_group_is_represented_by_its_central_task(blobs: Any) -> None:
    x, group = _groups(blobs)
    order = representative_order(x, 3, np.random.default_rng(0))
    for g in range(3):
        members = np.flatnonzero(group == g)
        centre = x[members].mean(axis=0)
        nearest = members[np.argsort(((x[members] - centre) ** 2).sum(axis=1))[:3]]
        assert order[g] in nearest


def test_sparse_rows_give_the_same_first_round(blobs: Any) -> None:
    x, group = _groups(blobs)
    x = np.abs(x)
    dense = representative_order(x, 3, np.random.default_rng(0))
    sparse = representative_order(sp.csr_matrix(x), 3, np.random.default_rng(0))
    assert sorted(group[dense[:3]].tolist()) == sorted(group[sparse[:3]].tolist()) == [0, 1, 2]


def test_large_pools_are_clustered_on_a_sample(blobs: Any, monkeypatch: Any) -> None:
    import strategies.coldstart as coldstart

    monkeypatch.setattr(coldstart, "FIT_SAMPLE", 30)
    x, group = _groups(blobs)
    order = representative_order(x, 3, np.random.default_rng(0))
    assert sorted(group[order[:3]].tolist()) == [0, 1, 2]
    assert sorted(order.tolist()) == list(range(len(x)))


def test_groups_already_labeled_wait_their_turn(blobs: Any) -> None:
    x, group = _groups(blobs)
    labeled = x[group == 0][:2]
    pool = Pool(features=x, labeled_features=labeled, labeled_targets=np.zeros(2, dtype=int))
    batch = Batch(len(x), 2)
    representative(pool, np.zeros(len(x)), batch, np.random.default_rng(0))
    assert sorted(group[batch.picks].tolist()) == [1, 2]


def test_cold_start_scores_follow_the_representative_order(blobs: Any) -> None:
    x, group = _groups(blobs)
    scores = cold_start_scores(Pool(features=x), batch_size=3, rng=np.random.default_rng(0))
    assert np.all((scores >= 0) & (scores <= 1))
    assert sorted(group[order_from_scores(scores)[:3]].tolist()) == [0, 1, 2]


def test_a_pool_of_one_and_duplicate_rows(blobs: Any) -> None:
    assert representative_order(np.ones((1, 4)), 10, np.random.default_rng(0)).tolist() == [0]
    same = representative_order(np.ones((6, 4)), 3, np.random.default_rng(0))
    assert sorted(same.tolist()) == list(range(6))


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


def test_the_first_ten_digits_cover_more_classes_and_teach_more_than_ten_random_ones() -> None:
    """The reason for the cold start: on real data its first batch beats a random one."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x, y = load_digits(return_X_y=True)
    x = StandardScaler().fit_transform(x)

    def accuracy(rows: np.ndarray) -> float:
        model = LogisticRegression(C=10, max_iter=1000).fit(x[rows], y[rows])
        return float(model.score(x, y))

    ours, chance = [], []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        first = representative_order(x, 10, rng)[:10]
        assert len(set(y[first].tolist())) >= 8  # of 10 digits
        ours.append(accuracy(first))
        chance.append(accuracy(rng.permutation(len(x))[:10]))
    assert np.mean(ours) > np.mean(chance) + 0.1
