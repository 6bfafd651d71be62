"""The RQ worker with ls-active's settings, and recovery of jobs a killed worker left behind.

RQ notices an abandoned job only after its heartbeat expires (a minute or more). A worker
that starts on the same machine as a dead one can tell at once (the dead worker's pid is
gone), so it hands those jobs back to RQ's own abandoned-job path: retried while retries
remain, otherwise moved to the failed registry.
"""

from __future__ import annotations

import logging
import os
import socket

import redis
from rq import Queue, Worker
from rq.job import Job
from rq.registry import StartedJobRegistry

from backend.settings import Settings

log = logging.getLogger(__name__)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _dead_local_workers(conn: redis.Redis) -> set[str]:
    host = socket.gethostname()
    dead = set()
    for worker in Worker.all(connection=conn):
        if worker.hostname == host and worker.pid and not _pid_alive(worker.pid):
            dead.add(worker.name)
    return dead


def recover_abandoned(conn: redis.Redis, queue_names: list[str]) -> int:
    """Send jobs of dead local workers through RQ's abandoned-job handling; return how many."""
    dead = _dead_local_workers(conn)
    recovered = 0
    for name in queue_names:
        registry = StartedJobRegistry(name, connection=conn)
        members: list[bytes] = list(conn.zrange(registry.key, 0, -1))  # type: ignore[arg-type]
        for member in members:
            job_id = registry.parse_job_id(member.decode())
            job = Job.fetch(job_id, connection=conn) if Job.exists(job_id, connection=conn) else None
            if job is None or job.worker_name not in dead:
                continue
            conn.zadd(registry.key, {member: 0})
            recovered += 1
        if recovered:
            registry.cleanup()
    for worker_name in dead:
        conn.delete(f"rq:worker:{worker_name}")
        conn.srem("rq:workers", f"rq:worker:{worker_name}")
    if recovered:
        log.warning("recovered %d job(s) of worker(s) that died: %s", recovered, ", ".join(sorted(dead)))
    return recovered


def run_worker(settings: Settings, burst: bool = False) -> bool:
    """Work on the training and scoring queues until stopped (or until empty with ``burst``)."""
    from backend.redis_conn import connect

    conn = connect(settings)
    names = [settings.train_queue, settings.score_queue]
    recover_abandoned(conn, names)
    queues = [Queue(name, connection=conn) for name in names]
    worker = Worker(queues, connection=conn, job_monitoring_interval=5)
    return bool(worker.work(burst=burst, with_scheduler=True, logging_level=settings.log_level))
