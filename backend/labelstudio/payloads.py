"""Label Studio request bodies to typed values, tolerantly but never silently wrong.

Shapes follow what Label Studio 1.23.2 really sends (see LS_PROTOCOL.md). Anything we
cannot act on raises :class:`BadRequest` with the field that is wrong and what to send.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from backend.errors import BadRequest
from backend.labelstudio.safe_json import brief, loads

#: The label events ls-active counts, and how: annotation events carry one annotation,
#: bulk events a list.
LABEL_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATIONS_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED")
#: Label Studio's project ids are a 32-bit integer column.
MAX_PROJECT_ID = 2**31 - 1
#: Longest Label Studio address and token accepted from ``/setup``.
MAX_URL_CHARS = 2048
MAX_TOKEN_CHARS = 4096
_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}")
#: Webhook actions are upper-case ASCII words (``ANNOTATION_CREATED``).
_ACTION = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_WEB_ADDRESS = re.compile(r"https?://[^\s/?#@]+(:\d{1,5})?(/[^\s?#]*)?", re.ASCII)


def require_object(body: Any, what: str = "request body") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest(f"the {what} must be a JSON object; got {type(body).__name__}")
    return body


def project_id(value: Any) -> int:
    """Label Studio names a project as ``1``, ``"1"``, ``"1.1795269085"`` or ``{"id": 1}``.

    Ids are ASCII decimal and fit Label Studio's own integer column: a thousand-digit id
    would become a file name too long for the model folder.
    """
    if isinstance(value, dict):
        value = value.get("id")
    number = value
    if isinstance(value, str):
        head = value.strip().split(".", 1)[0]
        if head.isascii() and head.isdecimal() and len(head) <= len(str(MAX_PROJECT_ID)):
            number = int(head)
    if isinstance(number, int) and not isinstance(number, bool) and 0 < number <= MAX_PROJECT_ID:
        return number
    raise BadRequest(f'"project" must be a Label Studio project id like 1 or "1.1795269085"; got {brief(value)}')


def job_id(value: Any) -> str:
    """A job id as ls-active makes them (letters, digits, ``-_.:``), for ``/job_status``."""
    if isinstance(value, str) and _JOB_ID.fullmatch(value):
        return value
    raise BadRequest(f'"job" must be a job id like "retrain-1-3"; got {brief(value)}')


@dataclass(frozen=True)
class SetupRequest:
    project: int
    schema: str
    hostname: str
    access_token: str = field(repr=False)
    extra_params: dict[str, Any]


def parse_setup(body: Any) -> SetupRequest:
    data = require_object(body)
    schema = data.get("schema")
    if not isinstance(schema, str) or not schema.strip():
        raise BadRequest('"schema" (the project\'s label config XML) is missing or empty')
    extra = data.get("extra_params") or {}
    if isinstance(extra, str):  # the Model settings form can send text
        extra = loads(extra, '"extra_params"') if extra.strip() else {}
    if not isinstance(extra, dict):
        raise BadRequest('"extra_params" must be a JSON object like {"strategy": "margin"}')
    hostname = data.get("hostname") or ""
    token = data.get("access_token") or ""
    if not isinstance(hostname, str) or not isinstance(token, str):
        raise BadRequest('"hostname" and "access_token" must be strings')
    if hostname and not (len(hostname) <= MAX_URL_CHARS and _WEB_ADDRESS.fullmatch(hostname)):
        raise BadRequest(f'"hostname" must be Label Studio\'s http(s) address; got {brief(hostname)}')
    if len(token) > MAX_TOKEN_CHARS or not token.isascii() or not token.isprintable():
        raise BadRequest('"access_token" must be a Label Studio API token')
    return SetupRequest(project_id(data.get("project")), schema, hostname.rstrip("/"), token, extra)


@dataclass(frozen=True)
class PredictRequest:
    project: int | None
    tasks: list[dict[str, Any]]
    label_config: str | None


def parse_predict(body: Any, max_tasks: int) -> PredictRequest:
    data = require_object(body)
    tasks = data.get("tasks")
    if not isinstance(tasks, list):
        raise BadRequest('"tasks" must be a list of Label Studio tasks')
    if len(tasks) > max_tasks:
        raise BadRequest(f"{len(tasks)} tasks in one request; send at most {max_tasks}", status=413)
    for i, task in enumerate(tasks):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise BadRequest(f'task #{i} must be an object with a "data" object')
    raw_project = data.get("project")
    project = project_id(raw_project) if raw_project not in (None, "") else None
    config = data.get("label_config")
    return PredictRequest(project, tasks, config if isinstance(config, str) and config.strip() else None)


@dataclass(frozen=True)
class Event:
    """One webhook event, reduced to what ls-active acts on."""

    action: str
    project: int | None
    labels_created: int = 0
    labels_updated: int = 0
    labels_deleted: int = 0
    cancelled: int = 0
    #: The tasks a ``TASKS_CREATED`` or ``TASKS_DELETED`` event names.
    task_ids: tuple[int, ...] = ()
    project_model_version: str | None = None
    #: Label Studio's count of the project's labels (skips aside) after this event, when sent.
    project_labels: int | None = None

    @property
    def labels_changed(self) -> int:
        """Labels this event created, updated or deleted: what counts toward milestones."""
        return self.labels_created + self.labels_updated + self.labels_deleted

    @property
    def labels_before(self) -> int | None:
        """Label Studio's count of labels before this event (None when it was not sent)."""
        if self.project_labels is None:
            return None
        return max(0, self.project_labels - self.labels_created + self.labels_deleted)


def _annotations(data: dict[str, Any]) -> list[dict[str, Any]]:
    items = data.get("annotations")
    if isinstance(items, list):
        return [a for a in items if isinstance(a, dict)]
    single = data.get("annotation")
    return [single] if isinstance(single, dict) else []


def _int_ids(items: Any) -> tuple[int, ...]:
    ids = []
    for item in items if isinstance(items, list) else []:
        value = item.get("id") if isinstance(item, dict) else item
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_PROJECT_ID:
            ids.append(value)
    return tuple(ids)


def parse_event(body: Any) -> Event:
    """Any well-formed event parses; unknown actions come back as themselves, counted as nothing."""
    data = require_object(body, "webhook body")
    action = data.get("action")
    if not isinstance(action, str) or not action.strip():
        raise BadRequest('a webhook event needs an "action" string, like "ANNOTATION_CREATED"')
    action = action.strip().upper()
    if not _ACTION.fullmatch(action):
        raise BadRequest(f'"action" must be a Label Studio event name like "ANNOTATION_CREATED"; got {brief(action)}')
    raw_project = data.get("project")
    project = project_id(raw_project) if raw_project not in (None, "", {}) else None
    model_version = raw_project.get("model_version") if isinstance(raw_project, dict) else None
    labels = raw_project.get("total_annotations_number") if isinstance(raw_project, dict) else None
    annotations = _annotations(data)
    cancelled = sum(1 for a in annotations if a.get("was_cancelled"))
    real = len(annotations) - cancelled
    counts = {"labels_created": 0, "labels_updated": 0, "labels_deleted": 0}
    if action in ("ANNOTATION_CREATED", "ANNOTATIONS_CREATED"):
        counts["labels_created"] = real
    elif action == "ANNOTATION_UPDATED":
        counts["labels_updated"] = real
    elif action == "ANNOTATIONS_DELETED":
        counts["labels_deleted"] = len(annotations)
    tasks = data.get("tasks") if action in ("TASKS_CREATED", "TASKS_DELETED") else None
    return Event(
        action=action, project=project, cancelled=cancelled, task_ids=_int_ids(tasks),
        project_model_version=model_version if isinstance(model_version, str) else None,
        project_labels=labels if isinstance(labels, int) and not isinstance(labels, bool) and labels >= 0 else None,
        **counts,
    )
