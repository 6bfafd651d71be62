"""Text to features without a fitted vocabulary.

Hashing means any process (a gunicorn worker, an RQ worker on another machine) turns
the same text into the same vector with nothing to load or share. Word 1-2 grams into
2^18 columns; term weighting (sublinear TF-IDF) is part of the trained model, because
IDF needs a corpus.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from backend.defaults import MAX_TEXT_CHARS

N_FEATURES = 2**18
_TAGS = re.compile(r"<[^>]+>")

_VECTORIZER = HashingVectorizer(
    n_features=N_FEATURES,
    ngram_range=(1, 2),
    alternate_sign=False,
    norm=None,
    lowercase=True,
    dtype=np.float64,
)


def clean_text(value: object, object_type: str = "Text", max_chars: int = MAX_TEXT_CHARS) -> str:
    """A task field as plain text: HyperText loses its tags, anything is cut to ``max_chars``."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    if object_type == "HyperText":
        text = html.unescape(_TAGS.sub(" ", text))
    return text[:max_chars]


def featurize(texts: Sequence[str]) -> sp.csr_matrix:
    """Raw hashed n-gram counts, one CSR row per text (an empty text is an all-zero row)."""
    if not texts:
        return sp.csr_matrix((0, N_FEATURES), dtype=np.float64)
    return sp.csr_matrix(_VECTORIZER.transform(list(texts)))
