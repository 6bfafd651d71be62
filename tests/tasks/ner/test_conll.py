"""CoNLL files: tab or space, tag in the last column, BIO or IO, blank lines between sentences."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.errors import SimulationError
from backend.tasks.ner.conll import Sentence, entity_labels, read_conll


def write(tmp_path: Path, text: str, name: str = "x.conll") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_tab_separated_bio(tmp_path: Path) -> None:
    sentences = read_conll(write(tmp_path, "Anna\tB-PER\nsings\tO\n\nin\tO\nNew\tB-LOC\nYork\tI-LOC\n"))
    assert sentences == [Sentence(("Anna", "sings"), ("B-PER", "O")),
                         Sentence(("in", "New", "York"), ("O", "B-LOC", "I-LOC"))]
    assert sentences[1].text == "in New York" and sentences[1].spans() == [(3, 11, "LOC")]


def test_space_separated_with_more_columns_and_io_tags(tmp_path: Path) -> None:
    text = "-DOCSTART- -X- O O\n\nEU NNP B-NP I-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP I-MISC\n\n\n"
    (sentence,) = read_conll(write(tmp_path, text))
    assert sentence.tags == ("B-ORG", "O", "B-MISC")


def test_blank_tokens_are_left_out(tmp_path: Path) -> None:
    (sentence,) = read_conll(write(tmp_path, "MH17\tO\n \tO\nPray\tO\n"))
    assert sentence.words == ("MH17", "Pray")


@pytest.mark.parametrize(("text", "found"), [
    ("Anna\tPERSON\n", "PERSON"),
    ("Anna\n", "a token and a tag"),
    ("\n\n", "no tagged sentences"),
])
def test_bad_files_say_what_is_wrong(tmp_path: Path, text: str, found: str) -> None:
    with pytest.raises(SimulationError, match=found):
        read_conll(write(tmp_path, text))


def test_btc_reads_whole(btc: list[Sentence]) -> None:
    assert len(btc) == 9338, "9,339 sentences, one of them only a blank token"
    assert entity_labels(btc) == ("LOC", "ORG", "PER")
    assert all(t == "O" or t[:2] in ("B-", "I-") for s in btc for t in s.tags)
