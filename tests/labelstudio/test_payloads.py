"""Label Studio request bodies to typed values: every captured body, and the malformed ones."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from backend.errors import BadRequest
from backend.labelstudio.payloads import Event, parse_event, parse_predict, parse_setup, project_id
from tests.conftest import FIXTURES

PAYLOADS: dict[str, Any] = json.loads(FIXTURES.read_text())
WEBHOOKS = {name: entry["body"] for name, entry in PAYLOADS.items() if name.startswith("POST /webhook")}


def body(name: str) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(PAYLOADS[name]["body"])
    return data


def annotation(cancelled: bool = False, choice: str = "pos") -> dict[str, Any]:
    return {
        "id": 7, "was_cancelled": cancelled,
        "result": [] if cancelled else [{"from_name": "label", "to_name": "text", "type": "choices",
                                         "value": {"choices": [choice]}}],
    }


# -- project ids ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1), (42, 42), ("1", 1), (" 7 ", 7), ("1.1795269085", 1), ("12.0", 12), ({"id": 3}, 3), ({"id": "4"}, 4)],
)
def test_project_id_forms(value: Any, expected: int) -> None:
    assert project_id(value) == expected


@pytest.mark.parametrize("value", [0, -1, True, False, None, "", "abc", "-1", "0.17", 1.5, [], {}, {"title": "p"}])
def test_bad_project_ids_name_the_value(value: Any) -> None:
    with pytest.raises(BadRequest) as caught:
        project_id(value)
    assert caught.value.status == 400
    assert '"project"' in caught.value.message
    if not isinstance(value, (bool, dict)):
        assert f"got {value!r}" in caught.value.message


# -- /setup -----------------------------------------------------------------------------------
def test_captured_setup_body() -> None:
    req = parse_setup(body("POST /setup"))
    assert req.project == 1
    assert req.schema.startswith("<View>")
    assert req.hostname == "http://localhost:56145"
    assert req.access_token == "0123456789abcdef0123456789abcdef01234567"
    assert req.extra_params == {}


def test_setup_token_stays_out_of_repr() -> None:
    req = parse_setup(body("POST /setup"))
    assert "0123456789abcdef" not in repr(req)


def test_setup_hostname_loses_trailing_slash() -> None:
    data = body("POST /setup") | {"hostname": "http://ls.example:8080/"}
    assert parse_setup(data).hostname == "http://ls.example:8080"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (None, {}),
        ({"strategy": "margin"}, {"strategy": "margin"}),
        ('{"strategy": "entropy"}', {"strategy": "entropy"}),
        ("", {}),
        ("   ", {}),
    ],
)
def test_setup_extra_params_forms(extra: Any, expected: dict[str, Any]) -> None:
    data = body("POST /setup") | {"extra_params": extra}
    assert parse_setup(data).extra_params == expected


@pytest.mark.parametrize("extra", ["not json", "[1, 2]", [1, 2], 5])
def test_setup_extra_params_must_be_an_object(extra: Any) -> None:
    data = body("POST /setup") | {"extra_params": extra}
    with pytest.raises(BadRequest, match="extra_params"):
        parse_setup(data)


@pytest.mark.parametrize("schema", [None, "", "  ", 12])
def test_setup_without_schema(schema: Any) -> None:
    with pytest.raises(BadRequest, match='"schema"'):
        parse_setup(body("POST /setup") | {"schema": schema})


def test_setup_missing_credentials_are_empty_strings() -> None:
    data = body("POST /setup")
    del data["hostname"], data["access_token"]
    req = parse_setup(data)
    assert (req.hostname, req.access_token) == ("", "")


def test_setup_non_string_hostname() -> None:
    with pytest.raises(BadRequest, match="hostname"):
        parse_setup(body("POST /setup") | {"hostname": 8080})


@pytest.mark.parametrize("value", [None, [], "text", 3])
def test_setup_body_must_be_an_object(value: Any) -> None:
    with pytest.raises(BadRequest, match="JSON object"):
        parse_setup(value)


# -- /predict ---------------------------------------------------------------------------------
def captured_predict() -> dict[str, Any]:
    """The captured body, with its placeholder for the elided tasks replaced by real ones."""
    data = body("POST /predict (Retrieve Predictions action)")
    first = data["tasks"][0]
    data["tasks"] = [first] + [{**first, "id": i, "data": {"text": f"text {i}"}} for i in range(2, 21)]
    return data


def test_captured_predict_body() -> None:
    req = parse_predict(captured_predict(), max_tasks=1000)
    assert req.project == 1
    assert len(req.tasks) == 20
    assert req.tasks[0]["data"]["text"] == "text number 0 is bad"
    assert req.label_config is not None and "<Choices" in req.label_config


def test_captured_predict_placeholder_is_rejected_by_position() -> None:
    """The capture elides tasks with a string; a non-object task is named by its index."""
    with pytest.raises(BadRequest, match="task #1"):
        parse_predict(body("POST /predict (Retrieve Predictions action)"), max_tasks=1000)


def test_predict_without_project_or_config() -> None:
    req = parse_predict({"tasks": [{"id": 1, "data": {"text": "x"}}], "project": "", "label_config": "  "}, 10)
    assert req.project is None
    assert req.label_config is None


def test_predict_task_limit_is_413() -> None:
    tasks = [{"id": i, "data": {"text": "x"}} for i in range(11)]
    with pytest.raises(BadRequest) as caught:
        parse_predict({"tasks": tasks}, max_tasks=10)
    assert caught.value.status == 413
    assert "11 tasks" in caught.value.message and "at most 10" in caught.value.message


@pytest.mark.parametrize("tasks", [None, "tasks", {"id": 1}])
def test_predict_tasks_must_be_a_list(tasks: Any) -> None:
    with pytest.raises(BadRequest, match='"tasks"'):
        parse_predict({"tasks": tasks}, 10)


def test_predict_task_without_data_object() -> None:
    with pytest.raises(BadRequest, match="task #0"):
        parse_predict({"tasks": [{"id": 1, "data": "text"}]}, 10)


def test_predict_empty_task_list_is_valid() -> None:
    assert parse_predict({"tasks": []}, 10).tasks == []


# -- webhooks ---------------------------------------------------------------------------------
def test_every_captured_webhook_parses() -> None:
    assert len(WEBHOOKS) >= 6
    for name, data in WEBHOOKS.items():
        event = parse_event(copy.deepcopy(data))
        assert event.action == data["action"], name
        assert event.project == 1, name
        assert event.project_model_version == "v0", name


def test_captured_annotation_created() -> None:
    event = parse_event(body("POST /webhook ANNOTATION_CREATED"))
    assert (event.labels_created, event.labels_updated, event.labels_deleted, event.cancelled) == (1, 0, 0, 0)
    assert event.task_ids == ()


def test_captured_annotation_updated() -> None:
    event = parse_event(body("POST /webhook ANNOTATION_UPDATED"))
    assert (event.labels_created, event.labels_updated, event.labels_deleted) == (0, 1, 0)


def test_captured_annotations_deleted() -> None:
    event = parse_event(body("POST /webhook ANNOTATIONS_DELETED"))
    assert (event.labels_created, event.labels_updated, event.labels_deleted) == (0, 0, 1)


def test_captured_tasks_created_keeps_only_the_ids() -> None:
    """Only ids are queued: a big import must not be stored whole in Redis."""
    event = parse_event(body("POST /webhook TASKS_CREATED"))
    assert event.task_ids == (2158,)
    assert not hasattr(event, "tasks")
    assert event.labels_created == 0


@pytest.mark.parametrize("name", ["POST /webhook PROJECT_UPDATED", "POST /webhook START_TRAINING"])
def test_captured_project_events_count_nothing(name: str) -> None:
    event = parse_event(body(name))
    assert (event.labels_created, event.labels_updated, event.labels_deleted, event.cancelled) == (0, 0, 0, 0)


def test_skip_is_counted_as_cancelled_not_as_a_label() -> None:
    data = body("POST /webhook ANNOTATION_CREATED")
    data["annotation"]["was_cancelled"] = True
    event = parse_event(data)
    assert event.labels_created == 0
    assert event.cancelled == 1


def test_bulk_created_counts_real_labels_and_skips_apart() -> None:
    data = {"action": "ANNOTATIONS_CREATED", "project": {"id": 5},
            "annotations": [annotation(), annotation(cancelled=True), annotation(choice="neg"), "junk"]}
    event = parse_event(data)
    assert event.project == 5
    assert (event.labels_created, event.cancelled) == (2, 1)


def test_bulk_deleted_counts_every_annotation() -> None:
    data = {"action": "ANNOTATIONS_DELETED", "project": {"id": 2}, "annotations": [{"id": 1}, {"id": 2}, {"id": 3}]}
    assert parse_event(data).labels_deleted == 3


def test_unknown_action_comes_back_counted_as_nothing() -> None:
    data = {"action": "LABEL_LINK_CREATED", "project": {"id": 1}, "annotation": annotation()}
    event = parse_event(data)
    assert event == Event(action="LABEL_LINK_CREATED", project=1)


def test_action_is_normalised() -> None:
    event = parse_event({"action": " annotation_created ", "project": 3, "annotation": annotation()})
    assert event.action == "ANNOTATION_CREATED"
    assert event.labels_created == 1


def test_event_without_project() -> None:
    event = parse_event({"action": "ANNOTATION_CREATED", "annotation": annotation()})
    assert event.project is None
    assert event.project_model_version is None


def test_tasks_created_keeps_the_well_formed_ids() -> None:
    data = {"action": "TASKS_CREATED", "project": {"id": 1},
            "tasks": [{"id": 1, "data": {"text": "a"}, "meta": {}}, {"id": 2}, {"id": "3", "data": {}}, 4, True,
                      {"id": 10**40}, {"id": -5}]}
    assert parse_event(data).task_ids == (1, 2, 4)


def test_tasks_deleted_names_its_tasks() -> None:
    data = {"action": "TASKS_DELETED", "project": {"id": 1}, "tasks": [{"id": 7}, {"id": 8}]}
    assert parse_event(data).task_ids == (7, 8)


def test_tasks_are_kept_only_for_tasks_created() -> None:
    data = {"action": "PROJECT_UPDATED", "project": {"id": 1}, "tasks": [{"id": 1, "data": {"text": "a"}}]}
    assert parse_event(data).task_ids == ()


@pytest.mark.parametrize("data", [{}, {"action": ""}, {"action": 3}, {"project": 1}])
def test_event_needs_an_action(data: dict[str, Any]) -> None:
    with pytest.raises(BadRequest, match='"action"'):
        parse_event(data)


@pytest.mark.parametrize("data", [None, [], "ANNOTATION_CREATED"])
def test_event_body_must_be_an_object(data: Any) -> None:
    with pytest.raises(BadRequest, match="webhook body"):
        parse_event(data)


def test_event_with_a_bad_project_is_refused() -> None:
    with pytest.raises(BadRequest, match='"project"'):
        parse_event({"action": "ANNOTATION_CREATED", "project": {"title": "no id"}})


@pytest.mark.parametrize("name, labels, before", [
    ("ANNOTATION_CREATED", 1, 0), ("ANNOTATION_UPDATED", 1, 1), ("ANNOTATIONS_DELETED", 0, 1),
    ("PROJECT_UPDATED", 0, 0),
])
def test_an_event_carries_label_studios_label_count(name: str, labels: int, before: int) -> None:
    """What a lost label counter restarts from: Label Studio's count before the event."""
    event = parse_event(PAYLOADS[f"POST /webhook {name}"]["body"])
    assert (event.project_labels, event.labels_before) == (labels, before)


@pytest.mark.parametrize("count", [None, True, -3, "12", 1.5])
def test_a_missing_or_odd_label_count_is_ignored(count: Any) -> None:
    body = copy.deepcopy(PAYLOADS["POST /webhook ANNOTATION_CREATED"]["body"])
    body["project"]["total_annotations_number"] = count
    event = parse_event(body)
    assert event.project_labels is None and event.labels_before is None
    assert event.labels_created == 1
