"""Label Studio span annotations (as the labeling screen saves them) to tagged sentences."""

from __future__ import annotations

from typing import Any

from backend.tasks.ner.schema import SpanSchema
from backend.tasks.ner.targets import training_set, vote

SCHEMA = SpanSchema("label", "text", "Text", "text", ("PER", "LOC"))
TEXT = "Anna flew to Rome with Marco"


def region(words: str, label: str, from_name: str = "label") -> dict[str, Any]:
    start = TEXT.index(words)
    return {"id": f"r{start}", "from_name": from_name, "to_name": "text", "type": "labels", "origin": "manual",
            "value": {"start": start, "end": start + len(words), "text": words, "labels": [label]}}


def annotation(*results: dict[str, Any], cancelled: bool = False, who: int = 1) -> dict[str, Any]:
    return {"id": who, "result": list(results), "was_cancelled": cancelled, "completed_by": who}


def task(*annotations: dict[str, Any], text: str = TEXT, tid: int = 1) -> dict[str, Any]:
    return {"id": tid, "data": {"text": text}, "annotations": list(annotations)}


def test_one_annotation_becomes_one_tagged_sentence() -> None:
    out = training_set([task(annotation(region("Anna", "PER"), region("Rome", "LOC")))], SCHEMA, 1000)
    assert out.words == [["Anna", "flew", "to", "Rome", "with", "Marco"]]
    assert out.tags == [["B-PER", "O", "O", "B-LOC", "O", "O"]]
    assert out.record()["label_counts"] == {"PER": 1, "LOC": 1}


def test_an_annotation_without_spans_is_a_sentence_without_entities() -> None:
    out = training_set([task(annotation())], SCHEMA, 1000)
    assert out.tags == [["O"] * 6] and len(out) == 1


def test_skipped_and_cancelled_annotations_teach_nothing() -> None:
    out = training_set([task(annotation(region("Anna", "PER"), cancelled=True)), task()], SCHEMA, 1000)
    assert len(out) == 0


def test_results_of_other_controls_are_ignored() -> None:
    out = training_set([task(annotation(region("Anna", "PER", from_name="other")))], SCHEMA, 1000)
    assert out.tags == [["O"] * 6]


def test_unknown_labels_are_counted_not_trained() -> None:
    out = training_set([task(annotation(region("Anna", "ALIEN"), region("Rome", "LOC")))], SCHEMA, 1000)
    assert out.tags == [["O", "O", "O", "B-LOC", "O", "O"]]
    assert out.record()["unknown_labels"] == {"ALIEN": 1}


def test_three_annotators_vote_per_token() -> None:
    a = annotation(region("Anna", "PER"), region("Rome", "LOC"), who=1)
    b = annotation(region("Anna", "PER"), who=2)
    c = annotation(region("Anna", "PER"), region("Rome", "LOC"), region("Marco", "PER"), who=3)
    out = training_set([task(a, b, c)], SCHEMA, 1000)
    assert out.tags == [["B-PER", "O", "O", "B-LOC", "O", "O"]]
    assert out.record()["annotations_per_sentence"] == {3: 1}


def test_a_tied_token_leaves_its_sentence_out() -> None:
    out = training_set([task(annotation(region("Rome", "LOC"), who=1), annotation(who=2))], SCHEMA, 1000)
    assert len(out) == 0 and out.ties == 1


def test_voting_repairs_the_winner_to_iob2() -> None:
    assert vote([["B-PER", "I-PER"], ["O", "I-PER"], ["O", "I-PER"]]) == ["O", "B-PER"]


def test_tasks_without_the_text_field_or_tokens_are_counted() -> None:
    out = training_set([{"id": 1, "data": {"other": "x"}, "annotations": [annotation()]},
                        task(annotation(), text="   ")], SCHEMA, 1000)
    assert len(out) == 0 and out.without_text == 2


def test_spans_past_the_cut_text_are_dropped() -> None:
    out = training_set([task(annotation(region("Marco", "PER")))], SCHEMA, 10)
    assert out.tags == [["O", "O"]] and out.conversion.empty_spans == 1
