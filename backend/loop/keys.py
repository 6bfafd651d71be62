"""Every Redis key ls-active writes, named in one place (all under ``lsa:``).

Per project: its config from ``/setup``, the current version, published version records,
label-event counters, job status, the pushed scores of a version, the retrain slot, the
audit sample's draws, and three flags. Besides these only RQ's own keys (``rq:...``) exist.
"""

from __future__ import annotations

from backend.defaults import REDIS_PREFIX

#: The set of project ids ls-active has seen.
PROJECTS = f"{REDIS_PREFIX}:projects"


def _project(project: int, *parts: str) -> str:
    return ":".join((REDIS_PREFIX, "project", str(int(project)), *parts))


def config(project: int) -> str:
    return _project(project, "config")


def current_version(project: int) -> str:
    return _project(project, "version")


def versions(project: int) -> str:
    return _project(project, "versions")


def counters(project: int) -> str:
    return _project(project, "counters")


def status(project: int) -> str:
    return _project(project, "status")


def scores(project: int, version: str) -> str:
    return _project(project, "scores", version)


def retrain_slot(project: int) -> str:
    return _project(project, "retrain")


def cleanup_pending(project: int) -> str:
    return _project(project, "cleanup-pending")


def configured(project: int) -> str:
    """Set once the project's sampling and queue tab were configured in Label Studio."""
    return _project(project, "configured")


def restored(project: int) -> str:
    """Set once the project's state was rebuilt (or found whole) in this Redis: gone with it."""
    return _project(project, "restored")


def audit_tasks(project: int) -> str:
    """Per task drawn into the audit sample: the version and draw number that drew it."""
    return _project(project, "audit", "tasks")


def audit_draws(project: int) -> str:
    """Per version (the cold start too): its audit draw's number and task ids."""
    return _project(project, "audit", "draws")


def pushed(project: int) -> str:
    """Per version, how many predictions an import that completed sent to Label Studio."""
    return _project(project, "pushed")


def pool(project: int) -> str:
    """The cached unlabeled pool: task id -> the data field scoring reads (see :mod:`backend.loop.pool`)."""
    return _project(project, "pool")


def pool_meta(project: int) -> str:
    """The cached pool's highest task id seen, labeled task count and time of the last full read."""
    return _project(project, "pool-meta")
