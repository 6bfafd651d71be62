"""Scoring cost of today's model against the new default, interleaved in one process.

The part of ``/predict`` and of the rescore that the model changes (probabilities, the
strategy's ranking, predictions) on already featurized tasks, so the two models are timed
under the same load; featurizing is the same for both and is timed once as the floor.

    nice -n 10 .venv/bin/python -m benchmarks.model_speed
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence

from threadpoolctl import threadpool_limits

from backend.tasks import parse_label_config
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.model import train_model
from backend.tasks.text_classification.pool import pool_stats
from backend.tasks.text_classification.scoring import predictions, score_counts
from benchmarks.loop_data import LABEL_CONFIG, expanded
from strategies import DEFAULT_STRATEGY, get_strategy


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", nargs="+", type=int, default=[500, 2000])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    schema = parse_label_config(LABEL_CONFIG.read_text())
    with threadpool_limits(1):
        texts = expanded(args.tasks, start=max(args.labels)).texts
        start = time.perf_counter()
        counts = featurize(texts)
        print(f"featurize {args.tasks} tasks: {time.perf_counter() - start:.3f} s (the floor, same for both)")
        for n in args.labels:
            rows = expanded(n)
            train = featurize(rows.texts)
            targets = [schema.labels.index(label) for label in rows.labels]
            models = {"today": train_model(train, targets, schema.labels, learner="logreg", calibrate=False),
                      "new": train_model(train, targets, schema.labels, pool=pool_stats(counts, train),
                                                learner="auto", idf="auto", calibrate=True)}
            for name in (DEFAULT_STRATEGY, "margin"):
                strategy = get_strategy(name)
                for size in (100, args.tasks):
                    times: dict[str, list[float]] = {m: [] for m in models}
                    for _ in range(args.repeats):
                        for label, model in models.items():
                            t0 = time.perf_counter()
                            scored = score_counts(counts[:size], model, schema, strategy, batch_size=10, seed=1)
                            predictions(schema, scored, "v")
                            times[label].append(time.perf_counter() - t0)
                    line = ", ".join(f"{m} {statistics.median(t) * 1000:.1f} ms ({models[m].learner})"
                                     for m, t in times.items())
                    print(f"{n} labels, {name}, {size} tasks: {line}")


if __name__ == "__main__":
    main()
