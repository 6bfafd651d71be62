"""Probability measures: normalisation, multi-label handling, degenerate input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from strategies import measures

PER_TASK = [measures.least_confidence, measures.margin, measures.entropy]


@pytest.mark.parametrize("measure", PER_TASK)
def test_uniform_is_one_and_certain_is_zero(measure: Any) -> None:
    proba = np.array([[1 / 3, 1 / 3, 1 / 3], [1.0, 0.0, 0.0]])
    assert np.allclose(measure(proba), [1.0, 0.0])


@pytest.mark.parametrize("measure", PER_TASK)
def test_more_ambiguous_ranks_higher(measure: Any) -> None:
    proba = np.array([[0.9, 0.05, 0.05], [0.5, 0.4, 0.1]])
    u = measure(proba)
    assert u[1] > u[0]


@pytest.mark.parametrize("measure", PER_TASK)
def test_a_task_scores_the_same_alone_or_in_a_pool(measure: Any) -> None:
    proba = np.random.default_rng(0).dirichlet(np.ones(4), size=20)
    assert np.allclose(measure(proba)[7:8], measure(proba[7:8]))


@pytest.mark.parametrize("measure", PER_TASK)
def test_multilabel_averages_binary_measures(measure: Any) -> None:
    proba = np.array([[0.5, 1.0], [0.0, 1.0]])
    assert np.allclose(measure(proba, multilabel=True), [0.5, 0.0])


@pytest.mark.parametrize("measure", PER_TASK)
def test_one_class_has_no_uncertainty(measure: Any) -> None:
    assert np.array_equal(measure(np.ones((3, 1))), np.zeros(3))


@pytest.mark.parametrize("measure", PER_TASK)
def test_nan_and_out_of_range_stay_in_unit_interval(measure: Any) -> None:
    u = measure(np.array([[np.nan, 0.5], [2.0, -1.0], [np.inf, 0.2]]))
    assert np.isfinite(u).all() and ((u >= 0) & (u <= 1)).all()


def test_bad_shape_is_reported() -> None:
    with pytest.raises(ValueError, match="2-d"):
        measures.margin(np.array([0.2, 0.8]))


def test_distribution_renormalises_and_makes_zero_rows_uniform() -> None:
    p = measures.distribution(np.array([[2.0, 2.0], [0.0, 0.0], [np.nan, 1.0]]))
    assert np.allclose(p, [[0.5, 0.5], [0.5, 0.5], [0.0, 1.0]])


def test_predicted_classes_ignore_nan() -> None:
    assert measures.predicted_classes(np.array([[np.nan, 0.2], [0.7, 0.3]])).tolist() == [1, 0]


def test_pool_measure_without_model_is_zero(make_pool: Any) -> None:
    pool = make_pool(proba=None)
    pool_margin = measures.from_proba(measures.margin)
    assert np.array_equal(pool_margin(pool, np.random.default_rng(0)), np.zeros(pool.n_samples))


def test_pool_measure_passes_multilabel_through(make_pool: Any) -> None:
    pool = make_pool(multilabel=True)
    got = measures.from_proba(measures.entropy)(pool, np.random.default_rng(0))
    assert np.allclose(got, measures.entropy(pool.proba, multilabel=True))
