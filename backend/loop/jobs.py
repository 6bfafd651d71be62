"""The RQ jobs: module-level functions with plain arguments, one per kind of work.

``retrain(project)`` reads every label from Label Studio (the source of truth, so a lost
webhook loses nothing), trains, publishes an immutable version and enqueues
``rescore(project, version)``, which pushes fresh scores for the whole unlabeled pool;
``evaluate`` writes the version's report and ``cleanup_versions`` removes superseded
predictions gently. A failure is kept per project for ``/health``; RQ retries only what
can succeed on retry (Label Studio unreachable or failing, time-outs), never a refused
token, a missing project or a bad config: those fail at once with the message that names
the fix.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any, TypeVar

from rq import get_current_job

from backend import defaults
from backend.errors import ConfigurationError, LabelStudioError, NotEnoughLabels, UnsupportedLabelConfig
from backend.loop.cleanup import CLEANUP_PACE, delete_versions, superseded
from backend.loop.credentials import client_for, project_config
from backend.loop.evaluation import evaluate_version
from backend.loop.recovery import restore
from backend.loop.rescoring import rescore_pool, score_new_tasks
from backend.loop.services import Services
from backend.loop.store import ArtifactError
from backend.loop.training import train_and_publish
from backend.settings import Settings

log = logging.getLogger(__name__)
_SERVICES: dict[Settings, Services] = {}
T = TypeVar("T")


def services(settings: Settings | None = None) -> Services:
    """One Services per process and settings (a worker runs many jobs)."""
    settings = settings or Settings.from_env()
    if settings not in _SERVICES:
        _SERVICES[settings] = Services.create(settings)
    return _SERVICES[settings]


def retryable(exc: BaseException) -> bool:
    """Whether running the same job again can succeed."""
    if isinstance(exc, LabelStudioError):
        return exc.retryable
    return not isinstance(exc, ConfigurationError | UnsupportedLabelConfig | ArtifactError | LookupError)


def _mark_running() -> str:
    """Record which process runs the current job, so a new worker can tell it died."""
    job = get_current_job()
    if job is None:
        return ""
    job.meta.update(pid=os.getpid(), host=socket.gethostname())
    job.save_meta()
    return str(job.id)


def _guarded(svc: Services, project: int, what: str, work: Callable[[], T]) -> T:
    """Run ``work``; on failure record it for ``/health`` and let RQ retry only what may pass."""
    try:
        return work()
    except NotEnoughLabels:
        raise
    except Exception as exc:
        svc.state.set_status(project, last_error=f"{type(exc).__name__}: {exc}", last_error_at=time.time())
        job = get_current_job()
        if job is not None and not retryable(exc):
            job.retries_left = 0  # RQ reads this when the job fails: no retry
        log.error("project %s: %s failed%s: %s", project, what, "" if retryable(exc) else " (not retried)", exc)
        raise


def retrain(project: int) -> dict[str, Any] | None:
    """RQ job: retrain from every label in Label Studio, then enqueue the rescore."""
    svc = services()
    job_id = _mark_running()
    restore(svc, project)
    if job_id and not svc.scheduler.begin_retrain(project, job_id):
        log.info("project %s: %s no longer owns the retrain slot; nothing to do", project, job_id)
        return None
    try:
        record = _guarded(svc, project, "retrain", lambda: train_and_publish(svc, project))
    except NotEnoughLabels as exc:
        log.info("%s", exc)
        record = None
    if record is not None:
        svc.scheduler.enqueue_rescore(project, record["version"])
    if job_id:
        svc.scheduler.finish_retrain(project, job_id)
    return record


def rescore(project: int, version: str | None) -> dict[str, Any] | None:
    """RQ job: score the whole unlabeled pool with ``version`` (None = cold start) and push it."""
    svc = services()
    _mark_running()
    restore(svc, project)
    return _guarded(svc, project, f"rescore with {version}", lambda: rescore_pool(svc, project, version))


def score_tasks(project: int, task_ids: list[int]) -> int:
    """RQ job: score newly imported tasks (by id) with the current model and push their predictions."""
    svc = services()
    _mark_running()
    restore(svc, project)
    return _guarded(svc, project, "scoring new tasks", lambda: score_new_tasks(svc, project, task_ids))


def evaluate(project: int, version: str) -> dict[str, Any]:
    """RQ job: the version's report (its kind's figures on its own labels)."""
    svc = services()
    _mark_running()
    restore(svc, project)
    config = svc.state.config(project)
    ls_url = svc.settings.label_studio_url or (config.hostname if config else "")
    return evaluate_version(svc, project, version, ls_url)


def cleanup_versions(project: int) -> dict[str, Any]:
    """RQ job: delete superseded prediction versions gently, yielding to retrains and pushes.

    Keeps the current version and the ``KEEP_VERSIONS`` newest others. A run that had to
    stop early (another job waits, or its time budget ran out) schedules the next one.
    """
    svc = services()
    svc.scheduler.cleanup_started(project)
    restore(svc, project)
    config = project_config(svc, project)
    with client_for(svc, config) as client:
        current = client.project_fields(project, "model_version").get("model_version")
        doomed = superseded(client.list_prediction_versions(project), current, defaults.VERSION_PREFIX,
                            svc.settings.keep_versions)
        if not doomed:
            return {"versions": [], "deleted": 0, "finished": True}
        result = delete_versions(client, project, doomed, current, CLEANUP_PACE, svc.scheduler.others_waiting,
                                 lambda: svc.state.counters(project).get("last_label_at"))
    if not result.finished:  # the budget ran out (go to the back of the queue) or others wait (later)
        svc.scheduler.enqueue_cleanup(project, delay=0 if result.out_of_time else defaults.CLEANUP_RETRY_SECONDS)
    log.info("project %s: cleanup deleted %d predictions of %d superseded version(s) in %.1fs%s", project,
             result.deleted, len(doomed), result.seconds, "" if result.finished else "; continuing later")
    return {"versions": doomed, "deleted": result.deleted, "finished": result.finished}
