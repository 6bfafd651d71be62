"""A worker outlives a Redis restarted empty, and still stops when asked (real Redis, real worker).

The worker talks to a Redis server of the test's own (the shared one is never restarted).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import redis
from rq import Worker

from backend.loop.redis_server import EmbeddedRedis
from tests.conftest import ROOT, backend_env
from tests.lsapi import wait_until
from tests.processes import spawn, stop


def registered(conn: redis.Redis) -> bool:
    try:
        return bool(Worker.all(connection=conn))
    except redis.RedisError:
        return False


def test_a_worker_comes_back_after_redis_restarts_empty_and_stops_on_sigterm(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis")
    url = server.start()
    conn = redis.Redis.from_url(url)
    log = tmp_path / "worker.log"
    with log.open("ab") as out:
        worker = spawn([sys.executable, "-m", "backend.cli", "worker"], env=backend_env(url, tmp_path),
                       cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: registered(conn), 60, "the worker to register")
        before = conn.info("server")["run_id"]
        server.stop()
        shutil.rmtree(server.data_dir)
        server.start()
        # a new, empty server (the worker may register again within milliseconds: no dbsize check)
        assert conn.info("server")["run_id"] != before
        wait_until(lambda: registered(conn), 90, "the worker to register with the new Redis", interval=1.0)
        assert worker.poll() is None
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0, log.read_text()[-2000:]
        assert "registered again" in log.read_text()
    finally:
        stop(worker)
        server.stop()
