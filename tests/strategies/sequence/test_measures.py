"""Sequence measures: token entropy aggregated, whole-sequence confidence, committee votes."""

from __future__ import annotations

import numpy as np
import pytest

from strategies.sequence import measures as m

#: Three sentences of 2, 0 and 3 tokens over three tags.
LENGTHS = np.array([2, 0, 3])
MARGINALS = np.array([
    [1.0, 0.0, 0.0], [0.5, 0.5, 0.0],           # sentence 0: one sure token, one split two ways
    [1 / 3, 1 / 3, 1 / 3], [0.9, 0.1, 0.0], [1.0, 0.0, 0.0],  # sentence 2: one token at maximum doubt
])


def test_token_entropy_is_normalised_to_one() -> None:
    assert m.token_entropy(MARGINALS) == pytest.approx([0, np.log(2) / np.log(3), 1, 0.2959, 0], abs=1e-4)


def test_aggregates_per_sentence_and_zero_for_empty_ones() -> None:
    values = np.array([1.0, 3.0, 2.0, 4.0, 0.0])
    assert m.aggregate(values, LENGTHS, "max").tolist() == [3.0, 0.0, 4.0]
    assert m.aggregate(values, LENGTHS, "mean").tolist() == [2.0, 0.0, 2.0]
    assert m.aggregate(values, LENGTHS, "sum").tolist() == [4.0, 0.0, 6.0]
    with pytest.raises(ValueError, match="median"):
        m.aggregate(values, LENGTHS, "median")  # type: ignore[arg-type]


def test_entropy_utilities_rank_as_their_aggregates_and_stay_in_range() -> None:
    for how in ("max", "mean", "sum"):
        u = m.entropy_utility(MARGINALS, LENGTHS, how)
        assert ((u >= 0) & (u <= 1)).all() and u[1] == 0.0
        assert u[2] > u[0], how
    assert m.entropy_utility(MARGINALS, LENGTHS, "max")[2] == pytest.approx(1.0)


def test_sum_utility_does_not_depend_on_other_sentences() -> None:
    alone = m.entropy_utility(MARGINALS[:2], LENGTHS[:1], "sum")
    assert alone[0] == pytest.approx(m.entropy_utility(MARGINALS, LENGTHS, "sum")[0])


def test_least_confident_margin_and_cost_aware() -> None:
    best, second = np.array([0.9, 1.0, 0.4]), np.array([0.05, 0.0, 0.35])
    assert m.least_confident(best) == pytest.approx([0.1, 0.0, 0.6])
    assert m.sequence_margin(best, second) == pytest.approx([0.15, 0.0, 0.95])
    assert m.per_token(m.least_confident(best), LENGTHS) == pytest.approx([0.05, 0.0, 0.2])


def test_vote_entropy_is_zero_when_members_agree_and_one_when_split_evenly() -> None:
    a = np.array([[0.9, 0.1], [0.8, 0.2], [0.6, 0.4]])
    b = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    lengths = np.array([1, 2])
    assert m.vote_entropy([a, a], lengths, "max").tolist() == [0.0, 0.0]
    assert m.vote_entropy([a, b], lengths, "max") == pytest.approx([0.0, 1.0])
    with pytest.raises(ValueError, match="two members"):
        m.vote_entropy([a], lengths, "max")


def test_entity_probability_is_the_likeliest_entity_token() -> None:
    assert m.entity_probability(MARGINALS, LENGTHS) == pytest.approx([0.5, 0.0, 2 / 3])
