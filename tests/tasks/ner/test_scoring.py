"""Sentences to Label Studio predictions: spans at the right offsets, scores in [0, 1]."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from backend.errors import BadRequest
from backend.tasks.ner.conll import Sentence
from backend.tasks.ner.model import SpanModel
from backend.tasks.ner.schema import SpanSchema
from backend.tasks.ner.scoring import fallback_scores, predictions, score_sentences, task_sentences
from strategies.sequence import get_sequence_strategy
from tests.tasks.ner.conftest import LABELS

SCHEMA = SpanSchema("label", "text", "Text", "text", LABELS)


def tasks_of(sentences: list[Sentence]) -> list[dict[str, Any]]:
    return [{"id": i, "data": {"text": s.text}} for i, s in enumerate(sentences)]


def test_predictions_are_label_studio_spans_at_their_offsets(crf: SpanModel, btc: list[Sentence]) -> None:
    sentences = task_sentences(tasks_of(btc[1000:1300]), SCHEMA, 10_000)
    scored = score_sentences(sentences, crf, get_sequence_strategy("least_confident"))
    preds = predictions(SCHEMA, scored, "v1")
    assert len(preds) == 300 and all(p["model_version"] == "v1" for p in preds)
    found = [r for p in preds for r in p["result"]]
    assert len(found) > 20, "a CRF trained on 400 tweets finds names in 300 others (they hold 213)"
    for pred, text in zip(preds, sentences.texts, strict=True):
        assert 0.0 <= pred["score"] <= 1.0
        for r in pred["result"]:
            assert (r["from_name"], r["to_name"], r["type"]) == ("label", "text", "labels")
            value = r["value"]
            assert text[value["start"]:value["end"]] == value["text"] and value["labels"][0] in LABELS
            assert 0.0 < r["score"] <= 1.0
        assert len({r["id"] for r in pred["result"]}) == len(pred["result"])


def test_least_confident_scores_are_the_best_sequence_probability(crf: SpanModel, btc: list[Sentence]) -> None:
    sentences = task_sentences(tasks_of(btc[1000:1100]), SCHEMA, 10_000)
    scored = score_sentences(sentences, crf, get_sequence_strategy("least_confident"))
    assert np.allclose(scored.scores, scored.outputs.decoded.best_proba)


def test_before_any_model_scores_follow_the_cold_start_and_carry_no_spans(btc: list[Sentence]) -> None:
    sentences = task_sentences(tasks_of(btc[:200]), SCHEMA, 10_000)
    scored = score_sentences(sentences, None, get_sequence_strategy(None), batch_size=10)
    assert sorted(np.round(scored.scores * 199).astype(int).tolist()) == list(range(200))
    assert all(p["result"] == [] for p in predictions(SCHEMA, scored, "cold"))


def test_fallback_scores_one_sentence_as_in_the_pool(crf: SpanModel, btc: list[Sentence]) -> None:
    whole = fallback_scores(task_sentences(tasks_of(btc[1000:1050]), SCHEMA, 10_000), crf).scores
    alone = fallback_scores(task_sentences(tasks_of(btc[1010:1011]), SCHEMA, 10_000), crf).scores
    assert alone[0] == pytest.approx(whole[10])


def test_a_task_without_the_text_field_is_a_422() -> None:
    with pytest.raises(BadRequest) as caught:
        task_sentences([{"id": 5, "data": {"body": "x"}}], SCHEMA, 100)
    assert caught.value.status == 422 and '"text"' in caught.value.message


def test_committee_scores_come_from_bootstrap_crfs(crf: SpanModel, btc: list[Sentence]) -> None:
    sentences = task_sentences(tasks_of(btc[1000:1100]), SCHEMA, 10_000)
    scores = score_sentences(sentences, crf, get_sequence_strategy("committee"), seed=1).scores
    again = score_sentences(sentences, crf, get_sequence_strategy("committee"), seed=1).scores
    assert np.array_equal(scores, again) and len(np.unique(scores)) > 5
