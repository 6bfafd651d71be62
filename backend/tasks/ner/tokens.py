"""A tokenizer that keeps character offsets, so tags map back to Label Studio spans exactly.

Whitespace separates tokens; inside a chunk, runs of word characters (with inner
apostrophes, hyphens and dots: ``don't``, ``e-mail``, ``3.5``; ``U.S.`` keeps its last
dot) are one token and every other character is a token of its own, except that URLs
and ``@user`` / ``#tag`` stay whole, because in social text they are the entities (or
clearly not). A CoNLL sentence joined by single spaces gives back its own tokens unless
a token holds a space or splits further.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"https?://\S+|www\.\S+"              # URLs, whole
    r"|[@#][\w]+"                          # mentions and hashtags
    r"|\w(?:\.\w)+\."                       # abbreviations of single letters: "U.S.", "e.g."
    r"|\w+(?:['’\-.]\w+)*"                 # words with inner apostrophes, hyphens, dots
    r"|[^\w\s]",                           # any other character on its own
    re.UNICODE,
)


@dataclass(frozen=True)
class Token:
    """A token and where it sits in the text: ``text[start:end] == token.text``."""

    text: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text`` in order, with their character offsets."""
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def from_words(words: list[str]) -> tuple[str, list[Token]]:
    """A pre-tokenized sentence (a CoNLL file's) as its space-joined text and its tokens."""
    tokens, start = [], 0
    for word in words:
        tokens.append(Token(word, start, start + len(word)))
        start += len(word) + 1
    return " ".join(words), tokens
