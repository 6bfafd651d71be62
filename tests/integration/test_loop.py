"""The active-learning loop end to end: real Label Studio, real Redis, real RQ worker processes.

One project of 1,200 trec6 questions is connected once; the tests then run in order as an
annotation campaign would: cold start, labeling rounds, a burst, the Start Training button,
new tasks, a worker killed mid-retrain and mid-push, Label Studio going down during a rescore,
and a storm of a thousand labels on a project of its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry

from backend.defaults import COLD_START_VERSION
from backend.labelstudio.client import LabelStudioClient
from backend.loop.scheduling import SERIALIZER, Scheduler, slot_key
from backend.loop.state import ProjectState
from backend.loop.store import ArtifactStore
from backend.loop.training import TRAINING_FILE
from backend.settings import Settings
from tests.conftest import ROOT, Backend, backend_env
from tests.figures import record_figure
from tests.ls_fixtures import TREC6_LABELS, LsProject, read_trec6
from tests.lsapi import LsApi, wait_until
from tests.processes import spawn, stop

POOL = 1200
EVERY = 20
pytestmark = pytest.mark.slow


@dataclass
class Loop:
    ls: LsApi
    label_studio: Any
    project: LsProject
    backend: Backend
    conn: redis.Redis
    env: dict[str, str]
    worker: subprocess.Popen[bytes] | None = None
    tmp: Path | None = None

    def start_worker(self, **overrides: str) -> None:
        log = open(self.tmp / f"worker-{time.time():.0f}.log", "ab")  # type: ignore[operator]  # noqa: SIM115
        self.worker = spawn([sys.executable, "-m", "backend.cli", "worker"], env={**self.env, **overrides}, cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT)

    def worker_logs(self) -> str:
        assert self.tmp is not None
        return "".join(p.read_text(errors="replace") for p in sorted(self.tmp.glob("worker-*.log")))

    def kill_worker(self) -> None:
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait()

    @property
    def state(self) -> ProjectState:
        return ProjectState(self.conn)

    def versions(self) -> list[str]:
        return [r["version"] for r in self.state.versions(self.project.id)]

    def quiet(self, project: int | None = None) -> bool:
        """No job waits or runs (the slow cleanup of old versions aside), and Label Studio
        serves the backend's current version."""
        project = self.project.id if project is None else project
        if Scheduler(Settings.from_env(self.env), self.conn, self.state).work_in_flight():
            return False
        slot = self.conn.hget(slot_key(project), "status")
        if slot not in (None, b"idle"):
            return False
        return self.ls.project(project)["model_version"] == self.state.current_version(project)

    def settle(self, timeout: float = 240, project: int | None = None) -> str:
        project = self.project.id if project is None else project
        wait_until(lambda: self.quiet(project), timeout, "the loop to settle", interval=1.0)
        return str(self.state.current_version(project))

    def running_job(self, queue: str, timeout: float = 60) -> tuple[str, int]:
        """The id of the job that starts next on ``queue`` and the pid of its work horse."""
        started = StartedJobRegistry(queue, connection=self.conn)
        (job_id,) = wait_until(lambda: started.get_job_ids(cleanup=False), timeout, f"a job to start on {queue}",
                               interval=0.01)
        job = Queue(queue, connection=self.conn, serializer=SERIALIZER).fetch_job(job_id)
        assert job is not None
        horse = wait_until(lambda: job.get_meta(refresh=True).get("pid"), 30, "the job to record its process", 0.01)
        return job_id, int(horse)

    def annotate_next(self, n: int) -> list[int]:
        """An annotator labels ``n`` tasks in the order Label Studio serves them."""
        done = []
        for _ in range(n):
            task = self.ls.next_task(self.project.id)
            self.project.annotate(task["id"])
            done.append(task["id"])
        return done

    def check_pool(self, version: str) -> float:
        """Every unlabeled task has one prediction of ``version``; return their accuracy."""
        unlabeled = [t["id"] for t in self.ls.tasks(self.project.id) if not t["total_annotations"]]
        preds = self.ls.predictions(self.project.id)
        gold = self.project.gold_by_task
        correct = total = 0
        for task_id in unlabeled:
            mine = [p for p in preds.get(task_id, []) if p["model_version"] == version]
            assert len(mine) == 1, f"task {task_id} has {len(mine)} predictions of {version}"
            assert 0.0 <= mine[0]["score"] <= 1.0
            if task_id in gold:  # tasks imported later have no known label
                total += 1
                correct += bool(mine[0]["result"]) and mine[0]["result"][0]["value"]["choices"][0] == gold[task_id]
        order = [t["predictions_score"] for t in self.ls.unlabeled_by_score(self.project.id)]
        assert len(order) == len(unlabeled), "the Data Manager lists another set of unlabeled tasks"
        assert order == sorted(order), "Data Manager order is not ascending"
        return correct / total


@pytest.fixture(scope="module")
def loop(label_studio: Any, pool_project: LsProject, redis_url: str, tmp_path_factory: pytest.TempPathFactory,
         ) -> Iterator[Loop]:
    conn = redis.Redis.from_url(redis_url)
    conn.flushdb()
    tmp = tmp_path_factory.mktemp("loop")
    env = backend_env(redis_url, tmp, RETRAIN_EVERY=str(EVERY), JOB_RETRIES="2", RETRY_BACKOFF="1",
                      LOG_LEVEL="INFO", KEEP_VERSIONS="1")
    backend = Backend(env, tmp)
    loop = Loop(LsApi(label_studio.url, label_studio.token), label_studio, pool_project, backend, conn, env, tmp=tmp)
    loop.start_worker()
    try:
        yield loop
    finally:
        if loop.worker:
            stop(loop.worker)
        backend.stop()
        conn.flushdb()


@pytest.fixture(scope="module")
def pool_project(ls_client: LabelStudioClient) -> LsProject:
    """One project for the whole campaign (module scope: the tests run in order on it)."""
    texts, gold = read_trec6(POOL)
    config = (ROOT / "label_config.xml").read_text()
    project = ls_client.create_project("active learning loop", config)
    ids = ls_client.import_tasks(project, [{"data": {"text": t}} for t in texts])
    return LsProject(ls_client, project, ids, texts, gold, TREC6_LABELS)


def test_connecting_orders_the_pool_before_any_label(loop: Loop) -> None:
    ml = loop.ls.connect_backend(loop.project.id, loop.backend.url)
    assert ml["state"] == "CO"
    version = loop.settle()
    assert version == COLD_START_VERSION
    loop.check_pool(COLD_START_VERSION)
    project = loop.ls.project(loop.project.id)
    assert project["sampling"] == "Uncertainty sampling"
    views = loop.ls.call("GET", f"api/dm/views?project={loop.project.id}")
    assert [v["data"]["title"] for v in views].count("Active learning queue") == 1


def test_each_milestone_publishes_a_better_ranking(loop: Loop) -> None:
    accuracies = []
    seen = set(loop.versions())
    for size in (EVERY, 2 * EVERY, 4 * EVERY):
        loop.annotate_next(size)
        version = loop.settle()
        assert version not in seen, "no new model_version after a milestone"
        seen.add(version)
        assert loop.ls.project(loop.project.id)["model_version"] == version
        accuracies.append(loop.check_pool(version))
    assert accuracies[-1] > accuracies[0] + 0.05, accuracies
    # the counters saw every label event
    assert loop.state.counters(loop.project.id)["label_events"] == 7 * EVERY


def test_the_report_explains_each_version(loop: Loop, tmp_path: Path) -> None:
    version = loop.settle()
    answer = requests.get(f"{loop.backend.url}/report/{loop.project.id}", timeout=30)
    assert answer.status_code == 200
    assert answer.headers["X-Model-Version"] == version
    page = answer.text
    for label in TREC6_LABELS:
        assert label in page
    metrics = requests.get(f"{loop.backend.url}/metrics?project={loop.project.id}", timeout=30).json()
    mine = metrics["projects"][str(loop.project.id)]
    assert mine["report_version"] == version
    report = mine["report"]
    assert report["evaluation"]["status"] == "ok" and 0.2 < report["evaluation"]["accuracy"] <= 1.0
    labels_axis = [p[0] for p in report["learning_curve"]["cv_points"]]
    assert len(labels_axis) >= 3 and labels_axis == sorted(labels_axis)
    assert report["stopping"]["stop"] is False and report["stopping"]["message"]
    # the audit sample: drawn into the served order, labeled in Label Studio, counted by the report
    # A label saved after the retrain read the labels (the annotator goes on meanwhile) is not
    # the version's until the next milestone: the report counts the audit tasks it trained on.
    drawn = loop.state.audit_tasks(loop.project.id)
    labeled = {t["id"] for t in loop.ls.tasks(loop.project.id) if t["total_annotations"]}
    settings = Settings.from_env(loop.env)
    training = ArtifactStore(settings.model_dir).read_json(loop.project.id, version, TRAINING_FILE) or {}
    trained = {int(t) for t in training.get("task_ids") or []}
    assert trained and trained <= labeled and len(labeled - trained) < EVERY, (len(trained), len(labeled))
    counted = set(drawn) & trained
    assert len(drawn) >= 6 and len(counted) >= 4, (drawn, len(labeled))  # the head is served first
    assert report["estimate"]["n_audit"] == len(counted) and report["estimate"]["method"] == "audit"
    assert report["estimate"]["accuracy"] is None and report["estimate"]["needed"] == 30 - len(counted)
    assert report["stop"]["verdict"] == "continue" and len(report["stop"]["reasons"]) == 2
    assert any(r.get("audit_draw") for r in mine["versions"])
    assert f"the estimate needs {30 - len(counted)} more audit label(s)" in page
    assert {r["version"] for r in mine["versions"] if r.get("accuracy") is not None} >= {version}
    # the page as a browser paints it: the plot decodes and its accuracy line is visible
    from tests.reports.test_page_browser import PROBE, chromium, chromium_binary

    binary = chromium_binary()
    saved = tmp_path / "report.html"
    saved.write_text(page.replace("</body>", PROBE), encoding="utf-8")
    dom = chromium(binary, tmp_path / "p1", saved, "--virtual-time-budget=5000", "--dump-dom")
    assert 'data-probe="true,' in dom


def test_a_burst_of_fifty_labels_retrains_at_most_twice(loop: Loop) -> None:
    before = len(loop.versions())
    tasks = [t["id"] for t in loop.ls.tasks(loop.project.id) if not t["total_annotations"]][:50]
    for task_id in tasks:
        loop.project.annotate(task_id)
    version = loop.settle()
    new = len(loop.versions()) - before
    assert 1 <= new <= 2, new
    loop.check_pool(version)


def test_start_training_retrains_once(loop: Loop) -> None:
    before = loop.versions()
    (ml,) = loop.ls.call("GET", f"api/ml?project={loop.project.id}")
    loop.ls.call("POST", f"api/ml/{ml['id']}/train", json={})
    version = loop.settle()
    assert len(loop.versions()) == len(before) + 1
    assert version not in before


def test_new_tasks_are_scored_with_the_current_model(loop: Loop) -> None:
    version = loop.settle()
    new_ids = loop.project.client.import_tasks(loop.project.id, [{"data": {"text": f"Who wrote book number {i} ?"}}
                                                                  for i in range(15)])

    def scored() -> bool:
        preds = loop.ls.predictions(loop.project.id)
        return all(len([p for p in preds.get(t, []) if p["model_version"] == version]) == 1 for t in new_ids)

    wait_until(scored, 60, "the new tasks' predictions")


def test_a_killed_worker_leaves_the_old_version_serving_and_the_job_retried(loop: Loop) -> None:
    before = loop.settle()
    (ml,) = loop.ls.call("GET", f"api/ml?project={loop.project.id}")
    loop.ls.call("POST", f"api/ml/{ml['id']}/train", json={})
    _, horse = loop.running_job("ls-active-train")
    os.kill(horse, signal.SIGKILL)  # a crash takes the work horse down with its worker
    loop.kill_worker()
    assert loop.state.current_version(loop.project.id) == before
    answer = requests.post(loop.backend.url + "/predict", timeout=30,
                           json={"project": loop.project.id, "tasks": [{"id": 1, "data": {"text": "Who is it ?"}}]})
    assert answer.json()["results"][0]["model_version"] == before
    loop.start_worker()
    version = loop.settle()
    assert version != before
    loop.check_pool(version)


def test_a_worker_killed_mid_push_leaves_the_old_version_serving_and_the_push_redone(loop: Loop) -> None:
    before = loop.settle()
    loop.kill_worker()
    loop.start_worker(PUSH_BATCH="100")  # a push in a dozen requests: long enough to be cut in the middle
    (ml,) = loop.ls.call("GET", f"api/ml?project={loop.project.id}")
    loop.ls.call("POST", f"api/ml/{ml['id']}/train", json={})
    _, horse = loop.running_job("ls-active-score", timeout=120)
    new = str(loop.state.current_version(loop.project.id))
    assert new != before, "the rescore runs for the version the retrain published"

    def partly_pushed() -> int | None:
        count = loop.project.client.list_prediction_versions(loop.project.id).get(new, 0)
        return count or None

    wait_until(partly_pushed, 120, "the push to begin", interval=0.05)
    os.kill(horse, signal.SIGKILL)
    loop.kill_worker()
    unlabeled = len([t for t in loop.ls.tasks(loop.project.id) if not t["total_annotations"]])
    assert 0 < loop.project.client.list_prediction_versions(loop.project.id)[new] < unlabeled
    assert loop.ls.project(loop.project.id)["model_version"] == before, "a half-pushed version was switched on"
    loop.check_pool(before)  # annotators keep the old, complete ranking
    killed_at = time.monotonic()
    loop.start_worker()
    assert loop.settle(timeout=400) == new
    loop.check_pool(new)  # the partial import was replaced: exactly one prediction per task
    record_figure("push_killed_recovery_seconds", time.monotonic() - killed_at)


def test_label_studio_down_during_a_rescore_retries_then_fails_clearly(loop: Loop) -> None:
    version = loop.settle()
    if not hasattr(loop.label_studio, "stop"):
        pytest.fail("this test stops and restarts Label Studio: run it with the local Label Studio")
    loop.label_studio.stop()
    try:
        settings = Settings.from_env(loop.env)
        job_id = Scheduler(settings, loop.conn, loop.state).enqueue_rescore(loop.project.id, version)
        failed = FailedJobRegistry("ls-active-score", connection=loop.conn)
        wait_until(lambda: job_id in failed.get_job_ids(), 60, "the rescore to fail after its retries")
        health = requests.get(loop.backend.url + "/health", timeout=5).json()
        error = health["projects"][str(loop.project.id)]["last_error"]
        assert "unreachable" in error and loop.label_studio.url in error
        job = Queue("ls-active-score", connection=loop.conn, serializer=SERIALIZER).fetch_job(job_id)
        assert job is not None and job.retries_left == 0
        logged = [line for line in loop.worker_logs().splitlines() if f"rescore with {version} failed" in line]
        assert logged and "unreachable" in logged[-1] and loop.label_studio.url in logged[-1], logged[-3:]
    finally:
        loop.label_studio.start()
    assert loop.ls.project(loop.project.id)["model_version"] == version
    loop.check_pool(version)


STORM = 1000


def _retrains_in_flight(conn: redis.Redis, project: int) -> int:
    """Retrain jobs of ``project`` waiting, scheduled for a retry or running right now."""
    queue = Queue("ls-active-train", connection=conn, serializer=SERIALIZER)
    ids = (queue.get_job_ids() + queue.scheduled_job_registry.get_job_ids()
           + queue.started_job_registry.get_job_ids(cleanup=False))
    jobs = Job.fetch_many(ids, connection=conn, serializer=SERIALIZER)
    return sum(1 for job in jobs if job is not None and job.func_name.endswith(".retrain")
               and job.args and int(job.args[0]) == project)


def test_a_storm_of_a_thousand_labels_keeps_two_retrains_at_most_and_uses_every_label(loop: Loop) -> None:
    """Many annotators at once: as fast as Label Studio takes annotations, on a project of its own."""
    client = loop.project.client
    texts, gold = read_trec6(STORM + 100)
    project = client.create_project("label storm", (ROOT / "label_config.xml").read_text())
    ids = client.import_tasks(project, [{"data": {"text": t}} for t in texts])
    storm = LsProject(client, project, ids, texts, gold, TREC6_LABELS)
    assert loop.ls.connect_backend(project, loop.backend.url)["state"] == "CO"
    loop.settle(project=project)
    first_versions = len(loop.state.versions(project))

    peak, sampling = [0], threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            peak[0] = max(peak[0], _retrains_in_flight(loop.conn, project))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=8) as annotators:
            list(annotators.map(storm.annotate, ids[:STORM]))  # raises if Label Studio refused one
        stormed = time.monotonic() - started
        final = loop.settle(timeout=400, project=project)
        settled = time.monotonic() - started - stormed
    finally:
        sampling.set()
        sampler.join(5)
    assert 1 <= peak[0] <= 2, f"{peak[0]} retrains of one project in flight at once"
    labeled = sum(1 for t in loop.ls.tasks(project) if t["total_annotations"])
    assert labeled == STORM
    (record,) = [r for r in loop.state.versions(project) if r["version"] == final]
    assert record["n_labels"] == STORM, "the model after the storm did not use every label"
    retrains = len(loop.state.versions(project)) - first_versions
    record_figure("storm_events_per_second", STORM / stormed, labels=STORM, seconds=round(stormed, 1))
    record_figure("storm_retrains", retrains, peak_in_flight=peak[0])
    record_figure("storm_last_label_to_fresh_queue_seconds", settled)
