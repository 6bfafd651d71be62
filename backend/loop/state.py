"""Per-project state in Redis: what can be rebuilt, never the labels themselves.

Keys (all under ``lsa:``): the project's config from ``/setup`` (schema, Label Studio
address and token, strategy), the current model version, published version records,
label-event counters, and job bookkeeping. Label Studio stays the source of truth.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import redis

from backend.tasks.text_classification.schema import TaskSchema

PREFIX = "lsa"
COLD_START_VERSION = "ls-active-cold-start"


def as_text(value: bytes | str) -> str:
    """Redis answers bytes; keys and values here are text."""
    return value.decode() if isinstance(value, bytes) else value


def key(project: int, *parts: str) -> str:
    return ":".join((PREFIX, "project", str(project), *parts))


PROJECTS = f"{PREFIX}:projects"


@dataclass(frozen=True)
class ProjectConfig:
    """What ``/setup`` told us about a project; jobs need it to reach Label Studio."""

    project: int
    schema: TaskSchema
    hostname: str = ""
    access_token: str = ""
    strategy: str = "default"
    setup_at: float = 0.0

    def to_json(self) -> str:
        return json.dumps({
            "project": self.project, "schema": self.schema.to_dict(), "hostname": self.hostname,
            "access_token": self.access_token, "strategy": self.strategy, "setup_at": self.setup_at,
        })

    @classmethod
    def from_json(cls, raw: str | bytes) -> ProjectConfig:
        data = json.loads(raw)
        return cls(
            project=int(data["project"]), schema=TaskSchema.from_dict(data["schema"]),
            hostname=data.get("hostname", ""), access_token=data.get("access_token", ""),
            strategy=data.get("strategy", "default"), setup_at=float(data.get("setup_at", 0.0)),
        )


class ProjectState:
    """Typed access to one Redis for every project's keys."""

    def __init__(self, conn: redis.Redis) -> None:
        self.conn = conn

    # -- configuration -------------------------------------------------------------------
    def save_config(self, config: ProjectConfig) -> bool:
        """Store the config; True when this is the project's first setup."""
        pipe = self.conn.pipeline()
        pipe.sadd(PROJECTS, config.project)
        pipe.getset(key(config.project, "config"), config.to_json())
        _, previous = pipe.execute()
        return previous is None

    def config(self, project: int) -> ProjectConfig | None:
        raw = self.conn.get(key(project, "config"))
        return ProjectConfig.from_json(raw) if raw else None

    def projects(self) -> list[int]:
        return sorted(int(p) for p in self.conn.smembers(PROJECTS))

    # -- versions ------------------------------------------------------------------------
    def current_version(self, project: int) -> str | None:
        raw = self.conn.get(key(project, "version"))
        return as_text(raw) if raw else None

    def publish_version(self, project: int, version: str, record: dict[str, Any]) -> None:
        """Make ``version`` current; call only after its artifact is completely on disk."""
        pipe = self.conn.pipeline()
        pipe.hset(key(project, "versions"), version, json.dumps(record))
        pipe.set(key(project, "version"), version)
        pipe.sadd(PROJECTS, project)
        pipe.execute()

    def version_record(self, project: int, version: str) -> dict[str, Any]:
        raw = self.conn.hget(key(project, "versions"), version)
        return json.loads(raw) if raw else {"version": version}

    def update_version(self, project: int, version: str, record: dict[str, Any]) -> None:
        """Add figures (metrics) to a published version's record; never changes which is current."""
        self.conn.hset(key(project, "versions"), version, json.dumps(record))

    def versions(self, project: int) -> list[dict[str, Any]]:
        """Published version records, oldest first."""
        raw = self.conn.hgetall(key(project, "versions"))
        records = [json.loads(v) for v in raw.values()]
        return sorted(records, key=lambda r: (r.get("created_at", 0), r.get("version", "")))

    # -- label events ------------------------------------------------------------------
    def count_event(self, project: int, field: str, amount: int = 1) -> None:
        pipe = self.conn.pipeline()
        pipe.hincrby(key(project, "counters"), field, amount)
        pipe.hset(key(project, "counters"), "last_event_at", f"{time.time():.3f}")
        pipe.sadd(PROJECTS, project)
        pipe.execute()

    def counters(self, project: int) -> dict[str, float]:
        raw = self.conn.hgetall(key(project, "counters"))
        return {as_text(k): float(v) for k, v in raw.items()}

    # -- job bookkeeping ---------------------------------------------------------------
    def set_status(self, project: int, **fields: Any) -> None:
        self.conn.hset(key(project, "status"), mapping={k: json.dumps(v) for k, v in fields.items()})

    def status(self, project: int) -> dict[str, Any]:
        raw = self.conn.hgetall(key(project, "status"))
        return {as_text(k): json.loads(v) for k, v in raw.items()}

    # -- scores of batch strategies -----------------------------------------------------
    def save_scores(self, project: int, version: str, scores: dict[int, float], ttl: int = 7 * 86400) -> None:
        """Remember the pushed scores so ``/predict`` answers batch strategies consistently."""
        name = key(project, "scores", version)
        pipe = self.conn.pipeline()
        pipe.delete(name)
        items = list(scores.items())
        for start in range(0, len(items), 5000):
            pipe.hset(name, mapping={str(k): f"{v:.6f}" for k, v in items[start : start + 5000]})
        pipe.expire(name, ttl)
        pipe.execute()

    def cached_scores(self, project: int, version: str, task_ids: list[int]) -> list[float | None]:
        if not task_ids:
            return []
        values = self.conn.hmget(key(project, "scores", version), [str(t) for t in task_ids])
        return [float(v) if v is not None else None for v in values]
