"""``ls-active check``: an admin's self-test of a running setup, one PASS or FAIL line per part.

Checks what the loop needs, in the order it needs it: Redis, a live RQ worker on the
backend's queues, the backend's ``/health``, Label Studio accepting the configured token,
and with ``--project``: the ML backend connection, the webhook to the backend, a recent
webhook event in the backend's own counters, and the project showing our predictions.
Every FAIL names the fix. The exit code is 0 only when every check passes.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import redis
from rq import Queue, Worker
from rq.worker import BaseWorker

from backend.errors import LsActiveError
from backend.labelstudio.client import UNAUTHORIZED_HINT
from backend.loop.state import ProjectState
from backend.settings import Settings

__all__ = ["Result", "add_parser", "main", "run"]

DEFAULT_BACKEND_URL = "http://127.0.0.1:9090"
#: RQ expires a worker's key this long after its last heartbeat (worker_ttl 420 s + 60 s).
HEARTBEAT_LIMIT = 480.0
VERSION_PREFIX = "ls-active-"
TIMEOUT = 10.0


@dataclass(frozen=True)
class Result:
    """One check: what was seen, and when it failed, what to do about it."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def lines(self) -> list[str]:
        head = f"{'PASS' if self.ok else 'FAIL'}  {self.name:<18} {self.detail}"
        return [head] if self.ok or not self.fix else [head, f"      fix: {self.fix}"]


def _masked(url: str) -> str:
    """The URL without its password, safe to print."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


# -- Redis and workers ------------------------------------------------------------------------

def check_redis(conn: redis.Redis, url: str) -> Result:
    try:
        info = conn.info("server")
    except (redis.RedisError, OSError) as exc:
        return Result("Redis", False, f"{_masked(url)} does not answer ({type(exc).__name__}: {exc})",
                      "start Redis, or set REDIS_URL (DATA_DIR for the embedded Redis of `ls-active serve`) "
                      "to the one the backend uses")
    return Result("Redis", True, f"{_masked(url)} answers (Redis {info.get('redis_version', '?')})")


def _alive(worker: BaseWorker) -> bool:
    """Heartbeat recent enough, and on this machine its process still exists."""
    beat = worker.last_heartbeat
    if beat is None:
        return False
    age = (datetime.now(UTC) - beat.replace(tzinfo=UTC)).total_seconds()
    if age > HEARTBEAT_LIMIT:
        return False
    if worker.hostname == socket.gethostname() and worker.pid:
        try:
            os.kill(worker.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
    return True


def check_workers(conn: redis.Redis, settings: Settings, this_host: bool = False) -> Result:
    """Every queue has a live worker (``this_host``: one running on this machine or container)."""
    host = socket.gethostname()
    served: dict[str, int] = {}
    for name in settings.queues:
        workers = Worker.all(queue=Queue(name, connection=conn))
        served[name] = sum(1 for w in workers if _alive(w) and (w.hostname == host or not this_host))
    missing = [name for name, n in served.items() if not n]
    if missing:
        where = f" on {host}" if this_host else ""
        return Result("RQ worker", False, f"no live worker{where} serves {', '.join(missing)}",
                      "start one with `ls-active worker` (or `ls-active serve`) using the same REDIS_URL "
                      "and queue names; jobs wait in the queue until then")
    busiest = max(served.values())
    return Result("RQ worker", True, f"{busiest} live worker(s) on {', '.join(served)}")


def check_events(state: ProjectState, project: int, max_age: float) -> Result:
    stamp = state.counters(project).get("last_event_at")
    if stamp is None:
        return Result("webhook events", False, f"the backend never received an event of project {project}",
                      "label or update a task; if the count stays at zero, Label Studio cannot reach the backend: "
                      "check the webhook URL, and ML_BLOCK_LOCAL_IP=false SSRF_PROTECTION_ENABLED=false "
                      "for a backend on a private or loopback address")
    age = time.time() - stamp
    if age > max_age:
        return Result("webhook events", False, f"last event {age / 3600:.1f} h ago (limit {max_age / 3600:.1f} h)",
                      "label a task and run check again; no new event means the webhook stopped reaching "
                      "the backend (see Label Studio's log for webhook errors)")
    return Result("webhook events", True, f"last event {age:.0f} s ago")


# -- HTTP: the backend and Label Studio -------------------------------------------------------

def check_backend(backend_url: str, settings: Settings) -> Result:
    auth = (settings.basic_auth_user, settings.basic_auth_pass) if settings.basic_auth else None
    try:
        answer = httpx.get(f"{backend_url}/health", auth=auth, timeout=TIMEOUT)
        body = answer.json() if answer.status_code == 200 else {}
    except (httpx.HTTPError, ValueError) as exc:
        return Result("backend /health", False, f"{backend_url} does not answer ({type(exc).__name__})",
                      "start it (`ls-active serve` or `ls-active web`) or pass --backend-url with its address")
    if answer.status_code != 200 or body.get("status") != "UP":
        fix = "set BASIC_AUTH_USER/BASIC_AUTH_PASS as the backend has them" if answer.status_code == 401 else (
            "see the backend's log")
        return Result("backend /health", False, f"{backend_url}/health answered {answer.status_code}", fix)
    if not body.get("redis"):
        return Result("backend /health", False, f"{backend_url} is up but cannot reach its Redis",
                      "give the backend and the workers the same working REDIS_URL")
    return Result("backend /health", True, f"{backend_url} is UP (version {body.get('version', '?')})")


def _is_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("ey")


def label_studio_client(url: str, token: str) -> tuple[httpx.Client | None, Result]:
    """A client authenticated as Label Studio accepts ``token``, or the failure saying why."""
    name = "Label Studio token"
    if not url or not token:
        return None, Result(name, False, "no Label Studio address or token configured",
                            "set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY, or pass --ls-url and --token")
    header = f"Token {token}"
    try:
        if _is_jwt(token):
            refreshed = httpx.post(f"{url}/api/token/refresh/", json={"refresh": token}, timeout=TIMEOUT)
            if refreshed.status_code != 200:
                return None, Result(name, False, f"{url} refused the personal access token ({refreshed.status_code})",
                                    "create a new personal access token (Account & Settings) and set it "
                                    "as LABEL_STUDIO_API_KEY")
            header = f"Bearer {refreshed.json()['access']}"
        client = httpx.Client(base_url=url, headers={"Authorization": header}, timeout=TIMEOUT)
        answer = client.get("/api/current-user/whoami")
    except httpx.HTTPError as exc:
        return None, Result(name, False, f"{url} does not answer ({type(exc).__name__})",
                            "start Label Studio, or fix LABEL_STUDIO_URL / --ls-url")
    if answer.status_code == 401:
        client.close()
        return None, Result(name, False, f"{url} answered 401 to the configured token",
                            f"{UNAUTHORIZED_HINT} A mistyped token fails the same way: copy it again from "
                            "Account & Settings.")
    if answer.status_code != 200:
        client.close()
        return None, Result(name, False, f"{url} answered {answer.status_code} to whoami",
                            "check that LABEL_STUDIO_URL is Label Studio's address")
    who = answer.json().get("email") or answer.json().get("username") or "?"
    kind = "personal access token" if _is_jwt(token) else "legacy token"
    return client, Result(name, True, f"{url} accepts the {kind} of {who}")


# -- one project --------------------------------------------------------------------------

def _get(client: httpx.Client, path: str, **params: Any) -> Any:
    answer = client.get(path, params=params)
    answer.raise_for_status()
    return answer.json()


def check_connection(client: httpx.Client, project: int, backend_url: str) -> Result:
    mls = _get(client, "/api/ml", project=project)
    ours = [m for m in mls if str(m.get("url", "")).rstrip("/").startswith(backend_url)]
    fix = (f"in the project's Settings → Model, connect {backend_url} (Label Studio must reach that address; "
           "pass --backend-url if the backend has another)")
    if not ours:
        found = ", ".join(str(m.get("url")) for m in mls) or "none"
        return Result("model connection", False, f"project {project} has no ML backend at {backend_url} "
                      f"(found: {found})", fix)
    state = ours[0].get("state")
    if state != "CO":
        return Result("model connection", False, f"the ML backend's state is {state}: "
                      f"{str(ours[0].get('error_message') or '')[:200]}", fix)
    return Result("model connection", True, f"ML backend {ours[0]['id']} connected (state CO)")


def check_webhook(client: httpx.Client, project: int, backend_url: str) -> Result:
    hooks = _get(client, "/api/webhooks/", project=project)
    ours = [h for h in hooks if str(h.get("url", "")).startswith(backend_url)]
    if not ours:
        return Result("webhook", False, f"project {project} has no webhook to {backend_url}",
                      f"add one in Settings → Webhooks: URL {backend_url}/webhook, send payload, all events; "
                      "or remove and reconnect the model (Label Studio creates it when the model is "
                      "connected, if SSRF_PROTECTION_ENABLED=false for a private address)")
    if not any(h.get("is_active", True) for h in ours):
        return Result("webhook", False, f"the webhook {ours[0]['url']} is disabled",
                      "enable it in the project's Settings → Webhooks")
    return Result("webhook", True, f"{ours[0]['url']} (active)")


def check_model_version(client: httpx.Client, project: int) -> Result:
    version = str(_get(client, f"/api/projects/{project}/").get("model_version") or "")
    if not version.startswith(VERSION_PREFIX):
        return Result("model_version", False, f"project {project} shows predictions of {version or 'nothing'!r}",
                      "the backend has not pushed scores yet: check the worker log and /health's last_error, "
                      "then press Start Training in Settings → Model")
    return Result("model_version", True, f"{version}")


def _project_checks(client: httpx.Client | None, project: int, backend_url: str) -> list[Result]:
    checks: list[tuple[str, Callable[[httpx.Client], Result]]] = [
        ("model connection", lambda c: check_connection(c, project, backend_url)),
        ("webhook", lambda c: check_webhook(c, project, backend_url)),
        ("model_version", lambda c: check_model_version(c, project)),
    ]
    results = []
    for name, check in checks:
        if client is None:
            results.append(Result(name, False, "not checked: Label Studio did not accept the token"))
            continue
        try:
            results.append(check(client))
        except httpx.HTTPStatusError as exc:
            results.append(Result(name, False, f"Label Studio answered {exc.response.status_code}",
                                  f"check that project {project} exists and the token's user can see it"))
        except httpx.HTTPError as exc:
            results.append(Result(name, False, f"Label Studio failed ({type(exc).__name__})", "retry"))
    return results


# -- the command -----------------------------------------------------------------------------

PARTS = ("redis", "worker", "backend", "label-studio", "project")


def _parts(spec: str) -> set[str]:
    chosen = {part.strip() for part in spec.split(",") if part.strip()} if spec else set(PARTS)
    unknown = chosen - set(PARTS)
    if unknown:
        raise LsActiveError(f"--only: unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
    return chosen


def collect(args: argparse.Namespace, settings: Settings) -> list[Result]:
    """Run the chosen checks; a part that cannot be reached fails the checks that need it."""
    from backend.loop.redis_server import connect, socket_path

    parts = _parts(args.only)
    url = settings.redis_url or f"unix://{socket_path(settings.data_dir)}"
    conn = connect(settings)
    backend_url = args.backend_url.rstrip("/")
    results: list[Result] = []
    redis_ok = False
    if parts & {"redis", "worker", "project"}:
        results.append(check_redis(conn, url))
        redis_ok = results[-1].ok
    if "worker" in parts:
        results.append(check_workers(conn, settings, this_host=args.this_host) if redis_ok
                       else Result("RQ worker", False, "not checked: no Redis"))
    if "backend" in parts:
        results.append(check_backend(backend_url, settings))
    client = None
    if parts & {"label-studio", "project"}:
        ls_url = (args.ls_url or settings.label_studio_url).rstrip("/")
        client, ls_result = label_studio_client(ls_url, args.token or settings.label_studio_api_key)
        results.append(ls_result)
    if "project" in parts and args.project is not None:
        results.extend(_project_checks(client, args.project, backend_url))
        results.append(check_events(ProjectState(conn), args.project, args.max_age) if redis_ok
                       else Result("webhook events", False, "not checked: no Redis"))
    if client is not None:
        client.close()
    return results


def run(args: argparse.Namespace) -> int:
    """Print one line per check; 0 when all pass, 1 when one fails, 2 on a usage problem."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per check, not per request
    try:
        results = collect(args, Settings.from_env())
    except LsActiveError as exc:
        print(f"ls-active check: {exc}", file=sys.stderr)
        return 2
    for result in results:
        print("\n".join(result.lines()), flush=True)
    failed = sum(not r.ok for r in results)
    print(f"{len(results) - failed} passed, {failed} failed", flush=True)
    return 0 if not failed else 1


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``check`` subcommand; its handler is ``args.func(args) -> exit code``."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "check", help="self-test a running setup: Redis, workers, backend, Label Studio, a project",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--project", type=int, help="also check this Label Studio project's connection")
    p.add_argument("--only", default="", help=f"comma list of parts to check: {', '.join(PARTS)} (default: all)")
    p.add_argument("--this-host", action="store_true",
                   help="count only workers running on this machine (a worker container's health check)")
    p.add_argument("--backend-url", default=DEFAULT_BACKEND_URL,
                   help=f"the backend's address as Label Studio knows it (default {DEFAULT_BACKEND_URL})")
    p.add_argument("--ls-url", default="", help="Label Studio's address (default: LABEL_STUDIO_URL)")
    p.add_argument("--token", default="", help="an API token (default: LABEL_STUDIO_API_KEY)")
    p.add_argument("--max-age", type=float, default=86400.0,
                   help="seconds since the project's last webhook event still counted as recent (default 1 day)")
    p.set_defaults(func=run)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m backend.ops.check ...``: the same command outside the ``ls-active`` CLI."""
    from backend.cli import run_subcommand

    return run_subcommand("check", argv)


if __name__ == "__main__":
    sys.exit(main())
