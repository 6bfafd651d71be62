"""The learning curve of a project and when labeling has stopped paying off.

Two well-known criteria, each reported with its reason:

* **Stabilizing predictions** (Bloodgood & Vijay-Shanker, 2009): every version predicts
  the same fixed sample of tasks (the *stop set*); when Cohen's kappa between consecutive
  versions stays at or above 0.99 for ``window`` consecutive pairs, new labels no longer
  change what the model says. It needs no labels, so the stop set can be large. Kappa
  depends on how many labels separate two versions: measured on trec6 with the service's
  model, versions 10 labels apart at 2,000-4,000 labels agreed with kappa 0.983-1.0, versions
  50 labels apart about 0.98, so the criterion suits frequent retraining.
* **Minimum gain**: the cross-validated metric rose by less than ``min_gain`` points per
  100 labels, measured by a least-squares slope over the last steps (at least
  ``min_span`` labels, so one noisy evaluation does not stop a project).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np

from backend.tasks.agreement import LabelValue, cohen_kappa

KAPPA_THRESHOLD = 0.99
#: Consecutive version pairs whose kappa must all reach the threshold.
KAPPA_WINDOW = 3
#: Stop-set tasks two versions must share for their kappa to count.
MIN_STOP_SET = 50
#: Accuracy points per 100 labels below which labeling "no longer pays".
MIN_GAIN = 0.5
#: The gain is measured over at least this many steps ...
GAIN_WINDOW = 3
#: ... covering at least this many labels.
MIN_SPAN = 200


@dataclass(frozen=True)
class VersionRecord:
    """What the learning curve needs of one model version (``None`` = not enough labels).

    ``created_at`` is ISO-8601 text in one format (e.g. UTC ``2025-01-31T12:00:00Z``):
    versions are put in order by it, so records may come in any order.
    """

    version: str
    created_at: str
    n_labels: int
    accuracy: float | None
    macro_f1: float | None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VersionRecord:
        def number(key: str) -> float | None:
            value = data.get(key)
            return None if value is None else float(value)

        return cls(str(data["version"]), str(data.get("created_at", "")), int(data["n_labels"]),
                   number("accuracy"), number("macro_f1"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Step:
    """From one evaluated version to the next: the gain in points per 100 labels."""

    from_labels: int
    to_labels: int
    gain_per_100: float


@dataclass
class LearningCurve:
    metric: str
    points: list[tuple[int, float]]
    steps: list[Step]
    #: Least-squares slope over the last steps, in metric points per 100 labels.
    recent_gain_per_100: float | None
    #: "rising", "flattening", "falling", or "unknown" (too few evaluated versions).
    trend: str
    #: The labels the recent gain was measured over, e.g. (1800, 2030).
    recent_span: tuple[int, int] | None = None
    macro_f1_points: list[tuple[int, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def learning_curve(
    records: Sequence[VersionRecord],
    metric: str = "accuracy",
    min_gain: float = MIN_GAIN,
    window: int = GAIN_WINDOW,
    min_span: int = MIN_SPAN,
) -> LearningCurve:
    """(labels, metric) per evaluated version, step gains and the recent trend."""
    if metric not in ("accuracy", "macro_f1"):
        raise ValueError(f"metric must be 'accuracy' or 'macro_f1'; got {metric!r}")
    ordered = sorted(records, key=lambda r: r.created_at)
    points = _points(ordered, metric)
    steps = [Step(a[0], b[0], round(_gain(a, b), 4))
             for a, b in pairwise(points) if b[0] > a[0]]
    recent = _recent(points, window, min_span)
    slope = None if recent is None else _slope(recent)
    if slope is None:
        trend = "unknown"
    else:
        trend = "rising" if slope >= min_gain else "falling" if slope <= -min_gain else "flattening"
    span = None if recent is None else (recent[0][0], recent[-1][0])
    return LearningCurve(metric, points, steps, None if slope is None else round(slope, 4), trend,
                         span, _points(ordered, "macro_f1"))


def _points(records: Sequence[VersionRecord], metric: str) -> list[tuple[int, float]]:
    values = [(r.n_labels, getattr(r, metric)) for r in records]
    return [(n, float(v)) for n, v in values if v is not None]


def _gain(a: tuple[int, float], b: tuple[int, float]) -> float:
    """Metric points (hundredths) gained per 100 labels between two evaluated versions."""
    return (b[1] - a[1]) * 100.0 / (b[0] - a[0]) * 100.0


def _recent(
    points: list[tuple[int, float]], window: int, min_span: int
) -> list[tuple[int, float]] | None:
    """The shortest tail with ``window`` steps that spans ``min_span`` labels, if any."""
    for start in range(len(points) - window - 1, -1, -1):
        tail = points[start:]
        if tail[-1][0] - tail[0][0] >= min_span:
            return tail
    return None


def _slope(points: list[tuple[int, float]]) -> float | None:
    x = np.array([p[0] for p in points], dtype=np.float64)
    y = np.array([p[1] for p in points], dtype=np.float64)
    if np.ptp(x) == 0:
        return None
    return float(np.polyfit(x, y, 1)[0] * 100.0 * 100.0)


@dataclass(frozen=True)
class Agreement:
    """Kappa between two consecutive versions' predictions on the shared stop-set tasks."""

    from_version: str
    to_version: str
    n_tasks: int
    kappa: float | None


@dataclass(frozen=True)
class Criterion:
    name: str
    fired: bool
    detail: str


@dataclass
class StopSuggestion:
    """``stop`` when any criterion fired; ``message`` says which and why, or why go on."""

    stop: bool
    message: str
    criteria: list[Criterion]
    agreements: list[Agreement]
    curve: LearningCurve

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def stop_set_agreement(
    records: Sequence[VersionRecord],
    stop_set: Mapping[str, Mapping[Any, LabelValue]],
    min_tasks: int = MIN_STOP_SET,
) -> list[Agreement]:
    """Kappa of each consecutive pair of versions that both predicted the stop set.

    ``stop_set`` maps a version to its predictions on the stop-set tasks: task id to the
    predicted choice (a list of choices for multi-label). Task ids are compared as text,
    so keys read back from JSON match. Multi-label predictions are compared as one yes/no
    decision per (task, choice).
    """
    ordered = [r.version for r in sorted(records, key=lambda r: r.created_at)
               if r.version in stop_set]
    out = []
    for old, new in pairwise(ordered):
        a = {str(k): v for k, v in stop_set[old].items()}
        b = {str(k): v for k, v in stop_set[new].items()}
        shared = sorted(set(a) & set(b))
        kappa = _kappa(shared, a, b) if len(shared) >= min_tasks else None
        out.append(Agreement(old, new, len(shared), None if kappa is None else round(kappa, 4)))
    return out


def _kappa(shared: list[str], a: Mapping[str, LabelValue], b: Mapping[str, LabelValue]) -> float:
    if all(isinstance(a[t], str) and isinstance(b[t], str) for t in shared):
        return cohen_kappa([a[t] for t in shared], [b[t] for t in shared])
    sets_a = {t: _choices(a[t]) for t in shared}
    sets_b = {t: _choices(b[t]) for t in shared}
    choices = sorted(set[str]().union(*sets_a.values(), *sets_b.values()))
    if not choices:  # both versions predicted "no choice" everywhere
        return 1.0
    return cohen_kappa([c in sets_a[t] for t in shared for c in choices],
                       [c in sets_b[t] for t in shared for c in choices])


def suggest_stop(
    records: Sequence[VersionRecord],
    stop_set: Mapping[str, Mapping[Any, LabelValue]] | None = None,
    *,
    kappa_threshold: float = KAPPA_THRESHOLD,
    kappa_window: int = KAPPA_WINDOW,
    min_gain: float = MIN_GAIN,
    gain_window: int = GAIN_WINDOW,
    min_span: int = MIN_SPAN,
) -> StopSuggestion:
    """Should annotators stop? Evaluates both criteria on the versions so far."""
    if kappa_window < 1 or gain_window < 1:
        raise ValueError(f"windows must be at least 1; got kappa_window={kappa_window}, "
                         f"gain_window={gain_window}")
    curve = learning_curve(records, "accuracy", min_gain, gain_window, min_span)
    agreements = stop_set_agreement(records, stop_set or {})
    criteria = [_stabilizing(agreements, kappa_threshold, kappa_window),
                _min_gain(curve, min_gain, gain_window, min_span)]
    fired = [c for c in criteria if c.fired]
    if fired:
        message = "Labeling can stop: " + " ".join(c.detail for c in fired)
    else:
        message = "Keep labeling: " + " ".join(c.detail for c in criteria)
    return StopSuggestion(bool(fired), message, criteria, agreements, curve)


def _stabilizing(agreements: list[Agreement], threshold: float, window: int) -> Criterion:
    name = "stabilizing predictions"
    last = agreements[-window:]
    kappas = [a.kappa for a in last]
    if len(last) < window or any(k is None for k in kappas):
        needs = (f"this criterion needs {window} consecutive pairs of versions sharing at least "
                 f"{MIN_STOP_SET} stop-set tasks.")
        done = (f"{len(agreements)} pair(s) of consecutive versions compared on the stop set so "
                "far; " if agreements else "no two versions have predicted the stop set yet; ")
        return Criterion(name, False, done + needs)
    shown = ", ".join(f"{k:.3f}" for k in kappas if k is not None)
    if all(k is not None and k >= threshold for k in kappas):
        return Criterion(name, True, f"the last {window} versions agree with their predecessor "
                         f"on the stop set with kappa {shown} (at least {threshold}): new labels "
                         "no longer change the model's predictions.")
    return Criterion(name, False, f"kappa between the last {window} consecutive versions on the "
                     f"stop set is {shown}; predictions still change (stop at {threshold}).")


def _min_gain(curve: LearningCurve, min_gain: float, window: int, min_span: int) -> Criterion:
    name = "minimum gain"
    gain, span = curve.recent_gain_per_100, curve.recent_span
    if gain is None or span is None:
        return Criterion(name, False, f"the gain per 100 labels needs {window + 1} evaluated "
                         f"versions spanning at least {min_span} labels; "
                         f"{len(curve.points)} evaluated so far.")
    where = f"from {span[0]} to {span[1]} labels"
    if gain < min_gain:
        return Criterion(name, True, f"accuracy changed by {gain:+.2f} points per 100 labels "
                         f"{where} (less than {min_gain}): more labels buy little.")
    return Criterion(name, False, f"accuracy still gains {gain:+.2f} points per 100 labels "
                     f"{where} (stop below {min_gain}).")


def _choices(value: LabelValue) -> set[str]:
    return {value} if isinstance(value, str) else {str(v) for v in value}
