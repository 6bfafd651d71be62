"""The named-entity audit estimate against the truth, on real tweets chosen by the NER default."""

from __future__ import annotations

import numpy as np
import pytest
from seqeval.metrics import f1_score
from seqeval.scheme import IOB2

from backend.reports.entity_estimate import entity_estimate, span_audit_figures
from backend.simulate.audit_run import with_audit
from backend.simulate.engine import strategy_chooser
from backend.tasks.ner.conll import Sentence
from backend.tasks.ner.kind import NAMED_ENTITIES
from backend.tasks.ner.simulation import SpanData
from strategies.sequence import DEFAULT_SEQUENCE_STRATEGY
from tests.tasks.ner.conftest import LABELS

ROUNDS, BATCH, SHARE = 8, 30, 1 / 3  # 240 labels, 80 of them audit draws


def active_run(btc: list[Sentence], seed: int) -> tuple[float, dict[str, float | int | None]]:
    """Label by the default strategy with audit draws; the held-out F1 and the audit estimate."""
    data = SpanData(tuple(btc[seed::4][:2000]), LABELS)
    rng = np.random.default_rng(seed)
    order = rng.permutation(data.n_rows)
    learner = data.learner(np.sort(order[500:]).astype(np.intp), np.sort(order[:500]).astype(np.intp))
    choose = strategy_chooser(DEFAULT_SEQUENCE_STRATEGY, data)
    audit_rng = np.random.default_rng([seed, 2])
    labeled = np.zeros(0, dtype=np.intp)
    audit: list[int] = []
    for draw in range(ROUNDS):
        remaining = np.setdiff1d(np.arange(learner.n_pool), labeled).astype(np.intp)
        picks = np.asarray(choose(learner, remaining, labeled, BATCH, rng), dtype=np.intp)
        batch, drawn = with_audit(picks, remaining, SHARE, draw, audit_rng)
        audit.extend(drawn.tolist())
        labeled = np.concatenate([labeled, batch]).astype(np.intp)
        learner.fit(labeled)
    truth_f1, _ = learner.scores()
    assert learner.model is not None
    refit = NAMED_ENTITIES.refit(learner.model)
    assert refit.fit_tags is not None
    position = {int(r): i for i, r in enumerate(labeled.tolist())}
    rows = np.asarray([position[a] for a in audit], dtype=np.intp)
    figures = span_audit_figures(refit.fit_tags, refit.tags, np.arange(len(labeled), dtype=np.intp), rows,
                                 seed=seed)
    return truth_f1, figures.estimate.to_dict()


def test_the_interval_holds_the_held_out_entity_f1_in_most_seeds(btc: list[Sentence]) -> None:
    runs = [active_run(btc, seed) for seed in range(4)]
    held = [est["low"] <= truth <= est["high"] for truth, est in runs]  # type: ignore[operator]
    errors = [abs(truth - est["accuracy"]) for truth, est in runs]  # type: ignore[operator]
    assert all(est["n_audit"] == 80 and est["measure"] == "entity_f1" for _, est in runs)
    assert sum(held) >= 3, f"the interval missed the held-out F1 in {held.count(False)} of 4 seeds: {runs}"
    assert float(np.mean(errors)) < 0.1, f"estimates off by {errors}: {runs}"
    widths = [est["high"] - est["low"] for _, est in runs]  # type: ignore[operator]
    assert all(0.02 < w < 0.45 for w in widths), f"intervals this wide tell nothing: {widths}"


def test_the_point_estimate_is_seqeval_strict_micro_f1_and_macro_over_types() -> None:
    truth = [["B-PER", "I-PER", "O"], ["B-LOC", "O"], ["O", "B-ORG"], ["B-PER", "O"]] * 10
    guess = [["B-PER", "I-PER", "O"], ["I-LOC", "O"], ["O", "B-ORG"], ["B-LOC", "O"]] * 10
    est = entity_estimate(truth, guess, min_audit=30)
    assert est.accuracy == pytest.approx(f1_score(truth, guess, mode="strict", scheme=IOB2, average="micro"))
    assert est.macro_f1 == pytest.approx(f1_score(truth, guess, mode="strict", scheme=IOB2, average="macro",
                                                  zero_division=0))
    assert est.low is not None and est.high is not None and est.low <= est.accuracy <= est.high
    assert est.low < est.high, "a bootstrap over varied sentences gives an interval, not a point"


def test_below_the_minimum_it_says_how_many_audit_labels_it_needs() -> None:
    est = entity_estimate([["O"]] * 12, [["O"]] * 12, min_audit=30)
    assert est.accuracy is None and est.low is None and est.n_audit == 12 and est.needed == 18
