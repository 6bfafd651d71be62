"""Redis restarted empty, at three moments, in both credential set-ups (real Label Studio, real Redis).

A project of 300 trec6 questions is labeled by an annotator through two milestones; then the
backend's own Redis server is stopped, its files deleted and started again, empty: between two
milestones, while a retrain runs, and while a push runs (then it stays away for a few seconds,
as a restart on a loaded machine does, so the worker meets it gone while it tidies up).
``ls-active web`` and ``ls-active worker`` keep running throughout. After each loss the loop
must come back by itself at the next milestone: a new version trained on every label is
pushed, the cold-start order never comes back, no version number repeats, and no prediction
version is deleted in bulk. The recovery
times (milestone label to the new version serving) are written to ``LS_ACTIVE_RECOVERY_TIMES``
when it names a file (the figures in BENCHMARKS.md).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from rq.registry import StartedJobRegistry

from backend.defaults import COLD_START_VERSION
from backend.labelstudio.client import LabelStudioClient
from backend.loop.numbering import version_number
from backend.loop.redis_server import EmbeddedRedis
from backend.loop.store import ArtifactStore
from tests.conftest import ROOT, Backend, backend_env
from tests.ls_fixtures import TREC6_LABELS, LsProject, read_trec6
from tests.lsapi import LsApi, wait_until
from tests.processes import spawn, stop

POOL = 300
EVERY = 10
#: A paced cleanup deletes a few dozen predictions a second; Label Studio's bulk call drops a
#: whole version (300 here) in one request.
BULK_DROP = 60
#: Seconds Redis stays away during a push: longer than a job takes to fail on it, so the worker
#: meets it gone while it tidies up (as on a loaded machine, where a restart takes that long).
DOWN = 3.0
pytestmark = pytest.mark.slow


@dataclass
class Watch:
    """What Label Studio shows while the test runs: model_version changes and version sizes."""

    ls: LsApi
    project: int
    served: list[str] = field(default_factory=list)
    served_at: list[float] = field(default_factory=list)
    drops: list[tuple[str, int, float]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    stopped: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        sizes: dict[str, int] = {}
        seen_at = time.monotonic()
        while not self.stopped.wait(0.3):
            try:
                current = self.ls.project(self.project)["model_version"]
                now_sizes = {str(k): int(v) for k, v in
                             self.ls.call("GET", f"api/projects/{self.project}/model-versions/").items()}
            except (AssertionError, OSError, ValueError, KeyError, TypeError):
                continue
            now = time.monotonic()
            if not self.served or self.served[-1] != current:
                self.served.append(current)
                self.served_at.append(now)
            self.names.update(now_sizes)
            for version, count in sizes.items():
                drop = count - now_sizes.get(version, 0)
                if drop > max(BULK_DROP, 40 * (now - seen_at)):
                    self.drops.append((version, drop, now - seen_at))
            sizes, seen_at = now_sizes, now


@dataclass
class Rig:
    ls: LsApi
    project: LsProject
    server: EmbeddedRedis
    conn: redis.Redis
    backend: Backend
    env: dict[str, str]
    tmp: Path
    watch: Watch
    worker: subprocess.Popen[bytes] | None = None
    times: dict[str, float] = field(default_factory=dict)
    restarted_at: float = 0.0

    def start_worker(self) -> None:
        log = open(self.tmp / "worker.log", "ab")  # noqa: SIM115 - closed with the process
        self.worker = spawn([sys.executable, "-m", "backend.cli", "worker"], env=self.env, cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT)

    def restart_redis_empty(self, down: float = 0.0) -> None:
        """Stop Redis, delete its files, and start it again after ``down`` seconds: empty."""
        self.server.stop()
        shutil.rmtree(self.server.data_dir)
        time.sleep(down)  # a slow restart: jobs and the worker meet a Redis that is not there
        self.server.start()  # empty: its files are gone (the backend's processes write again at once)
        self.restarted_at = time.monotonic()

    def serving(self) -> str:
        return str(self.ls.project(self.project.id)["model_version"])

    def labels(self) -> int:
        return sum(1 for t in self.ls.tasks(self.project.id) if t["total_annotations"])

    def annotate(self, n: int) -> float:
        """Label ``n`` tasks in the order Label Studio serves them; return when the last was saved."""
        for _ in range(n):
            self.project.annotate(self.ls.next_task(self.project.id)["id"])
        return time.monotonic()

    def to_milestone(self) -> float:
        return self.annotate(EVERY - self.labels() % EVERY)

    def next_version(self, after: str, timeout: float = 120) -> str:
        """Wait until Label Studio serves a version numbered above ``after`` trained on every label."""
        floor, labels = version_number(after) or 0, self.labels()
        store = ArtifactStore(Path(self.env["MODEL_DIR"]))

        def fresh() -> str | None:
            version = self.serving()
            if (version_number(version) or 0) <= floor:
                return None
            return version if store.meta(self.project.id, version).get("n_labels") == labels else None

        try:
            return wait_until(fresh, timeout, f"a version after {after} trained on all {labels} labels", interval=0.2)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nserved: {self.watch.served}\n{self.worker_story()}") from None

    def worker_story(self, lines: int = 60) -> str:
        """The worker log's last job lines and every warning and error: what a failure needs explained."""
        text = (self.tmp / "worker.log").read_text(errors="replace").splitlines()
        told = [line for line in text if " WARNING " in line or " ERROR " in line
                or "rq.worker" in line or "backend.loop" in line]
        return "worker log:\n" + "\n".join(line[:300] for line in told[-lines:])

    def started(self, queue: str) -> bool:
        return bool(StartedJobRegistry(queue, connection=self.conn).get_job_ids(cleanup=False))

    def recovers(self, name: str, lose: Callable[[float], None]) -> None:
        """Reach a milestone, let ``lose`` restart Redis, then check the next milestone recovers."""
        before = self.serving()
        lose(self.to_milestone())
        # the loss may or may not cost that milestone's version; the next milestone's must come
        labeled = self.to_milestone()
        self.next_version(before)
        self.times[name] = time.monotonic() - labeled
        after = wait_until(lambda: [t for v, t in zip(self.watch.served, self.watch.served_at, strict=True)
                                    if t > self.restarted_at and version_number(v)], 10, "the watcher to see it")
        self.times[f"{name}, from the restart"] = after[0] - self.restarted_at


CREDENTIALS = ["setup-token", "environment"]


@pytest.fixture(scope="module", params=CREDENTIALS)
def rig(request: pytest.FixtureRequest, label_studio: Any, ls_client: LabelStudioClient,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    tmp = tmp_path_factory.mktemp(f"redis-loss-{request.param}")
    server = EmbeddedRedis(tmp / "redis")
    url = server.start()
    extra = ({"LABEL_STUDIO_URL": label_studio.url, "LABEL_STUDIO_API_KEY": label_studio.token}
             if request.param == "environment" else {})
    env = backend_env(url, tmp, RETRAIN_EVERY=str(EVERY), KEEP_VERSIONS="1", JOB_RETRIES="2",
                      RETRY_BACKOFF="1", LOG_LEVEL="INFO", **extra)
    texts, gold = read_trec6(POOL)
    project_id = ls_client.create_project(f"redis loss {request.param}", (ROOT / "label_config.xml").read_text())
    ids = ls_client.import_tasks(project_id, [{"data": {"text": t}} for t in texts])
    ls = LsApi(label_studio.url, label_studio.token)
    watch = Watch(ls, project_id)
    rig = Rig(ls, LsProject(ls_client, project_id, ids, texts, gold, TREC6_LABELS), server,
              redis.Redis.from_url(url), Backend(env, tmp), env, tmp, watch)
    rig.start_worker()
    thread = threading.Thread(target=watch.run, daemon=True)
    thread.start()
    try:
        yield rig
    finally:
        watch.stopped.set()
        thread.join(10)
        if rig.worker:
            stop(rig.worker)
        rig.backend.stop()
        server.stop()
        _record(request.param, rig.times)


def _record(setup: str, times: dict[str, float]) -> None:
    path = os.environ.get("LS_ACTIVE_RECOVERY_TIMES")
    print(f"\nrecovery times ({setup}): " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))
    if path:
        data = json.loads(Path(path).read_text()) if Path(path).exists() else {}
        data[setup] = times
        Path(path).write_text(json.dumps(data, indent=2))


def test_the_loop_runs_before_any_loss(rig: Rig) -> None:
    rig.ls.connect_backend(rig.project.id, rig.backend.url)
    wait_until(lambda: rig.serving() == COLD_START_VERSION, 120, "the cold-start order")
    version = COLD_START_VERSION
    for _ in range(2):
        labeled = rig.to_milestone()
        version = rig.next_version(version)
        rig.times["a milestone, Redis whole"] = time.monotonic() - labeled


def test_redis_lost_between_milestones(rig: Rig) -> None:
    def lose(_: float) -> None:
        rig.next_version(rig.serving())  # that milestone's version is out: the loss falls between two
        rig.annotate(EVERY // 2)
        rig.restart_redis_empty()
        rig.ls.call("GET", f"api/ml?project={rig.project.id}")  # Label Studio calls /health and /setup again

    rig.recovers("between milestones", lose)


def test_redis_lost_during_a_retrain(rig: Rig) -> None:
    def lose(_: float) -> None:
        wait_until(lambda: rig.started("ls-active-train"), 60, "the retrain to start", interval=0.02)
        rig.restart_redis_empty()

    rig.recovers("during a retrain", lose)


def test_redis_lost_during_a_push(rig: Rig) -> None:
    def lose(_: float) -> None:
        wait_until(lambda: rig.started("ls-active-score"), 90, "the push to start", interval=0.02)
        rig.restart_redis_empty(down=DOWN)

    rig.recovers("during a push", lose)
    assert rig.worker is not None and rig.worker.poll() is None, "the worker process ended on the lost Redis"


def test_nothing_was_lost_on_the_way(rig: Rig) -> None:
    time.sleep(1.0)  # the watcher's last look
    served = rig.watch.served
    trained = next(i for i, v in enumerate(served) if version_number(v) is not None)
    assert COLD_START_VERSION in served[:trained] and COLD_START_VERSION not in served[trained:], served
    numbers = [n for v in served if (n := version_number(v)) is not None]
    assert numbers == sorted(set(numbers)), f"a version number came round again: {served}"
    ours = [n for v in rig.watch.names if (n := version_number(v)) is not None]
    assert len(ours) == len(set(ours)), f"two versions with one number: {sorted(rig.watch.names)}"
    assert not rig.watch.drops, f"predictions deleted in bulk: {rig.watch.drops}"
    kept = Path(rig.env["MODEL_DIR"]) / f"project-{rig.project.id}" / "config.json"
    assert kept.stat().st_mode & 0o777 == 0o600
    token = rig.ls.session.headers["Authorization"].split()[-1]
    for log in rig.tmp.glob("*.log"):
        assert token not in log.read_text(errors="replace"), f"the token is in {log.name}"
