"""The audit draw in the rescore, recorded in a real Redis before any score is pushed."""

from __future__ import annotations

from pathlib import Path

import redis

from backend.loop.audit import add_audit, audit_share
from backend.loop.services import Services
from backend.loop.state import ProjectConfig
from backend.settings import Settings
from backend.tasks.text_classification.schema import TaskSchema
from strategies import order_from_scores
from tests.conftest import backend_env

SCHEMA = TaskSchema("label", "text", "Text", "text", ("a", "b"), False)


def services(redis_url: str, tmp_path: Path, **env: str) -> Services:
    return Services.create(Settings.from_env(backend_env(redis_url, tmp_path, **env)))


def preds(n: int = 200) -> list[dict[str, object]]:
    return [{"task": 1000 + i, "score": round(i / n, 6), "result": []} for i in range(n)]


def test_draws_are_recorded_placed_in_the_head_and_reused_on_retry(redis_url: str, redis_conn: redis.Redis,
                                                                   tmp_path: Path) -> None:
    svc = services(redis_url, tmp_path, AUDIT_SHARE="0.2")
    config = ProjectConfig(3, SCHEMA)
    svc.state.publish_version(3, "v1", {"version": "v1", "project": 3, "created_at": 1.0})
    first = preds()
    drawn = add_audit(svc, config, "v1", first, head=10)
    assert len(drawn) == 2
    order = [first[i]["task"] for i in order_from_scores([p["score"] for p in first])]  # type: ignore[misc]
    assert set(drawn) <= set(order[:10])  # among the first ten annotators meet
    assert svc.state.audit_draw(3, "v1")["draw"] == 0  # type: ignore[index]
    assert set(svc.state.audit_tasks(3)) == set(drawn)
    assert svc.state.version_record(3, "v1")["audit_draw"] == {"draw": 0, "task_ids": drawn}
    retry = preds()
    assert add_audit(svc, config, "v1", retry, head=10) == drawn  # a retried rescore draws nothing new
    assert [p["score"] for p in retry] == [p["score"] for p in first]
    assert svc.state.audit_draw_count(3) == 1
    second = add_audit(svc, config, "v2", preds(), head=10)
    assert svc.state.audit_draw(3, "v2")["draw"] == 1 and len(second) == 2  # type: ignore[index]
    assert len(svc.state.audit_tasks(3)) == len(set(drawn) | set(second))


def test_share_per_project_and_off(redis_url: str, redis_conn: redis.Redis, tmp_path: Path) -> None:
    svc = services(redis_url, tmp_path)
    assert audit_share(svc, ProjectConfig(4, SCHEMA)) == 0.1  # the default
    off = ProjectConfig(4, SCHEMA, audit_share=0.0)
    untouched = preds()
    assert add_audit(svc, off, "v1", untouched, head=10) == [] and untouched == preds()
    assert svc.state.audit_tasks(4) == {}
    config = ProjectConfig.from_json(ProjectConfig(4, SCHEMA, audit_share=0.05).to_json())
    assert config.audit_share == 0.05
    assert [len(add_audit(svc, config, f"v{d}", preds(), head=10)) for d in range(4)] == [0, 1, 0, 1]
