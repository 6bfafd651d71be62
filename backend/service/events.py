"""What a webhook event does: count label events, and decide what work to schedule.

Runs inside Label Studio's own save request (it waits at most 1 s), so it only touches
Redis: no Label Studio call, no training. The work itself is scheduled through
:class:`backend.loop.scheduling.Scheduler`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from backend.labelstudio.payloads import Event
from backend.loop.services import Services

log = logging.getLogger(__name__)


def count(services: Services, event: Event) -> None:
    """Record the event in the project's counters (labels, updates, deletions, skips)."""
    if event.project is None:
        return
    pipe = services.conn.pipeline()
    state_key = f"lsa:project:{event.project}:counters"
    for field, amount in (
        ("labels_created", event.labels_created),
        ("labels_updated", event.labels_updated),
        ("labels_deleted", event.labels_deleted),
        ("cancelled", event.cancelled),
    ):
        if amount:
            pipe.hincrby(state_key, field, amount)
    pipe.hincrby(state_key, f"event:{event.action}", 1)
    if event.labels_created or event.labels_updated or event.labels_deleted or event.cancelled:
        pipe.hset(state_key, "last_label_at", f"{time.time():.3f}")
    pipe.execute()
    services.state.count_event(event.project, "events")


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
