"""A worker runs only ls-active's own job functions, whatever a job in Redis names.

Real Redis and a real ``ls-active worker --burst`` process: jobs written straight into the
queue, as anyone who can write to Redis could write them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import redis
from rq import Callback, Queue
from rq.job import Job, JobStatus

from backend.loop.scheduling import SERIALIZER
from backend.loop.trusted_jobs import TRUSTED, TrustedJob, UntrustedJob
from tests.conftest import ROOT, backend_env


def run_burst(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-m", "backend.cli", "worker", "--burst"], env={**env, "LOG_LEVEL": "INFO"},
                          cwd=ROOT, check=True, timeout=120, capture_output=True, text=True)
    return done.stdout + done.stderr


def test_a_job_naming_another_function_fails_and_never_runs(redis_url: str, redis_conn: redis.Redis,
                                                             tmp_path: Path) -> None:
    env = backend_env(redis_url, tmp_path)
    planted = tmp_path / "planted"
    queue = Queue("ls-active-train", connection=redis_conn, serializer=SERIALIZER)
    bad = queue.enqueue("os.mkdir", str(planted))
    hooked = queue.enqueue("backend.loop.jobs.evaluate", 1, "ls-active-v1-x",
                           on_failure=Callback("os.mkdir"), on_success=Callback("os.mkdir"))
    log = run_burst(env)
    assert not planted.exists(), "the worker ran a function a job in Redis named"
    bad = Job.fetch(bad.id, connection=redis_conn, serializer=SERIALIZER)
    assert bad.get_status() == JobStatus.FAILED
    assert "refusing a job whose function is 'os.mkdir'" in (bad.latest_result().exc_string or "")  # type: ignore[union-attr]
    hooked = Job.fetch(hooked.id, connection=redis_conn, serializer=SERIALIZER)
    assert hooked.get_status() == JobStatus.FAILED
    assert "refusing" in log and "callback" in log


def test_the_project_job_functions_resolve() -> None:
    for path in TRUSTED:
        job = TrustedJob(id="x", connection=redis.Redis())
        job._func_name = path
        assert callable(job.func), path


def test_a_stored_method_is_refused() -> None:
    job = TrustedJob(id="x", connection=redis.Redis())
    job._func_name, job._instance = "system", object()
    with pytest.raises(UntrustedJob, match="method"):
        _ = job.func
