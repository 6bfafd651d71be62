"""The rescore saves the pool's statistics, the retrain trains with them and records the model."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from backend.loop.rescoring import refresh_pool
from backend.loop.store import ArtifactStore
from backend.loop.training import model_record
from backend.tasks.text_classification.estimators import uses_pool
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.kind import TEXT_CLASSIFICATION
from backend.tasks.text_classification.model import DEFAULT_IDF, DEFAULT_LEARNER, train_model
from backend.tasks.text_classification.schema import TaskSchema
from backend.tasks.text_classification.targets import TrainingSet

SCHEMA = TaskSchema("sentiment", "text", "Text", "text", ("pos", "neg"), False)
UNLABELED = ["good fun film", "great acting", "dull plot", "boring and slow", "fun and great", "slow dull"]


def _services(tmp_path: Path) -> Any:
    return SimpleNamespace(store=ArtifactStore(tmp_path))


def test_refresh_saves_once_then_again_when_the_pool_grows(tmp_path: Path) -> None:
    svc = _services(tmp_path)
    config = SimpleNamespace(project=7, schema=SCHEMA)
    assert refresh_pool(svc, config, featurize(UNLABELED * 5), None)
    assert svc.store.read_pool(7).n_docs == 30
    model = train_model(featurize(["fun", "dull"]), [0, 1], SCHEMA.labels)
    assert not refresh_pool(svc, config, featurize(UNLABELED * 5), model)  # 32 texts: less than 20% more
    assert svc.store.read_pool(7).n_docs == 30
    assert refresh_pool(svc, config, featurize(UNLABELED * 6), model)
    assert svc.store.read_pool(7).n_docs == 38


def test_the_kind_trains_with_the_saved_statistics(tmp_path: Path) -> None:
    svc = _services(tmp_path)
    refresh_pool(svc, SimpleNamespace(project=1, schema=SCHEMA), featurize(UNLABELED * 5), None)
    training = TrainingSet(task_ids=[1, 2, 3, 4], texts=["good fun", "great fun", "dull", "boring slow"],
                           targets=[0, 0, 1, 1], labels=SCHEMA.labels)
    model = TEXT_CLASSIFICATION.train(training, SCHEMA, pool=svc.store.read_pool(1))
    record = model_record(model)["model"]
    assert record["pool_docs"] == 30 and record["learner"] == model.learner
    assert record["idf"] == ("pool" if DEFAULT_IDF == "pool" or (DEFAULT_IDF == "auto" and uses_pool(
        DEFAULT_LEARNER, len(training))) else "labeled")
    without = TEXT_CLASSIFICATION.train(training, SCHEMA, pool=None)
    assert model_record(without)["model"]["idf"] == "labeled" and model_record(without)["model"]["pool_docs"] == 0
    assert model_record(SimpleNamespace()) == {}
