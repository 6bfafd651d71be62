"""Calibrated probabilities: one temperature fitted on predictions of texts the model did not see.

A linear model on L2-normalised TF-IDF is under-confident (its logits are small), a naive
Bayes model over-confident; every uncertainty measure and the annotators' pre-selection
read these probabilities. Temperature scaling has one parameter, so it cannot overfit the
few labels a project has and it never changes which class is predicted.

It is fitted on held-out probabilities, from one of two sources. The **audit sample**
(:func:`from_held_out`): the labeled audit tasks are a uniform random sample of the pool,
and the model the strategy ranks with was trained without them, so its probabilities on
them are what it gives the pool's tasks. **Folds** (:func:`calibrate`): each labeled text
predicted by a model trained on the other folds; under active learning those texts are the
ones the strategy chose, unlike the pool, and a temperature fitted on them does not carry
to the pool (BENCHMARKS.md, "Model quality"). Either way the record shows the expected
calibration error (ECE) before and after, the "after" measured on the half of the rows the
temperature was not fitted on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize_scalar

#: Fewer labels than this: no calibration (the folds' models would be too unlike the final one).
MIN_LABELS = 30
#: Fewer labeled audit tasks than this: no calibration on the audit sample (set once, not tuned).
MIN_HELD_OUT = 20
#: Out-of-fold predictions come from this many folds.
FOLDS = 5
#: Temperatures are searched in [1/LIMIT, LIMIT].
LIMIT = 50.0
#: Bins of the expected calibration error.
ECE_BINS = 15
_EPS = 1e-12

#: (train rows, test rows) to probabilities for the test rows, one column per class.
FitPredict = Callable[[npt.NDArray[np.intp], npt.NDArray[np.intp]], npt.NDArray[np.float64]]


@dataclass(frozen=True)
class Calibration:
    """What the version record shows: the temperature and the ECE it changed."""

    temperature: float
    ece_before: float
    ece_after: float
    folds: int
    #: What the temperature was fitted on: ``folds`` (the labels, out of fold) or ``audit``.
    fitted_on: str = "folds"
    #: How many held-out rows it was fitted on.
    rows: int = 0

    def record(self) -> dict[str, float | int | str]:
        return {"method": "temperature", "fitted_on": self.fitted_on, "temperature": round(self.temperature, 4),
                "ece_before": round(self.ece_before, 4), "ece_after": round(self.ece_after, 4),
                "folds": self.folds, "rows": self.rows}


def scale(proba: npt.NDArray[np.float64], temperature: float) -> npt.NDArray[np.float64]:
    """Probabilities raised to ``1/temperature`` and renormalised (softmax of log p / T).

    Zero columns (classes never seen in training) stay zero.
    """
    p = np.asarray(proba, dtype=np.float64)
    if temperature == 1.0 or p.size == 0:
        return p
    logp = np.log(np.clip(p, _EPS, 1.0)) / temperature
    logp[p <= 0] = -np.inf
    logp -= logp.max(axis=1, keepdims=True)
    out = np.exp(logp)
    return out / out.sum(axis=1, keepdims=True)


def nll(proba: npt.NDArray[np.float64], y: npt.NDArray[np.intp]) -> float:
    """Mean negative log-likelihood of the true classes."""
    return float(-np.mean(np.log(np.clip(proba[np.arange(len(y)), y], _EPS, 1.0))))


def fit_temperature(proba: npt.NDArray[np.float64], y: npt.NDArray[np.intp]) -> float:
    """The temperature that minimises the log-loss of ``proba`` (searched in log space)."""
    result = minimize_scalar(lambda t: nll(scale(proba, float(np.exp(t))), y),
                             bounds=(-np.log(LIMIT), np.log(LIMIT)), method="bounded",
                             options={"xatol": 1e-3})
    return float(np.exp(result.x))


def ece(proba: npt.NDArray[np.float64], y: npt.NDArray[np.intp], bins: int = ECE_BINS) -> float:
    """Expected calibration error of the top class: |accuracy - confidence| weighted by bin size."""
    p = np.asarray(proba, dtype=np.float64)
    if len(y) == 0:
        return 0.0
    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == np.asarray(y)).astype(np.float64)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    total = 0.0
    for b in np.unique(which):
        in_bin = which == b
        total += in_bin.sum() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(total / len(y))


def fold_ids(y: npt.NDArray[np.intp], folds: int, rng: np.random.Generator) -> npt.NDArray[np.intp]:
    """A fold per row, each class dealt round-robin in random order (stratified)."""
    out = np.empty(len(y), dtype=np.intp)
    for cls in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == cls))
        out[rows] = (np.arange(len(rows)) + int(rng.integers(folds))) % folds
    return out


def out_of_fold(fit_predict: FitPredict, y: npt.NDArray[np.intp], n_classes: int, folds: int = FOLDS,
                seed: int = 0) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.intp]]:
    """Each row's probabilities from a model trained on the other folds, and the fold ids."""
    ids = fold_ids(np.asarray(y), folds, np.random.default_rng(seed))
    proba = np.zeros((len(y), n_classes))
    for k in range(folds):
        test = np.flatnonzero(ids == k)
        train = np.flatnonzero(ids != k)
        if test.size and train.size:
            proba[test] = fit_predict(train, test)
    return proba, ids


def calibrate(fit_predict: FitPredict, y: npt.NDArray[np.intp], n_classes: int, folds: int = FOLDS,
              seed: int = 0) -> Calibration | None:
    """Fit the temperature out of fold; ``None`` with too few labels or a single class."""
    y = np.asarray(y, dtype=np.intp)
    if len(y) < MIN_LABELS or len(np.unique(y)) < 2:
        return None
    proba, ids = out_of_fold(fit_predict, y, n_classes, folds, seed)
    return _fitted(proba, y, ids % 2 == 0, folds, "folds")[0]


def from_held_out(proba: npt.NDArray[np.float64], y: npt.NDArray[np.intp],
                  seed: int = 0) -> Calibration | None:
    """The temperature of probabilities a model gave rows it was not trained on (the audit tasks).

    ``None`` (leave the probabilities as they are) below :data:`MIN_HELD_OUT` rows, with a
    single class among them, when the model got every row right (the log-loss then falls
    without end as the temperature shrinks: those rows say it could be more confident, not
    how much), or when the temperature does not lower the log-loss of rows it was not
    fitted on (each half scaled by the other half's temperature): a scale that does not
    carry from one half of the sample to the other would not carry to the pool either.
    """
    proba = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y, dtype=np.intp)
    if len(y) < MIN_HELD_OUT or len(np.unique(y)) < 2 or (proba.argmax(axis=1) == y).all():
        return None
    half = np.zeros(len(y), dtype=bool)
    half[np.random.default_rng(seed).permutation(len(y))[: len(y) // 2]] = True
    fitted, after = _fitted(proba, y, half, 0, "audit")
    return fitted if nll(after, y) < nll(proba, y) else None


def _fitted(proba: npt.NDArray[np.float64], y: npt.NDArray[np.intp], half: npt.NDArray[np.bool_],
            folds: int, fitted_on: str) -> tuple[Calibration, npt.NDArray[np.float64]]:
    """The temperature on every row, and an honest "after": each half scaled by the other's temperature."""
    temperature = fit_temperature(proba, y)
    after = proba.copy()
    for rows, fit_rows in ((half, ~half), (~half, half)):
        if rows.any() and fit_rows.any():
            after[rows] = scale(proba[rows], fit_temperature(proba[fit_rows], y[fit_rows]))
    return Calibration(temperature, ece(proba, y), ece(after, y), folds, fitted_on, len(y)), after
