"""Annotations to training targets: skips ignored, majority vote, ties and unknown choices left out."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from backend.tasks.text_classification.schema import TaskSchema
from backend.tasks.text_classification.targets import annotation_choices, training_set
from tests.conftest import FIXTURES

SINGLE = TaskSchema("label", "text", "Text", "text", ("pos", "neg", "neutral"), False)
MULTI = TaskSchema("tags", "text", "Text", "text", ("a", "b", "c"), True)
HYPER = TaskSchema("label", "page", "HyperText", "html", ("pos", "neg"), False)


def ann(*choices: str, from_name: str = "label", cancelled: bool = False) -> dict[str, Any]:
    result = [{"from_name": from_name, "to_name": "text", "type": "choices", "value": {"choices": list(choices)}}]
    return {"id": 1, "result": [] if cancelled else result, "was_cancelled": cancelled}


def task(task_id: int, *annotations: dict[str, Any], text: str = "some text", key: str = "text") -> dict[str, Any]:
    return {"id": task_id, "data": {key: text}, "annotations": list(annotations)}


def test_annotation_choices_reads_our_control_only() -> None:
    mixed = {"result": [
        {"from_name": "other", "value": {"choices": ["x"]}},
        {"from_name": "label", "value": {"choices": ["neg"]}},
    ]}
    assert annotation_choices(mixed, SINGLE) == ["neg"]
    assert annotation_choices(ann("pos", from_name="other"), SINGLE) is None


def test_annotation_choices_ignores_skips_and_junk() -> None:
    assert annotation_choices(ann(cancelled=True), SINGLE) is None
    assert annotation_choices({**ann("pos"), "was_cancelled": True}, SINGLE) is None
    assert annotation_choices("not an annotation", SINGLE) is None
    assert annotation_choices({"result": "x"}, SINGLE) is None
    assert annotation_choices({"result": [{"from_name": "label", "value": {"choices": [1]}}]}, SINGLE) is None


def test_one_annotation_per_task() -> None:
    data = training_set([task(1, ann("neg"), text="bad"), task(2, ann("pos"), text="good")], SINGLE, 100)
    assert data.task_ids == [1, 2]
    assert data.texts == ["bad", "good"]
    assert data.targets == [1, 0]
    assert data.target_array().tolist() == [1, 0]


def test_skipped_and_cancelled_annotations_teach_nothing() -> None:
    tasks = [
        task(1, ann(cancelled=True)),
        task(2, {**ann("pos"), "was_cancelled": True}),
        task(3, ann(cancelled=True), ann("neg")),
    ]
    data = training_set(tasks, SINGLE, 100)
    assert data.task_ids == [3]
    assert data.targets == [1]
    assert data.ties == 0


def test_majority_vote_wins() -> None:
    data = training_set([task(1, ann("neg"), ann("pos"), ann("neg"))], SINGLE, 100)
    assert data.targets == [SINGLE.labels.index("neg")]


def test_ties_are_left_out_and_counted() -> None:
    tasks = [task(1, ann("neg"), ann("pos")), task(2, ann("pos"), ann("neg"), ann("neutral")), task(3, ann("pos"))]
    data = training_set(tasks, SINGLE, 100)
    assert data.task_ids == [3]
    assert data.ties == 2


def test_multilabel_majority_per_label() -> None:
    tasks = [
        task(1, ann("a", "b", from_name="tags"), ann("a", from_name="tags"), ann("b", "c", from_name="tags")),
        task(2, ann("c", from_name="tags")),
        task(3, ann(from_name="tags")),  # an annotation choosing nothing: no label applies
    ]
    data = training_set(tasks, MULTI, 100)
    assert data.target_array().tolist() == [[1, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert data.target_array().shape == (3, 3)


def test_multilabel_repeated_choice_in_one_annotation_counts_once() -> None:
    tasks = [task(1, ann("a", "a", from_name="tags"), ann("b", from_name="tags"), ann("b", from_name="tags"))]
    assert training_set(tasks, MULTI, 100).targets == [[0, 1, 0]]


def test_empty_multilabel_set_has_the_right_shape() -> None:
    assert training_set([], MULTI, 100).target_array().shape == (0, 3)


def test_unknown_labels_are_reported_not_trained_on() -> None:
    tasks = [
        task(1, ann("renamed")),
        task(2, ann("renamed"), ann("pos")),
        task(3, ann("gone"), ann("neg")),
    ]
    data = training_set(tasks, SINGLE, 100)
    assert dict(data.unknown_labels) == {"renamed": 2, "gone": 1}
    assert data.task_ids == [2, 3]
    assert data.targets == [0, 1]


def test_multilabel_annotation_with_any_unknown_choice_is_dropped() -> None:
    data = training_set([task(1, ann("a", "zzz", from_name="tags"))], MULTI, 100)
    assert data.task_ids == []
    assert data.unknown_labels["zzz"] == 1


def test_tasks_without_the_text_field_are_counted_not_trained_on() -> None:
    tasks = [task(1, ann("pos"), key="body"), task(2, ann("neg")), {"id": 3, "annotations": [ann("pos")]}]
    data = training_set(tasks, SINGLE, 100)
    assert data.task_ids == [2]
    assert data.without_text == 1


def test_unlabeled_tasks_do_not_count_as_without_text() -> None:
    data = training_set([task(1, key="body"), task(2, ann(cancelled=True), key="body")], SINGLE, 100)
    assert (data.task_ids, data.without_text) == ([], 0)


def test_texts_are_cleaned_and_truncated() -> None:
    tasks = [
        {"id": 1, "data": {"html": "<p>Fish &amp; chips</p>" + "x" * 50}, "annotations": [ann("pos")]},
        {"id": 2, "data": {"html": None}, "annotations": [ann("neg")]},
    ]
    data = training_set(tasks, HYPER, 20)
    assert data.texts[0] == " Fish & chips " + "x" * 6
    assert data.texts[1] == ""


def test_captured_train_body_becomes_a_training_set() -> None:
    body = json.loads(FIXTURES.read_text())["POST /train (legacy, flag ff_back_dev_1417... = false)"]["body"]
    schema = TaskSchema("label", "text", "Text", "text", ("pos", "neg"), False)
    data = training_set(body["annotations"], schema, 100)
    assert data.task_ids == [1]
    assert data.texts == ["t0"]
    assert np.array_equal(data.target_array(), [0])
