"""Install and run a local Label Studio, for the integration tests and ``ls-active demo``.

Label Studio pins Django and dozens of other packages that must not mix with ls-active's own
environment, so it lives in its own virtualenv under a cache folder and is started as a
separate process. Everything here is for local use: the server binds to 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

import httpx

from backend.errors import LabelStudioError

#: The Label Studio release whose behaviour LS_PROTOCOL.md records and the tests rely on.
LABEL_STUDIO_VERSION = "1.23.2"
#: Overrides the cache folder that holds the Label Studio virtualenv.
CACHE_ENV = "LS_ACTIVE_CACHE"
DEFAULT_CACHE_DIR = Path("~/.cache/ls-active")
#: A cold start (database migrations) took 26-55 s on an idle two-core machine and up to
#: 174 s on a loaded one; a warm restart 3-17 s.
DEFAULT_STARTUP_TIMEOUT = 300.0
#: Seconds allowed for ``pip install label-studio`` (about 2 minutes on this machine).
INSTALL_TIMEOUT = 1800.0
#: Kept in the data folder so a warm restart reuses the user the first start created:
#: Label Studio ignores new credentials for a user that already exists.
CREDENTIALS_FILE = "ls-active-credentials.json"
LOG_FILE = "label-studio.log"
DEFAULT_USERNAME = "admin@example.com"

Installer = Callable[[Path], None]


def cache_dir_default() -> Path:
    """The cache folder: ``$LS_ACTIVE_CACHE`` or ``~/.cache/ls-active``."""
    raw = os.environ.get(CACHE_ENV, "").strip()
    return Path(raw or DEFAULT_CACHE_DIR).expanduser()


def venv_path(cache_dir: Path | None = None) -> Path:
    """Where the Label Studio virtualenv lives (it may not exist yet)."""
    base = cache_dir if cache_dir is not None else cache_dir_default()
    return base / f"label-studio-{LABEL_STUDIO_VERSION}"


def is_usable(venv: Path) -> bool:
    """True when ``venv`` has the ``label-studio`` script and its Python imports Label Studio.

    A killed or failed install leaves a folder that exists but cannot import the package; such
    a folder must be rebuilt, not trusted.
    """
    python, script = venv / "bin" / "python", venv / "bin" / "label-studio"
    if not (python.exists() and script.exists()):
        return False
    try:
        done = subprocess.run(
            [str(python), "-c", "import label_studio"],
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def pip_install(target: Path) -> None:
    """Create a virtualenv at ``target`` and install the pinned Label Studio into it."""
    log = target.parent / f"label-studio-{LABEL_STUDIO_VERSION}.install.log"
    with log.open("wb") as out:
        steps = [
            [sys.executable, "-m", "venv", str(target)],
            [str(target / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
             f"label-studio=={LABEL_STUDIO_VERSION}"],
        ]
        for step in steps:
            done = subprocess.run(step, stdout=out, stderr=subprocess.STDOUT,
                                  timeout=INSTALL_TIMEOUT, check=False)
            if done.returncode != 0:
                raise LabelStudioError(
                    f"Installing Label Studio {LABEL_STUDIO_VERSION} failed "
                    f"({' '.join(step[:4])} exited {done.returncode}); see {log}",
                    retryable=False,
                )


def _relocate_scripts(venv: Path, old: Path) -> None:
    """Point the scripts of a renamed virtualenv at its new place.

    pip writes the absolute interpreter path into each script's ``#!`` line and ``activate``
    names the folder, so after the rename they would still point at the temporary folder.
    """
    old_b, new_b = str(old).encode(), str(venv).encode()
    for path in (venv / "bin").iterdir():
        if path.is_symlink() or not path.is_file():
            continue
        content = path.read_bytes()
        if old_b in content[:4096] and b"\0" not in content[:4096]:
            path.write_bytes(content.replace(old_b, new_b))


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_path``; waits while another process installs."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def ensure_label_studio(
    cache_dir: Path | None = None,
    *,
    installer: Installer = pip_install,
    check: Callable[[Path], bool] = is_usable,
) -> Path:
    """Return the ``label-studio`` executable, installing Label Studio first if needed.

    Safe to call from several processes at once: a file lock serialises them and the later
    ones find the finished install. The install happens in a temporary folder that is renamed
    only once complete, so an interrupted install is never mistaken for a good one.
    ``installer`` and ``check`` exist so the slow path can be tested without a real install.
    """
    venv = venv_path(cache_dir)
    with _locked(venv.parent / f".{venv.name}.lock"):
        if check(venv):
            return venv / "bin" / "label-studio"
        for stale in venv.parent.glob(f".{venv.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        tmp = venv.parent / f".{venv.name}.tmp-{os.getpid()}"
        installer(tmp)
        if venv.is_symlink():
            venv.unlink()
        elif venv.exists():
            shutil.rmtree(venv, ignore_errors=True)
        tmp.rename(venv)
        _relocate_scripts(venv, tmp)
        if not check(venv):
            raise LabelStudioError(
                f"Label Studio was installed into {venv} but its Python cannot import it; "
                f"delete that folder and try again",
                retryable=False,
            )
        return venv / "bin" / "label-studio"


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
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
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
        answer = httpx.get(f"{self.url}/api/current-user/whoami",
                           headers={"Authorization": f"Token {self.token}"}, timeout=30.0)
        if answer.status_code != 200:
            raise LabelStudioError(
                f"Label Studio at {self.url} rejected the configured token ({answer.status_code}); "
                f"the data folder {self.data_dir} was probably created with other credentials. "
                f"Use a new data folder or the original {CREDENTIALS_FILE}.",
                status=answer.status_code,
                retryable=False,
            )

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
        if stored and _refresh_works(self.url, stored):
            return stored
        pat = create_personal_access_token(self.url, self.username, self.password)
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


def _refresh_works(url: str, pat: str) -> bool:
    """True when Label Studio still exchanges ``pat`` for an access token."""
    try:
        answer = httpx.post(f"{url}/api/token/refresh/", json={"refresh": pat}, timeout=30.0)
    except httpx.HTTPError:
        return False
    return answer.status_code == 200


def _session_login(http: httpx.Client, username: str, password: str) -> str:
    """Log in as a browser does; return the CSRF token the session's API calls need."""
    http.get("/user/login/")
    answer = http.post(
        "/user/login/",
        data={"email": username, "password": password,
              "csrfmiddlewaretoken": http.cookies.get("csrftoken", "")},
    )
    if answer.status_code != 302 or "sessionid" not in http.cookies:
        raise LabelStudioError(
            f"Logging in to Label Studio as {username} failed ({answer.status_code}); "
            "check the username and password",
            status=answer.status_code,
            retryable=False,
        )
    return str(http.cookies.get("csrftoken", ""))


def create_personal_access_token(
    url: str,
    username: str,
    password: str,
    *,
    replace_existing: bool = True,
    timeout: float = 30.0,
) -> str:
    """Create the user's personal access token through a session login; return it.

    Label Studio keeps one per user and answers 409 to a second create. With
    ``replace_existing`` the existing ones are revoked (blacklisted) and a new one is made;
    without it the 409 becomes an error that says what to do.
    """
    with httpx.Client(base_url=url.rstrip("/"), timeout=timeout) as http:
        csrf = {"X-CSRFToken": _session_login(http, username, password)}
        answer = http.post("/api/token/", headers=csrf)
        if answer.status_code == 409 and replace_existing:
            for existing in http.get("/api/token/").json():
                http.post("/api/token/blacklist/", json={"refresh": existing["token"]},
                          headers=csrf)
            answer = http.post("/api/token/", headers=csrf)
        if answer.status_code == 409:
            raise LabelStudioError(
                f"{username} already has a personal access token; revoke it in Label Studio "
                "(Account & Settings) or reuse it",
                status=409,
                retryable=False,
            )
        if answer.status_code != 201:
            raise LabelStudioError(
                f"Creating a personal access token failed ({answer.status_code})",
                status=answer.status_code,
                retryable=answer.status_code >= 500,
            )
        token: str = answer.json()["token"]
        return token
