"""Hashed features: the same text gives the same vector in any process; HyperText and long texts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from backend.tasks.text_classification.features import N_FEATURES, clean_text, featurize
from tests.conftest import ROOT, load_rows

FEATURIZE_IN_CHILD = """
import json, sys
from backend.tasks.text_classification.features import featurize
x = featurize(json.loads(sys.stdin.read()))
print(json.dumps({"indptr": x.indptr.tolist(), "indices": x.indices.tolist(), "data": x.data.tolist()}))
"""


def test_same_vectors_in_another_process() -> None:
    """A gunicorn worker and an RQ worker on another machine must agree without sharing anything."""
    texts = [r["text"] for r in load_rows()[:300]] + ["Ünïcödé wörds", "", "emoji 🙂 text"]
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    child = subprocess.run(
        [sys.executable, "-c", FEATURIZE_IN_CHILD], input=json.dumps(texts), capture_output=True, text=True,
        env=env, cwd=ROOT, check=True,
    )
    theirs = json.loads(child.stdout)
    ours = featurize(texts)
    ours.sort_indices()
    theirs_matrix = sp.csr_matrix(
        (theirs["data"], theirs["indices"], theirs["indptr"]), shape=(len(texts), N_FEATURES)
    )
    theirs_matrix.sort_indices()
    assert (ours != theirs_matrix).nnz == 0
    assert ours.nnz > 1000


def test_counts_shape_and_ngrams() -> None:
    x = featurize(["the cat sat", "sat the cat", "Cat THE sat"])
    assert x.shape == (3, N_FEATURES)
    assert isinstance(x, sp.csr_matrix)
    assert x[0].sum() == 5  # three words and two bigrams, counted
    assert (x[0] != x[1]).nnz > 0, "bigrams keep some word order"
    unigram_cols = set(featurize(["the"]).indices) | set(featurize(["cat"]).indices) | set(featurize(["sat"]).indices)
    assert unigram_cols <= set(x[2].indices), "lower-cased words land in the same columns"


def test_counts_are_raw_term_counts() -> None:
    x = featurize(["word word word"])
    assert sorted(x.data.tolist()) == [2.0, 3.0]  # "word word" twice, "word" three times


def test_empty_text_is_an_all_zero_row() -> None:
    x = featurize(["", "real words"])
    assert x[0].nnz == 0 and x[1].nnz > 0


def test_no_texts_gives_no_rows() -> None:
    """A project with no unlabeled task left (or none imported yet) is scored as an empty pool."""
    x = featurize([])
    assert x.shape == (0, N_FEATURES)


def test_hypertext_loses_tags_and_entities() -> None:
    html = '<div class="q"><p>Who <b>wrote</b> Hamlet&nbsp;?</p><br/>Tom &amp; Jerry</div>'
    cleaned = clean_text(html, "HyperText")
    assert "<" not in cleaned and "class" not in cleaned
    assert "Tom & Jerry" in cleaned and "wrote" in cleaned
    assert (featurize([cleaned]) != featurize(["Who wrote Hamlet ? Tom & Jerry"])).nnz == 0


def test_plain_text_keeps_angle_brackets() -> None:
    assert clean_text("a <b> c", "Text") == "a <b> c"


@pytest.mark.parametrize(("value", "expected"), [(None, ""), (12, "12"), (3.5, "3.5"), (["a"], "['a']")])
def test_non_string_values(value: object, expected: str) -> None:
    assert clean_text(value) == expected


def test_truncation() -> None:
    assert clean_text("x" * 50, max_chars=10) == "x" * 10
    assert clean_text("<i>" + "y" * 50 + "</i>", "HyperText", max_chars=5) == " yyyy"
    long = " ".join(f"w{i}" for i in range(5000))
    head = clean_text(long, max_chars=100)
    assert (featurize([head]) != featurize([long[:100]])).nnz == 0
    assert featurize([head]).nnz < featurize([long]).nnz


def test_default_limit_is_the_setting() -> None:
    from backend.defaults import MAX_TEXT_CHARS

    assert len(clean_text("z" * (MAX_TEXT_CHARS + 10))) == MAX_TEXT_CHARS


def test_features_are_finite_floats() -> None:
    x = featurize([r["text"] for r in load_rows()[:50]])
    assert x.dtype == np.float64
    assert np.isfinite(x.data).all() and (x.data > 0).all()
