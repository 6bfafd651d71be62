"""The work behind the loop, as RQ jobs: module-level functions with plain arguments.

``retrain(project)`` reads every label from Label Studio (the source of truth, so a lost
webhook loses nothing), trains, publishes an immutable version and enqueues
``rescore(project, version)``, which scores the whole unlabeled pool, pushes one
prediction per task in bulk and points the project's ``model_version`` at it.
Label Studio or network errors raise :class:`LabelStudioError`; RQ retries them with
backoff, and the last error is kept per project for ``/health``.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections import Counter
from typing import Any

from rq import get_current_job

from backend.errors import LabelStudioError, NotEnoughLabels
from backend.labelstudio.client import LabelStudioClient
from backend.loop.cleanup import CLEANUP_PACE, CLEANUP_RETRY_SECONDS, UNHURRIED, delete_versions, superseded
from backend.loop.evaluation import TRAINING_FILE, ensure_stop_set, evaluate_version, training_record
from backend.loop.services import Services
from backend.loop.state import COLD_START_VERSION, ProjectConfig
from backend.settings import Settings
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.model import train_model
from backend.tasks.text_classification.schema import parse_label_config
from backend.tasks.text_classification.scoring import predictions, score_counts, task_texts
from backend.tasks.text_classification.targets import training_set

log = logging.getLogger(__name__)
_SERVICES: dict[Settings, Services] = {}
VERSION_PREFIX = "ls-active-v"


def _mark_running() -> str:
    """Record which process runs the current job, so a new worker can tell it died."""
    job = get_current_job()
    if job is None:
        return ""
    job.meta.update(pid=os.getpid(), host=socket.gethostname())
    job.save_meta()
    return str(job.id)


def services(settings: Settings | None = None) -> Services:
    """One Services per process and settings (a worker runs many jobs)."""
    settings = settings or Settings.from_env()
    if settings not in _SERVICES:
        _SERVICES[settings] = Services.create(settings)
    return _SERVICES[settings]


def client_for(svc: Services, config: ProjectConfig | None) -> LabelStudioClient:
    """``LABEL_STUDIO_URL``/``LABEL_STUDIO_API_KEY`` when set, else what ``/setup`` sent."""
    s = svc.settings
    url = s.label_studio_url or (config.hostname if config else "")
    token = s.label_studio_api_key or (config.access_token if config else "")
    if not url or not token:
        raise LabelStudioError(
            "no Label Studio address or token for this project: set LABEL_STUDIO_URL and "
            "LABEL_STUDIO_API_KEY, or connect the backend from the project's Model settings",
            retryable=False,
        )
    return LabelStudioClient(url, token)


def project_config(svc: Services, project: int) -> ProjectConfig:
    """The stored config, or one built from Label Studio's own project when never set up."""
    config = svc.state.config(project)
    if config is not None:
        return config
    with client_for(svc, None) as client:
        label_config = client.get_project(project).get("label_config", "")
    return ProjectConfig(project, parse_label_config(label_config), strategy=svc.settings.strategy)


def _record_failure(svc: Services, project: int, exc: BaseException) -> None:
    svc.state.set_status(project, last_error=f"{type(exc).__name__}: {exc}", last_error_at=time.time())


def _next_version(svc: Services, project: int) -> str:
    number = len(svc.state.versions(project)) + 1
    return f"{VERSION_PREFIX}{number}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}"


def train_and_publish(project: int, settings: Settings | None = None, rescore: bool = False) -> dict[str, Any]:
    """Read all labels, train, write the artifact, make it current. Returns the version record."""
    svc = services(settings)
    config = project_config(svc, project)
    schema = config.schema
    started = time.perf_counter()
    with client_for(svc, config) as client:
        tasks = list(client.iter_tasks(project, labeled=True, page_size=svc.settings.page_size))
    read_s = time.perf_counter() - started
    data = training_set(tasks, schema, svc.settings.max_text_chars)
    if not data.texts:
        raise NotEnoughLabels(f"project {project} has no usable labels yet ({len(tasks)} labeled tasks read)")
    if data.unknown_labels:
        log.warning("project %s: ignored annotations with choices not in the config: %s",
                    project, dict(data.unknown_labels))
    t0 = time.perf_counter()
    counts = featurize(data.texts)
    model = train_model(counts, data.target_array(schema), schema.labels, schema.multilabel)
    train_s = time.perf_counter() - t0
    version = _next_version(svc, project)
    targets = data.target_array(schema)
    label_counts = (
        {label: int(n) for label, n in zip(schema.labels, targets.sum(axis=0), strict=True)}
        if schema.multilabel else dict(Counter(schema.labels[int(t)] for t in targets))
    )
    record = {
        "version": version, "project": project, "created_at": time.time(), "n_labels": len(data.texts),
        "label_counts": label_counts, "labels": list(schema.labels), "multilabel": schema.multilabel,
        "strategy": config.strategy, "unknown_labels": dict(data.unknown_labels), "ties": data.ties,
        "read_seconds": round(read_s, 3), "train_seconds": round(train_s, 3),
    }
    training = training_record(data.task_ids, data.texts, data.votes)
    svc.store.write(project, version, model, record, extra_files={TRAINING_FILE: training})
    svc.state.publish_version(project, version, record)
    svc.state.set_status(project, last_version=version, last_train_at=time.time())
    log.info("project %s: published %s from %d labels (train %.2fs)", project, version, len(data.texts), train_s)
    if rescore:
        rescore_pool(project, version, settings)
    return record


def retrain(project: int) -> dict[str, Any] | None:
    """RQ job: retrain from every label in Label Studio, then enqueue the rescore."""
    svc = services()
    job_id = _mark_running()
    if job_id and not svc.scheduler.begin_retrain(project, job_id):
        log.info("project %s: %s no longer owns the retrain slot; nothing to do", project, job_id)
        return None
    try:
        record = train_and_publish(project)
    except NotEnoughLabels as exc:
        log.info("%s", exc)
        if job_id:
            svc.scheduler.finish_retrain(project, job_id)
        return None
    except Exception as exc:
        _record_failure(svc, project, exc)
        log.error("project %s: retrain failed: %s", project, exc)
        raise
    svc.scheduler.enqueue_rescore(project, record["version"])
    if job_id:
        svc.scheduler.finish_retrain(project, job_id)
    return record


def rescore(project: int, version: str | None) -> dict[str, Any] | None:
    """RQ job: score the whole unlabeled pool with ``version`` (None = cold start) and push it."""
    svc = services()
    _mark_running()
    try:
        return rescore_pool(project, version)
    except Exception as exc:
        _record_failure(svc, project, exc)
        log.error("project %s: rescore with %s failed: %s", project, version, exc)
        raise


def _configure_project(svc: Services, client: LabelStudioClient, project: int) -> None:
    """Once per project: lowest score first for "Label All Tasks", and the queue tab."""
    flag = f"lsa:project:{project}:configured"
    if not svc.settings.configure_project or svc.conn.get(flag):
        return
    client.set_sampling(project)
    client.ensure_queue_view(project)
    svc.conn.set(flag, "1")


def _push(client: LabelStudioClient, project: int, version: str, preds: list[dict[str, Any]]) -> int:
    """Import one prediction per task for ``version`` and make it current; safe to retry.

    A retry finds what an earlier attempt imported: all of it (the answer was lost) is kept;
    a part of it is deleted first, a prediction at a time, so every task ends with exactly
    one prediction of the version and Label Studio's database is never held for long.
    """
    current = client.get_project(project).get("model_version")
    if current == version:
        return 0
    already = client.list_prediction_versions(project).get(version, 0)
    if already == len(preds):
        created = already
    else:
        if already:
            delete_versions(client, project, [version], current, UNHURRIED)
        created = client.import_predictions(project, preds)
    if preds:
        client.set_model_version(project, version)
    return created


def rescore_pool(project: int, version: str | None, settings: Settings | None = None) -> dict[str, Any] | None:
    svc = services(settings)
    current = svc.state.current_version(project)
    if version is not None and current != version:
        log.info("project %s: %s was superseded by %s; skipping its rescore", project, version, current)
        return None
    if version is None and current not in (None, COLD_START_VERSION):
        log.info("project %s: a model exists; the cold-start order is not needed", project)
        return None
    config = project_config(svc, project)
    name = version or COLD_START_VERSION
    model = svc.store.load(project, version) if version else None
    timings: dict[str, float] = {}
    with client_for(svc, config) as client:
        t0 = time.perf_counter()
        tasks = list(client.iter_tasks(project, labeled=False, page_size=svc.settings.page_size))
        timings["read_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        tasks = [t for t in tasks if config.schema.value_key in (t.get("data") or {})]
        texts = task_texts(tasks, config.schema, svc.settings.max_text_chars)
        counts = featurize(texts)
        scored = score_counts(counts, model, config.schema, config.strategy,
                              batch_size=svc.settings.retrain_every[0], seed=project)
        preds = predictions(config.schema, scored, name)
        for task, pred in zip(tasks, preds, strict=True):
            pred["task"] = int(task["id"])
        timings["score_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        created = _push(client, project, name, preds)
        svc.state.save_scores(project, name, {p["task"]: p["score"] for p in preds})
        _configure_project(svc, client, project)
        timings["push_seconds"] = time.perf_counter() - t0
    ensure_stop_set(svc, project, tasks, texts)
    if version is None:
        svc.state.conn.setnx(f"lsa:project:{project}:version", COLD_START_VERSION)
    svc.state.set_status(project, last_rescore=name, last_rescore_at=time.time(), last_success_at=time.time(),
                         last_rescore_tasks=len(preds), last_error=None,
                         **{k: round(v, 3) for k, v in timings.items()})
    if version is not None:
        svc.scheduler.enqueue_evaluate(project, version)
    svc.scheduler.enqueue_cleanup(project)
    log.info("project %s: pushed %d scores of %s (%s)", project, created, name,
             ", ".join(f"{k} {v:.2f}" for k, v in timings.items()))
    return {"version": name, "tasks": len(preds), "created": created, **timings}


def score_tasks(project: int, tasks: list[dict[str, Any]]) -> int:
    """RQ job: score newly imported tasks with the current model and push their predictions."""
    svc = services()
    _mark_running()
    config = project_config(svc, project)
    version, model = svc.current_model(project)
    tasks = [t for t in tasks if isinstance(t.get("id"), int) and config.schema.value_key in (t.get("data") or {})]
    if not tasks:
        return 0
    counts = featurize(task_texts(tasks, config.schema, svc.settings.max_text_chars))
    scored = score_counts(counts, model, config.schema, config.strategy,
                          batch_size=svc.settings.retrain_every[0], seed=project)
    preds = predictions(config.schema, scored, version)
    for task, pred in zip(tasks, preds, strict=True):
        pred["task"] = task["id"]
    with client_for(svc, config) as client:
        created = client.import_predictions(project, preds)
        if client.get_project(project).get("model_version") != version:
            client.set_model_version(project, version)
    return created


def evaluate(project: int, version: str) -> dict[str, Any]:
    """RQ job: the version's metrics report (cross-validated on its own labels)."""
    svc = services()
    _mark_running()
    config = svc.state.config(project)
    ls_url = svc.settings.label_studio_url or (config.hostname if config else "")
    return evaluate_version(project, version, ls_url, svc)


def cleanup_versions(project: int) -> dict[str, Any]:
    """RQ job: delete superseded prediction versions gently, yielding to retrains and pushes.

    Keeps the current version and the ``KEEP_VERSIONS`` newest others. A run that had to
    stop early (another job waits, or its time budget ran out) schedules the next one.
    """
    svc = services()
    svc.scheduler.cleanup_started(project)
    config = project_config(svc, project)
    with client_for(svc, config) as client:
        current = client.get_project(project).get("model_version")
        doomed = superseded(client.list_prediction_versions(project), current, VERSION_PREFIX,
                            svc.settings.keep_versions)
        if not doomed:
            return {"versions": [], "deleted": 0, "finished": True}
        result = delete_versions(client, project, doomed, current, CLEANUP_PACE, svc.scheduler.others_waiting,
                                 lambda: svc.state.counters(project).get("last_label_at"))
    if not result.finished:  # the budget ran out (go to the back of the queue) or others wait (later)
        svc.scheduler.enqueue_cleanup(project, delay=0 if result.out_of_time else CLEANUP_RETRY_SECONDS)
    log.info("project %s: cleanup deleted %d predictions of %d superseded version(s) in %.1fs%s", project,
             result.deleted, len(doomed), result.seconds, "" if result.finished else "; continuing later")
    return {"versions": doomed, "deleted": result.deleted, "finished": result.finished}
