"""Per-project state in a real Redis: config, versions, counters, status and cached scores."""

from __future__ import annotations

import json
import threading
import time

import redis

from backend.loop import keys
from backend.loop.state import ProjectConfig, ProjectState
from backend.tasks.text_classification.schema import TaskSchema

SCHEMA = TaskSchema("label", "text", "Text", "text", ("pos", "neg"), False)


def config(project: int = 1, **extra: object) -> ProjectConfig:
    fields: dict[str, object] = {"hostname": "http://ls:8080", "access_token": "tok", "strategy": "margin",
                                 "setup_at": 12.5}
    fields.update(extra)
    return ProjectConfig(project, SCHEMA, **fields)  # type: ignore[arg-type]


def test_config_json_roundtrip() -> None:
    original = config()
    assert ProjectConfig.from_json(original.to_json()) == original
    assert ProjectConfig.from_json(original.to_json().encode()) == original


def test_config_from_minimal_json_uses_defaults() -> None:
    raw = json.dumps({"project": "4", "schema": SCHEMA.to_dict()})
    loaded = ProjectConfig.from_json(raw)
    assert (loaded.project, loaded.hostname, loaded.access_token, loaded.strategy) == (4, "", "", "default")


def test_save_config_reports_first_setup(redis_conn: redis.Redis) -> None:
    state = ProjectState(redis_conn)
    assert state.config(1) is None
    assert state.save_config(config()) is True
    assert state.save_config(config(strategy="entropy")) is False
    stored = state.config(1)
    assert stored is not None and stored.strategy == "entropy" and stored.schema == SCHEMA


def test_projects_are_listed_sorted(redis_conn: redis.Redis) -> None:
    state = ProjectState(redis_conn)
    state.save_config(config(12))
    state.save_config(config(3))
    state.count_event(7, "PROJECT_UPDATED", {}, labels=False)
    assert state.projects() == [3, 7, 12]


def test_publish_version_sets_record_and_current(redis_conn: redis.Redis) -> None:
    state = ProjectState(redis_conn)
    assert state.current_version(5) is None
    state.publish_version(5, "v-b", {"version": "v-b", "created_at": 2.0})
    state.publish_version(5, "v-a", {"version": "v-a", "created_at": 1.0})
    assert state.current_version(5) == "v-a"
    assert [r["version"] for r in state.versions(5)] == ["v-a", "v-b"]
    assert 5 in state.projects()


def test_current_version_never_lacks_its_record(redis_conn: redis.Redis, redis_url: str) -> None:
    """A reader on another connection never sees a current version whose record is missing."""
    writer = ProjectState(redis.Redis.from_url(redis_url))
    stop = threading.Event()

    def publish() -> None:
        for i in range(300):
            writer.publish_version(9, f"v{i}", {"version": f"v{i}", "created_at": float(i)})
        stop.set()

    thread = threading.Thread(target=publish)
    thread.start()
    seen = 0
    while True:
        done = stop.is_set()
        current = redis_conn.get(keys.current_version(9))
        if current is not None:
            seen += 1
            assert redis_conn.hexists(keys.versions(9), current)
        if done:
            break
    thread.join()
    assert seen > 0
    assert ProjectState(redis_conn).current_version(9) == "v299"


def test_counters_accumulate(redis_conn: redis.Redis) -> None:
    state = ProjectState(redis_conn)
    assert state.counters(2) == {}
    state.count_event(2, "ANNOTATION_CREATED", {"labels_created": 1}, labels=True)
    state.count_event(2, "ANNOTATIONS_CREATED", {"labels_created": 4, "cancelled": 0}, labels=True)
    state.count_event(2, "ANNOTATION_CREATED", {"cancelled": 1}, labels=True)
    counters = state.counters(2)
    assert counters["labels_created"] == 5 and counters["cancelled"] == 1 and "labels_deleted" not in counters
    assert counters["events"] == 3 and counters["event:ANNOTATION_CREATED"] == 2
    assert counters["last_event_at"] > 1.6e9 and counters["last_label_at"] == counters["last_event_at"]
    labeled_at = counters["last_label_at"]
    time.sleep(0.01)
    state.count_event(2, "PROJECT_UPDATED", {}, labels=False)  # our own model_version switch, say
    after = state.counters(2)
    assert after["last_label_at"] == labeled_at < after["last_event_at"]


def test_status_holds_json_values(redis_conn: redis.Redis) -> None:
    state = ProjectState(redis_conn)
    state.set_status(1, last_version="v3", last_error=None, timings={"read": 1.5})
    state.set_status(1, last_error="boom")
    assert state.status(1) == {"last_version": "v3", "last_error": "boom", "timings": {"read": 1.5}}


def test_cached_scores(redis_conn: redis.Redis) -> None:
    state = ProjectState(redis_conn)
    state.save_scores(1, "v1", {10: 0.1234567, 11: 0.5, 12: 1.0})
    assert state.cached_scores(1, "v1", [12, 10, 99]) == [1.0, 0.123457, None]
    assert state.cached_scores(1, "v2", [10]) == [None]
    assert state.cached_scores(1, "v1", []) == []
    assert 0 < redis_conn.ttl(keys.scores(1, "v1")) <= 7 * 86400


def test_saving_scores_replaces_the_old_set(redis_conn: redis.Redis) -> None:
    state = ProjectState(redis_conn)
    state.save_scores(1, "v1", {1: 0.1, 2: 0.2})
    state.save_scores(1, "v1", {2: 0.9}, ttl=60)
    assert state.cached_scores(1, "v1", [1, 2]) == [None, 0.9]
    assert redis_conn.ttl(keys.scores(1, "v1")) <= 60


def test_many_scores_are_stored_in_chunks(redis_conn: redis.Redis) -> None:
    state = ProjectState(redis_conn)
    scores = {i: i / 20_000 for i in range(12_345)}
    state.save_scores(3, "v1", scores)
    assert redis_conn.hlen(keys.scores(3, "v1")) == 12_345
    assert state.cached_scores(3, "v1", [0, 6000, 12_344]) == [0.0, 0.3, 0.6172]
