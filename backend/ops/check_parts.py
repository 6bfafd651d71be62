"""The parts ``ls-active check`` tests, one function each: what it saw, and the fix when it failed."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
import redis
from rq import Queue, Worker
from rq.worker import BaseWorker

from backend import defaults
from backend.errors import LabelStudioError
from backend.labelstudio.client import UNAUTHORIZED_HINT, LabelStudioClient
from backend.loop.scheduling import SERIALIZER
from backend.loop.state import ProjectState
from backend.settings import Settings

#: RQ expires a worker's key this long after its last heartbeat (worker_ttl 420 s + 60 s).
HEARTBEAT_LIMIT = 480.0
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
        workers = Worker.all(queue=Queue(name, connection=conn, serializer=SERIALIZER))
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


def label_studio_client(url: str, token: str) -> tuple[LabelStudioClient | None, Result]:
    """A client Label Studio accepts ``token`` from, or the failure saying why."""
    name = "Label Studio token"
    if not url or not token:
        return None, Result(name, False, "no Label Studio address or token configured",
                            "set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY, or pass --ls-url and --token")
    client = LabelStudioClient(url, token, timeout=TIMEOUT)
    kind = "personal access token" if client.personal_access_token else "legacy token"
    try:
        who = client.whoami()
    except LabelStudioError as exc:
        client.close()
        if exc.status == 401:
            fix = (f"{UNAUTHORIZED_HINT} A mistyped or revoked token fails the same way: copy it again from "
                   "Account & Settings.")
            return None, Result(name, False, f"{url} answered 401 to the configured {kind}", fix)
        if exc.status is None:
            return None, Result(name, False, f"{url} does not answer",
                                "start Label Studio, or fix LABEL_STUDIO_URL / --ls-url")
        return None, Result(name, False, f"{url} answered {exc.status} to whoami",
                            "check that LABEL_STUDIO_URL is Label Studio's address")
    return client, Result(name, True, f"{url} accepts the {kind} of {who.get('email') or who.get('username') or '?'}")


# -- one project ------------------------------------------------------------------------------

def check_connection(client: LabelStudioClient, project: int, backend_url: str) -> Result:
    mls = client.ml_backends(project)
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


def check_webhook(client: LabelStudioClient, project: int, backend_url: str, needs_auth: bool = False) -> Result:
    ours = [h for h in client.webhooks(project) if str(h.get("url", "")).startswith(backend_url)]
    if not ours:
        return Result("webhook", False, f"project {project} has no webhook to {backend_url}",
                      f"add one in Settings → Webhooks: URL {backend_url}/webhook, send payload, all events; "
                      "or remove and reconnect the model (Label Studio creates it when the model is "
                      "connected, if SSRF_PROTECTION_ENABLED=false for a private address)")
    if not any(h.get("is_active", True) for h in ours):
        return Result("webhook", False, f"the webhook {ours[0]['url']} is disabled",
                      "enable it in the project's Settings → Webhooks")
    if needs_auth and not any("Authorization" in (h.get("headers") or {}) for h in ours):
        return Result("webhook", False, f"the webhook {ours[0]['url']} sends no credentials, and the backend "
                      "requires basic auth: every label event is refused",
                      "give the ML backend the same basic-auth user and password in Settings → Model (the next "
                      "push then adds them to the webhook), or add an Authorization header in Settings → Webhooks")
    return Result("webhook", True, f"{ours[0]['url']} (active)")


def check_model_version(client: LabelStudioClient, project: int) -> Result:
    version = str(client.project_fields(project, "model_version").get("model_version") or "")
    if not version.startswith(defaults.OUR_VERSIONS):
        return Result("model_version", False, f"project {project} shows predictions of {version or 'nothing'!r}",
                      "the backend has not pushed scores yet: check the worker log and /health's last_error, "
                      "then press Start Training in Settings → Model")
    return Result("model_version", True, f"{version}")
