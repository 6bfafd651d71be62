"""How many labels active learning has saved so far, estimated from the audit sample alone.

The audit tasks are a uniform random sample of the pool, so models trained on growing
random subsets of them trace the learning curve random order would have followed. That
curve is fitted with an inverse power law, ``accuracy(m) = a - b * m ** -c`` (the usual
shape of learning curves), and read backwards: how many random labels would reach the
current version's audit-estimated accuracy? The answer minus the labels spent is the
saving; the same inversion at the ends of the accuracy's 95% interval gives its range.

Measured against the truth (``benchmarks/audit.py``) the figure has always been too low, often
far too low: a curve fitted on a few dozen random labels and read ten times further out rises
too fast. So the message says "at least", and that the true saving was larger where measured.

It says it cannot tell when the audit is too small to fit a curve, when the fitted curve
never reaches the current accuracy, or when reaching it would need more than
:data:`MAX_EXTRAPOLATION` times the largest random subset measured: a power law fitted
on a short stretch says little that far out.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import curve_fit

from backend.reports.estimate import Estimate, FitPredict, fold_ids, hits, predicted

#: What the measurements say of the figure (BENCHMARKS.md, "Audit sample"): on every set
#: measured the curve read this far out said fewer labels saved than random order truly needed.
ERRS_LOW = "The audit's random-order curve errs low: the true saving was larger wherever it was measured."
#: Labeled audit tasks below which no random curve is fitted.
MIN_AUDIT_CURVE = 40
#: The random-order label count may be read at most this many times beyond the largest subset.
MAX_EXTRAPOLATION = 20.0
#: Random subsets per size and fold.
REPEATS = 2
#: Smallest random subset trained on.
SMALLEST = 8


@dataclass(frozen=True)
class Saving:
    """``saved`` = random labels needed minus labels spent; ``None`` figures when it cannot tell."""

    saved: int | None
    low: int | None
    high: int | None
    ratio: float | None
    random_labels: int | None
    labels: int
    message: str
    curve: list[tuple[int, float]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sizes_for(n_train: int) -> list[int]:
    """Geometric subset sizes from :data:`SMALLEST` up to ``n_train``."""
    if n_train < SMALLEST:
        return []
    grid = np.unique(np.geomspace(SMALLEST, n_train, num=min(6, max(2, int(math.log2(n_train / SMALLEST)) + 1))))
    return [round(g) for g in grid]


def random_curve(fit_predict: FitPredict, audit_rows: npt.NDArray[np.intp], y_audit: npt.NDArray[Any],
                 multilabel: bool, seed: int = 0) -> list[tuple[int, float]]:
    """(random labels, accuracy) from models trained on audit subsets, tested on held-out audit folds."""
    rng = np.random.default_rng(seed)
    audit_rows = np.asarray(audit_rows, dtype=np.intp)
    y_audit = np.asarray(y_audit)
    folds = fold_ids(len(audit_rows), rng)
    train_size = int(len(audit_rows) - np.bincount(folds).max())
    totals: dict[int, list[int]] = {m: [0, 0] for m in sizes_for(train_size)}
    for fold in np.unique(folds):
        test, pool = np.flatnonzero(folds == fold), np.flatnonzero(folds != fold)
        for m in totals:
            for _ in range(REPEATS):
                chosen = rng.choice(pool, size=min(m, len(pool)), replace=False)
                proba = fit_predict(audit_rows[chosen], audit_rows[test])
                right = hits(y_audit[test], predicted(proba, multilabel), multilabel)
                totals[m][0] += int(right.sum())
                totals[m][1] += len(test)
    return [(m, c / t) for m, (c, t) in totals.items() if t]


def _power_law(m: npt.NDArray[np.float64], a: float, b: float, c: float) -> npt.NDArray[np.float64]:
    return np.asarray(a - b * np.power(m, -c))


def fit_curve(points: list[tuple[int, float]]) -> tuple[float, float, float] | None:
    """``(a, b, c)`` of ``a - b m^-c`` through the points, or ``None`` if no rising fit exists."""
    if len(points) < 3:
        return None
    m = np.array([p[0] for p in points], dtype=np.float64)
    acc = np.array([p[1] for p in points], dtype=np.float64)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params, _ = curve_fit(_power_law, m, acc, p0=(min(1.0, acc.max() + 0.05), 1.0, 0.5),
                                  bounds=([0.0, 0.0, 0.05], [1.0, 50.0, 2.0]), maxfev=5000)
    except (RuntimeError, ValueError):
        return None
    a, b, c = (float(v) for v in params)
    return (a, b, c) if b > 0 else None


def labels_for(params: tuple[float, float, float], accuracy: float) -> float:
    """Random labels the fitted curve needs to reach ``accuracy`` (``inf`` if it never does)."""
    a, b, c = params
    if accuracy >= a:
        return math.inf
    if accuracy <= a - b:  # reached with a single label
        return 1.0
    return float((b / (a - accuracy)) ** (1.0 / c))


def labels_saved(curve: list[tuple[int, float]], estimate: Estimate, labels: int) -> Saving:
    """The saving so far: random labels needed for the current accuracy, minus ``labels``."""
    def cannot(why: str) -> Saving:
        return Saving(None, None, None, None, None, labels, why, curve)

    if estimate.accuracy is None or estimate.n_audit < MIN_AUDIT_CURVE or len(curve) < 3:
        return cannot(f"cannot tell yet: the random-order curve needs {MIN_AUDIT_CURVE} labeled audit tasks "
                      f"({estimate.n_audit} so far).")
    params = fit_curve(curve)
    if params is None:
        return cannot("cannot tell yet: the audit labels do not trace a rising curve.")
    limit = MAX_EXTRAPOLATION * max(m for m, _ in curve)
    need = labels_for(params, estimate.accuracy)
    if need > limit:
        return cannot(f"cannot tell yet: random order would need more than {int(limit)} labels by the audit's "
                      "curve, further than it can be read.")
    low = labels_for(params, estimate.low if estimate.low is not None else estimate.accuracy)
    high = labels_for(params, estimate.high if estimate.high is not None else estimate.accuracy)
    saved = round(need) - labels
    lo = round(low) - labels
    hi = None if high > limit else round(high) - labels
    upper = f"{hi}" if hi is not None else "more"
    message = (f"at least about {saved} labels saved so far (x{need / max(labels, 1):.1f}); "
               f"95% range {lo} to {upper}. {ERRS_LOW}")
    if saved <= 0:
        message = (f"no saving shown yet: by the audit's curve random order would have needed about {round(need)} "
                   f"labels for this accuracy (95% range {lo} to {upper} saved). {ERRS_LOW}")
    return Saving(saved, lo, hi, round(need / max(labels, 1), 3), round(need), labels, message, curve)
