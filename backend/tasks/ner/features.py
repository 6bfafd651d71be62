"""Token attributes for the CRF: the word, its shape, affixes, neighbours and position.

These are the classic features of feature-based named-entity taggers (the word in lower
case, its shape such as ``Xxxx`` or ``dd``, prefixes and suffixes up to three characters,
the same of the neighbouring words, and whether it opens or closes the sentence), plus
marks for what social text uses (``@user``, ``#tag``, URLs). Each attribute is a plain
string, so the model's weights are one row per string (see :mod:`.model`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from itertools import groupby


@lru_cache(maxsize=200_000)
def shape(word: str) -> str:
    """``Xxxx`` style shape with runs squeezed: ``McDonald`` -> ``XxXx``, ``2016`` -> ``d``."""
    out = []
    for ch in word[:40]:
        if ch.isupper():
            out.append("X")
        elif ch.islower():
            out.append("x")
        elif ch.isdigit():
            out.append("d")
        else:
            out.append(ch)
    return "".join(ch for ch, _ in groupby(out))


def _kind(word: str) -> str:
    if word.startswith("@") and len(word) > 1:
        return "mention"
    if word.startswith("#") and len(word) > 1:
        return "hashtag"
    if word.startswith(("http://", "https://", "www.")):
        return "url"
    if word.isupper() and any(c.isalpha() for c in word):
        return "upper"
    if word[:1].isupper():
        return "title"
    if word.isdigit():
        return "digit"
    return "other"


@lru_cache(maxsize=200_000)
def _own(word: str) -> tuple[str, ...]:
    """A word's own attributes; cached, since a pool repeats its words many times over."""
    low = word.lower()
    attrs = [f"w={low}", f"shape={shape(word)}", f"kind={_kind(word)}"]
    for n in (1, 2, 3):
        if len(low) > n:
            attrs.append(f"p{n}={low[:n]}")
            attrs.append(f"s{n}={low[-n:]}")
    return tuple(attrs)


@lru_cache(maxsize=200_000)
def _near(word: str, offset: int) -> tuple[str, ...]:
    low = word.lower()
    return (f"{offset}:w={low}", f"{offset}:shape={shape(word)}", f"{offset}:kind={_kind(word)}",
            f"{offset}:s3={low[-3:]}")


#: Attributes that depend on a token's position only (weights summed once per model).
BIAS, FIRST, LAST, TITLE_INSIDE = "bias", "first", "last", "title_inside"


def word_slots(word: str) -> tuple[tuple[str, ...], ...]:
    """What a word contributes to a token's attributes, by where it stands: as the token
    itself, as the previous token, the next one, two before and two after.

    A token's attributes are exactly the union of these slots of itself and its neighbours
    plus the position marks, so a model can sum its weights per word once and add them up
    (:meth:`backend.tasks.ner.model.SpanModel.emissions_of`).
    """
    low = word.lower()
    return _own(word), _near(word, -1), _near(word, 1), (f"-2:w={low}",), (f"2:w={low}",)


def title_inside(word: str) -> bool:
    return word[:1].isupper()


def token_attributes(words: Sequence[str]) -> list[list[str]]:
    """One attribute list per word of a sentence (crfsuite's item format)."""
    slots = [word_slots(w) for w in words]
    out = []
    n = len(words)
    for i in range(n):
        attrs = [BIAS, *slots[i][0]]
        attrs.extend(slots[i - 1][1] if i > 0 else (FIRST,))
        if i > 1:
            attrs.extend(slots[i - 2][3])
        attrs.extend(slots[i + 1][2] if i < n - 1 else (LAST,))
        if i < n - 2:
            attrs.extend(slots[i + 2][4])
        if i > 0 and title_inside(words[i]):
            attrs.append(TITLE_INSIDE)
        out.append(attrs)
    return out


def entity_prior(words: Sequence[str]) -> float:
    """How likely a sentence is to hold an entity before any model exists, in [0, 1].

    Capitalised words past the first and ``@user`` mentions are what names look like in
    most text; the share of such words (capped) ranks sentences for the cold start.
    """
    if not words:
        return 0.0
    hits = sum(1 for i, w in enumerate(words)
               if (w.startswith("@") and len(w) > 1) or (i > 0 and w[:1].isupper() and not w.isupper()))
    return min(1.0, hits / max(3.0, len(words) / 4))
