"""Measures: class probabilities to a utility per task, normalised to [0, 1].

Higher utility = more informative = ask sooner. Each measure is normalised by its
theoretical maximum for the given number of classes, so a task's utility depends on
that task alone (a ``/predict`` call over any subset agrees with a full-pool rescore).
For multi-label probabilities (independent per-label probabilities), the binary
measure is applied to each label and averaged.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from strategies._types import FloatArray, IntArray, Measure, Pool

ProbaMeasure = Callable[..., FloatArray]


def clean_proba(proba: FloatArray) -> FloatArray:
    """Probabilities as a finite 2-d float array in [0, 1] (NaN counts as 0)."""
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 1:
        raise ValueError(f"probabilities must be a 2-d array (n_samples, n_classes); got {p.shape}")
    return np.clip(np.nan_to_num(p, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)


def distribution(proba: FloatArray) -> FloatArray:
    """Rows that sum to 1: a row of zeros (a degenerate model output) becomes uniform."""
    p = clean_proba(proba)
    total = p.sum(axis=1, keepdims=True)
    uniform = np.full_like(p, 1.0 / p.shape[1])
    return np.where(total > 0, p / np.where(total > 0, total, 1.0), uniform)


def predicted_classes(proba: FloatArray) -> IntArray:
    """The most probable class (or label, when multi-label) of every task."""
    return np.argmax(clean_proba(proba), axis=1).astype(np.intp)


def _binary(p: FloatArray) -> FloatArray:
    """Per-label probabilities (n, k) to (n, k, 2) two-class distributions."""
    return np.stack([1.0 - p, p], axis=-1)


def least_confidence(proba: FloatArray, multilabel: bool = False) -> FloatArray:
    """1 - max p, scaled so that the uniform distribution scores 1."""
    p = clean_proba(proba)
    if multilabel:
        return least_confidence(_binary(p).reshape(-1, 2)).reshape(p.shape).mean(axis=1)
    k = p.shape[1]
    if k < 2:
        return np.zeros(len(p))
    return np.clip((1.0 - p.max(axis=1)) / (1.0 - 1.0 / k), 0.0, 1.0)


def margin(proba: FloatArray, multilabel: bool = False) -> FloatArray:
    """1 - (p_first - p_second): a small gap between the two best classes is informative."""
    p = clean_proba(proba)
    if multilabel:
        return margin(_binary(p).reshape(-1, 2)).reshape(p.shape).mean(axis=1)
    if p.shape[1] < 2:
        return np.zeros(len(p))
    top2 = np.partition(p, p.shape[1] - 2, axis=1)[:, -2:]
    return np.clip(1.0 - (top2[:, 1] - top2[:, 0]), 0.0, 1.0)


def entropy(proba: FloatArray, multilabel: bool = False) -> FloatArray:
    """Shannon entropy divided by log(k), its value for the uniform distribution."""
    p = clean_proba(proba)
    if multilabel:
        return entropy(_binary(p).reshape(-1, 2)).reshape(p.shape).mean(axis=1)
    k = p.shape[1]
    if k < 2:
        return np.zeros(len(p))
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
    return np.clip(h / np.log(k), 0.0, 1.0)


def from_proba(measure: ProbaMeasure) -> Measure:
    """A probability measure as a pool measure (all zeros when there is no model yet)."""

    def pool_measure(pool: Pool, rng: np.random.Generator) -> FloatArray:
        if pool.proba is None:
            return np.zeros(pool.n_samples)
        return measure(pool.proba, multilabel=pool.multilabel)

    pool_measure.__name__ = getattr(measure, "__name__", "measure")
    return pool_measure
