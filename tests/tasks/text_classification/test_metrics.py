"""Cross-validated metrics on real trec6 labels, checked against scikit-learn's own functions."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
    hamming_loss,
    precision_recall_fscore_support,
)
from threadpoolctl import threadpool_limits

from backend.tasks.agreement import cohen_kappa
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.metrics import Evaluation, calibration, evaluate
from backend.tasks.text_classification.model import train_model
from backend.tasks.text_classification.thresholds import chosen
from tests.conftest import load_rows


@pytest.fixture(scope="module")
def trec() -> tuple[sp.csr_matrix, np.ndarray, list[str], list[str]]:
    rows = [r for r in load_rows("trec6.csv") if r["split"] == "train"]
    order = np.random.default_rng(0).permutation(len(rows))[:1000]
    texts = [rows[i]["text"] for i in order]
    labels = sorted({r["label"] for r in rows})
    y = np.array([labels.index(rows[i]["label"]) for i in order])
    return featurize(texts), y, labels, texts


@pytest.fixture(scope="module")
def evaluation(trec: tuple[Any, ...]) -> Evaluation:
    counts, y, labels, _ = trec
    return evaluate(counts, y, labels)


def test_metrics_match_scikit_learn_on_the_out_of_fold_predictions(
    trec: tuple[Any, ...], evaluation: Evaluation
) -> None:
    _, y, labels, _ = trec
    m = evaluation.metrics
    assert m["status"] == "ok" and m["n_splits"] == 5 and m["n_labels"] == 1000
    assert evaluation.oof_proba is not None
    pred = evaluation.oof_proba.argmax(axis=1)
    assert m["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert m["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro"))
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=range(len(labels)), zero_division=0)
    assert [c["label"] for c in m["per_class"]] == labels
    assert [c["precision"] for c in m["per_class"]] == pytest.approx(p)
    assert [c["recall"] for c in m["per_class"]] == pytest.approx(r)
    assert [c["f1"] for c in m["per_class"]] == pytest.approx(f)
    assert [c["support"] for c in m["per_class"]] == list(s)
    assert m["confusion_matrix"] == confusion_matrix(y, pred, labels=range(len(labels))).tolist()
    assert 0.65 < m["accuracy"] < 0.85  # trec6 at 1,000 random labels, logistic regression


def test_predictions_are_out_of_fold(trec: tuple[Any, ...], evaluation: Evaluation) -> None:
    """A model scored on its own training labels looks far better than out-of-fold."""
    counts, y, labels, _ = trec
    assert evaluation.oof_proba is not None
    assert evaluation.oof_proba.shape == (1000, len(labels))
    assert np.allclose(evaluation.oof_proba.sum(axis=1), 1.0)
    with threadpool_limits(limits=1):  # as evaluate does: threads only contend on 2 cores
        in_sample = train_model(counts, y, labels).predict_proba(counts).argmax(axis=1)
    assert accuracy_score(y, in_sample) > evaluation.metrics["accuracy"] + 0.1


def test_calibration_error_matches_its_definition(evaluation: Evaluation) -> None:
    proba = evaluation.oof_proba
    assert proba is not None
    conf = proba.max(axis=1)
    cal = evaluation.metrics["calibration"]
    assert len(cal["bins"]) == 10 and sum(b["count"] for b in cal["bins"]) == 1000
    expected = sum(b["count"] / 1000 * abs(b["accuracy"] - b["confidence"])
                   for b in cal["bins"] if b["count"])
    assert cal["ece"] == pytest.approx(expected)
    for b in cal["bins"]:
        inside = (conf >= b["lower"]) & (conf < b["upper"] if b["upper"] < 1 else conf <= 1)
        assert b["count"] == int(inside.sum())


def test_calibration_on_constructed_confidences() -> None:
    hits = np.array([True] * 9 + [False])
    assert calibration(np.full(10, 0.9), hits)["ece"] == pytest.approx(0.0)
    assert calibration(np.full(10, 0.95), np.zeros(10, dtype=bool))["ece"] == pytest.approx(0.95)


def test_metrics_json_is_strict_json(evaluation: Evaluation) -> None:
    text = json.dumps(evaluation.to_dict(), allow_nan=False)
    back = Evaluation.from_dict(json.loads(text))
    assert back.metrics["accuracy"] == evaluation.metrics["accuracy"]
    assert back.oof_proba is None


@pytest.mark.parametrize(
    ("picked", "says"),
    [
        ([0, 1, 2, 3, 4, 5, 6, 7, 8], "at least 10"),  # 9 labels
        (list(range(40)), None),  # any 40 trec6 labels hold several classes: enough
    ],
)
def test_enough_labels_threshold(trec: tuple[Any, ...], picked: list[int], says: str | None) -> None:
    counts, y, labels, _ = trec
    result = evaluate(counts[picked], y[picked], labels)
    if says is None:
        assert result.ok and result.oof_proba is not None
    else:
        assert not result.ok and says in result.metrics["reason"]
        assert result.oof_proba is None and result.metrics["accuracy"] is None


def test_no_labels_at_all_is_not_enough(trec: tuple[Any, ...]) -> None:
    counts, _, labels, _ = trec
    single = evaluate(counts[:0], [], labels)
    multi = evaluate(counts[:0], [], labels, multilabel=True)
    for result in (single, multi):
        assert not result.ok and "0 labeled tasks" in result.metrics["reason"]
        assert set(result.metrics["label_counts"].values()) == {0}


def test_one_class_with_a_single_stray_label_is_not_enough(trec: tuple[Any, ...]) -> None:
    counts, y, labels, _ = trec
    rows = [*np.flatnonzero(y == 1)[:30], int(np.flatnonzero(y == 2)[0])]
    result = evaluate(counts[rows], y[rows], labels)
    assert result.metrics["status"] == "not_enough_labels"
    assert "two classes" in result.metrics["reason"]
    assert result.metrics["label_counts"][labels[1]] == 30
    json.dumps(result.to_dict(), allow_nan=False)


def test_small_and_lopsided_label_sets_still_evaluate(trec: tuple[Any, ...]) -> None:
    """Rare classes, even a class seen once, do not break the folds."""
    counts, y, labels, _ = trec
    rows = (list(np.flatnonzero(y == 1)[:8]) + list(np.flatnonzero(y == 2)[:3])
            + [int(np.flatnonzero(y == 0)[0])])
    result = evaluate(counts[rows], y[rows], labels)
    assert result.ok and result.oof_proba is not None
    assert 2 <= result.metrics["n_splits"] <= 5
    assert sum(sum(row) for row in result.metrics["confusion_matrix"]) == 12


def test_multilabel_metrics_match_scikit_learn(trec: tuple[Any, ...]) -> None:
    counts, y, labels, texts = trec
    n = 600
    names = [*labels, "asks what"]
    targets = np.zeros((n, len(names)), dtype=int)
    targets[np.arange(n), y[:n]] = 1
    targets[:, -1] = [t.lower().startswith("what") for t in texts[:n]]
    result = evaluate(counts[:n], targets, names, multilabel=True)
    m = result.metrics
    assert result.ok and result.oof_proba is not None and result.oof_proba.shape == (n, 7)
    assert result.oof_picked is not None and result.oof_picked.shape == (n, 7)
    pred = result.oof_picked.astype(int)  # each fold's own pre-selection, not a fixed 0.5
    assert (pred != (result.oof_proba >= 0.5)).any()
    assert m["subset_accuracy"] == pytest.approx(accuracy_score(targets, pred))
    assert m["accuracy"] == m["subset_accuracy"]
    assert m["hamming_loss"] == pytest.approx(hamming_loss(targets, pred))
    assert m["micro_f1"] == pytest.approx(f1_score(targets, pred, average="micro"))
    assert m["macro_f1"] == pytest.approx(f1_score(targets, pred, average="macro"))
    p, r, f, s = precision_recall_fscore_support(targets, pred, zero_division=0)
    assert [c["precision"] for c in m["per_class"]] == pytest.approx(p)
    assert [c["recall"] for c in m["per_class"]] == pytest.approx(r)
    assert [c["f1"] for c in m["per_class"]] == pytest.approx(f)
    assert [c["support"] for c in m["per_class"]] == list(s)
    assert m["per_class"][-1]["f1"] > 0.9  # "starts with what" is easy to learn
    json.dumps(result.to_dict(), allow_nan=False)


def test_multilabel_figures_count_what_the_served_model_pre_selects(trec: tuple[Any, ...]) -> None:
    """The cross-validated subset accuracy holds on texts the model never saw, as it serves them."""
    counts, y, labels, texts = trec
    names = [*labels, "asks what"]
    targets = np.zeros((len(y), len(names)), dtype=int)
    targets[np.arange(len(y)), y] = 1
    targets[:, -1] = [t.lower().startswith("what") for t in texts]
    n = 600  # 5 folds of 480: near enough the served model's 600 on this curve
    result = evaluate(counts[:n], targets[:n], names, multilabel=True)
    served = train_model(counts[:n], targets[:n], names, multilabel=True)
    assert served.thresholds is not None
    truth = float(accuracy_score(targets[n:], chosen(served.predict_proba(counts[n:]), served.thresholds)))
    assert abs(result.metrics["subset_accuracy"] - truth) < 0.06, (result.metrics["subset_accuracy"], truth)
    assert result.oof_proba is not None  # the fixed 0.5 rule described another model: far below
    assert accuracy_score(targets[:n], result.oof_proba >= 0.5) < truth - 0.2


def test_bad_input_is_refused_with_a_reason(trec: tuple[Any, ...]) -> None:
    counts, y, labels, _ = trec
    with pytest.raises(ValueError, match="one target per labeled text"):
        evaluate(counts[:20], y[:19], labels)
    with pytest.raises(ValueError, match="label indices"):
        evaluate(counts[:20], np.full(20, 9), labels)
    with pytest.raises(ValueError, match="0/1 matrix"):
        evaluate(counts[:20], y[:20], labels, multilabel=True)


def test_cohen_kappa() -> None:
    a, b = ["x", "y", "x", "z", "y", "x"], ["x", "y", "y", "z", "y", "x"]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    assert cohen_kappa(["x"] * 5, ["x"] * 5) == 1.0  # scikit-learn says NaN here
    with pytest.raises(ValueError, match="paired"):
        cohen_kappa(["x"], ["x", "y"])
