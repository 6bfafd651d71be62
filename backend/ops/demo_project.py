"""The demo's project in Label Studio: found by title or created, connected, then awaited.

Through the one Label Studio client with the admin's legacy token. Every step is idempotent
so a second ``ls-active demo`` reuses what the first made.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend import defaults
from backend.errors import LabelStudioError
from backend.labelstudio.client import LabelStudioClient


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
        return (self.model_version.startswith(defaults.OUR_VERSIONS) and self.scored >= self.tasks > 0
                and self.sampling == defaults.UNCERTAINTY_SAMPLING and self.queue_view is not None)

    def describe(self) -> str:
        return (f"model_version={self.model_version or '-'}, scored {self.scored}/{self.tasks}, "
                f"sampling={self.sampling!r}, queue tab {'present' if self.queue_view else 'missing'}")


class DemoProject:
    """The demo's calls to one Label Studio; a context manager closing its client."""

    def __init__(self, url: str, token: str) -> None:
        self.client = LabelStudioClient(url, token, timeout=600.0)

    def __enter__(self) -> DemoProject:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def ensure_project(self, title: str, label_config: str, tasks: list[dict[str, Any]]) -> tuple[int, int]:
        """Reuse or create the project; import ``tasks`` only into an empty one.

        Returns the project id and how many tasks this call imported (0 when reused).
        """
        project = self.client.find_project(title)
        if project is None:
            project = self.client.create_project(title, label_config)
        if self.client.project_fields(project, "task_number").get("task_number"):
            return project, 0
        return project, len(self.client.import_tasks(project, tasks))

    def ensure_backend(self, project: int, backend_url: str) -> int:
        """Connect the backend at ``backend_url`` once; replace one left at another address.

        Label Studio creates the backend's webhook only when the ML backend is created, so a
        backend that moved (another port) is deleted with its webhook and connected anew.
        """
        backend_url = backend_url.rstrip("/")
        for ml in self.client.ml_backends(project):
            if str(ml.get("url", "")).rstrip("/") == backend_url:
                self._ensure_webhook(project, backend_url)
                return int(ml["id"])
            if ml.get("title") == defaults.ML_BACKEND_TITLE:
                self.client.delete_ml_backend(int(ml["id"]))
                self._delete_webhooks(project, str(ml.get("url", "")).rstrip("/"))
        made = self.client.add_ml_backend(project, backend_url)
        self._ensure_webhook(project, backend_url)
        return int(made["id"])

    def _ensure_webhook(self, project: int, backend_url: str) -> None:
        url = f"{backend_url}/webhook"
        if not any(w.get("url") == url for w in self.client.webhooks(project)):
            self.client.add_webhook(project, url)

    def _delete_webhooks(self, project: int, backend_url: str) -> None:
        for hook in self.client.webhooks(project):
            if hook.get("url") == f"{backend_url}/webhook":
                self.client.delete_webhook(int(hook["id"]))

    def readiness(self, project: int) -> Readiness:
        info = self.client.project_fields(project, "model_version", "task_number", "num_tasks_with_annotations",
                                          "sampling")
        version = str(info.get("model_version") or "")
        scored = self.client.list_prediction_versions(project).get(version, 0)
        tasks = int(info.get("task_number") or 0) - int(info.get("num_tasks_with_annotations") or 0)
        return Readiness(version, scored, tasks, str(info.get("sampling") or ""), self.client.find_view(project))

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
