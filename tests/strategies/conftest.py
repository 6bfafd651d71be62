"""Small pools shared by the strategy tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from strategies import Pool


def blobs(
    n_per: int = 20, centres: int = 3, dim: int = 5, spread: float = 0.05, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Well separated groups: rows and their group index."""
    rng = np.random.default_rng(seed)
    means = np.eye(centres, dim) * 4.0
    x = np.vstack([m + spread * rng.standard_normal((n_per, dim)) for m in means])
    return x, np.repeat(np.arange(centres), n_per)


def make_pool(
    kind: str = "dense",
    n: int = 40,
    n_classes: int = 3,
    n_labeled: int = 12,
    multilabel: bool = False,
    seed: int = 0,
    **overrides: Any,
) -> Pool:
    """A random pool with a model's probabilities and a labeled set with every class."""
    rng = np.random.default_rng(seed)
    dim = 300 if kind == "sparse" else 6
    if kind == "sparse":
        x = sp.random(n, dim, density=0.05, format="csr", random_state=seed) + sp.eye(n, dim)
        lab = sp.random(n_labeled, dim, density=0.05, format="csr", random_state=seed + 1)
        features, labeled = sp.csr_matrix(x), sp.csr_matrix(lab)
    else:
        features = rng.standard_normal((n, dim)).astype(np.float32)
        labeled = rng.standard_normal((n_labeled, dim)).astype(np.float32)
    if multilabel:
        proba = rng.random((n, n_classes))
        targets = (rng.random((n_labeled, n_classes)) < 0.5).astype(int)
        targets[0], targets[1] = 1, 0
        estimator: Any = OneVsRestClassifier(LogisticRegression(max_iter=200))
    else:
        proba = rng.dirichlet(np.ones(n_classes), size=n)
        targets = np.arange(n_labeled) % n_classes
        estimator = LogisticRegression(max_iter=200)
    fields: dict[str, Any] = {
        "features": features, "proba": proba, "multilabel": multilabel,
        "labeled_features": labeled, "labeled_targets": targets, "estimator": estimator,
    }
    fields.update(overrides)
    return Pool(**fields)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(name="make_pool")
def make_pool_fixture() -> Any:
    """The :func:`make_pool` builder (a fixture, so test modules need no imports from here)."""
    return make_pool


@pytest.fixture(name="blobs")
def blobs_fixture() -> Any:
    """The :func:`blobs` builder."""
    return blobs
