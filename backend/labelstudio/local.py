"""A local Label Studio on 127.0.0.1, for the integration tests and ``ls-active demo``.

Started as a separate process from its own virtualenv (:mod:`~backend.labelstudio.install`),
headless, offline and open to a backend on loopback. Everything here is for local use.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import httpx

from backend import defaults
from backend.errors import LabelStudioError
from backend.labelstudio.client import LabelStudioClient
from backend.labelstudio.install import ensure_label_studio

#: Kept in the data folder so a warm restart reuses the user the first start created:
#: Label Studio ignores new credentials for a user that already exists.
CREDENTIALS_FILE = "ls-active-credentials.json"
LOG_FILE = "label-studio.log"
DEFAULT_USERNAME = "admin@example.com"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _listening(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _load_credentials(data_dir: Path) -> dict[str, str]:
    path = data_dir / CREDENTIALS_FILE
    if not path.exists():
        return {}
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {k: v for k, v in loaded.items() if isinstance(v, str)}


def _save_credentials(data_dir: Path, values: dict[str, str]) -> None:
    """Write the credentials readable by the owner only, replacing the file atomically."""
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / f".{CREDENTIALS_FILE}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(values, out)
    tmp.replace(data_dir / CREDENTIALS_FILE)


def _log_tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log written)"
    return "\n".join(text.splitlines()[-lines:])


class LocalLabelStudio:
    """One Label Studio server on 127.0.0.1, its data in ``data_dir``; a context manager.

    The first start on an empty ``data_dir`` creates the database, the user (``username``,
    ``password``) and its legacy token; the credentials are kept in the data folder so a later
    start on the same folder (a warm restart, ~3 s) logs in as the same user.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        executable: Path | None = None,
        startup_timeout: float = defaults.LS_STARTUP_TIMEOUT,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        stored = _load_credentials(self.data_dir)
        self.username = username or stored.get("username") or DEFAULT_USERNAME
        self.password = password or stored.get("password") or secrets.token_urlsafe(12)
        #: The user's legacy API token (40 hex characters, like the ones Label Studio makes).
        self.token = token or stored.get("token") or secrets.token_hex(20)
        if len(self.token) < 6:
            raise ValueError("token needs 6+ characters; Label Studio ignores shorter ones")
        self.port = port
        self.executable = executable
        self.startup_timeout = startup_timeout
        self.extra_env = dict(extra_env or {})
        self.log_path = self.data_dir / LOG_FILE
        self._process: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"LocalLabelStudio(url={self.url!r}, data_dir={str(self.data_dir)!r}, {state})"

    @property
    def url(self) -> str:
        """Base URL without a trailing slash; empty until a port is chosen."""
        return f"http://127.0.0.1:{self.port}" if self.port else ""

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def environment(self) -> dict[str, str]:
        """The process environment: headless, offline, and open to a backend on localhost."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        env.update(
            LABEL_STUDIO_BASE_DATA_DIR=str(self.data_dir),
            LABEL_STUDIO_USERNAME=self.username,
            LABEL_STUDIO_PASSWORD=self.password,
            LABEL_STUDIO_USER_TOKEN=self.token,
            ML_BLOCK_LOCAL_IP="false",
            SSRF_PROTECTION_ENABLED="false",
            LABEL_STUDIO_HOST=self.url,
            COLLECT_ANALYTICS="false",
            LATEST_VERSION_CHECK="false",
            SENTRY_DSN="",
            FRONTEND_SENTRY_DSN="",
        )
        env.update(self.extra_env)
        return env

    def start(self) -> LocalLabelStudio:
        """Start the server and wait until ``/health`` answers; raise with the log tail if not."""
        if self.running:
            return self
        executable = self.executable or ensure_label_studio()
        self.port = self.port or free_port()
        if _listening(self.port):
            raise LabelStudioError(f"Port {self.port} on 127.0.0.1 is already in use; choose "
                                   "another port or stop what listens there", retryable=False)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        _save_credentials(self.data_dir, {**_load_credentials(self.data_dir),
                                          "username": self.username, "password": self.password,
                                          "token": self.token})
        command = [str(executable), "start", "--no-browser", "--internal-host", "127.0.0.1",
                   "-p", str(self.port), "--enable-legacy-api-token"]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, env=self.environment(), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.data_dir,
            )
        try:
            self._wait_healthy()
            self._check_token()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                code = None if self._process is None else self._process.returncode
                raise LabelStudioError(
                    f"Label Studio exited (code {code}) before answering on {self.url}. "
                    f"Last lines of {self.log_path}:\n{_log_tail(self.log_path)}",
                    retryable=False,
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health", timeout=2.0).status_code == 200:
                    return
            time.sleep(0.5)
        raise LabelStudioError(
            f"Label Studio did not answer {self.url}/health within {self.startup_timeout:.0f} s. "
            f"Last lines of {self.log_path}:\n{_log_tail(self.log_path)}",
            retryable=True,
        )

    def _check_token(self) -> None:
        """Fail now, clearly, if the data folder belongs to a user with other credentials."""
        try:
            with self.client() as client:
                client.whoami()
        except LabelStudioError as exc:
            raise LabelStudioError(
                f"Label Studio at {self.url} rejected the configured token ({exc.status}); the data folder "
                f"{self.data_dir} was probably created with other credentials. Use a new data folder or the "
                f"original {CREDENTIALS_FILE}.", status=exc.status, retryable=False) from None

    def client(self, token: str | None = None) -> LabelStudioClient:
        """A client of this server, with the user's legacy token unless another is given."""
        return LabelStudioClient(self.url, token or self.token)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the server's process group, then SIGKILL it if it lingers."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)

    def personal_access_token(self) -> str:
        """The user's personal access token (a JWT refresh token), created once and kept.

        Label Studio allows one per user; the one this folder created is reused while it is
        valid, otherwise a new one replaces it.
        """
        stored = _load_credentials(self.data_dir).get("pat", "")
        if stored and token_works(self.url, stored):
            return stored
        with self.client() as client:
            pat = client.create_personal_access_token()
        _save_credentials(self.data_dir, {**_load_credentials(self.data_dir), "pat": pat})
        return pat

    def __enter__(self) -> LocalLabelStudio:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def token_works(url: str, token: str) -> bool:
    """True when Label Studio at ``url`` accepts ``token`` (a personal one: still exchanged)."""
    try:
        with LabelStudioClient(url, token) as client:
            client.whoami()
    except LabelStudioError:
        return False
    return True
