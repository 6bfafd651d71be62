"""The web service over real HTTP: gunicorn, a real Redis, Label Studio's captured bodies."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import redis
import requests
from rq import Queue

from backend.defaults import COLD_START_VERSION
from backend.loop.pool import PoolCache
from backend.loop.scheduling import SERIALIZER
from backend.loop.state import ProjectState
from backend.loop.store import ArtifactStore
from backend.tasks import parse_label_config
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.model import train_model
from strategies import measures
from tests.conftest import FIXTURES, Backend, load_rows

PAYLOADS: dict[str, Any] = json.loads(FIXTURES.read_text())
SETUP = PAYLOADS["POST /setup"]["body"]
PREDICT = PAYLOADS["POST /predict (Retrieve Predictions action)"]["body"]
CONFIG = SETUP["schema"]
TREC_CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="label" toName="text">'
    + "".join(f'<Choice value="{c}"/>' for c in ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"))
    + "</Choices></View>"
)


def post(backend: Backend, path: str, body: Any, **kwargs: Any) -> requests.Response:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return requests.post(backend.url + path, data=data, headers={"Content-Type": "application/json"},
                         timeout=60, **kwargs)


def setup_project(backend: Backend, project: int, schema: str = TREC_CONFIG, **extra: Any) -> requests.Response:
    body = {**copy.deepcopy(SETUP), "project": f"{project}.1795269085", "schema": schema, **extra}
    return post(backend, "/setup", body)


def trec_tasks(n: int, start: int = 0) -> list[dict[str, Any]]:
    rows = load_rows()[start : start + n]
    return [{"id": start + i + 1, "data": {"text": r["text"]}, "annotations": [], "predictions": []}
            for i, r in enumerate(rows)]


def publish_model(backend: Backend, conn: redis.Redis, project: int, n_labels: int = 300) -> tuple[str, Any]:
    """Train on trec6 rows and make the version current, as the retrain job does."""
    rows = load_rows()[2000 : 2000 + n_labels]
    schema = parse_label_config(TREC_CONFIG)
    targets = np.array([schema.labels.index(r["label"]) for r in rows])
    model = train_model(featurize([r["text"] for r in rows]), targets, schema.labels)
    version = f"ls-active-v1-test{project}"
    ArtifactStore(backend.model_dir).write(project, version, model, {"version": version})
    ProjectState(conn).publish_version(project, version, {"version": version, "created_at": 1.0})
    return version, model


# -- /health ---------------------------------------------------------------------------------
def test_health_reports_redis_and_credentials(backend: Backend, redis_conn: redis.Redis) -> None:
    for path in ("/", "/health"):
        answer = requests.get(backend.url + path, timeout=5)
        assert answer.status_code == 200
        body = answer.json()
        assert body["status"] == "UP"
        assert body["redis"] is True
        assert body["label_studio_credentials"] is False


# -- /setup ----------------------------------------------------------------------------------
def test_setup_with_label_studio_body_answers_cold_start_version(backend: Backend, redis_conn: redis.Redis) -> None:
    answer = post(backend, "/setup", SETUP)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"model_version": COLD_START_VERSION}
    config = ProjectState(redis_conn).config(1)
    assert config is not None
    assert config.schema.labels == ("pos", "neg")
    assert config.hostname == SETUP["hostname"]
    assert config.access_token == SETUP["access_token"]
    # a first setup orders the pool right away: the cold-start rescore is queued
    assert "rescore-1-cold-start" in Queue("ls-active-score", connection=redis_conn, serializer=SERIALIZER).job_ids


def test_setup_answers_current_version_once_a_model_exists(backend: Backend, redis_conn: redis.Redis) -> None:
    version, _ = publish_model(backend, redis_conn, 7)
    answer = setup_project(backend, 7)
    assert answer.json() == {"model_version": version}


@pytest.mark.parametrize("schema, found", [
    ('<View><Image name="i" value="$img"/><Choices name="c" toName="i"><Choice value="a"/>'
     '<Choice value="b"/></Choices></View>', "<Image>"),
    ('<View><Text name="t" value="$t"/><Labels name="l" toName="t"><Label value="a"/></Labels>'
     '<Choices name="c" toName="t"><Choice value="x"/><Choice value="y"/></Choices></View>', "1 <Labels>"),
    ('<View><HyperText name="t" value="$t"/><Labels name="l" toName="t"><Label value="a"/></Labels></View>',
     "<HyperText>"),
    ('<View><Text name="t" value="$t"/><Choices name="a" toName="t"><Choice value="x"/><Choice value="y"/>'
     '</Choices><Choices name="b" toName="t"><Choice value="x"/><Choice value="y"/></Choices></View>',
     "2 <Choices>"),
    ("<View", "not valid XML"),
])
def test_setup_rejects_unsupported_configs_naming_what_was_found(
    backend: Backend, redis_conn: redis.Redis, schema: str, found: str
) -> None:
    answer = setup_project(backend, 3, schema)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert found in error
    if "XML" not in found:
        assert "supports" in error and "<Text>" in error  # what is supported
    assert ProjectState(redis_conn).config(3) is None


def test_setup_strategy_from_extra_params(backend: Backend, redis_conn: redis.Redis) -> None:
    assert setup_project(backend, 4, extra_params={"strategy": "entropy"}).status_code == 200
    config = ProjectState(redis_conn).config(4)
    assert config is not None and config.strategy == "entropy"
    bad = setup_project(backend, 5, extra_params={"strategy": "psychic"})
    assert bad.status_code == 400 and "psychic" in bad.json()["error"] and "margin" in bad.json()["error"]


def test_setup_audit_share_from_extra_params(backend: Backend, redis_conn: redis.Redis) -> None:
    assert setup_project(backend, 6, extra_params={"audit_share": 0.05}).status_code == 200
    assert setup_project(backend, 7, extra_params={"audit_share": "0"}).status_code == 200
    assert setup_project(backend, 8).status_code == 200
    state = ProjectState(redis_conn)
    assert [state.config(p).audit_share for p in (6, 7, 8)] == [0.05, 0.0, None]  # type: ignore[union-attr]
    for bad in (0.9, "a lot", -0.1):
        answer = setup_project(backend, 9, extra_params={"audit_share": bad})
        assert answer.status_code == 400 and "audit_share" in answer.json()["error"], bad


def test_setup_model_and_loop_settings_from_extra_params(backend: Backend, redis_conn: redis.Redis) -> None:
    params = {"learner": "logreg", "C": 0.5, "class_weight": "balanced", "calibrate": "false",
              "retrain_every": [5, 20], "batch_size": 20}
    assert setup_project(backend, 41, extra_params=params).status_code == 200
    assert setup_project(backend, 42).status_code == 200
    state = ProjectState(redis_conn)
    assert state.config(41).options == {"learner": "logreg", "c": 0.5, "class_weight": "balanced",  # type: ignore[union-attr]
                                        "calibrate": "off", "retrain_every": [5, 20], "batch_size": 20}
    assert state.config(42).options == {}  # type: ignore[union-attr]
    metrics = requests.get(backend.url + "/metrics", timeout=5).json()["projects"]
    assert metrics["41"]["options"] == {"learner": "logreg", "C": 0.5, "class_weight": "balanced",
                                        "calibrate": "off", "retrain_every": [5, 20], "batch_size": 20}
    assert metrics["41"]["options_from_project"] == sorted(params)
    assert metrics["42"]["options"]["C"] == 10.0 and metrics["42"]["options_from_project"] == []
    health = requests.get(backend.url + "/health", timeout=5).json()["projects"]
    assert (health["41"]["next_milestone"], health["42"]["next_milestone"]) == (5, 10)


@pytest.mark.parametrize(("params", "words"), [
    ({"learner": "forest"}, ["learner", "'forest'", "auto, logreg"]),
    ({"C": -1}, ["C must be from 0.0001 to 10000", "'-1'"]),
    ({"C": "x" * 5000}, ["C must be a number", "'xxxxxxxxxxxxxxxxxxxx...'"]),
    ({"class_weight": "auto"}, ["class_weight must be one of none, balanced", "'auto'"]),
    ({"calibrate": "perhaps"}, ["calibrate must be one of audit, folds, off", "'perhaps'"]),
    ({"retrain_every": [20, 10]}, ["retrain_every", "increase"]),
    ({"batch_size": 1e6}, ["batch_size must be from 1 to 1000"]),
    ({"C_value": 1}, ["unknown setting 'C_value'", "learner, C, class_weight"]),
])
def test_setup_refuses_a_bad_setting(backend: Backend, redis_conn: redis.Redis, params: dict[str, Any],
                                     words: list[str]) -> None:
    answer = setup_project(backend, 43, extra_params=params)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error.startswith("extra_params: ") and len(error) < 300
    for word in words:
        assert word in error
    assert ProjectState(redis_conn).config(43) is None


def test_setup_refuses_model_settings_a_kind_does_not_have(backend: Backend, redis_conn: redis.Redis) -> None:
    ner = '<View><Text name="t" value="$t"/><Labels name="l" toName="t"><Label value="PER"/></Labels></View>'
    answer = setup_project(backend, 44, schema=ner, extra_params={"C": 1.0})
    assert answer.status_code == 400 and "C does not apply to ner projects" in answer.json()["error"]
    assert setup_project(backend, 44, schema=ner, extra_params={"retrain_every": 25}).status_code == 200
    assert ProjectState(redis_conn).config(44).options == {"retrain_every": [25]}  # type: ignore[union-attr]


@pytest.mark.parametrize("body, status, words", [
    ("{not json", 400, "malformed JSON"),
    ("", 400, "empty"),
    ("[1, 2]", 400, "JSON object"),
    ({"project": "1.2"}, 400, "schema"),
    ({"schema": CONFIG, "project": "abc"}, 400, "project"),
    ({"schema": CONFIG, "project": 1, "extra_params": [1]}, 400, "extra_params"),
])
def test_setup_bad_input(backend: Backend, redis_conn: redis.Redis, body: Any, status: int, words: str) -> None:
    answer = post(backend, "/setup", body)
    assert answer.status_code == status
    assert words in answer.json()["error"]


# -- /predict --------------------------------------------------------------------------------
def test_predict_before_any_push_puts_unranked_tasks_last(backend: Backend, redis_conn: redis.Redis) -> None:
    """The cold-start order is k-means over the whole pool: never computed inside a request."""
    setup_project(backend, 11)
    tasks = trec_tasks(1000)
    answer = post(backend, "/predict", {**PREDICT, "project": "11.1795269085", "label_config": TREC_CONFIG,
                                        "tasks": tasks})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert len(results) == 1000
    assert all(r["score"] == 1.0 for r in results)
    assert all(r["result"] == [] and r["model_version"] == COLD_START_VERSION for r in results)


def test_predict_cold_start_answers_with_the_pushed_pool_order(backend: Backend, redis_conn: redis.Redis) -> None:
    """The cold-start order depends on the whole pool: a request for a few tasks must not reorder them."""
    setup_project(backend, 71)
    ProjectState(redis_conn).save_scores(71, COLD_START_VERSION, {1: 0.25, 2: 0.75})
    answer = post(backend, "/predict", {"project": "71.1", "tasks": trec_tasks(3)})
    assert answer.status_code == 200, answer.text
    scores = [r["score"] for r in answer.json()["results"]]
    assert scores == [0.25, 0.75, 1.0]  # the third was not pushed yet: last until the next push


def test_predict_with_model_puts_least_confident_first(backend: Backend, redis_conn: redis.Redis) -> None:
    setup_project(backend, 12, extra_params={"strategy": "margin"})
    version, model = publish_model(backend, redis_conn, 12)
    tasks = trec_tasks(200, start=4000)
    answer = post(backend, "/predict", {"project": "12.1", "tasks": tasks})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["model_version"] for r in results] == [version] * 200
    proba = model.predict_proba(featurize([t["data"]["text"] for t in tasks]))
    labels = ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
    for result, row in zip(results, proba, strict=True):
        (item,) = result["result"]
        assert item["from_name"] == "label" and item["to_name"] == "text" and item["type"] == "choices"
        assert item["value"]["choices"] == [labels[int(np.argmax(row))]]
    scores = np.array([r["score"] for r in results])
    utility = measures.margin(proba)
    assert np.argmin(scores) == np.argmax(utility)
    assert np.corrcoef(scores, utility)[0, 1] < -0.99


def test_predict_multilabel(backend: Backend, redis_conn: redis.Redis) -> None:
    config = ('<View><Text name="text" value="$text"/><Choices name="topics" toName="text" choice="multiple">'
              '<Choice value="a"/><Choice value="b"/><Choice value="c"/></Choices></View>')
    schema = parse_label_config(config)
    texts = ["alpha apple", "beta banana", "alpha beta", "cherry c", "apple cherry", "banana beta"] * 5
    targets = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1], [0, 1, 0]] * 5)
    model = train_model(featurize(texts), targets, schema.labels, multilabel=True)
    ArtifactStore(backend.model_dir).write(13, "ls-active-v1-ml", model, {})
    ProjectState(redis_conn).publish_version(13, "ls-active-v1-ml", {"version": "ls-active-v1-ml"})
    setup_project(backend, 13, config)
    answer = post(backend, "/predict", {"project": 13, "tasks": [{"id": 1, "data": {"text": "alpha apple beta"}}]})
    assert answer.status_code == 200, answer.text
    (result,) = answer.json()["results"]
    assert result["result"][0]["from_name"] == "topics"
    assert set(result["result"][0]["value"]["choices"]) <= {"a", "b", "c"}
    assert "a" in result["result"][0]["value"]["choices"]


def test_predict_empty_and_very_long_texts(backend: Backend, redis_conn: redis.Redis) -> None:
    setup_project(backend, 14)
    tasks = [{"id": 1, "data": {"text": ""}}, {"id": 2, "data": {"text": "word " * 400_000}},
             {"id": 3, "data": {"text": None}}, {"id": 4, "data": {"text": 12345}}]
    answer = post(backend, "/predict", {"project": 14, "tasks": tasks})
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["results"]) == 4


@pytest.mark.parametrize("body, status, words", [
    ({"project": 15, "tasks": [{"id": 9, "data": {"question": "x"}}]}, 422, '"text"'),
    ({"project": 15, "tasks": "nope"}, 400, "tasks"),
    ({"project": 15, "tasks": [{"id": 1}]}, 400, "data"),
    ({"project": 15}, 400, "tasks"),
    ({"project": 999, "tasks": [{"id": 1, "data": {"text": "x"}}]}, 400, "/setup"),
    ("{\"tasks\": [", 400, "malformed JSON"),
])
def test_predict_bad_input(backend: Backend, redis_conn: redis.Redis, body: Any, status: int, words: str) -> None:
    setup_project(backend, 15)
    answer = post(backend, "/predict", body)
    assert answer.status_code == status, answer.text
    assert words in answer.json()["error"]


def test_predict_body_over_limit_is_413(backend: Backend, redis_conn: redis.Redis) -> None:
    huge = json.dumps({"project": 16, "tasks": [{"id": 1, "data": {"text": "x" * (65 * 1024 * 1024)}}]})
    answer = post(backend, "/predict", huge)
    assert answer.status_code == 413
    assert "fewer tasks" in answer.json()["error"]


def test_unreadable_artifact_falls_back_without_losing_anything(backend: Backend, redis_conn: redis.Redis) -> None:
    setup_project(backend, 17)
    version, _ = publish_model(backend, redis_conn, 17)
    path = ArtifactStore(backend.model_dir).path(17, version) / "model.joblib"
    good = path.read_bytes()
    path.write_bytes(b"garbage")
    try:
        # the cache of the gunicorn worker may hold the good model; a fresh version name cannot be cached
        ProjectState(redis_conn).publish_version(17, version, {"version": version})
        answer = post(backend, "/predict", {"project": 17, "tasks": trec_tasks(3)})
        assert answer.status_code == 200
        assert len(answer.json()["results"]) == 3
    finally:
        path.write_bytes(good)
    assert ProjectState(redis_conn).current_version(17) == version


# -- /webhook --------------------------------------------------------------------------------
WEBHOOKS = [k for k in PAYLOADS if k.startswith("POST /webhook")]


@pytest.mark.parametrize("name", WEBHOOKS)
def test_every_captured_webhook_is_accepted(backend: Backend, redis_conn: redis.Redis, name: str) -> None:
    answer = post(backend, "/webhook", PAYLOADS[name]["body"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["action"] == PAYLOADS[name]["body"]["action"]


def test_webhook_counts_labels_and_ignores_skips(backend: Backend, redis_conn: redis.Redis) -> None:
    created = copy.deepcopy(PAYLOADS["POST /webhook ANNOTATION_CREATED"]["body"])
    skipped = copy.deepcopy(created)
    skipped["annotation"]["was_cancelled"] = True
    others = [PAYLOADS[f"POST /webhook {name}"]["body"]
              for name in ("ANNOTATION_UPDATED", "ANNOTATIONS_DELETED", "PROJECT_UPDATED")]
    for body in (created, created, skipped, *others):
        assert post(backend, "/webhook", body).status_code == 200
    counters = ProjectState(redis_conn).counters(1)
    assert counters["labels_created"] == 2
    assert counters["cancelled"] == 1
    assert counters["labels_updated"] == 1
    assert counters["labels_deleted"] == 1
    assert counters["label_events"] == 4
    assert counters["event:PROJECT_UPDATED"] == 1


def test_tasks_deleted_leave_the_cached_pool(backend: Backend, redis_conn: redis.Redis) -> None:
    cache = PoolCache(redis_conn, 1_000_000)
    cache.fill(4, [{"id": i, "data": {"text": f"q{i}"}} for i in (1, 2, 3)], "text", labeled=0, last_id=3)
    body = {"action": "TASKS_DELETED", "project": {"id": 4}, "tasks": [{"id": 2}, {"id": 9}]}
    answer = post(backend, "/webhook", body)
    assert answer.status_code == 200 and answer.json()["pool_removed"] == 1
    assert sorted(cache.load(4).tasks) == [1, 3]  # type: ignore[union-attr]


def test_start_training_answers_a_job_id(backend: Backend, redis_conn: redis.Redis) -> None:
    answer = post(backend, "/webhook", PAYLOADS["POST /webhook START_TRAINING"]["body"])
    job = answer.json()["job"]
    assert job.startswith("retrain-1-")
    assert job in Queue("ls-active-train", connection=redis_conn, serializer=SERIALIZER).job_ids
    again = post(backend, "/webhook", PAYLOADS["POST /webhook START_TRAINING"]["body"]).json()["job"]
    assert again == job  # one retrain waits at a time
    assert len(Queue("ls-active-train", connection=redis_conn, serializer=SERIALIZER)) == 1


def test_legacy_train_answers_a_job_id(backend: Backend, redis_conn: redis.Redis) -> None:
    answer = post(backend, "/train", PAYLOADS["POST /train (legacy, flag ff_back_dev_1417... = false)"]["body"])
    assert answer.status_code == 200
    assert answer.json()["job"].startswith("retrain-1-")


@pytest.mark.parametrize("body, words", [
    ({"project": {"id": 1}}, "action"),
    ({"action": 5}, "action"),
    ("[]", "JSON object"),
    ("{oops", "malformed JSON"),
    ({"action": "ANNOTATION_CREATED", "project": "x"}, "project"),
])
def test_webhook_bad_input(backend: Backend, redis_conn: redis.Redis, body: Any, words: str) -> None:
    answer = post(backend, "/webhook", body)
    assert answer.status_code == 400
    assert words in answer.json()["error"]


def test_unknown_webhook_action_is_accepted_and_counted(backend: Backend, redis_conn: redis.Redis) -> None:
    answer = post(backend, "/webhook", {"action": "SOMETHING_NEW", "project": {"id": 21}})
    assert answer.status_code == 200
    assert ProjectState(redis_conn).counters(21)["event:SOMETHING_NEW"] == 1


# -- /versions, /metrics, /job_status -----------------------------------------------------------
def test_versions_and_metrics(backend: Backend, redis_conn: redis.Redis) -> None:
    version, _ = publish_model(backend, redis_conn, 31)
    versions = requests.get(backend.url + "/versions", timeout=5).json()
    assert version in versions["versions"]
    assert versions["current"]["31"] == version
    metrics = requests.get(backend.url + "/metrics?project=31", timeout=5).json()
    assert metrics["projects"]["31"]["current_version"] == version
    assert requests.get(backend.url + "/metrics?project=abc", timeout=5).status_code == 400
    status = post(backend, "/job_status", {"job": "retrain-31-1"}).json()
    assert status["status"] == "unknown"


# -- basic auth ------------------------------------------------------------------------------
def test_basic_auth_on_every_endpoint(redis_url: str, tmp_path: Path) -> None:
    from tests.conftest import backend_env

    server = Backend(backend_env(redis_url, tmp_path, BASIC_AUTH_USER="ls", BASIC_AUTH_PASS="s3cret"), tmp_path)
    try:
        for method, path in (("get", "/health"), ("post", "/setup"), ("post", "/predict"), ("post", "/webhook"),
                             ("get", "/versions"), ("get", "/metrics"), ("post", "/train")):
            anonymous = requests.request(method, server.url + path, json=SETUP, timeout=5)
            assert anonymous.status_code == 401, path
            assert "WWW-Authenticate" in anonymous.headers
            wrong = requests.request(method, server.url + path, json=SETUP, auth=("ls", "nope"), timeout=5)
            assert wrong.status_code == 401
        ok = requests.get(server.url + "/health", auth=("ls", "s3cret"), timeout=5)
        assert ok.status_code == 200
        assert post(server, "/setup", SETUP, auth=("ls", "s3cret")).status_code == 200
    finally:
        server.stop()
