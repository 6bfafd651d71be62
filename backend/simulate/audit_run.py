"""The audit sample inside a simulated run, as the service runs it.

Each round a share of the batch (:func:`strategies.audit_count`) is drawn uniformly at
random from the unlabeled pool and labeled among the strategy's picks; every
``every`` rounds the version is measured on the audit tasks exactly as the service's
report measures it (:func:`backend.reports.audit.audit_figures`), the stop advice is
taken (stabilizing predictions on a fixed stop set of pool rows and the audit gain), and
the round records the true test accuracy beside the estimate, so anyone can check one
against the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from backend import defaults
from backend.reports.audit import audit_figures
from backend.reports.stopping import VersionRecord, earlier_version, suggest_stop
from strategies import FloatArray, IntArray, audit_count, draw_audit


class AuditLearner(Protocol):
    y_pool: IntArray
    proba: FloatArray | None

    @property
    def n_pool(self) -> int: ...

    def fit_rows(self, rows: IntArray, targets: IntArray) -> Any: ...


def with_audit(picks: IntArray, remaining: IntArray, share: float, draw: int,
               rng: np.random.Generator) -> tuple[IntArray, IntArray]:
    """The round's batch (audit draws first, then the strategy's picks) and its audit rows."""
    k = len(picks)
    n = audit_count(share, k, draw)
    if n == 0:
        return picks, np.zeros(0, dtype=np.intp)
    audit = remaining[draw_audit(len(remaining), n, rng)]
    rest = [int(p) for p in picks if p not in set(audit.tolist())][: k - n]
    return np.concatenate([audit, np.asarray(rest, dtype=np.intp)]).astype(np.intp), audit


@dataclass
class AuditTracker:
    """One run's audit rows, stop-set predictions and version records, round after round."""

    share: float
    every: int = 1
    seed: int = 0
    audit: list[int] = field(default_factory=list)
    records: list[VersionRecord] = field(default_factory=list)
    stop_set: dict[str, dict[Any, Any]] = field(default_factory=dict)
    stop_rows: IntArray | None = None
    draws: int = 0

    def batch(self, picks: IntArray, remaining: IntArray, rng: np.random.Generator) -> IntArray:
        """The strategy's picks with this round's audit draws among them."""
        if self.share <= 0:
            return picks
        out, audit = with_audit(picks, remaining, self.share, self.draws, rng)
        self.draws += 1
        self.audit.extend(int(a) for a in audit)
        return out

    def measure(self, learner: AuditLearner, labeled: IntArray, round_no: int, accuracy: float) -> dict[str, Any]:
        """The round's record: labels, true accuracy, and on evaluated rounds the audit figures."""
        row: dict[str, Any] = {"labels": len(labeled), "accuracy": round(float(accuracy), 6)}
        if self.share <= 0:
            return row
        if self.stop_rows is None:
            rng = np.random.default_rng(self.seed + 1)
            size = min(defaults.STOP_SET_SIZE, learner.n_pool)
            self.stop_rows = np.sort(rng.choice(learner.n_pool, size=size, replace=False))
        version = f"v{round_no:05d}"
        if learner.proba is not None:
            predicted = learner.proba[self.stop_rows].argmax(axis=1).tolist()
            self.stop_set[version] = {i: str(c) for i, c in enumerate(predicted)}
        if (round_no + 1) % max(1, self.every):
            self.records.append(VersionRecord(version, version, len(labeled), None, None))
            return row
        y = learner.y_pool

        def fit_predict(train: IntArray, test: IntArray) -> FloatArray:
            return np.asarray(learner.fit_rows(train, y[train])(test))

        earlier = earlier_version(self.records, len(labeled))
        figures = audit_figures(fit_predict, y, labeled, np.asarray(self.audit, dtype=np.intp),
                                earlier_rows=None if earlier is None else labeled[: earlier.n_labels],
                                seed=self.seed)
        estimate = figures.estimate.to_dict()
        self.records.append(VersionRecord(version, version, len(labeled), None, None, estimate))
        advice = suggest_stop(self.records, self.stop_set, figures.gain)
        row.update({"estimate": estimate, "gain": figures.gain.to_dict() if figures.gain else None,
                    "stop": advice.verdict,
                    "saved": None if figures.saving is None else {
                        k: getattr(figures.saving, k) for k in ("saved", "low", "high", "ratio", "random_labels")}})
        return row
