"""Retrain milestones: every N labels, or a growing schedule that doubles after its last entry."""

from __future__ import annotations

import pytest

from backend.loop.milestones import labels_to_milestones, milestones_between, next_milestone

GROWING = (10, 20, 40)


@pytest.mark.parametrize(
    ("before", "after", "crossed"),
    [(0, 9, []), (9, 10, [10]), (10, 10, []), (10, 19, []), (19, 21, [20]), (5, 35, [10, 20, 30]), (30, 31, [])],
)
def test_every_n(before: int, after: int, crossed: list[int]) -> None:
    assert milestones_between((10,), before, after) == crossed


@pytest.mark.parametrize(
    ("before", "after", "crossed"),
    [
        (0, 9, []),
        (9, 10, [10]),
        (10, 25, [20]),
        (39, 40, [40]),
        (40, 79, []),
        (79, 80, [80]),
        (0, 100, [10, 20, 40, 80]),
        (100, 320, [160, 320]),
        (641, 1279, []),
        (1279, 1280, [1280]),
    ],
)
def test_growing_schedule_doubles_after_the_last_entry(before: int, after: int, crossed: list[int]) -> None:
    assert milestones_between(GROWING, before, after) == crossed


def test_two_entry_schedule_doubles_its_last() -> None:
    assert milestones_between((5, 15), 0, 130) == [5, 15, 30, 60, 120]


@pytest.mark.parametrize("schedule", [(10,), GROWING])
def test_nothing_crossed_when_the_count_falls_or_stays(schedule: tuple[int, ...]) -> None:
    assert milestones_between(schedule, 25, 12) == []
    assert milestones_between(schedule, 20, 20) == []


def test_empty_schedule_crosses_nothing() -> None:
    assert milestones_between((), 0, 100) == []


@pytest.mark.parametrize("schedule", [(1,), (3,), (10,), GROWING, (2, 3, 7)])
def test_one_at_a_time_reaches_every_milestone_exactly_once(schedule: tuple[int, ...]) -> None:
    """Counting label by label crosses the same milestones as one big jump."""
    singles = [m for count in range(500) for m in milestones_between(schedule, count, count + 1)]
    assert singles == milestones_between(schedule, 0, 500)
    assert len(singles) == len(set(singles))


@pytest.mark.parametrize(
    ("count", "expected"), [(0, 10), (9, 10), (10, 20), (11, 20), (99, 100), (100, 110)]
)
def test_next_every_n(count: int, expected: int) -> None:
    assert next_milestone((10,), count) == expected


@pytest.mark.parametrize(
    ("count", "expected"), [(0, 10), (10, 20), (19, 20), (20, 40), (40, 80), (80, 160), (100, 160), (160, 320)]
)
def test_next_growing(count: int, expected: int) -> None:
    assert next_milestone(GROWING, count) == expected


@pytest.mark.parametrize("schedule", [(10,), (7,), GROWING, (2, 3, 7)])
def test_next_milestone_is_the_first_one_crossed(schedule: tuple[int, ...]) -> None:
    for count in range(0, 400, 3):
        upcoming = next_milestone(schedule, count)
        assert upcoming > count
        assert milestones_between(schedule, count, upcoming) == [upcoming]


@pytest.mark.parametrize(
    ("schedule", "count", "labels"),
    [((10,), 0, 20), ((10,), 7, 13), ((10,), 10, 20), ((15,), 30, 30), (GROWING, 0, 20), (GROWING, 12, 28),
     (GROWING, 45, 115), (GROWING, 80, 240)],
)
def test_the_head_reaches_two_milestones_ahead(schedule: tuple[int, ...], count: int, labels: int) -> None:
    assert labels_to_milestones(schedule, count) == labels
    assert labels_to_milestones(schedule, count, ahead=1) == next_milestone(schedule, count) - count
