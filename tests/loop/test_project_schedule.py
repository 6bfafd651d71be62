"""A project's own retrain schedule and ranking batch, through the webhook path on a real Redis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import redis
from rq import Queue

from backend.labelstudio.payloads import Event
from backend.loop.rescoring import ranking
from backend.loop.scheduling import SERIALIZER
from backend.loop.services import Services
from backend.loop.state import ProjectConfig
from backend.service import events
from backend.settings import Settings
from backend.tasks.text_classification.schema import TaskSchema
from tests.conftest import backend_env

SCHEMA = TaskSchema("label", "text", "Text", "text", ("a", "b"), False)


def services(redis_url: str, tmp_path: Path) -> Services:
    return Services.create(Settings.from_env(backend_env(redis_url, tmp_path, RETRAIN_EVERY="10")))


def label_one_at_a_time(svc: Services, project: int, n: int) -> list[dict[str, Any]]:
    return [events.handle(svc, Event("ANNOTATION_CREATED", project, labels_created=1)) for _ in range(n)]


def test_a_projects_schedule_decides_when_its_retrains_are_enqueued(redis_url: str, redis_conn: redis.Redis,
                                                                    tmp_path: Path) -> None:
    svc = services(redis_url, tmp_path)
    svc.state.save_config(ProjectConfig(1, SCHEMA, options={"retrain_every": [3, 5]}))
    svc.state.save_config(ProjectConfig(2, SCHEMA))
    own = label_one_at_a_time(svc, 1, 12)
    default = label_one_at_a_time(svc, 2, 12)
    # project 1: milestones 3 and 5, then doubling (10); project 2: RETRAIN_EVERY, every 10
    assert [i + 1 for i, a in enumerate(own) if "job" in a] == [3, 5, 10]
    assert [i + 1 for i, a in enumerate(default) if "job" in a] == [10]
    assert [a["next_milestone"] for a in own[:6]] == [3, 3, 5, 5, 10, 10]
    assert default[0]["next_milestone"] == 10
    queued = Queue(svc.settings.train_queue, connection=redis_conn, serializer=SERIALIZER).get_job_ids()
    assert sorted(queued) == ["retrain-1-1", "retrain-2-1"]  # one waiting retrain per project
    health = svc.scheduler.project_health()
    assert (health["1"]["next_milestone"], health["2"]["next_milestone"]) == (20, 20)


def test_schedule_change_at_setup_applies_to_the_next_event(redis_url: str, redis_conn: redis.Redis,
                                                             tmp_path: Path) -> None:
    svc = services(redis_url, tmp_path)
    svc.state.save_config(ProjectConfig(3, SCHEMA))
    assert not any("job" in a for a in label_one_at_a_time(svc, 3, 4))
    svc.state.save_config(ProjectConfig(3, SCHEMA, options={"retrain_every": [5]}))
    assert "job" in label_one_at_a_time(svc, 3, 1)[0]  # the fifth label is now a milestone


def test_ranking_batch_is_the_projects(redis_url: str, redis_conn: redis.Redis, tmp_path: Path) -> None:
    settings = services(redis_url, tmp_path).settings
    assert ranking(settings, 4) == {"batch_size": 10, "seed": 4}
    assert ranking(settings, 4, ProjectConfig(4, SCHEMA, options={"batch_size": 50}))["batch_size"] == 50
    assert ranking(settings, 4, ProjectConfig(4, SCHEMA, options={"retrain_every": [25]}))["batch_size"] == 25
