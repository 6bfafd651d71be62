"""Spans to BIO tags: every edge case the annotations bring, and back to entities."""

from __future__ import annotations

from backend.tasks.ner.bio import Span, repair, spans_to_tags, tags_to_ranges
from backend.tasks.ner.tokens import tokenize

TEXT = "Barack Obama visited New York City today"
TOKENS = tokenize(TEXT)
LABELS = ("PER", "LOC", "ORG")


def span(words: str, label: str) -> Span:
    start = TEXT.index(words)
    return Span(start, start + len(words), label)


def tags(*spans: Span) -> list[str]:
    return spans_to_tags(TOKENS, spans, LABELS)[0]


def test_spans_become_bio() -> None:
    assert tags(span("Barack Obama", "PER"), span("New York City", "LOC")) == [
        "B-PER", "I-PER", "O", "B-LOC", "I-LOC", "I-LOC", "O"]


def test_no_span_is_all_outside() -> None:
    assert tags() == ["O"] * len(TOKENS)


def test_a_span_cutting_a_token_takes_the_whole_token_and_is_counted() -> None:
    start = TEXT.index("rack")
    out, report = spans_to_tags(TOKENS, [Span(start, TEXT.index("Obama") + 3, "PER")], LABELS)
    assert out[:3] == ["B-PER", "I-PER", "O"]
    assert report.cut_tokens == 2


def test_nested_spans_keep_the_longest() -> None:
    out, report = spans_to_tags(TOKENS, [span("New York City", "LOC"), span("York", "ORG")], LABELS)
    assert out[3:6] == ["B-LOC", "I-LOC", "I-LOC"]
    assert report.overlaps_dropped == 1


def test_crossing_spans_keep_the_longest_then_the_earliest() -> None:
    out, report = spans_to_tags(TOKENS, [span("Obama visited", "ORG"), span("Barack Obama", "PER")], LABELS)
    assert out[:3] == ["B-PER", "I-PER", "O"], "equal length: the earlier span wins"
    assert report.overlaps_dropped == 1


def test_unknown_labels_and_spans_over_nothing_are_dropped_and_counted() -> None:
    gap = TEXT.index(" visited")
    out, report = spans_to_tags(TOKENS, [span("Barack", "ALIEN"), Span(gap, gap + 1, "PER"),
                                         Span(500, 510, "PER")], LABELS)
    assert out == ["O"] * len(TOKENS)
    assert report.unknown_labels == {"ALIEN": 1} and report.empty_spans == 2


def test_the_same_span_twice_is_one_entity() -> None:
    out, report = spans_to_tags(TOKENS, [span("Barack Obama", "PER"), span("Barack Obama", "PER")], LABELS)
    assert out[:2] == ["B-PER", "I-PER"] and report.overlaps_dropped == 0


def test_adjacent_entities_of_one_type_stay_apart() -> None:
    out = tags(span("Barack", "PER"), span("Obama", "PER"))
    assert out[:2] == ["B-PER", "B-PER"]
    assert tags_to_ranges(out) == [(0, 1, "PER"), (1, 2, "PER")]


def test_io_tags_are_repaired_to_iob2() -> None:
    assert repair(["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-ORG"]) == [
        "B-PER", "I-PER", "O", "B-LOC", "B-LOC", "B-ORG"]
