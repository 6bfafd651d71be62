"""Per-project state in Redis: what can be rebuilt, never the labels themselves.

The project's config from ``/setup`` (schema, Label Studio address and token, strategy), the
current model version, published version records, label-event counters, job bookkeeping and
the pushed scores (key names in :mod:`backend.loop.keys`). Label Studio stays the source of truth,
and :mod:`backend.loop.recovery` rebuilds all of this when Redis loses it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import redis

from backend import defaults
from backend.loop import keys
from backend.tasks import Schema, schema_from_dict


def as_text(value: bytes | str) -> str:
    """Redis answers bytes; keys and values here are text."""
    return value.decode() if isinstance(value, bytes) else value


@dataclass(frozen=True)
class EventCount:
    """What counting a webhook event learned from Redis."""

    #: Recovery has run for this Redis (its marker key exists): nothing to rebuild.
    restored: bool
    #: The project's label events after this one, when it changed labels.
    label_events: int | None
    #: The settings the project overrides (:attr:`ProjectConfig.options`), read in the same
    #: round trip when the event changed labels (milestones follow the project's schedule);
    #: empty when it has no stored config, None when not read.
    options: dict[str, Any] | None = None


@dataclass(frozen=True)
class ProjectConfig:
    """What ``/setup`` told us about a project; jobs need it to reach Label Studio."""

    project: int
    schema: Schema
    hostname: str = ""
    access_token: str = field(default="", repr=False)
    strategy: str = "default"
    setup_at: float = 0.0
    #: The project's audit share from ``/setup`` extra_params; ``None``: the ``AUDIT_SHARE`` setting.
    audit_share: float | None = None
    #: The model and loop settings the project's extra_params override, checked, by field name
    #: (:mod:`backend.loop.options`); what is absent follows the environment.
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({
            "project": self.project, "schema": self.schema.to_dict(), "hostname": self.hostname,
            "access_token": self.access_token, "strategy": self.strategy, "setup_at": self.setup_at,
            "audit_share": self.audit_share,
            "options": {k: list(v) if isinstance(v, tuple) else v for k, v in self.options.items()},
        })

    @classmethod
    def from_json(cls, raw: str | bytes) -> ProjectConfig:
        data = json.loads(raw)
        return cls(
            project=int(data["project"]), schema=schema_from_dict(data["schema"]),
            hostname=data.get("hostname", ""), access_token=data.get("access_token", ""),
            strategy=data.get("strategy", "default"), setup_at=float(data.get("setup_at", 0.0)),
            audit_share=None if data.get("audit_share") is None else float(data["audit_share"]),
            options=dict(data.get("options") or {}),
        )


class ProjectState:
    """Typed access to one Redis for every project's keys."""

    def __init__(self, conn: redis.Redis) -> None:
        self.conn = conn

    # -- configuration -------------------------------------------------------------------
    def save_config(self, config: ProjectConfig) -> bool:
        """Store the config; True when this is the project's first setup."""
        pipe = self.conn.pipeline()
        pipe.sadd(keys.PROJECTS, config.project)
        pipe.getset(keys.config(config.project), config.to_json())
        _, previous = pipe.execute()
        return previous is None

    def config(self, project: int) -> ProjectConfig | None:
        raw = self.conn.get(keys.config(project))
        return ProjectConfig.from_json(raw) if raw else None

    def projects(self) -> list[int]:
        return sorted(int(p) for p in self.conn.smembers(keys.PROJECTS))

    # -- versions ------------------------------------------------------------------------
    def current_version(self, project: int) -> str | None:
        raw = self.conn.get(keys.current_version(project))
        return as_text(raw) if raw else None

    def publish_version(self, project: int, version: str, record: dict[str, Any]) -> None:
        """Make ``version`` current; call only after its artifact is completely on disk."""
        pipe = self.conn.pipeline()
        pipe.hset(keys.versions(project), version, json.dumps(record))
        pipe.set(keys.current_version(project), version)
        pipe.sadd(keys.PROJECTS, project)
        pipe.execute()

    def version_record(self, project: int, version: str) -> dict[str, Any]:
        raw = self.conn.hget(keys.versions(project), version)
        return json.loads(raw) if raw else {"version": version}

    def update_version(self, project: int, version: str, record: dict[str, Any]) -> None:
        """Add figures (metrics) to a published version's record; never changes which is current."""
        self.conn.hset(keys.versions(project), version, json.dumps(record))

    def versions(self, project: int) -> list[dict[str, Any]]:
        """Published version records, oldest first."""
        raw = self.conn.hgetall(keys.versions(project))
        records = [json.loads(v) for v in raw.values()]
        return sorted(records, key=lambda r: (r.get("created_at", 0), r.get("version", "")))

    def set_current_if_none(self, project: int, version: str) -> None:
        """Make ``version`` current unless some version already is (the cold start's push)."""
        self.conn.setnx(keys.current_version(project), version)

    # -- label events ------------------------------------------------------------------
    def count_event(self, project: int, action: str, amounts: dict[str, int], labels: bool,
                    label_events: int = 0, before: int | None = None) -> EventCount:
        """Count one webhook event in one round trip: its action, the amounts by kind, when it
        came, and ``label_events`` toward milestones (see :meth:`add_label_events` for
        ``before``). It also asks whether recovery has run for this Redis, so a webhook
        costs one round trip while Redis keeps its data.

        Not a transaction: every write is an atomic increment or set on its own, and a
        webhook is answered inside an annotator's save, where each round trip counts.
        """
        now = f"{time.time():.3f}"
        pipe = self.conn.pipeline(transaction=False)
        pipe.exists(keys.restored(project))
        counters = keys.counters(project)
        for name, amount in amounts.items():
            if amount:
                pipe.hincrby(counters, name, amount)
        pipe.hincrby(counters, f"event:{action}", 1)
        pipe.hincrby(counters, "events", 1)
        pipe.hset(counters, "last_event_at", now)
        if labels:
            pipe.hset(counters, "last_label_at", now)
        pipe.sadd(keys.PROJECTS, project)
        if label_events:
            pipe.get(keys.config(project))
            if before is not None:
                pipe.hsetnx(counters, "label_events", max(0, before))
            pipe.hincrby(counters, "label_events", label_events)
        answers = pipe.execute()
        if not label_events:
            return EventCount(restored=bool(answers[0]), label_events=None)
        raw = answers[-3] if before is not None else answers[-2]
        options = ProjectConfig.from_json(raw).options if raw else {}
        return EventCount(restored=bool(answers[0]), label_events=int(answers[-1]), options=options)

    def add_label_events(self, project: int, amount: int, before: int | None = None) -> int:
        """Add to the events that count toward milestones; return the new total.

        ``before`` is Label Studio's own count of labels before this event: a count that Redis
        lost starts from it (not from 0), so milestones keep their place.
        """
        pipe = self.conn.pipeline()
        if before is not None:
            pipe.hsetnx(keys.counters(project), "label_events", max(0, before))
        pipe.hincrby(keys.counters(project), "label_events", amount)
        return int(pipe.execute()[-1])

    def start_label_events(self, project: int, labels: int) -> bool:
        """Start a lost count of label events at Label Studio's ``labels``; True when it was lost."""
        return bool(self.conn.hsetnx(keys.counters(project), "label_events", max(0, labels)))

    def counters(self, project: int) -> dict[str, float]:
        raw = self.conn.hgetall(keys.counters(project))
        return {as_text(k): float(v) for k, v in raw.items()}

    # -- job bookkeeping ---------------------------------------------------------------
    def set_status(self, project: int, **fields: Any) -> None:
        self.conn.hset(keys.status(project), mapping={k: json.dumps(v) for k, v in fields.items()})

    def status(self, project: int) -> dict[str, Any]:
        raw = self.conn.hgetall(keys.status(project))
        return {as_text(k): json.loads(v) for k, v in raw.items()}

    def pushed(self, project: int, version: str) -> int | None:
        raw = self.conn.hget(keys.pushed(project), version)
        return int(raw) if raw is not None else None

    def mark_pushed(self, project: int, version: str, count: int) -> None:
        self.conn.hset(keys.pushed(project), version, count)

    def configured(self, project: int) -> bool:
        return bool(self.conn.exists(keys.configured(project)))

    def mark_configured(self, project: int) -> None:
        self.conn.set(keys.configured(project), "1")

    # -- the audit sample ---------------------------------------------------------------
    def audit_draw(self, project: int, version: str) -> dict[str, Any] | None:
        """The draw recorded for ``version`` (``draw``, ``task_ids``), if its rescore made one."""
        raw = self.conn.hget(keys.audit_draws(project), version)
        return json.loads(raw) if raw else None

    def audit_draws(self, project: int) -> dict[str, dict[str, Any]]:
        """Every draw recorded for ``project``, by version."""
        raw = self.conn.hgetall(keys.audit_draws(project))
        return {as_text(k): json.loads(v) for k, v in raw.items()}

    def audit_draw_count(self, project: int) -> int:
        return int(self.conn.hlen(keys.audit_draws(project)))

    def record_audit_draw(self, project: int, version: str, draw: int, task_ids: list[int]) -> None:
        """Remember which tasks ``version``'s rescore drew at random, when it draws them."""
        pipe = self.conn.pipeline()
        pipe.hset(keys.audit_draws(project), version, json.dumps({"draw": draw, "task_ids": task_ids,
                                                                  "at": time.time()}))
        for task in task_ids:
            pipe.hsetnx(keys.audit_tasks(project), str(task), json.dumps({"version": version, "draw": draw}))
        pipe.execute()

    def audit_tasks(self, project: int) -> dict[int, dict[str, Any]]:
        """Every task ever drawn into the project's audit sample, with its version and draw."""
        raw = self.conn.hgetall(keys.audit_tasks(project))
        return {int(as_text(k)): json.loads(v) for k, v in raw.items()}

    # -- scores of batch strategies -----------------------------------------------------
    def save_scores(self, project: int, version: str, scores: dict[int, float],
                    ttl: int = defaults.SCORES_TTL) -> None:
        """Remember the pushed scores so ``/predict`` answers batch strategies consistently."""
        name = keys.scores(project, version)
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
        values = self.conn.hmget(keys.scores(project, version), [str(t) for t in task_ids])
        return [float(v) if v is not None else None for v in values]
