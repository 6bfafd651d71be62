"""Secrets go only where the admin sent them: a host named in ``/setup`` never gets the environment's key.

A stand-in for a stranger's server on loopback records every Authorization header it gets;
the backend (gunicorn) and a worker (``--burst``) run for real against a real Redis.
"""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
import redis

from backend.loop.credentials import address_and_token
from backend.loop.state import ProjectConfig
from backend.settings import Settings
from backend.tasks import parse_label_config
from tests.conftest import ROOT, Backend, backend_env
from tests.service.test_api import SETUP, TREC_CONFIG, post

KEY = "ENVKEY" + "k" * 34
SETUP_TOKEN = "SETUPTOKEN" + "t" * 30


class Recorder(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def _answer(self) -> None:
        Recorder.seen.append(self.headers.get("Authorization", ""))
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"detail": "no"}')

    do_GET = do_POST = do_PATCH = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def stranger() -> Iterator[str]:
    Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_environment_key_never_goes_to_a_host_from_setup(stranger: str, redis_url: str,
                                                             redis_conn: redis.Redis, tmp_path: Path) -> None:
    env = backend_env(redis_url, tmp_path, LABEL_STUDIO_API_KEY=KEY, JOB_RETRIES="0")
    backend = Backend(env, tmp_path)
    try:
        answer = post(backend, "/setup", {**SETUP, "project": "21.1", "schema": TREC_CONFIG, "hostname": stranger,
                                          "access_token": SETUP_TOKEN})
        assert answer.status_code == 200, answer.text
        subprocess.run([sys.executable, "-m", "backend.cli", "worker", "--burst"], env=env, cwd=ROOT, check=True,
                       timeout=120, capture_output=True)
    finally:
        backend.stop()
    assert Recorder.seen, "the cold start should have called the host from /setup"
    assert all(KEY not in header for header in Recorder.seen), Recorder.seen
    assert any(SETUP_TOKEN in header for header in Recorder.seen)


SCHEMA = parse_label_config(TREC_CONFIG)
CONFIG = ProjectConfig(1, SCHEMA, "http://from-setup:8080", SETUP_TOKEN)


@pytest.mark.parametrize(("url", "key", "expected"), [
    ("http://ls:8080", KEY, ("http://ls:8080", KEY)),
    ("", KEY, ("http://from-setup:8080", SETUP_TOKEN)),
    ("http://ls:8080", "", ("http://ls:8080", SETUP_TOKEN)),
    ("", "", ("http://from-setup:8080", SETUP_TOKEN)),
])
def test_which_address_gets_which_token(url: str, key: str, expected: tuple[str, str]) -> None:
    settings = Settings(label_studio_url=url, label_studio_api_key=key)
    assert address_and_token(settings, CONFIG) == expected
    assert address_and_token(settings, None)[1] in (key if url else "", "")


def test_the_token_is_not_in_the_configs_repr() -> None:
    assert SETUP_TOKEN not in repr(CONFIG)
