"""Multi-label pre-selection: per-label cuts chosen out of fold, the top-label floor, old artifacts."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import joblib
import numpy as np
import numpy.typing as npt
import pytest
from sklearn.metrics import f1_score

from backend import defaults
from backend.reports.audit import audit_figures
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.kind import TEXT_CLASSIFICATION as KIND
from backend.tasks.text_classification.model import train_model
from backend.tasks.text_classification.schema import TaskSchema
from backend.tasks.text_classification.thresholds import Thresholds, chosen, fold_indices, label_threshold, top_floor

LABELS = ("sport", "music", "food", "travel")
SCHEMA = TaskSchema("tags", "text", "Text", "text", LABELS, True)
#: How often each label applies: the rarer ones are the ones a fixed 0.5 never shows early.
RATES = (0.5, 0.3, 0.2, 0.15)


@pytest.fixture(autouse=True)
def _quiet_sklearn() -> Iterator[None]:
    """One-vs-rest warns when a label is constant in training; early folds do that on purpose."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def synthetic(n: int, rng: np.random.Generator) -> tuple[list[str], npt.NDArray[np.int_]]:
    """Texts whose labels are known: each label brings three of its own 30 words into 12 noise words."""
    vocab = {label: [f"{label}{i}" for i in range(30)] for label in LABELS}
    noise = [f"w{i}" for i in range(300)]
    texts, rows = [], []
    for _ in range(n):
        row = (rng.random(len(LABELS)) < RATES).astype(int)
        words = list(rng.choice(noise, 12))
        for j, label in enumerate(LABELS):
            if row[j]:
                words += list(rng.choice(vocab[label], 3))
        rng.shuffle(words)
        texts.append(" ".join(words))
        rows.append(row)
    return texts, np.array(rows)


def test_cut_maximizes_the_labels_f1() -> None:
    p = np.array([0.9, 0.8, 0.3, 0.2, 0.1, 0.05])
    y = np.array([1, 1, 1, 0, 0, 0])
    assert label_threshold(y, p) == pytest.approx(0.25)  # between the last positive and the first negative
    y_mixed = np.array([1, 0, 1, 1, 0, 0])  # best F1 (6/7) keeps the top four
    assert label_threshold(y_mixed, p) == pytest.approx(0.15)


def test_a_label_with_few_positives_keeps_the_fixed_threshold() -> None:
    p = np.array([0.4, 0.3, 0.2, 0.1])
    y = np.zeros(4, dtype=int)
    y[:defaults.MULTILABEL_MIN_POSITIVES - 1] = 1
    assert label_threshold(y, p) == defaults.MULTILABEL_THRESHOLD
    assert label_threshold(np.ones(4, dtype=int), p) == defaults.MULTILABEL_THRESHOLD


def test_top_label_floor_only_when_rows_have_labels() -> None:
    oof = np.array([[0.4, 0.1], [0.35, 0.2], [0.1, 0.3], [0.05, 0.02]])
    cuts = np.array([0.9, 0.9])  # nothing passes: every row is empty
    labeled = np.array([[1, 0], [1, 0], [0, 1], [0, 0]])
    floor = top_floor(labeled, oof, cuts)
    assert floor is not None and 0.05 < floor <= 0.3  # the three right top labels, not the unlabeled row
    assert top_floor(np.zeros((4, 2), dtype=int), oof, cuts) is None


def test_chosen_without_thresholds_is_the_old_rule_and_with_a_floor_fills_empty_rows() -> None:
    proba = np.array([[0.7, 0.2], [0.3, 0.1], [0.05, 0.04]])
    np.testing.assert_array_equal(chosen(proba, None), proba >= defaults.MULTILABEL_THRESHOLD)
    rule = Thresholds((0.6, 0.15), top_floor=0.25)
    np.testing.assert_array_equal(chosen(proba, rule), [[True, True], [True, False], [False, False]])


def test_folds_cover_every_row_once() -> None:
    splits = fold_indices(23, seed=3)
    assert len(splits) == defaults.MULTILABEL_FOLDS
    held_out = np.concatenate([test for _, test in splits])
    np.testing.assert_array_equal(np.sort(held_out), np.arange(23))
    assert all(np.intersect1d(train, test).size == 0 for train, test in splits)
    assert fold_indices(1) == []


def test_out_of_fold_thresholds_beat_one_half_early() -> None:
    """At 20 labels, pre-selecting by the model's own thresholds is far closer to the truth."""
    gains = []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        train_texts, train_y = synthetic(20, rng)
        test_texts, test_y = synthetic(500, rng)
        model = train_model(featurize(train_texts), train_y, LABELS, multilabel=True)
        assert model.thresholds is not None
        proba = model.predict_proba(featurize(test_texts))
        fixed = f1_score(test_y, proba >= defaults.MULTILABEL_THRESHOLD, average="macro", zero_division=0)
        own = f1_score(test_y, chosen(proba, model.thresholds), average="macro", zero_division=0)
        gains.append(own - fixed)
    assert min(gains) > 0, gains
    assert float(np.mean(gains)) > 0.1, gains


def test_predictions_use_the_models_thresholds_and_old_artifacts_keep_one_half(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    train_texts, train_y = synthetic(20, rng)
    test_texts, _ = synthetic(100, rng)
    model = train_model(featurize(train_texts), train_y, LABELS, multilabel=True)
    tasks = [{"id": i, "data": {"text": t}} for i, t in enumerate(test_texts)]
    inputs = KIND.inputs(tasks, SCHEMA, 1000)
    proba = model.predict_proba(inputs)

    def shown(m: object) -> list[set[str]]:
        scored = KIND.score(inputs, m, SCHEMA, KIND.strategy("margin"), batch_size=10, seed=0)
        return [set(p["result"][0]["value"]["choices"]) if p["result"] else set()
                for p in KIND.predictions(SCHEMA, scored, "v1")]

    expected = [{LABELS[j] for j in np.flatnonzero(row)} for row in chosen(proba, model.thresholds)]
    assert shown(model) == expected
    # an artifact written before thresholds existed has no such attribute: it loads, and keeps 0.5
    del model.__dict__["thresholds"]
    joblib.dump(model, tmp_path / "old.joblib")
    old = joblib.load(tmp_path / "old.joblib")
    assert old.thresholds is None
    assert shown(old) == [{LABELS[j] for j in np.flatnonzero(row >= 0.5)} for row in proba]
    assert sum(map(len, shown(old))) < sum(map(len, expected))


def test_too_few_labeled_tasks_choose_no_thresholds() -> None:
    texts, y = synthetic(defaults.MULTILABEL_MIN_ROWS - 1, np.random.default_rng(1))
    assert train_model(featurize(texts), y, LABELS, multilabel=True).thresholds is None
    texts, y = synthetic(defaults.MULTILABEL_MIN_ROWS + 10, np.random.default_rng(1))
    assert train_model(featurize(texts), y, LABELS, multilabel=True).thresholds is not None
    assert train_model(featurize(texts), y.argmax(axis=1), LABELS).thresholds is None  # single-label


def test_the_audit_of_a_multilabel_version_counts_what_it_pre_selects() -> None:
    """The audit estimate (random audit rows, refits of the version's model) holds the
    served model's subset accuracy on unseen texts inside its interval."""
    rng = np.random.default_rng(5)
    texts, targets = synthetic(1400, rng)
    counts = featurize(texts)
    n = 400
    served = train_model(counts[:n], targets[:n], LABELS, multilabel=True)
    truth = float((chosen(served.predict_proba(counts[n:]), served.thresholds) == targets[n:]).all(axis=1).mean())
    refit = KIND.refit(served)
    decided = refit.fit_predict(np.arange(300), np.arange(300, n))
    assert set(np.unique(decided)) <= {0.0, 1.0}
    audit = np.sort(rng.choice(n, 150, replace=False))
    est = audit_figures(refit.fit_predict, refit.targets, np.arange(n), audit, multilabel=True,
                        with_saving=False).estimate
    assert est.accuracy is not None and est.low is not None and est.high is not None
    assert est.low <= truth <= est.high, (est, truth)
