"""The demo's project in Label Studio: found by title or created, connected, then awaited.

Plain HTTP with the admin's legacy token: these are one-off admin calls (list projects,
webhooks, ML backends) that the jobs' :class:`~backend.labelstudio.client.LabelStudioClient` does
not need. Every step is idempotent so a second ``ls-active demo`` reuses what the first made.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from backend.errors import LabelStudioError
from backend.labelstudio.client import QUEUE_VIEW_TITLE, UNCERTAINTY_SAMPLING

#: Our prediction versions all start with this (cold start and trained models alike).
VERSION_PREFIX = "ls-active-"
ML_BACKEND_TITLE = "ls-active"


@dataclass(frozen=True)
class Readiness:
    """What the demo waits for after connecting; ``ready`` when every part holds."""

    model_version: str
    scored: int
    tasks: int
    sampling: str
    queue_view: int | None

    @property
    def ready(self) -> bool:
        return (self.model_version.startswith(VERSION_PREFIX) and self.scored >= self.tasks > 0
                and self.sampling == UNCERTAINTY_SAMPLING and self.queue_view is not None)

    def describe(self) -> str:
        return (f"model_version={self.model_version or '-'}, scored {self.scored}/{self.tasks}, "
                f"sampling={self.sampling!r}, queue tab {'present' if self.queue_view else 'missing'}")


class DemoProject:
    """One Label Studio seen through an admin token; a context manager closing its client."""

    def __init__(self, url: str, token: str, timeout: float = 120.0) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url, headers={"Authorization": f"Token {token}"}, timeout=timeout)

    def __enter__(self) -> DemoProject:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call; an error status becomes a :class:`LabelStudioError` quoting the answer."""
        answer = self.http.request(method, path, **kwargs)
        if answer.status_code >= 400:
            raise LabelStudioError(f"Label Studio answered {answer.status_code} to {method} {path}: "
                                   f"{answer.text[:300]}", status=answer.status_code,
                                   retryable=answer.status_code >= 500)
        return answer.json() if answer.content else None

    # -- project ------------------------------------------------------------------------------
    def find_project(self, title: str) -> int | None:
        """The id of the oldest project called exactly ``title``, if any."""
        answer = self.call("GET", "/api/projects/", params={"title": title, "page_size": 100})
        projects = answer.get("results", []) if isinstance(answer, dict) else answer
        ids = [int(p["id"]) for p in projects if p.get("title") == title]
        return min(ids) if ids else None

    def ensure_project(self, title: str, label_config: str, tasks: list[dict[str, Any]]) -> tuple[int, int]:
        """Reuse or create the project; import ``tasks`` only into an empty one.

        Returns the project id and how many tasks this call imported (0 when reused).
        """
        project = self.find_project(title)
        if project is None:
            made = self.call("POST", "/api/projects/", json={"title": title, "label_config": label_config})
            project = int(made["id"])
        if self.call("GET", f"/api/projects/{project}/").get("task_number", 0):
            return project, 0
        answer = self.call("POST", f"/api/projects/{project}/import", params={"return_task_ids": "true"},
                           json=tasks, timeout=600.0)
        return project, int(answer.get("task_count", len(tasks)))

    # -- backend ------------------------------------------------------------------------------
    def ensure_backend(self, project: int, backend_url: str) -> int:
        """Connect the backend at ``backend_url`` once; replace one left at another address.

        Label Studio creates the backend's webhook only when the ML backend is created, so a
        backend that moved (another port) is deleted with its webhook and connected anew.
        """
        backend_url = backend_url.rstrip("/")
        for ml in self.call("GET", "/api/ml", params={"project": project}):
            if str(ml.get("url", "")).rstrip("/") == backend_url:
                self._ensure_webhook(project, backend_url)
                return int(ml["id"])
            if ml.get("title") == ML_BACKEND_TITLE:
                self.call("DELETE", f"/api/ml/{ml['id']}")
                self._delete_webhooks(project, str(ml.get("url", "")).rstrip("/"))
        made = self.call("POST", "/api/ml", json={"project": project, "url": backend_url, "title": ML_BACKEND_TITLE})
        self._ensure_webhook(project, backend_url)
        return int(made["id"])

    def webhooks(self, project: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.call("GET", "/api/webhooks/", params={"project": project})
        return found

    def _ensure_webhook(self, project: int, backend_url: str) -> None:
        url = f"{backend_url}/webhook"
        if not any(w.get("url") == url for w in self.webhooks(project)):
            self.call("POST", "/api/webhooks/", json={"project": project, "url": url, "send_payload": True,
                                                      "send_for_all_actions": True})

    def _delete_webhooks(self, project: int, backend_url: str) -> None:
        for hook in self.webhooks(project):
            if hook.get("url") == f"{backend_url}/webhook":
                self.call("DELETE", f"/api/webhooks/{hook['id']}/")

    # -- readiness ----------------------------------------------------------------------------
    def queue_view(self, project: int) -> int | None:
        for view in self.call("GET", "/api/dm/views/", params={"project": project}):
            if (view.get("data") or {}).get("title") == QUEUE_VIEW_TITLE:
                return int(view["id"])
        return None

    def readiness(self, project: int) -> Readiness:
        info = self.call("GET", f"/api/projects/{project}/")
        version = str(info.get("model_version") or "")
        counts = self.call("GET", f"/api/projects/{project}/model-versions/") or {}
        scored = int(counts.get(version, 0)) if isinstance(counts, dict) else 0
        tasks = int(info.get("task_number") or 0) - int(info.get("num_tasks_with_annotations") or 0)
        return Readiness(version, scored, tasks, str(info.get("sampling") or ""), self.queue_view(project))

    def wait_ready(self, project: int, timeout: float, alive: Callable[[], str | None]) -> Readiness:
        """Poll until the project is ready; ``alive`` names a dead child process, if any."""
        deadline = time.monotonic() + timeout
        state = self.readiness(project)
        while not state.ready:
            problem = alive()
            if problem:
                raise LabelStudioError(f"{problem} while waiting for the project to be scored", retryable=False)
            if time.monotonic() > deadline:
                raise LabelStudioError(f"project {project} was not ready within {timeout:.0f} s ({state.describe()}); "
                                       "see the backend log in the demo folder", retryable=False)
            time.sleep(1.0)
            state = self.readiness(project)
        return state
