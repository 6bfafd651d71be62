"""The audit sample in the rescore: a few random tasks put among the strategy's first picks.

Each rescore (the cold start's too) is one *draw*: :func:`strategies.audit_count` tasks,
drawn uniformly at random from the unlabeled pool with a generator seeded by the project
and the draw number, take random positions in the head of the order (the tasks annotators
label before the next retrain). The draw is recorded in Redis before the scores are pushed,
with its version and number, and in the version's record, so it is known later which
labeled tasks were random draws. A retried rescore of the same version reuses its draw.
Label Studio stays the source of truth: an audit task counts only once it has a label there.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from backend.loop.project_file import write_audit_draws
from backend.loop.services import Services
from backend.loop.state import ProjectConfig
from strategies import audit_count, draw_audit, place_audit

log = logging.getLogger(__name__)


def audit_share(svc: Services, config: ProjectConfig) -> float:
    """The project's share (``/setup`` extra_params), else the ``AUDIT_SHARE`` setting."""
    return svc.settings.audit_share if config.audit_share is None else config.audit_share


def add_audit(svc: Services, config: ProjectConfig, version: str, preds: list[dict[str, Any]],
              head: int) -> list[int]:
    """Draw (or reuse) ``version``'s audit tasks and re-score ``preds`` in place; returns their ids."""
    share = audit_share(svc, config)
    if share <= 0 or not preds:
        return []
    project = config.project
    ids = [int(p["task"]) for p in preds]
    known = svc.state.audit_draw(project, version)
    if known is not None:
        where = {t: i for i, t in enumerate(ids)}
        draw, chosen = int(known["draw"]), [where[t] for t in known["task_ids"] if t in where]
    else:
        draw = svc.state.audit_draw_count(project)
        rng = np.random.default_rng([project, draw])
        chosen = draw_audit(len(ids), audit_count(share, head, draw), rng).tolist()
        svc.state.record_audit_draw(project, version, draw, [ids[i] for i in chosen])
        write_audit_draws(svc.settings.model_dir, project, svc.state.audit_draws(project))
    if not chosen:
        return []
    rng = np.random.default_rng([project, draw, 1])
    scores = place_audit(np.array([float(p["score"]) for p in preds]), np.asarray(chosen, dtype=np.intp), head, rng)
    for pred, score in zip(preds, scores.tolist(), strict=True):
        pred["score"] = round(score, 6)
    task_ids = [ids[i] for i in chosen]
    record = svc.state.version_record(project, version)
    if "project" in record:  # a published version (the cold start has no record)
        svc.state.update_version(project, version, {**record, "audit_draw": {"draw": draw, "task_ids": task_ids}})
    log.info("project %s: audit draw %d of %s: tasks %s", project, draw, version, task_ids)
    return task_ids
