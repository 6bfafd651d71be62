"""A version's audit figures, from what the service keeps: the draws in Redis, training files.

The labeled audit tasks are the version's labeled tasks (its training file, read from Label
Studio at the retrain) that a rescore drew at random (:mod:`backend.loop.audit`); the
earlier version of the audit gain is found among the published ones and its own training
file says what it was trained on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from backend.loop.services import Services
from backend.loop.training import TRAINING_FILE
from backend.reports.audit import AuditFigures, audit_figures
from backend.reports.entity_estimate import span_audit_figures
from backend.reports.estimate import estimate
from backend.reports.stopping import VersionRecord, earlier_version
from backend.tasks import Model, TaskKind


def rows_of(task_ids: Sequence[Any], wanted: set[int]) -> np.ndarray:
    return np.array([i for i, t in enumerate(task_ids) if int(t) in wanted], dtype=np.intp)


def version_audit(svc: Services, project: int, kind: TaskKind, model: Model,
                  training: Mapping[str, Any] | None, records: Sequence[VersionRecord]) -> AuditFigures:
    """Estimate, paired gain and labels saved of ``model`` on the project's labeled audit tasks."""
    refit = kind.refit(model)
    task_ids = list((training or {}).get("task_ids") or [])
    if len(task_ids) != len(refit.targets):  # no training file: nothing is known to be an audit task
        return AuditFigures(estimate(refit.targets[:0], None))
    audit = rows_of(task_ids, set(svc.state.audit_tasks(project)))
    earlier = earlier_version(records, len(task_ids))
    earlier_rows = None
    if earlier is not None:
        before = svc.store.read_json(project, earlier.version, TRAINING_FILE) or {}
        earlier_rows = rows_of(task_ids, {int(t) for t in before.get("task_ids") or []})
    if refit.fit_tags is not None:  # tag sequences: entity F1 on the audit sentences
        return span_audit_figures(refit.fit_tags, refit.tags, np.arange(len(task_ids), dtype=np.intp), audit,
                                  seed=project)
    return audit_figures(refit.fit_predict, refit.targets, np.arange(len(task_ids), dtype=np.intp), audit,
                         earlier_rows=earlier_rows, multilabel=refit.multilabel, seed=project)
