"""What a webhook event does: count label events, and decide what work to schedule.

Runs inside Label Studio's own save request (it waits at most 1 s), so it only touches
Redis: no Label Studio call, no training. The work itself is scheduled through
:class:`backend.loop.scheduling.Scheduler`.
"""

from __future__ import annotations

import logging
from typing import Any

from backend.labelstudio.payloads import Event
from backend.loop.services import Services

log = logging.getLogger(__name__)


def count(services: Services, event: Event) -> None:
    """Record the event in the project's counters (labels, updates, deletions, skips)."""
    if event.project is None:
        return
    amounts = {"labels_created": event.labels_created, "labels_updated": event.labels_updated,
               "labels_deleted": event.labels_deleted, "cancelled": event.cancelled}
    services.state.count_event(event.project, event.action, amounts, labels=any(amounts.values()))


def handle(services: Services, event: Event) -> dict[str, Any]:
    """Count the event and let the scheduler act on it; the answer goes back to Label Studio."""
    count(services, event)
    answer: dict[str, Any] = {"status": "ok", "action": event.action}
    if event.project is None:
        answer["status"] = "ignored"
        answer["reason"] = "the event names no project"
        return answer
    answer.update(services.scheduler.on_event(event))
    return answer
