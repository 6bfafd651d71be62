"""The selection model: the strategy ranks with a model blind to the labeled audit tasks,
and its probabilities of them set both models' calibration temperature.

Real Redis (the audit draws), a real artifact store; the tasks are Label Studio's export
shape with trec6 texts and their true labels.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import redis

from backend.loop.rescoring import ranking, scored_predictions
from backend.loop.services import Services
from backend.loop.state import ProjectConfig
from backend.loop.store import artifact_bytes
from backend.loop.training import SELECTION_FILE, publish_from, selection_model
from backend.settings import Settings
from backend.tasks import kind_of
from backend.tasks.text_classification.calibration import fit_temperature
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.model import TextModel
from backend.tasks.text_classification.schema import TaskSchema
from tests.conftest import backend_env, load_rows

LABELS = ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
SCHEMA = TaskSchema("label", "text", "Text", "text", LABELS, False)
PROJECT = 41


def task(i: int, row: dict[str, Any], labeled: bool) -> dict[str, Any]:
    result = [{"from_name": "label", "to_name": "text", "type": "choices", "value": {"choices": [row["label"]]}}]
    return {"id": i, "data": {"text": row["text"]},
            "annotations": [{"result": result, "was_cancelled": False}] if labeled else []}


def setup(redis_url: str, tmp_path: Path) -> tuple[Services, list[dict[str, Any]], list[dict[str, Any]]]:
    svc = Services.create(Settings.from_env(backend_env(redis_url, tmp_path)))
    rows = load_rows()
    labeled = [task(i + 1, r, True) for i, r in enumerate(rows[:120])]
    pool = [task(i + 1001, r, False) for i, r in enumerate(rows[200:700])]
    return svc, labeled, pool


def test_the_selection_model_leaves_out_exactly_the_labeled_audit_tasks(redis_url: str, redis_conn: redis.Redis,
                                                                        tmp_path: Path) -> None:
    svc, labeled, _ = setup(redis_url, tmp_path)
    kind = kind_of(SCHEMA)
    training = kind.training_set(labeled, SCHEMA, 2000)
    assert selection_model(svc, PROJECT, kind, labeled, training, SCHEMA) == (None, 0)  # no audit yet
    # two draws: six labeled tasks and two that are still unlabeled (ids not in the training set)
    svc.state.record_audit_draw(PROJECT, "v1", 0, [3, 17, 40, 5000])
    svc.state.record_audit_draw(PROJECT, "v2", 1, [61, 88, 99, 5001])
    model, left_out = selection_model(svc, PROJECT, kind, labeled, training, SCHEMA)
    assert left_out == 6
    assert model is not None and model.n_train == len(training) - 6


def test_the_order_comes_from_the_selection_model_and_the_preselection_from_the_version(
        redis_url: str, redis_conn: redis.Redis, tmp_path: Path) -> None:
    svc, labeled, pool = setup(redis_url, tmp_path)
    kind = kind_of(SCHEMA)
    full = kind.train(kind.training_set(labeled, SCHEMA, 2000), SCHEMA)
    # a selection model that differs visibly: a fifth of the labels
    blind = kind.train(kind.training_set(labeled[:24], SCHEMA, 2000), SCHEMA)
    config = ProjectConfig(PROJECT, SCHEMA, strategy="default")
    svc.store.write(PROJECT, "ls-active-v1-a", full, {"version": "ls-active-v1-a"})
    svc.store.write(PROJECT, "ls-active-v2-b", full, {"version": "ls-active-v2-b"},
                    extra_files={SELECTION_FILE: artifact_bytes(blind)})

    served = scored_predictions(svc, config, pool, full, "ls-active-v2-b")
    without = scored_predictions(svc, config, pool, full, "ls-active-v1-a")  # no selection file: as before

    inputs = kind.inputs(pool, SCHEMA, 2000)
    strategy = kind.strategy("default")
    by_blind = kind.score(inputs, blind, SCHEMA, strategy, **ranking(svc.settings, PROJECT)).scores
    by_full = kind.score(inputs, full, SCHEMA, strategy, **ranking(svc.settings, PROJECT)).scores
    assert np.allclose([p["score"] for p in served], np.round(by_blind, 6))
    assert np.allclose([p["score"] for p in without], np.round(by_full, 6))
    assert not np.allclose(by_blind, by_full)  # the two orders differ, so the test tells them apart
    assert [p["result"] for p in served] == [p["result"] for p in without]  # what annotators see: the version's
    assert [p["task"] for p in served] == [t["id"] for t in pool]


def test_a_retrain_fits_one_temperature_on_the_labeled_audit_tasks(redis_url: str, redis_conn: redis.Redis,
                                                                   tmp_path: Path) -> None:
    svc = Services.create(Settings.from_env(backend_env(redis_url, tmp_path)))
    rows = load_rows()
    labeled = [task(i + 1, r, True) for i, r in enumerate(rows[:800])]
    audit = sorted(int(t) for t in np.random.default_rng(0).choice(np.arange(1, 801), 80, replace=False))
    svc.state.record_audit_draw(PROJECT, "v1", 0, audit)
    config = ProjectConfig(PROJECT, SCHEMA, "http://ls", "token")
    record = publish_from(svc, config, labeled)

    fitted = record["model"]["calibration"]
    assert (fitted["fitted_on"], fitted["rows"]) == ("audit", 80)
    assert fitted["temperature"] < 1.0  # logistic regression on TF-IDF is under-confident
    assert fitted["ece_after"] < fitted["ece_before"]
    served = svc.store.load(PROJECT, record["version"])
    ranker = svc.store.load_extra(PROJECT, record["version"], SELECTION_FILE)
    assert isinstance(served, TextModel) and isinstance(ranker, TextModel)
    assert served.temperature == ranker.temperature == pytest.approx(fitted["temperature"], abs=1e-4)
    # fitted on what the ranking model (trained without them) says of the audit tasks
    texts = featurize([rows[t - 1]["text"] for t in audit])
    y = np.array([LABELS.index(rows[t - 1]["label"]) for t in audit])
    raw = replace(ranker, temperature=1.0).predict_proba(texts)
    assert fit_temperature(raw, y) == pytest.approx(served.temperature, rel=1e-3)
    assert ranker.n_train == 720 and served.n_train == 800

    off = ProjectConfig(PROJECT + 1, SCHEMA, "http://ls", "token", options={"calibrate": "off"})
    svc.state.record_audit_draw(PROJECT + 1, "v1", 0, audit)
    plain = publish_from(svc, off, labeled)
    assert "calibration" not in plain["model"]
    assert svc.store.load(PROJECT + 1, plain["version"]).temperature == 1.0  # type: ignore[attr-defined]
