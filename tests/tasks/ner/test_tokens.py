"""The tokenizer keeps offsets: every token is exactly the text at its offsets."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from backend.tasks.ner.tokens import from_words, tokenize


def words(text: str) -> list[str]:
    return [t.text for t in tokenize(text)]


def test_words_and_punctuation_split() -> None:
    assert words("I love New York, really!") == ["I", "love", "New", "York", ",", "really", "!"]


def test_social_text_stays_whole() -> None:
    assert words("@bob see #NYC2016 at https://t.co/x?a=1 now") == [
        "@bob", "see", "#NYC2016", "at", "https://t.co/x?a=1", "now"]


def test_inner_apostrophes_hyphens_and_abbreviations() -> None:
    assert words("don't e-mail the U.S. army at 3.5 p.m.") == [
        "don't", "e-mail", "the", "U.S.", "army", "at", "3.5", "p.m."]


def test_sentence_final_dot_is_its_own_token() -> None:
    assert words("I live in Paris.") == ["I", "live", "in", "Paris", "."]


def test_empty_and_blank_texts_have_no_tokens() -> None:
    assert tokenize("") == [] and tokenize(" \n\t ") == []


def test_pre_tokenized_words_join_with_single_spaces() -> None:
    text, tokens = from_words(["New", "York", "!"])
    assert text == "New York !"
    assert [(t.start, t.end) for t in tokens] == [(0, 3), (4, 8), (9, 10)]


@given(st.text(max_size=200))
def test_every_token_is_the_text_at_its_offsets(text: str) -> None:
    tokens = tokenize(text)
    assert all(text[t.start:t.end] == t.text and t.text.strip() for t in tokens)
    assert all(a.end <= b.start for a, b in itertools.pairwise(tokens))
