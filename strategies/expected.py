"""Expected model change and expected error reduction, for the linear models we train.

Expected gradient length (EGL, Settles et al.): for softmax logistic regression the
gradient of the log loss for label ``y`` at task ``x`` is ``(p - e_y) ⊗ [x, 1]``, whose
norm is ``||p - e_y|| * ||[x, 1]||``; EGL is its expectation under ``p``. The class
part is at most ``sqrt(1 - 1/k)`` (the uniform distribution), and the utility is
``tanh`` of the normalised product: the same order as EGL itself, bounded in [0, 1],
and a function of the task alone.

Expected error reduction (EER, Roy & McCallum, 2001) asks which label, once known,
would most lower the expected error on the pool. Refitting per candidate and label is
too slow for a service, so the refit is approximated by one Newton-like step of the
logits: adding ``(x_c, y)`` moves the logits of task ``e`` by
``-(p_c - e_y) * (eta_b + eta_x * x_c · x_e)``, where the step sizes shrink with the
curvature the labeled tasks already put along the bias and along ``x_c``. Only the few
hundred most uncertain candidates are scored, against a random sample of the pool.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from strategies._types import FloatArray, IntArray, Measure, Pool
from strategies.batch import rest_order
from strategies.geometry import CHUNK_CELLS, as_rows, like, products, row_sq_norms
from strategies.measures import clean_proba, distribution, entropy

EER_CANDIDATES = 200
EER_EVAL = 1000


def egl(pool: Pool, rng: np.random.Generator) -> FloatArray:
    """Expected gradient length per task, as a utility in [0, 1]."""
    if pool.proba is None:
        return np.zeros(pool.n_samples)
    x_norm = np.sqrt(row_sq_norms(as_rows(pool.features)) + 1.0)
    if pool.multilabel:
        p = clean_proba(pool.proba)
        class_part = (4.0 * p * (1.0 - p)).mean(axis=1)
    else:
        p = distribution(pool.proba)
        k = p.shape[1]
        if k < 2:
            return np.zeros(pool.n_samples)
        sq = (p * p).sum(axis=1, keepdims=True) - 2.0 * p + 1.0
        class_part = (p * np.sqrt(np.maximum(sq, 0.0))).sum(axis=1) / np.sqrt(1.0 - 1.0 / k)
    return np.clip(np.tanh(class_part * x_norm), 0.0, 1.0)


def _inverse_c(estimator: Any) -> float:
    """The estimator's ``C`` (inverse regularisation), looking inside one-vs-rest."""
    for obj in (estimator, getattr(estimator, "estimator", None)):
        c = getattr(obj, "C", None)
        if isinstance(c, int | float) and c > 0:
            return float(c)
    return 1.0


def _steps(pool: Pool, x: Any, cand: IntArray, p: FloatArray) -> tuple[float, FloatArray]:
    """Step sizes (bias, per candidate) of a Newton-like update for one added label."""
    c = _inverse_c(pool.estimator)
    curvature = float(np.mean(p * (1.0 - p))) if pool.multilabel else float(
        np.mean((1.0 - (p * p).sum(axis=1)) / 2.0)
    )
    n_labeled = 0 if pool.labeled_features is None else int(pool.labeled_features.shape[0])
    bias = c / (1.0 + c * curvature * n_labeled)
    if n_labeled == 0:
        return bias, np.full(len(cand), c)
    xc = x[cand]
    sq = np.maximum(row_sq_norms(xc), 1e-12)
    overlap = (products(xc, like(pool.labeled_features, x)) ** 2).sum(axis=1) / sq
    return bias, c / (1.0 + c * curvature * overlap)


def _risk(z: FloatArray) -> FloatArray:
    """Expected 0/1 error ``1 - max softmax(z)`` averaged over the last-but-one axis."""
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return np.asarray((1.0 - 1.0 / e.sum(axis=-1)).mean(axis=-1), dtype=np.float64)


def _reduction(p: FloatArray, cand: IntArray, ev: IntArray, shift: FloatArray) -> FloatArray:
    """Risk now minus expected risk after labeling each candidate (softmax case)."""
    k = p.shape[1]
    z = np.log(np.maximum(p[ev], 1e-12))
    now = float((1.0 - p[ev].max(axis=1)).mean())
    out = np.empty(len(cand))
    step = max(1, CHUNK_CELLS // (k * k * len(ev)))
    for s in range(0, len(cand), step):
        pc = p[cand[s : s + step]]  # (m, k)
        direction = pc[:, None, :] - np.eye(k)[None]  # (m, y, k)
        moved = z[None, None] - direction[:, :, None, :] * shift[s : s + step, None, :, None]
        out[s : s + step] = now - (pc * _risk(moved)).sum(axis=1)
    return out


def _reduction_multilabel(p: FloatArray, cand: IntArray, ev: IntArray, shift: FloatArray) -> FloatArray:
    """Per-label binary version of :func:`_reduction`, averaged over labels."""
    q = np.clip(p, 1e-6, 1.0 - 1e-6)
    z = np.log(q[ev]) - np.log1p(-q[ev])  # (e, L)
    now = (1.0 - np.maximum(q[ev], 1.0 - q[ev])).mean(axis=0)  # (L,)
    out = np.zeros(len(cand))
    for y in (0.0, 1.0):
        pc = q[cand]  # (m, L)
        moved = z[None] - (pc - y)[:, None, :] * shift[:, :, None]  # (m, e, L)
        s = 1.0 / (1.0 + np.exp(-moved))
        risk = (1.0 - np.maximum(s, 1.0 - s)).mean(axis=1)  # (m, L)
        out += ((pc if y else 1.0 - pc) * (now[None] - risk)).mean(axis=1)
    return out


def eer(n_candidates: int = EER_CANDIDATES, n_eval: int = EER_EVAL) -> Measure:
    """A pool measure: the EER candidates first (by reduction), then everyone by entropy."""

    def measure(pool: Pool, rng: np.random.Generator) -> FloatArray:
        if pool.proba is None:
            return np.zeros(pool.n_samples)
        base = entropy(pool.proba, multilabel=pool.multilabel)
        p = clean_proba(pool.proba) if pool.multilabel else distribution(pool.proba)
        if not pool.multilabel and p.shape[1] < 2:
            return base
        n = pool.n_samples
        cand = rest_order(base, np.zeros(n, dtype=bool), rng)[:n_candidates]
        ev = np.sort(rng.choice(n, min(n, n_eval), replace=False))
        x = as_rows(pool.features)
        bias, eta = _steps(pool, x, cand, p)
        shift = bias + eta[:, None] * products(x[cand], x[ev])  # (m, e)
        gain = (_reduction_multilabel if pool.multilabel else _reduction)(p, cand, ev, shift)
        spread = float(np.ptp(gain)) if gain.size else 0.0
        scaled = (gain - gain.min()) / spread if spread > 0 else np.zeros_like(gain)
        utility = 0.45 * base  # below every candidate
        utility[cand] = 0.5 + 0.5 * np.nan_to_num(scaled, nan=0.0)
        return utility

    return measure
