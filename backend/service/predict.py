"""``/predict``: the scores the last push gave, so Label Studio shows one order however it asks.

A task the last push covered gets exactly its pushed score. Any other task (imported since,
or sent without an id) is scored on the spot from the current model alone: by the project's
strategy when that scores each task on its own without refitting anything, else by margin.
Nothing is ever trained inside the request; before any model exists such a task waits at
the end of the queue (score 1) until the next push ranks it.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from backend import defaults
from backend.labelstudio.payloads import PredictRequest
from backend.loop.rescoring import ranking
from backend.loop.services import Services
from backend.loop.state import ProjectConfig
from backend.tasks import Model, Schema, Scored, TaskKind, kind_of

log = logging.getLogger(__name__)


def _model_for(svc: Services, project: int | None, schema: Schema) -> tuple[str, Model | None]:
    if project is None:
        return defaults.COLD_START_VERSION, None
    version, model = svc.current_model(project)
    if model is not None and tuple(model.labels) != tuple(schema.labels):
        log.warning("project %s: model %s labels differ from the config; cold start until retrained", project, version)
        return defaults.COLD_START_VERSION, None
    return version, model


def _computed(kind: TaskKind, inputs: Any, model: Model | None, schema: Schema, strategy: str, project: int,
              svc: Services, config: ProjectConfig | None) -> Scored:
    """Scores from the model alone for every task of the request (the fallback)."""
    n = len(inputs) if not hasattr(inputs, "shape") else int(inputs.shape[0])
    if model is None:
        return Scored(np.ones(n))
    ranker = kind.strategy(strategy)
    if ranker.per_task and not ranker.refits:
        return kind.score(inputs, model, schema, ranker, **ranking(svc.settings, project, config))
    return kind.fallback_score(inputs, model, schema)


def predict(svc: Services, req: PredictRequest, schema: Schema, strategy: str,
            config: ProjectConfig | None = None) -> dict[str, Any]:
    """Label Studio's answer for ``req``; ``config`` is the project's stored one (its batch size)."""
    kind = kind_of(schema)
    version, model = _model_for(svc, req.project, schema)
    if not req.tasks:
        return {"results": [], "model_version": version}
    inputs = kind.inputs(req.tasks, schema, svc.settings.max_text_chars)
    scored = _computed(kind, inputs, model, schema, strategy, req.project or 0, svc, config)
    if req.project is not None:
        ids = [t.get("id") for t in req.tasks]
        known = [i if isinstance(i, int) and not isinstance(i, bool) else -1 for i in ids]
        pushed = svc.state.cached_scores(req.project, version, known)
        scores = np.asarray(scored.scores, dtype=np.float64).copy()
        for row, value in enumerate(pushed):
            if value is not None and known[row] >= 0:
                scores[row] = value
        scored = Scored(scores, scored.outputs)
    return {"results": kind.predictions(schema, scored, version), "model_version": version}
