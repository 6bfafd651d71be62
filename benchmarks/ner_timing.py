"""Named entities: rescore throughput without Label Studio I/O, and ``/predict`` latency.

* Rescore: what the rescore job does between reading tasks and importing predictions
  (tokenize, featurize, decode with the CRF, rank with the default strategy, build the span
  predictions) for 10,000 and 50,000 tweets (btc.conll cycled), best of up to 3 runs.
* ``/predict``: 100 tweets per request, sequential, over one keep-alive connection to
  gunicorn (2 workers) with a real Redis, the CRF published as the retrain job publishes
  it and the pool's scores pushed, as Label Studio's "Retrieve Predictions" sends them.

    python -m benchmarks.ner_timing
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import redis
import requests

from backend.loop.state import ProjectConfig, ProjectState
from backend.loop.store import ArtifactStore
from backend.tasks import parse_label_config
from backend.tasks.ner.conll import read_conll
from backend.tasks.ner.kind import NAMED_ENTITIES as KIND
from backend.tasks.ner.model import train_model
from benchmarks.bench_common import DATASETS_DIR, best_time
from benchmarks.loop_stack import redis_server
from benchmarks.service_latency import bare_floor, forget, poster, timed, web_service

PROJECT = 4243
CONFIG = ('<View><Labels name="label" toName="text"><Label value="PER"/><Label value="ORG"/>'
          '<Label value="LOC"/></Labels><Text name="text" value="$text"/></View>')


def tasks(n: int, texts: list[str]) -> list[dict[str, Any]]:
    return [{"id": i + 1, "data": {"text": texts[i % len(texts)]}} for i in range(n)]


def rescore(model: Any, pool: list[dict[str, Any]]) -> int:
    schema = parse_label_config(CONFIG)
    inputs = KIND.inputs(pool, schema, 10_000)
    scored = KIND.score(inputs, model, schema, KIND.strategy(None), batch_size=10, seed=0)
    return len(KIND.predictions(schema, scored, "v"))


def predict_latency(model: Any, texts: list[str], n: int = 60) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        with redis_server(tmp) as (url, _):
            schema = parse_label_config(CONFIG)
            state = ProjectState(redis.Redis.from_url(url))
            state.save_config(ProjectConfig(PROJECT, schema, "http://127.0.0.1:9", "x", KIND.default_strategy,
                                            time.time()))
            version = "ls-active-v1-benchmark"
            record = {"version": version, "project": PROJECT, "created_at": time.time(), "n_labels": model.n_train}
            ArtifactStore(tmp / "models").write(PROJECT, version, model, record)
            state.publish_version(PROJECT, version, record)
            pool = tasks(2000, texts)
            scored = KIND.score(KIND.inputs(pool, schema, 10_000), model, schema, KIND.strategy(None),
                                batch_size=10, seed=PROJECT)
            state.save_scores(PROJECT, version, {t["id"]: float(s) for t, s in zip(pool, scored.scores, strict=True)})
            body = json.dumps({"tasks": pool[:100], "project": f"{PROJECT}.1795269085", "label_config": CONFIG,
                               "params": {"login": None, "password": None, "context": None}}).encode()
            try:
                with web_service(url, tmp, 2) as base, requests.Session() as session:
                    answer = requests.post(base + "/predict", data=body, timeout=120,
                                           headers={"Content-Type": "application/json"}).json()
                    first = answer["results"][0]
                    if not any(r["result"] for r in answer["results"]) or first["model_version"] != version:
                        raise RuntimeError(f"/predict does not answer the model's spans: {first}")
                    result = timed("POST /predict 100 tweets", poster(session, base + "/predict", body),
                                   bare_floor(session, base), n, 10, 100)
            finally:
                forget(url)
            return result.samples, result.floor


def main() -> int:
    sentences = read_conll(DATASETS_DIR / "btc.conll")
    texts = [s.text for s in sentences]
    train = sentences[::9][:1000]
    model = train_model([list(s.words) for s in train], [list(s.tags) for s in train], ("PER", "ORG", "LOC"))
    print(f"CRF on {len(train)} tweets; load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| sentences | rescore seconds | sentences per second |\n|---|---|---|")
    for n in (10_000, 50_000):
        pool = tasks(n, texts)
        seconds = best_time(lambda pool=pool: rescore(model, pool))
        print(f"| {n:,} | {seconds:.1f} | {n / seconds:,.0f} |", flush=True)
    samples, floor = predict_latency(model, texts)
    print(f"POST /predict, 100 tweets, {len(samples)} requests: p50 {np.percentile(samples, 50):.1f} ms, "
          f"p90 {np.percentile(samples, 90):.1f} ms, p99 {np.percentile(samples, 99):.1f} ms; an unrouted "
          f"request (the HTTP floor) interleaved with them: p50 {np.percentile(floor, 50):.1f} ms; "
          f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
