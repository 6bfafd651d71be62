"""The cached pool and the head-first push against a real Label Studio and a real Redis.

The cache must follow Label Studio through new, labeled and deleted tasks, and fall back to a
full read whenever its counts do not add up. The head-first push must make Label Studio serve
the head first (Uncertainty sampling and the queue tab alike) before the rest is pushed, and
leave every task with exactly one prediction of the version however often it is retried.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import redis

from backend.defaults import COLD_START_VERSION
from backend.labelstudio.client import LabelStudioClient
from backend.loop import keys
from backend.loop.head_first import push_head, push_head_first, push_rest, split_head
from backend.loop.pool import PoolCache, read_pool
from backend.loop.rescoring import newer_version, push, rescore_pool
from backend.loop.services import Services
from backend.loop.state import ProjectState
from backend.loop.training import train_and_publish
from backend.settings import Settings
from tests.conftest import backend_env
from tests.ls_fixtures import MakeProject, choices_result
from tests.lsapi import LsApi

MB = 1_000_000


def ids(tasks: list[dict[str, Any]]) -> list[int]:
    return sorted(int(t["id"]) for t in tasks)


def retrain_read(client: LabelStudioClient, cache: PoolCache, project: int) -> None:
    """What the retrain does with its read of every labeled task."""
    cache.labeled(project, [int(t["id"]) for t in client.iter_tasks(project, labeled=True)])


def test_the_cached_pool_follows_label_studio(make_project: MakeProject, ls_client: LabelStudioClient,
                                              label_studio: Any, redis_conn: redis.Redis) -> None:
    made = make_project(60)
    project, cache, ls = made.id, PoolCache(redis_conn, 10 * MB), LsApi(label_studio.url, label_studio.token)

    def read() -> tuple[list[int], str]:
        tasks, how = read_pool(cache, ls_client, project, "text", page_size=25)
        return ids(tasks), how

    assert read() == (sorted(made.task_ids), "full")
    tasks, how = read_pool(cache, ls_client, project, "text")
    assert how == "cached" and {t["id"]: t["data"]["text"] for t in tasks} == dict(zip(made.task_ids, made.texts,
                                                                                       strict=True))
    new = ls_client.import_tasks(project, [{"data": {"text": f"new question {i}?"}} for i in range(5)])
    assert read() == (sorted([*made.task_ids, *new]), "cached")  # only the ids above the last one were read

    labeled = made.task_ids[:3]
    for task in labeled:
        made.annotate(task)
    made.skip(made.task_ids[3])
    retrain_read(ls_client, cache, project)
    expected = sorted(set(made.task_ids[4:]) | set(new))
    assert read() == (expected, "cached")

    gone = expected[0]
    ls.call("DELETE", f"api/tasks/{gone}/")  # without its webhook: the counts disagree
    expected.remove(gone)
    assert read() == (expected, "full")
    gone = expected[0]
    ls.call("DELETE", f"api/tasks/{gone}/")
    cache.deleted(project, [gone])  # as the TASKS_DELETED webhook does
    expected.remove(gone)
    assert read() == (expected, "cached")

    annotation = ls_client.create_annotation(expected[0], choices_result("HUM"))
    retrain_read(ls_client, cache, project)
    ls.call("DELETE", f"api/annotations/{annotation}/")  # back in the pool, and the retrain has not seen it
    retrain_read(ls_client, cache, project)
    assert read() == (expected, "full")

    redis_conn.flushdb()  # Redis lost: one full read, nothing else
    assert read() == (expected, "full")
    assert read() == (expected, "cached")
    assert read_pool(cache, ls_client, project, "text", max_age=0)[1] == "full"
    assert read_pool(PoolCache(redis_conn, 0), ls_client, project, "text")[1] == "full"


def predictions(task_ids: list[int], version: str, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [{"task": t, "result": choices_result("DESC"), "score": round(rng.random(), 6), "model_version": version}
            for t in task_ids]


def one_each(ls: LsApi, project: int, version: str, task_ids: list[int]) -> dict[int, float]:
    """Every task holds exactly one prediction of ``version``: their scores by task."""
    found = ls.predictions(project)
    mine = {t: [p for p in found.get(t, []) if p["model_version"] == version] for t in task_ids}
    assert all(len(p) == 1 for p in mine.values()), {t: len(p) for t, p in mine.items() if len(p) != 1}
    return {t: float(p[0]["score"]) for t, p in mine.items()}


def test_the_head_is_served_first_then_the_rest(make_project: MakeProject, ls_client: LabelStudioClient,
                                                label_studio: Any, redis_conn: redis.Redis) -> None:
    made = make_project(80)
    project, state, ls = made.id, ProjectState(redis_conn), LsApi(label_studio.url, label_studio.token)
    ls_client.set_sampling(project)
    old = predictions(made.task_ids, "v1", seed=1)
    ls_client.import_predictions(project, old)
    ls_client.set_model_version(project, "v1")
    preds = predictions(made.task_ids, "v2", seed=2)
    head, rest = split_head(preds, 8)

    assert push_head(ls_client, state, project, "v2", head, "v1") == 8
    assert ls_client.project_fields(project, "model_version")["model_version"] == "v2"
    queue = ls.unlabeled_by_score(project)
    order = [p["task"] for p in head]
    assert [t["id"] for t in queue[:8]] == order  # the queue tab: the head first, in order
    assert all(t["predictions_score"] is None for t in queue[8:])  # v1's scores no longer count
    served = []
    for _ in range(3):  # Uncertainty sampling: the head, lowest score first, though v1 covers every task
        task = ls.next_task(project)["id"]
        served.append(task)
        made.annotate(task)
    assert served == order[:3]

    assert push_rest(ls_client, state, project, "v2", preds, rest, batch=1000) == len(rest)
    scores = one_each(ls, project, "v2", made.task_ids)
    queue = [t for t in ls.unlabeled_by_score(project)]
    assert [float(t["predictions_score"]) for t in queue] == sorted(scores[t["id"]] for t in queue)
    assert ls.next_task(project)["id"] == order[3]


@pytest.mark.parametrize("bulk", [False, True], ids=["one-by-one", "bulk"])
def test_head_first_pushes_survive_retries_and_lost_redis(make_project: MakeProject, ls_client: LabelStudioClient,
                                                          label_studio: Any, redis_conn: redis.Redis,
                                                          bulk: bool) -> None:
    made = make_project(50)
    project, state, ls = made.id, ProjectState(redis_conn), LsApi(label_studio.url, label_studio.token)
    preds = predictions(made.task_ids, "v1", seed=3)
    done = push_head_first(ls_client, state, project, "v1", preds, 6, 1000, bulk)
    assert (done.head, done.rest) == (6, 44)
    assert push_head_first(ls_client, state, project, "v1", preds, 6, 1000, bulk).head == 0  # retried: nothing new
    redis_conn.flushdb()
    again = push_head_first(ls_client, state, project, "v1", preds, 6, 1000, bulk)  # Redis lost: LS decides
    assert (again.head, again.rest) == (0, 0)
    one_each(ls, project, "v1", made.task_ids)

    by_task = ls.predictions(project)
    for task in made.task_ids[-3:]:  # a rest cut short, and a duplicate
        ls.call("DELETE", f"api/predictions/{by_task[task][0]['id']}/")
    ls_client.create_prediction(project, preds[0])
    redis_conn.flushdb()
    repaired = push_head_first(ls_client, state, project, "v1", preds, 6, 1000, bulk)
    assert repaired.rest == 3
    one_each(ls, project, "v1", made.task_ids)

    second = predictions(made.task_ids, "v2", seed=4)
    head, _ = split_head(second, 6)
    for pred in head[:4]:  # a head cut short: the project is not switched yet
        ls_client.create_prediction(project, pred)
    redis_conn.flushdb()
    done = push_head_first(ls_client, state, project, "v2", second, 6, 1000, bulk)
    assert (done.head, done.rest) == (6, 44)
    assert ls_client.project_fields(project, "model_version")["model_version"] == "v2"
    scores = one_each(ls, project, "v2", made.task_ids)
    assert scores == {int(p["task"]): float(p["score"]) for p in second}


def test_a_rescore_reads_the_cache_and_pushes_the_head_first(make_project: MakeProject, label_studio: Any,
                                                             redis_url: str, redis_conn: redis.Redis,
                                                             tmp_path: Path) -> None:
    """The jobs' own path: cold start (a full read), a retrain, then a rescore from the cache, head first."""
    made = make_project(120)
    project, ls = made.id, LsApi(label_studio.url, label_studio.token)
    svc = Services.create(Settings.from_env(backend_env(
        redis_url, tmp_path, LABEL_STUDIO_URL=label_studio.url, LABEL_STUDIO_API_KEY=label_studio.token,
        HEAD_FIRST_MIN_TASKS="0", HEAD_TASKS="10", RETRAIN_EVERY="5")))
    cold = rescore_pool(svc, project, None)
    assert cold is not None and cold["tasks"] == 120
    assert svc.state.status(project)["last_read"] == "full"
    one_each(ls, project, COLD_START_VERSION, made.task_ids)
    for task in made.task_ids[:30]:
        made.annotate(task)
    version = train_and_publish(svc, project)["version"]
    done = rescore_pool(svc, project, version)
    assert done is not None and done["tasks"] == 90 and done["created"] == 90
    status = svc.state.status(project)
    assert status["last_read"] == "cached" and status["last_head_at"] is not None
    scores = one_each(ls, project, version, made.task_ids[30:])
    assert ls_model_version(ls, project) == version
    queue = ls.unlabeled_by_score(project)
    assert [float(t["predictions_score"]) for t in queue] == sorted(scores.values())


def ls_model_version(ls: LsApi, project: int) -> str:
    return str(ls.project(project)["model_version"])


@pytest.mark.parametrize("head_first", [False, True], ids=["one-import", "head-first"])
def test_a_push_overtaken_by_a_newer_version_never_switches_back(
        make_project: MakeProject, ls_client: LabelStudioClient, label_studio: Any, redis_conn: redis.Redis,
        head_first: bool) -> None:
    """A job that outlived its worker (Redis lost under it) may finish after the next version's push."""
    made = make_project(40)
    project, state, ls = made.id, ProjectState(redis_conn), LsApi(label_studio.url, label_studio.token)
    newer = predictions(made.task_ids, "v8", seed=5)
    ls_client.import_predictions(project, newer)
    ls_client.set_model_version(project, "v8")
    asked: list[int] = []

    def newest() -> bool:
        asked.append(1)
        return False  # v8 is in the store: v7 is no longer the one to serve

    older = predictions(made.task_ids, "v7", seed=6)
    if head_first:
        done = push_head_first(ls_client, state, project, "v7", older, 6, 1000, newest=newest)
        assert (done.head, done.rest) == (6, 0)  # the head went in; the rest of an overtaken pool does not
    else:
        push(ls_client, state, project, "v7", older, 1000, newest)
    assert asked
    assert ls_model_version(ls, project) == "v8"
    assert [t["id"] for t in ls.unlabeled_by_score(project)] == [int(p["task"]) for p in sorted(
        newer, key=lambda p: (float(p["score"]), int(p["task"])))]


def test_a_rescore_of_a_version_the_store_has_overtaken_is_skipped(
        make_project: MakeProject, label_studio: Any, redis_url: str, tmp_path: Path) -> None:
    """Redis may name an older version current (restored empty while a retrain published); the store decides."""
    made = make_project(60)
    project, ls = made.id, LsApi(label_studio.url, label_studio.token)
    svc = Services.create(Settings.from_env(backend_env(
        redis_url, tmp_path, LABEL_STUDIO_URL=label_studio.url, LABEL_STUDIO_API_KEY=label_studio.token)))
    for task in made.task_ids[:20]:
        made.annotate(task)
    first = train_and_publish(svc, project)["version"]
    made.annotate(made.task_ids[20])
    second = train_and_publish(svc, project)["version"]
    assert rescore_pool(svc, project, second) is not None
    svc.conn.set(keys.current_version(project), first)
    assert newer_version(svc, project, first) == second and newer_version(svc, project, second) is None
    assert rescore_pool(svc, project, first) is None
    assert ls_model_version(ls, project) == second
