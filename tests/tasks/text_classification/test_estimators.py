"""The named learners: valid probabilities in class order, NB ratios, names checked."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from backend.tasks.text_classification.estimators import LEARNERS, NBLogistic, make_learner, resolve
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.model import fit_idf, weight

TEXTS = ["good fun film", "great fun acting", "dull plot", "boring and slow", "fun and great",
         "slow dull", "where is paris", "where is rome"]
Y = np.array([0, 0, 1, 1, 0, 1, 2, 2])


def _x() -> sp.csr_matrix:
    counts = featurize(TEXTS)
    return weight(counts, fit_idf(counts))


@pytest.mark.parametrize("name", [n for n in LEARNERS if n != "auto"])
def test_every_learner_fits_the_training_texts(name: str) -> None:
    x = _x()
    model = make_learner(name).fit(x, Y)
    proba = model.predict_proba(x)
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert (proba.argmax(axis=1) == Y).mean() >= 0.75


def test_nb_ratio_favours_the_words_of_the_positive_class() -> None:
    counts = featurize(TEXTS)
    x = weight(counts, fit_idf(counts))
    model = NBLogistic().fit(x, (Y == 2).astype(int))
    where = featurize(["where"]).indices[0]
    fun = featurize(["fun"]).indices[0]
    assert model.ratios_[0][where] > 0 > model.ratios_[0][fun]
    assert len(model.models_) == 1  # two classes: one binary model


def test_nblr_needs_two_classes() -> None:
    with pytest.raises(ValueError, match="two classes"):
        NBLogistic().fit(_x(), np.zeros(len(TEXTS), dtype=int))


def test_unknown_learner_names_the_bad_value() -> None:
    with pytest.raises(ValueError, match="'svm'"):
        resolve("svm", 10)
    with pytest.raises(ValueError, match="'svm'"):
        make_learner("svm")
    assert resolve("auto", 10) in LEARNERS and resolve("auto", 10) != "auto"
    assert resolve("cnb", 10) == "cnb"
