"""The service's model behind a scikit-learn classifier the peers' code can call.

The peers hand a classifier rows of the dense matrix they were given (``RowSpace.x``).
:class:`RowSpace` maps each such row back to its pool row, and :class:`RowModel` trains
the simulation learner's own model (``Learner.fit_rows``) on those pool rows, so a peer
strategy queries exactly the model ours query. The model the loop already trained on the
current labels is reused, not trained a second time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted


def _key(rows: Any, targets: Any) -> tuple[bytes, bytes]:
    order = np.argsort(rows, kind="stable")
    return (np.asarray(rows)[order].astype(np.int64).tobytes(),
            np.asarray(targets)[order].astype(np.int64).tobytes())


class RowSpace:
    """Dense rows for the peers, and the way back from a row to the learner's pool row.

    Shared by every classifier copy: ``copy.deepcopy`` (which scikit-learn's ``clone``
    applies to parameters) returns the same object instead of copying the pool.
    """

    def __init__(self, learner: Any, x: Any) -> None:
        self.learner = learner
        self.x = np.ascontiguousarray(x, dtype=np.float64)
        self.n_classes = int(learner.n_classes)
        self.index: dict[bytes, int] = {}
        for i in range(len(self.x) - 1, -1, -1):  # duplicates map to their first row
            self.index[self.x[i].tobytes()] = i
        self.memo: dict[tuple[bytes, bytes], Any] = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> RowSpace:
        return self

    def rows(self, x: Any) -> Any:
        x = np.ascontiguousarray(x, dtype=np.float64)
        try:
            return np.fromiter((self.index[r.tobytes()] for r in x), dtype=np.intp, count=len(x))
        except KeyError:
            raise ValueError("a peer passed rows that are not pool rows") from None

    def remember(self, rows: Any, targets: Any, predictor: Any) -> None:
        """The model the loop trained on ``rows``: a peer training on the same rows gets it."""
        self.memo = {_key(rows, targets): predictor}

    def fit(self, rows: Any, targets: Any) -> Any:
        found = self.memo.get(_key(rows, targets))
        return found if found is not None else self.learner.fit_rows(rows, targets)


class RowModel(ClassifierMixin, BaseEstimator):
    """A classifier over ``RowSpace`` rows; ``y`` values are class indices of the learner.

    ``fit`` deliberately takes no ``sample_weight``: bagging then trains on resampled rows
    rather than on weights the service's model would not use.
    """

    def __init__(self, space: RowSpace | None = None) -> None:
        self.space = space

    def fit(self, X: Any, y: Any) -> RowModel:  # scikit-activeml matches the name X
        if self.space is None:
            raise ValueError("RowModel needs a RowSpace")
        targets = np.asarray(y).astype(np.intp)
        self.classes_ = np.unique(targets)
        self.predictor_ = self.space.fit(self.space.rows(X), targets)
        return self

    def predict_proba(self, X: Any) -> Any:
        check_is_fitted(self, "predictor_")
        if self.space is None:
            raise ValueError("RowModel needs a RowSpace")
        return self.predictor_(self.space.rows(X))[:, self.classes_]

    def predict(self, X: Any) -> Any:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
