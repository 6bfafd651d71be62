"""The learning curve a user can trust: audit estimates (with intervals) against labels spent.

One point per version that has an audit estimate (see :mod:`backend.reports.estimate`).
The cross-validated accuracy on all labels is kept beside it, named for what it is: the
labels a strategy chose are not a random sample, so that figure follows the strategy's
bias (on trec6 it *fell* from 0.758 to 0.643 while the true accuracy rose from 0.348 to
0.666). The recent gain and the trend come from the paired audit gain of the current
version over an earlier one, never from the cross-validated figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from backend.reports.estimate import Gain

#: Accuracy points per 100 labels below which labeling "no longer pays".
MIN_GAIN = 0.5


@dataclass(frozen=True)
class VersionRecord:
    """What the learning curve needs of one model version (``None`` = not measurable yet).

    ``accuracy`` and ``macro_f1`` are the cross-validated figures on all labels; ``estimate``
    the audit estimate's dict (``accuracy``, ``low``, ``high``, ``macro_f1``, ``n_audit``).
    ``created_at`` is ISO-8601 text in one format: versions are put in order by it.
    """

    version: str
    created_at: str
    n_labels: int
    accuracy: float | None
    macro_f1: float | None
    estimate: Mapping[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VersionRecord:
        def number(key: str) -> float | None:
            value = data.get(key)
            return None if value is None else float(value)

        estimate = data.get("estimate")
        return cls(str(data["version"]), str(data.get("created_at", "")), int(data["n_labels"]),
                   number("accuracy"), number("macro_f1"), dict(estimate) if isinstance(estimate, Mapping) else None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def audit(self, key: str) -> float | None:
        value = (self.estimate or {}).get(key)
        return None if value is None else float(value)


@dataclass
class LearningCurve:
    """Audit-estimated points (``points``: accuracy, with ``intervals``) and the biased CV points."""

    metric: str
    points: list[tuple[int, float]]
    intervals: list[tuple[int, float, float]]
    #: Audit-estimated accuracy points per 100 labels of the current version over an earlier one.
    recent_gain_per_100: float | None
    recent_gain_low: float | None
    recent_gain_high: float | None
    #: "rising", "flattening", "falling", "noisy", or "unknown" (no paired gain yet).
    trend: str
    #: The labels the recent gain was measured over, e.g. (1000, 2000).
    recent_span: tuple[int, int] | None = None
    macro_f1_points: list[tuple[int, float]] = field(default_factory=list)
    #: Cross-validated accuracy on all labels (strategy-chosen: biased), for comparison only.
    cv_points: list[tuple[int, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def trend_of(gain: Gain | None, min_gain: float = MIN_GAIN) -> str:
    """The trend the paired gain's interval supports; an interval wider than the band is "noisy"."""
    if gain is None:
        return "unknown"
    if gain.low >= min_gain:
        return "rising"
    if gain.high <= -min_gain:
        return "falling"
    if gain.low > -min_gain and gain.high < min_gain:
        return "flattening"
    return "noisy"


def learning_curve(records: Sequence[VersionRecord], gain: Gain | None = None,
                   min_gain: float = MIN_GAIN) -> LearningCurve:
    """Audit points per version (in creation order), the CV points, and the recent gain."""
    ordered = sorted(records, key=lambda r: r.created_at)
    points, intervals, f1 = [], [], []
    for r in ordered:
        acc, low, high, mf1 = r.audit("accuracy"), r.audit("low"), r.audit("high"), r.audit("macro_f1")
        if acc is not None:
            points.append((r.n_labels, acc))
            intervals.append((r.n_labels, acc if low is None else low, acc if high is None else high))
        if mf1 is not None:
            f1.append((r.n_labels, mf1))
    cv = [(r.n_labels, float(r.accuracy)) for r in ordered if r.accuracy is not None]
    span = None if gain is None else (gain.from_labels, gain.to_labels)
    return LearningCurve("accuracy", points, intervals, None if gain is None else gain.per_100,
                         None if gain is None else gain.low, None if gain is None else gain.high,
                         trend_of(gain, min_gain), span, f1, cv)
