"""The unlabeled pool kept in Redis, so a milestone does not re-read every task from Label Studio.

Reading the pool costs Label Studio per task (10 s at 10,000 tasks, whatever fields are
asked for), and a rescore needs only each unlabeled task's id and the one data field its
task kind reads. So the first rescore reads the pool in full and keeps that here; later ones
read only the tasks with ids above the highest seen, and the cache follows the project:

* new tasks: the ``TASKS_CREATED`` job adds the tasks it reads, and every rescore reads the
  ids above the last one seen (a lost webhook costs nothing);
* labeled tasks: the retrain reads every labeled task anyway, removes them, and records how
  many there are;
* deleted tasks: the ``TASKS_DELETED`` webhook removes them (Redis only, inside the request).

Before it is used, the cache must add up: its unlabeled tasks plus the labeled ones the last
retrain counted must equal Label Studio's task count. When they do not (a task deleted
without its webhook, an annotation deleted, a webhook lost), or the cache is older than
``POOL_CACHE_MAX_AGE`` (task data edited in Label Studio sends no event), the rescore reads
the pool in full again. Label Studio stays the source of truth: losing these keys costs one
full read.

Why Redis and not a file under ``MODEL_DIR``: every worker on every machine shares it,
concurrent jobs (a rescore, a retrain, the new-tasks job) change it with atomic per-task
writes and no file locks, and its size is bounded by ``POOL_CACHE_MAX_MB`` (past it the
project is not cached and every rescore reads in full, as before). A trec6 question is about
60 bytes: 100,000 tasks take under 10 MB.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import redis

from backend.labelstudio.client import LabelStudioClient
from backend.loop import keys
from backend.loop.state import as_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachedPool:
    """A project's cached unlabeled pool and what it was checked against."""

    #: Unlabeled task id -> the task's data (only the field the project's config reads).
    tasks: dict[int, dict[str, Any]]
    #: The highest task id the cache has seen (labeled or not).
    last_id: int
    #: Labeled tasks counted by the last retrain's read (or inferred at the full read).
    labeled: int
    #: When the pool was last read in full (epoch seconds).
    filled_at: float

    def as_tasks(self) -> list[dict[str, Any]]:
        """The pool as Label Studio's task dicts (``id``, ``data``), in id order."""
        return [{"id": task_id, "data": data} for task_id, data in sorted(self.tasks.items())]


def slim(task: Mapping[str, Any], value_key: str) -> dict[str, Any]:
    """Of a task's data, only what scoring reads (``value_key``): the rest is not kept."""
    data = task.get("data")
    if isinstance(data, Mapping) and value_key in data:
        return {value_key: data[value_key]}
    return {}


class PoolCache:
    """Typed access to the pool keys of every project (see the module's docstring)."""

    def __init__(self, conn: redis.Redis, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must not be negative; got {max_bytes}")
        self.conn = conn
        self.max_bytes = max_bytes

    def load(self, project: int) -> CachedPool | None:
        """The cached pool, or None when there is none (never filled, dropped, or lost)."""
        pipe = self.conn.pipeline()
        pipe.hgetall(keys.pool_meta(project))
        pipe.hgetall(keys.pool(project))
        meta_raw, tasks_raw = pipe.execute()
        meta = {as_text(k): as_text(v) for k, v in meta_raw.items()}
        if not {"last_id", "labeled", "filled_at"} <= set(meta):
            return None
        tasks = {int(as_text(k)): json.loads(v) for k, v in tasks_raw.items()}
        return CachedPool(tasks, int(meta["last_id"]), int(meta["labeled"]), float(meta["filled_at"]))

    def fill(self, project: int, tasks: Iterable[Mapping[str, Any]], value_key: str, labeled: int,
             last_id: int) -> bool:
        """Replace the cache with a full read (``tasks`` unlabeled); False when over the cap.

        Written under a temporary key and renamed, so a reader sees the old pool or the new
        one, never half of it. The meta goes last: without it the pool does not count.
        """
        items = {int(t["id"]): json.dumps(slim(t, value_key)) for t in tasks}
        size = sum(len(v) + 12 for v in items.values())
        if size > self.max_bytes:
            self.drop(project)
            log.info("project %s: the pool (%d tasks, about %.1f MB) is over POOL_CACHE_MAX_MB; not cached",
                     project, len(items), size / 1e6)
            return False
        temp = keys.pool(project) + ":filling"
        pipe = self.conn.pipeline()
        pipe.delete(keys.pool_meta(project), temp)
        entries = list(items.items())
        for start in range(0, len(entries), 5000):
            pipe.hset(temp, mapping=dict(entries[start:start + 5000]))
        if entries:
            pipe.rename(temp, keys.pool(project))
        else:
            pipe.delete(keys.pool(project))
        pipe.hset(keys.pool_meta(project), mapping={"last_id": max([last_id, *items], default=0), "labeled": labeled,
                                                    "filled_at": f"{time.time():.3f}", "bytes": size})
        pipe.execute()
        return True

    def add(self, project: int, tasks: Iterable[Mapping[str, Any]], value_key: str) -> int:
        """Add new tasks (``id``, ``data``, and ``annotations`` when read with them).

        Labeled ones count toward the labeled tasks instead. Nothing happens without a
        cache (the next full read fills it); past the cap the cache is dropped. Returns how
        many unlabeled tasks were added.
        """
        if not self.conn.exists(keys.pool_meta(project)):
            return 0
        tasks = list(tasks)
        unlabeled = {str(int(t["id"])): json.dumps(slim(t, value_key)) for t in tasks if not t.get("annotations")}
        labeled = [int(t["id"]) for t in tasks if t.get("annotations")]
        ids = [*(int(i) for i in unlabeled), *labeled]
        if not ids:
            return 0
        pipe = self.conn.pipeline()
        if unlabeled:
            pipe.hset(keys.pool(project), mapping=cast(Any, unlabeled))
        pipe.hincrby(keys.pool_meta(project), "labeled", len(labeled))
        pipe.hincrby(keys.pool_meta(project), "bytes", sum(len(v) + 12 for v in unlabeled.values()))
        answers = pipe.execute()
        self._raise_last_id(project, max(ids))
        if int(answers[-1]) > self.max_bytes:
            self.drop(project)
        return len(unlabeled)

    def _raise_last_id(self, project: int, task_id: int) -> None:
        script = "local v = tonumber(redis.call('HGET', KEYS[1], 'last_id') or '0') " \
                 "if ARGV[1] + 0 > v then redis.call('HSET', KEYS[1], 'last_id', ARGV[1]) end return 1"
        self.conn.eval(script, 1, keys.pool_meta(project), task_id)

    def labeled(self, project: int, task_ids: Iterable[int]) -> int:
        """The retrain's read: ``task_ids`` are every labeled task; they leave the pool.

        Returns how many were removed. Without a cache nothing happens.
        """
        ids = [int(t) for t in task_ids]
        if not self.conn.exists(keys.pool_meta(project)):
            return 0
        pipe = self.conn.pipeline()
        if ids:
            pipe.hdel(keys.pool(project), *ids)
        pipe.hset(keys.pool_meta(project), "labeled", len(ids))
        answers = pipe.execute()
        return int(answers[0]) if ids else 0

    def deleted(self, project: int, task_ids: Iterable[int]) -> int:
        """Tasks deleted in Label Studio leave the pool; returns how many were in it.

        A deleted labeled task is not counted here: the counts then disagree and the next
        rescore reads in full, which is rare and always correct.
        """
        ids = [int(t) for t in task_ids]
        if not ids:
            return 0
        return int(self.conn.hdel(keys.pool(project), *ids))

    def drop(self, project: int) -> None:
        self.conn.delete(keys.pool(project), keys.pool_meta(project))


def _full_read(cache: PoolCache, client: LabelStudioClient, project: int, value_key: str,
               page_size: int) -> list[dict[str, Any]]:
    """Every unlabeled task from Label Studio, then the cache filled from them.

    The labeled count is Label Studio's task count less what was read: the next retrain
    replaces it with the tasks it reads, and any task missed meanwhile shows as a mismatch.
    """
    tasks = list(client.iter_tasks(project, labeled=False, page_size=page_size))
    total = int(client.project_fields(project, "task_number").get("task_number") or 0)
    last_id = max((int(t["id"]) for t in tasks), default=0)
    cache.fill(project, tasks, value_key, max(0, total - len(tasks)), last_id)
    return tasks


def read_pool(cache: PoolCache, client: LabelStudioClient, project: int, value_key: str, *,
              page_size: int = 1000, max_age: float = 3600.0) -> tuple[list[dict[str, Any]], str]:
    """The project's unlabeled tasks (``id``, ``data``) and how they were read: full or cached.

    From the cache when it exists, is younger than ``max_age`` and adds up once the tasks
    above its highest id are read; otherwise in full (which refills it).
    """
    cached = cache.load(project) if cache.max_bytes else None
    if cached is None or time.time() - cached.filled_at > max_age:
        return _full_read(cache, client, project, value_key, page_size), "full"
    new = list(client.iter_tasks(project, None, page_size=page_size, after_id=cached.last_id,
                                 include=("id", "data", "annotations")))
    cache.add(project, new, value_key)
    total = int(client.project_fields(project, "task_number").get("task_number") or 0)
    fresh = cache.load(project)
    if fresh is None or len(fresh.tasks) + fresh.labeled != total:
        have = None if fresh is None else (len(fresh.tasks), fresh.labeled)
        log.info("project %s: the cached pool does not add up (unlabeled, labeled %s; Label Studio has %d tasks); "
                 "reading it in full", project, have, total)
        return _full_read(cache, client, project, value_key, page_size), "full"
    return fresh.as_tasks(), "cached"
