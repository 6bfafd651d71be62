"""Sentences to Label Studio predictions: tokenize, decode with the CRF, rank, write spans.

Shared by ``/predict`` and the rescore job, so both give a task the same prediction. A
prediction holds the best tag sequence's entities as ``labels`` results (character
offsets into the task's text, each with the mean marginal of its tokens as its score)
and the task's ``score`` from the strategy (lower = label first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from backend.errors import BadRequest
from backend.tasks.base import Scored
from backend.tasks.ner.bio import tags_to_ranges
from backend.tasks.ner.features import entity_prior, token_attributes
from backend.tasks.ner.inference import Decoded
from backend.tasks.ner.model import SpanModel, tag_names, train_model
from backend.tasks.ner.schema import SpanSchema
from backend.tasks.ner.targets import task_text
from backend.tasks.ner.tokens import Token, tokenize
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.model import fit_idf, weight
from strategies.sequence import SequencePool, SequenceStrategy, get_sequence_strategy


@dataclass
class Sentences:
    """A batch of tasks' texts and their tokens; hashed counts of the texts (for clustering
    and the cold start) are computed when first asked for."""

    texts: list[str]
    tokens: list[list[Token]]
    _counts: sp.csr_matrix | None = None

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def counts(self) -> sp.csr_matrix:
        if self._counts is None:
            self._counts = featurize(self.texts)
        return self._counts

    @property
    def words(self) -> list[list[str]]:
        return [[t.text for t in sentence] for sentence in self.tokens]


@dataclass
class Tagged:
    """What a ranking keeps for the predictions: the sentences and the model's decoding."""

    sentences: Sentences
    decoded: Decoded | None


def sentences_of(texts: Sequence[str], tokens: Sequence[list[Token]] | None = None) -> Sentences:
    toks = list(tokens) if tokens is not None else [tokenize(t) for t in texts]
    return Sentences(list(texts), toks)


def task_sentences(tasks: Sequence[Mapping[str, Any]], schema: SpanSchema, max_chars: int) -> Sentences:
    """The configured text of every task; a task without it is the sender's error."""
    texts = [task_text(t, schema, max_chars) for t in tasks]
    missing = [t.get("id", i) for i, (t, x) in enumerate(zip(tasks, texts, strict=True)) if x is None]
    if missing:
        shown = ", ".join(str(m)[:20] for m in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise BadRequest(f'{len(missing)} task(s) have no "{schema.value_key}" field in data (task {shown}); '
                         f'the label config reads value="${schema.value_key}"', status=422)
    return sentences_of([x or "" for x in texts])


def committee(model: SpanModel, size: int, seed: int) -> list[SpanModel]:
    """``size`` CRFs, each fitted on a bootstrap sample of the model's labeled sentences."""
    rng = np.random.default_rng(seed)
    n = len(model.train_words)
    attrs = [token_attributes(w) for w in model.train_words]
    members = []
    for _ in range(size):
        rows = rng.integers(0, n, n)
        members.append(train_model([model.train_words[i] for i in rows], [model.train_tags[i] for i in rows],
                                   model.labels, [attrs[i] for i in rows]))
    return members


def pool_of(sentences: Sentences, model: SpanModel | None, strategy: SequenceStrategy, seed: int = 0,
            decoded: Decoded | None = None) -> tuple[SequencePool, Decoded | None]:
    """What a sequence strategy sees, and the model's decoding of the sentences."""
    words = sentences.words
    lengths = np.asarray([len(w) for w in words], dtype=np.intp)
    prior = np.asarray([entity_prior(w) for w in words])
    if model is not None and strategy.per_task:  # scores of one sentence alone: no sentence vectors
        features: Any = sp.csr_matrix((len(sentences), 1))
    else:
        features = weight(sentences.counts, fit_idf(sentences.counts))
    if model is None:
        return SequencePool(features=features, lengths=lengths, entity_prior=prior), None
    decoded = decoded or model.decode_words(words)
    members: tuple[Any, ...] = ()
    if strategy.members and model.n_train >= 2:
        members = tuple(m.decode_words(words).marginals for m in committee(model, strategy.members, seed))
    elif strategy.members:  # one labeled sentence: no committee to speak of; members agree
        members = (decoded.marginals, decoded.marginals)
    pool = SequencePool(features=features, lengths=lengths, marginals=decoded.marginals,
                        best_proba=decoded.best_proba, second_proba=decoded.second_proba, members=members,
                        entity_prior=prior, n_labeled=model.n_train)
    return pool, decoded


def score_sentences(sentences: Sentences, model: SpanModel | None, strategy: SequenceStrategy, *,
                    batch_size: int = 10, seed: int = 0) -> Scored:
    """Rank ``sentences`` with ``strategy`` (the cold start when ``model`` is None)."""
    pool, decoded = pool_of(sentences, model, strategy, seed)
    return Scored(strategy.rank(pool, batch_size=batch_size, random_state=seed), Tagged(sentences, decoded))


def fallback_scores(sentences: Sentences, model: SpanModel) -> Scored:
    """A per-sentence score from the model alone (total token entropy): no refit, no other sentence."""
    return score_sentences(sentences, model, get_sequence_strategy("entropy_sum"))


def spans_of(tokens: Sequence[Token], tags: Sequence[str],
             confidence: Sequence[float]) -> list[tuple[int, int, str, float]]:
    """Entities as (start char, end char, label, mean tag probability of its tokens)."""
    out = []
    for first, stop, label in tags_to_ranges(tags):
        out.append((tokens[first].start, tokens[stop - 1].end, label, float(np.mean(confidence[first:stop]))))
    return out


def prediction_results(schema: SpanSchema, text: str, spans: Sequence[tuple[int, int, str, float]]
                       ) -> list[dict[str, Any]]:
    """Label Studio ``labels`` results for one task, as the labeling screen pre-annotates them."""
    return [{"id": f"e{i}", "from_name": schema.from_name, "to_name": schema.to_name, "type": "labels",
             "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]},
             "score": round(score, 6)}
            for i, (start, end, label, score) in enumerate(spans)]


def predictions(schema: SpanSchema, scored: Scored, version: str) -> list[dict[str, Any]]:
    """One Label Studio prediction per sentence, in row order (no spans before any model)."""
    scores = [round(s, 6) for s in np.asarray(scored.scores, dtype=np.float64).tolist()]
    tagged = scored.outputs
    if not isinstance(tagged, Tagged) or tagged.decoded is None:
        return [{"result": [], "score": s, "model_version": version} for s in scores]
    decoded = tagged.decoded
    names = tag_names(schema.labels)
    confidence = decoded.marginals[np.arange(len(decoded.best_tags)), decoded.best_tags]
    out, start = [], 0
    for row, score in enumerate(scores):
        tokens = tagged.sentences.tokens[row]
        stop = start + len(tokens)
        tags = [names[j] for j in decoded.best_tags[start:stop].tolist()]
        spans = spans_of(tokens, tags, confidence[start:stop])
        out.append({"result": prediction_results(schema, tagged.sentences.texts[row], spans), "score": score,
                    "model_version": version})
        start = stop
    return out

