"""The few Label Studio calls the retrain and rescore jobs make, over label-studio-sdk 2.x.

Every failure becomes a :class:`~backend.errors.LabelStudioError` that says whether retrying
can help and what the user should change; the API key never appears in any message or repr.
Calls the SDK does not offer (the project's prediction versions) go through the SDK's own
HTTP client, so authentication, token refresh and retries stay in one place.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, cast

import httpx
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from backend.errors import LabelStudioError

#: The Data Manager tab that lists unlabeled tasks, most informative (lowest score) first.
QUEUE_VIEW_TITLE = "Active learning queue"
UNCERTAINTY_SAMPLING = "Uncertainty sampling"
#: Label Studio recounts every task of the project after each bulk prediction import, so
#: fewer, larger requests are much faster; above this many predictions a call is split.
MAX_PREDICTIONS_PER_REQUEST = 50_000
#: Fields read per annotation: enough to train on and to tell skips from labels.
ANNOTATION_FIELDS = ("result", "was_cancelled", "completed_by", "ground_truth", "updated_at")
UNAUTHORIZED_HINT = (
    "Label Studio rejected the token (401). If it is a legacy token, start Label Studio with "
    "--enable-legacy-api-token (or enable legacy tokens in Organization settings); or set "
    "LABEL_STUDIO_API_KEY to a personal access token."
)
_AUTH_VALUE = re.compile(r"\b(Token|Bearer)\s+[\w.\-]{20,}")


def _number_filter(field: str, operator: str, value: int) -> dict[str, Any]:
    return {"filter": f"filter:tasks:{field}", "operator": operator, "type": "Number",
            "value": value}


def task_filters(labeled: bool | None, after_id: int) -> dict[str, Any]:
    """Data Manager filters: tasks with id > ``after_id``, restricted by ``labeled``.

    Labeled means at least one annotation, a skipped (cancelled) one included, so the two
    sets split the project. Paging by id instead of by page number keeps a read correct while
    annotators label: a task that changes set during the read is neither skipped nor repeated.
    """
    after = _number_filter("id", "greater", after_id)
    if labeled is None:
        return {"conjunction": "and", "items": [after]}
    if labeled:
        # (done > 0 AND id > x) OR (skipped > 0 AND id > x): a child filter ANDs with its parent.
        return {"conjunction": "or", "items": [
            {**_number_filter("total_annotations", "greater", 0), "child_filter": after},
            {**_number_filter("cancelled_annotations", "greater", 0), "child_filter": after},
        ]}
    return {"conjunction": "and", "items": [
        _number_filter("total_annotations", "equal", 0),
        _number_filter("cancelled_annotations", "equal", 0),
        after,
    ]}


class LabelStudioClient:
    """A Label Studio server seen through one API key (a personal access token or legacy token).

    A personal access token (a JWT) is exchanged for short-lived access tokens by the SDK
    as needed; any other key is sent as a legacy ``Token``.
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout: float = 120.0,
        connect_timeout: float = 5.0,
        max_retries: int = 1,
    ) -> None:
        if not url:
            raise LabelStudioError("No Label Studio URL given; set LABEL_STUDIO_URL",
                                   retryable=False)
        if not api_key:
            raise LabelStudioError("No Label Studio API key given; set LABEL_STUDIO_API_KEY",
                                   retryable=False)
        self.url = url.rstrip("/")
        self._secret = api_key
        self._http = httpx.Client(timeout=httpx.Timeout(timeout, connect=connect_timeout),
                                  follow_redirects=True)
        with self._calls("connecting"):
            self._ls = LabelStudio(base_url=self.url, api_key=api_key, httpx_client=self._http,
                                   max_retries=max_retries)

    def __repr__(self) -> str:
        return f"LabelStudioClient(url={self.url!r}, api_key='***')"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LabelStudioClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- errors ---------------------------------------------------------------------------

    def _mask(self, text: str) -> str:
        """Remove the key, and anything that looks like an Authorization value, from ``text``."""
        for secret in (self._secret, self._access_token()):
            if secret:
                text = text.replace(secret, "***")
        return _AUTH_VALUE.sub(r"\1 ***", text)

    def _access_token(self) -> str:
        wrapper = getattr(getattr(self, "_ls", None), "_client_wrapper", None)
        tokens = getattr(wrapper, "_tokens_client", None)
        return str(getattr(tokens, "_access_token", "") or "")

    @contextlib.contextmanager
    def _calls(self, what: str, project_id: int | None = None) -> Iterator[None]:
        """Turn SDK and transport failures inside the block into :class:`LabelStudioError`."""
        try:
            yield
        except ApiError as exc:
            raise self._from_status(exc.status_code, exc.body, what, project_id) from None
        except httpx.TimeoutException as exc:
            raise LabelStudioError(
                f"Label Studio at {self.url} is unreachable: {what} timed out "
                f"({type(exc).__name__}); check that it runs and is not overloaded",
                retryable=True,
            ) from None
        except httpx.TransportError as exc:
            raise LabelStudioError(
                self._mask(f"Label Studio at {self.url} is unreachable while {what}: "
                           f"{type(exc).__name__}: {exc}; check LABEL_STUDIO_URL and that "
                           "Label Studio runs"),
                retryable=True,
            ) from None
        except ValueError:  # a body that is not JSON: a proxy's error page, or not Label Studio
            raise LabelStudioError(
                f"Label Studio at {self.url} sent an answer that is not JSON while {what}; "
                "check that LABEL_STUDIO_URL is Label Studio's address",
                retryable=True,
            ) from None

    def _from_status(
        self, status: int | None, body: Any, what: str, project_id: int | None
    ) -> LabelStudioError:
        detail = body
        if isinstance(body, dict):
            detail = body.get("validation_errors") or body.get("detail") or body
        detail_text = self._mask(str(detail))[:500]
        if status == 401:
            return LabelStudioError(f"{UNAUTHORIZED_HINT} (Label Studio at {self.url}, {what})",
                                    status=401, retryable=False)
        if status == 404 and project_id is not None:
            return LabelStudioError(
                f"Label Studio at {self.url} has no project {project_id} visible to this token "
                f"(404 while {what}); check the project id", status=404, retryable=False)
        if status is None or status >= 500 or status in (408, 429):
            return LabelStudioError(
                f"Label Studio at {self.url} is unreachable or failing: {what} answered "
                f"{status}: {detail_text}", status=status, retryable=True)
        if status == 403:
            detail_text += "; the token's user lacks permission for this project"
        return LabelStudioError(f"Label Studio at {self.url} refused {what} ({status}): "
                                f"{detail_text}", status=status, retryable=False)

    def _raw(self, method: str, path: str, what: str, project_id: int | None = None,
             **kwargs: Any) -> Any:
        """One call the SDK lacks, through the SDK's HTTP client (auth, refresh, retries)."""
        with self._calls(what, project_id):
            answer = self._ls._client_wrapper.httpx_client.request(path, method=method, **kwargs)
            if answer.status_code < 400:
                return answer.json() if answer.content else None
        try:
            body: Any = answer.json()
        except ValueError:
            body = answer.text
        raise self._from_status(answer.status_code, body, what, project_id)

    # -- projects -------------------------------------------------------------------------

    def get_project(self, project_id: int) -> dict[str, Any]:
        """The project's settings as Label Studio returns them (``model_version``, ...)."""
        result: dict[str, Any] = self._raw("GET", f"api/projects/{project_id}",
                                           "reading the project", project_id)
        return result

    def create_project(self, title: str, label_config: str) -> int:
        """Create a project; return its id. Label Studio requires a title of 3+ characters."""
        with self._calls("creating a project"):
            project = self._ls.projects.create(title=title, label_config=label_config)
        return int(cast(int, project.id))

    def import_tasks(self, project_id: int, tasks: Sequence[Mapping[str, Any]]) -> list[int]:
        """Import tasks (each ``{"data": {...}}``) in one request; return their ids in order."""
        with self._calls("importing tasks", project_id):
            answer = self._ls.projects.import_tasks(project_id, request=cast(Any, list(tasks)),
                                                    return_task_ids=True)
        return [int(i) for i in getattr(answer, "task_ids", None) or []]

    def set_model_version(self, project_id: int, version: str) -> None:
        """Make ``version`` the one whose predictions the Data Manager and sampling use.

        Label Studio accepts only a version that already has predictions (or an ML backend
        title), so push predictions first, then call this.
        """
        with self._calls(f"setting model_version {version!r}", project_id):
            self._ls.projects.update(project_id, model_version=version)

    def set_sampling(self, project_id: int, sampling: str = UNCERTAINTY_SAMPLING) -> None:
        """Set the labeling order of "Label All Tasks"; Uncertainty = lowest score first."""
        with self._calls(f"setting sampling {sampling!r}", project_id):
            self._ls.projects.update(project_id, sampling=sampling)

    # -- tasks ----------------------------------------------------------------------------

    def iter_tasks(
        self,
        project_id: int,
        labeled: bool | None = None,
        *,
        page_size: int = 1000,
        include: Sequence[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield every task of the project in id order, reading page after page until none.

        ``labeled=True``: tasks with at least one annotation (skips included), each with
        ``id``, ``data`` and ``annotations`` (``id``, ``result``, ``was_cancelled``,
        ``completed_by``, ...). ``labeled=False``: tasks without any annotation, with ``id``
        and ``data``. ``None``: all tasks, with annotations. ``include`` replaces the field list.
        """
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1; got {page_size}")
        with_annotations = labeled is not False
        fields = ["id", "data", "annotations", *ANNOTATION_FIELDS] if with_annotations else [
            "id", "data"]
        if include is not None:
            fields = list(include)
        after = 0
        while True:
            page = self._task_page(project_id, labeled, after, page_size, fields, with_annotations)
            if not page:
                return
            yield from page
            after = max(int(task["id"]) for task in page)

    def _task_page(self, project_id: int, labeled: bool | None, after: int, page_size: int,
                   fields: list[str], with_annotations: bool) -> list[dict[str, Any]]:
        query = json.dumps({"filters": task_filters(labeled, after), "ordering": ["tasks:id"]})
        with self._calls("listing tasks", project_id):
            pager: Any = self._ls.tasks.list(
                project=project_id, page=1, page_size=page_size, query=query,
                fields="all" if with_annotations else "task_only", include=",".join(fields),
            )
        return [item.model_dump(mode="json", exclude_unset=True) for item in pager.items or []]

    def tasks_in_view_order(
        self,
        view_id: int,
        *,
        include: Sequence[str] = ("id", "predictions_score", "total_annotations"),
        page_size: int = 1000,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """The tasks of a Data Manager tab in the tab's own order (first ``limit`` of them)."""
        tasks: list[dict[str, Any]] = []
        page = 1
        while limit is None or len(tasks) < limit:
            try:
                answer = self._raw("GET", "api/tasks/", "listing a Data Manager tab", params={
                    "view": view_id, "page": page, "page_size": page_size,
                    "fields": "task_only", "include": ",".join(include)})
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

    def create_annotation(
        self, task_id: int, result: Sequence[Mapping[str, Any]], *, was_cancelled: bool = False
    ) -> int:
        """Annotate a task as an annotator would (``was_cancelled`` = a skip); return its id."""
        with self._calls(f"annotating task {task_id}"):
            made = self._ls.annotations.create(task_id, result=[dict(r) for r in result],
                                               was_cancelled=was_cancelled)
        return int(cast(int, made.id))

    # -- predictions ----------------------------------------------------------------------

    def import_predictions(
        self,
        project_id: int,
        predictions: Sequence[Mapping[str, Any]],
        *,
        max_per_request: int = MAX_PREDICTIONS_PER_REQUEST,
    ) -> int:
        """Bulk-create predictions (``task``, ``result``, ``score``, ``model_version``).

        One request per call up to ``max_per_request``, never retried here (a retry after a
        lost answer could duplicate the predictions). Label Studio silently drops a
        prediction whose result does not fit the labeling config (an unknown choice, a wrong
        ``from_name``), so the count it reports is checked against what was sent. Not
        idempotent: a repeated call adds the predictions again; delete the version first.
        """
        if max_per_request < 1:
            raise ValueError(f"max_per_request must be at least 1; got {max_per_request}")
        created = 0
        for start in range(0, len(predictions), max_per_request):
            chunk = [dict(p) for p in predictions[start:start + max_per_request]]
            with self._calls("importing predictions", project_id):
                answer = self._ls.projects.import_predictions(
                    project_id, request=cast(Any, chunk), request_options={"max_retries": 0})
            made = int(getattr(answer, "created", 0) or 0)
            created += made
            if made != len(chunk):
                raise LabelStudioError(
                    f"Label Studio created {made} of {len(chunk)} predictions for project "
                    f"{project_id}: it drops predictions whose result does not match the "
                    "labeling config (unknown choice or wrong from_name/to_name); check the "
                    "project's label config against the model's labels",
                    retryable=False,
                )
        return created

    def list_prediction_versions(self, project_id: int) -> dict[str, int]:
        """Each prediction version in the project and how many predictions it has."""
        answer = self._raw("GET", f"api/projects/{project_id}/model-versions/",
                           "listing prediction versions", project_id)
        if isinstance(answer, dict):
            return {str(k): int(v) for k, v in answer.items()}
        return {str(v): 0 for v in answer or []}

    def prediction_ids(self, project_id: int, version: str, *, page_size: int = 500) -> Iterator[list[int]]:
        """The ids of ``version``'s predictions, one page of tasks at a time, in task id order.

        Read through the Data Manager (tasks whose predictions include ``version``), so each
        page is one short read however large the project is.
        """
        after = 0
        while True:
            filters = {"conjunction": "and", "items": [
                {"filter": "filter:tasks:predictions_model_versions", "operator": "contains",
                 "type": "List", "value": [version]},
                _number_filter("id", "greater", after)]}
            query = json.dumps({"filters": filters, "ordering": ["tasks:id"]})
            answer = self._raw("GET", "api/tasks/", f"listing predictions of {version!r}", project_id,
                               params={"project": project_id, "page": 1, "page_size": page_size,
                                       "fields": "all", "include": "id,predictions", "query": query})
            tasks = (answer.get("tasks") or []) if isinstance(answer, dict) else []
            if not tasks:
                return
            yield [int(p["id"]) for t in tasks for p in t.get("predictions") or []
                   if p.get("model_version") == version]
            after = max(int(t["id"]) for t in tasks)

    def delete_prediction(self, prediction_id: int) -> bool:
        """Delete one prediction; False when it was already gone.

        One short write in Label Studio's database. Deleting a whole version at once
        (``DELETE /api/projects/{id}/model-versions/``) holds Label Studio's SQLite for about
        6 ms per prediction in one transaction, and every other request waiting over 5 s
        meanwhile fails with 500 "database is locked".
        """
        try:
            self._raw("DELETE", f"api/predictions/{int(prediction_id)}/",
                      f"deleting prediction {prediction_id}")
        except LabelStudioError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    # -- Data Manager ---------------------------------------------------------------------

    def ensure_queue_view(self, project_id: int, title: str = QUEUE_VIEW_TITLE) -> int:
        """Return the id of the tab named ``title``, creating it once if missing.

        The tab shows unlabeled tasks ordered by prediction score, lowest first; annotators
        who use "Label Tasks As Displayed" there get the most informative task next.
        """
        with self._calls("listing Data Manager tabs", project_id):
            views = self._ls.views.list(project=project_id)
        for view in views:
            data = view.data if isinstance(view.data, dict) else {}
            if data.get("title") == title and view.id is not None:
                return int(view.id)
        data = {
            "title": title,
            "ordering": ["tasks:predictions_score"],
            "filters": {"conjunction": "and",
                        "items": [_number_filter("total_annotations", "equal", 0)]},
        }
        with self._calls("creating the Data Manager tab", project_id):
            made = self._ls.views.create(project=project_id, data=cast(Any, data))
        return int(cast(int, made.id))

    def add_ml_backend(self, project_id: int, url: str, title: str = "ls-active") -> int:
        """Connect an ML backend to the project (Label Studio calls its /health and /setup)."""
        with self._calls(f"connecting the ML backend at {url}", project_id):
            made = self._ls.ml.create(project=project_id, url=url, title=title)
        return int(cast(int, made.id))
