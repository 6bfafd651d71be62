"""``ls-active serve``: web service, worker and embedded Redis come up together and stop together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import redis
import requests
from rq import Worker

from backend.loop.redis_server import socket_path
from tests.conftest import ROOT, free_port, wait_http
from tests.processes import spawn, stop


@pytest.mark.slow
def test_serve_starts_everything_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY")}
    env.update(DATA_DIR=str(data), LOG_LEVEL="WARNING")
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115
    proc = spawn([sys.executable, "-m", "backend.cli", "serve", "--host", "127.0.0.1", "--port",
                  str(port), "--workers", "1"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/health", timeout=60, proc=proc)
        health = requests.get(f"http://127.0.0.1:{port}/health", timeout=5).json()
        assert health["redis"] is True
        sock = socket_path(data.resolve())
        assert sock.exists(), "the embedded Redis listens under DATA_DIR"
        conn = redis.Redis(unix_socket_path=str(sock))
        deadline = 60
        import time

        start = time.monotonic()
        while not Worker.all(connection=conn) and time.monotonic() - start < deadline:
            time.sleep(0.5)
        workers = Worker.all(connection=conn)
        assert len(workers) == 1, "serve runs one RQ worker on the same Redis"
        worker_pid = workers[0].pid
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=60)
        finally:
            stop(proc)
            log.close()
    assert code == 0, (tmp_path / "serve.log").read_text()[-2000:]
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/health", timeout=2)
    with pytest.raises((redis.ConnectionError, FileNotFoundError)):
        redis.Redis(unix_socket_path=str(sock), socket_connect_timeout=1).ping()
    with pytest.raises(ProcessLookupError):
        os.kill(worker_pid, 0)
    # and the state survives: a second start on the same DATA_DIR finds the same database
    assert (data / "redis.aof").exists() or any(data.glob("*.aof*")) or (data / "appendonlydir").exists()
