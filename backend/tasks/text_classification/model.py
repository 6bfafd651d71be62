"""The classifier: sublinear TF-IDF over hashed n-grams into a logistic regression.

Two choices measured on this project's data sets: ``C=10`` beats the default ``C=1`` on
every text set tried (trec6 full pool 0.880 against 0.842), and fitting only on the
hashed columns that occur in the labeled rows gives the same probabilities at about a
hundredth of the fit time, so the model stores those columns and ignores the rest.
Multi-label projects use one binary logistic regression per label (one-vs-rest).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits

from backend.errors import NotEnoughLabels
from backend.tasks.text_classification.features import N_FEATURES
from backend.tasks.text_classification.thresholds import Thresholds, fit_thresholds

DEFAULT_C = 10.0
#: The learners ``train_model`` knows (``auto``: the one the model picks for the labels at hand).
LEARNERS: tuple[str, ...] = ("auto", "logreg")


def make_estimator(multilabel: bool = False, c: float = DEFAULT_C, class_weight: str | None = None) -> Any:
    """An unfitted estimator of the kind the service trains (strategies clone it for committees)."""
    base = LogisticRegression(C=c, max_iter=1000, class_weight=class_weight)
    return OneVsRestClassifier(base) if multilabel else base


class _Constant(BaseEstimator, ClassifierMixin):
    """The model for a project whose labels so far are all one class: that class, certain."""

    def fit(self, x: Any, y: npt.NDArray[Any]) -> _Constant:
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, x: Any) -> npt.NDArray[np.float64]:
        return np.ones((x.shape[0], 1))


@dataclass
class TextModel:
    """A fitted model with everything needed to score raw hashed counts.

    ``labels`` are the project's choices in config order; ``predict_proba`` always returns
    one column per label in that order, with 0 for classes never seen in training.
    """

    labels: tuple[str, ...]
    multilabel: bool
    idf: npt.NDArray[np.float64]
    columns: npt.NDArray[np.intp]
    estimator: Any
    n_train: int
    meta: dict[str, Any] = field(default_factory=dict)
    #: The training targets and raw counts: strategies need the labeled set (class balance,
    #: cold-start exit, committees), and keeping it with the model keeps both in step.
    targets: npt.NDArray[Any] | None = None
    train_counts: sp.csr_matrix | None = None
    #: ``train_counts`` weighted once at train time (strategies compare the pool with it).
    train_features: sp.csr_matrix | None = None
    #: Multi-label pre-selection chosen out of fold (:mod:`.thresholds`); None: the fixed 0.5
    #: (single-label models, too few labels, and artifacts from before thresholds existed).
    thresholds: Thresholds | None = None

    def labeled_features(self) -> sp.csr_matrix | None:
        """The labeled texts in the strategies' space (an artifact from before 0.2 weighs them now)."""
        if self.train_features is None and self.train_counts is not None:
            self.train_features = weight(self.train_counts, self.idf)
        return self.train_features

    def transform(self, counts: sp.spmatrix) -> sp.csr_matrix:
        """Counts to the model's input: sublinear TF, IDF, L2 row norm, active columns."""
        return weight(counts, self.idf)[:, self.columns]

    def predict_proba(self, counts: sp.spmatrix) -> npt.NDArray[np.float64]:
        return self.predict_proba_weighted(weight(counts, self.idf))

    def predict_proba_weighted(self, weighted: sp.csr_matrix) -> npt.NDArray[np.float64]:
        """Probabilities from already weighted features (``weight(counts, model.idf)``)."""
        n = weighted.shape[0]
        out = np.zeros((n, len(self.labels)))
        if n == 0:
            return out
        proba = np.asarray(self.estimator.predict_proba(weighted[:, self.columns]), dtype=np.float64)
        if self.multilabel:
            out[:] = proba[:, : out.shape[1]]
        else:
            out[:, np.asarray(self.estimator.classes_).astype(int)] = proba
        return np.clip(np.nan_to_num(out, nan=0.0), 0.0, 1.0)


def fit_idf(counts: sp.spmatrix) -> npt.NDArray[np.float64]:
    """Smoothed IDF over the given documents (scikit-learn's formula)."""
    n = counts.shape[0]
    df = np.bincount(sp.csr_matrix(counts).indices, minlength=N_FEATURES)
    return np.log((1.0 + n) / (1.0 + df)) + 1.0


def weight(counts: sp.spmatrix, idf: npt.NDArray[np.float64]) -> sp.csr_matrix:
    """Sublinear TF times IDF, L2-normalised rows (the model's and the strategies' space)."""
    x = sp.csr_matrix(counts, dtype=np.float64, copy=True)
    np.log1p(x.data, out=x.data)
    x.data *= idf[x.indices]
    if x.shape[0] == 0:
        return x
    return sp.csr_matrix(normalize(x, norm="l2", copy=False))


def train_model(
    counts: sp.spmatrix,
    targets: Sequence[int] | npt.NDArray[Any],
    labels: Sequence[str],
    multilabel: bool = False,
    c: float = DEFAULT_C,
    class_weight: str | None = None,
    learner: str = "auto",
    calibrate: bool = True,
    choose_thresholds: bool = True,
) -> TextModel:
    """Fit on hashed counts. ``targets`` are label indices, or a 0/1 matrix when multi-label.

    ``class_weight="balanced"`` weighs each class inversely to its count; ``learner`` is one of
    :data:`LEARNERS`; ``calibrate`` is recorded in ``meta`` (calibration itself is not in this
    model yet). ``choose_thresholds=False`` skips choosing multi-label thresholds (the folds' own fits).
    """
    if learner not in LEARNERS:
        raise ValueError(f"unknown learner {learner[:40]!r}; use one of {', '.join(LEARNERS)}")
    y = np.asarray(targets)
    if counts.shape[0] == 0 or len(y) != counts.shape[0]:
        raise NotEnoughLabels(f"need labeled texts to train; got {counts.shape[0]} texts, {len(y)} labels")
    idf = fit_idf(counts)
    columns = np.unique(sp.csr_matrix(counts).indices).astype(np.intp)
    if columns.size == 0:  # only empty texts: keep one column so shapes stay valid
        columns = np.zeros(1, dtype=np.intp)
    weighted = weight(counts, idf)
    x = weighted[:, columns]
    fit_y = y
    if multilabel and y.ndim == 2 and y.shape[1] == 1:  # one choice: one-vs-rest needs two columns
        fit_y = np.hstack([y, 1 - y])
    with threadpool_limits(1):  # a small fit gains nothing from threads and suffers from contention
        estimator = _fit(x, fit_y, multilabel, c, class_weight)
        cuts = (fit_thresholds(y, _fold_fit(x, fit_y, c, class_weight))
                if multilabel and choose_thresholds and y.ndim == 2 else None)
    meta = {"options": {"learner": learner, "c": float(c), "class_weight": class_weight, "calibrate": calibrate}}
    return TextModel(tuple(labels), multilabel, idf, columns, estimator, int(counts.shape[0]), meta=meta,
                     targets=y.astype(np.int64), train_counts=sp.csr_matrix(counts),
                     train_features=weighted, thresholds=cuts)


def _fold_fit(x: sp.csr_matrix, y: npt.NDArray[Any], c: float, class_weight: str | None) -> Any:
    """A fold's one-vs-rest fit on the full model's features: IDF and columns are unsupervised."""

    def fit_predict(train: npt.NDArray[np.intp], test: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
        rows = x[train]
        used = np.unique(rows.indices)  # as the model does: only the columns its rows use
        with warnings.catch_warnings():  # a label absent from a fold is expected with few labels
            warnings.simplefilter("ignore", UserWarning)
            fold = _fit(rows[:, used], y[train], True, c, class_weight)
        return np.asarray(fold.predict_proba(x[test][:, used]), dtype=np.float64)

    return fit_predict


def _fit(x: sp.csr_matrix, y: npt.NDArray[Any], multilabel: bool, c: float, class_weight: str | None = None) -> Any:
    estimator: Any
    if multilabel:
        estimator = clone(make_estimator(True, c, class_weight)).fit(x, y.astype(int))
    elif len(np.unique(y)) < 2:
        estimator = _Constant().fit(x, y.astype(int))
    else:
        estimator = clone(make_estimator(False, c, class_weight)).fit(x, y.astype(int))
    return estimator
