"""Character spans to token tags (BIO, strict IOB2) and back.

Label Studio spans are character ranges; the CRF learns one tag per token. The rules,
each counted in :class:`Conversion` so the version record can say what happened:

* a span that cuts a token takes the whole token (annotators often miss a character);
* a span that covers no token (only spaces) is dropped;
* overlapping or nested spans cannot both be BIO: the longest wins (the earliest of equal
  length), the others are dropped;
* a span whose label the config does not know is dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from backend.tasks.ner.tokens import Token

OUTSIDE = "O"


@dataclass(frozen=True)
class Span:
    """A labeled character range ``[start, end)`` of a text."""

    start: int
    end: int
    label: str


@dataclass
class Conversion:
    """What turning spans into tags had to decide, over any number of annotations."""

    cut_tokens: int = 0
    empty_spans: int = 0
    overlaps_dropped: int = 0
    unknown_labels: Counter[str] = field(default_factory=Counter)

    def add(self, other: Conversion) -> None:
        self.cut_tokens += other.cut_tokens
        self.empty_spans += other.empty_spans
        self.overlaps_dropped += other.overlaps_dropped
        self.unknown_labels.update(other.unknown_labels)

    def to_dict(self) -> dict[str, object]:
        return {"cut_tokens": self.cut_tokens, "empty_spans": self.empty_spans,
                "overlaps_dropped": self.overlaps_dropped, "unknown_labels": dict(self.unknown_labels)}


def _token_range(tokens: Sequence[Token], span: Span) -> tuple[int, int, int]:
    """First and past-last token a span touches, and how many of them it cuts."""
    first = last = -1
    cut = 0
    for i, token in enumerate(tokens):
        if token.end <= span.start or token.start >= span.end:
            continue
        if first < 0:
            first = i
        last = i
        cut += int(token.start < span.start or token.end > span.end)
    return first, last + 1, cut


def spans_to_tags(tokens: Sequence[Token], spans: Iterable[Span],
                  labels: Sequence[str]) -> tuple[list[str], Conversion]:
    """BIO tags for ``tokens`` from ``spans``, and what had to be decided."""
    report = Conversion()
    known = set(labels)
    ranges: list[tuple[int, int, str]] = []
    for span in spans:
        if span.label not in known:
            report.unknown_labels[span.label] += 1
            continue
        first, stop, cut = _token_range(tokens, span)
        if first < 0:
            report.empty_spans += 1
            continue
        report.cut_tokens += cut
        ranges.append((first, stop, span.label))
    tags = [OUTSIDE] * len(tokens)
    taken = [False] * len(tokens)
    for first, stop, label in sorted(set(ranges), key=lambda r: (r[0] - r[1], r[0], r[2])):
        if any(taken[first:stop]):
            report.overlaps_dropped += 1
            continue
        tags[first] = f"B-{label}"
        for i in range(first + 1, stop):
            tags[i] = f"I-{label}"
        for i in range(first, stop):
            taken[i] = True
    return tags, report


def tags_to_ranges(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Entities as (first token, past-last token, label), reading tags as strict IOB2.

    An ``I-`` tag that does not continue an entity of its label starts a new one (the same
    repair seqeval applies in its default mode); the model's best path rarely needs it.
    """
    out: list[tuple[int, int, str]] = []
    current: list[int | str] | None = None
    for i, tag in enumerate(tags):
        prefix, _, label = tag.partition("-")
        if prefix == "I" and current is not None and current[2] == label:
            current[1] = i + 1
            continue
        if current is not None:
            out.append((int(current[0]), int(current[1]), str(current[2])))
            current = None
        if prefix in ("B", "I") and label:
            current = [i, i + 1, label]
    if current is not None:
        out.append((int(current[0]), int(current[1]), str(current[2])))
    return out


def repair(tags: Sequence[str]) -> list[str]:
    """The same entities as valid IOB2: every entity opens with ``B-``."""
    out = [OUTSIDE] * len(tags)
    for first, stop, label in tags_to_ranges(tags):
        out[first] = f"B-{label}"
        for i in range(first + 1, stop):
            out[i] = f"I-{label}"
    return out
