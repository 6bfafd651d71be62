"""The one Label Studio client: the jobs, ``check``, the demo and the tests all use it.

Projects and tasks here; predictions in :mod:`~backend.labelstudio.predictions`, the admin's
calls in :mod:`~backend.labelstudio.admin`, and the connection with its error translation in
:mod:`~backend.labelstudio.connection`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, cast

from backend import defaults
from backend.errors import LabelStudioError
from backend.labelstudio.admin import Admin
from backend.labelstudio.connection import UNAUTHORIZED_HINT, is_personal_access_token
from backend.labelstudio.filters import id_range, task_filters
from backend.labelstudio.predictions import Predictions

__all__ = ["UNAUTHORIZED_HINT", "LabelStudioClient", "is_personal_access_token"]

#: Fields read per annotation: enough to train on and to tell skips from labels.
ANNOTATION_FIELDS = ("result", "was_cancelled", "completed_by", "ground_truth", "updated_at")


class LabelStudioClient(Predictions, Admin):
    """A Label Studio server seen through one API key (a personal access token or legacy token)."""

    # -- projects ---------------------------------------------------------------------------
    def get_project(self, project_id: int) -> dict[str, Any]:
        """The project's settings as Label Studio returns them (``model_version``, counts, ...).

        Label Studio counts the project's tasks for this answer (about a second at 10,000
        tasks); :meth:`project_fields` is the cheap way to read a few settings.
        """
        result: dict[str, Any] = self._raw("GET", f"api/projects/{project_id}", "reading the project", project_id)
        return result

    def project_fields(self, project_id: int, *fields: str) -> dict[str, Any]:
        """Only ``fields`` of the project (the project list with ``include``: no counting)."""
        answer = self._raw("GET", "api/projects/", "reading the project", project_id,
                           params={"ids": project_id, "include": ",".join(("id", *fields))})
        mine = [p for p in (answer or {}).get("results") or [] if p.get("id") == project_id]
        if not mine:
            raise LabelStudioError(f"Label Studio at {self.url} has no project {project_id} visible to this token; "
                                   "check the project id", status=404, retryable=False)
        return dict(mine[0])

    def find_project(self, title: str) -> int | None:
        """The id of the oldest project called exactly ``title``, if any."""
        answer = self._raw("GET", "api/projects/", "listing projects", params={"title": title, "page_size": 100})
        projects = answer.get("results", []) if isinstance(answer, dict) else answer or []
        ids = [int(p["id"]) for p in projects if p.get("title") == title]
        return min(ids) if ids else None

    def create_project(self, title: str, label_config: str) -> int:
        """Create a project; return its id. Label Studio requires a title of 3+ characters."""
        with self._calls("creating a project"):
            project = self._ls.projects.create(title=title, label_config=label_config)
        return int(cast(int, project.id))

    def set_model_version(self, project_id: int, version: str) -> None:
        """Make ``version`` the one whose predictions the Data Manager and sampling use.

        Label Studio accepts only a version that already has predictions (or an ML backend
        title), so push predictions first, then call this.
        """
        with self._calls(f"setting model_version {version!r}", project_id):
            self._ls.projects.update(project_id, model_version=version)

    def set_sampling(self, project_id: int, sampling: str = defaults.UNCERTAINTY_SAMPLING) -> None:
        """Set the labeling order of "Label All Tasks"; Uncertainty = lowest score first."""
        with self._calls(f"setting sampling {sampling!r}", project_id):
            self._ls.projects.update(project_id, sampling=sampling)

    # -- tasks ------------------------------------------------------------------------------
    def import_tasks(self, project_id: int, tasks: Sequence[Mapping[str, Any]]) -> list[int]:
        """Import tasks (each ``{"data": {...}}``) in one request; return their ids in order."""
        with self._calls("importing tasks", project_id):
            answer = self._ls.projects.import_tasks(project_id, request=cast(Any, list(tasks)), return_task_ids=True)
        return [int(i) for i in getattr(answer, "task_ids", None) or []]

    def iter_tasks(self, project_id: int, labeled: bool | None = None, *, page_size: int = 1000,
                   include: Sequence[str] | None = None, after_id: int = 0) -> Iterator[dict[str, Any]]:
        """Yield every task of the project in id order, reading page after page until none.

        ``labeled=True``: tasks with at least one annotation (skips included), each with
        ``id``, ``data`` and ``annotations`` (``id``, ``result``, ``was_cancelled``,
        ``completed_by``, ...). ``labeled=False``: tasks without any annotation, with ``id``
        and ``data``. ``None``: all tasks, with annotations. ``include`` replaces the field list.
        ``after_id``: only tasks with a higher id (the new ones, for a cached pool).
        """
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1; got {page_size}")
        with_annotations = labeled is not False
        fields = ["id", "data", "annotations", *ANNOTATION_FIELDS] if with_annotations else ["id", "data"]
        if include is not None:
            fields = list(include)
        after = int(after_id)
        while True:
            query = json.dumps({"filters": task_filters(labeled, after), "ordering": ["tasks:id"]})
            with self._calls("listing tasks", project_id):
                pager: Any = self._ls.tasks.list(project=project_id, page=1, page_size=page_size, query=query,
                                                 fields="all" if with_annotations else "task_only",
                                                 include=",".join(fields))
            page = [item.model_dump(mode="json", exclude_unset=True) for item in pager.items or []]
            if not page:
                return
            yield from page
            after = max(int(task["id"]) for task in page)

    def tasks_by_id(self, project_id: int, ids: Sequence[int], *, page_size: int = 1000) -> list[dict[str, Any]]:
        """The tasks ``ids`` (``id`` and ``data``), read as pages of the id range they span."""
        wanted = {int(i) for i in ids}
        if not wanted:
            return []
        found: list[dict[str, Any]] = []
        after, last = min(wanted) - 1, max(wanted)
        while after < last:
            query = json.dumps({"filters": id_range(after, last), "ordering": ["tasks:id"]})
            with self._calls("reading new tasks", project_id):
                pager: Any = self._ls.tasks.list(project=project_id, page=1, page_size=page_size, query=query,
                                                 fields="task_only", include="id,data")
            page = [item.model_dump(mode="json", exclude_unset=True) for item in pager.items or []]
            if not page:
                break
            found.extend(t for t in page if int(t["id"]) in wanted)
            after = max(int(t["id"]) for t in page)
        return found

    def tasks_in_view_order(self, view_id: int, *,
                            include: Sequence[str] = ("id", "predictions_score", "total_annotations"),
                            page_size: int = 1000, limit: int | None = None) -> list[dict[str, Any]]:
        """The tasks of a Data Manager tab in the tab's own order (first ``limit`` of them)."""
        tasks: list[dict[str, Any]] = []
        page = 1
        while limit is None or len(tasks) < limit:
            try:
                answer = self._raw("GET", "api/tasks/", "listing a Data Manager tab", params={
                    "view": view_id, "page": page, "page_size": page_size, "fields": "task_only",
                    "include": ",".join(include)})
            except LabelStudioError as exc:
                if exc.status == 404 and page > 1:  # a page past the end
                    break
                raise
            batch = answer.get("tasks") or []
            if not batch:
                break
            tasks.extend(batch)
            page += 1
        return tasks if limit is None else tasks[:limit]

    def create_annotation(self, task_id: int, result: Sequence[Mapping[str, Any]], *,
                          was_cancelled: bool = False) -> int:
        """Annotate a task as an annotator would (``was_cancelled`` = a skip); return its id."""
        with self._calls(f"annotating task {task_id}"):
            made = self._ls.annotations.create(task_id, result=[dict(r) for r in result], was_cancelled=was_cancelled)
        return int(cast(int, made.id))
