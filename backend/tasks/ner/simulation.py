"""The named-entity side of ``ls-active simulate``: CoNLL sentences, a CRF per round.

A learner owns one seed's pool and test sentences. ``fit`` retrains the service's CRF on
the labeled pool sentences, ``pool_for`` hands a strategy what the service would (the
model's marginals, and a committee when the strategy asks for one), ``scores`` measures
entity F1 (seqeval, strict IOB2: micro, then macro over types) on the test sentences, and
``cost`` counts the tokens labeled so far, since annotators read tokens, not sentences.
Token attributes are computed once per file and kept as one sparse matrix, so each
round only multiplies it by the new weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from seqeval.metrics import f1_score
from seqeval.scheme import IOB2

from backend.tasks.ner.conll import Sentence
from backend.tasks.ner.features import entity_prior, token_attributes
from backend.tasks.ner.inference import Decoded, decode
from backend.tasks.ner.model import SpanModel, train_model
from backend.tasks.ner.scoring import committee
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.model import fit_idf, weight
from strategies import IntArray
from strategies.sequence import SequencePool, SequenceStrategy, get_sequence_strategy

#: Share of sentences held out for testing (drawn per seed).
TEST_FRACTION = 0.2


@dataclass
class Prepared:
    """Per-file work every seed shares: attributes, their matrix, sentence vectors."""

    attributes: list[list[list[str]]]
    matrix: sp.csr_matrix
    vocabulary: dict[str, int]
    starts: IntArray
    lengths: IntArray
    features: sp.csr_matrix
    prior: np.ndarray


def prepare(sentences: tuple[Sentence, ...]) -> Prepared:
    attributes = [token_attributes(list(s.words)) for s in sentences]
    vocabulary: dict[str, int] = {}
    indptr: list[int] = [0]
    indices: list[int] = []
    for sentence in attributes:
        for attrs in sentence:
            indices.extend(vocabulary.setdefault(a, len(vocabulary)) for a in attrs)
            indptr.append(len(indices))
    matrix = sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(indptr) - 1, len(vocabulary)))
    lengths = np.asarray([len(s.words) for s in sentences], dtype=np.intp)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.intp)
    counts = featurize([s.text for s in sentences])
    return Prepared(attributes, matrix, vocabulary, starts, lengths, weight(counts, fit_idf(counts)),
                    np.asarray([entity_prior(list(s.words)) for s in sentences]))


@dataclass
class SpanLearner:
    sentences: tuple[Sentence, ...]
    labels: tuple[str, ...]
    pool_rows: IntArray
    test_rows: IntArray
    prepared: Prepared
    model: SpanModel | None = None
    seed: int = 0
    _labeled: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))

    @property
    def n_pool(self) -> int:
        return len(self.pool_rows)

    def fit(self, labeled: IntArray) -> None:
        rows = self.pool_rows[labeled]
        self._labeled = np.asarray(labeled, dtype=np.intp)
        self.model = train_model([list(self.sentences[i].words) for i in rows],
                                 [list(self.sentences[i].tags) for i in rows], self.labels,
                                 [self.prepared.attributes[i] for i in rows])

    def decode_rows(self, rows: IntArray, model: SpanModel | None = None) -> Decoded:
        model = model or self.model
        if model is None:
            raise ValueError("fit the learner first")
        p = self.prepared
        lengths = p.lengths[rows]
        tokens = np.repeat(p.starts[rows] - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        tokens = tokens + np.arange(int(lengths.sum()))
        emissions = np.asarray(p.matrix[tokens] @ model.weights_in(p.vocabulary)) + model.tag_bias[None, :]
        return decode(emissions, lengths, model.transitions)

    def pool_for(self, strategy: SequenceStrategy, remaining: IntArray, labeled: IntArray) -> SequencePool:
        rows = self.pool_rows[remaining]
        p = self.prepared
        base: dict[str, Any] = {"features": p.features[rows], "lengths": p.lengths[rows],
                                "entity_prior": p.prior[rows], "labeled_features": p.features[self.pool_rows[labeled]],
                                "n_labeled": len(labeled)}
        if self.model is None or not len(labeled):
            return SequencePool(**base)
        decoded = self.decode_rows(rows)
        members: tuple[np.ndarray, ...] = ()
        if strategy.members:
            seed = self.seed * 100_003 + len(labeled)
            members = tuple(self.decode_rows(rows, m).marginals for m in committee(self.model, strategy.members, seed))
        return SequencePool(**base, marginals=decoded.marginals, best_proba=decoded.best_proba,
                            second_proba=decoded.second_proba, members=members)

    def pool(self, remaining: IntArray, labeled: IntArray) -> SequencePool:
        return self.pool_for(get_sequence_strategy("entropy_sum"), remaining, labeled)

    def scores(self) -> tuple[float, float]:
        """Entity F1 on the test sentences: micro, then macro over entity types."""
        decoded = self.decode_rows(self.test_rows)
        assert self.model is not None
        tags = self.model.tags
        truth, guess, start = [], [], 0
        for i in self.test_rows.tolist():
            n = len(self.sentences[i].words)
            truth.append(list(self.sentences[i].tags))
            guess.append([tags[j] for j in decoded.best_tags[start:start + n].tolist()])
            start += n
        micro = f1_score(truth, guess, mode="strict", scheme=IOB2, average="micro", zero_division=0)
        macro = f1_score(truth, guess, mode="strict", scheme=IOB2, average="macro", zero_division=0)
        return float(micro), float(macro)

    def cost(self, labeled: IntArray) -> int:
        """Tokens in the labeled pool sentences."""
        return int(self.prepared.lengths[self.pool_rows[labeled]].sum())


@dataclass(frozen=True)
class SpanData:
    """A CoNLL file's sentences, as the simulation engine needs them."""

    sentences: tuple[Sentence, ...]
    labels: tuple[str, ...]
    name: str = "data"
    kind: str = "ner"

    @property
    def n_rows(self) -> int:
        return len(self.sentences)

    def split_rows(self, seed: int) -> tuple[IntArray, IntArray]:
        order = np.random.default_rng(seed).permutation(self.n_rows)
        n_test = max(1, round(TEST_FRACTION * self.n_rows))
        return np.sort(order[n_test:]).astype(np.intp), np.sort(order[:n_test]).astype(np.intp)

    def prepare(self) -> Prepared:
        return prepare(self.sentences)

    def learner(self, pool_rows: IntArray, test_rows: IntArray, prepared: Any = None) -> SpanLearner:
        return SpanLearner(self.sentences, self.labels, pool_rows, test_rows, prepared or self.prepare())

    def strategy(self, name: str) -> SequenceStrategy:
        return get_sequence_strategy(name)
