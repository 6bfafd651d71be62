"""Uncertainty of a tag sequence: token measures aggregated per sentence, and whole-sequence ones.

Every function maps arrays to one utility per sentence in [0, 1] (higher = ask sooner)
that depends on that sentence alone, so :func:`~strategies.scores.score_from_utility`
turns it into a score. Token rows are the sentences' tokens stacked in order
(see :class:`~strategies.sequence.pool.SequencePool`); a sentence of no tokens has utility 0.

* token entropy of the marginals, normalised by ``log(tags)``, aggregated by ``max``
  (the single most doubtful token), ``mean`` (doubt per token read) or ``sum`` (total
  doubt, squashed as ``s / (1 + s)`` to stay in [0, 1] without looking at other sentences);
* least-confident sequence, ``1 - P(best sequence)``; sequence margin,
  ``1 - (P(best) - P(second best))``; and the cost-aware least-confident, divided by the
  number of tokens, since annotators pay per token read;
* committee vote entropy per token (the members' best tags), aggregated like entropy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from strategies._types import FloatArray, IntArray

Aggregate = Literal["max", "mean", "sum"]


def _starts(lengths: IntArray) -> IntArray:
    return np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.intp)


def aggregate(values: FloatArray, lengths: IntArray, how: Aggregate) -> FloatArray:
    """Per-token ``values`` (stacked) to one value per sentence; 0 for empty sentences."""
    lengths = np.asarray(lengths, dtype=np.intp)
    out = np.zeros(len(lengths))
    full = lengths > 0
    if not full.any():
        return out
    starts = _starts(lengths)[full]
    values = np.asarray(values, dtype=np.float64)
    if how == "max":
        out[full] = np.maximum.reduceat(values, starts)
    elif how in ("mean", "sum"):
        sums = np.add.reduceat(values, starts)
        out[full] = sums / lengths[full] if how == "mean" else sums
    else:
        raise ValueError(f"aggregate must be max, mean or sum; got {how!r}")
    return out


def token_entropy(marginals: FloatArray) -> FloatArray:
    """Entropy of each token's tag distribution, divided by its maximum ``log(tags)``."""
    p = np.clip(np.asarray(marginals, dtype=np.float64), 1e-12, 1.0)
    k = p.shape[1]
    if k < 2:
        return np.zeros(p.shape[0])
    return np.clip(-(p * np.log(p)).sum(axis=1) / np.log(k), 0.0, 1.0)


def entropy_utility(marginals: FloatArray, lengths: IntArray, how: Aggregate) -> FloatArray:
    """Token entropy aggregated per sentence (``sum`` squashed into [0, 1])."""
    values = aggregate(token_entropy(marginals), lengths, how)
    return values / (1.0 + values) if how == "sum" else values


def least_confident(best_proba: FloatArray) -> FloatArray:
    """``1 - P(best sequence)``: the classic sequence uncertainty (Culotta and McCallum, 2005)."""
    return np.clip(1.0 - np.asarray(best_proba, dtype=np.float64), 0.0, 1.0)


def sequence_margin(best_proba: FloatArray, second_proba: FloatArray) -> FloatArray:
    """``1 - (P(best) - P(second best))``: close runners-up first."""
    gap = np.asarray(best_proba, dtype=np.float64) - np.asarray(second_proba, dtype=np.float64)
    return np.clip(1.0 - gap, 0.0, 1.0)


def per_token(utility: FloatArray, lengths: IntArray) -> FloatArray:
    """A sentence utility divided by its tokens: the cost-aware variant."""
    return np.asarray(utility, dtype=np.float64) / np.maximum(np.asarray(lengths, dtype=np.float64), 1.0)


def vote_entropy(members: Sequence[FloatArray], lengths: IntArray, how: Aggregate) -> FloatArray:
    """Committee disagreement: entropy of the members' best tags per token, aggregated.

    Normalised by ``log(min(members, tags))``, the most a vote can be split.
    """
    if len(members) < 2:
        raise ValueError(f"a committee needs at least two members; got {len(members)}")
    k = members[0].shape[1]
    votes = np.stack([np.argmax(m, axis=1) for m in members], axis=1)
    counts = np.zeros((votes.shape[0], k))
    for column in votes.T:
        counts[np.arange(len(column)), column] += 1
    share = counts / len(members)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.where(share > 0, share * np.log(share), 0.0).sum(axis=1)
    top = np.log(min(len(members), k))
    values = aggregate(ent / top if top > 0 else np.zeros_like(ent), lengths, how)
    return values / (1.0 + values) if how == "sum" else np.clip(values, 0.0, 1.0)


def entity_probability(marginals: FloatArray, lengths: IntArray, outside: int = 0) -> FloatArray:
    """Per sentence, the largest probability of any token being part of an entity."""
    return aggregate(1.0 - np.asarray(marginals, dtype=np.float64)[:, outside], lengths, "max")
