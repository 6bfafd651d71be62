"""Label Studio request bodies to typed values, tolerantly but never silently wrong.

Shapes follow what Label Studio 1.23.2 really sends (see LS_PROTOCOL.md). Anything we
cannot act on raises :class:`BadRequest` with the field that is wrong and what to send.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend.errors import BadRequest

#: The label events ls-active counts, and how: annotation events carry one annotation,
#: bulk events a list.
LABEL_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATIONS_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED")


def require_object(body: Any, what: str = "request body") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest(f"the {what} must be a JSON object; got {type(body).__name__}")
    return body


def project_id(value: Any) -> int:
    """Label Studio names a project as ``1``, ``"1"``, ``"1.1795269085"`` or ``{"id": 1}``."""
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, bool):
        value = None
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str):
        head = value.strip().split(".", 1)[0]
        if head.isdigit() and int(head) > 0:
            return int(head)
    raise BadRequest(f'"project" must be a Label Studio project id like 1 or "1.1795269085"; got {value!r}')


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
        import json

        try:
            extra = json.loads(extra) if extra.strip() else {}
        except json.JSONDecodeError:
            raise BadRequest('"extra_params" must be a JSON object like {"strategy": "margin"}') from None
    if not isinstance(extra, dict):
        raise BadRequest('"extra_params" must be a JSON object like {"strategy": "margin"}')
    hostname = data.get("hostname") or ""
    token = data.get("access_token") or ""
    if not isinstance(hostname, str) or not isinstance(token, str):
        raise BadRequest('"hostname" and "access_token" must be strings')
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
    task_ids: tuple[int, ...] = ()
    tasks: tuple[dict[str, Any], ...] = ()
    project_model_version: str | None = None


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
        if isinstance(value, int) and not isinstance(value, bool):
            ids.append(value)
    return tuple(ids)


def parse_event(body: Any) -> Event:
    """Any well-formed event parses; unknown actions come back as themselves, counted as nothing."""
    data = require_object(body, "webhook body")
    action = data.get("action")
    if not isinstance(action, str) or not action.strip():
        raise BadRequest('a webhook event needs an "action" string, like "ANNOTATION_CREATED"')
    action = action.strip().upper()
    raw_project = data.get("project")
    project = project_id(raw_project) if raw_project not in (None, "", {}) else None
    model_version = raw_project.get("model_version") if isinstance(raw_project, dict) else None
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
    tasks = data.get("tasks") if action == "TASKS_CREATED" else None
    new_tasks = tuple(
        {"id": t["id"], "data": t["data"]} for t in (tasks if isinstance(tasks, list) else [])
        if isinstance(t, dict) and isinstance(t.get("id"), int) and isinstance(t.get("data"), dict)
    )
    return Event(
        action=action, project=project, cancelled=cancelled, task_ids=_int_ids(tasks), tasks=new_tasks,
        project_model_version=model_version if isinstance(model_version, str) else None, **counts,
    )
