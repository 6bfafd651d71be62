"""The CRF: numpy inference agrees with crfsuite's own tagger; unseen tags are impossible."""

from __future__ import annotations

import numpy as np
import pytest

from backend.errors import NotEnoughLabels
from backend.tasks.ner.conll import Sentence
from backend.tasks.ner.features import token_attributes
from backend.tasks.ner.inference import decode
from backend.tasks.ner.model import SpanModel, fit_crf, tag_names, train_model
from tests.tasks.ner.conftest import LABELS


def test_tags_are_outside_then_begin_inside_per_label() -> None:
    assert tag_names(("PER", "LOC")) == ("O", "B-PER", "I-PER", "B-LOC", "I-LOC")


def test_marginals_best_path_and_its_probability_match_crfsuite(btc: list[Sentence]) -> None:
    train, test = btc[:300], btc[300:340]
    words, tags = [list(s.words) for s in train], [list(s.tags) for s in train]
    model = train_model(words, tags, LABELS)
    tagger = fit_crf([token_attributes(w) for w in words], tags).tagger_
    decoded = model.decode_words([list(s.words) for s in test])
    start = 0
    for row, sentence in enumerate(test):
        attrs = token_attributes(list(sentence.words))
        tagger.set(attrs)
        best = tagger.tag()
        stop = start + len(attrs)
        assert [model.tags[j] for j in decoded.best_tags[start:stop]] == best
        assert decoded.best_proba[row] == pytest.approx(tagger.probability(best), abs=1e-5)
        for t in range(len(attrs)):
            for k, tag in enumerate(model.tags):
                assert decoded.marginals[start + t, k] == pytest.approx(tagger.marginal(tag, t), abs=1e-5)
        start = stop


def test_marginals_are_distributions_and_the_runner_up_is_less_likely(crf: SpanModel,
                                                                      btc: list[Sentence]) -> None:
    decoded = crf.decode_words([list(s.words) for s in btc[1000:1200]])
    assert np.allclose(decoded.marginals.sum(axis=1), 1.0)
    assert (decoded.second_proba <= decoded.best_proba + 1e-12).all()
    assert (decoded.best_proba + decoded.second_proba <= 1.0 + 1e-9).all()


def test_second_best_is_exact_on_a_chain_small_enough_to_enumerate() -> None:
    rng = np.random.default_rng(3)
    emissions, transitions = rng.normal(size=(4, 3)), rng.normal(size=(3, 3))
    decoded = decode(emissions, [4], transitions)
    paths = np.array(np.meshgrid(*[range(3)] * 4, indexing="ij")).reshape(4, -1).T
    scores = np.array([emissions[np.arange(4), p].sum() + transitions[p[:-1], p[1:]].sum() for p in paths])
    proba = np.sort(np.exp(scores - np.log(np.exp(scores).sum())))[::-1]
    assert decoded.best_proba[0] == pytest.approx(proba[0]) and decoded.second_proba[0] == pytest.approx(proba[1])


def test_a_tag_never_labeled_is_never_predicted(btc: list[Sentence]) -> None:
    train = [s for s in btc[:600] if "B-LOC" not in s.tags and "I-LOC" not in s.tags][:200]
    model = train_model([list(s.words) for s in train], [list(s.tags) for s in train], LABELS)
    decoded = model.decode_words([list(s.words) for s in btc[2000:2300]])
    loc = [model.tags.index("B-LOC"), model.tags.index("I-LOC")]
    assert decoded.marginals[:, loc].max() < 1e-6


def test_sentences_of_every_length_including_none_decode() -> None:
    model = train_model([["Anna", "sings"], ["in", "Rome"]], [["B-PER", "O"], ["O", "B-LOC"]], ("PER", "LOC"))
    decoded = model.decode_words([[], ["Anna"], ["Anna", "in", "Rome", "today"]])
    assert decoded.marginals.shape == (5, 5) and decoded.best_proba[0] == 1.0


def test_training_refuses_nothing_and_stray_tags() -> None:
    with pytest.raises(NotEnoughLabels):
        train_model([], [], LABELS)
    with pytest.raises(ValueError, match="B-MISC"):
        train_model([["x"]], [["B-MISC"]], LABELS)


def test_weights_in_another_vocabulary_give_the_same_emissions(crf: SpanModel, btc: list[Sentence]) -> None:
    attrs = [a for s in btc[500:520] for a in token_attributes(list(s.words))]
    vocabulary = {a: i for i, a in enumerate(sorted({x for t in attrs for x in t}))}
    rows = np.zeros((len(attrs), len(vocabulary)))
    for i, token in enumerate(attrs):
        rows[i, [vocabulary[a] for a in token]] = 1.0
    assert np.allclose(rows @ crf.weights_in(vocabulary) + crf.tag_bias, crf.emissions(attrs))


def test_scores_summed_per_word_equal_scores_summed_per_token(crf: SpanModel, btc: list[Sentence]) -> None:
    sentences = [list(s.words) for s in btc[5000:5300]] + [[], ["X"], ["a", "B"], ["Rome"] * 5]
    per_token = crf.emissions([a for s in sentences for a in token_attributes(s)])
    assert np.allclose(crf.emissions_of(sentences), per_token, atol=1e-12)


def test_the_word_memo_gives_the_same_scores_and_is_not_stored(crf: SpanModel, btc: list[Sentence]) -> None:
    import pickle

    sentences = [list(s.words) for s in btc[6000:6100]]
    first = crf.emissions_of(sentences)
    assert crf._word_sums, "the words were memoised"
    assert np.array_equal(crf.emissions_of(sentences), first)
    copy = pickle.loads(pickle.dumps(crf))
    assert copy._word_sums == {} and np.allclose(copy.emissions_of(sentences), first)
