"""Real tagged tweets (btc.conll) and a CRF trained on some, shared by the NER tests."""

from __future__ import annotations

import pytest

from backend.tasks.ner.conll import Sentence, read_conll
from backend.tasks.ner.model import SpanModel, train_model
from tests.conftest import DATA

BTC = DATA / "btc.conll"
LABELS = ("PER", "ORG", "LOC")


@pytest.fixture(scope="session")
def btc() -> list[Sentence]:
    return read_conll(BTC)


@pytest.fixture(scope="session")
def crf(btc: list[Sentence]) -> SpanModel:
    """A CRF on 400 tweets (about a second to fit)."""
    train = btc[:400]
    return train_model([list(s.words) for s in train], [list(s.tags) for s in train], LABELS)
