"""Basic auth on, with a real Label Studio: the loop keeps working.

Label Studio calls ``/health``, ``/setup`` and ``/predict`` with the credentials the admin
gave the ML backend, but the webhook it creates for it carries none; the backend gives that
webhook its credentials after the first push, and label events then count and retrain.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from backend.labelstudio.client import LabelStudioClient
from backend.loop.state import ProjectState
from tests.conftest import ROOT, Backend, backend_env
from tests.ls_fixtures import choices_result, read_trec6
from tests.lsapi import wait_until
from tests.processes import spawn, stop

USER, PASSWORD = "backend-user", "backend-password-123"
pytestmark = pytest.mark.slow


@pytest.fixture()
def guarded(label_studio: Any, redis_url: str, redis_conn: redis.Redis, tmp_path: Path) -> Iterator[Backend]:
    env = backend_env(redis_url, tmp_path, BASIC_AUTH_USER=USER, BASIC_AUTH_PASS=PASSWORD, RETRAIN_EVERY="5")
    backend = Backend(env, tmp_path)
    with (tmp_path / "worker.log").open("wb") as log:
        worker = spawn([sys.executable, "-m", "backend.cli", "worker"], env=env, cwd=ROOT, stdout=log,
                       stderr=subprocess.STDOUT)
    try:
        yield backend
    finally:
        stop(worker)
        backend.stop()


def test_label_events_reach_a_backend_behind_basic_auth(guarded: Backend, ls_client: LabelStudioClient,
                                                        redis_conn: redis.Redis) -> None:
    assert requests.get(guarded.url + "/health", timeout=10).status_code == 401
    texts, gold = read_trec6(60)
    project = ls_client.create_project("behind basic auth", (ROOT / "label_config.xml").read_text())
    ids = ls_client.import_tasks(project, [{"data": {"text": t}} for t in texts])
    ml = ls_client.add_ml_backend(project, guarded.url, basic_auth=(USER, PASSWORD))
    assert ml["state"] == "CO", ml
    wait_until(lambda: str(ls_client.project_fields(project, "model_version")["model_version"]) ==
               "ls-active-cold-start", 120, "the cold start")

    def authorized() -> bool:
        hooks = [h for h in ls_client.webhooks(project) if h["url"] == f"{guarded.url}/webhook"]
        return bool(hooks) and (hooks[0].get("headers") or {}).get("Authorization", "").startswith("Basic ")

    wait_until(authorized, 60, "the webhook to carry the backend's credentials")
    for task, label in list(zip(ids, gold, strict=True))[:5]:
        ls_client.create_annotation(task, choices_result(label))
    state = ProjectState(redis_conn)
    wait_until(lambda: state.counters(project).get("label_events", 0) >= 5, 60, "the label events to be counted")
    wait_until(lambda: str(ls_client.project_fields(project, "model_version")["model_version"])
               .startswith("ls-active-v"), 180, "a model trained on the 5 labels")
