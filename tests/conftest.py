"""Shared fixtures: a real Redis, a gunicorn-served backend, and the shared data sets.

Redis is ``REDIS_URL`` when set, otherwise the project's embedded server started for the
session. A real Label Studio comes from ``tests/ls_fixtures.py``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from backend.loop.redis_server import EmbeddedRedis
from backend.tasks.records import read_rows
from tests.processes import spawn, stop, stop_all

pytest_plugins = ["tests.ls_fixtures"] if (Path(__file__).parent / "ls_fixtures.py").exists() else []

ROOT = Path(__file__).resolve().parents[1]
#: trec6 and subj (see datasets/README.md)
DATA = ROOT / "datasets"
#: the request bodies Label Studio 1.23 was seen to send
FIXTURES = ROOT / "tests" / "data" / "ls_payloads.json"


def load_rows(name: str = "trec6.csv") -> list[dict[str, Any]]:
    return read_rows(DATA / name)


def record_fits(learner: Any) -> list[Any]:
    """Make ``learner.fit`` also keep a copy of the rows of every fit, in order; return that list."""
    fits: list[Any] = []
    fit = learner.fit

    def recording(labeled: Any) -> None:
        fits.append(labeled.copy())
        fit(labeled)

    learner.fit = recording
    return fits


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    yield server.start()
    server.stop()


@pytest.fixture()
def redis_conn(redis_url: str) -> Iterator[redis.Redis]:
    conn = redis.Redis.from_url(redis_url)
    conn.flushdb()
    yield conn
    conn.flushdb()


def wait_http(url: str, timeout: float = 120.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Until ``url`` answers. Generous: on a loaded machine (load average 10 and more) a fresh
    gunicorn worker's first answers take seconds, and a one-second limit per try never passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            requests.get(url, timeout=10)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def backend_env(redis_url: str, tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO_", "BASIC_AUTH_"))}
    env.update({"REDIS_URL": redis_url, "DATA_DIR": str(tmp / "data"), "MODEL_DIR": str(tmp / "models"),
                "LOG_LEVEL": "WARNING", **extra})
    return env


class Backend:
    """A running ``ls-active web`` (gunicorn) for tests over real HTTP."""

    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.model_dir = Path(env["MODEL_DIR"])
        self.log = open(tmp / f"backend-{self.port}.log", "wb")  # noqa: SIM115
        self.proc = spawn(
            [sys.executable, "-m", "backend.cli", "web", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", "2"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT,
        )
        try:
            wait_http(self.url + "/health", proc=self.proc)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        stop(self.proc)
        self.log.close()


@pytest.fixture(scope="session")
def backend(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    tmp = tmp_path_factory.mktemp("backend")
    server = Backend(backend_env(redis_url, tmp), tmp)
    yield server
    server.stop()


def pytest_configure(config: pytest.Config) -> None:
    """A run stopped with SIGTERM (a CI time-out, ``kill``) tears down as an interrupted one does.

    Python's default for SIGTERM ends the process at once, without ``finally`` blocks or
    fixture teardowns, which would leave every Label Studio, backend and worker the session
    started running. As KeyboardInterrupt, pytest stops the test and runs the teardowns.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)


def _terminated(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"stopped by signal {signum}")


@pytest.fixture(scope="session", autouse=True)
def _no_process_left_behind() -> Iterator[None]:
    """Whatever a test started and did not stop is stopped when the session ends."""
    yield
    stop_all()
