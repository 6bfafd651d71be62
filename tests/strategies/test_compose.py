"""Composition: per-task and batch rankings, and which guards they wear."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from strategies import Pool, order_from_scores
from strategies.batch import Batch
from strategies.compose import GUARDED, Guards, batch, by_budget, per_task
from strategies.measures import from_proba, margin
from strategies.selectors import top_k


def _recording(log: list[list[int]]) -> Any:
    """A selector that takes the lowest free indices and records the whole batch."""

    def select(pool: Pool, utility: np.ndarray, chosen: Batch, rng: np.random.Generator) -> None:
        for i in range(pool.n_samples):
            if not chosen.full and chosen.available[i]:
                chosen.take(i)
        log.append(list(chosen.order(np.random.default_rng(0))))

    return select


def test_per_task_scores_are_one_minus_utility(make_pool: Any) -> None:
    pool = make_pool()
    scores = per_task(from_proba(margin))(pool, 5, np.random.default_rng(0))
    assert np.allclose(scores, 1.0 - margin(pool.proba))


def test_per_task_without_model_is_the_cold_start(make_pool: Any) -> None:
    from strategies import cold_start_scores

    pool = make_pool(proba=None)
    assert np.array_equal(per_task(from_proba(margin))(pool, 5, np.random.default_rng(0)),
                          cold_start_scores(pool, 5, np.random.default_rng(0)))


def test_batch_comes_first_in_pick_order_then_rest_by_utility(make_pool: Any) -> None:
    log: list[list[int]] = []
    pool = make_pool(n=30, labeled_targets=np.repeat([0, 1, 2], 4))
    scores = batch(from_proba(margin), _recording(log))(pool, 4, np.random.default_rng(0))
    order = order_from_scores(scores)
    assert order[:4].tolist() == [0, 1, 2, 3] == log[0]
    rest_utility = margin(pool.proba)[order[4:]]
    assert (np.diff(rest_utility) <= 0).all()


def test_guards_pick_before_the_selector(make_pool: Any) -> None:
    log: list[list[int]] = []
    pool = make_pool(n=200, labeled_targets=np.repeat([0, 1, 2], 4))
    rank = batch(from_proba(margin), _recording(log), Guards(explore=0.5))
    rank(pool, 10, np.random.default_rng(0))
    selector_picks = [i for i in log[0] if i < 5]
    assert 3 <= len(selector_picks) <= 7  # the rest were random picks made first


def test_warm_up_gives_the_starved_classes_share_to_representative_tasks(make_pool: Any) -> None:
    """One class of three starved: a third of the batch is representative, the rest the selector's."""
    seen: list[int] = []

    def counting(pool: Pool, utility: np.ndarray, chosen: Batch, rng: np.random.Generator) -> None:
        seen.append(len(chosen.picks))  # picks made before the selector was asked
        top_k(pool, utility, chosen, rng)

    starved = make_pool(n=60, labeled_targets=np.array([0, 0, 0, 1, 1, 1, 2]))
    batch(from_proba(margin), counting, Guards(warm_up=True))(starved, 12, np.random.default_rng(0))
    assert seen == [1 + 4]  # one reserved slot for class 2, then ceil(12 / 3) representative picks
    fed = make_pool(n=60, labeled_targets=np.repeat([0, 1, 2], 3))
    batch(from_proba(margin), counting, Guards(warm_up=True))(fed, 12, np.random.default_rng(0))
    assert seen[-1] == 0  # every class has its labels: the selector chooses the whole batch
    batch(from_proba(margin), counting, Guards(warm_up=False))(starved, 12, np.random.default_rng(0))
    assert seen[-1] == 0  # no warm-up guard: no representative picks either


def test_warm_up_share_follows_the_starved_classes(make_pool: Any) -> None:
    from strategies.coldstart import warm_up_picks

    assert warm_up_picks(make_pool(proba=None), 10) == 10
    assert warm_up_picks(make_pool(labeled_targets=np.array([0, 0, 0, 1, 1, 1, 2])), 10) == 4
    assert warm_up_picks(make_pool(labeled_targets=np.array([0, 0, 0, 1])), 10) == 7
    assert warm_up_picks(make_pool(labeled_targets=np.repeat([0, 1, 2], 3)), 10) == 0
    assert warm_up_picks(make_pool(labeled_targets=np.repeat([0, 1], 15)), 10) == 0  # gave up on class 2


def test_without_a_model_every_batch_strategy_starts_cold(make_pool: Any) -> None:
    log: list[list[int]] = []
    rank = batch(from_proba(margin), _recording(log))
    scores = rank(make_pool(proba=None), 4, np.random.default_rng(0))
    assert log == [] and sorted(scores)[0] == 0.0


def test_guarded_default_values() -> None:
    assert GUARDED.explore == pytest.approx(0.1) and GUARDED.balance and GUARDED.warm_up


@pytest.mark.parametrize(("field", "value"), [("explore", 1.5), ("explore", -0.1), ("max_share", 0.0)])
def test_guards_reject_bad_shares(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        Guards(**{field: value})  # type: ignore[arg-type]


def test_a_selector_that_stops_early_is_completed_by_top_k(make_pool: Any) -> None:
    def lazy(pool: Pool, utility: np.ndarray, chosen: Batch, rng: np.random.Generator) -> None:
        return None

    pool = make_pool(n=20, labeled_targets=np.repeat([0, 1, 2], 4))
    scores = batch(from_proba(margin), lazy)(pool, 3, np.random.default_rng(0))
    expected = Batch(20, 3)
    top_k(pool, margin(pool.proba), expected, np.random.default_rng(0))
    assert set(order_from_scores(scores)[:3]) == set(expected.picks)


def _named(name: str, calls: list[str]) -> Any:
    def rank(pool: Pool, batch_size: int, rng: np.random.Generator) -> np.ndarray:
        calls.append(name)
        return np.zeros(pool.n_samples)

    return rank


def test_by_budget_switches_at_the_labels_per_class(make_pool: Any) -> None:
    calls: list[str] = []
    rank = by_budget(_named("low", calls), _named("high", calls), per_class=4)
    rng = np.random.default_rng(0)
    rank(make_pool(proba=None, labeled_targets=None, labeled_features=None), 3, rng)
    rank(make_pool(n_classes=3, n_labeled=11), 3, rng)  # 11 < 4 x 3 classes
    rank(make_pool(n_classes=3, n_labeled=12), 3, rng)
    rank(make_pool(n_classes=2, n_labeled=11), 3, rng)  # 11 >= 4 x 2 classes
    assert calls == ["low", "low", "high", "high"]


def test_by_budget_rejects_a_negative_threshold() -> None:
    with pytest.raises(ValueError, match="per_class"):
        by_budget(_named("a", []), _named("b", []), per_class=-1)
