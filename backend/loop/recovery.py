"""Rebuilding a project's state when Redis has lost it, without asking an admin.

Redis holds only what can be rebuilt, and this is where it is rebuilt from: the project's
config from its file under ``MODEL_DIR`` (:mod:`backend.loop.project_file`), the version
records and the current version from the artifact store (the highest-numbered complete
version), the audit draws from their file beside the config, and the label count from
Label Studio (a webhook's own payload carries it, and a retrain counts what it reads).
Every write only fills a gap (``SETNX``/``HSETNX``), so a
rebuild racing with fresh writes, or with another process's rebuild, never undoes them.

A marker key says the rebuild was done for this Redis: one ``EXISTS`` per request or job
is all it costs while Redis keeps its data.
"""

from __future__ import annotations

import json
import logging

from backend.loop import keys
from backend.loop.numbering import newest_version, version_number
from backend.loop.project_file import read_audit_draws, read_config, write_config
from backend.loop.services import Services
from backend.loop.state import ProjectConfig

log = logging.getLogger(__name__)


def restore(svc: Services, project: int) -> bool:
    """Put back what Redis lost of ``project``'s state; True when something was put back."""
    if svc.conn.exists(keys.restored(project)):
        return False
    put_back = []
    config = None if svc.conn.exists(keys.config(project)) else read_config(svc.settings.model_dir, project)
    if config is not None and svc.conn.set(keys.config(project), config.to_json(), nx=True):
        put_back.append("its config")
    records = {v: svc.store.meta(project, v) for v in svc.store.versions(project)}
    added = sum(svc.conn.hsetnx(keys.versions(project), v, json.dumps(r or {"version": v}))
                for v, r in records.items())
    if added:
        put_back.append(f"{added} version record(s)")
    if not svc.conn.exists(keys.audit_draws(project)):
        draws = read_audit_draws(svc.settings.model_dir, project)
        for version, draw in sorted(draws.items(), key=lambda item: int(item[1].get("draw", 0))):
            svc.state.record_audit_draw(project, version, int(draw["draw"]), [int(t) for t in draw["task_ids"]])
        if draws:
            put_back.append(f"{len(draws)} audit draw(s)")
    latest = newest_version(records)
    if latest is not None and svc.conn.set(keys.current_version(project), latest, nx=True):
        put_back.append(f"current version {latest}")
    if put_back or records:
        svc.conn.sadd(keys.PROJECTS, project)
    svc.conn.set(keys.restored(project), "1")
    if put_back:
        log.warning("project %s: Redis had lost its state; rebuilt %s from %s", project, ", ".join(put_back),
                    svc.settings.model_dir)
    return bool(put_back)


def has_model(svc: Services, project: int) -> bool:
    """Whether the project has a trained version (in the store, or current in Redis)."""
    return bool(svc.store.versions(project)) or version_number(svc.state.current_version(project) or "") is not None


def remember_config(svc: Services, config: ProjectConfig) -> bool:
    """Keep ``/setup``'s config in Redis and in its file; True on the project's first setup."""
    first = svc.state.save_config(config)
    write_config(svc.settings.model_dir, config)
    return first
