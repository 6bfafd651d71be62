"""Stabilizing predictions (Bloodgood & Vijay-Shanker, 2009): do new labels still change the model?

Every version predicts the same fixed sample of unlabeled tasks (the project's *stop
set*); Cohen's kappa between consecutive versions' predictions on it measures how much a
retrain changed. It needs no labels, so the stop set can be large. Kappa depends on how
many labels separate two versions: measured on trec6 with the service's model, versions
10 labels apart at 2,000-4,000 labels agreed with kappa 0.983-1.0, versions 50 labels
apart about 0.98, so the criterion suits frequent retraining.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from backend.reports.curve import VersionRecord
from backend.tasks.agreement import LabelValue, cohen_kappa

#: Stop-set tasks two versions must share for their kappa to count.
MIN_STOP_SET = 50


@dataclass(frozen=True)
class Agreement:
    """Kappa between two consecutive versions' predictions on the shared stop-set tasks."""

    from_version: str
    to_version: str
    n_tasks: int
    kappa: float | None


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


def _choices(value: LabelValue) -> set[str]:
    return {value} if isinstance(value, str) else {str(v) for v in value}
