"""Turning events into RQ jobs, with at most one retrain per project waiting or running.

Each project has a retrain *slot* in Redis (``idle``, ``queued`` or ``running``), changed
only by the Lua scripts below, so concurrent webhooks and workers cannot race:
a request while a retrain is queued does nothing (that run will read every label);
a request while one runs marks the slot *dirty*, and the finishing run enqueues exactly
one more. Job ids are deterministic: ``retrain-<project>-<generation>``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import redis
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from backend import defaults
from backend.labelstudio.payloads import Event
from backend.loop import keys
from backend.loop.milestones import milestones_between, next_milestone
from backend.loop.options import resolve
from backend.loop.state import ProjectState, as_text
from backend.settings import Settings

log = logging.getLogger(__name__)

_REQUEST = """
local s = redis.call('HGET', KEYS[1], 'status')
if s == 'queued' then return {'queued', redis.call('HGET', KEYS[1], 'job')} end
if s == 'running' then
  redis.call('HSET', KEYS[1], 'dirty', '1')
  return {'pending', redis.call('HGET', KEYS[1], 'job')}
end
local gen = redis.call('HINCRBY', KEYS[1], 'generation', 1)
local job = ARGV[1] .. gen
redis.call('HSET', KEYS[1], 'status', 'queued', 'job', job, 'dirty', '0')
return {'enqueue', job}
"""
_BEGIN = """
if redis.call('HGET', KEYS[1], 'job') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'status', 'running', 'dirty', '0')
return 1
"""
_FINISH = """
if redis.call('HGET', KEYS[1], 'job') ~= ARGV[1] then return {'stale', ''} end
if redis.call('HGET', KEYS[1], 'dirty') == '1' then
  local gen = redis.call('HINCRBY', KEYS[1], 'generation', 1)
  local job = ARGV[2] .. gen
  redis.call('HSET', KEYS[1], 'status', 'queued', 'job', job, 'dirty', '0')
  return {'enqueue', job}
end
redis.call('HSET', KEYS[1], 'status', 'idle')
return {'idle', ''}
"""
#: Jobs are stored as JSON: whoever can write to Redis must not be able to run code in a worker
#: (RQ's default, pickle, would let them).
SERIALIZER = JSONSerializer
#: Where the job functions live (RQ names a job's function by dotted path).
JOBS = "backend.loop.jobs"
CLEANUP_JOB = f"{JOBS}.cleanup_versions"
_DEAD = (JobStatus.FAILED, JobStatus.FINISHED, JobStatus.STOPPED, JobStatus.CANCELED)


def slot_key(project: int) -> str:
    return keys.retrain_slot(project)



class Scheduler:
    """Enqueues the jobs of :mod:`backend.loop.jobs`; used by the web process and by jobs."""

    def __init__(self, settings: Settings, conn: redis.Redis, state: ProjectState) -> None:
        self.settings = settings
        self.conn = conn
        self.state = state
        self.train_queue = Queue(settings.train_queue, connection=conn, serializer=SERIALIZER)
        self.score_queue = Queue(settings.score_queue, connection=conn, serializer=SERIALIZER)
        self.maintenance_queue = Queue(settings.maintenance_queue, connection=conn, serializer=SERIALIZER)
        self._request = conn.register_script(_REQUEST)
        self._begin = conn.register_script(_BEGIN)
        self._finish = conn.register_script(_FINISH)

    # -- retrain slot --------------------------------------------------------------------
    def _retry(self) -> Retry | None:
        if not self.settings.job_retries:
            return None
        backoff = list(self.settings.retry_backoff)
        intervals = [backoff[min(i, len(backoff) - 1)] for i in range(self.settings.job_retries)]
        return Retry(max=self.settings.job_retries, interval=intervals)

    def _enqueue(self, queue: Queue, function: str, args: tuple[Any, ...], description: str, *,
                 job_id: str | None = None, loop: bool = True, retry: bool = True, delay: float = 0) -> str:
        """Enqueue ``backend.loop.jobs.<function>``; ``loop`` jobs keep their result longer."""
        options: dict[str, Any] = {
            "args": args, "job_id": job_id, "job_timeout": self.settings.job_timeout,
            "retry": self._retry() if retry else None, "description": description,
            "result_ttl": defaults.LOOP_RESULT_TTL if loop else defaults.SIDE_RESULT_TTL,
            "failure_ttl": defaults.FAILURE_TTL,
        }
        if delay > 0:
            return str(queue.enqueue_in(timedelta(seconds=delay), f"{JOBS}.{function}", **options).id)
        return str(queue.enqueue(f"{JOBS}.{function}", **options).id)

    def _enqueue_retrain(self, project: int, job_id: str) -> None:
        self._enqueue(self.train_queue, "retrain", (project,), f"retrain project {project}", job_id=job_id)

    def _release_if_stale(self, project: int) -> None:
        """A slot left queued/running by a job that has finally failed or vanished frees up."""
        slot = self.conn.hgetall(slot_key(project))
        status = as_text(slot.get(b"status", b"idle"))
        if status not in ("queued", "running"):
            return
        job_id = as_text(slot.get(b"job", b""))
        try:
            job_status = Job.fetch(job_id, connection=self.conn, serializer=SERIALIZER).get_status()
        except NoSuchJobError:
            job_status = None
        if job_status is None or job_status in _DEAD:
            log.warning("project %s: retrain slot held by %s (%s); releasing it", project, job_id, job_status)
            self.conn.hset(slot_key(project), mapping={"status": "idle", "dirty": "0"})

    def request_retrain(self, project: int, reason: str) -> tuple[str, str]:
        """Ask for a retrain; returns (outcome, job id): enqueue, queued or pending."""
        self._release_if_stale(project)
        outcome, job_id = (as_text(v) for v in self._request(keys=[slot_key(project)], args=[f"retrain-{project}-"]))
        if outcome == "enqueue":
            try:
                self._enqueue_retrain(project, job_id)
            except redis.RedisError:
                self.conn.hset(slot_key(project), "status", "idle")
                raise
        log.info("project %s: retrain requested (%s): %s %s", project, reason, outcome, job_id)
        self.state.set_status(project, last_request=reason, last_request_at=time.time())
        return outcome, job_id

    def begin_retrain(self, project: int, job_id: str) -> bool:
        """Mark the slot running; False when ``job_id`` no longer owns the slot."""
        return bool(self._begin(keys=[slot_key(project)], args=[job_id]))

    def finish_retrain(self, project: int, job_id: str) -> str | None:
        """Free the slot, or enqueue the one follow-up run that labels during this run asked for."""
        answer = self._finish(keys=[slot_key(project)], args=[job_id, f"retrain-{project}-"])
        outcome, next_id = (as_text(v) for v in answer)
        if outcome == "enqueue":
            self._enqueue_retrain(project, next_id)
            return next_id
        return None

    def force_retrain(self, project: int, reason: str) -> dict[str, Any]:
        _, job_id = self.request_retrain(project, reason)
        return {"job": job_id}

    # -- events ------------------------------------------------------------------------
    def retrain_every(self, project: int, overrides: Mapping[str, Any] | None = None) -> tuple[int, ...]:
        """The project's retrain milestones: its extra_params' ``retrain_every``, else ``RETRAIN_EVERY``.

        ``overrides`` are the project's stored settings when the caller has them already;
        otherwise its config is read.
        """
        if overrides is None:
            config = self.state.config(project)
            overrides = config.options if config else {}
        return resolve(self.settings, overrides).retrain_every

    def on_event(self, event: Event, label_events: int | None = None,
                 options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Act on a webhook event. ``label_events``: the project's count after this event,
        when the caller has already added it (the webhook counts it with everything else);
        ``options``: the project's stored settings, when read with it."""
        project = event.project
        if project is None:
            return {}
        if event.action == "START_TRAINING":
            return self.force_retrain(project, "start_training")
        if event.action == "TASKS_CREATED" and event.task_ids:
            ids, size = sorted(event.task_ids), defaults.MAX_NEW_TASKS_PER_JOB
            jobs = [self.enqueue_score_tasks(project, ids[i:i + size]) for i in range(0, len(ids), size)]
            return {"job": jobs[0], "jobs": len(jobs)}
        changed = event.labels_changed
        if not changed:
            return {}
        after = (self.state.add_label_events(project, changed, before=event.labels_before)
                 if label_events is None else label_events)
        schedule = self.retrain_every(project, options)
        crossed = milestones_between(schedule, after - changed, after)
        answer: dict[str, Any] = {
            "label_events": after,
            "next_milestone": next_milestone(schedule, after),
        }
        if crossed:
            _, answer["job"] = self.request_retrain(project, f"milestone {crossed[-1]}")
        return answer

    def on_first_setup(self, project: int) -> None:
        """Order the pool by the cold start as soon as a project connects."""
        self.enqueue_rescore(project, None)

    # -- scoring jobs ------------------------------------------------------------------
    def enqueue_rescore(self, project: int, version: str | None) -> str:
        return self._enqueue(self.score_queue, "rescore", (project, version),
                             f"rescore project {project} with {version}",
                             job_id=f"rescore-{project}-{version or 'cold-start'}")

    def enqueue_score_tasks(self, project: int, task_ids: list[int]) -> str:
        """Score tasks just imported; only their ids are queued (the job reads them from Label Studio)."""
        return self._enqueue(self.score_queue, "score_tasks", (project, task_ids),
                             f"score {len(task_ids)} new tasks of project {project}", loop=False)

    def enqueue_evaluate(self, project: int, version: str) -> str:
        return self._enqueue(self.maintenance_queue, "evaluate", (project, version),
                             f"metrics report of {version} (project {project})",
                             job_id=f"evaluate-{project}-{version}", loop=False, retry=False)

    def enqueue_cleanup(self, project: int, delay: float = 0) -> str | None:
        """Queue one cleanup of superseded versions (now, or in ``delay`` seconds).

        At most one waits per project: the flag is cleared when the job starts, so a request
        made while one runs queues the next one.
        """
        flag = keys.cleanup_pending(project)
        if not self.conn.set(flag, "1", nx=True, ex=defaults.CLEANUP_PENDING_TTL):
            return None
        try:
            return self._enqueue(self.maintenance_queue, "cleanup_versions", (project,),
                                 f"delete old predictions of project {project}", loop=False, retry=False,
                                 delay=delay)
        except redis.RedisError:
            self.conn.delete(flag)
            raise

    def cleanup_started(self, project: int) -> None:
        self.conn.delete(keys.cleanup_pending(project))

    def others_waiting(self) -> bool:
        """Any job waits (of any project), or a retrain or push runs: housekeeping comes last."""
        if any(self.conn.llen(q.key) for q in (self.train_queue, self.score_queue, self.maintenance_queue)):
            return True
        return any(self.conn.zcard(q.started_job_registry.key)
                   for q in (self.train_queue, self.score_queue))

    # -- status --------------------------------------------------------------------------
    def work_in_flight(self, include_cleanup: bool = False) -> list[str]:
        """Descriptions of the jobs waiting, scheduled or running on the three queues.

        The cleanup of old versions is left out unless asked for: it runs for minutes at a
        gentle pace and steps aside whenever anything else has to run.
        """
        found = []
        for queue in (self.train_queue, self.score_queue, self.maintenance_queue):
            ids = (queue.get_job_ids() + queue.scheduled_job_registry.get_job_ids()
                   + queue.started_job_registry.get_job_ids())
            for job in Job.fetch_many(ids, connection=self.conn, serializer=SERIALIZER):
                if job is not None and (include_cleanup or job.func_name != CLEANUP_JOB):
                    found.append(f"{queue.name}: {job.description}")
        return found

    def job_status(self, job_id: str) -> dict[str, Any]:
        try:
            job = Job.fetch(job_id, connection=self.conn, serializer=SERIALIZER)
        except NoSuchJobError:
            return {"job": job_id, "status": "unknown"}
        status = job.get_status()
        answer: dict[str, Any] = {"job": job_id, "status": str(status.value if status else "unknown")}
        if status == JobStatus.FAILED and job.exc_info:
            answer["error"] = job.exc_info.strip().splitlines()[-1]
        return answer

    def project_health(self) -> dict[str, Any]:
        """Per project: the version served, the job in flight, the last error, label progress."""
        out: dict[str, Any] = {}
        for project in self.state.projects():
            slot = {as_text(k): as_text(v) for k, v in self.conn.hgetall(slot_key(project)).items()}
            counters = self.state.counters(project)
            events = int(counters.get("label_events", 0))
            status = self.state.status(project)
            config = self.state.config(project)
            out[str(project)] = {
                "model_version": self.state.current_version(project),
                "versions": len(self.state.versions(project)),
                "retrain": {"status": slot.get("status", "idle"), "job": slot.get("job")},
                "label_events": events,
                "next_milestone": next_milestone(self.retrain_every(project, config.options if config else {}),
                                                 events),
                "last_event_at": counters.get("last_event_at"),
                "last_error": status.get("last_error"),
                "last_error_at": status.get("last_error_at"),
                "last_success_at": status.get("last_success_at"),
                "connected": config is not None,
            }
        return out
