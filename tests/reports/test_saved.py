"""'Labels saved': the random-order curve fitted on audit labels and read backwards."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backend.reports.estimate import Estimate
from backend.reports.saved import MIN_AUDIT_CURVE, fit_curve, labels_for, labels_saved, random_curve, sizes_for


def known(m: float) -> float:
    return 0.9 - 0.8 * m ** -0.5


def est(acc: float, low: float, high: float, n: int = 100) -> Estimate:
    return Estimate(acc, low, high, acc, low, high, n)


def test_fit_recovers_a_known_power_law_and_inverts_it() -> None:
    points = [(m, known(m)) for m in (8, 16, 32, 64, 128)]
    params = fit_curve(points)
    assert params is not None
    a, b, c = params
    assert (a, b, c) == pytest.approx((0.9, 0.8, 0.5), abs=1e-3)
    assert labels_for(params, known(400)) == pytest.approx(400, rel=1e-3)
    assert labels_for(params, 0.95) == math.inf


def test_saving_against_a_known_random_curve() -> None:
    points = [(m, known(m)) for m in (8, 16, 32, 64, 128)]
    saving = labels_saved(points, est(known(800), known(600), known(1100)), 300)
    assert saving.saved == pytest.approx(500, abs=3) and saving.ratio == pytest.approx(800 / 300, rel=0.01)
    assert saving.low == pytest.approx(300, abs=3) and saving.high == pytest.approx(800, abs=5)
    assert saving.message.startswith("at least about 500 labels saved so far (x2.7); 95% range 300 to 800.")


def test_it_says_when_it_cannot_tell() -> None:
    points = [(m, known(m)) for m in (8, 16, 32, 64, 128)]
    assert "cannot tell yet" in labels_saved(points, est(0.89, 0.85, 0.9), 300).message  # beyond reach
    assert labels_saved(points, est(0.7, 0.6, 0.8, n=MIN_AUDIT_CURVE - 1), 300).saved is None
    flat = [(m, 0.5) for m in (8, 16, 32)]
    assert labels_saved(flat, est(0.7, 0.6, 0.8), 300).saved is None


def test_random_curve_trains_on_audit_subsets_only() -> None:
    rng = np.random.default_rng(0)
    x = rng.random(120)
    y = (x > 0.3).astype(int)
    audit = np.arange(120)

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        assert len(set(train.tolist()) & set(test.tolist())) == 0 and len(train) <= 96
        cut = x[train][y[train] == 1].min(initial=1.0)
        return np.eye(2)[(x[test] >= cut).astype(int)]

    curve = random_curve(fit_predict, audit, y, False)
    assert [m for m, _ in curve] == sizes_for(96)
    assert curve[-1][1] >= curve[0][1] and curve[-1][1] > 0.9
