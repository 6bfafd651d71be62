"""Query by committee over bootstrap clones of the project's model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from strategies import Pool
from strategies.committee import (
    committee_proba,
    consensus_entropy,
    kl_max_disagreement,
    qbc,
    vote_entropy,
)
from strategies.measures import entropy

DISAGREEMENTS = [vote_entropy, consensus_entropy, kl_max_disagreement]


def _line_pool(**overrides: Any) -> Pool:
    """Two classes on a line, split at 0; the pool holds ambiguous 0-ish and obvious 6."""
    labeled = np.array([[-3.0], [-2.0], [-1.5], [-1.0], [-0.5], [0.5], [1.0], [1.5], [2.0], [3.0]])
    fields: dict[str, Any] = {
        "features": np.array([[6.0], [0.0], [-0.1], [0.1], [-6.0]]),
        "proba": np.array([[0.01, 0.99], [0.5, 0.5], [0.55, 0.45], [0.45, 0.55], [0.99, 0.01]]),
        "labeled_features": labeled,
        "labeled_targets": (labeled[:, 0] > 0).astype(int),
        "estimator": LogisticRegression(C=1.0),
    }
    fields.update(overrides)
    return Pool(**fields)


def test_committee_has_one_distribution_per_member_task_and_class() -> None:
    committee = committee_proba(_line_pool(), n_members=4, rng=np.random.default_rng(0))
    assert committee is not None and committee.shape == (4, 5, 2)
    assert np.allclose(committee.sum(axis=2), 1.0)


@pytest.mark.parametrize("disagreement", DISAGREEMENTS)
def test_ambiguous_tasks_rank_above_obvious_ones(disagreement: Any) -> None:
    u = qbc(disagreement, n_members=7)(_line_pool(), np.random.default_rng(1))
    assert u[1:4].max() > max(u[0], u[4])
    assert ((u >= 0) & (u <= 1)).all()


def test_members_use_every_class_of_the_model_even_if_a_resample_misses_one() -> None:
    labeled = np.array([[0.0], [1.0], [2.0], [3.0]])
    pool = Pool(
        features=np.array([[0.5]]), proba=np.full((1, 3), 1 / 3), labeled_features=labeled,
        labeled_targets=np.array([0, 1, 1, 2]), estimator=LogisticRegression(),
    )
    committee = committee_proba(pool, 5, np.random.default_rng(0))
    assert committee is not None and committee.shape[2] == 3


def test_one_labeled_class_means_no_committee_and_falls_back_to_entropy() -> None:
    pool = _line_pool(labeled_targets=np.zeros(10, dtype=int))
    assert committee_proba(pool, 5, np.random.default_rng(0)) is None
    got = qbc(vote_entropy)(pool, np.random.default_rng(0))
    assert pool.proba is not None and np.allclose(got, entropy(pool.proba))


def test_no_labels_and_no_model_gives_zero_utility() -> None:
    pool = Pool(features=np.ones((3, 2)))
    assert np.array_equal(qbc(kl_max_disagreement)(pool, np.random.default_rng(0)), np.zeros(3))


def test_without_an_estimator_a_logistic_regression_is_used() -> None:
    committee = committee_proba(_line_pool(estimator=None), 3, np.random.default_rng(0))
    assert committee is not None and committee.shape[0] == 3


def test_sparse_members_fit_only_labeled_columns() -> None:
    """Columns no labeled row uses cannot change a linear model's prediction."""
    rng = np.random.default_rng(0)
    labeled = sp.csr_matrix(rng.random((20, 5)))
    labeled = sp.hstack([labeled, sp.csr_matrix((20, 1000))]).tocsr()
    pool_rows = sp.csr_matrix(np.hstack([rng.random((8, 5)), np.zeros((8, 1000))]))
    noisy = pool_rows.copy().tolil()
    noisy[:, 900] = 50.0  # a column never labeled
    targets = np.arange(20) % 2
    base = {"labeled_features": labeled, "labeled_targets": targets, "estimator": LogisticRegression()}
    a = committee_proba(Pool(features=pool_rows, **base), 3, np.random.default_rng(2))
    b = committee_proba(Pool(features=noisy.tocsr(), **base), 3, np.random.default_rng(2))
    assert a is not None and b is not None and np.allclose(a, b)


def test_vote_entropy_is_one_for_an_even_split_and_zero_for_unanimity() -> None:
    committee = np.array([[[0.9, 0.1], [0.8, 0.2]], [[0.2, 0.8], [0.7, 0.3]]])
    assert np.allclose(vote_entropy(committee), [1.0, 0.0])


def test_kl_is_zero_when_members_agree() -> None:
    same = np.tile(np.array([[0.3, 0.7], [0.6, 0.4]]), (4, 1, 1))
    assert np.allclose(kl_max_disagreement(same), 0.0)


@pytest.mark.parametrize("disagreement", DISAGREEMENTS)
def test_multilabel_committees_average_labels(disagreement: Any) -> None:
    committee = np.array([[[0.9, 0.5]], [[0.1, 0.5]]])  # members split on label 0 only
    u = disagreement(committee, True)
    assert u.shape == (1,) and 0.0 < u[0] <= 1.0


def test_multilabel_committee_from_one_vs_rest(make_pool: Any) -> None:
    pool = make_pool(multilabel=True, n_classes=3)
    committee = committee_proba(pool, 3, np.random.default_rng(0))
    assert committee is not None and committee.shape == (3, pool.n_samples, 3)
