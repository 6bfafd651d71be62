"""One milestone, timed: the N-th annotation's request returns -> Label Studio serves fresh scores.

The split comes from what the jobs record (the version record of the retrain, the status hash of
the rescore) and from RQ's own timestamps of both jobs, so queue waits and job start-up show
apart from the work itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
from rq.job import Job

from backend.labelstudio.client import LabelStudioClient
from backend.loop.scheduling import SERIALIZER, Scheduler, slot_key
from backend.loop.state import ProjectState
from backend.settings import Settings
from benchmarks.loop_project import HEAD, LoopProject, LsHttp
from benchmarks.loop_stack import QUEUES


@dataclass(frozen=True)
class Milestone:
    """Seconds from the milestone annotation's return (``t0``) to fresh scores, and their parts."""

    size: int
    repeat: int
    version: str
    labels: int
    tasks: int
    #: (b) the whole pool fresh: the rescore finished and the queue is ordered by the new scores.
    total: float
    #: (a) the head fresh and served first: ``model_version`` switched, the head ordered by its scores.
    head_total: float
    #: How the rescore read the pool: ``full`` from Label Studio, or ``cached``.
    read_mode: str
    #: Seconds of the push spent on the head (0 when the pool was pushed in one import).
    head_push: float
    train_read: float
    train_fit: float
    read: float
    score: float
    push: float
    retrain_wait: float
    retrain_job: float
    rescore_wait: float
    rescore_job: float
    visible_after_job: float
    #: After fresh scores: how long the one worker stayed busy (metrics report, cleanup of old versions).
    busy_after: float

    @property
    def parts(self) -> float:
        return self.train_read + self.train_fit + self.read + self.score + self.push

    @property
    def overhead(self) -> float:
        return self.total - self.parts


def epoch(moment: datetime | None) -> float:
    if moment is None:
        raise RuntimeError("an RQ job has no timestamp; did it run?")
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def quiet(conn: redis.Redis, ls: LsHttp, project: int) -> bool:
    """No job waits or runs (the metrics report included, the slow cleanup of old versions not),
    and Label Studio serves the current version."""
    settings = Settings.from_env({**QUEUES, "REDIS_URL": "redis://unused"})
    if Scheduler(settings, conn, ProjectState(conn)).work_in_flight():
        return False
    if conn.hget(slot_key(project), "status") not in (None, b"idle"):
        return False
    return ls.model_version(project) == ProjectState(conn).current_version(project)


def wait_quiet(conn: redis.Redis, ls: LsHttp, project: int, timeout: float = 600.0) -> float:
    """Wait for :func:`quiet`; return how long it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if quiet(conn, ls, project):
            return time.monotonic() - start
        time.sleep(0.5)
    raise TimeoutError(f"project {project}: jobs still pending after {timeout:.0f} s")


def wait_value(read: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = read()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def _job(conn: redis.Redis, job_id: str) -> Job:
    return Job.fetch(job_id, connection=conn, serializer=SERIALIZER)


def run_milestone(
    conn: redis.Redis, client: LabelStudioClient, ls: LsHttp, project: LoopProject, every: int, repeat: int,
    size: int, timeout: float, head: int = HEAD,
) -> Milestone:
    """Annotate ``every - 1`` tasks, let the loop settle, then time the ``every``-th annotation.

    Two instants: the first ``head`` tasks of the queue fresh (what annotators meet next),
    and the whole pool fresh (the rescore finished, and the queue's first tasks fresh).
    """
    state = ProjectState(conn)
    before = state.current_version(project.id)
    project.annotate(client, every - 1)
    wait_quiet(conn, ls, project.id)
    if state.current_version(project.id) != before:
        raise RuntimeError("a retrain ran before the milestone: RETRAIN_EVERY and the label count disagree")
    t0 = project.annotate(client, 1)
    version = str(wait_value(lambda: (v := state.current_version(project.id)) != before and v,
                             timeout, "the retrain to publish a version"))
    head_visible = ls.wait_fresh(project.id, version, timeout, size=min(head, HEAD))
    visible = ls.wait_fresh(project.id, version, timeout,
                            also=lambda: state.status(project.id).get("last_rescore") == version)
    status = wait_value(lambda: (s := state.status(project.id)).get("last_rescore") == version and s,
                        30, "the rescore's status")
    record = next(r for r in state.versions(project.id) if r["version"] == version)
    retrain = _job(conn, _text(conn.hget(slot_key(project.id), "job")))
    rescore = _job(conn, f"rescore-{project.id}-{version}")
    wait_value(lambda: rescore.refresh() or rescore.ended_at, 30, "the rescore job to end")
    wait_quiet(conn, ls, project.id)
    busy_after = time.time() - visible
    return Milestone(
        size=size, repeat=repeat, version=version, labels=int(record["n_labels"]),
        tasks=int(status["last_rescore_tasks"]), total=visible - t0, head_total=head_visible - t0,
        read_mode=str(status.get("last_read", "full")), head_push=float(status.get("head_seconds") or 0.0),
        train_read=float(record["read_seconds"]), train_fit=float(record["train_seconds"]),
        read=float(status["read_seconds"]), score=float(status["score_seconds"]), push=float(status["push_seconds"]),
        retrain_wait=epoch(retrain.started_at) - t0,
        retrain_job=epoch(retrain.ended_at) - epoch(retrain.started_at),
        rescore_wait=epoch(rescore.started_at) - epoch(retrain.ended_at),
        rescore_job=epoch(rescore.ended_at) - epoch(rescore.started_at),
        visible_after_job=visible - epoch(rescore.ended_at), busy_after=busy_after,
    )


def _text(value: bytes | str | None) -> str:
    if value is None:
        raise RuntimeError("the retrain slot names no job")
    return value.decode() if isinstance(value, bytes) else value
