"""The processes the loop benchmark measures: Label Studio, Redis, the web service and one worker.

Each is a context manager that starts the real thing (or reuses one the caller names) and stops
only what it started, so a failed run leaves no server behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from backend.labelstudio.install import LABEL_STUDIO_VERSION
from backend.labelstudio.local import LocalLabelStudio
from backend.loop.redis_server import EmbeddedRedis
from benchmarks.bench_common import REPO

#: Queues of their own, so no other worker on a shared Redis takes the jobs being timed.
QUEUES = {
    "TRAIN_QUEUE": "ls-active-loopbench-train",
    "SCORE_QUEUE": "ls-active-loopbench-score",
    "MAINTENANCE_QUEUE": "ls-active-loopbench-maintenance",
}


@dataclass(frozen=True)
class LabelStudioServer:
    url: str
    token: str
    description: str


@dataclass(frozen=True)
class Service:
    """The running backend: its URL, the environment its processes share, and their logs."""

    url: str
    env: dict[str, str]
    logs: Path
    #: The pid of each part (``web``, ``worker``), whose children are its workers or work horses.
    pids: dict[str, int] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def label_studio(url: str, token: str, tmp: Path) -> Iterator[LabelStudioServer]:
    """The Label Studio at ``url`` when given, else a fresh local one in ``tmp`` (about a minute)."""
    if url and token:
        yield LabelStudioServer(url.rstrip("/"), token, f"Label Studio at {url} (given)")
        return
    server = LocalLabelStudio(tmp / "label-studio")
    with server:
        yield LabelStudioServer(server.url, server.token,
                                f"Label Studio {LABEL_STUDIO_VERSION}, local, fresh SQLite data folder")


@contextmanager
def redis_server(tmp: Path) -> Iterator[tuple[str, str]]:
    """``REDIS_URL`` when set, else an embedded server for this run; yields (url, description)."""
    url = os.environ.get("REDIS_URL", "").strip()
    if url:
        yield url, "REDIS_URL"
        return
    server = EmbeddedRedis(tmp / "redis")
    try:
        yield server.start(), "embedded redis-server over a unix socket"
    finally:
        server.stop()


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the process serving {url} exited with {proc.returncode}; see its log")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def _stop(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """SIGTERM the process group started for ``proc``, twice, then SIGKILL.

    An RQ worker waits for its running job on the first SIGTERM and kills the job's work horse
    on the second, so a benchmark stopped mid-rescore leaves no job behind.
    """
    for sig, wait in ((signal.SIGTERM, 2.0), (signal.SIGTERM, timeout), (signal.SIGKILL, timeout)):
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait)


@contextmanager
def backend(redis_url: str, tmp: Path, every: int, web_workers: int = 2, workers: int = 1) -> Iterator[Service]:
    """``ls-active web`` (gunicorn) and ``workers`` ``ls-active worker`` processes (one by default),
    as a deployment runs them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO_", "BASIC_AUTH_"))}
    env.update({"REDIS_URL": redis_url, "DATA_DIR": str(tmp / "data"), "MODEL_DIR": str(tmp / "models"),
                "RETRAIN_EVERY": str(every), "LOG_LEVEL": "INFO", **QUEUES})
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    procs: list[subprocess.Popen[bytes]] = []
    logs = tmp / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    commands = {
        "web": [sys.executable, "-m", "backend.cli", "web", "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(web_workers)],
        **{("worker" if i == 0 else f"worker{i + 1}"): [sys.executable, "-m", "backend.cli", "worker"]
           for i in range(workers)},
    }
    try:
        for name, command in commands.items():
            with (logs / f"{name}.log").open("wb") as log:
                procs.append(subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                              start_new_session=True))
        wait_http(url + "/health", procs[0])
        yield Service(url, env, logs, {name: proc.pid for name, proc in zip(commands, procs, strict=True)})
    finally:
        for proc in procs:
            _stop(proc)
