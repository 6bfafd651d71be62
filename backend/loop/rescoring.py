"""Scores to Label Studio: the whole unlabeled pool after a retrain, or just new tasks.

A rescore reads the unlabeled pool (from its cache in Redis when that adds up:
:mod:`backend.loop.pool`), has the project's task kind rank it with the project's
strategy, puts the audit sample's draw among its first picks (:mod:`backend.loop.audit`),
remembers the scores for ``/predict``, imports one prediction per task in bulk and points
the project's ``model_version`` at it; a large pool gets its head served first
(:mod:`backend.loop.head_first`). The seed and batch size of a ranking are
:func:`ranking` 's, for ``/predict`` and the jobs alike.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable
from typing import Any

from backend import defaults
from backend.labelstudio.client import LabelStudioClient
from backend.loop.audit import add_audit
from backend.loop.cleanup import UNHURRIED, delete_versions
from backend.loop.credentials import client_for, project_config
from backend.loop.head_first import push_head_first
from backend.loop.milestones import labels_to_milestones
from backend.loop.numbering import newest_version, version_number
from backend.loop.options import resolve
from backend.loop.pool import read_pool
from backend.loop.services import Services
from backend.loop.state import ProjectConfig, ProjectState
from backend.loop.stopset import ensure_stop_set
from backend.loop.training import SELECTION_FILE
from backend.settings import Settings
from backend.tasks import Model, Scored, kind_of

log = logging.getLogger(__name__)


def ranking(settings: Settings, project: int, config: ProjectConfig | None = None) -> dict[str, int]:
    """The batch size and seed every ranking of ``project`` uses (push and ``/predict``): the
    project's ``batch_size`` (:mod:`backend.loop.options`), else ``BATCH_SIZE``, else the first
    retrain step."""
    batch = resolve(settings, config.options if config else {}).batch_size
    return {"batch_size": batch, "seed": int(project)}


def head_size(settings: Settings, config: ProjectConfig, model: Model | None) -> int:
    """Tasks pushed first: ``HEAD_TASKS``, else the labels to the project's next two milestones
    (its own ``retrain_every``, counted from the labels ``model`` learned from)."""
    if settings.head_tasks:
        return settings.head_tasks
    labels = int(model.n_train) if model is not None else 0
    return labels_to_milestones(resolve(settings, config.options).retrain_every, labels)


def scored_predictions(svc: Services, config: ProjectConfig, tasks: list[dict[str, Any]], model: Model | None,
                       version: str, inputs: Any = None) -> list[dict[str, Any]]:
    """The project's kind and strategy over ``tasks``: one prediction each, with its task id.

    The order comes from the version's selection model when it has one (trained without the
    labeled audit tasks: :func:`backend.loop.training.selection_model`); what annotators see
    pre-selected comes from the version's model, which learned from every label. ``inputs``
    are the tasks' model inputs when the caller has computed them already.
    """
    kind = kind_of(config.schema)
    if inputs is None:
        inputs = kind.inputs(tasks, config.schema, svc.settings.max_text_chars)
    selection = svc.store.load_extra(config.project, version, SELECTION_FILE) if model is not None else None
    scored = kind.score(inputs, selection or model, config.schema, kind.strategy(config.strategy),
                        **ranking(svc.settings, config.project, config))
    if selection is not None and model is not None:
        scored = Scored(scored.scores, kind.fallback_score(inputs, model, config.schema).outputs)
    preds = kind.predictions(config.schema, scored, version)
    for task, pred in zip(tasks, preds, strict=True):
        pred["task"] = int(task["id"])
    return preds


def refresh_pool(svc: Services, config: ProjectConfig, inputs: Any, model: Model | None) -> bool:
    """Save the kind's new pool statistics when the pool outgrew the saved ones (or none exist).

    The rescore has just read every unlabeled task, and ``model`` holds the labeled ones: the
    whole pool, without another pass over Label Studio. The next retrain reads the file.
    """
    kind = kind_of(config.schema)
    stats = kind.pool_stats(inputs, model, svc.store.read_pool(config.project))
    if stats is None:
        return False
    svc.store.write_pool(config.project, stats)
    log.info("project %s: pool statistics refreshed (%s texts)", config.project, getattr(stats, "n_docs", "?"))
    return True


def push(client: LabelStudioClient, state: ProjectState, project: int, version: str,
         preds: list[dict[str, Any]], batch: int = defaults.MAX_PREDICTIONS_PER_REQUEST,
         newest: Callable[[], bool] = lambda: True) -> int:
    """Import one prediction per task for ``version`` and make it current; safe to retry.

    An import that completed is recorded in Redis, so a retry after a lost answer to the
    model_version switch does not import twice. Any other prediction of ``version`` found
    (a partial import, or answers Label Studio saved from ``/predict``) is deleted first, a
    prediction at a time, so every task ends with exactly one prediction of the version.
    ``newest`` is asked right before the switch: a push that a newer version overtook
    (a job that outlived its worker, say) must not switch the project back to it.
    """
    current = client.project_fields(project, "model_version").get("model_version")
    if current == version:
        return 0
    created = len(preds)
    if state.pushed(project, version) != len(preds):
        if client.list_prediction_versions(project).get(version, 0):
            delete_versions(client, project, [version], current, UNHURRIED)
        created = client.import_predictions(project, preds, max_per_request=batch)
        state.mark_pushed(project, version, len(preds))
    if preds and newest():
        client.set_model_version(project, version)
    return created


def authorize_webhooks(svc: Services, client: LabelStudioClient, project: int) -> int:
    """With basic auth on, give the project's webhook to this backend our credentials.

    Label Studio creates that webhook itself, without them, so every label event would be
    refused (401) and the loop would stop without a word. Only the webhooks of ML backends
    that Label Studio already calls with exactly these credentials get them: no other host.
    Returns how many webhooks were changed.
    """
    s = svc.settings
    if not s.basic_auth:
        return 0
    header = "Basic " + base64.b64encode(f"{s.basic_auth_user}:{s.basic_auth_pass}".encode()).decode()
    ours = {str(ml.get("url", "")).rstrip("/") + "/webhook" for ml in client.ml_backends(project)
            if ml.get("auth_method") == "BASIC_AUTH" and ml.get("basic_auth_user") == s.basic_auth_user}
    changed = 0
    for hook in client.webhooks(project):
        headers = dict(hook.get("headers") or {})
        if hook.get("url") in ours and headers.get("Authorization") != header:
            client.set_webhook_headers(int(hook["id"]), {**headers, "Authorization": header})
            changed += 1
    if changed:
        log.info("project %s: gave %d webhook(s) to this backend its basic-auth credentials", project, changed)
    return changed


def _configure_project(svc: Services, client: LabelStudioClient, project: int) -> None:
    """Once per project: lowest score first for "Label All Tasks", and the queue tab."""
    if not svc.settings.configure_project or svc.state.configured(project):
        return
    client.set_sampling(project)
    client.ensure_queue_view(project)
    svc.state.mark_configured(project)


def newer_version(svc: Services, project: int, version: str | None) -> str | None:
    """The newest complete version in the store numbered above ``version`` (any, for the cold start).

    The store, not Redis, decides: a Redis restarted empty forgets which version is current,
    and a job that outlived its worker may still be pushing an older one.
    """
    latest = newest_version(svc.store.versions(project))
    floor = (version_number(version) or 0) if version else 0
    return latest if latest is not None and (version_number(latest) or 0) > floor else None


def rescore_pool(svc: Services, project: int, version: str | None) -> dict[str, Any] | None:
    """Score the whole unlabeled pool with ``version`` (None: the cold start) and push it."""
    current = svc.state.current_version(project)
    if version is not None and current != version:
        log.info("project %s: %s was superseded by %s; skipping its rescore", project, version, current)
        return None
    if version is not None and (newer := newer_version(svc, project, version)):
        log.info("project %s: %s was superseded by %s; skipping its rescore", project, version, newer)
        return None
    if version is None and current not in (None, defaults.COLD_START_VERSION):
        log.info("project %s: a model exists; the cold-start order is not needed", project)
        return None
    config = project_config(svc, project)
    kind = kind_of(config.schema)
    name = version or defaults.COLD_START_VERSION
    model = svc.store.load(project, version) if version else None
    timings: dict[str, float] = {}
    with client_for(svc, config) as client:
        t0 = time.perf_counter()
        pool, read_mode = read_pool(svc.pool, client, project, config.schema.value_key,
                                    page_size=svc.settings.page_size, max_age=svc.settings.pool_cache_max_age)
        tasks = [t for t in pool if kind.has_input(t, config.schema)]
        timings["read_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        inputs = kind.inputs(tasks, config.schema, svc.settings.max_text_chars)
        pool_refreshed = refresh_pool(svc, config, inputs, model)
        preds = scored_predictions(svc, config, tasks, model, name, inputs)
        audit = add_audit(svc, config, name, preds, ranking(svc.settings, project, config)["batch_size"])
        svc.state.save_scores(project, name, {p["task"]: p["score"] for p in preds})
        timings["score_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        head_at = None

        overtaken: list[str] = []

        def newest() -> bool:
            newer = newer_version(svc, project, version)
            if newer and not overtaken:
                overtaken.append(newer)
                log.warning("project %s: %s was overtaken by %s during its push; the project is not switched "
                            "back to it", project, name, newer)
            return newer is None

        if len(preds) >= svc.settings.head_first_min_tasks:
            done = push_head_first(client, svc.state, project, name, preds, head_size(svc.settings, config, model),
                                   svc.settings.push_batch, svc.settings.head_bulk, newest)
            created, head_at = done.head + done.rest, done.head_at
            timings["head_seconds"] = done.head_seconds
        else:
            created = push(client, svc.state, project, name, preds, svc.settings.push_batch, newest)
            timings["head_seconds"] = 0.0
        _configure_project(svc, client, project)
        title = client.project_fields(project, "title").get("title")
        authorize_webhooks(svc, client, project)
        timings["push_seconds"] = time.perf_counter() - t0
    if overtaken:
        return {"version": name, "tasks": len(preds), "created": created, "overtaken_by": overtaken[0], **timings}
    ensure_stop_set(svc, config, tasks)
    if version is None:
        svc.state.set_current_if_none(project, defaults.COLD_START_VERSION)
    svc.state.set_status(project, last_rescore=name, last_rescore_at=time.time(), last_success_at=time.time(),
                         last_rescore_tasks=len(preds), last_error=None, last_audit_draw=audit,
                         title=str(title or ""), pool_refreshed=pool_refreshed, last_read=read_mode,
                         last_head_at=head_at,
                         **{k: round(v, 3) for k, v in timings.items()})
    if version is not None:
        svc.scheduler.enqueue_evaluate(project, version)
    svc.scheduler.enqueue_cleanup(project)
    log.info("project %s: pushed %d scores of %s (%s)", project, created, name,
             ", ".join(f"{k} {v:.2f}" for k, v in timings.items()))
    return {"version": name, "tasks": len(preds), "created": created, **timings}


def score_new_tasks(svc: Services, project: int, task_ids: list[int]) -> int:
    """Score tasks just imported with the current model and push their predictions."""
    config = project_config(svc, project)
    kind = kind_of(config.schema)
    version, model = svc.current_model(project)
    with client_for(svc, config) as client:
        read = client.tasks_by_id(project, task_ids)
        svc.pool.add(project, read, config.schema.value_key)
        tasks = [t for t in read if kind.has_input(t, config.schema)]
        if not tasks:
            return 0
        preds = scored_predictions(svc, config, tasks, model, version)
        created = client.import_predictions(project, preds, max_per_request=svc.settings.push_batch)
        if client.project_fields(project, "model_version").get("model_version") != version:
            client.set_model_version(project, version)
    return created
