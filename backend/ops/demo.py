"""``ls-active demo``: Label Studio, the backend and a scored project on this machine, in one command.

Installs Label Studio 1.23 into its own virtualenv once (cached), starts it on 127.0.0.1 with
the settings a local backend needs, creates an admin user, a project with a few thousand texts,
starts the backend as ``ls-active serve`` does (web server, one worker, embedded Redis),
connects it, waits for the cold-start scores, and prints the address to open and the login.
Everything lives in one folder (``--dir``), so a second run reuses the user, the project and
the models. Ctrl-C stops everything it started.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import redis

from backend.errors import LsActiveError
from backend.labelstudio.install import LABEL_STUDIO_VERSION, ensure_label_studio, venv_path
from backend.labelstudio.local import LocalLabelStudio
from backend.loop.redis_server import socket_path
from backend.ops.demo_data import DemoData, load_demo_data
from backend.ops.demo_project import DemoProject

__all__ = ["add_parser", "run"]

STATE_FILE = "demo.json"
DEFAULT_LS_PORT = 8080
DEFAULT_BACKEND_PORT = 9090
#: The cold start scores 3,000 texts in seconds; the rest is Label Studio importing predictions.
READY_TIMEOUT = 600.0
BACKEND_START_TIMEOUT = 90.0


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def choose_port(given: int | None, remembered: int | None, default: int) -> int:
    """``given`` as is; else the port of the last run or ``default`` when free; else any free port."""
    if given:
        return given
    for candidate in (remembered, default):
        if candidate and _port_free(candidate):
            return candidate
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _read_state(folder: Path) -> dict[str, Any]:
    try:
        loaded = json.loads((folder / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _say(message: str) -> None:
    print(message, flush=True)


class _Stop(Exception):
    """SIGTERM, turned into an exception so the same cleanup runs as for Ctrl-C."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


class Backend:
    """``ls-active serve`` as a child process in its own process group, its output in a log file."""

    def __init__(self, folder: Path, port: int, ls: LocalLabelStudio) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = folder / "backend.log"
        self.redis_socket = socket_path(folder / "backend")
        # Its own Redis, models and Label Studio under the demo folder, and no basic auth (the
        # project's connection has none), whatever the shell's environment says.
        env = {k: v for k, v in os.environ.items()
               if k not in ("REDIS_URL", "MODEL_DIR", "BASIC_AUTH_USER", "BASIC_AUTH_PASS")}
        env.update(DATA_DIR=str(folder / "backend"), LABEL_STUDIO_URL=ls.url, LABEL_STUDIO_API_KEY=ls.token)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "backend.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )

    def problem(self) -> str | None:
        code = self.process.poll()
        return None if code is None else f"the backend exited (code {code}); see {self.log_path}"

    def wait_healthy(self, timeout: float = BACKEND_START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.problem():
                raise LsActiveError(str(self.problem()))
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health", timeout=2.0).status_code == 200:
                    return
            time.sleep(0.3)
        raise LsActiveError(f"the backend did not answer {self.url}/health within {timeout:.0f} s; "
                            f"see {self.log_path}")

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM ``serve`` (it stops gunicorn, the worker and Redis), then stop what lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        # The embedded Redis runs in its own process group; a killed ``serve`` cannot stop it. It
        # belongs to this demo folder alone, so shutting it down (with a save) is safe.
        with contextlib.suppress(redis.RedisError, OSError):
            redis.Redis(unix_socket_path=str(self.redis_socket), socket_connect_timeout=1).shutdown(save=True)


def _ensure_installed() -> Path:
    if not (venv_path() / "bin" / "label-studio").exists():
        _say(f"installing Label Studio {LABEL_STUDIO_VERSION} into {venv_path()} (once; a few minutes)")
    return ensure_label_studio()


@contextlib.contextmanager
def _running(args: argparse.Namespace, folder: Path) -> Iterator[tuple[LocalLabelStudio, Backend]]:
    """Label Studio and the backend, both stopped on leaving, whatever the reason."""
    remembered = _read_state(folder)
    executable = _ensure_installed()
    ls = LocalLabelStudio(folder / "label-studio", executable=executable,
                          port=choose_port(args.ls_port, remembered.get("ls_port"), DEFAULT_LS_PORT))
    port = choose_port(args.port, remembered.get("backend_port"), DEFAULT_BACKEND_PORT)
    if port == ls.port:
        raise LsActiveError(f"Label Studio and the backend cannot share port {port}; pass --port or --ls-port")
    backend = Backend(folder, port, ls)
    try:
        _say(f"backend: {backend.url} (log {backend.log_path})")
        _say(f"Label Studio: starting on {ls.url} (a first start creates its database: 30 s to 3 min; "
             f"log {ls.log_path})")
        ls_started = time.monotonic()
        ls.start()
        _say(f"Label Studio: answered after {time.monotonic() - ls_started:.1f} s")
        backend.wait_healthy()
        yield ls, backend
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _say("stopping the backend and Label Studio ...")
        backend.stop()
        ls.stop()
        _say("stopped")


def _prepare(ls: LocalLabelStudio, backend: Backend, data: DemoData, args: argparse.Namespace,
             started: float) -> tuple[int, str]:
    """Project, connection and cold start; returns the project id and the address to open."""
    title = f"ls-active demo ({data.name})"[:50]
    with DemoProject(ls.url, ls.token) as api:
        project, imported = api.ensure_project(title, data.label_config, data.tasks())
        _say(f'project "{title}" (id {project}): ' + (f"imported {imported} texts" if imported else "reused"))
        api.ensure_backend(project, backend.url)
        _say("backend connected" + ("" if args.no_wait else "; waiting until every task has its score ..."))
        if not args.no_wait:
            api.wait_ready(project, READY_TIMEOUT, backend.problem)
        view = api.client.find_view(project)
    url = f"{ls.url}/projects/{project}/data" + (f"?tab={view}" if view else "")
    _say(f"ready in {time.monotonic() - started:.1f} s: open {url}")
    _say(f"  login: {ls.username}  password: {ls.password}")
    return project, url


def run(args: argparse.Namespace) -> int:
    """The whole demo; 0 after a clean Ctrl-C, 1 when a child died, 2 on a problem to fix."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the readiness polls would flood the terminal
    started = time.monotonic()
    folder = Path(args.dir).expanduser().resolve()
    signal.signal(signal.SIGTERM, _raise_stop)
    # Ctrl-C stops the demo even when its shell started it with SIGINT ignored (in the background)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        data = load_demo_data(args.data, text_column=args.text_column, label_column=args.label_column,
                              labels=args.labels, limit=args.limit)
        folder.mkdir(parents=True, exist_ok=True)
        _say(f"ls-active demo: folder {folder}, {len(data.texts)} texts from {data.name}")
        if data.credit:
            _say(data.credit)
        with _running(args, folder) as (ls, backend):
            project, url = _prepare(ls, backend, data, args, started)
            (folder / STATE_FILE).write_text(json.dumps({
                "ls_port": ls.port, "backend_port": int(backend.url.rsplit(":", 1)[1]), "project": project,
                "label_studio_url": ls.url, "backend_url": backend.url, "open": url}, indent=2))
            _say("Ctrl-C stops Label Studio and the backend.")
            while True:
                problem = backend.problem() or (None if ls.running else "Label Studio exited")
                if problem:
                    print(f"ls-active demo: {problem}", file=sys.stderr, flush=True)
                    return 1
                time.sleep(0.5)
    except (KeyboardInterrupt, _Stop):
        return 0
    except LsActiveError as exc:
        print(f"ls-active demo: {exc}", file=sys.stderr, flush=True)
        return 2


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``demo`` subcommand; its handler is ``args.func(args) -> exit code``."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "demo", help="Label Studio + the backend + a scored project on this machine, in one command",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", default="demo-data", help="folder for Label Studio's and the backend's data "
                                                     "(default ./demo-data; reused by the next run)")
    p.add_argument("--data", type=Path, help="CSV (header row) or JSON list of texts, or a CoNLL file of tagged "
                                             "sentences for a named-entity project (default: trec6.csv beside "
                                             "the repository, else a bundled sample)")
    p.add_argument("--text-column", default="text", help="column holding the text (default: text)")
    p.add_argument("--label-column", help="column whose distinct values become the classes (default: label)")
    p.add_argument("--labels", help="the classes as a comma list, instead of --label-column")
    p.add_argument("--limit", type=int, default=3000, help="number of texts to import (default 3000)")
    p.add_argument("--ls-port", type=int, help=f"Label Studio's port (default {DEFAULT_LS_PORT}, or a free one)")
    p.add_argument("--port", type=int, help=f"the backend's port (default {DEFAULT_BACKEND_PORT}, or a free one)")
    p.add_argument("--no-wait", action="store_true", help="print the address without waiting for the scores")
    p.set_defaults(func=run)
    return p
