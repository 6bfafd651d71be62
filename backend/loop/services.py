"""The long-lived objects one process shares between requests (and jobs)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis

from backend.defaults import COLD_START_VERSION
from backend.errors import LsActiveError
from backend.loop.options import check_settings
from backend.loop.pool import PoolCache
from backend.loop.redis_server import connect
from backend.loop.scheduling import Scheduler
from backend.loop.state import ProjectState
from backend.loop.store import ArtifactError, ArtifactStore
from backend.settings import Settings
from backend.tasks import Model

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    conn: redis.Redis
    state: ProjectState
    store: ArtifactStore
    scheduler: Scheduler

    @classmethod
    def create(cls, settings: Settings) -> Services:
        check_settings(settings)
        conn = connect(settings)
        state = ProjectState(conn)
        return cls(settings, conn, state, ArtifactStore(settings.model_dir), Scheduler(settings, conn, state))

    def current_model(self, project: int) -> tuple[str, Model | None]:
        """The version to answer with and its model; cold start while there is none.

        A current version whose artifact cannot be read is logged and answered with the
        cold-start order, so Label Studio keeps working while the admin investigates.
        """
        try:
            version = self.state.current_version(project)
        except redis.RedisError as exc:
            raise LsActiveError(f"Redis is unreachable ({exc}); check REDIS_URL") from None
        if not version or version == COLD_START_VERSION:
            return COLD_START_VERSION, None
        try:
            return version, self.store.load(project, version)
        except ArtifactError as exc:
            log.error("project %s: %s; answering with the cold-start order", project, exc)
            return COLD_START_VERSION, None

    @property
    def pool(self) -> PoolCache:
        """The cached unlabeled pools (:mod:`backend.loop.pool`), capped by ``POOL_CACHE_MAX_MB``."""
        return PoolCache(self.conn, self.settings.pool_cache_max_mb * 1_000_000)
