"""Expected gradient length and expected error reduction."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from strategies import Pool
from strategies.expected import _inverse_c, eer, egl


def test_egl_ranks_an_ambiguous_task_above_an_obvious_one() -> None:
    proba = np.array([[0.98, 0.01, 0.01], [0.4, 0.35, 0.25]])
    u = egl(Pool(features=np.ones((2, 4)) / 2.0, proba=proba), np.random.default_rng(0))
    assert u[1] > u[0]


def test_egl_is_the_closed_form_gradient_norm() -> None:
    """E ||p - e_y|| * ||[x, 1]||, normalised by sqrt(1 - 1/k), then tanh."""
    p = np.array([[0.7, 0.2, 0.1]])
    x = np.array([[3.0, 4.0]])
    expected = sum(p[0, y] * np.linalg.norm(p[0] - np.eye(3)[y]) for y in range(3))
    expected *= np.sqrt(25.0 + 1.0) / np.sqrt(1 - 1 / 3)
    got = egl(Pool(features=x, proba=p), np.random.default_rng(0))
    assert np.allclose(got, np.tanh(expected))


def test_egl_grows_with_the_feature_norm() -> None:
    proba = np.tile([0.6, 0.4], (2, 1))
    u = egl(Pool(features=np.array([[0.1, 0.0], [1.0, 0.0]]), proba=proba), np.random.default_rng(0))
    assert u[1] > u[0]


def test_egl_multilabel_and_degenerate_input() -> None:
    proba = np.array([[0.5, 0.99], [0.99, 0.99], [np.nan, 0.5]])
    u = egl(Pool(features=np.eye(3), proba=proba, multilabel=True), np.random.default_rng(0))
    assert u[0] > u[1] and np.isfinite(u).all()
    one_class = egl(Pool(features=np.eye(3), proba=np.ones((3, 1))), np.random.default_rng(0))
    assert np.array_equal(one_class, np.zeros(3))


def _dense_and_isolated(multilabel: bool = False) -> tuple[Pool, np.ndarray]:
    """30 ambiguous near-copies, 1 ambiguous outlier, 20 confident rows."""
    rng = np.random.default_rng(0)
    x = np.vstack([
        [0.0, 1.0] + 0.05 * rng.standard_normal((30, 2)),
        [[5.0, -5.0]],
        [3.0, 0.0] + 0.05 * rng.standard_normal((20, 2)),
    ])
    proba = np.vstack([np.tile([0.5, 0.5], (31, 1)), np.tile([0.95, 0.05], (20, 1))])
    proba[:30] += 0.02 * rng.standard_normal((30, 1)) * [1, -1]
    group = np.array([0] * 30 + [1] + [2] * 20)
    pool = Pool(
        features=x, proba=proba[:, 1:] if multilabel else proba, multilabel=multilabel,
        labeled_features=np.array([[3.0, 0.0], [-3.0, 0.0]]), labeled_targets=(
            np.array([[0], [1]]) if multilabel else np.array([0, 1])
        ), estimator=LogisticRegression(C=10.0),
    )
    return pool, group


@pytest.mark.parametrize("multilabel", [False, True])
def test_eer_prefers_a_label_that_informs_many_similar_tasks(multilabel: bool) -> None:
    pool, group = _dense_and_isolated(multilabel)
    u = eer(n_candidates=40, n_eval=51)(pool, np.random.default_rng(0))
    assert u[group == 0].max() > u[group == 1].max()
    assert ((u >= 0) & (u <= 1)).all()


def test_eer_scores_only_candidates_above_the_rest() -> None:
    pool, _ = _dense_and_isolated()
    u = eer(n_candidates=5, n_eval=20)(pool, np.random.default_rng(0))
    assert (u >= 0.5).sum() == 5
    assert u[u < 0.5].max() <= 0.45


def test_eer_without_a_model_or_with_one_class(make_pool: Any) -> None:
    rng = np.random.default_rng(0)
    assert np.array_equal(eer()(make_pool(proba=None), rng), np.zeros(40))
    one = eer()(make_pool(n_classes=1), rng)
    assert np.array_equal(one, np.zeros(40))


def test_inverse_regularisation_is_read_through_one_vs_rest() -> None:
    from sklearn.multiclass import OneVsRestClassifier

    assert _inverse_c(OneVsRestClassifier(LogisticRegression(C=7.0))) == 7.0
    assert _inverse_c(None) == 1.0
