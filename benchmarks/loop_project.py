"""A Label Studio project as the loop benchmark drives it: import, connect, annotate, watch.

Annotations go through Label Studio's API as an annotator's would, so Label Studio sends its
webhook to the backend inside the request; "fresh" is judged only from what Label Studio
serves: the project's ``model_version`` and the Data Manager's order by prediction score.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import requests

from backend.labelstudio.client import LabelStudioClient
from benchmarks.loop_data import LABEL_CONFIG, Rows

#: Tasks of the Data Manager's first page checked for fresh scores.
HEAD = 50
#: Of those, how many have their prediction read back to confirm its version.
CONFIRMED = 3
#: Tasks per import request when creating a project.
IMPORT_CHUNK = 10_000


def choice(label: str) -> list[dict[str, Any]]:
    return [{"from_name": "label", "to_name": "text", "type": "choices", "value": {"choices": [label]}}]


class LsHttp:
    """Plain, light HTTP calls for polling (one keep-alive session)."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.session.request(method, f"{self.url}/{path.lstrip('/')}", timeout=120, **kwargs)
        if answer.status_code >= 400:
            raise RuntimeError(f"Label Studio answered {method} {path} with {answer.status_code}: {answer.text[:300]}")
        return answer.json() if answer.content else None

    def model_version(self, project: int) -> str:
        """The project's ``model_version`` through the project list restricted to two fields.

        ``GET /api/projects/{id}`` also counts the project's tasks and annotations: over a second of
        Label Studio's time per call at 10,000 tasks here, so polling it would slow the pushes it watches.
        """
        answer = self.call("GET", "api/projects/", params={"ids": project, "include": "id,model_version"})
        mine = [p for p in answer.get("results") or [] if p.get("id") == project]
        if not mine:
            raise RuntimeError(f"Label Studio lists no project {project} for this token")
        return str(mine[0].get("model_version") or "")

    def queue_head(self, project: int, size: int = HEAD) -> list[dict[str, Any]]:
        """The first unlabeled tasks in the Data Manager's order by prediction score, ascending."""
        query = {"filters": {"conjunction": "and", "items": [
            {"filter": "filter:tasks:total_annotations", "operator": "equal", "type": "Number", "value": 0}]},
            "ordering": ["tasks:predictions_score"]}
        answer = self.call("GET", "api/tasks", params={
            "project": project, "page": 1, "page_size": size, "fields": "task_only",
            "include": "id,predictions_score,total_annotations", "query": json.dumps(query)})
        return list(answer.get("tasks") or [])

    def predictions_of(self, task: int) -> list[dict[str, Any]]:
        return list(self.call("GET", "api/predictions/", params={"task": task}) or [])

    def fresh(self, project: int, version: str, size: int = HEAD) -> bool:
        """Label Studio serves ``version``: it is the project's, and the first ``size`` tasks of
        the queue are ordered by its scores."""
        if self.model_version(project) != version:
            return False
        head = self.queue_head(project, size)
        if not head or any(t.get("predictions_score") is None for t in head):
            return False
        scores = [float(t["predictions_score"]) for t in head]
        if scores != sorted(scores):
            return False
        for task, score in zip(head[:CONFIRMED], scores[:CONFIRMED], strict=False):
            mine = [p for p in self.predictions_of(int(task["id"])) if p.get("model_version") == version]
            if len(mine) != 1 or abs(float(mine[0]["score"]) - score) > 1e-6:
                return False
        return True

    def wait_fresh(self, project: int, version: str, timeout: float, interval: float = 0.1, size: int = HEAD,
                   also: Callable[[], bool] = lambda: True) -> float:
        """Poll until :meth:`fresh` (and ``also``); return the wall-clock instant it first was."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if also() and self.fresh(project, version, size):
                return time.time()
            time.sleep(interval)
        raise TimeoutError(f"Label Studio did not serve {version} for project {project} within {timeout:.0f} s")

    def connect_backend(self, project: int, url: str) -> None:
        made = self.call("POST", "api/ml", json={"url": url, "project": project, "title": "ls-active"})
        if made.get("state") != "CO":
            raise RuntimeError(f"connecting the backend failed: {made}")

    def delete_project(self, project: int) -> None:
        self.call("DELETE", f"api/projects/{project}")


@dataclass
class LoopProject:
    """A project's unlabeled pool with the true labels, and which tasks the benchmark labeled."""

    id: int
    pool: list[int]
    gold: dict[int, str]
    seed_labels: int
    labeled: set[int] = field(default_factory=set)
    order: list[int] = field(default_factory=list)

    @classmethod
    def create(cls, client: LabelStudioClient, title: str, seed: Rows, pool: Rows, random_seed: int) -> LoopProject:
        """``seed`` tasks already annotated, then the unlabeled ``pool``, in imports of at most
        :data:`IMPORT_CHUNK` tasks (one request of 100,000 outlasts the client's timeout)."""
        project = client.create_project(title, LABEL_CONFIG.read_text())
        tasks: list[dict[str, Any]] = [{"data": {"text": t}, "annotations": [{"result": choice(label)}]}
                                       for t, label in zip(seed.texts, seed.labels, strict=True)]
        tasks += [{"data": {"text": t}} for t in pool.texts]
        ids = [i for start in range(0, len(tasks), IMPORT_CHUNK)
               for i in client.import_tasks(project, tasks[start:start + IMPORT_CHUNK])]
        if len(ids) != len(tasks):
            raise RuntimeError(f"Label Studio imported {len(ids)} of {len(tasks)} tasks into project {project}")
        pool_ids = ids[len(seed.texts):]
        order = [int(i) for i in np.random.default_rng(random_seed).permutation(pool_ids)]
        return cls(project, pool_ids, dict(zip(pool_ids, pool.labels, strict=True)), len(seed.texts), order=order)

    def annotate(self, client: LabelStudioClient, n: int) -> float:
        """Label the next ``n`` pool tasks (a fixed random order) with their true labels.

        Returns the wall-clock instant the last annotation's request returned.
        """
        done = time.time()
        for _ in range(n):
            task = next(t for t in self.order if t not in self.labeled)
            client.create_annotation(task, choice(self.gold[task]))
            done = time.time()
            self.labeled.add(task)
        return done

    @property
    def unlabeled(self) -> int:
        return len(self.pool) - len(self.labeled)
