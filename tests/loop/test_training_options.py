"""The retrain trains each project with its own settings and records them with the version.

The tasks are what the retrain reads from Label Studio (its export shape); the read itself is
covered by the integration tests against a real Label Studio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redis

from backend.loop import training
from backend.loop.evaluation import REPORT_FILE, evaluate_version
from backend.loop.options import parse_overrides
from backend.loop.services import Services
from backend.loop.state import ProjectConfig
from backend.settings import Settings
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.kind import TEXT_CLASSIFICATION as TEXT
from backend.tasks.text_classification.schema import TaskSchema
from tests.conftest import backend_env, load_rows

SCHEMA = TaskSchema("label", "text", "Text", "text", ("HUM", "LOC"), False)


def labeled_tasks() -> list[dict[str, Any]]:
    """Imbalanced on purpose: 60 questions about people, 8 about places."""
    rows = load_rows()
    people = [r for r in rows if r["label"] == "HUM"][:60]
    places = [r for r in rows if r["label"] == "LOC"][:8]
    return [{"id": i + 1, "data": {"text": r["text"]},
             "annotations": [{"completed_by": 1, "was_cancelled": False,
                              "result": [{"from_name": "label", "to_name": "text", "type": "choices",
                                          "value": {"choices": [r["label"]]}}]}]}
            for i, r in enumerate(people + places)]


@pytest.fixture()
def svc(redis_url: str, redis_conn: redis.Redis, tmp_path: Path) -> Services:
    return Services.create(Settings.from_env(backend_env(redis_url, tmp_path)))


def retrain(svc: Services, project: int, params: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    overrides = parse_overrides(params, TEXT.learners, TEXT.model_options, TEXT.name)
    config = ProjectConfig(project, SCHEMA, "http://ls", "token", options=overrides)
    svc.state.save_config(config)
    record = training.publish_from(svc, config, labeled_tasks())  # the tasks a retrain reads from Label Studio
    return record, svc.store.load(project, record["version"])


def test_a_projects_c_and_class_weights_change_its_model(svc: Services) -> None:
    default_record, default = retrain(svc, 1, {})
    weak_record, weak = retrain(svc, 2, {"C": 0.05})
    balanced_record, balanced = retrain(svc, 3, {"class_weight": "balanced", "calibrate": False})
    probe = featurize([r["text"] for r in load_rows()[-400:] if r["label"] in ("HUM", "LOC")])
    p_default, p_weak, p_balanced = (m.predict_proba(probe) for m in (default, weak, balanced))
    # stronger regularization: the texts move the probabilities much less (toward the class shares)
    assert p_weak[:, 1].std() < p_default[:, 1].std() / 2
    # balanced weights: the rare class (LOC, 8 of 68 labels) is predicted more often and more probably
    assert p_balanced[:, 1].mean() > p_default[:, 1].mean() + 0.05
    assert (p_balanced.argmax(axis=1) == 1).sum() > (p_default.argmax(axis=1) == 1).sum()
    assert default_record["options"] == {"learner": "logreg", "C": 10.0, "class_weight": "none", "calibrate": "audit",
                                         "retrain_every": [10], "batch_size": 10}
    assert weak_record["options"]["C"] == 0.05 and weak_record["options_from_project"] == ["C"]
    assert balanced_record["options"]["class_weight"] == "balanced"
    assert balanced_record["options"]["calibrate"] == "off"
    assert balanced.meta["options"] == {"learner": "logreg", "c": 10.0, "class_weight": "balanced", "calibrate": "off"}
    assert svc.state.version_record(3, balanced_record["version"])["options"] == balanced_record["options"]


def test_the_versions_report_shows_its_settings(svc: Services) -> None:
    record, _ = retrain(svc, 5, {"C": 0.05, "retrain_every": [5, 10]})
    report = evaluate_version(svc, 5, record["version"], "http://ls")
    assert report["options"] == record["options"]
    assert report["options"]["retrain_every"] == [5, 10] and report["options"]["batch_size"] == 5
    html = (svc.store.path(5, record["version"]) / REPORT_FILE).read_text()
    assert "C: <b>0.05</b> (project)" in html and "retrain_every: <b>5, 10</b> (project)" in html
    assert "class_weight: <b>none</b></span>" in html  # from the environment
