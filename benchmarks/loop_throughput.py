"""Scoring throughput without Label Studio: featurize, rank with the strategy, build predictions.

The same calls the rescore job makes between reading the pool and pushing it, in this process,
with one BLAS thread as the worker runs. ``featurize`` alone is timed in the same run: it is the
floor every strategy pays, and the ratio to it holds when the shared machine is busy.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from threadpoolctl import threadpool_limits

from backend.tasks import parse_label_config
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.model import TextModel, train_model
from backend.tasks.text_classification.schema import TaskSchema
from backend.tasks.text_classification.scoring import predictions, score_counts
from benchmarks.loop_data import LABEL_CONFIG, expanded
from strategies import DEFAULT_STRATEGY, get_strategy


@dataclass(frozen=True)
class Throughput:
    """Median seconds per phase for ``n`` texts with ``strategy`` ("" = featurize alone)."""

    n: int
    strategy: str
    per_task: bool
    featurize: float
    score: float
    build: float

    @property
    def total(self) -> float:
        return self.featurize + self.score + self.build

    @property
    def rate(self) -> float:
        return self.n / self.total


def trained_model(schema: TaskSchema, n_labels: int) -> TextModel:
    rows = expanded(n_labels)
    targets = [schema.labels.index(label) for label in rows.labels]
    return train_model(featurize(rows.texts), targets, schema.labels, schema.multilabel)


def one_run(texts: list[str], model: TextModel, schema: TaskSchema, strategy: str, batch_size: int
            ) -> tuple[float, float, float]:
    """Seconds to featurize, to score with ``strategy`` ("" = stop after featurizing), to build predictions."""
    start = time.perf_counter()
    counts = featurize(texts)
    featurized = time.perf_counter()
    if not strategy:
        return featurized - start, 0.0, 0.0
    scored = score_counts(counts, model, schema, get_strategy(strategy), batch_size=batch_size, seed=1)
    ranked = time.perf_counter()
    preds = predictions(schema, scored, "ls-active-v1-benchmark")
    built = time.perf_counter()
    if len(preds) != len(texts):
        raise RuntimeError(f"{strategy}: {len(preds)} predictions for {len(texts)} texts")
    return featurized - start, ranked - featurized, built - ranked


def measure_throughput(sizes: tuple[int, ...], n_labels: int, batch_size: int, repeats: int) -> list[Throughput]:
    """Per size: featurize alone, the default strategy, and ``margin``; median of ``repeats`` runs each."""
    schema = parse_label_config(LABEL_CONFIG.read_text())
    strategies = ("", DEFAULT_STRATEGY, "margin")
    out: list[Throughput] = []
    with threadpool_limits(1):
        model = trained_model(schema, n_labels)
        for n in sizes:
            texts = expanded(n, start=n_labels).texts
            runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in strategies}
            for _ in range(repeats):  # interleaved, so every strategy sees the same load
                for name in strategies:
                    runs[name].append(one_run(texts, model, schema, name, batch_size))
            for name in strategies:
                phases = [statistics.median(r[i] for r in runs[name]) for i in range(3)]
                per_task = get_strategy(name).per_task if name else True
                out.append(Throughput(n, name, per_task, *phases))
    return out
