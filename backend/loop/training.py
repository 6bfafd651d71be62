"""A retrain: every label from Label Studio, the project's task kind trains, a version is published."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from backend.errors import NotEnoughLabels
from backend.loop.credentials import client_for, project_config
from backend.loop.numbering import highest, reserve, version_name
from backend.loop.services import Services
from backend.tasks import kind_of

log = logging.getLogger(__name__)
#: The labels a version was trained on, as its kind's report needs them, beside the artifact.
TRAINING_FILE = "training.json"


def next_version(svc: Services, project: int, in_label_studio: Iterable[str] = ()) -> str:
    """A version name never used before: ``ls-active-v<n>-<UTC time>``.

    ``n`` continues from the highest number in the store, in Label Studio's prediction
    versions (``in_label_studio``) or in Redis's records, so a Redis that lost everything
    cannot make a number come round again (see :mod:`backend.loop.numbering`).
    """
    seen = max(highest(svc.store.versions(project)), highest(in_label_studio),
               highest(r.get("version", "") for r in svc.state.versions(project)))
    return version_name(reserve(svc.store.root / f"project-{int(project)}", seen + 1))


def train_and_publish(svc: Services, project: int) -> dict[str, Any]:
    """Read all labels, train, write the artifact, make it current. Returns the version record."""
    config = project_config(svc, project)
    kind = kind_of(config.schema)
    started = time.perf_counter()
    with client_for(svc, config) as client:
        tasks = list(client.iter_tasks(project, labeled=True, page_size=svc.settings.page_size))
        in_label_studio = list(client.list_prediction_versions(project))
    read_s = time.perf_counter() - started
    svc.pool.labeled(project, [int(t["id"]) for t in tasks])
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
    t0 = time.perf_counter()
    model = kind.train(training, config.schema)
    train_s = time.perf_counter() - t0
    version = next_version(svc, project, in_label_studio)
    record = {"version": version, "project": project, "created_at": time.time(), "kind": kind.name, **summary,
              "strategy": config.strategy, "read_seconds": round(read_s, 3), "train_seconds": round(train_s, 3)}
    svc.store.write(project, version, model, record, extra_files={TRAINING_FILE: kind.training_file(training)})
    svc.state.publish_version(project, version, record)
    svc.state.set_status(project, last_version=version, last_train_at=time.time())
    log.info("project %s: published %s from %d labels (train %.2fs)", project, version, len(training), train_s)
    return record
