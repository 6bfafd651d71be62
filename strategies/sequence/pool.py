"""What a sequence strategy sees: per-token tag marginals of every sentence, stacked."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from strategies._types import Features, FloatArray, IntArray


@dataclass(frozen=True)
class SequencePool:
    """The unlabeled sentences as a strategy may look at them.

    Sentences are rows; their tokens are stacked in row order, so ``marginals`` has
    ``lengths.sum()`` rows and one column per tag (``outside`` is the ``O`` column).
    ``marginals``, ``best_proba`` (P(most likely tag sequence)) and ``second_proba`` are
    ``None`` before any model exists (cold start). ``members`` holds a committee's
    marginals in the same layout when the strategy asked for one. ``features`` are sentence
    vectors (for clustering and the cold start) and ``entity_prior`` a per-sentence guess in
    [0, 1] that it holds an entity, usable before any model.
    """

    features: Features
    lengths: IntArray
    marginals: FloatArray | None = None
    best_proba: FloatArray | None = None
    second_proba: FloatArray | None = None
    members: tuple[FloatArray, ...] = ()
    entity_prior: FloatArray | None = None
    labeled_features: Features | None = None
    n_labeled: int = 0
    outside: int = 0

    def __post_init__(self) -> None:
        n = int(self.features.shape[0])
        if len(self.lengths) != n:
            raise ValueError(f"lengths has {len(self.lengths)} sentences; features has {n}")
        total = int(np.sum(self.lengths))
        for name, rows in (("marginals", self.marginals), *((f"member {i}", m) for i, m in enumerate(self.members))):
            if rows is not None and rows.shape[0] != total:
                raise ValueError(f"{name} has {rows.shape[0]} token rows; lengths add up to {total}")

    @property
    def n_samples(self) -> int:
        return int(self.features.shape[0])

    @property
    def has_model(self) -> bool:
        return self.marginals is not None
