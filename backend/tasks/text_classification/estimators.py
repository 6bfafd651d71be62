"""The learners a text model can use, by name: each a scikit-learn classifier on TF-IDF rows.

- ``lr``: logistic regression (the model before pool statistics; ``C=10``).
- ``nblr``: logistic regression on features scaled by naive Bayes log-count ratios, one
  binary model per class (the NBSVM idea with a logistic loss): the ratio tells the linear
  model which words are class-specific before it has seen many examples of them.
- ``cnb``: complement naive Bayes, the strongest of the naive Bayes family on skewed text.
- ``ensemble``: the mean of ``lr`` and ``nblr`` probabilities.

All expose ``classes_`` and ``predict_proba`` as scikit-learn does, so the model treats them
alike and strategies may clone them for committees.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB

#: Learner names a project may choose (``auto`` picks by the number of labels, see :func:`resolve`).
LEARNERS: tuple[str, ...] = ("auto", "logreg", "nblr", "cnb", "ensemble")
DEFAULT_C = 10.0
#: Smoothing of the naive Bayes ratios and of complement naive Bayes.
NB_ALPHA = 1.0
#: Newton-CG reaches the same optimum as L-BFGS in about 5 iterations instead of about 100 on
#: 2,000 TF-IDF rows (0.06 s against 0.65 s on trec6): what makes out-of-fold calibration affordable.
SOLVER = "newton-cg"


def logistic(c: float = DEFAULT_C, class_weight: str | None = None) -> LogisticRegression:
    """The logistic regression every learner here builds on."""
    return LogisticRegression(C=c, solver=SOLVER, max_iter=1000, class_weight=class_weight)


def _log_ratio(x: sp.csr_matrix, positive: npt.NDArray[np.bool_], alpha: float) -> npt.NDArray[np.float64]:
    """log((p / |p|_1) / (q / |q|_1)) with p, q the smoothed column sums of the binarised rows."""
    binary = x.copy()
    binary.data = (binary.data > 0).astype(np.float64)
    p = alpha + np.asarray(binary[positive].sum(axis=0)).ravel()
    q = alpha + np.asarray(binary[~positive].sum(axis=0)).ravel()
    return np.asarray(np.log((p / p.sum()) / (q / q.sum())), dtype=np.float64)


class NBLogistic(BaseEstimator, ClassifierMixin):
    """One logistic regression per class on NB-ratio-scaled features, probabilities renormalised."""

    def __init__(self, C: float = DEFAULT_C, alpha: float = NB_ALPHA) -> None:
        self.C = C
        self.alpha = alpha

    def fit(self, x: Any, y: npt.NDArray[Any]) -> NBLogistic:
        x = sp.csr_matrix(x)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(f"NBLogistic needs two classes, got {self.classes_.tolist()}")
        positives = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        self.ratios_: list[npt.NDArray[np.float64]] = []
        self.models_: list[LogisticRegression] = []
        for cls in positives:
            r = _log_ratio(x, y == cls, self.alpha)
            model = logistic(self.C).fit(x.multiply(r).tocsr(), (y == cls).astype(int))
            self.ratios_.append(r)
            self.models_.append(model)
        return self

    def predict_proba(self, x: Any) -> npt.NDArray[np.float64]:
        x = sp.csr_matrix(x)
        scores = np.column_stack([m.predict_proba(x.multiply(r).tocsr())[:, 1]
                                  for m, r in zip(self.models_, self.ratios_, strict=True)])
        if len(self.classes_) == 2:
            return np.column_stack([1.0 - scores[:, 0], scores[:, 0]])
        total = scores.sum(axis=1, keepdims=True)
        return np.asarray(scores / np.where(total > 0, total, 1.0), dtype=np.float64)


class MeanEnsemble(BaseEstimator, ClassifierMixin):
    """The mean of its members' probabilities (every member sees the same classes)."""

    def __init__(self, members: tuple[Any, ...] = ()) -> None:
        self.members = members

    def fit(self, x: Any, y: npt.NDArray[Any]) -> MeanEnsemble:
        self.fitted_ = [clone(m).fit(x, y) for m in self.members]
        self.classes_ = self.fitted_[0].classes_
        return self

    def predict_proba(self, x: Any) -> npt.NDArray[np.float64]:
        return np.asarray(np.mean([m.predict_proba(x) for m in self.fitted_], axis=0), dtype=np.float64)


#: ``auto`` is complement naive Bayes below this many labels and logistic regression from it
#: on; chosen on seeds 0-1 of trec6 and subj (BENCHMARKS.md, "Model quality"): naive Bayes
#: won at every size up to 1,000 labels on both, logistic regression first at 2,000 (trec6).
AUTO_SWITCH = 2000


def resolve(learner: str, n_labels: int) -> str:
    """The concrete learner ``learner`` names for ``n_labels`` labels (``auto``: the measured default)."""
    if learner not in LEARNERS:
        raise ValueError(f"unknown learner {learner!r}; expected one of {', '.join(LEARNERS)}")
    if learner != "auto":
        return learner
    return "cnb" if n_labels < AUTO_SWITCH else "logreg"


def uses_pool(learner: str, n_labels: int) -> bool:
    """Whether ``learner`` takes its IDF from the pool's statistics at ``n_labels`` labels.

    Measured on the choice seeds: the pool's IDF gave logistic regression a little more at
    every size from 1,000 labels on, and naive Bayes a little less at most sizes (trec6 at 100
    labels: 0.51 against 0.60), so ``auto`` uses it only with logistic regression.
    An explicitly named learner always uses the pool when it is given.
    """
    return learner != "auto" or n_labels >= AUTO_SWITCH


def make_learner(learner: str = "logreg", c: float = DEFAULT_C, class_weight: str | None = None) -> Any:
    """An unfitted single-label classifier of the concrete learner ``learner``.

    ``class_weight`` applies to the logistic regressions (``logreg``, the ensemble's first
    member); NB-weighted regression and naive Bayes weigh classes by their own counts.
    """
    if learner == "logreg":
        return logistic(c, class_weight)
    if learner == "nblr":
        return NBLogistic(C=c)
    if learner == "cnb":
        return ComplementNB(alpha=NB_ALPHA)
    if learner == "ensemble":
        return MeanEnsemble((logistic(c, class_weight), NBLogistic(C=c)))
    raise ValueError(f"unknown learner {learner!r}; expected one of {', '.join(LEARNERS[1:])}")
