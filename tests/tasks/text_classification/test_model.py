"""The classifier: probability columns in label order, edge cases of training, accuracy on trec6."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import joblib
import numpy as np
import pytest
import scipy.sparse as sp

from backend.errors import NotEnoughLabels
from backend.tasks.text_classification.estimators import AUTO_SWITCH
from backend.tasks.text_classification.features import N_FEATURES, featurize
from backend.tasks.text_classification.model import LEARNERS, fit_idf, make_estimator, train_model, weight
from backend.tasks.text_classification.pool import pool_stats
from tests.conftest import load_rows

TREC = ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
TEXTS = ["good fun film", "great acting", "dull plot", "boring and slow", "fun and great", "slow dull"]


@pytest.fixture(autouse=True)
def _quiet_sklearn() -> Iterator[None]:
    """One-vs-rest warns when a label is constant in training; that case is tested on purpose."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def rows_of(split: str) -> list[dict[str, str]]:
    return [r for r in load_rows() if r["split"] == split]


def test_single_label_probabilities_sum_to_one() -> None:
    model = train_model(featurize(TEXTS), [0, 0, 1, 1, 0, 1], ("pos", "neg"))
    proba = model.predict_proba(featurize([*TEXTS, "unseen words entirely", ""]))
    assert proba.shape == (8, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert proba[0, 0] > 0.5 and proba[3, 1] > 0.5


def test_columns_follow_label_order_and_cover_unseen_classes() -> None:
    labels = ("a", "b", "c", "d")
    model = train_model(featurize(TEXTS), [3, 3, 1, 1, 3, 1], labels)
    proba = model.predict_proba(featurize(TEXTS))
    assert proba.shape == (6, 4)
    np.testing.assert_array_equal(proba[:, [0, 2]], 0.0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert list(proba.argmax(axis=1)) == [3, 3, 1, 1, 3, 1]


def test_single_class_training_is_certain_of_that_class() -> None:
    model = train_model(featurize(TEXTS[:3]), [2, 2, 2], ("x", "y", "z"))
    proba = model.predict_proba(featurize(["anything", "else"]))
    np.testing.assert_array_equal(proba, [[0, 0, 1], [0, 0, 1]])


def test_multilabel_one_column_per_label() -> None:
    targets = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 1, 1], [1, 0, 1], [0, 0, 1]])
    model = train_model(featurize(TEXTS), targets, ("fun", "quality", "pace"), multilabel=True)
    proba = model.predict_proba(featurize(TEXTS))
    assert proba.shape == (6, 3)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert ((proba > 0.5) == targets.astype(bool)).all()


def test_multilabel_with_a_label_never_chosen() -> None:
    targets = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0], [1, 0, 0], [0, 1, 0]])
    proba = train_model(featurize(TEXTS), targets, ("a", "b", "c"), multilabel=True).predict_proba(featurize(TEXTS))
    assert proba.shape == (6, 3)
    np.testing.assert_array_equal(proba[:, 2], 0.0)


def test_multilabel_with_a_single_choice() -> None:
    """The schema accepts one checkbox with choice="multiple"; its model must train and predict."""
    targets = np.array([[1], [0], [1], [0], [1], [0]])
    model = train_model(featurize(TEXTS), targets, ("toxic",), multilabel=True)
    proba = model.predict_proba(featurize(TEXTS))
    assert proba.shape == (6, 1)
    assert ((proba[:, 0] > 0.5) == targets[:, 0].astype(bool)).all()
    always = train_model(featurize(TEXTS), np.ones((6, 1), dtype=int), ("toxic",), multilabel=True)
    np.testing.assert_allclose(always.predict_proba(featurize(["new text"])), [[1.0]])


def test_empty_texts_predict_a_distribution() -> None:
    model = train_model(featurize(TEXTS), [0, 0, 1, 1, 0, 1], ("pos", "neg"))
    proba = model.predict_proba(featurize(["", ""]))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(proba[0], proba[1])


def test_training_on_empty_texts_only() -> None:
    model = train_model(featurize(["", "", ""]), [0, 1, 0], ("a", "b"))
    assert model.columns.size == 1
    proba = model.predict_proba(featurize(["", "new words"]))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)


def test_predicting_no_rows() -> None:
    model = train_model(featurize(TEXTS), [0, 0, 1, 1, 0, 1], ("pos", "neg"))
    empty = sp.csr_matrix((0, N_FEATURES))
    assert model.predict_proba(empty).shape == (0, 2)


@pytest.mark.parametrize(("n_texts", "targets"), [(0, []), (3, [0, 1])])
def test_training_needs_one_target_per_text(n_texts: int, targets: list[int]) -> None:
    counts = featurize(TEXTS[:n_texts]) if n_texts else sp.csr_matrix((0, N_FEATURES))
    with pytest.raises(NotEnoughLabels):
        train_model(counts, targets, ("a", "b"))


def test_model_keeps_only_columns_seen_in_training() -> None:
    counts = featurize(TEXTS)
    model = train_model(counts, [0, 0, 1, 1, 0, 1], ("pos", "neg"))
    np.testing.assert_array_equal(model.columns, np.unique(counts.indices))
    assert model.transform(featurize(["completely new vocabulary"])).nnz == 0
    assert model.n_train == 6


def test_idf_and_weighting() -> None:
    counts = featurize(["aa aa bb", "bb cc"])
    idf = fit_idf(counts)
    assert idf.shape == (N_FEATURES,)
    x = weight(counts, idf)
    np.testing.assert_allclose(sp.linalg.norm(x, axis=1), 1.0)
    assert idf.min() == pytest.approx(1.0)  # a term in every document keeps weight 1


def test_active_columns_equal_all_columns() -> None:
    """Fitting only on the columns present in the labeled rows is the same model as fitting on all 2^18."""
    rows = [r for r in rows_of("train") if r["label"] in ("HUM", "LOC")][:40]
    counts = featurize([r["text"] for r in rows])
    targets = np.array([TREC.index(r["label"]) for r in rows])
    model = train_model(counts, targets, TREC, learner="logreg", calibrate=False)
    full = make_estimator().fit(weight(counts, model.idf), targets)
    probe = featurize([r["text"] for r in rows_of("test")[:200]])
    expected = np.zeros((200, len(TREC)))
    expected[:, full.classes_] = full.predict_proba(weight(probe, model.idf))
    np.testing.assert_allclose(model.predict_proba(probe), expected, atol=1e-6)


@pytest.mark.slow
def test_trec6_accuracy_with_the_full_train_split() -> None:
    train, test = rows_of("train"), rows_of("test")
    model = train_model(featurize([r["text"] for r in train]), [TREC.index(r["label"]) for r in train], TREC)
    predicted = model.predict_proba(featurize([r["text"] for r in test])).argmax(axis=1)
    accuracy = float(np.mean(predicted == [TREC.index(r["label"]) for r in test]))
    assert accuracy >= 0.85, f"trec6 test accuracy {accuracy:.3f}"


def _trec(n: int, split: str = "train") -> tuple[sp.csr_matrix, np.ndarray]:
    rows = rows_of(split)[:n]
    return featurize([r["text"] for r in rows]), np.array([TREC.index(r["label"]) for r in rows])


def test_pool_statistics_set_the_idf_and_prune_columns() -> None:
    pool_counts, _ = _trec(600)
    counts, targets = pool_counts[:60], _trec(60)[1]
    stats = pool_stats(pool_counts)
    model = train_model(counts, targets, TREC, pool=stats, learner="logreg", idf="pool")
    np.testing.assert_array_equal(model.idf, stats.idf())
    assert model.meta["idf"] == "pool" and model.meta["pool_docs"] == 600
    assert set(model.columns) <= set(np.flatnonzero(stats.df >= 2))
    assert 0 < model.columns.size < np.unique(counts.indices).size
    from_counts = train_model(counts, targets, TREC, pool=pool_counts, learner="cnb", idf="pool")
    np.testing.assert_array_equal(from_counts.idf, stats.idf())
    labeled_only = train_model(counts, targets, TREC)
    assert labeled_only.meta["idf"] == "labeled"
    assert train_model(counts, targets, TREC, pool=stats).meta["idf"] == "labeled"  # the default
    with pytest.raises(ValueError, match="'both'"):
        train_model(counts, targets, TREC, pool=stats, idf="both")
    np.testing.assert_array_equal(labeled_only.idf, fit_idf(counts))


def test_calibration_is_fitted_out_of_fold_and_recorded() -> None:
    counts, targets = _trec(300)
    model = train_model(counts, targets, TREC, learner="logreg", calibrate=True)
    record = model.meta["calibration"]
    assert model.temperature == pytest.approx(record["temperature"], abs=1e-4)
    assert model.temperature != 1.0 and record["folds"] == 5
    assert 0.0 <= record["ece_after"] <= 1.0 and 0.0 <= record["ece_before"] <= 1.0
    raw = train_model(counts, targets, TREC, learner="logreg", calibrate=False)
    probe, _ = _trec(100, "test")
    p, q = model.predict_proba(probe), raw.predict_proba(probe)
    np.testing.assert_array_equal(p.argmax(axis=1), q.argmax(axis=1))
    assert not np.allclose(p, q)
    assert raw.temperature == 1.0 and "calibration" not in raw.meta


def test_few_labels_are_not_calibrated() -> None:
    model = train_model(featurize(TEXTS), [0, 0, 1, 1, 0, 1], ("pos", "neg"), calibrate=True)
    assert model.temperature == 1.0 and "calibration" not in model.meta


@pytest.mark.parametrize("learner", LEARNERS)
def test_every_learner_trains_a_model(learner: str) -> None:
    counts, targets = _trec(200)
    model = train_model(counts, targets, TREC, learner=learner, calibrate=True)
    assert model.learner in LEARNERS and model.learner != "auto"
    assert model.meta["learner"] == model.learner
    probe, truth = _trec(200, "test")
    proba = model.predict_proba(probe)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert (proba.argmax(axis=1) == truth).mean() > 0.4


def test_multilabel_trains_with_another_learner() -> None:
    targets = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 1, 1], [1, 0, 1], [0, 0, 1]])
    model = train_model(featurize(TEXTS), targets, ("fun", "quality", "pace"), multilabel=True, learner="nblr")
    assert ((model.predict_proba(featurize(TEXTS)) > 0.5) == targets.astype(bool)).all()


def test_an_artifact_without_the_new_fields_loads_and_scores(tmp_path: Path) -> None:
    """A model pickled before ``learner`` and ``temperature`` existed reads as uncalibrated LR."""
    counts, targets = _trec(120)
    model = train_model(counts, targets, TREC, learner="logreg", calibrate=False)
    del model.__dict__["learner"], model.__dict__["temperature"]
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    loaded = joblib.load(path)
    assert loaded.learner == "logreg" and loaded.temperature == 1.0
    probe, _ = _trec(50, "test")
    np.testing.assert_allclose(loaded.predict_proba(probe), model.predict_proba(probe))


def test_auto_is_naive_bayes_on_labeled_idf_early_and_lr_on_the_pool_later() -> None:
    pool_counts, pool_targets = _trec(AUTO_SWITCH + 200)
    stats = pool_stats(pool_counts)
    early = train_model(pool_counts[:100], pool_targets[:100], TREC, pool=stats, learner="auto", idf="auto")
    assert early.learner == "cnb" and early.meta["idf"] == "labeled" and early.meta["pool_docs"] == stats.n_docs
    np.testing.assert_array_equal(early.idf, fit_idf(pool_counts[:100]))
    late = train_model(pool_counts[:AUTO_SWITCH], pool_targets[:AUTO_SWITCH], TREC, pool=stats,
                       learner="auto", idf="auto")
    assert late.learner == "logreg" and late.meta["idf"] == "pool"
    np.testing.assert_array_equal(late.idf, stats.idf())
