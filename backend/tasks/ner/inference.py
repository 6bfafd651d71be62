"""Exact linear-chain CRF inference in numpy, batched over sentences of equal length.

crfsuite's tagger answers one sentence and one (token, tag) marginal per call, which
costs a Python call per cell: a rescore of 50,000 sentences would spend most of its
time there. The model's weights are plain arrays (emission weights per attribute and
tag, one tag-to-tag transition matrix, no start or end weights: crfsuite's first-order
CRF has none), so the forward-backward recursions run here over many sentences at once,
longest first, each step on the sentences that still have a token. The tests check the
results against crfsuite's own tagger.
"""

from __future__ import annotations

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


def _decode_sorted(em: FloatArray, lengths: IntArray, trans: FloatArray
                   ) -> tuple[FloatArray, IntArray, FloatArray, FloatArray]:
    """Sentences padded into ``em`` (n, longest, tags), longest first: at step ``t`` only the
    first ``active[t]`` rows still have a token, so every step works on a prefix and no
    padded cell is ever computed. Returns marginals, best path, P(best), P(second best)."""
    n, longest, k = em.shape
    active = (lengths[None, :] > np.arange(longest)[:, None]).sum(axis=1)
    alpha = np.zeros_like(em)
    beta = np.zeros_like(em)
    amax = np.zeros_like(em)
    bmax = np.zeros_like(em)
    back = np.zeros((n, longest, k), dtype=np.intp)
    alpha[:, 0] = em[:, 0]
    amax[:, 0] = em[:, 0]
    step = trans[None, :, :]
    for t in range(1, longest):
        a = active[t]
        alpha[:a, t] = _logsumexp(alpha[:a, t - 1, :, None] + step, axis=1) + em[:a, t]
        cand = amax[:a, t - 1, :, None] + step
        back[:a, t] = np.argmax(cand, axis=1)
        amax[:a, t] = np.max(cand, axis=1) + em[:a, t]
    for t in range(longest - 2, -1, -1):
        a = active[t + 1]
        nxt = (em[:a, t + 1] + beta[:a, t + 1])[:, None, :] + step
        beta[:a, t] = _logsumexp(nxt, axis=2)
        bmax[:a, t] = np.max((em[:a, t + 1] + bmax[:a, t + 1])[:, None, :] + step, axis=2)
    rows = np.arange(n)
    last = lengths - 1
    log_z = _logsumexp(alpha[rows, last], axis=1)
    marginals = np.exp(alpha + beta - log_z[:, None, None])
    best = np.zeros((n, longest), dtype=np.intp)
    best[rows, last] = np.argmax(amax[rows, last], axis=1)
    for t in range(longest - 1, 0, -1):
        a = active[t]
        best[:a, t - 1] = back[rows[:a], t, best[:a, t]]
    best_score = np.max(amax[rows, last], axis=1)
    # The second-best sequence differs from the best at some token, where it takes another tag;
    # the best sequence through that (token, tag) is then exactly as good: max-marginals find it.
    max_marginal = amax + bmax
    np.put_along_axis(max_marginal, best[:, :, None], -np.inf, axis=2)
    max_marginal[np.arange(longest)[None, :] >= lengths[:, None]] = -np.inf
    second_score = np.max(max_marginal.reshape(n, -1), axis=1)
    return marginals, best, np.exp(best_score - log_z), np.exp(second_score - log_z)


#: Padded cells (sentences x longest of them) decoded at once; bounds memory on long texts.
CHUNK_CELLS = 200_000


def decode(emissions: FloatArray, lengths: Sequence[int] | IntArray, transitions: FloatArray) -> Decoded:
    """Inference for sentences whose token emission scores are stacked in ``emissions``.

    ``emissions`` is (total tokens, tags): each token's summed attribute weights per tag.
    Sentences are decoded longest first in chunks of similar length (so padding stays small);
    a sentence of zero tokens gets no rows and probability 1 for its (empty) best sequence.
    """
    lengths = np.asarray(lengths, dtype=np.intp)
    k = transitions.shape[0]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.intp)
    marginals = np.zeros((int(lengths.sum()), k))
    best_tags = np.zeros(int(lengths.sum()), dtype=np.intp)
    best_proba = np.ones(len(lengths))
    second_proba = np.zeros(len(lengths))
    order = [int(i) for i in np.argsort(-lengths, kind="stable") if lengths[i] > 0]
    at = 0
    while at < len(order):
        longest = int(lengths[order[at]])
        rows = np.asarray(order[at:at + max(1, CHUNK_CELLS // longest)], dtype=np.intp)
        at += len(rows)
        chunk_lengths = lengths[rows]
        positions = np.arange(longest)[None, :]
        inside = positions < chunk_lengths[:, None]
        index = np.where(inside, starts[rows][:, None] + positions, 0)
        em = np.where(inside[:, :, None], emissions[index], 0.0)
        marg, best, p1, p2 = _decode_sorted(em, chunk_lengths, transitions)
        marginals[index[inside]] = marg[inside]
        best_tags[index[inside]] = best[inside]
        best_proba[rows] = p1
        second_proba[rows] = p2
    return Decoded(lengths, marginals, best_tags, np.clip(best_proba, 0.0, 1.0), np.clip(second_proba, 0.0, 1.0))
