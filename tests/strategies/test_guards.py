"""Exploration share, class balance and starved classes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from strategies import STRATEGIES, Pool, order_from_scores
from strategies.batch import Batch
from strategies.guards import (
    class_counts,
    explore,
    new_batch,
    reserve_starved,
    spent_per_class,
    starved_classes,
)


@pytest.mark.parametrize(("share", "size"), [(0.1, 10), (0.1, 1), (0.25, 4), (0.3, 100)])
def test_exploration_share_is_the_requested_one_on_average(share: float, size: int) -> None:
    rng = np.random.default_rng(0)
    guarded = 0
    trials = 400
    for _ in range(trials):
        batch = Batch(500, size)
        explore(batch, share, rng)
        guarded += sum(batch.from_guard)
    assert guarded / (trials * size) == pytest.approx(share, abs=0.03)


def test_exploration_picks_are_uniform_over_the_pool() -> None:
    rng = np.random.default_rng(1)
    hits = np.zeros(20)
    for _ in range(2000):
        batch = Batch(20, 1)
        explore(batch, 1.0, rng)
        hits[batch.picks] += 1
    assert hits.min() > 60 and hits.max() < 140


def test_no_share_means_no_random_picks() -> None:
    batch = Batch(10, 5)
    explore(batch, 0.0, np.random.default_rng(0))
    assert batch.picks == []


def _counts(pool: Pool, n_classes: int) -> list[int]:
    counts = class_counts(pool, n_classes)
    assert counts is not None
    return [int(c) for c in counts]


def test_class_counts_single_and_multilabel(make_pool: Any) -> None:
    pool = make_pool(labeled_targets=np.array([0, 0, 2, 7, -1]))
    assert _counts(pool, 3) == [2, 0, 1]
    multi = make_pool(multilabel=True, labeled_targets=np.array([[1, 0], [1, 1]]))
    assert _counts(multi, 3) == [2, 1, 0]
    assert class_counts(make_pool(labeled_targets=np.array(["a", "b"])), 3) is None
    assert _counts(make_pool(labeled_targets=None), 2) == [0, 0]


def test_starved_classes_fewest_first(make_pool: Any) -> None:
    pool = make_pool(labeled_targets=np.array([0, 0, 0, 2, 2, 0]))
    assert starved_classes(pool, 3).tolist() == [1, 2]
    assert starved_classes(make_pool(proba=None), 3).tolist() == []


def test_balance_caps_each_predicted_class_at_half_the_batch() -> None:
    proba = np.tile([0.55, 0.45], (20, 1))
    proba[15:] = [0.3, 0.7]
    pool = Pool(features=np.eye(20), proba=proba)
    batch = new_batch(pool, 10, balance=True)
    assert batch.cap == 5
    for i in range(20):
        if batch.available[i] and not batch.full:
            batch.take(i)
    assert batch.picks == [0, 1, 2, 3, 4, 15, 16, 17, 18, 19]


def test_balance_spreads_a_guarded_batch_across_predicted_classes() -> None:
    """Every ambiguous task is predicted class 0; plain margin spends the batch on it."""
    rng = np.random.default_rng(0)
    proba = np.vstack([np.tile([0.5, 0.45, 0.05], (30, 1)), np.tile([0.1, 0.1, 0.8], (30, 1))])
    targets = np.repeat([0, 1, 2], 5)
    pool = Pool(features=rng.random((60, 4)), proba=proba, labeled_features=rng.random((15, 4)),
                labeled_targets=targets)
    plain = order_from_scores(STRATEGIES["margin"].rank(pool, 10, 0))[:10]
    guarded = order_from_scores(STRATEGIES["margin_explore"].rank(pool, 10, 0))[:10]
    assert (plain < 30).all()
    assert (guarded < 30).sum() <= 5


def test_a_starved_class_gets_its_likeliest_member() -> None:
    proba = np.tile([0.8, 0.15, 0.05], (10, 1))
    proba[6] = [0.5, 0.1, 0.4]
    pool = Pool(features=np.eye(10), proba=proba, labeled_targets=np.array([0, 0, 0, 1, 1, 1, 2]))
    batch = new_batch(pool, 4, balance=True)
    reserve_starved(pool, batch, np.zeros(10))
    assert batch.picks == [6] and batch.from_guard == [True]


def test_a_class_nobody_predicts_gets_no_slot() -> None:
    proba = np.tile([0.6, 0.4, 0.0], (10, 1))
    pool = Pool(features=np.eye(10), proba=proba, labeled_targets=np.array([0, 0, 0, 1, 1, 1]))
    batch = new_batch(pool, 4, balance=True)
    reserve_starved(pool, batch, np.zeros(10))
    assert batch.picks == []


def test_spent_per_class_counts_the_model_classes_or_one_without_a_model(make_pool: Any) -> None:
    assert make_pool(n_classes=3).n_classes == 3 and make_pool(proba=None).n_classes == 0
    assert not spent_per_class(make_pool(n_classes=3, n_labeled=11), 4)
    assert spent_per_class(make_pool(n_classes=3, n_labeled=12), 4)
    assert spent_per_class(make_pool(proba=None, n_labeled=4), 4)
    assert not spent_per_class(make_pool(proba=None, n_labeled=3), 4)
