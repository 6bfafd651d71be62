"""One version's audit figures, the same for the service and the simulator.

Given a way to train on some rows and predict others (the kind's own model), the rows the
version was trained on, which of them are labeled audit tasks, and optionally the rows an
earlier version was trained on, it computes the audit estimate, the paired gain over the
earlier version and the labels saved so far. Pure: no Redis, no Label Studio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from backend.reports.estimate import (
    MIN_AUDIT,
    Estimate,
    FitPredict,
    Gain,
    estimate,
    fold_ids,
    hits,
    out_of_fold,
    paired_gain,
    predicted,
)
from backend.reports.saved import MIN_AUDIT_CURVE, Saving, labels_saved, random_curve


@dataclass
class AuditFigures:
    estimate: Estimate
    gain: Gain | None = None
    saving: Saving | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"estimate": self.estimate.to_dict(), "gain": self.gain.to_dict() if self.gain else None,
                "saving": self.saving.to_dict() if self.saving else None}


def audit_figures(fit_predict: FitPredict, y: npt.NDArray[Any], train_rows: npt.NDArray[np.intp],
                  audit_rows: npt.NDArray[np.intp], *, earlier_rows: npt.NDArray[np.intp] | None = None,
                  multilabel: bool = False, seed: int = 0, min_audit: int = MIN_AUDIT,
                  with_saving: bool = True) -> AuditFigures:
    """Estimate, gain and saving of the model trained on ``train_rows``; ``y`` is indexed by row.

    ``audit_rows`` must be among ``train_rows`` (labeled audit tasks train like any other);
    ``earlier_rows`` are the rows the earlier version of the gain was trained on.
    """
    train_rows = np.asarray(train_rows, dtype=np.intp)
    audit_rows = np.asarray(audit_rows, dtype=np.intp)
    y = np.asarray(y)
    y_audit = y[audit_rows]
    rng = np.random.default_rng(seed)
    folds = fold_ids(len(audit_rows), rng)
    enough = len(audit_rows) >= max(1, min_audit)
    proba = out_of_fold(fit_predict, train_rows, audit_rows, folds) if enough else None
    est = estimate(y_audit, proba, multilabel=multilabel, min_audit=min_audit, seed=seed)
    out = AuditFigures(est)
    if proba is not None and earlier_rows is not None and len(earlier_rows):
        then = out_of_fold(fit_predict, np.asarray(earlier_rows, dtype=np.intp), audit_rows, folds)
        if then is not None:
            out.gain = paired_gain(hits(y_audit, predicted(then, multilabel), multilabel),
                                   hits(y_audit, predicted(proba, multilabel), multilabel),
                                   len(earlier_rows), len(train_rows))
    if with_saving:  # without a curve it says how many audit labels it waits for
        enough_for_curve = proba is not None and len(audit_rows) >= MIN_AUDIT_CURVE
        curve = random_curve(fit_predict, audit_rows, y_audit, multilabel, seed) if enough_for_curve else []
        out.saving = labels_saved(curve, est, len(train_rows))
    return out
