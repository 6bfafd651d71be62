"""Requests that find Redis empty rebuild the project's state and carry on (gunicorn, real Redis).

Each test flushes Redis after the project was set up and trained: what a Redis restarted
empty looks like to the web process.
"""

from __future__ import annotations

import copy

import redis
import requests
from rq import Queue

from backend.loop.scheduling import SERIALIZER
from backend.loop.state import ProjectState
from tests.conftest import Backend
from tests.service.test_api import PAYLOADS, post, publish_model, setup_project, trec_tasks

TOKEN = "a-token-only-its-owner-reads"


def cold_start_queued(conn: redis.Redis, project: int) -> bool:
    return f"rescore-{project}-cold-start" in Queue("ls-active-score", connection=conn, serializer=SERIALIZER).job_ids


def test_a_reconnect_keeps_the_trained_version(backend: Backend, redis_conn: redis.Redis) -> None:
    assert setup_project(backend, 51, access_token=TOKEN).status_code == 200
    assert cold_start_queued(redis_conn, 51), "a first connection orders the pool"
    version, _ = publish_model(backend, redis_conn, 51)
    redis_conn.flushdb()
    answer = setup_project(backend, 51, access_token=TOKEN)
    assert answer.json() == {"model_version": version}
    assert not cold_start_queued(redis_conn, 51), "a reconnect is not a first connection"
    config = ProjectState(redis_conn).config(51)
    assert config is not None and config.access_token == TOKEN
    assert TOKEN not in requests.get(backend.url + "/health", timeout=5).text


def test_a_lost_config_comes_back_for_jobs_without_a_new_setup(backend: Backend, redis_conn: redis.Redis) -> None:
    setup_project(backend, 52, access_token=TOKEN)
    path = backend.model_dir / "project-52" / "config.json"
    assert path.stat().st_mode & 0o777 == 0o600
    redis_conn.flushdb()
    body = copy.deepcopy(PAYLOADS["POST /webhook ANNOTATION_CREATED"]["body"])
    body["project"]["id"] = 52
    assert post(backend, "/webhook", body).status_code == 200
    config = ProjectState(redis_conn).config(52)
    assert config is not None and config.access_token == TOKEN and config.hostname


def test_predict_answers_with_the_trained_model_after_the_loss(backend: Backend, redis_conn: redis.Redis) -> None:
    setup_project(backend, 53)
    version, _ = publish_model(backend, redis_conn, 53)
    redis_conn.flushdb()
    answer = post(backend, "/predict", {"project": "53.1795269085", "tasks": trec_tasks(3)})
    assert answer.status_code == 200, answer.text
    assert {r["model_version"] for r in answer.json()["results"]} == {version}
    assert ProjectState(redis_conn).current_version(53) == version


def test_the_label_count_continues_from_label_studios(backend: Backend, redis_conn: redis.Redis) -> None:
    """Label Studio's count rides in every webhook: milestones keep their place after the loss."""
    setup_project(backend, 54)
    redis_conn.flushdb()
    body = copy.deepcopy(PAYLOADS["POST /webhook ANNOTATION_CREATED"]["body"])
    body["project"].update(id=54, total_annotations_number=25)
    answer = post(backend, "/webhook", body).json()
    assert (answer["label_events"], answer["next_milestone"]) == (25, 30) and "job" not in answer
    body["project"]["total_annotations_number"] = 30
    for _ in range(4):
        post(backend, "/webhook", body)
    answer = post(backend, "/webhook", body).json()
    assert answer["label_events"] == 30 and answer["job"].startswith("retrain-54-"), answer
