"""Temperature scaling: the scale itself, its fit, the ECE, stratified folds, out-of-fold and held-out use."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from backend.tasks.text_classification.calibration import (
    MIN_HELD_OUT,
    MIN_LABELS,
    calibrate,
    ece,
    fit_temperature,
    fold_ids,
    from_held_out,
    out_of_fold,
    scale,
)


def _softmax(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def _sample(n: int, true_t: float, seed: int = 0) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.intp]]:
    """Labels drawn from softmax(z); the model reports softmax(z * true_t) (off by ``true_t``)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=2.0, size=(n, 3))
    truth = _softmax(z)
    y = np.array([rng.choice(3, p=p) for p in truth], dtype=np.intp)
    return _softmax(z * true_t), y


def test_scale_keeps_the_argmax_sums_to_one_and_zero_columns() -> None:
    p = np.array([[0.6, 0.3, 0.1, 0.0], [0.2, 0.5, 0.3, 0.0]])
    for t in (0.3, 1.0, 3.0):
        q = scale(p, t)
        np.testing.assert_allclose(q.sum(axis=1), 1.0)
        assert (q.argmax(axis=1) == p.argmax(axis=1)).all()
        assert (q[:, 3] == 0).all()
    assert scale(p, 0.5)[0, 0] > p[0, 0] > scale(p, 2.0)[0, 0]


def test_fit_temperature_recovers_the_distortion() -> None:
    under, y = _sample(4000, 0.5)  # under-confident: logits halved, so T about 0.5 undoes it
    over, y2 = _sample(4000, 2.0, seed=1)
    assert fit_temperature(under, y) == pytest.approx(0.5, rel=0.15)
    assert fit_temperature(over, y2) == pytest.approx(2.0, rel=0.15)


def test_ece_is_zero_when_confidence_matches_accuracy_and_large_when_not() -> None:
    y = np.array([0, 0, 0, 1] * 25)
    calibrated = np.tile([0.75, 0.25], (100, 1))
    assert ece(calibrated, y) == pytest.approx(0.0, abs=1e-12)
    overconfident = np.tile([0.99, 0.01], (100, 1))
    assert ece(overconfident, y) == pytest.approx(0.24, abs=1e-9)
    assert ece(np.zeros((0, 2)), np.zeros(0, dtype=np.intp)) == 0.0


def test_folds_are_stratified_and_cover_every_row() -> None:
    y = np.array([0] * 50 + [1] * 10 + [2] * 3)
    ids = fold_ids(y, 5, np.random.default_rng(0))
    assert set(ids) == set(range(5))
    for cls in (0, 1):
        assert np.bincount(ids[y == cls], minlength=5).tolist() == [len(y[y == cls]) // 5] * 5
    assert len(set(ids[y == 2])) == 3


def test_out_of_fold_never_predicts_a_row_it_trained_on() -> None:
    y = np.arange(40) % 2
    seen: list[tuple[set[int], set[int]]] = []

    def fit_predict(train: npt.NDArray[np.intp], test: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
        seen.append((set(train.tolist()), set(test.tolist())))
        return np.tile([0.5, 0.5], (len(test), 1))

    proba, _ = out_of_fold(fit_predict, y, 2, folds=4)
    assert len(seen) == 4 and all(not (tr & te) for tr, te in seen)
    assert set().union(*(te for _, te in seen)) == set(range(40))
    np.testing.assert_allclose(proba, 0.5)


def test_calibrate_lowers_the_ece_of_a_distorted_model() -> None:
    proba, y = _sample(600, 0.4, seed=3)
    result = calibrate(lambda train, test: proba[test], y, 3)
    assert result is not None
    assert result.temperature < 0.7
    assert result.ece_after < result.ece_before / 2
    assert result.record()["method"] == "temperature"


def test_no_calibration_with_few_labels_or_one_class() -> None:
    proba, y = _sample(MIN_LABELS - 1, 0.5)
    assert calibrate(lambda train, test: proba[test], y, 3) is None
    one = np.zeros(100, dtype=np.intp)
    assert calibrate(lambda train, test: np.tile([1.0, 0.0], (len(test), 1)), one, 2) is None


def test_a_temperature_fitted_on_held_out_rows_undoes_the_distortion() -> None:
    proba, y = _sample(400, 0.4, seed=5)
    fitted = from_held_out(proba, y)
    assert fitted is not None
    assert fitted.temperature == pytest.approx(0.4, rel=0.25)
    assert fitted.ece_after < fitted.ece_before / 2
    record = fitted.record()
    assert (record["fitted_on"], record["rows"], record["folds"]) == ("audit", 400, 0)


def test_no_temperature_from_too_few_rows_one_class_or_no_mistake() -> None:
    proba, y = _sample(MIN_HELD_OUT - 1, 0.4)
    assert from_held_out(proba, y) is None
    assert from_held_out(np.tile([0.9, 0.1], (50, 1)), np.zeros(50, dtype=np.intp)) is None
    # every row right: the log-loss keeps falling as T shrinks, so nothing says by how much
    right = np.tile([0.6, 0.4], (50, 1))
    right[25:] = right[25:, ::-1]
    assert from_held_out(right, np.array([0] * 25 + [1] * 25)) is None
    right[0] = [0.4, 0.6]  # one mistake: the fit has a minimum
    fitted = from_held_out(right, np.array([0] * 25 + [1] * 25))
    assert fitted is not None and fitted.temperature < 1.0


def test_a_temperature_that_does_not_carry_from_one_half_to_the_other_is_not_used() -> None:
    n, seed = 40, 3
    first = np.zeros(n, dtype=bool)  # the half from_held_out fits on first, drawn as it draws it
    first[np.random.default_rng(seed).permutation(n)[: n // 2]] = True
    proba = np.tile([0.7, 0.3], (n, 1))
    y = np.zeros(n, dtype=np.intp)
    y[np.flatnonzero(~first)[::2]] = 1  # one half always right, the other right half the time
    assert from_held_out(proba, y, seed=seed) is None
    assert fit_temperature(proba[first], y[first]) < 0.1 < 1.0 < fit_temperature(proba[~first], y[~first])
