"""The model side of a simulation: the service's own featurizer and classifier, per round.

A learner owns one seed's pool and test rows. ``fit`` retrains on the labeled pool rows
exactly as the service would (hashed counts handed to the model with the pool's statistics,
known from the start as the service knows its tasks; or logistic regression on standardized
numeric columns), ``pool`` hands a strategy what the service would hand it, and ``scores``
measures the last model on the test rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.metrics import accuracy_score, f1_score
from sklearn.preprocessing import StandardScaler

from backend.tasks.text_classification import calibration
from backend.tasks.text_classification.features import clean_text, featurize
from backend.tasks.text_classification.model import (
    DEFAULT_CALIBRATE,
    calibrate_mode,
    fit_idf,
    make_estimator,
    train_model,
    weight,
)
from backend.tasks.text_classification.pool import PoolStats, pool_stats
from strategies import FloatArray, IntArray, Pool


class LabeledRows(Protocol):
    """The labeled file's rows (:class:`~backend.tasks.text_classification.labeled.LabeledData`)."""

    @property
    def labels(self) -> tuple[str, ...]: ...

    @property
    def targets(self) -> IntArray: ...

    @property
    def texts(self) -> tuple[str, ...] | None: ...

    @property
    def matrix(self) -> npt.NDArray[np.float64] | None: ...


#: Row indices (pool rows, then test rows at ``n_pool + i``) to one probability per label.
Predictor = Callable[[IntArray], FloatArray]


def _constant(target: int, n_classes: int) -> Predictor:
    """Before a second class is labeled the service's model is certain of the only one."""

    def predict(rows: IntArray) -> FloatArray:
        out = np.zeros((len(rows), n_classes))
        out[:, target] = 1.0
        return out

    return predict


class Learner:
    """Shared bookkeeping; subclasses say how to train and what features strategies see.

    With ``audit_calibration`` the engine hands :meth:`calibrate_on` the labeled audit rows
    after fitting the model the strategy ranks with (trained without them), as the service
    does (:func:`backend.loop.training.selection_model`); the temperature then scales every
    probability until the next call.
    """

    def __init__(self, y_pool: IntArray, y_test: IntArray, n_classes: int,
                 audit_calibration: bool = DEFAULT_CALIBRATE == "audit") -> None:
        self.y_pool = np.asarray(y_pool, dtype=np.intp)
        self.y_test = np.asarray(y_test, dtype=np.intp)
        self.n_classes = n_classes
        self.audit_calibration = audit_calibration
        self.temperature = 1.0
        self.proba: FloatArray | None = None
        self.test_proba: FloatArray = np.full((len(y_test), n_classes), 1.0 / n_classes)
        self._raw: tuple[FloatArray, FloatArray] | None = None
        self.features: Any = None
        self.predictor: Predictor | None = None

    @property
    def n_pool(self) -> int:
        return len(self.y_pool)

    def fit_rows(self, rows: IntArray, targets: IntArray) -> Predictor:
        raise NotImplementedError

    def _refresh_features(self) -> None:
        """Update ``self.features`` after :meth:`fit` (text re-weights by the new model's IDF)."""

    def fit(self, labeled: IntArray) -> None:
        """Retrain on the labeled pool rows and refresh pool and test probabilities."""
        predict = self.fit_rows(labeled, self.y_pool[labeled])
        self.predictor = predict
        self._refresh_features()
        self._raw = (predict(np.arange(self.n_pool)), predict(self.n_pool + np.arange(len(self.y_test))))
        self._scale()

    def calibrate_on(self, rows: IntArray) -> None:
        """Fit the temperature on the last model's probabilities of ``rows``, which it did not train on.

        Where the service's retrain would not calibrate (too few rows, see
        :func:`~backend.tasks.text_classification.calibration.from_held_out`) the temperature
        is 1, as a new version's is.
        """
        if not self.audit_calibration or self._raw is None:
            return
        rows = np.asarray(rows, dtype=np.intp)
        fitted = calibration.from_held_out(self._raw[0][rows], self.y_pool[rows], seed=len(rows))
        self.temperature = 1.0 if fitted is None else fitted.temperature
        self._scale()

    def _scale(self) -> None:
        if self._raw is not None:
            self.proba = calibration.scale(self._raw[0], self.temperature)
            self.test_proba = calibration.scale(self._raw[1], self.temperature)

    def pool(self, remaining: IntArray, labeled: IntArray) -> Pool:
        """What the service would hand a strategy for these unlabeled and labeled rows."""
        has_labels = len(labeled) > 0
        return Pool(
            features=self.features[remaining],
            proba=None if self.proba is None else self.proba[remaining],
            labeled_features=self.features[labeled] if has_labels else None,
            labeled_targets=self.y_pool[labeled] if has_labels else None,
            estimator=make_estimator(False),
        )

    def test_ece(self) -> float:
        """Expected calibration error of the last model's test probabilities (15 bins, top label)."""
        return calibration.ece(self.test_proba, self.y_test)

    def scores(self) -> tuple[float, float]:
        """Accuracy and macro F1 of the last model on the test rows."""
        predicted = self.test_proba.argmax(axis=1)
        accuracy = float(accuracy_score(self.y_test, predicted))
        f1 = f1_score(self.y_test, predicted, average="macro", labels=np.unique(self.y_test),
                      zero_division=0)
        return accuracy, float(f1)


class TextLearner(Learner):
    """Hashed n-gram counts into the service's :func:`backend.tasks.text_classification.model.train_model`.

    Rows index the pool rows followed by the test rows (test row ``i`` is ``n_pool + i``).
    ``model`` holds :func:`train_model`'s keyword arguments (``learner``, ...) and the
    ``calibrate`` mode of the service's settings (``audit``, ``folds``, ``off`` or a bool);
    ``use_pool=False`` fits the IDF on the labeled texts, as the model before 0.3 did.
    """

    def __init__(self, counts: sp.csr_matrix, pool_rows: IntArray, test_rows: IntArray,
                 targets: IntArray, labels: tuple[str, ...], use_pool: bool = True,
                 model: dict[str, Any] | None = None) -> None:
        self.options = dict(model or {})
        mode = calibrate_mode(self.options.pop("calibrate", DEFAULT_CALIBRATE))
        self.options["calibrate"] = mode == "folds"
        super().__init__(targets[pool_rows], targets[test_rows], len(labels), audit_calibration=mode == "audit")
        self.labels = labels
        self.counts = sp.vstack([counts[pool_rows], counts[test_rows]], format="csr")
        self.stats: PoolStats | None = pool_stats(self.counts[: self.n_pool]) if use_pool else None
        # Before the first model, diversity strategies see TF-IDF with the pool's own IDF.
        self.last_idf = fit_idf(self.counts[: self.n_pool])
        self.features = weight(self.counts[: self.n_pool], self.last_idf)

    def fit_rows(self, rows: IntArray, targets: IntArray) -> Predictor:
        model = train_model(self.counts[rows], targets, self.labels, pool=self.stats, **self.options)
        self.last_idf = model.idf
        counts = self.counts
        return lambda r: model.predict_proba(counts[np.asarray(r)])

    def _refresh_features(self) -> None:
        self.features = weight(self.counts[: self.n_pool], self.last_idf)


class NumericLearner(Learner):
    """The service's logistic regression on columns standardized over the pool."""

    def __init__(self, matrix: npt.NDArray[np.float64], pool_rows: IntArray, test_rows: IntArray,
                 targets: IntArray, n_classes: int, audit_calibration: bool = DEFAULT_CALIBRATE == "audit") -> None:
        super().__init__(targets[pool_rows], targets[test_rows], n_classes, audit_calibration)
        scaler = StandardScaler().fit(matrix[pool_rows])
        self.x = np.vstack([scaler.transform(matrix[pool_rows]),
                            scaler.transform(matrix[test_rows])])
        self.features = self.x[: self.n_pool]

    def fit_rows(self, rows: IntArray, targets: IntArray) -> Predictor:
        classes = np.unique(targets)
        if len(classes) < 2:
            return _constant(int(classes[0]), self.n_classes)
        estimator = clone(make_estimator(False)).fit(self.x[rows], targets)
        fitted = np.asarray(estimator.classes_, dtype=np.intp)
        x, n_classes = self.x, self.n_classes

        def predict(r: IntArray) -> FloatArray:
            out = np.zeros((len(r), n_classes))
            out[:, fitted] = estimator.predict_proba(x[np.asarray(r)])
            return out

        return predict


def text_counts(data: LabeledRows) -> sp.csr_matrix:
    """The service's featurization of every row, computed once and shared by all seeds."""
    return featurize([clean_text(t) for t in data.texts or ()])


def make_learner(data: LabeledRows, pool_rows: IntArray, test_rows: IntArray,
                 counts: sp.csr_matrix | None = None) -> Learner:
    """A learner for one seed's split; ``counts`` saves re-featurizing text for every seed."""
    if data.matrix is not None:
        return NumericLearner(data.matrix, pool_rows, test_rows, data.targets, len(data.labels))
    if counts is None:
        counts = text_counts(data)
    return TextLearner(counts, pool_rows, test_rows, data.targets, data.labels)
