"""Label Studio span annotations to tagged sentences for the CRF.

* A submitted annotation with no span for our control is a label: the sentence holds no
  entity (its tokens are all ``O``), which the model must learn as much as the names.
* Skipped and cancelled annotations teach nothing and are left out.
* With several annotators the tags are voted **per token** (each annotation's BIO tag of
  the token; the most votes win) and then repaired to valid IOB2; a token whose top tags
  tie leaves its sentence out, counted as a tie, rather than guessing.
* Spans with labels the config does not know, spans cutting tokens, overlapping and empty
  spans follow :mod:`.bio` and are counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from backend.tasks.ner.bio import Conversion, Span, repair, spans_to_tags, tags_to_ranges
from backend.tasks.ner.schema import SpanSchema
from backend.tasks.ner.tokens import tokenize


def task_text(task: Mapping[str, Any], schema: SpanSchema, max_chars: int) -> str | None:
    """The text the config reads from ``task``, cut to ``max_chars`` (None if absent)."""
    data = task.get("data")
    if not isinstance(data, Mapping) or schema.value_key not in data:
        return None
    value = data[schema.value_key]
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return text[:max_chars]


def annotation_spans(annotation: Any, schema: SpanSchema) -> list[Span] | None:
    """The spans one annotation gives for our control (``[]``: no entity), or None if it gives no label."""
    if not isinstance(annotation, Mapping) or annotation.get("was_cancelled"):
        return None
    results = annotation.get("result")
    if not isinstance(results, list):
        return None
    spans: list[Span] = []
    for item in results:
        if not isinstance(item, Mapping) or item.get("from_name") != schema.from_name:
            continue
        value = item.get("value")
        if not isinstance(value, Mapping):
            continue
        start, end, labels = value.get("start"), value.get("end"), value.get("labels")
        if not (isinstance(start, int) and isinstance(end, int) and isinstance(labels, list)):
            continue
        spans.extend(Span(start, end, str(label)) for label in labels if isinstance(label, str))
    return spans


@dataclass
class SpanTraining:
    """Tokenized, tagged sentences ready for :func:`backend.tasks.ner.model.train_model`."""

    labels: tuple[str, ...] = ()
    task_ids: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    words: list[list[str]] = field(default_factory=list)
    tags: list[list[str]] = field(default_factory=list)
    conversion: Conversion = field(default_factory=Conversion)
    annotators: Counter[int] = field(default_factory=Counter)
    ties: int = 0
    without_text: int = 0

    def __len__(self) -> int:
        return len(self.words)

    def record(self) -> dict[str, Any]:
        """What the version record keeps of the labels: sentences, tokens, entities per label."""
        entities = Counter(label for seq in self.tags for _, _, label in tags_to_ranges(seq))
        conv = self.conversion.to_dict()
        return {"n_labels": len(self), "n_tokens": sum(len(w) for w in self.words),
                "label_counts": {label: entities.get(label, 0) for label in self.labels},
                "labels": list(self.labels), "unknown_labels": conv.pop("unknown_labels"),
                "spans": conv, "ties": self.ties, "annotations_per_sentence": dict(self.annotators)}


def vote(tag_lists: list[list[str]]) -> list[str] | None:
    """Per-token plurality of several annotators' BIO tags, repaired; None on a tie."""
    if len(tag_lists) == 1:
        return tag_lists[0]
    out = []
    for column in zip(*tag_lists, strict=True):
        ranked = Counter(column).most_common(2)
        if len(ranked) == 2 and ranked[0][1] == ranked[1][1]:
            return None
        out.append(ranked[0][0])
    return repair(out)


def training_set(tasks: Iterable[Mapping[str, Any]], schema: SpanSchema, max_chars: int) -> SpanTraining:
    """Every task with at least one usable annotation becomes one tagged sentence."""
    out = SpanTraining(labels=schema.labels)
    for task in tasks:
        annotations = [s for a in (task.get("annotations") or []) if (s := annotation_spans(a, schema)) is not None]
        if not annotations:
            continue
        text = task_text(task, schema, max_chars)
        if text is None:
            out.without_text += 1
            continue
        tokens = tokenize(text)
        if not tokens:  # nothing to tag: the CRF cannot learn from an empty sequence
            out.without_text += 1
            continue
        tag_lists = []
        for spans in annotations:
            tags, report = spans_to_tags(tokens, spans, schema.labels)
            out.conversion.add(report)
            tag_lists.append(tags)
        voted = vote(tag_lists)
        if voted is None:
            out.ties += 1
            continue
        out.annotators[len(tag_lists)] += 1
        out.task_ids.append(int(task.get("id", -1)))
        out.texts.append(text)
        out.words.append([t.text for t in tokens])
        out.tags.append(voted)
    return out
