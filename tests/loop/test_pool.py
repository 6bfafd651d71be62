"""The cached unlabeled pool in a real Redis: filled, kept current, capped, and dropped."""

from __future__ import annotations

import redis

from backend.loop import keys
from backend.loop.head_first import split_head
from backend.loop.pool import PoolCache, slim


def task(task_id: int, text: str = "", labeled: bool = False) -> dict[str, object]:
    found: dict[str, object] = {"id": task_id, "data": {"text": text or f"t{task_id}", "other": "x" * 50}}
    if labeled:
        found["annotations"] = [{"id": 1}]
    return found


def test_slim_keeps_only_the_field_scoring_reads() -> None:
    assert slim(task(3, "hello"), "text") == {"text": "hello"}
    assert slim({"id": 4, "data": {"other": 1}}, "text") == {}


def test_fill_then_load_gives_the_tasks_back_in_id_order(redis_conn: redis.Redis) -> None:
    cache = PoolCache(redis_conn, 10_000_000)
    assert cache.load(1) is None
    assert cache.fill(1, [task(5), task(2), task(9)], "text", labeled=4, last_id=12)
    loaded = cache.load(1)
    assert loaded is not None
    assert [t["id"] for t in loaded.as_tasks()] == [2, 5, 9]
    assert loaded.as_tasks()[0]["data"] == {"text": "t2"}
    assert (loaded.labeled, loaded.last_id) == (4, 12)


def test_add_counts_labeled_new_tasks_and_raises_the_last_id(redis_conn: redis.Redis) -> None:
    cache = PoolCache(redis_conn, 10_000_000)
    cache.fill(1, [task(1)], "text", labeled=0, last_id=1)
    assert cache.add(1, [task(7), task(8, labeled=True), task(3)], "text") == 2
    loaded = cache.load(1)
    assert loaded is not None
    assert sorted(loaded.tasks) == [1, 3, 7]
    assert (loaded.labeled, loaded.last_id) == (1, 8)
    cache.add(1, [task(2)], "text")  # a lower id never lowers the last one seen
    assert cache.load(1).last_id == 8  # type: ignore[union-attr]


def test_add_without_a_cache_does_nothing(redis_conn: redis.Redis) -> None:
    cache = PoolCache(redis_conn, 10_000_000)
    assert cache.add(1, [task(7)], "text") == 0
    assert cache.load(1) is None
    assert not redis_conn.exists(keys.pool(1))


def test_the_retrain_read_removes_labeled_tasks_and_sets_their_count(redis_conn: redis.Redis) -> None:
    cache = PoolCache(redis_conn, 10_000_000)
    cache.fill(1, [task(i) for i in range(1, 11)], "text", labeled=3, last_id=13)
    assert cache.labeled(1, [2, 4, 11, 12, 13]) == 2
    loaded = cache.load(1)
    assert loaded is not None
    assert sorted(loaded.tasks) == [1, 3, 5, 6, 7, 8, 9, 10]
    assert loaded.labeled == 5


def test_deleted_tasks_leave_the_pool(redis_conn: redis.Redis) -> None:
    cache = PoolCache(redis_conn, 10_000_000)
    cache.fill(1, [task(1), task(2), task(3)], "text", labeled=0, last_id=3)
    assert cache.deleted(1, [2, 99]) == 1
    assert sorted(cache.load(1).tasks) == [1, 3]  # type: ignore[union-attr]


def test_a_pool_over_the_cap_is_not_kept(redis_conn: redis.Redis) -> None:
    cache = PoolCache(redis_conn, 200)
    assert cache.fill(1, [task(1), task(2)], "text", labeled=0, last_id=2)
    assert not cache.fill(1, [task(i, "long text " * 10) for i in range(1, 20)], "text", labeled=0, last_id=19)
    assert cache.load(1) is None
    cache.fill(1, [task(1)], "text", labeled=0, last_id=1)
    cache.add(1, [task(i, "long text " * 10) for i in range(2, 20)], "text")  # growing past the cap drops it
    assert cache.load(1) is None


def test_a_refill_replaces_the_old_pool_and_projects_stay_apart(redis_conn: redis.Redis) -> None:
    cache = PoolCache(redis_conn, 10_000_000)
    cache.fill(1, [task(1), task(2)], "text", labeled=0, last_id=2)
    cache.fill(2, [task(50)], "text", labeled=0, last_id=50)
    cache.fill(1, [task(3)], "text", labeled=2, last_id=3)
    assert sorted(cache.load(1).tasks) == [3]  # type: ignore[union-attr]
    assert sorted(cache.load(2).tasks) == [50]  # type: ignore[union-attr]
    cache.fill(1, [], "text", labeled=3, last_id=3)
    empty = cache.load(1)
    assert empty is not None and empty.tasks == {} and empty.labeled == 3


def test_split_head_takes_the_lowest_scores_in_order() -> None:
    preds = [{"task": t, "score": s} for t, s in [(1, 0.9), (2, 0.1), (3, 0.5), (4, 0.1), (5, 0.3)]]
    head, rest = split_head(preds, 3)
    assert [p["task"] for p in head] == [2, 4, 5]
    assert [p["task"] for p in rest] == [1, 3]
    head, rest = split_head(preds, 10)
    assert len(head) == 5 and rest == []
