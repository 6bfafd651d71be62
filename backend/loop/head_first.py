"""The head of the queue first: a few predictions served within seconds, then the rest of the pool.

Annotators only ever see the first tasks of the order. A bulk import costs Label Studio 1.23
a recount of every task of the project, whatever it carries (11 s at 10,000 tasks even for
10 predictions), while ``POST /api/predictions`` saves and counts only its own task (tens of
milliseconds at any project size; measured in ``docs/label-studio-writes.md``). So a push of
a large pool goes in two steps:

1. the head (``HEAD_TASKS``, by default the next two milestones' worth), one prediction per
   request, then the project's ``model_version`` switched to the new version. From that
   moment Uncertainty sampling serves only tasks with a prediction of the current version,
   lowest score first, and the queue tab sorts tasks without one last: the head is served
   first, in order;
2. the rest in one bulk import, which brings the whole pool up to date.

Safe to retry at every point. Redis records each step once it completed; without a record
(Redis lost, an answer lost) what Label Studio holds decides: a project already switched to
the version has its head, and a version whose prediction count is neither the head's nor the
whole push's is repaired task by task (extra predictions deleted one at a time, missing ones
imported), so every task ends with exactly one prediction of the version.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from backend.labelstudio.client import LabelStudioClient
from backend.loop.cleanup import UNHURRIED, delete_versions
from backend.loop.state import ProjectState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeadFirst:
    """What a head-first push did: predictions created per step and when the head was served."""

    head: int
    rest: int
    #: Epoch seconds when the head was served (``model_version`` switched), or already was.
    head_at: float
    head_seconds: float
    rest_seconds: float


def split_head(preds: Sequence[dict[str, Any]], size: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``size`` lowest-scored predictions (served first) and the others, in task order."""
    if size < 0:
        raise ValueError(f"the head size must not be negative; got {size}")
    order = sorted(range(len(preds)), key=lambda i: (float(preds[i]["score"]), int(preds[i]["task"])))
    chosen = set(order[:size])
    return [preds[i] for i in order[:size]], [p for i, p in enumerate(preds) if i not in chosen]


def _head_key(version: str) -> str:
    return f"{version}:head"


def push_head(client: LabelStudioClient, state: ProjectState, project: int, version: str,
              head: list[dict[str, Any]], current: str | None, bulk: bool = False,
              newest: Callable[[], bool] = lambda: True) -> int:
    """Create the head's predictions and switch the project to ``version``.

    One request per prediction, or with ``bulk`` one import: the cheapest way when Label
    Studio runs its memory-efficient import (``HEAD_BULK``), which recounts only the tasks
    written. ``current`` is the project's ``model_version`` as read before: already
    ``version`` means the head went in before (its switch comes last). Returns how many
    were created. ``newest`` is asked right before the switch, as in
    :func:`backend.loop.rescoring.push`: False leaves the project on what it serves.
    """
    if state.pushed(project, _head_key(version)) is not None or current == version:
        state.mark_pushed(project, _head_key(version), len(head))
        return 0
    if client.list_prediction_versions(project).get(version, 0):
        # a head cut short: its project is not switched yet, so its predictions may go
        delete_versions(client, project, [version], current, UNHURRIED)
    if bulk:
        client.import_predictions(project, head)
    else:
        for pred in head:
            client.create_prediction(project, pred)
    if newest():
        client.set_model_version(project, version)
    state.mark_pushed(project, _head_key(version), len(head))
    return len(head)


def _repair(client: LabelStudioClient, project: int, version: str, preds: list[dict[str, Any]],
            batch: int) -> int:
    """Make every task of ``preds`` hold exactly one prediction of ``version``; returns how many were created."""
    found: dict[int, list[int]] = {}
    for task, prediction in client.version_predictions(project, version):
        found.setdefault(task, []).append(prediction)
    extra = [p for ids in found.values() for p in sorted(ids)[1:]]
    for prediction in extra:
        client.delete_prediction(prediction)
        time.sleep(UNHURRIED.pause_active)
    missing = [p for p in preds if int(p["task"]) not in found]
    log.warning("project %s: repaired %s: %d extra predictions deleted, %d missing imported", project, version,
                len(extra), len(missing))
    return client.import_predictions(project, missing, max_per_request=batch) if missing else 0


def push_rest(client: LabelStudioClient, state: ProjectState, project: int, version: str,
              preds: list[dict[str, Any]], rest: list[dict[str, Any]], batch: int) -> int:
    """After the head: the ``rest`` of ``preds`` in one bulk import, or a repair; how many were created."""
    if state.pushed(project, version) == len(preds):
        return 0
    have = client.list_prediction_versions(project).get(version, 0)
    made = 0
    if have == len(preds) - len(rest):
        made = client.import_predictions(project, rest, max_per_request=batch) if rest else 0
    elif have != len(preds):
        made = _repair(client, project, version, preds, batch)
    state.mark_pushed(project, version, len(preds))
    return made


def push_head_first(client: LabelStudioClient, state: ProjectState, project: int, version: str,
                    preds: list[dict[str, Any]], head_size: int, batch: int, bulk: bool = False,
                    newest: Callable[[], bool] = lambda: True) -> HeadFirst:
    """Push ``preds`` of ``version``: the head served first, then the rest (see the module docstring)."""
    current = client.project_fields(project, "model_version").get("model_version")
    head, rest = split_head(preds, head_size)
    t0 = time.perf_counter()
    made_head = push_head(client, state, project, version, head, current, bulk, newest)
    head_at, head_s = time.time(), time.perf_counter() - t0
    t0 = time.perf_counter()
    # a version overtaken during its head is not served: the rest of its pool would be wasted work
    made_rest = push_rest(client, state, project, version, preds, rest, batch) if newest() else 0
    return HeadFirst(made_head, made_rest, head_at, head_s, time.perf_counter() - t0)
