"""Array aliases and the input every strategy receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.intp]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
#: Feature matrices are dense arrays or scipy sparse matrices (CSR for hashed text).
Features: TypeAlias = "npt.NDArray[Any] | sp.spmatrix | sp.sparray"
RandomState: TypeAlias = "int | np.random.Generator | None"


def as_generator(random_state: RandomState) -> np.random.Generator:
    """Every random step goes through a Generator so runs are reproducible under a seed."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(random_state)


def child_seed(rng: np.random.Generator) -> int:
    """A seed for scikit-learn objects that want an int, drawn from ``rng``."""
    return int(rng.integers(0, 2**31 - 1))


@dataclass(frozen=True)
class Pool:
    """What a strategy may look at when it ranks the unlabeled pool.

    ``proba`` is ``None`` before any model exists (cold start). For multi-label
    projects ``proba[:, j]`` is the independent probability that label ``j`` applies.
    ``labeled_targets`` are label indices (or a 0/1 matrix when multi-label).
    ``estimator`` is an *unfitted* scikit-learn estimator of the project's model kind;
    strategies that refit (committees) clone it and train on
    ``labeled_features``/``labeled_targets``.
    """

    features: Features
    proba: FloatArray | None = None
    multilabel: bool = False
    labeled_features: Features | None = None
    labeled_targets: npt.NDArray[Any] | None = None
    estimator: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_samples(self) -> int:
        return int(self.features.shape[0])

    @property
    def n_classes(self) -> int:
        """Classes (labels, when multi-label) the model scores; 0 before any model exists."""
        return 0 if self.proba is None else int(np.shape(self.proba)[1])

    @property
    def n_labeled(self) -> int:
        return 0 if self.labeled_targets is None else len(self.labeled_targets)


#: A strategy's core: (pool, batch size, generator) to one score per task.
RankFn: TypeAlias = Callable[[Pool, int, np.random.Generator], FloatArray]
#: A measure: the pool to one utility per task in [0, 1], higher = ask sooner.
Measure: TypeAlias = Callable[[Pool, np.random.Generator], FloatArray]
