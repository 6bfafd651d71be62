"""The RQ worker with ls-active's settings, and recovery of jobs a killed worker left behind.

RQ notices an abandoned job only after its heartbeat expires (a minute or more). A worker
that starts on the same machine as a dead one can tell at once: the dead worker's pid is
gone, and so is the pid the job recorded for the process executing it (RQ's work horse
runs in its own process group and may outlive its worker). Such jobs go back through RQ's
own abandoned-job path: retried while retries remain, otherwise moved to the failed registry.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time

import redis
from redis.client import Pipeline
from rq import Queue, Worker, worker_registration
from rq.job import Job
from rq.registry import StartedJobRegistry

from backend import defaults
from backend.loop.scheduling import SERIALIZER
from backend.loop.state import as_text
from backend.loop.store import pid_alive
from backend.loop.trusted_jobs import TrustedJob
from backend.settings import Settings

log = logging.getLogger(__name__)


def _dead_local_workers(conn: redis.Redis) -> set[str]:
    host = socket.gethostname()
    dead = set()
    for worker in Worker.all(connection=conn):
        if worker.hostname == host and worker.pid and not pid_alive(worker.pid):
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
            job = (Job.fetch(job_id, connection=conn, serializer=SERIALIZER) if Job.exists(job_id, connection=conn)
                   else None)
            if job is None or job.worker_name not in dead:
                continue
            runner = job.meta.get("pid")
            if job.meta.get("host") == socket.gethostname() and isinstance(runner, int) and pid_alive(runner):
                continue  # its work horse still runs the job and will finish it
            conn.zadd(registry.key, {member: 0})
            recovered += 1
        if recovered:
            registry.cleanup()
    for worker_name in dead:
        conn.delete(f"rq:worker:{worker_name}")
        conn.srem("rq:workers", f"rq:worker:{worker_name}")
    if dead:
        _release_dead_scheduler_locks(conn, queue_names)
    if recovered:
        log.warning("recovered %d job(s) of worker(s) that died: %s", recovered, ", ".join(sorted(dead)))
    return recovered


def _release_dead_scheduler_locks(conn: redis.Redis, queue_names: list[str]) -> None:
    """A dead worker's scheduler keeps its queues locked for minutes, and retries scheduled
    with backoff would wait for that lock. Free locks whose holder ran here and is gone."""
    host = socket.gethostname()
    for name in queue_names:
        lock = f"rq:scheduler-lock:{name}"
        holder = conn.get(lock)
        if holder is None:
            continue
        info = {as_text(k): as_text(v) for k, v in conn.hgetall(f"rq:scheduler:{as_text(holder)}").items()}
        pid = int(info.get("pid", "0") or 0)
        if info.get("hostname") == host and pid and not pid_alive(pid):
            conn.delete(lock)
            log.warning("released the scheduler lock of queue %s held by a dead scheduler", name)


class LsWorker(Worker):
    """RQ's worker, registered again when Redis lost its registration (a Redis restarted empty).

    RQ reconnects an idle worker by itself but registers it only once, at start: without this
    it would keep working unseen by ``ls-active check``, ``/health`` and the next worker's
    recovery of abandoned jobs.
    """

    def heartbeat(self, timeout: int | None = None, pipeline: Pipeline | None = None) -> None:
        super().heartbeat(timeout, pipeline)
        if pipeline is not None or self.connection.sismember(worker_registration.REDIS_WORKER_KEYS, self.key):
            return
        with self.connection.pipeline() as again:
            again.hset(self.key, mapping=self.serialize())
            worker_registration.register(self, again)
            again.expire(self.key, self.worker_ttl + 60)
            again.execute()
        log.warning("worker %s registered again: Redis had lost its registration", self.name)


def run_worker(settings: Settings, burst: bool = False) -> bool:
    """Work on the training and scoring queues until stopped (or until empty with ``burst``).

    Half-written artifacts of writers that died are removed first. RQ's worker quits on a
    Redis error in the middle of a job (a Redis restarting, say); this one then waits for
    Redis to answer and starts again, so a lost Redis never needs the worker restarted by hand.
    """
    import backend.loop.jobs  # noqa: F401 - loaded once here, every forked job inherits it
    from backend.loop.redis_server import connect
    from backend.loop.store import ArtifactStore

    ArtifactStore(settings.model_dir).clean_all_temporaries()
    conn = connect(settings)
    names = list(settings.queues)
    worked = False
    while True:
        queues = [Queue(name, connection=conn, serializer=SERIALIZER, job_class=TrustedJob) for name in names]
        worker = LsWorker(queues, connection=conn, job_monitoring_interval=5, serializer=SERIALIZER,
                          job_class=TrustedJob)
        try:
            recover_abandoned(conn, names)
            worked = worker.work(burst=burst, with_scheduler=True, logging_level=settings.log_level) or worked
        except (redis.RedisError, OSError) as exc:
            # Redis gone again before the work began, or while RQ tidied up on its way out
            # (register_death): either would otherwise end the process
            log.warning("the worker stopped on a Redis error outside a job: %s", exc)
            _drop_subscription(worker)
        if burst or _asked_to_stop(worker) or not _wait_for_redis(conn):
            return bool(worked)
        log.warning("the worker stopped on a Redis error; Redis answers again, so it starts again")


def _drop_subscription(worker: Worker) -> None:
    """Stop the pubsub thread that RQ's own way out did not reach (it needs Redis to unsubscribe)."""
    thread = getattr(worker, "pubsub_thread", None)
    if thread is None:
        return
    with contextlib.suppress(redis.RedisError, OSError, RuntimeError):
        thread.stop()
        thread.join(timeout=1)
        if worker.pubsub is not None:
            worker.pubsub.close()


def _asked_to_stop(worker: Worker) -> bool:
    """Whether a signal (SIGTERM, Ctrl-C) stopped the worker, rather than an error.

    RQ keeps this to itself: it notes when a stop was asked for, and whether one came in
    the middle of a job.
    """
    return getattr(worker, "_shutdown_requested_date", None) is not None or bool(
        getattr(worker, "_stop_requested", False))


def _wait_for_redis(conn: redis.Redis, timeout: float = defaults.REDIS_RECONNECT_SECONDS) -> bool:
    """Wait until Redis answers (True), or ``timeout`` seconds (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if conn.ping():
                return True
        except (redis.RedisError, OSError):
            pass
        time.sleep(1.0)
    return False
