"""Query by committee over a bootstrap committee of the project's own model.

The committee is ``n_members`` clones of ``pool.estimator``, each fitted on a bootstrap
resample of the labeled tasks (a resample must contain at least two classes; a few
redraws are allowed, then the committee is smaller). Tasks the members disagree on
are asked first. Without a usable committee (no labels, one class) the measures fall
back to the entropy of the model's own probabilities, so a strategy never fails.

For hashed text only the columns that occur in the labeled rows can carry weight, so
members are fitted and applied on those columns alone: the same model at a small
fraction of the fit time.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from strategies._threads import one_thread
from strategies._types import FloatArray, Measure, Pool
from strategies.geometry import as_rows, like
from strategies.measures import clean_proba, entropy

Disagreement = Callable[[FloatArray, bool], FloatArray]
DEFAULT_MEMBERS = 5


def _estimator(pool: Pool) -> Any:
    if pool.estimator is not None:
        return pool.estimator
    base = LogisticRegression(C=10.0, max_iter=1000)
    return OneVsRestClassifier(base) if pool.multilabel else base


def _shared_columns(pool: Pool) -> tuple[Any, Any]:
    """Labeled and pool features restricted to the columns the labeled rows use."""
    x = as_rows(pool.features)
    labeled = like(pool.labeled_features, x)
    if not sp.issparse(x):
        return labeled, x
    cols = np.unique(labeled.indices)
    if cols.size == 0:
        cols = np.zeros(1, dtype=np.intp)
    return sp.csr_matrix(labeled[:, cols]), sp.csr_matrix(x[:, cols])


def _varied(y: Any, multilabel: bool) -> bool:
    if multilabel:
        return bool((y.min(axis=0) != y.max(axis=0)).any())
    return len(np.unique(y)) >= 2


def _member_proba(model: Any, x: Any, n_classes: int, multilabel: bool) -> FloatArray:
    proba = np.asarray(model.predict_proba(x), dtype=np.float64)
    out = np.zeros((x.shape[0], n_classes))
    if multilabel:
        out[:, : proba.shape[1]] = proba[:, :n_classes]
    else:
        classes = np.asarray(model.classes_).astype(np.intp)
        keep = classes < n_classes
        out[:, classes[keep]] = proba[:, keep]
    return clean_proba(out)


def committee_proba(
    pool: Pool, n_members: int = DEFAULT_MEMBERS, rng: np.random.Generator | None = None
) -> FloatArray | None:
    """Member probabilities, shape (members, tasks, classes), or ``None`` without a committee."""
    if pool.labeled_features is None or pool.labeled_targets is None or pool.n_labeled < 2:
        return None
    rng = rng or np.random.default_rng(0)
    y = np.asarray(pool.labeled_targets).astype(np.intp)
    n_classes = (
        pool.n_classes if pool.proba is not None
        else int(y.shape[1] if pool.multilabel else y.max() + 1)
    )
    if not _varied(y, pool.multilabel):
        return None
    x_labeled, x_pool = _shared_columns(pool)
    members: list[FloatArray] = []
    for _ in range(4 * n_members):
        if len(members) == n_members:
            break
        idx = rng.integers(0, len(y), len(y))
        if not _varied(y[idx], pool.multilabel):
            continue
        with warnings.catch_warnings(), one_thread():
            warnings.simplefilter("ignore", UserWarning)  # one-vs-rest: a label never seen
            model = clone(_estimator(pool)).fit(x_labeled[idx], y[idx])
            members.append(_member_proba(model, x_pool, n_classes, pool.multilabel))
    return np.stack(members) if len(members) >= 2 else None


def _binary(p: FloatArray) -> FloatArray:
    """(members, n, labels) per-label probabilities to (members, n * labels, 2)."""
    return np.stack([1.0 - p, p], axis=-1).reshape(p.shape[0], -1, 2)


def _per_label(fn: Disagreement, committee: FloatArray) -> FloatArray:
    return fn(_binary(committee), False).reshape(committee.shape[1], -1).mean(axis=1)


def vote_entropy(committee: FloatArray, multilabel: bool = False) -> FloatArray:
    """Entropy of the members' votes, over its maximum ``log(min(members, classes))``."""
    if multilabel:
        return _per_label(vote_entropy, committee)
    m, n, k = committee.shape
    if k < 2:
        return np.zeros(n)
    votes = np.argmax(committee, axis=2)
    share = np.stack([(votes == c).mean(axis=0) for c in range(k)], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(share > 0, share * np.log(share), 0.0).sum(axis=1)
    return np.clip(h / np.log(min(m, k)), 0.0, 1.0)


def consensus_entropy(committee: FloatArray, multilabel: bool = False) -> FloatArray:
    """Entropy of the members' average distribution (normalised by ``log k``)."""
    return entropy(committee.mean(axis=0), multilabel=multilabel)


def kl_max_disagreement(committee: FloatArray, multilabel: bool = False) -> FloatArray:
    """Largest KL divergence of a member from the consensus, over its bound ``log(members)``."""
    if multilabel:
        return _per_label(kl_max_disagreement, committee)
    m = committee.shape[0]
    consensus = committee.mean(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(committee > 0, committee * np.log(committee / consensus), 0.0)
    kl = np.nan_to_num(terms.sum(axis=2).max(axis=0), nan=0.0)
    return np.clip(kl / np.log(m), 0.0, 1.0)


def qbc(disagreement: Disagreement, n_members: int = DEFAULT_MEMBERS) -> Measure:
    """A pool measure: ``disagreement`` of a bootstrap committee (model entropy without one)."""

    def measure(pool: Pool, rng: np.random.Generator) -> FloatArray:
        committee = committee_proba(pool, n_members, rng)
        if committee is not None:
            return disagreement(committee, pool.multilabel)
        if pool.proba is None:
            return np.zeros(pool.n_samples)
        return entropy(pool.proba, multilabel=pool.multilabel)

    return measure
