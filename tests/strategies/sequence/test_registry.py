"""The promises every sequence strategy keeps (one contract over the whole registry)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from strategies.scores import order_from_scores
from strategies.sequence import (
    DEFAULT_SEQUENCE_STRATEGY,
    SEQUENCE_STRATEGIES,
    SequencePool,
    UnknownSequenceStrategyError,
    get_sequence_strategy,
)


def make_pool(n: int = 60, seed: int = 0, model: bool = True, members: int = 0) -> SequencePool:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 12, n).astype(np.intp)
    features = sp.random(n, 200, density=0.05, format="csr", random_state=seed) + sp.eye(n, 200, format="csr")

    def marginals() -> np.ndarray:
        raw = rng.dirichlet(np.full(5, 0.3), int(lengths.sum()))
        return np.asarray(raw, dtype=np.float64)

    if not model:
        return SequencePool(features=features, lengths=lengths, entity_prior=rng.random(n))
    best = rng.random(n)
    return SequencePool(features=features, lengths=lengths, marginals=marginals(), best_proba=best,
                        second_proba=best * rng.random(n) * (1 - best), entity_prior=rng.random(n),
                        members=tuple(marginals() for _ in range(members)), n_labeled=20)


def pool_for(name: str, **kw: object) -> SequencePool:
    return make_pool(members=SEQUENCE_STRATEGIES[name].members, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(SEQUENCE_STRATEGIES))
def test_scores_are_in_range_one_per_sentence_and_reproducible(name: str) -> None:
    strategy = SEQUENCE_STRATEGIES[name]
    pool = pool_for(name)
    scores = strategy.rank(pool, 10, 7)
    assert scores.shape == (60,) and ((scores >= 0) & (scores <= 1)).all()
    assert np.array_equal(scores, strategy.rank(pool, 10, 7))


@pytest.mark.parametrize("name", sorted(SEQUENCE_STRATEGIES))
def test_cold_start_needs_no_model(name: str) -> None:
    scores = SEQUENCE_STRATEGIES[name].rank(make_pool(model=False), 10, 0)
    assert scores.shape == (60,) and ((scores >= 0) & (scores <= 1)).all()


@pytest.mark.parametrize("name", sorted(SEQUENCE_STRATEGIES))
def test_an_empty_pool_scores_nothing_and_a_bad_batch_is_refused(name: str) -> None:
    strategy = SEQUENCE_STRATEGIES[name]
    empty = SequencePool(features=sp.csr_matrix((0, 5)), lengths=np.zeros(0, dtype=np.intp))
    assert strategy.rank(empty, 10, 0).shape == (0,)
    with pytest.raises(ValueError, match="batch_size"):
        strategy.rank(pool_for(name), 0, 0)


@pytest.mark.parametrize("name", sorted(n for n, s in SEQUENCE_STRATEGIES.items() if s.per_task))
def test_per_task_strategies_score_a_subset_as_in_the_pool(name: str) -> None:
    pool = pool_for(name)
    whole = SEQUENCE_STRATEGIES[name].rank(pool, 10, 0)
    first = int(pool.lengths[:5].sum())
    sub = SequencePool(features=pool.features[:5], lengths=pool.lengths[:5], marginals=pool.marginals[:first],
                       best_proba=pool.best_proba[:5], second_proba=pool.second_proba[:5],
                       members=tuple(x[:first] for x in pool.members), n_labeled=20)
    assert SEQUENCE_STRATEGIES[name].rank(sub, 10, 0) == pytest.approx(whole[:5])


def test_least_confident_puts_the_least_likely_best_sequence_first() -> None:
    pool = make_pool()
    order = order_from_scores(get_sequence_strategy("least_confident").rank(pool, 10, 0))
    assert np.array_equal(order[:10], np.argsort(pool.best_proba, kind="stable")[:10])


def test_cold_start_asks_likely_entity_sentences_first() -> None:
    pool = make_pool(model=False)
    order = order_from_scores(get_sequence_strategy("entropy_sum").rank(pool, 10, 0))
    assert (pool.entity_prior[order[:30]] >= np.median(pool.entity_prior)).all()


def test_diverse_batch_spreads_over_clusters_of_near_copies() -> None:
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(6), 20)
    features = sp.csr_matrix(np.eye(6)[groups] * 5 + 0.01 * rng.random((120, 6)))
    lengths = np.full(120, 4, dtype=np.intp)
    marg = rng.dirichlet(np.ones(3), 480)
    best = np.where(groups == 0, 0.05, 0.5) + 0.01 * rng.random(120)  # group 0 is the most uncertain
    pool = SequencePool(features=features, lengths=lengths, marginals=marg, best_proba=best,
                        second_proba=best / 2, n_labeled=10)
    plain = order_from_scores(get_sequence_strategy("least_confident").rank(pool, 6, 0))[:6]
    spread = order_from_scores(get_sequence_strategy("diverse_least_confident").rank(pool, 6, 0))[:6]
    assert len(set(groups[plain])) == 1 and len(set(groups[spread])) > 1


def test_committee_without_members_is_refused() -> None:
    with pytest.raises(ValueError, match="committee"):
        get_sequence_strategy("committee").rank(make_pool(), 10, 0)


def test_names_and_the_default() -> None:
    assert get_sequence_strategy(None).name == DEFAULT_SEQUENCE_STRATEGY == get_sequence_strategy("default").name
    with pytest.raises(UnknownSequenceStrategyError, match="least_confident"):
        get_sequence_strategy("psychic")
    with pytest.raises(ValueError, match="lengths"):
        SequencePool(features=sp.eye(3, format="csr"), lengths=np.ones(2, dtype=np.intp))
