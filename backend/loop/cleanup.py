"""Deleting superseded prediction versions without ever making Label Studio wait.

Label Studio's own call for this (``DELETE /api/projects/{id}/model-versions/``) deletes a
whole version in one transaction, row by row: on its default SQLite database that held the
write lock 6 s for 900 predictions and 54 s for 9,900, and every request that waited over 5 s
meanwhile (an annotator's save, the next task) failed with 500 "database is locked". Here a
version goes one prediction per request (one short write each), with a pause after each,
and the work stops as soon as the loop has something more urgent to do: a retrain or a push
waiting or running. What is left is picked up by the next cleanup.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from backend.errors import LabelStudioError
from backend.labelstudio.client import LabelStudioClient
from backend.loop.numbering import version_number

log = logging.getLogger(__name__)

def superseded(versions: Iterable[str], current: str | None, prefix: str, keep: int) -> list[str]:
    """Our numbered versions proven older than ``current``, less the ``keep`` newest of them.

    Decided from the names alone (numbers never repeat: :mod:`backend.loop.numbering`), so it
    holds whatever Redis remembers. Nothing is superseded unless ``current`` is one of our
    numbered versions, and a version numbered above it (a push that has not switched yet) is
    never touched; neither is anything that is not one of ours.
    """
    newest = version_number(current, prefix) if current else None
    if newest is None:
        return []
    ours = sorted((n, v) for v in versions if (n := version_number(v, prefix)) is not None and n < newest)
    newest_kept = {v for _, v in ours[len(ours) - keep:]} if keep > 0 else set()
    return [v for _, v in ours if v not in newest_kept]


@dataclass(frozen=True)
class Pace:
    """How gently to delete: the pause after each deletion, and a time budget per run.

    Each deletion holds Label Studio's write lock for a few milliseconds. A request of an
    annotator that reads and then writes while we hold it fails at once, and Label Studio
    retries it after a second: measured with one annotator working, 4 of 92 "next task"
    requests were held up that way at 20 deletions a second, none at 3 a second.
    """

    #: Seconds after each deletion while people label (a label event in the last ``active_window`` s).
    pause_active: float = 0.25
    #: ... and while nobody labels.
    pause_idle: float = 0.02
    active_window: float = 60.0
    #: Seconds one run may take; the rest waits for the next run.
    budget: float = 120.0


#: The cleanup job's pace.
CLEANUP_PACE = Pace()
#: The same pauses without a budget: for a retried push that must remove a partial import.
UNHURRIED = replace(CLEANUP_PACE, budget=math.inf)


@dataclass(frozen=True)
class CleanupResult:
    deleted: int
    finished: bool
    seconds: float
    #: Stopped because the budget ran out (not because others were waiting).
    out_of_time: bool = False


def delete_versions(
    client: LabelStudioClient,
    project: int,
    versions: list[str],
    current: str | None,
    pace: Pace,
    others_waiting: Callable[[], bool] = lambda: False,
    last_label_at: Callable[[], float | None] = lambda: None,
) -> CleanupResult:
    """Delete every prediction of ``versions``, one request each, paced by ``pace``.

    ``current`` is the project's model_version, which is never deleted. ``others_waiting``
    is asked before every deletion: a retrain or push requested meanwhile waits for one
    deletion at most. ``last_label_at`` (epoch seconds of the project's last
    label event) chooses the pause. ``finished`` is False when the run stopped early: call
    again later. Safe to repeat (a prediction already gone is skipped).
    """
    if current in versions:
        # it would leave tasks without a score of the version the Data Manager sorts by
        raise LabelStudioError(f"Refusing to delete prediction version {current!r} of project {project}: "
                               "it is the project's current model_version", retryable=False)
    started = time.monotonic()
    deleted = 0
    for version in versions:
        for page in client.prediction_ids(project, version):
            for prediction in page:
                elapsed = time.monotonic() - started
                if elapsed > pace.budget:
                    return CleanupResult(deleted, False, elapsed, out_of_time=True)
                if others_waiting():
                    return CleanupResult(deleted, False, elapsed)
                deleted += client.delete_prediction(prediction)
                labeled = last_label_at()
                active = labeled is not None and time.time() - labeled < pace.active_window
                time.sleep(pace.pause_active if active else pace.pause_idle)
        log.info("project %s: deleted prediction version %s", project, version)
    return CleanupResult(deleted, True, time.monotonic() - started)
