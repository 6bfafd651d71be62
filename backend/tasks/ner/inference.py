"""Exact linear-chain CRF inference in numpy, batched over sentences of equal length.

crfsuite's tagger answers one sentence and one (token, tag) marginal per call, which
costs a Python call per cell: a rescore of 50,000 sentences would spend most of its
time there. The model's weights are plain arrays (emission weights per attribute and
tag, one tag-to-tag transition matrix, no start or end weights: crfsuite's first-order
CRF has none), so the forward-backward recursions run here over every sentence of one
length at once. The tests check the results against crfsuite's own tagger.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass
class Decoded:
    """Inference over sentences in row order; token rows are the sentences' tokens, concatenated.

    ``marginals[i, k]``: P(token i has tag k). ``best_tags``: the most likely sequence's tag
    per token. ``best_proba`` and ``second_proba``: probabilities of the best and second-best
    whole sequences per sentence (0 for a sentence of one token and one tag).
    """

    lengths: IntArray
    marginals: FloatArray
    best_tags: IntArray
    best_proba: FloatArray
    second_proba: FloatArray


def _logsumexp(x: FloatArray, axis: int) -> FloatArray:
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.squeeze(top, axis=axis) + np.log(np.sum(np.exp(x - top), axis=axis))


def _decode_block(em: FloatArray, trans: FloatArray) -> tuple[FloatArray, IntArray, FloatArray, FloatArray]:
    """``em`` is (n sentences, length, tags): marginals, best path, P(best), P(second best)."""
    n, length, k = em.shape
    alpha = np.empty_like(em)
    beta = np.zeros_like(em)
    amax = np.empty_like(em)
    bmax = np.zeros_like(em)
    back = np.zeros((n, length, k), dtype=np.intp)
    alpha[:, 0] = em[:, 0]
    amax[:, 0] = em[:, 0]
    for t in range(1, length):
        step = trans[None, :, :]
        alpha[:, t] = _logsumexp(alpha[:, t - 1, :, None] + step, axis=1) + em[:, t]
        cand = amax[:, t - 1, :, None] + step
        back[:, t] = np.argmax(cand, axis=1)
        amax[:, t] = np.max(cand, axis=1) + em[:, t]
    for t in range(length - 2, -1, -1):
        nxt = (em[:, t + 1] + beta[:, t + 1])[:, None, :] + trans[None, :, :]
        beta[:, t] = _logsumexp(nxt, axis=2)
        bmax[:, t] = np.max((em[:, t + 1] + bmax[:, t + 1])[:, None, :] + trans[None, :, :], axis=2)
    log_z = _logsumexp(alpha[:, -1], axis=1)
    marginals = np.exp(alpha + beta - log_z[:, None, None])
    best = np.empty((n, length), dtype=np.intp)
    best[:, -1] = np.argmax(amax[:, -1], axis=1)
    for t in range(length - 1, 0, -1):
        best[:, t - 1] = back[np.arange(n), t, best[:, t]]
    best_score = np.max(amax[:, -1], axis=1)
    # The second-best sequence differs from the best at some token, where it takes another tag;
    # the best sequence through that (token, tag) is then exactly as good: max-marginals find it.
    max_marginal = amax + bmax
    np.put_along_axis(max_marginal, best[:, :, None], -np.inf, axis=2)
    second_score = np.max(max_marginal.reshape(n, -1), axis=1)
    return marginals, best, np.exp(best_score - log_z), np.exp(second_score - log_z)


def decode(emissions: FloatArray, lengths: Sequence[int] | IntArray, transitions: FloatArray) -> Decoded:
    """Inference for sentences whose token emission scores are stacked in ``emissions``.

    ``emissions`` is (total tokens, tags): each token's summed attribute weights per tag.
    Sentences of zero tokens get no rows and probability 1 for their (empty) best sequence.
    """
    lengths = np.asarray(lengths, dtype=np.intp)
    k = transitions.shape[0]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.intp)
    marginals = np.zeros((int(lengths.sum()), k))
    best_tags = np.zeros(int(lengths.sum()), dtype=np.intp)
    best_proba = np.ones(len(lengths))
    second_proba = np.zeros(len(lengths))
    by_length: dict[int, list[int]] = defaultdict(list)
    for row, length in enumerate(lengths.tolist()):
        if length:
            by_length[length].append(row)
    for length, rows in by_length.items():
        index = starts[rows][:, None] + np.arange(length)[None, :]
        marg, best, p1, p2 = _decode_block(emissions[index], transitions)
        marginals[index] = marg
        best_tags[index] = best
        best_proba[rows] = p1
        second_proba[rows] = p2
    return Decoded(lengths, marginals, best_tags, np.clip(best_proba, 0.0, 1.0), np.clip(second_proba, 0.0, 1.0))
