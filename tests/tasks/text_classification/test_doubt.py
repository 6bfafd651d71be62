"""Labels to doubt (on real trec6 labels with known flips), annotator agreement, class balance."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from backend.tasks.text_classification.doubt import LabelValue, annotator_agreement, class_balance, doubtful_labels
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.metrics import evaluate
from tests.conftest import load_rows


def test_flipped_labels_rank_near_the_top() -> None:
    """5% of 1,000 trec6 labels flipped to another class; the top 50 doubts should find them.

    Measured top-50 precision: 0.60 with this seed; 0.42-0.60 over five seeds (a random
    ranking finds 0.05). The out-of-fold model is about 72% accurate at 1,000 labels, so
    many genuine mistakes of the model compete with the flips.
    """
    rows = [r for r in load_rows("trec6.csv") if r["split"] == "train"]
    rng = np.random.default_rng(0)
    picked = rng.permutation(len(rows))[:1000]
    labels = sorted({r["label"] for r in rows})
    truth = np.array([labels.index(rows[i]["label"]) for i in picked])
    flipped = rng.choice(1000, 50, replace=False)
    given = truth.copy()
    given[flipped] = (truth[flipped] + rng.integers(1, len(labels), 50)) % len(labels)
    texts = [rows[i]["text"] for i in picked]
    ev = evaluate(featurize(texts), given, labels)
    assert ev.oof_proba is not None
    ids = [f"task-{i}" for i in range(1000)]
    doubts = doubtful_labels(ev.oof_proba, given, ids, labels, texts=texts, limit=50)
    assert len(doubts) == 50
    assert [d.margin for d in doubts] == sorted((d.margin for d in doubts), reverse=True)
    flipped_ids = {ids[i] for i in flipped}
    hits = [d for d in doubts if d.task_id in flipped_ids]
    assert len(hits) / 50 >= 0.5
    # the model's suggestion is mostly the label before the flip
    restored = [d.suggested == labels[truth[ids.index(str(d.task_id))]] for d in hits]
    assert np.mean(restored) >= 0.8
    assert all(d.text == texts[ids.index(str(d.task_id))] for d in doubts)
    json.dumps([d.to_dict() for d in doubts])


def test_per_class_thresholds_on_constructed_probabilities() -> None:
    proba = np.array([
        [0.90, 0.05, 0.05],  # A, confident
        [0.80, 0.10, 0.10],  # A
        [0.10, 0.85, 0.05],  # A, but the model is sure of B: doubtful
        [0.10, 0.80, 0.10],  # B
        [0.20, 0.70, 0.10],  # B
        [0.70, 0.25, 0.05],  # B, but A passes A's threshold: doubtful
        [0.10, 0.10, 0.80],  # C
        [0.30, 0.20, 0.50],  # C, unsure, yet no other class passes its threshold
    ])
    given = [0, 0, 0, 1, 1, 1, 2, 2]
    doubts = doubtful_labels(proba, given, list(range(8)), ["A", "B", "C"])
    assert [(d.task_id, d.given, d.suggested) for d in doubts] == [(2, "A", "B"), (5, "B", "A")]
    assert doubts[0].margin == pytest.approx(0.75) and doubts[1].margin == pytest.approx(0.45)
    assert doubtful_labels(proba, given, list(range(8)), ["A", "B", "C"], limit=1) == doubts[:1]
    with pytest.raises(ValueError, match="same labeled tasks"):
        doubtful_labels(proba, given, list(range(7)), ["A", "B", "C"])


def test_multilabel_doubts_name_the_choice_in_question() -> None:
    given = np.array([[1, 0], [1, 0], [0, 0], [0, 1], [1, 1], [0, 0]])
    proba = np.array([[0.9, 0.1], [0.8, 0.1], [0.95, 0.1], [0.1, 0.9], [0.85, 0.05], [0.1, 0.1]])
    doubts = doubtful_labels(proba, given, list("abcdef"), ["X", "Y"], multilabel=True)
    found = {(d.task_id, d.given, d.suggested) for d in doubts}
    assert found == {("c", "not X", "X"), ("e", "Y", "not Y")}
    assert all(d.margin == pytest.approx(0.9) for d in doubts)


def test_annotator_agreement_on_a_constructed_overlap() -> None:
    classes = ["LOC", "HUM", "NUM"]
    alice = [(t, "alice", classes[t % 3]) for t in range(40)]
    bob = [(t, "bob", classes[(t + 1) % 3] if t % 5 == 0 else classes[t % 3]) for t in range(40)]
    carol = [(t, "carol", classes[t % 3]) for t in range(35, 40)]
    dave = [(0, "dave", "LOC")]
    multi: list[tuple[int, str, LabelValue]] = [(100, "erin", ["x", "y"]),
                                                (100, "frank", ["y", "x"])]
    report = annotator_agreement([*alice, *bob, *carol, *dave, *multi])
    pairs = {(p.annotator_a, p.annotator_b): p for p in report.pairs}
    ab = pairs[("alice", "bob")]
    expected = cohen_kappa_score([v for _, _, v in alice], [v for _, _, v in bob])
    assert ab.n_tasks == 40 and ab.agreement == pytest.approx(32 / 40)
    assert ab.kappa == pytest.approx(expected, abs=1e-4)
    assert pairs[("alice", "carol")].kappa == 1.0 and pairs[("alice", "carol")].n_tasks == 5
    assert pairs[("alice", "dave")].kappa is None  # one shared task says nothing
    assert pairs[("erin", "frank")].agreement == 1.0
    assert sorted(d.task_id for d in report.disagreements) == list(range(0, 40, 5))
    task0 = next(d for d in report.disagreements if d.task_id == 0)
    assert task0.labels == {"alice": "LOC", "bob": "HUM", "dave": "LOC"}
    assert report.n_tasks == 41 and report.n_shared_tasks == 41
    json.dumps(report.to_dict())


def test_relabeling_keeps_the_last_value() -> None:
    report = annotator_agreement([(1, "a", "X"), (1, "b", "Y"), (1, "a", "Y")])
    assert report.disagreements == [] and report.pairs[0].agreement == 1.0


def test_class_balance_flags_over_and_under_represented_classes() -> None:
    targets = [0] * 50 + [1] * 30 + [2] * 20
    pool = np.zeros((100, 3))
    pool[np.arange(100), [0] * 10 + [1] * 60 + [2] * 30] = 0.9
    report = class_balance(targets, pool, ["A", "B", "C"])
    flags = {c.label: c.flag for c in report.classes}
    assert flags == {"A": "over", "B": "under", "C": ""}
    a = report.classes[0]
    assert (a.labeled, a.labeled_share, a.predicted, a.predicted_share) == (50, 0.5, 10, 0.1)
    assert [c.label for c in report.flagged] == ["A", "B"]
    assert report.to_dict()["flagged"] == ["A", "B"]
    with pytest.raises(ValueError, match="one column per label"):
        class_balance(targets, pool[:, :2], ["A", "B", "C"])


def test_class_balance_ignores_small_gaps_and_handles_multilabel() -> None:
    targets = np.array([[1, 0]] * 3 + [[0, 1]] * 97)
    pool = np.array([[0.9, 0.1]] * 1 + [[0.1, 0.9]] * 99)  # X: 3% labeled vs 1% predicted
    report = class_balance(targets, pool, ["X", "Y"], multilabel=True)
    assert [c.flag for c in report.classes] == ["", ""]  # 3x but only 2 points apart
    assert report.classes[0].labeled == 3 and report.classes[0].predicted == 1
