"""A version's entity-level figures (seqeval, strict IOB2), cross-validated on its labels."""

from __future__ import annotations

import pytest

from backend.tasks.ner.conll import Sentence
from backend.tasks.ner.figures import entity_scores, figures
from backend.tasks.ner.model import train_model
from tests.tasks.ner.conftest import LABELS


def test_entity_scores_are_strict_per_type_micro_and_macro() -> None:
    truth = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    guess = [["B-PER", "O", "O", "B-LOC"], ["B-ORG", "O"]]  # the person is cut short: wrong, strictly
    scores = entity_scores(truth, guess)
    assert scores["per_type"]["PER"]["f1-score"] == 0.0 and scores["per_type"]["LOC"]["f1-score"] == 1.0
    assert scores["micro"]["precision"] == pytest.approx(2 / 3) and scores["micro"]["recall"] == pytest.approx(2 / 3)
    assert scores["macro"]["f1-score"] == pytest.approx(2 / 3)


def test_figures_cross_validate_and_predict_the_stop_set(btc: list[Sentence]) -> None:
    train = btc[::31][:300]  # spread over the corpus's sections
    model = train_model([list(s.words) for s in train], [list(s.tags) for s in train], LABELS)
    stop = {str(i): btc[3001 + i].text for i in range(20)}
    out = figures(model, {"task_ids": list(range(300))}, stop)
    assert out.ok and out.status == "ok"
    assert 0.0 < out.headline["accuracy"] < 1.0 and 0.0 < out.headline["macro_f1"] < 1.0
    assert set(out.sections["evaluation"]["per_type"]) == set(LABELS)
    assert set(out.stop_predictions) == set(stop) and "PER" in out.details_html


def test_too_few_labels_say_so_instead_of_a_figure(btc: list[Sentence]) -> None:
    model = train_model([list(s.words) for s in btc[:5]], [list(s.tags) for s in btc[:5]], LABELS)
    out = figures(model, None, {})
    assert not out.ok and out.headline == {"accuracy": None, "macro_f1": None} and "too few" in out.status
