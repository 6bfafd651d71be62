"""Every endpoint under generated input: no 5xx, and every error is JSON saying what is wrong.

Hypothesis builds bodies from the fields Label Studio's requests have (so the handlers get
past the first checks) and hostile leaves: huge and negative numbers, odd unicode and lone
surrogates, deep nesting, wrong types. The run is derandomized (a fixed seed) and bounded,
so CI always tries the same inputs in seconds. In-process app, real Redis.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.loop.services import Services
from backend.service.app import create_app
from backend.settings import Settings
from tests.service.test_api import SETUP, TREC_CONFIG

FIELDS = ["project", "schema", "hostname", "access_token", "extra_params", "tasks", "data", "text", "id",
          "action", "annotation", "annotations", "result", "was_cancelled", "job", "label_config", "model_version",
          "strategy", "value", "choices", "from_name", "params"]
LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40), st.sampled_from(["1", "1.2", "²", "-1", "0", "ANNOTATION_CREATED", "START_TRAINING",
                                           "TASKS_CREATED", "\ud800", TREC_CONFIG, "http://127.0.0.1:1", "<View/>"]),
)
VALUES = st.recursive(LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(FIELDS), inner, max_size=6)), max_leaves=25)
#: Project ids Label Studio never sends, some of which once reached a 500.
PROJECTS = st.one_of(st.sampled_from(["²", "١٢", "1" * 300, "0", "-1", "1.2", "12abc", "", "1e3", " 7 "]),
                     st.integers(min_value=-(10**40), max_value=10**40), VALUES)
BODIES = st.one_of(st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=8),
                   st.builds(lambda extra: {**SETUP, **extra}, st.dictionaries(st.sampled_from(FIELDS), VALUES,
                                                                                  max_size=3)),
                   st.builds(lambda p, extra: {**SETUP, **extra, "project": p}, PROJECTS,
                             st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=2)),
                   st.builds(lambda a, p: {"action": a, "project": p, "annotation": {"result": []}},
                             st.one_of(st.text(max_size=20), LEAVES), PROJECTS),
                   VALUES)


def _text(body: Any) -> str:
    return json.dumps(body, ensure_ascii=True, allow_nan=False)


#: Bodies as text, beside the JSON of ``BODIES``: deep nesting and long numbers Python's own
#: parser fails on, spliced into an otherwise ordinary body.
TEXTS = st.one_of(
    BODIES.map(_text),
    st.integers(min_value=1, max_value=4000).map(lambda d: "[" * d + "]" * d),
    st.integers(min_value=1, max_value=2500).map(lambda d: '{"project": 1, "extra_params": ' + '{"a":' * d + "1"
                                                  + "}" * d + "}"),
    st.builds(lambda n, key: json.dumps({**SETUP}).replace('"project": "1.1795269085"', f'"{key}": ' + "9" * n),
              st.integers(min_value=1, max_value=6000), st.sampled_from(["project", "x"])),
    st.builds(lambda s: json.dumps({"action": "ANNOTATION_CREATED", "project": 1})[:-1] + f', "x": "{s}"}}',
              st.sampled_from(["\\ud800", "\\udfff", "\\ud800\\udc00", "\\u0000"])),
)
POSTS = ["/setup", "/predict", "/webhook", "/train", "/job_status", "/versions"]
FUZZ = settings(max_examples=200, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture()
def client(redis_url: str, redis_conn: redis.Redis, tmp_path: Path) -> Iterator[FlaskClient]:
    settings_ = Settings.from_env({"REDIS_URL": redis_url, "DATA_DIR": str(tmp_path), "MODEL_DIR": str(tmp_path)})
    app: Flask = create_app(settings_, Services.create(settings_))
    yield app.test_client()


def check(answer: Any) -> None:
    assert answer.status_code < 500, answer.get_data(as_text=True)[:500]
    if answer.status_code >= 400:
        assert isinstance(answer.get_json()["error"], str)
        assert len(answer.get_data()) < 2000


@pytest.mark.parametrize("path", POSTS)
def test_post_bodies(client: FlaskClient, path: str) -> None:
    @FUZZ
    @given(text=TEXTS)
    def run(text: str) -> None:
        check(client.post(path, data=text.encode("utf-8", "surrogatepass"), content_type="application/json"))

    run()


def test_raw_bytes(client: FlaskClient) -> None:
    @FUZZ
    @given(path=st.sampled_from(POSTS), raw=st.binary(max_size=200))
    def run(path: str, raw: bytes) -> None:
        check(client.post(path, data=raw, content_type="application/json"))

    run()


def test_get_paths_and_queries(client: FlaskClient) -> None:
    @FUZZ
    @given(path=st.sampled_from(["/report/", "/metrics?project=", "/versions?project=", "/health?x="]),
           tail=st.text(max_size=30))
    def run(path: str, tail: str) -> None:
        check(client.get(path + tail))

    run()
