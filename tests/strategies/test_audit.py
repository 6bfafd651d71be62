"""The audit draw: its share over draws, uniform and seeded, placed among the head of the order."""

from __future__ import annotations

import numpy as np
import pytest

from strategies import audit_count, draw_audit, order_from_scores, place_audit


def test_counts_keep_the_share_across_draws() -> None:
    assert [audit_count(0.05, 10, d) for d in range(6)] == [0, 1, 0, 1, 0, 1]
    assert sum(audit_count(0.1, 10, d) for d in range(30)) == 30
    assert sum(audit_count(0.07, 10, d) for d in range(100)) == 70
    assert audit_count(0.0, 10, 5) == 0
    with pytest.raises(ValueError, match="share"):
        audit_count(1.5, 10, 0)


def test_draws_are_uniform_and_seeded() -> None:
    first, again = (draw_audit(100, 5, np.random.default_rng(4)) for _ in range(2))
    assert first.tolist() == again.tolist() and len(set(first.tolist())) == 5
    hits = np.zeros(50)
    rng = np.random.default_rng(0)
    for _ in range(4000):
        hits[draw_audit(50, 2, rng)] += 1
    assert hits.min() > 120 and hits.max() < 200  # expected 160 each
    assert len(draw_audit(3, 10, rng)) == 3


def test_placement_keeps_the_strategy_order_and_puts_audit_rows_in_the_head() -> None:
    rng = np.random.default_rng(1)
    scores = rng.random(200)
    audit = np.array([5, 77, 150])
    placed = place_audit(scores, audit, 10, rng)
    order = order_from_scores(placed).tolist()
    assert set(order[:10]) >= set(audit.tolist())
    rest = [i for i in order if i not in audit]
    assert rest == [i for i in order_from_scores(scores).tolist() if i not in audit]
    assert placed.min() == 0.0 and placed.max() == 1.0 and len(np.unique(placed)) == 200


def test_placement_spreads_positions_over_the_head() -> None:
    rng = np.random.default_rng(2)
    seen = set()
    for _ in range(200):
        placed = place_audit(np.linspace(0, 1, 50), np.array([40]), 10, rng)
        seen.add(order_from_scores(placed).tolist().index(40))
    assert seen == set(range(10))
    with pytest.raises(ValueError, match="audit rows"):
        place_audit(np.zeros(5), np.array([7]), 3, rng)
