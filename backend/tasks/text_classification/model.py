"""The classifier: sublinear TF-IDF over hashed n-grams into a linear text learner.

The default is the model measured best under active learning (BENCHMARKS.md, "Model
quality"): logistic regression with ``C=10`` (better than ``C=1`` on every text set tried)
on an IDF fitted on the labeled texts, uncalibrated. The options measured against it: the
pool's IDF and pruning (:mod:`~backend.tasks.text_classification.pool`), the learners of
:data:`~backend.tasks.text_classification.estimators.LEARNERS`, and a temperature fitted
out of fold (:mod:`~backend.tasks.text_classification.calibration`). Fitting only on the
hashed columns that occur in the labeled rows gives the same probabilities at about a
hundredth of the fit time, so the model stores those columns and ignores the rest.
Multi-label projects use one binary model per label (one-vs-rest).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits

from backend import defaults
from backend.errors import NotEnoughLabels
from backend.tasks.text_classification import calibration
from backend.tasks.text_classification.estimators import DEFAULT_C, LEARNERS, make_learner, resolve, uses_pool
from backend.tasks.text_classification.features import N_FEATURES
from backend.tasks.text_classification.pool import PoolStats, pool_stats
from backend.tasks.text_classification.thresholds import Thresholds, fit_thresholds

__all__ = ["CALIBRATE_MODES", "DEFAULT_C", "DEFAULT_CALIBRATE", "DEFAULT_IDF", "DEFAULT_LEARNER", "IDF_SOURCES",
           "LEARNERS", "TextModel", "calibrate_mode", "fit_idf", "make_estimator", "train_model", "weight"]

#: Where the IDF comes from: ``pool`` (the pool's statistics, when given), ``labeled`` (the
#: labeled texts) or ``auto`` (the pool where the learner measured better with it).
IDF_SOURCES = ("auto", "pool", "labeled")
#: The defaults are the model measured best under active learning so far: logistic regression
#: on the labeled texts' IDF, uncalibrated. ``learner="auto"`` with ``idf="auto"`` and
#: calibration won on passive curves but not under active learning (BENCHMARKS.md, "Model
#: quality"), so it is a choice, not the default.
DEFAULT_LEARNER = "logreg"
DEFAULT_IDF = "labeled"
#: Where the calibration temperature is fitted: ``audit`` (on the labeled audit tasks, by the
#: retrain: :func:`backend.loop.training.selection_model`), ``folds`` (out of fold on every
#: label, inside :func:`train_model`) or ``off``.
CALIBRATE_MODES = defaults.CALIBRATE_MODES
DEFAULT_CALIBRATE = defaults.CALIBRATE


def calibrate_mode(value: bool | str) -> str:
    """A calibration setting as one of :data:`CALIBRATE_MODES`.

    ``True``/``False`` read as ``folds``/``off``: what they meant when the setting was a flag.
    """
    if isinstance(value, bool):
        return "folds" if value else "off"
    if value not in CALIBRATE_MODES:
        raise ValueError(f"unknown calibration {value!r}; expected one of {', '.join(CALIBRATE_MODES)}")
    return value


def make_estimator(multilabel: bool = False, c: float = DEFAULT_C, learner: str = "logreg",
                   class_weight: str | None = None) -> Any:
    """An unfitted estimator of the kind the service trains (strategies clone it for committees)."""
    base = make_learner(resolve(learner, 0), c, class_weight)
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
    #: The concrete learner (see ``LEARNERS``) and the calibration temperature of its
    #: single-label probabilities; class-level defaults let artifacts from before load.
    learner: str = "logreg"
    temperature: float = 1.0

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
            out = calibration.scale(out, self.temperature)
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
    *,
    class_weight: str | None = None,
    learner: str = DEFAULT_LEARNER,
    calibrate: bool | str = False,
    pool: PoolStats | sp.spmatrix | None = None,
    idf: str = DEFAULT_IDF,
    prune: bool = True,
    choose_thresholds: bool = True,
) -> TextModel:
    """Fit on hashed counts. ``targets`` are label indices, or a 0/1 matrix when multi-label.

    ``pool`` is the pool's statistics (or its hashed counts, labeled rows included): with
    it the IDF is the pool's and, with ``prune``, columns seen in a single pool text are
    dropped, as ``idf`` says (``auto``: where the learner measured better with it, see
    :func:`~backend.tasks.text_classification.estimators.uses_pool`); otherwise the IDF is
    fitted on the labeled texts. ``calibrate`` (``True`` or ``"folds"``) fits a temperature
    out of fold once there are enough labels (single-label); ``"audit"`` is fitted later, by
    :func:`calibrate_on_held_out`. ``class_weight="balanced"`` weighs each class inversely to
    its count (the logistic learners; naive Bayes ignores it). ``choose_thresholds=False``
    skips choosing multi-label thresholds (the folds' own fits).
    """
    y = np.asarray(targets)
    if counts.shape[0] == 0 or len(y) != counts.shape[0]:
        raise NotEnoughLabels(f"need labeled texts to train; got {counts.shape[0]} texts, {len(y)} labels")
    if idf not in IDF_SOURCES:
        raise ValueError(f"unknown IDF source {idf!r}; expected one of {', '.join(IDF_SOURCES)}")
    chosen = resolve(learner, int(counts.shape[0]))
    given = pool if isinstance(pool, PoolStats) or pool is None else pool_stats(pool)
    wanted = idf == "pool" or (idf == "auto" and uses_pool(learner, int(counts.shape[0])))
    stats = given if wanted else None
    weights = fit_idf(counts) if stats is None else stats.idf()
    columns = np.unique(sp.csr_matrix(counts).indices).astype(np.intp)
    if stats is not None and prune:
        columns = stats.kept(columns)
    if columns.size == 0:  # only empty texts: keep one column so shapes stay valid
        columns = np.zeros(1, dtype=np.intp)
    weighted = weight(counts, weights)
    x = weighted[:, columns]
    fit_y = y
    if multilabel and y.ndim == 2 and y.shape[1] == 1:  # one choice: one-vs-rest needs two columns
        fit_y = np.hstack([y, 1 - y])
    meta: dict[str, Any] = {"learner": chosen, "idf": "labeled" if stats is None else "pool",
                            "pool_docs": 0 if given is None else given.n_docs, "columns": int(columns.size)}
    temperature = 1.0
    with threadpool_limits(1):  # a small fit gains nothing from threads and suffers from contention
        estimator = _fit(x, fit_y, multilabel, c, chosen, class_weight)
        if calibrate_mode(calibrate) == "folds" and not multilabel and not isinstance(estimator, _Constant):
            fitted = _calibrate(x, y.astype(np.intp), len(labels), c, chosen, class_weight)
            if fitted is not None:
                temperature = fitted.temperature
                meta["calibration"] = fitted.record()
        cuts = (fit_thresholds(y, _fold_fit(x, fit_y, c, chosen, class_weight))
                if multilabel and choose_thresholds and y.ndim == 2 else None)
    meta["options"] = {"learner": learner, "c": float(c), "class_weight": class_weight,
                       "calibrate": calibrate_mode(calibrate)}
    return TextModel(tuple(labels), multilabel, weights, columns, estimator, int(counts.shape[0]), meta=meta,
                     targets=y.astype(np.int64), train_counts=sp.csr_matrix(counts),
                     train_features=weighted, thresholds=cuts, learner=chosen, temperature=temperature)


def calibrate_on_held_out(models: Sequence[TextModel], ranker: TextModel, counts: sp.spmatrix,
                          targets: npt.NDArray[Any], seed: int = 0) -> calibration.Calibration | None:
    """Fit one temperature on ``ranker``'s probabilities of texts it was not trained on; set it on ``models``.

    ``counts`` and ``targets`` are those texts (the labeled audit tasks, a random sample of
    the pool: see :mod:`~backend.tasks.text_classification.calibration`). ``ranker`` is the
    model the strategy ranks with, trained without them; ``models`` (it and the served
    model, trained on every label) take its temperature. ``None``, and nothing changed,
    for multi-label models or too few texts.
    """
    if ranker.multilabel or any(m.multilabel for m in models) or counts.shape[0] == 0:
        return None
    raw = replace(ranker, temperature=1.0).predict_proba(counts)
    fitted = calibration.from_held_out(raw, np.asarray(targets, dtype=np.intp), seed=seed)
    if fitted is None:
        return None
    for model in models:
        model.temperature = fitted.temperature
        model.meta["calibration"] = fitted.record()
    return fitted


def _calibrate(x: sp.csr_matrix, y: npt.NDArray[np.intp], n_classes: int, c: float,
               learner: str, class_weight: str | None = None) -> calibration.Calibration | None:
    """The out-of-fold temperature of ``learner`` on these rows (the final model's own settings)."""

    def fit_predict(train: npt.NDArray[np.intp], test: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
        out = np.zeros((len(test), n_classes))
        fold = _fit(x[train], y[train], False, c, learner, class_weight)
        out[:, np.asarray(fold.classes_).astype(int)] = fold.predict_proba(x[test])
        return out

    return calibration.calibrate(fit_predict, y, n_classes, seed=len(y))


def _fold_fit(x: sp.csr_matrix, y: npt.NDArray[Any], c: float, learner: str, class_weight: str | None) -> Any:
    """A fold's one-vs-rest fit on the full model's features: IDF and columns are unsupervised."""

    def fit_predict(train: npt.NDArray[np.intp], test: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
        rows = x[train]
        used = np.unique(rows.indices)  # as the model does: only the columns its rows use
        with warnings.catch_warnings():  # a label absent from a fold is expected with few labels
            warnings.simplefilter("ignore", UserWarning)
            fold = _fit(rows[:, used], y[train], True, c, learner, class_weight)
        return np.asarray(fold.predict_proba(x[test][:, used]), dtype=np.float64)

    return fit_predict


def _fit(x: sp.csr_matrix, y: npt.NDArray[Any], multilabel: bool, c: float, learner: str = "logreg",
         class_weight: str | None = None) -> Any:
    estimator: Any
    if multilabel:
        estimator = clone(make_estimator(True, c, learner, class_weight)).fit(x, y.astype(int))
    elif len(np.unique(y)) < 2:
        estimator = _Constant().fit(x, y.astype(int))
    else:
        estimator = clone(make_estimator(False, c, learner, class_weight)).fit(x, y.astype(int))
    return estimator
