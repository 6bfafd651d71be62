"""Which of our Label Studio calls hold its SQLite database, and for how long (issue: locks).

For each pool size, a fresh project gets the calls a retrain, a rescore and a cleanup make,
one at a time, while :class:`~benchmarks.sqlite_probe.LockProbe` watches the database and an
annotator saves one annotation and asks for its next task every second. Printed per call: its
duration, the longest and total time another request could not write, commit or read, and the
5xx the annotator got meanwhile. Label Studio fails a request that waits over 5 s for a lock.

    python benchmarks/ls_locks.py --sizes 1000,3000,10000
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import requests

from backend.labelstudio.client import LabelStudioClient
from backend.labelstudio.local import LocalLabelStudio
from backend.loop.cleanup import CLEANUP_PACE, delete_versions
from benchmarks.loop_data import LABEL_CONFIG, expanded
from benchmarks.loop_project import LsHttp, choice
from benchmarks.sqlite_probe import Blocked, LockProbe

#: Tasks the annotator labels meanwhile (one a second), outside the pool being scored.
CANARIES = 600
#: Predictions deleted one at a time, per way of doing it.
ONE_BY_ONE = 300
LABELS = ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")


@dataclass
class Annotator:
    """Saves one annotation and asks for the next task once a second, as a person would."""

    url: str
    token: str
    project: int
    tasks: list[int]
    gold: dict[int, str]
    statuses: list[tuple[float, str, int, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {self.token}"
        pending = list(self.tasks)
        while not self._stop.is_set() and pending:
            task = pending.pop()
            self._call(session, "annotate", "POST", f"/api/tasks/{task}/annotations",
                       json={"result": choice(self.gold[task])})
            self._call(session, "next_task", "POST", f"/api/dm/actions?id=next_task&project={self.project}",
                       json={})
            self._stop.wait(1.0)

    def _call(self, session: requests.Session, what: str, method: str, path: str, **kw: Any) -> None:
        start = time.time()
        try:
            status = session.request(method, self.url + path, timeout=60, **kw).status_code
        except requests.RequestException:
            status = 599
        self.statuses.append((start, what, status, time.time() - start))

    def during(self, start: float, end: float) -> list[tuple[float, str, int, float]]:
        """The calls that were under way at some moment between ``start`` and ``end``."""
        return [c for c in self.statuses if c[0] <= end and c[0] + c[3] >= start]

    def errors(self, start: float, end: float) -> int:
        return sum(1 for _, _, status, _ in self.during(start, end) if status >= 500)

    def slowest(self, start: float, end: float) -> float:
        return max((c[3] for c in self.during(start, end)), default=0.0)


@dataclass(frozen=True)
class Measured:
    size: int
    call: str
    seconds: float
    blocked: Blocked
    errors: int
    slowest: float

    def row(self) -> str:
        return (f"| {self.size:>6} | {self.call:<34} | {self.seconds:7.2f} | {self.blocked.write_max:6.2f} | "
                f"{self.blocked.commit_max:6.2f} | {self.blocked.read_max:6.2f} | {self.blocked.commit_total:6.2f} | "
                f"{self.slowest:6.2f} | {self.errors:>3} |")


HEADER = ("| tasks | call | s | write shut, max s | commit shut, max s | read shut, max s | "
          "commit shut, total s | annotator's slowest s | 5xx |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|")


def _predictions(ids: list[int], version: str, rng: np.random.Generator) -> list[dict[str, Any]]:
    scores = rng.random(len(ids))
    return [{"task": t, "score": float(s), "model_version": version, "result": choice(LABELS[i % len(LABELS)])}
            for i, (t, s) in enumerate(zip(ids, scores, strict=True))]


def _cleanup(client: LabelStudioClient, project: int, limit: int, labeling: bool) -> None:
    """What the cleanup job does to version v2, stopped after ``limit`` deletions."""
    asked = []

    def enough() -> bool:
        asked.append(1)
        return len(asked) > limit

    last_label = (lambda: time.time()) if labeling else (lambda: None)
    delete_versions(client, project, ["v2"], "v3", CLEANUP_PACE, enough, last_label)


def measure_size(ls: LocalLabelStudio, size: int, quiet_s: float) -> list[Measured]:
    rows = expanded(size + CANARIES)
    out: list[Measured] = []
    rng = np.random.default_rng(size)
    bulk = LsHttp(ls.url, ls.token)
    with LabelStudioClient(ls.url, ls.token) as client:
        project = client.create_project(f"locks {size}", LABEL_CONFIG.read_text())
        ids: list[int] = []
        for start in range(0, len(rows.texts), 5000):
            ids += client.import_tasks(project, [{"data": {"text": t}} for t in rows.texts[start:start + 5000]])
        gold = dict(zip(ids, rows.labels, strict=True))
        canary, pool = ids[:CANARIES], ids[CANARIES:]
        # 100 labeled tasks, as after a few milestones
        for task in pool[:100]:
            client.create_annotation(task, choice(gold[task]))
        database = ls.data_dir / "label_studio.sqlite3"
        growth: list[float] = []
        probe = LockProbe(database)
        probe.start()
        annotator = Annotator(ls.url, ls.token, project, canary, gold)
        thread = threading.Thread(target=annotator.run, daemon=True)
        thread.start()
        windows: list[tuple[str, float, float]] = []
        try:
            def timed(name: str, call: Callable[[], Any]) -> None:
                time.sleep(quiet_s)
                start = time.time()
                call()
                windows.append((name, start, time.time()))

            unlabeled = pool[100:]
            timed("read labeled tasks (retrain)", lambda: list(client.iter_tasks(project, labeled=True)))
            timed("read unlabeled pool (rescore)", lambda: list(client.iter_tasks(project, labeled=False)))
            timed("get project", lambda: client.get_project(project))
            timed("list prediction versions", lambda: client.list_prediction_versions(project))
            for version in ("v1", "v2", "v3"):
                preds = _predictions(unlabeled, version, rng)
                before = database.stat().st_size
                timed(f"import {len(preds)} predictions ({version})",
                      lambda p=preds: client.import_predictions(project, p))
                growth.append((database.stat().st_size - before) / len(preds))
                timed(f"set model_version {version}", lambda v=version: client.set_model_version(project, v))
            head = _predictions(unlabeled[:100], "v4", rng)
            timed("import 100 predictions (v4)", lambda: client.import_predictions(project, head))
            timed(f"Label Studio's delete of version v1 ({len(unlabeled)} predictions)",
                  lambda: bulk.call("DELETE", f"api/projects/{project}/model-versions/", json={"model_version": "v1"}))
            for pace, labeling in (("while people label", True), ("while nobody labels", False)):
                timed(f"cleanup job: {ONE_BY_ONE} of v2, {pace}",
                      lambda active=labeling: _cleanup(client, project, ONE_BY_ONE, active))
            time.sleep(max(quiet_s, 7.0))  # the annotator's calls under way finish (or fail) first
        finally:
            annotator._stop.set()
            thread.join(timeout=60)
            probe.stop()
    for name, start, end in windows:
        out.append(Measured(size, name, end - start, probe.blocked(start, end),
                            annotator.errors(start, end), annotator.slowest(start, end)))
        print(out[-1].row(), flush=True)
    print(f"database growth per imported prediction: {', '.join(f'{g:.0f}' for g in growth)} bytes", flush=True)
    codes = sorted({(what, status) for _, what, status, _ in annotator.statuses})
    print(f"annotator: {len(annotator.statuses)} calls, statuses {codes}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,3000,10000", help="unlabeled pool sizes, comma-separated")
    parser.add_argument("--quiet", type=float, default=3.0, help="seconds of quiet before each call")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="ls-locks-") as tmp, LocalLabelStudio(Path(tmp) / "ls") as ls:
        print(HEADER, flush=True)
        for size in sizes:
            measure_size(ls, size, args.quiet)


if __name__ == "__main__":
    main()
