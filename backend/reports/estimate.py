"""Quality a user can trust: estimates on the audit sample, with 95% intervals.

The audit tasks were drawn uniformly at random from the unlabeled pool, so a model's
accuracy on them estimates its accuracy on the pool without the strategy's bias. Each
audit task is predicted by a model trained on every other label (k-fold over the audit
tasks: the strategy's labels always train), so no audit task is scored by a model that
saw its label, and the model measured differs from the version by a few labels only.

* Accuracy: the share of audit tasks predicted right, with Wilson's score interval,
  which keeps its coverage for small counts and accuracies near 0 or 1.
* Macro-F1: a percentile bootstrap over the audit tasks.
* Gain between two versions: both predict the *same* audit tasks (paired), so the
  difference of their accuracies has a far smaller error than either accuracy alone.

Below :data:`MIN_AUDIT` labeled audit tasks the figures are ``None`` and the estimate
says how many more audit labels it needs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats
from sklearn.metrics import f1_score

#: Labeled audit tasks below which no estimate is shown: the 95% interval of an accuracy
#: near 0.7 is then more than 0.3 wide and tells a user nothing they can act on.
MIN_AUDIT = 30
#: Folds over the audit tasks; each fold's model misses a fifth of the audit labels only.
AUDIT_FOLDS = 5
#: Bootstrap resamples of the macro-F1 interval.
BOOTSTRAP = 400
Z95 = 1.959963984540054

#: (training rows, rows to predict) to one probability row per predicted row.
FitPredict = Callable[[npt.NDArray[np.intp], npt.NDArray[np.intp]], npt.NDArray[np.float64]]


@dataclass(frozen=True)
class Estimate:
    """One version's audit estimate; the figures are ``None`` below ``min_audit`` audit labels."""

    accuracy: float | None
    low: float | None
    high: float | None
    macro_f1: float | None
    macro_f1_low: float | None
    macro_f1_high: float | None
    n_audit: int
    min_audit: int = MIN_AUDIT
    method: str = "audit"
    #: What ``accuracy`` holds: ``"accuracy"`` (share of tasks right), or ``"entity_f1"`` for
    #: named entities (entity micro-F1; ``macro_f1`` is then the macro over entity types).
    measure: str = "accuracy"

    @property
    def ok(self) -> bool:
        return self.accuracy is not None

    @property
    def needed(self) -> int:
        """Audit labels still missing before an estimate is shown."""
        return max(0, self.min_audit - self.n_audit)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "needed": self.needed}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Estimate:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})


def wilson(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for ``correct`` successes out of ``n`` (``(0, 1)`` when n is 0)."""
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= correct <= n:
        raise ValueError(f"correct must be in 0..{n}; got {correct}")
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def fold_ids(n: int, rng: np.random.Generator, folds: int = AUDIT_FOLDS) -> npt.NDArray[np.intp]:
    """A fold number per audit task, balanced and shuffled."""
    return np.asarray(rng.permutation(np.arange(n) % max(1, min(folds, n))), dtype=np.intp)


def out_of_fold(fit_predict: FitPredict, train_rows: npt.NDArray[np.intp], audit_rows: npt.NDArray[np.intp],
                folds: npt.NDArray[np.intp]) -> npt.NDArray[np.float64] | None:
    """Each audit row's probabilities from a model trained on ``train_rows`` minus its fold."""
    audit_rows = np.asarray(audit_rows, dtype=np.intp)
    train_rows = np.asarray(train_rows, dtype=np.intp)
    if len(audit_rows) == 0:
        return None
    out: npt.NDArray[np.float64] | None = None
    for fold in np.unique(folds):
        held = audit_rows[folds == fold]
        proba = fit_predict(train_rows[~np.isin(train_rows, held)], held)
        if out is None:
            out = np.zeros((len(audit_rows), proba.shape[1]))
        out[folds == fold] = proba
    return out


def predicted(proba: npt.NDArray[np.float64], multilabel: bool) -> npt.NDArray[np.intp]:
    """Class per row (argmax), or a 0/1 matrix at 0.5 for multi-label (a kind whose refit
    decides with its own thresholds returns 0 or 1 already)."""
    return (proba >= 0.5).astype(np.intp) if multilabel else proba.argmax(axis=1).astype(np.intp)


def hits(y: npt.NDArray[Any], pred: npt.NDArray[Any], multilabel: bool) -> npt.NDArray[np.bool_]:
    """Whether each row is right (every label right, for multi-label: subset accuracy)."""
    same = np.asarray(y) == np.asarray(pred)
    return same.all(axis=1) if multilabel else same


def macro_f1(y: npt.NDArray[Any], pred: npt.NDArray[Any], multilabel: bool) -> float:
    """Macro-F1 over the classes (labels) present in ``y``."""
    present = (np.flatnonzero(np.asarray(y).sum(axis=0) > 0) if multilabel else np.unique(y)).tolist()
    return float(f1_score(y, pred, labels=present, average="macro", zero_division=0))


def estimate(y: npt.NDArray[Any], proba: npt.NDArray[np.float64] | None, *, multilabel: bool = False,
             min_audit: int = MIN_AUDIT, seed: int = 0, bootstrap: int = BOOTSTRAP) -> Estimate:
    """Accuracy with Wilson's interval and macro-F1 with a bootstrap one, from audit predictions."""
    y = np.asarray(y)
    n = len(y)
    if proba is None or n < max(1, min_audit):
        return Estimate(None, None, None, None, None, None, n, min_audit)
    pred = predicted(proba, multilabel)
    right = hits(y, pred, multilabel)
    low, high = wilson(int(right.sum()), n)
    f1 = macro_f1(y, pred, multilabel)
    rng = np.random.default_rng(seed)
    samples = [macro_f1(y[i], pred[i], multilabel) for i in rng.integers(0, n, size=(bootstrap, n))]
    f1_low, f1_high = np.percentile(samples, [2.5, 97.5]) if samples else (f1, f1)
    return Estimate(round(float(right.mean()), 6), round(low, 6), round(high, 6), round(f1, 6),
                    round(float(f1_low), 6), round(float(f1_high), 6), n, min_audit)


@dataclass(frozen=True)
class Gain:
    """Audit-estimated accuracy points per 100 labels between two versions, with a 95% interval."""

    per_100: float
    low: float
    high: float
    from_labels: int
    to_labels: int
    n_audit: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Gain:
        return cls(float(data["per_100"]), float(data["low"]), float(data["high"]), int(data["from_labels"]),
                   int(data["to_labels"]), int(data["n_audit"]))


def paired_gain(right_then: npt.NDArray[np.bool_], right_now: npt.NDArray[np.bool_], from_labels: int,
                to_labels: int) -> Gain | None:
    """The gain from the earlier to the later version on the same audit tasks (t interval)."""
    d = np.asarray(right_now, dtype=np.float64) - np.asarray(right_then, dtype=np.float64)
    span = to_labels - from_labels
    if len(d) < 2 or span <= 0:
        return None
    scale = 100.0 * 100.0 / span  # accuracy points (hundredths) per 100 labels
    se = float(d.std(ddof=1)) / math.sqrt(len(d))
    half = float(stats.t.ppf(0.975, len(d) - 1)) * se
    mean = float(d.mean())
    return Gain(round(mean * scale, 4), round((mean - half) * scale, 4), round((mean + half) * scale, 4),
                int(from_labels), int(to_labels), len(d))
