"""Predictions: bulk import, the project's versions, and deleting one prediction at a time."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, cast

from backend import defaults
from backend.errors import LabelStudioError
from backend.labelstudio.connection import Connection
from backend.labelstudio.filters import with_version


class Predictions(Connection):
    def import_predictions(self, project_id: int, predictions: Sequence[Mapping[str, Any]], *,
                           max_per_request: int = defaults.MAX_PREDICTIONS_PER_REQUEST) -> int:
        """Bulk-create predictions (``task``, ``result``, ``score``, ``model_version``).

        One request per call up to ``max_per_request``, never retried here (a retry after a
        lost answer could duplicate the predictions). Label Studio silently drops a
        prediction whose result does not fit the labeling config (an unknown choice, a wrong
        ``from_name``), so the count it reports is checked against what was sent. Not
        idempotent: a repeated call adds the predictions again.
        """
        if max_per_request < 1:
            raise ValueError(f"max_per_request must be at least 1; got {max_per_request}")
        created = 0
        for start in range(0, len(predictions), max_per_request):
            chunk = [dict(p) for p in predictions[start:start + max_per_request]]
            with self._calls("importing predictions", project_id):
                answer = self._ls.projects.import_predictions(project_id, request=cast(Any, chunk),
                                                              request_options={"max_retries": 0})
            made = int(getattr(answer, "created", 0) or 0)
            created += made
            if made != len(chunk):
                raise LabelStudioError(
                    f"Label Studio created {made} of {len(chunk)} predictions for project {project_id}: it drops "
                    "predictions whose result does not match the labeling config (unknown choice or wrong "
                    "from_name/to_name); check the project's label config against the model's labels",
                    retryable=False)
        return created

    def create_prediction(self, project_id: int, prediction: Mapping[str, Any]) -> int:
        """Create one prediction (``task``, ``result``, ``score``, ``model_version``); its id.

        ``POST /api/predictions`` counts and saves only its own task, where a bulk import
        recounts every task of the project: the way to write a few predictions into a large
        project. Label Studio does not validate the result here, so only results built from
        the project's own config may come this way. Never retried (a retry after a lost
        answer would create the prediction twice).
        """
        body = {"project": project_id,
                **{k: prediction[k] for k in ("task", "result", "score", "model_version") if k in prediction}}
        answer = self._raw("POST", "api/predictions/", "creating a prediction", project_id, json=body,
                           request_options={"max_retries": 0})
        return int(answer["id"])

    def list_prediction_versions(self, project_id: int) -> dict[str, int]:
        """Each prediction version in the project and how many predictions it has."""
        answer = self._raw("GET", f"api/projects/{project_id}/model-versions/", "listing prediction versions",
                           project_id)
        if isinstance(answer, dict):
            return {str(k): int(v) for k, v in answer.items()}
        return {str(v): 0 for v in answer or []}

    def predictions_of(self, task_id: int) -> list[dict[str, Any]]:
        """Every prediction of one task (all versions)."""
        answer = self._raw("GET", "api/predictions/", f"listing the predictions of task {task_id}",
                           params={"task": task_id})
        return list(answer or [])

    def prediction_ids(self, project_id: int, version: str, *, page_size: int = 500) -> Iterator[list[int]]:
        """The ids of ``version``'s predictions, one page of tasks at a time, in task id order.

        Read through the Data Manager (tasks whose predictions include ``version``), so each
        page is one short read however large the project is.
        """
        for page in self._version_pages(project_id, version, page_size):
            yield [prediction for _, prediction in page]

    def version_predictions(self, project_id: int, version: str, *,
                            page_size: int = 500) -> Iterator[tuple[int, int]]:
        """(task id, prediction id) of every prediction of ``version``, in task id order."""
        for page in self._version_pages(project_id, version, page_size):
            yield from page

    def _version_pages(self, project_id: int, version: str, page_size: int) -> Iterator[list[tuple[int, int]]]:
        after = 0
        while True:
            query = json.dumps({"filters": with_version(version, after), "ordering": ["tasks:id"]})
            answer = self._raw("GET", "api/tasks/", f"listing predictions of {version!r}", project_id,
                               params={"project": project_id, "page": 1, "page_size": page_size,
                                       "fields": "all", "include": "id,predictions", "query": query})
            tasks = (answer.get("tasks") or []) if isinstance(answer, dict) else []
            if not tasks:
                return
            yield [(int(t["id"]), int(p["id"])) for t in tasks for p in t.get("predictions") or []
                   if p.get("model_version") == version]
            after = max(int(t["id"]) for t in tasks)

    def delete_prediction(self, prediction_id: int) -> bool:
        """Delete one prediction; False when it was already gone.

        One short write in Label Studio's database. Deleting a whole version at once
        (``DELETE /api/projects/{id}/model-versions/``) holds Label Studio's SQLite for about
        6 ms per prediction in one transaction, and other requests wait for it.
        """
        try:
            self._raw("DELETE", f"api/predictions/{int(prediction_id)}/", f"deleting prediction {prediction_id}")
        except LabelStudioError as exc:
            if exc.status == 404:
                return False
            raise
        return True
