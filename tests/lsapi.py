"""Plain HTTP calls to Label Studio for assertions: what an admin or annotator would see."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

import requests

T = TypeVar("T")


class LsApi:
    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"

    def call(self, method: str, path: str, expect: int | tuple[int, ...] = (200, 201, 204), **kw: Any) -> Any:
        answer = self.session.request(method, f"{self.url}/{path.lstrip('/')}", timeout=120, **kw)
        codes = (expect,) if isinstance(expect, int) else expect
        if answer.status_code not in codes:
            raise AssertionError(f"{method} {path} -> {answer.status_code}: {answer.text[:500]}")
        return answer.json() if answer.content else None

    def project(self, project: int) -> dict[str, Any]:
        result: dict[str, Any] = self.call("GET", f"api/projects/{project}")
        return result

    def connect_backend(self, project: int, url: str, **extra: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.call("POST", "api/ml", json={"url": url, "project": project,
                                                                   "title": "ls-active", **extra})
        return result

    def retrieve_predictions(self, project: int) -> Any:
        """The Data Manager action "Retrieve Predictions" over every task of the project."""
        return self.call("POST", f"api/dm/actions?id=retrieve_tasks_predictions&project={project}",
                         json={"selectedItems": {"all": True, "excluded": []}})

    def predictions(self, project: int) -> dict[int, list[dict[str, Any]]]:
        """Every prediction of the project, grouped by task."""
        by_task: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for p in self.call("GET", f"api/predictions/?project={project}"):
            by_task[int(p["task"])].append(p)
        return by_task

    def tasks(self, project: int, query: dict[str, Any] | None = None, include: str = "id,total_annotations",
              ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        page = 1
        while True:
            params: dict[str, Any] = {"project": project, "page": page, "page_size": 1000,
                                      "fields": "task_only", "include": include}
            if query is not None:
                params["query"] = json.dumps(query)
            answer = self.session.get(f"{self.url}/api/tasks", params=params, timeout=120)
            if answer.status_code == 404:
                break
            answer.raise_for_status()
            batch = answer.json()["tasks"]
            out.extend(batch)
            if len(batch) < 1000:
                break
            page += 1
        return out

    def unlabeled_by_score(self, project: int) -> list[dict[str, Any]]:
        """Unlabeled tasks as the Data Manager orders them by prediction score, ascending."""
        query = {"filters": {"conjunction": "and", "items": [
            {"filter": "filter:tasks:total_annotations", "operator": "equal", "type": "Number", "value": 0}]},
            "ordering": ["tasks:predictions_score"]}
        return self.tasks(project, query, include="id,predictions_score,total_annotations")

    def next_task(self, project: int) -> dict[str, Any]:
        result: dict[str, Any] = self.call("GET", f"api/projects/{project}/next/")
        return result


def wait_until(check: Callable[[], T | None], timeout: float, what: str, interval: float = 0.5) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")
