"""When a count of label events crosses a retrain milestone.

``RETRAIN_EVERY=10`` retrains after every 10 label events; ``RETRAIN_EVERY=10,20,40``
retrains at 10, 20 and 40 events and then at each double of the last (80, 160, ...):
early labels change the model most, so early retrains are worth more.
"""

from __future__ import annotations

from collections.abc import Sequence


def milestones_between(schedule: Sequence[int], before: int, after: int) -> list[int]:
    """Milestones ``m`` with ``before < m <= after`` (the ones an increment crossed)."""
    if not schedule or after <= before:
        return []
    if len(schedule) == 1:
        step = schedule[0]
        first = (before // step + 1) * step
        return list(range(first, after + 1, step))
    crossed = [m for m in schedule if before < m <= after]
    m = schedule[-1]
    while m <= after:
        m *= 2
        if before < m <= after:
            crossed.append(m)
    return crossed


def next_milestone(schedule: Sequence[int], count: int) -> int:
    """The first milestone strictly above ``count``."""
    if len(schedule) == 1:
        return (count // schedule[0] + 1) * schedule[0]
    for m in schedule:
        if m > count:
            return m
    m = schedule[-1]
    while m <= count:
        m *= 2
    return m


def labels_to_milestones(schedule: Sequence[int], count: int, ahead: int = 2) -> int:
    """Labels from ``count`` to the ``ahead``-th milestone above it: what annotators label
    before that many retrains have replaced the order (the head a rescore serves first)."""
    target = count
    for _ in range(ahead):
        target = next_milestone(schedule, target)
    return target - count
