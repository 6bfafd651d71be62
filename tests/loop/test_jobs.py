"""A failed job carries its retry decision: RQ retries what can pass, never what cannot.

Real Redis, a real ``ls-active worker --burst`` process; no Label Studio is needed: one
project has no address or token at all (a fix only the admin can make), the other points at
a closed port (Label Studio down: worth retrying).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import redis
from rq.job import Job, JobStatus

from backend.loop.scheduling import SERIALIZER, Scheduler
from backend.loop.state import ProjectState
from backend.settings import Settings
from tests.conftest import ROOT, backend_env


def run_burst(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "backend.cli", "worker", "--burst"], env=env, cwd=ROOT,
                   check=True, timeout=120, capture_output=True)


def test_a_job_that_cannot_pass_fails_at_once(redis_url: str, redis_conn: redis.Redis, tmp_path: Path) -> None:
    env = backend_env(redis_url, tmp_path, JOB_RETRIES="3", RETRY_BACKOFF="1")
    scheduler = Scheduler(Settings.from_env(env), redis_conn, ProjectState(redis_conn))
    _, job_id = scheduler.request_retrain(5, "test")
    run_burst(env)
    job = Job.fetch(job_id, connection=redis_conn, serializer=SERIALIZER)
    assert job.get_status() == JobStatus.FAILED
    assert not scheduler.train_queue.scheduled_job_registry.get_job_ids()
    assert "no Label Studio address or token" in ProjectState(redis_conn).status(5)["last_error"]


def test_a_job_that_may_pass_is_retried(redis_url: str, redis_conn: redis.Redis, tmp_path: Path) -> None:
    env = backend_env(redis_url, tmp_path, JOB_RETRIES="3", RETRY_BACKOFF="30",
                      LABEL_STUDIO_URL="http://127.0.0.1:9", LABEL_STUDIO_API_KEY="0" * 40)
    scheduler = Scheduler(Settings.from_env(env), redis_conn, ProjectState(redis_conn))
    _, job_id = scheduler.request_retrain(6, "test")
    run_burst(env)
    job = Job.fetch(job_id, connection=redis_conn, serializer=SERIALIZER)
    assert job.get_status() == JobStatus.SCHEDULED and job.retries_left == 2
    assert job_id in scheduler.train_queue.scheduled_job_registry.get_job_ids()
    assert "unreachable" in ProjectState(redis_conn).status(6)["last_error"]
