"""When labeling has stopped paying off: advice that cannot follow the strategy's bias.

"Stop" needs **both** criteria, each reported with its figures:

* **Stabilizing predictions** (:mod:`backend.reports.stability`): consecutive versions agree
  on the stop set with Cohen's kappa at least 0.99, ``window`` pairs in a row.
* **Minimum gain on the audit sample**: the current version's accuracy on the audit tasks
  against an earlier version's, on the same tasks (paired, see
  :func:`backend.reports.estimate.paired_gain`), gained less than ``min_gain`` points per
  100 labels, and its whole 95% interval lies within ``(-min_gain, min_gain)``. A falling
  curve (it points to label trouble) or one too noisy to tell never means stop.

The cross-validated figures on all labels play no part: measured on trec6 they fell while
the true accuracy rose, and advised stopping while it still gained 15 points per 100 labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from backend.reports.curve import MIN_GAIN, LearningCurve, VersionRecord, learning_curve
from backend.reports.estimate import Gain
from backend.reports.stability import MIN_STOP_SET, Agreement, stop_set_agreement
from backend.tasks.agreement import LabelValue

KAPPA_THRESHOLD = 0.99
#: Consecutive version pairs whose kappa must all reach the threshold.
KAPPA_WINDOW = 3
#: The earlier version of the gain is at most this many labels back ...
MIN_SPAN = 200
#: ... and at least this share of the labels back: a long span narrows the interval of the
#: gain per 100 labels (on a concave curve it also overstates the current gain, which errs
#: on the side of labeling on).
SPAN_SHARE = 0.5

__all__ = ["KAPPA_THRESHOLD", "KAPPA_WINDOW", "MIN_GAIN", "MIN_SPAN", "SPAN_SHARE", "Criterion",
           "StopSuggestion", "VersionRecord", "earlier_version", "learning_curve", "suggest_stop"]


@dataclass(frozen=True)
class Criterion:
    name: str
    fired: bool
    detail: str


@dataclass
class StopSuggestion:
    """``stop`` only when every criterion holds; ``message`` says which hold and why."""

    stop: bool
    message: str
    criteria: list[Criterion]
    agreements: list[Agreement]
    curve: LearningCurve

    @property
    def verdict(self) -> str:
        return "stop" if self.stop else "continue"

    def contract(self) -> dict[str, Any]:
        """The ``stop`` field of ``/metrics``: the verdict and one reason per criterion."""
        return {"verdict": self.verdict,
                "reasons": [f"{c.name}: {'holds' if c.fired else 'does not hold'}: {c.detail}"
                            for c in self.criteria],
                "criteria": [asdict(c) for c in self.criteria]}

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "verdict": self.verdict}


def earlier_version(records: Sequence[VersionRecord], n_labels: int, min_span: int = MIN_SPAN,
                    share: float = SPAN_SHARE) -> VersionRecord | None:
    """The latest version at least ``max(min_span, share * n_labels)`` labels before ``n_labels``."""
    back = max(min_span, share * n_labels)
    older = [r for r in records if r.n_labels <= n_labels - back]
    return max(older, key=lambda r: (r.n_labels, r.created_at)) if older else None


def suggest_stop(
    records: Sequence[VersionRecord],
    stop_set: Mapping[str, Mapping[Any, LabelValue]] | None = None,
    gain: Gain | None = None,
    *,
    kappa_threshold: float = KAPPA_THRESHOLD,
    kappa_window: int = KAPPA_WINDOW,
    min_gain: float = MIN_GAIN,
    min_audit: int = 30,
) -> StopSuggestion:
    """Should annotators stop? ``gain`` is the current version's paired audit gain, if measured."""
    if kappa_window < 1:
        raise ValueError(f"kappa_window must be at least 1; got {kappa_window}")
    curve = learning_curve(records, gain, min_gain)
    agreements = stop_set_agreement(records, stop_set or {})
    criteria = [_stabilizing(agreements, kappa_threshold, kappa_window),
                _audit_gain(gain, min_gain, min_audit)]
    stop = all(c.fired for c in criteria)
    held = [c.name for c in criteria if c.fired]
    if stop:
        message = "Labeling can stop: " + " ".join(c.detail for c in criteria)
    else:
        lead = f"only {held[0]} holds; stop needs both. " if held else ""
        message = "Keep labeling: " + lead + " ".join(c.detail for c in criteria)
    return StopSuggestion(stop, message, criteria, agreements, curve)


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


def _audit_gain(gain: Gain | None, min_gain: float, min_audit: int) -> Criterion:
    name = "minimum gain on the audit sample"
    if gain is None or gain.n_audit < min_audit:
        have = 0 if gain is None else gain.n_audit
        return Criterion(name, False, f"the audit gain needs {min_audit} labeled audit tasks and a version "
                         f"at least {MIN_SPAN} labels (and half the labels) earlier; {have} audit tasks "
                         "compared so far.")
    figures = (f"accuracy on {gain.n_audit} audit tasks changed by {gain.per_100:+.2f} points per 100 labels "
               f"from {gain.from_labels} to {gain.to_labels} labels (95% interval {gain.low:+.2f} to "
               f"{gain.high:+.2f})")
    if gain.high <= -min_gain:
        return Criterion(name, False, figures + ": accuracy is falling; check recent labels before going on.")
    if gain.low > -min_gain and gain.high < min_gain:
        return Criterion(name, True, figures + f", all within {min_gain} points: more labels buy little.")
    if gain.low >= min_gain:
        return Criterion(name, False, figures + f": still gaining (stop below {min_gain}).")
    return Criterion(name, False, figures + f": too uncertain to stop (the interval must lie within "
                     f"±{min_gain}).")
