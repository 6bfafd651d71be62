"""The tagger: a linear-chain CRF (crfsuite through sklearn-crfsuite) over token attributes.

crfsuite trains (L-BFGS with elastic-net regularisation, the settings its own NER
examples use); the artifact keeps only what inference needs, as arrays: one weight row
per known attribute, the transition matrix, and the tag list of the config in a fixed
order (``O``, then ``B-``/``I-`` per label), so every version's outputs have the same columns.
A tag the labels never showed gets no probability at all. The labeled sentences travel
with the model: committees and the report refit on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import sklearn_crfsuite

from backend.errors import NotEnoughLabels
from backend.tasks.ner.features import BIAS, FIRST, LAST, TITLE_INSIDE, title_inside, token_attributes, word_slots
from backend.tasks.ner.inference import Decoded, decode

#: crfsuite's L1 and L2 penalties and iteration cap (its tutorial's values; fast to fit).
C1, C2, MAX_ITERATIONS = 0.1, 0.1, 100
#: Words whose slot sums a model keeps in memory at most.
WORD_MEMO = 200_000
#: Emission score of a tag the training labels never used: it cannot be predicted.
_NEVER = -1e4


def tag_names(labels: Sequence[str]) -> tuple[str, ...]:
    """``O``, then ``B-``/``I-`` for each entity label in config order."""
    return ("O", *(f"{p}-{label}" for label in labels for p in ("B", "I")))


@dataclass
class SpanModel:
    """A fitted CRF as arrays; ``labels`` are the config's entity labels in config order."""

    labels: tuple[str, ...]
    tags: tuple[str, ...]
    vocabulary: dict[str, int]
    weights: npt.NDArray[np.float64]
    transitions: npt.NDArray[np.float64]
    #: Added to every token's scores: ``-1e4`` for tags the labels never showed, else 0.
    tag_bias: npt.NDArray[np.float64]
    n_train: int
    train_words: list[list[str]] = field(default_factory=list)
    train_tags: list[list[str]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    #: Each word's five slot sums (see :meth:`emissions_of`), kept while the process holds the
    #: version: a web worker answering ``/predict`` meets the same words again and again.
    _word_sums: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        """The memo is a cache of this process: an artifact never carries it."""
        return {**self.__dict__, "_word_sums": {}}

    def emissions(self, attributes: Sequence[Sequence[str]]) -> npt.NDArray[np.float64]:
        """Summed weights per tag for tokens given as attribute lists (unknown attributes ignored)."""
        return self._summed(attributes) + self.tag_bias[None, :]

    def _summed(self, attributes: Sequence[Sequence[str]]) -> npt.NDArray[np.float64]:
        vocab = self.vocabulary
        indptr: list[int] = [0]
        indices: list[int] = []
        for attrs in attributes:
            indices.extend(j for a in attrs if (j := vocab.get(a)) is not None)
            indptr.append(len(indices))
        x = sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(attributes), len(vocab)))
        return np.asarray(x @ self.weights)

    def _row(self, attribute: str) -> npt.NDArray[np.float64]:
        j = self.vocabulary.get(attribute)
        return self.weights[j] if j is not None else np.zeros(len(self.tags))

    def _slot_sums(self, words: list[str]) -> list[npt.NDArray[np.float64]]:
        """Per slot, a (words, tags) array of each word's summed weights, memoised per word."""
        memo = self._word_sums
        missing = [w for w in words if w not in memo]
        if missing:
            if len(memo) + len(missing) > WORD_MEMO:
                memo.clear()
            slots = [word_slots(w) for w in missing]
            sums = np.stack([self._summed([s[k] for s in slots]) for k in range(5)], axis=1)
            memo.update(zip(missing, sums, strict=True))
        table = np.stack([memo[w] for w in words])
        return [table[:, k] for k in range(5)]

    def emissions_of(self, sentences: Sequence[Sequence[str]]) -> npt.NDArray[np.float64]:
        """The same scores as :meth:`emissions` over :func:`token_attributes`, per word instead
        of per token: each distinct word's slots are summed once, then gathered by position."""
        flat = [w for s in sentences for w in s]
        if not flat:
            return np.zeros((0, len(self.tags)))
        unique: dict[str, int] = {}
        ids = np.fromiter((unique.setdefault(w, len(unique)) for w in flat), dtype=np.intp, count=len(flat))
        own, prev, nxt, prev2, next2 = self._slot_sums(list(unique))
        lengths = np.asarray([len(s) for s in sentences], dtype=np.intp)
        pos = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        size = np.repeat(lengths, lengths)
        out = own[ids] + self._row(BIAS) + self.tag_bias
        at = np.arange(len(flat))
        for shift, table, edge in ((-1, prev, FIRST), (-2, prev2, None), (1, nxt, LAST), (2, next2, None)):
            ok = (pos + shift >= 0) & (pos + shift < size)
            out[ok] += table[ids[at[ok] + shift]]
            if edge is not None:
                out[~ok] += self._row(edge)
        titled = np.fromiter((title_inside(w) for w in unique), dtype=bool, count=len(unique))
        out[(pos > 0) & titled[ids]] += self._row(TITLE_INSIDE)
        return out

    def weights_in(self, vocabulary: dict[str, int]) -> npt.NDArray[np.float64]:
        """The weight rows re-indexed by another vocabulary (attributes it lacks score 0)."""
        out = np.zeros((len(vocabulary), len(self.tags)))
        ours = [(row, vocabulary[a]) for a, row in self.vocabulary.items() if a in vocabulary]
        if ours:
            rows, targets = (np.asarray(x, dtype=np.intp) for x in zip(*ours, strict=True))
            out[targets] = self.weights[rows]
        return out

    def decode_words(self, sentences: Sequence[Sequence[str]]) -> Decoded:
        """Marginals, best tags and sequence probabilities for tokenized sentences."""
        lengths = np.asarray([len(s) for s in sentences], dtype=np.intp)
        return decode(self.emissions_of(sentences), lengths, self.transitions)

    def decode_attributes(self, flat: Sequence[Sequence[str]], lengths: Sequence[int] | npt.NDArray[np.intp]
                          ) -> Decoded:
        emissions = self.emissions(flat) if flat else np.zeros((0, len(self.tags)))
        return decode(emissions, np.asarray(lengths, dtype=np.intp), self.transitions)


def _arrays(crf: Any, tags: tuple[str, ...]) -> tuple[dict[str, int], npt.NDArray[np.float64],
                                                      npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    column = {tag: j for j, tag in enumerate(tags)}
    vocabulary: dict[str, int] = {}
    for attr, _ in crf.state_features_:
        vocabulary.setdefault(attr, len(vocabulary))
    weights = np.zeros((len(vocabulary), len(tags)))
    for (attr, tag), w in crf.state_features_.items():
        weights[vocabulary[attr], column[tag]] = w
    seen = set(crf.classes_)
    bias = np.array([0.0 if t in seen else _NEVER for t in tags])
    transitions = np.zeros((len(tags), len(tags)))
    for (a, b), w in crf.transition_features_.items():
        transitions[column[a], column[b]] = w
    return vocabulary, weights, transitions, bias


def fit_crf(attributes: list[list[list[str]]], tags: list[list[str]]) -> Any:
    """crfsuite's CRF fitted on attribute sequences and tag sequences."""
    crf = sklearn_crfsuite.CRF(algorithm="lbfgs", c1=C1, c2=C2, max_iterations=MAX_ITERATIONS,
                               all_possible_transitions=True)
    crf.fit(attributes, tags)
    return crf


def train_model(words: Sequence[Sequence[str]], tags: Sequence[Sequence[str]], labels: Sequence[str],
                attributes: list[list[list[str]]] | None = None) -> SpanModel:
    """Fit on tokenized sentences and their BIO tags (tags outside the config are an error)."""
    if not words or len(words) != len(tags):
        raise NotEnoughLabels(f"need tagged sentences to train; got {len(words)} sentences, {len(tags)} tag lists")
    names = tag_names(labels)
    stray = {t for seq in tags for t in seq} - set(names)
    if stray:
        raise ValueError(f"tags {sorted(stray)} are not among the config's {list(names)}")
    attrs = attributes if attributes is not None else [token_attributes(w) for w in words]
    crf = fit_crf(attrs, [list(t) for t in tags])
    vocabulary, weights, transitions, bias = _arrays(crf, names)
    return SpanModel(tuple(labels), names, vocabulary, weights, transitions, bias, len(words),
                     [list(w) for w in words], [list(t) for t in tags])
