"""When Redis is down or full the backend says so with a 503, and stores nothing by halves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask.testing import FlaskClient

from backend.loop.redis_server import EmbeddedRedis
from backend.loop.services import Services
from backend.service.app import create_app
from backend.settings import Settings

EVENT = {"action": "ANNOTATION_CREATED", "project": {"id": 3}, "annotation": {"id": 1}, "task": {"id": 1}}


def client_for(url: str, tmp_path: Path) -> FlaskClient:
    settings = Settings.from_env({"REDIS_URL": url, "DATA_DIR": str(tmp_path), "MODEL_DIR": str(tmp_path / "m")})
    return create_app(settings, Services.create(settings)).test_client()


def test_an_unreachable_redis_is_a_503_that_says_what_to_check(tmp_path: Path) -> None:
    client = client_for(f"unix://{tmp_path}/nothing-here.sock", tmp_path)
    answer = client.post("/webhook", json=EVENT)
    assert answer.status_code == 503
    assert "REDIS_URL" in answer.get_json()["error"]
    health = client.get("/health")
    assert health.status_code == 200 and health.get_json()["redis"] is False


@pytest.fixture()
def full_redis(tmp_path: Path) -> Iterator[str]:
    """An embedded Redis whose cap is below what an empty server already uses."""
    server = EmbeddedRedis(tmp_path / "full", maxmemory="1mb")
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


def test_a_full_redis_is_a_503_naming_the_cap_and_nothing_is_half_stored(full_redis: str, tmp_path: Path) -> None:
    client = client_for(full_redis, tmp_path)
    answer = client.post("/webhook", json=EVENT)
    assert answer.status_code == 503, answer.get_data(as_text=True)
    assert "REDIS_MAXMEMORY" in answer.get_json()["error"]
    assert redis.Redis.from_url(full_redis).dbsize() == 0
