"""What a webhook event does: count label events, and decide what work to schedule.

Runs inside Label Studio's own save request (it waits at most 1 s), so it only touches
Redis: no Label Studio call, no training. The work itself is scheduled through
:class:`backend.loop.scheduling.Scheduler`; deleted tasks leave the cached pool here.
"""

from __future__ import annotations

import logging
from typing import Any

from backend.labelstudio.payloads import Event
from backend.loop.recovery import restore
from backend.loop.services import Services
from backend.loop.state import EventCount

log = logging.getLogger(__name__)


def count(services: Services, event: Event) -> EventCount | None:
    """Record the event in the project's counters (labels, updates, deletions, skips, and
    the label events toward milestones); None when the event names no project."""
    if event.project is None:
        return None
    amounts = {"labels_created": event.labels_created, "labels_updated": event.labels_updated,
               "labels_deleted": event.labels_deleted, "cancelled": event.cancelled}
    return services.state.count_event(event.project, event.action, amounts, labels=any(amounts.values()),
                                      label_events=event.labels_changed, before=event.labels_before)


def handle(services: Services, event: Event) -> dict[str, Any]:
    """Count the event and let the scheduler act on it; the answer goes back to Label Studio.

    Recovery runs only when the count says Redis has lost its state (one round trip in all
    while it has not), and before the scheduler acts, which reads what recovery puts back.
    """
    counted = count(services, event)
    answer: dict[str, Any] = {"status": "ok", "action": event.action}
    if event.project is None or counted is None:
        answer["status"] = "ignored"
        answer["reason"] = "the event names no project"
        return answer
    if not counted.restored:
        restore(services, event.project)
    if event.action == "TASKS_DELETED" and event.task_ids:
        answer["pool_removed"] = services.pool.deleted(event.project, event.task_ids)
    answer.update(services.scheduler.on_event(event, label_events=counted.label_events, options=counted.options))
    return answer
