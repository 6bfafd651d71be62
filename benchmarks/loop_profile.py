"""Where a rescore's time goes: each of its steps timed alone against the real project.

Runs after the milestones, when no job runs, with the backend's own client and functions:
reading the unlabeled pool (with its texts, and its ids alone), scoring, each call of
the push, saving the scores in Redis, and the start-up every RQ job pays (the worker forks a
fresh work horse per job, which imports the job module).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import redis

from backend.defaults import MAX_PREDICTIONS_PER_REQUEST
from backend.errors import LabelStudioError
from backend.labelstudio.client import LabelStudioClient
from backend.loop import keys
from backend.loop.state import ProjectState
from backend.loop.store import ArtifactStore
from backend.settings import Settings
from backend.tasks import parse_label_config
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.scoring import predictions, score_counts, task_texts
from benchmarks.loop_data import LABEL_CONFIG
from benchmarks.loop_stack import REPO
from strategies import get_strategy

T = TypeVar("T")
PROFILE_VERSION = "ls-active-profile"
#: What a forked work horse imports before its first line of job code runs, measured in a
#: process that has already imported what the worker's parent has (the CLI and the worker).
_HORSE_IMPORT = (
    "import time, sys\n"
    "from backend.cli import build_parser\n"
    "build_parser()\n"
    "import backend.loop.worker, rq\n"
    "start = time.perf_counter()\n"
    "import backend.loop.jobs\n"
    "print(time.perf_counter() - start)\n"
)


@dataclass(frozen=True)
class Step:
    """Wall-clock seconds of one step, and the CPU seconds this process spent in it (client side)."""

    name: str
    seconds: float
    note: str = ""
    cpu: float = float("nan")


def _time(steps: list[Step], name: str, call: Callable[[], T], note: str = "") -> T:
    start, cpu = time.perf_counter(), time.process_time()
    out = call()
    steps.append(Step(name, time.perf_counter() - start, note, time.process_time() - cpu))
    return out


def horse_import_seconds(env: dict[str, str]) -> float:
    """Seconds a work horse spends importing ``backend.loop.jobs`` (its parent never imported it)."""
    done = subprocess.run([sys.executable, "-c", _HORSE_IMPORT], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=300, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def profile_rescore(conn: redis.Redis, ls_url: str, token: str, project: int, env: dict[str, str]) -> list[Step]:
    """Time each step of a rescore of ``project`` with its current version; leaves that version current."""
    settings = Settings.from_env(env)
    state = ProjectState(conn)
    version = state.current_version(project)
    if version is None:
        raise RuntimeError(f"project {project} has no version to profile")
    schema = parse_label_config(LABEL_CONFIG.read_text())
    config = state.config(project)
    strategy = get_strategy(config.strategy if config else settings.strategy).name
    steps: list[Step] = [Step("job start-up: import backend.loop.jobs in the forked work horse",
                              horse_import_seconds(env), "paid by every job (retrain and rescore)")]
    store = ArtifactStore(Path(env["MODEL_DIR"]))
    model = _time(steps, "load the model artifact", lambda: store.load(project, version))
    with LabelStudioClient(ls_url, token) as client:
        page = settings.page_size
        tasks = _time(steps, f"read the unlabeled pool, pages of {page}",
                      lambda: list(client.iter_tasks(project, labeled=False, page_size=page)))
        _time(steps, f"read the unlabeled pool's ids only (no data), pages of {page}", lambda: list(
            client.iter_tasks(project, labeled=False, page_size=page, include=["id"])))
        _time(steps, f"read the labeled tasks (the retrain's read), pages of {page}",
              lambda: list(client.iter_tasks(project, labeled=True, page_size=page)))
        counts = _time(steps, "featurize", lambda: featurize(task_texts(tasks, schema, settings.max_text_chars)))
        scored = _time(steps, f"score_counts ({strategy})", lambda: score_counts(
            counts, model, schema, strategy, batch_size=settings.retrain_every[0], seed=project))
        preds: list[dict[str, Any]] = _time(steps, "build predictions",
                                            lambda: predictions(schema, scored, PROFILE_VERSION))
        for task, pred in zip(tasks, preds, strict=True):
            pred["task"] = int(task["id"])
        _push_steps(steps, client, project, version, preds)
    _time(steps, "save the scores in Redis", lambda: state.save_scores(
        project, PROFILE_VERSION, {p["task"]: p["score"] for p in preds}))
    conn.delete(keys.scores(project, PROFILE_VERSION))
    return steps


def _push_steps(steps: list[Step], client: LabelStudioClient, project: int, version: str,
                preds: list[dict[str, Any]]) -> None:
    """The calls of the push, in its order; a throw-away version, then the real one made current again."""
    _time(steps, "push: GET the project (is the version already current?)", lambda: client.get_project(project))
    _time(steps, "push: list the prediction versions", lambda: client.list_prediction_versions(project))
    _time(steps, "push: import the predictions", lambda: client.import_predictions(project, preds),
          f"{len(preds):,} in requests of up to {MAX_PREDICTIONS_PER_REQUEST:,}")
    few = [{**p, "model_version": f"{PROFILE_VERSION}-few"} for p in preds[:10]]
    _time(steps, "push: import 10 predictions", lambda: client.import_predictions(project, few),
          "the fixed cost of one import request: Label Studio recounts every task of the project")
    if len(preds) > MAX_PREDICTIONS_PER_REQUEST:
        again = [{**p, "model_version": f"{PROFILE_VERSION}-one-request"} for p in preds]
        try:
            _time(steps, "push: import the predictions in ONE request", lambda: client.import_predictions(
                project, again, max_per_request=len(again)), "for comparison only")
        except LabelStudioError as exc:
            steps.append(Step("push: import the predictions in ONE request", float("nan"), f"failed: {exc}"))
    _time(steps, "push: set the project's model_version", lambda: client.set_model_version(project, PROFILE_VERSION),
          "Label Studio sends its PROJECT_UPDATED webhook inside this request")
    client.set_model_version(project, version)
