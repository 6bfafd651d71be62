"""The contract every registered strategy keeps, plus the registry's lookup rules."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from strategies import (
    DEFAULT_STRATEGY,
    STRATEGIES,
    Pool,
    Strategy,
    UnknownStrategyError,
    get_strategy,
    order_from_scores,
)

NAMES = sorted(STRATEGIES)
BATCH = 7


def _check(strategy: Strategy, pool: Pool, batch_size: int = BATCH) -> np.ndarray:
    """Shape, range, finiteness and order encoding: the promises of every strategy."""
    scores = strategy.rank(pool, batch_size=batch_size, random_state=3)
    n = pool.n_samples
    assert scores.shape == (n,)
    assert np.isfinite(scores).all()
    assert ((scores >= 0.0) & (scores <= 1.0)).all()
    order = order_from_scores(scores)
    assert np.array_equal(np.sort(order), np.arange(n))
    if not strategy.per_task:
        # a batch strategy encodes a strict order: position i of n scores i / (n - 1)
        assert len(np.unique(scores)) == n
        assert np.allclose(scores[order], np.arange(n) / max(n - 1, 1))
    return scores


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["dense", "sparse"])
def test_shapes_range_and_order(name: str, kind: str, make_pool: Any) -> None:
    _check(STRATEGIES[name], make_pool(kind))


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_scores(name: str, make_pool: Any) -> None:
    pool = make_pool("sparse")
    first = STRATEGIES[name].rank(pool, batch_size=BATCH, random_state=11)
    again = STRATEGIES[name].rank(pool, batch_size=BATCH, random_state=11)
    assert np.array_equal(first, again)


@pytest.mark.parametrize("name", NAMES)
def test_seed_is_the_only_randomness(name: str, make_pool: Any) -> None:
    """A Generator passed in is consumed, not copied: two calls on one Generator may differ,
    but a fresh Generator with the same seed reproduces the first call."""
    pool = make_pool()
    gen = np.random.default_rng(5)
    first = STRATEGIES[name].rank(pool, BATCH, gen)
    assert np.array_equal(first, STRATEGIES[name].rank(pool, BATCH, np.random.default_rng(5)))


@pytest.mark.parametrize("name", NAMES)
def test_pool_smaller_than_batch(name: str, make_pool: Any) -> None:
    pool = make_pool(n=4)
    _check(STRATEGIES[name], pool, batch_size=10)


@pytest.mark.parametrize("name", NAMES)
def test_empty_pool(name: str, make_pool: Any) -> None:
    pool = make_pool(n=1)
    empty = Pool(features=pool.features[:0], proba=np.zeros((0, 3)))
    assert STRATEGIES[name].rank(empty, BATCH, 0).shape == (0,)


@pytest.mark.parametrize("name", NAMES)
def test_single_class(name: str, make_pool: Any) -> None:
    pool = make_pool(n=30, n_classes=1, labeled_targets=np.zeros(12, dtype=int))
    assert pool.proba is not None and pool.proba.shape[1] == 1
    _check(STRATEGIES[name], pool)


@pytest.mark.parametrize("name", NAMES)
def test_labels_of_one_class_with_several_columns(name: str, make_pool: Any) -> None:
    _check(STRATEGIES[name], make_pool("sparse", labeled_targets=np.ones(12, dtype=int)))


@pytest.mark.parametrize("name", NAMES)
def test_nan_and_degenerate_probabilities(name: str, make_pool: Any) -> None:
    pool = make_pool()
    assert pool.proba is not None
    proba = pool.proba.copy()
    proba[0] = np.nan
    proba[1] = 0.0
    proba[2] = [5.0, -1.0, np.inf]
    proba[3] = [1.0, 1.0, 1.0]
    _check(STRATEGIES[name], make_pool(proba=proba))


@pytest.mark.parametrize("name", NAMES)
def test_non_finite_features(name: str, make_pool: Any) -> None:
    pool = make_pool()
    features = np.array(pool.features, copy=True)
    features[0, 0], features[1, :] = np.nan, np.inf
    _check(STRATEGIES[name], make_pool(features=features))
    assert np.isnan(features[0, 0])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["dense", "sparse"])
def test_cold_start(name: str, kind: str, make_pool: Any) -> None:
    """No model and no labels at all: still a full, valid order."""
    pool = make_pool(kind, proba=None, labeled_features=None, labeled_targets=None)
    _check(STRATEGIES[name], pool)


@pytest.mark.parametrize("name", NAMES)
def test_multilabel(name: str, make_pool: Any) -> None:
    _check(STRATEGIES[name], make_pool("sparse", multilabel=True, n_classes=4))


@pytest.mark.parametrize("name", NAMES)
def test_float64_dense_and_coo_input(name: str, make_pool: Any) -> None:
    pool = make_pool()
    dense64 = np.asarray(pool.features, dtype=np.float64)
    _check(STRATEGIES[name], make_pool(features=dense64))
    sparse = make_pool("sparse")
    _check(STRATEGIES[name], make_pool("sparse", features=sp.coo_matrix(sparse.features)))


def test_every_strategy_is_described_under_its_own_name() -> None:
    for name, strategy in STRATEGIES.items():
        assert strategy.name == name
        assert len(strategy.description) > 10


def test_default_is_registered_and_found_by_default_names() -> None:
    assert DEFAULT_STRATEGY in STRATEGIES
    for alias in (None, "", "default"):
        assert get_strategy(alias) is STRATEGIES[DEFAULT_STRATEGY]


def test_names_are_case_and_space_insensitive() -> None:
    assert get_strategy("  Margin ") is STRATEGIES["margin"]


def test_unknown_name_lists_the_choices() -> None:
    with pytest.raises(UnknownStrategyError, match="coreset"):
        get_strategy("no-such-strategy")


def test_batch_size_must_be_positive(make_pool: Any) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        STRATEGIES["margin"].rank(make_pool(), batch_size=0)


def test_focused_clue_picks_only_among_the_most_uncertain(make_pool: Any) -> None:
    """The default's CLUE clusters the 10 x batch smallest margins only; ``clue`` reaches wider."""
    pool = make_pool(n=2000, n_labeled=60)
    top2 = np.sort(pool.proba, axis=1)[:, -2:]
    narrowest = set(np.argsort(top2[:, 1] - top2[:, 0], kind="stable")[: 10 * BATCH].tolist())

    def first_batch(name: str) -> set[int]:
        scores = STRATEGIES[name].rank(pool, batch_size=BATCH, random_state=0)
        return set(order_from_scores(scores)[:BATCH].tolist())

    assert first_batch("focused_clue") <= narrowest
    assert not first_batch("clue") <= narrowest


PER_TASK = sorted(name for name, s in STRATEGIES.items() if s.per_task)


def _subset(pool: Pool, rows: np.ndarray) -> Pool:
    features = pool.features[rows]
    return Pool(features=features, proba=None if pool.proba is None else pool.proba[rows], multilabel=pool.multilabel,
                labeled_features=pool.labeled_features, labeled_targets=pool.labeled_targets,
                estimator=pool.estimator)


@pytest.mark.parametrize("name", PER_TASK)
@pytest.mark.parametrize("kind", ["dense", "sparse"])
@pytest.mark.parametrize("multilabel", [False, True])
def test_a_per_task_strategy_scores_a_subset_as_the_whole_pool(name: str, kind: str, multilabel: bool,
                                                               make_pool: Any) -> None:
    """What lets ``/predict`` score a few tasks on their own and agree with the push."""
    pool = make_pool(kind, multilabel=multilabel)
    whole = STRATEGIES[name].rank(pool, batch_size=BATCH, random_state=4)
    rows = np.random.default_rng(0).permutation(pool.n_samples)[: pool.n_samples // 3]
    part = STRATEGIES[name].rank(_subset(pool, rows), batch_size=BATCH, random_state=4)
    assert np.allclose(part, whole[rows], atol=1e-12), name


def test_the_per_task_ones_are_the_measures_of_one_task() -> None:
    assert "random" not in PER_TASK  # a random order is an order of the whole pool
    assert {"least_confidence", "margin", "entropy"} <= set(PER_TASK)
    assert {s.name for s in STRATEGIES.values() if s.refits} == {"qbc_vote", "qbc_consensus", "qbc_kl", "eer"}
