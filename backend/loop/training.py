"""A retrain: every label from Label Studio, the project's task kind trains, a version is published.

The retrain reads only the labeled tasks; what the model needs of the whole pool (its kind's
pool statistics) the last rescore saved beside the versions, since the rescore reads every
unlabeled task anyway (:func:`backend.loop.rescoring.refresh_pool`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from backend.errors import NotEnoughLabels
from backend.loop.credentials import client_for, project_config
from backend.loop.numbering import highest, reserve, version_name
from backend.loop.options import PARAM_NAMES, for_kind, resolve
from backend.loop.services import Services
from backend.loop.state import ProjectConfig
from backend.loop.store import artifact_bytes
from backend.tasks import Model, Schema, TaskKind, Training, kind_of

log = logging.getLogger(__name__)
#: The labels a version was trained on, as its kind's report needs them, beside the artifact.
TRAINING_FILE = "training.json"
#: The model the strategy ranks with: the version's labels less the labeled audit tasks.
SELECTION_FILE = "selection.joblib"


def next_version(svc: Services, project: int, in_label_studio: Iterable[str] = ()) -> str:
    """A version name never used before: ``ls-active-v<n>-<UTC time>``.

    ``n`` continues from the highest number in the store, in Label Studio's prediction
    versions (``in_label_studio``) or in Redis's records, so a Redis that lost everything
    cannot make a number come round again (see :mod:`backend.loop.numbering`).
    """
    seen = max(highest(svc.store.versions(project)), highest(in_label_studio),
               highest(r.get("version", "") for r in svc.state.versions(project)))
    return version_name(reserve(svc.store.root / f"project-{int(project)}", seen + 1))


def selection_model(svc: Services, project: int, kind: TaskKind, tasks: list[dict[str, Any]], training: Training,
                    schema: Schema, options: Mapping[str, Any] | None = None,
                    pool: Any = None) -> tuple[Model | None, int]:
    """The model the strategy ranks the pool with, and how many labeled audit tasks it leaves out.

    The audit estimate tests a version on its labeled audit tasks. A strategy that has seen
    their labels stops asking for tasks like them, so the labels it chooses next cover the
    audit tasks' neighbourhoods less than a fresh task's, and the estimate errs low
    (BENCHMARKS.md, "Audit sample: why the estimate erred low"). Ranking with a model trained without them
    keeps the strategy's choices independent of the audit labels; the served model and its
    pre-annotations still learn from every label. ``None`` when there is nothing to leave out.
    Its probabilities of the labeled audit tasks are therefore held out, a random sample of
    what it gives the pool: with ``calibrate="audit"`` both models' temperature is fitted
    on them (``TaskKind.calibrate``).
    """
    audit = set(svc.state.audit_tasks(project)) & {int(t) for t in training.task_ids}
    if not audit:
        return None, 0
    rest = [t for t in tasks if int(t["id"]) not in audit]
    steering = kind.training_set(rest, schema, svc.settings.max_text_chars)
    if not len(steering):
        return None, 0
    return kind.train(steering, schema, options, pool), len(training) - len(steering)


def model_record(model: Any) -> dict[str, Any]:
    """What the version record shows of the model itself: learner, IDF source, calibration."""
    meta = getattr(model, "meta", None)
    if not isinstance(meta, dict):
        return {}
    keys = ("learner", "idf", "pool_docs", "calibration")
    return {"model": {k: meta[k] for k in keys if k in meta}}


def train_and_publish(svc: Services, project: int) -> dict[str, Any]:
    """Read all labels, train, write the artifact, make it current. Returns the version record."""
    config = project_config(svc, project)
    started = time.perf_counter()
    with client_for(svc, config) as client:
        tasks = list(client.iter_tasks(project, labeled=True, page_size=svc.settings.page_size))
        in_label_studio = list(client.list_prediction_versions(project))
    svc.pool.labeled(project, [int(t["id"]) for t in tasks])
    return publish_from(svc, config, tasks, in_label_studio, time.perf_counter() - started)


def publish_from(svc: Services, config: ProjectConfig, tasks: list[dict[str, Any]],
                 in_label_studio: Iterable[str] = (), read_s: float = 0.0) -> dict[str, Any]:
    """Train on ``tasks`` (Label Studio's labeled tasks, as read) and publish the version."""
    project = config.project
    kind = kind_of(config.schema)
    labels = sum(1 for t in tasks for a in t.get("annotations") or [] if not a.get("was_cancelled"))
    if svc.state.start_label_events(project, labels):
        log.warning("project %s: Redis had lost the label count; it starts again from Label Studio's %d",
                    project, labels)
    training = kind.training_set(tasks, config.schema, svc.settings.max_text_chars)
    if not len(training):
        raise NotEnoughLabels(f"project {project} has no usable labels yet ({len(tasks)} labeled tasks read)")
    summary = training.record()
    if summary.get("unknown_labels"):
        log.warning("project %s: ignored annotations with labels not in the config: %s", project,
                    summary["unknown_labels"])
    options = resolve(svc.settings, config.options)
    model_options = {k: v for k, v in options.model().items() if k in kind.model_options}
    t0 = time.perf_counter()
    pool = svc.store.read_pool(project)
    model = kind.train(training, config.schema, model_options, pool)
    selection, blind_to = selection_model(svc, project, kind, tasks, training, config.schema, model_options, pool)
    if selection is not None and model_options.get("calibrate") == "audit":
        audit = set(svc.state.audit_tasks(project))
        held_out = np.array([i for i, t in enumerate(training.task_ids) if int(t) in audit], dtype=np.intp)
        kind.calibrate(model, selection, held_out)  # recorded in the model's meta (model_record)
    train_s = time.perf_counter() - t0
    version = next_version(svc, project, in_label_studio)
    record = {"version": version, "project": project, "created_at": time.time(), "kind": kind.name, **summary,
              "strategy": config.strategy, "options": for_kind(options, kind.model_options),
              "options_from_project": sorted(PARAM_NAMES[k] for k in config.options if k in PARAM_NAMES),
              "read_seconds": round(read_s, 3), "train_seconds": round(train_s, 3), **model_record(model),
              "selection": {"blind_to_audit_labels": blind_to,
                            "labels": len(training) - blind_to if selection is not None else len(training)}}
    extra = {TRAINING_FILE: kind.training_file(training)}
    if selection is not None:
        extra[SELECTION_FILE] = artifact_bytes(selection)
    svc.store.write(project, version, model, record, extra_files=extra)
    svc.state.publish_version(project, version, record)
    svc.state.set_status(project, last_version=version, last_train_at=time.time())
    log.info("project %s: published %s from %d labels (train %.2fs)", project, version, len(training), train_s)
    return record
