"""Our writes never make Label Studio fail anyone else's request (real Label Studio on SQLite).

An annotator asks for the next task and saves an annotation once a second, the way the
labeling screen does, through a campaign of 20 milestones: every milestone retrains, pushes a
new version to the whole pool, points the project at it, and cleans up the superseded ones.
Label Studio's SQLite takes one writer at a time and fails a request that waits over 5 s for
the lock with 500 "database is locked"; none of the annotator's requests may get a 5xx.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from backend.defaults import COLD_START_VERSION
from backend.labelstudio.client import LabelStudioClient
from backend.loop.state import ProjectState
from tests.conftest import ROOT, Backend, backend_env
from tests.ls_fixtures import choices_result, read_trec6
from tests.lsapi import LsApi, wait_until
from tests.processes import spawn, stop

POOL = 1000
EVERY = 5
MILESTONES = 20
#: Seconds no request of the annotator may take on a quiet machine; on a loaded one the
#: limit grows by twice the slowest of its requests before the campaign (see below).
SLOW = 3.0
pytestmark = pytest.mark.slow


@dataclass
class Annotator:
    """One person labeling in the UI: next task, then its annotation, once a second."""

    url: str
    token: str
    project: int
    gold: dict[int, str]
    calls: list[tuple[str, int, float]] = field(default_factory=list)
    labeled: int = 0
    halt: threading.Event = field(default_factory=threading.Event)
    session: requests.Session = field(default_factory=requests.Session)
    #: Seconds its slowest request took before the campaign: what the machine alone costs.
    quiet_slowest: float = 0.0

    def open_the_labeling_screen(self) -> None:
        """The annotator's first requests, before the campaign, as a person opening the project.

        Label Studio writes some rows lazily on a session's first requests (its organization's
        session-timeout policy, in a middleware outside its retry of locked requests); a person
        opens the labeling screen before labeling, so those writes happen here, not mid-push.
        """
        self.session.headers["Authorization"] = f"Token {self.token}"
        for _ in range(10):  # the second request carries the session cookie the first one set
            start = time.monotonic()
            answer = self.session.post(f"{self.url}/api/dm/actions?id=next_task&project={self.project}", json={},
                                       timeout=60)
            assert answer.status_code == 200, answer.text[:300]
            self.quiet_slowest = max(self.quiet_slowest, time.monotonic() - start)
            time.sleep(0.2)

    def run(self) -> None:
        session = self.session
        while not self.halt.is_set():
            answer = self._call(session, "next_task", "POST",
                                f"/api/dm/actions?id=next_task&project={self.project}", json={})
            task = answer.json() if answer is not None and answer.status_code == 200 else {}
            if isinstance(task.get("id"), int):
                saved = self._call(session, "annotate", "POST", f"/api/tasks/{task['id']}/annotations",
                                   json={"result": choices_result(self.gold[task["id"]])})
                self.labeled += saved is not None and saved.status_code == 201
            self.halt.wait(1.0)

    def _call(self, session: requests.Session, what: str, method: str, path: str,
              **kw: Any) -> requests.Response | None:
        start = time.monotonic()
        try:
            answer = session.request(method, self.url + path, timeout=60, **kw)
        except requests.RequestException:
            self.calls.append((what, 599, time.monotonic() - start))
            return None
        self.calls.append((what, answer.status_code, time.monotonic() - start))
        return answer

    @property
    def failures(self) -> list[tuple[str, int, float]]:
        return [c for c in self.calls if c[1] >= 500]


@pytest.fixture()
def campaign(label_studio: Any, ls_client: LabelStudioClient, redis_url: str,
             tmp_path: Path) -> Iterator[tuple[LsApi, int, Backend, redis.Redis, dict[int, str], Path]]:
    conn = redis.Redis.from_url(redis_url)
    conn.flushdb()
    texts, gold = read_trec6(POOL)
    project = ls_client.create_project("writes under an annotator", (ROOT / "label_config.xml").read_text())
    ids = ls_client.import_tasks(project, [{"data": {"text": t}} for t in texts])
    env = backend_env(redis_url, tmp_path, RETRAIN_EVERY=str(EVERY), KEEP_VERSIONS="0", JOB_RETRIES="2",
                      RETRY_BACKOFF="1", LOG_LEVEL="INFO")
    backend = Backend(env, tmp_path)
    with (tmp_path / "worker.log").open("wb") as log:
        worker = spawn([sys.executable, "-m", "backend.cli", "worker"], env=env, cwd=ROOT,
                       stdout=log, stderr=subprocess.STDOUT)
    try:
        yield (LsApi(label_studio.url, label_studio.token), project, backend, conn, dict(zip(ids, gold, strict=True)),
               tmp_path / "worker.log")
    finally:
        stop(worker)
        backend.stop()
        conn.flushdb()


def test_an_annotator_gets_no_5xx_through_twenty_milestones(
    campaign: tuple[LsApi, int, Backend, redis.Redis, dict[int, str], Path], label_studio: Any,
) -> None:
    ls, project, backend, conn, gold, worker_log = campaign
    state = ProjectState(conn)
    annotator = Annotator(ls.url, label_studio.token, project, gold)
    annotator.open_the_labeling_screen()
    ls.connect_backend(project, backend.url)
    wait_until(lambda: ls.project(project)["model_version"] == COLD_START_VERSION, 120, "the cold-start order")
    thread = threading.Thread(target=annotator.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: len(state.versions(project)) >= MILESTONES, 900, f"{MILESTONES} published versions",
                   interval=2.0)
    finally:
        annotator.halt.set()
        thread.join(timeout=90)
    assert annotator.labeled >= MILESTONES * EVERY
    assert not annotator.failures, annotator.failures
    # Label Studio retries a request that failed on the lock, after 1 s, 1.5 s, ...: a wait this
    # long means our writes held its database (deleting a version at once held it 4-6 s here);
    # a loaded machine adds its own slowness, measured before the campaign
    limit = SLOW + 2 * annotator.quiet_slowest
    slow = [c for c in annotator.calls if c[2] >= limit]
    assert not slow, (limit, slow)
    current = state.current_version(project)
    wait_until(lambda: ls.project(project)["model_version"] == current, 120, "the last version to be served")
    # the campaign pushed and switched versions; the cleanup deletes superseded ones (on a loaded
    # machine retrains and pushes may leave it no gap until labeling pauses)
    def deleted() -> int | None:
        return sum(int(n) for n in re.findall(r"cleanup deleted (\d+) predictions", worker_log.read_text())) or None

    wait_until(deleted, 180, "the cleanup to delete superseded predictions", interval=2.0)
