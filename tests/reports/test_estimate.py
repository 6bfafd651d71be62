"""The audit estimator on known distributions: intervals that hold their coverage, paired gains."""

from __future__ import annotations

import numpy as np
import pytest

from backend.reports.audit import audit_figures
from backend.reports.estimate import MIN_AUDIT, estimate, fold_ids, out_of_fold, paired_gain, wilson


def test_wilson_matches_known_values_and_edges() -> None:
    low, high = wilson(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)  # Wilson (1927), 95%
    assert wilson(0, 20)[0] == 0.0 and wilson(20, 20)[1] == 1.0
    assert wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError, match="correct"):
        wilson(11, 10)


@pytest.mark.parametrize("p", [0.35, 0.7, 0.95])
def test_interval_covers_the_true_accuracy_95_times_in_100(p: float) -> None:
    """Predictions right with probability p on n audit tasks: the interval holds p about 95% of the time."""
    rng = np.random.default_rng(int(p * 100))
    y = np.zeros(60, dtype=int)
    held = 0
    for _ in range(400):
        right = rng.random(60) < p
        proba = np.where(right[:, None], [1.0, 0.0], [0.0, 1.0])
        est = estimate(y, proba, bootstrap=0)
        held += est.low <= p <= est.high  # type: ignore[operator]
    assert 0.92 <= held / 400 <= 0.99, held / 400


def test_below_the_minimum_it_says_how_many_more_it_needs() -> None:
    est = estimate(np.zeros(12, dtype=int), np.tile([1.0, 0.0], (12, 1)))
    assert est.accuracy is None and est.low is None and est.n_audit == 12 and est.needed == MIN_AUDIT - 12
    assert est.to_dict()["method"] == "audit"


def test_macro_f1_interval_brackets_the_figure() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 90)
    pred = np.where(rng.random(90) < 0.8, y, (y + 1) % 3)
    est = estimate(y, np.eye(3)[pred])
    assert est.macro_f1_low <= est.macro_f1 <= est.macro_f1_high  # type: ignore[operator]
    assert est.macro_f1_high - est.macro_f1_low < 0.35  # type: ignore[operator]


def test_multilabel_estimate_is_subset_accuracy() -> None:
    y = np.array([[1, 0], [0, 1], [1, 1]] * 12)
    proba = y.astype(float)
    proba[:6] = 1 - proba[:6]  # six rows wrong on both labels
    est = estimate(y, proba, multilabel=True)
    assert est.accuracy == pytest.approx(30 / 36)


def test_paired_gain_on_the_same_tasks() -> None:
    then = np.array([True] * 60 + [False] * 40)
    now = then.copy()
    now[60:80] = True  # 20 more right out of 100, over 1,000 labels: 2 points per 100 labels
    g = paired_gain(then, now, 1000, 2000)
    assert g is not None and g.per_100 == pytest.approx(2.0) and g.low < 2.0 < g.high and g.low > 0
    assert paired_gain(then, now, 2000, 2000) is None


def test_out_of_fold_never_trains_on_the_task_it_predicts() -> None:
    trained: list[set[int]] = []

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        trained.append(set(train.tolist()))
        assert not set(train.tolist()) & set(test.tolist())
        return np.tile([1.0, 0.0], (len(test), 1))

    audit = np.arange(0, 40, 2)
    folds = fold_ids(len(audit), np.random.default_rng(0))
    proba = out_of_fold(fit_predict, np.arange(40), audit, folds)
    assert proba is not None and proba.shape == (20, 2) and len(trained) == 5
    assert all(set(range(1, 40, 2)) <= t for t in trained)  # the strategy's labels always train


def test_audit_figures_on_a_separable_problem() -> None:
    """A threshold learner on one feature: the estimate is right, the saving is found, the gain is paired."""
    rng = np.random.default_rng(3)
    x = rng.random(2000)
    y = (x > 0.5).astype(int)

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        lo = x[train][y[train] == 0].max(initial=0.0)
        hi = x[train][y[train] == 1].min(initial=1.0)
        cut = (lo + hi) / 2
        return np.eye(2)[(x[test] > cut).astype(int)]

    rows = rng.permutation(2000)[:400]
    figures = audit_figures(fit_predict, y, rows, rows[:80], earlier_rows=rows[:100], seed=1)
    assert figures.estimate.accuracy is not None and figures.estimate.accuracy > 0.95
    assert figures.gain is not None and figures.gain.n_audit == 80
    assert figures.saving is not None and figures.saving.curve


def test_too_few_audit_labels_say_how_many_the_saving_waits_for() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 300)

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        return np.eye(2)[y[test]]

    rows = rng.permutation(300)[:200]
    figures = audit_figures(fit_predict, y, rows, rows[:18], seed=0)
    assert figures.estimate.accuracy is None and figures.estimate.n_audit == 18
    assert figures.saving is not None and figures.saving.saved is None
    assert "18 so far" in figures.saving.message and "cannot tell yet" in figures.saving.message
