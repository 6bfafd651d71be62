"""Tasks to Label Studio predictions: text extraction errors, result format, cold start and model scores."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from backend.defaults import COLD_START_VERSION, MULTILABEL_THRESHOLD
from backend.errors import BadRequest
from backend.tasks import Scored
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.kind import TEXT_CLASSIFICATION as KIND
from backend.tasks.text_classification.model import TextModel, train_model
from backend.tasks.text_classification.schema import TaskSchema
from backend.tasks.text_classification.scoring import prediction_result, predictions, task_texts
from strategies import measures
from tests.conftest import load_rows

SINGLE = TaskSchema("label", "text", "Text", "text", ("pos", "neg"), False)
MULTI = TaskSchema("tags", "body", "Text", "body", ("fun", "long", "sad"), True)
HYPER = TaskSchema("label", "page", "HyperText", "html", ("pos", "neg"), False)
TEXTS = ["good fun film", "great acting and fun", "dull plot", "boring and slow", "fun and great", "slow dull mess"]


def predict_tasks(tasks: list[dict[str, Any]], schema: TaskSchema, model: TextModel | None, version: str,
                  strategy: str, max_chars: int) -> list[dict[str, Any]]:
    """What the kind answers for ``tasks``, through the seam the service uses."""
    scored = KIND.score(KIND.inputs(tasks, schema, max_chars), model, schema, KIND.strategy(strategy),
                        batch_size=10, seed=0)
    return KIND.predictions(schema, scored, version)


def tasks_of(texts: list[str], key: str = "text") -> list[dict[str, Any]]:
    return [{"id": 100 + i, "data": {key: t}} for i, t in enumerate(texts)]


@pytest.fixture(scope="module")
def model() -> TextModel:
    return train_model(featurize(TEXTS), [0, 0, 1, 1, 0, 1], SINGLE.labels)


def test_task_texts_reads_the_configured_field() -> None:
    assert task_texts(tasks_of(["a", "b"]), SINGLE, 100) == ["a", "b"]
    assert task_texts([{"data": {"html": "<b>bold</b> move"}}], HYPER, 7) == [" bold  "]
    assert task_texts([{"data": {"text": 42}}], SINGLE, 100) == ["42"]


def test_missing_field_is_422_naming_field_and_tasks() -> None:
    tasks = [{"id": 1, "data": {"text": "ok"}}, {"id": 2, "data": {"body": "x"}}, {"id": 3, "data": {}}]
    with pytest.raises(BadRequest) as caught:
        task_texts(tasks, SINGLE, 100)
    assert caught.value.status == 422
    message = caught.value.message
    assert '"text"' in message and "2 task(s)" in message and "task 2, 3" in message and "$text" in message


def test_missing_field_lists_at_most_five_tasks_and_uses_position_without_id() -> None:
    tasks: list[dict[str, Any]] = [{"id": i, "data": {}} for i in range(1, 8)] + [{"data": {}}]
    with pytest.raises(BadRequest) as caught:
        task_texts(tasks, SINGLE, 100)
    message = caught.value.message
    assert "8 task(s)" in message and "task 1, 2, 3, 4, 5 ..." in message and "6" not in message
    with pytest.raises(BadRequest, match="task 0"):
        task_texts([{"data": {}}], SINGLE, 100)


def test_single_label_result_format() -> None:
    result = prediction_result(SINGLE, np.array([0.3, 0.7]))
    assert result == [{"from_name": "label", "to_name": "text", "type": "choices", "value": {"choices": ["neg"]}}]


def test_multilabel_result_lists_every_probable_label() -> None:
    result = prediction_result(MULTI, np.array([0.9, MULTILABEL_THRESHOLD, 0.2]))
    expected = {"from_name": "tags", "to_name": "body", "type": "choices", "value": {"choices": ["fun", "long"]}}
    assert result == [expected]
    assert prediction_result(MULTI, np.array([0.1, 0.2, 0.3])) == []


def test_no_model_no_result() -> None:
    assert prediction_result(SINGLE, None) == []


def test_predictions_in_row_order_with_rounded_scores() -> None:
    scored = Scored(np.array([0.123456789, 1.0]), np.array([[0.9, 0.1], [0.2, 0.8]]))
    out = predictions(SINGLE, scored, "v7")
    assert [p["score"] for p in out] == [0.123457, 1.0]
    assert [p["result"][0]["value"]["choices"] for p in out] == [["pos"], ["neg"]]
    assert {p["model_version"] for p in out} == {"v7"}


def test_cold_start_returns_empty_results_with_scores() -> None:
    texts = ["what is a film", "who made the film", "where is the film shown", "a b c", "how long is a film"]
    out = predict_tasks(tasks_of(texts), SINGLE, None, COLD_START_VERSION, "default", 1000)
    assert len(out) == len(texts)
    assert all(p["result"] == [] for p in out)
    assert all(p["model_version"] == COLD_START_VERSION for p in out)
    scores = [p["score"] for p in out]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert len(set(scores)) > 1, "the cold start orders tasks; it does not give them one score"


@pytest.mark.parametrize("strategy", ["margin", "entropy", "default"])
def test_with_a_model_results_are_the_argmax(model: TextModel, strategy: str) -> None:
    out = predict_tasks(tasks_of(["fun and great film", "dull and slow"]), SINGLE, model, "v1", strategy, 1000)
    assert [p["result"][0]["value"]["choices"] for p in out] == [["pos"], ["neg"]]
    assert all(0.0 <= p["score"] <= 1.0 and p["model_version"] == "v1" for p in out)


def test_margin_puts_the_uncertain_task_first(model: TextModel) -> None:
    out = predict_tasks(tasks_of(["fun and great film", "unrelated words"]), SINGLE, model, "v1", "margin", 1000)
    assert out[1]["score"] < out[0]["score"]


def test_same_tasks_same_predictions(model: TextModel) -> None:
    tasks = tasks_of([*TEXTS, "a new one"])
    assert predict_tasks(tasks, SINGLE, model, "v1", "default", 1000) == predict_tasks(
        tasks, SINGLE, model, "v1", "default", 1000
    )


def test_multilabel_predictions() -> None:
    targets = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 1, 1], [1, 0, 0], [0, 0, 1]])
    model = train_model(featurize(TEXTS), targets, MULTI.labels, multilabel=True)
    out = predict_tasks(tasks_of(TEXTS, key="body"), MULTI, model, "v2", "margin", 1000)
    chosen = [set(p["result"][0]["value"]["choices"]) if p["result"] else set() for p in out]
    assert chosen[0] == {"fun"} and chosen[5] == {"sad"}
    assert all(p["result"][0]["from_name"] == "tags" for p in out if p["result"])


def test_default_strategy_leaves_the_cold_start_once_every_class_is_labeled() -> None:
    """500 labels cover all six trec6 classes: the default strategy must now rank by the model.

    Its first batch (10 lowest scores) may hold a random pick and is class-balanced, but it must
    consist of tasks the model is unsure about, not the cold start's representative ones.
    """
    rows = load_rows()
    train, pool = rows[:500], rows[-300:]
    labels = ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
    schema = TaskSchema("label", "text", "Text", "text", labels, False)
    model = train_model(featurize([r["text"] for r in train]), [labels.index(r["label"]) for r in train], labels)
    tasks = tasks_of([r["text"] for r in pool])

    def first_batch(trained: TextModel | None) -> list[int]:
        scores = [p["score"] for p in predict_tasks(tasks, schema, trained, "v1", "default", 1000)]
        return [int(i) for i in np.argsort(scores, kind="stable")[:10]]

    warm, cold = first_batch(model), first_batch(None)
    assert len(set(warm) & set(cold)) <= 3
    margin = measures.margin(model.predict_proba(featurize([t["data"]["text"] for t in tasks])))
    # the picks are far more uncertain than the pool's typical task
    assert np.median(margin[warm]) > np.median(margin) + 0.2
