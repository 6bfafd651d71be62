"""A labeling campaign as Label Studio sees it: does our loop make an annotator wait or fail?

One annotator works the project the way the labeling screen does (``next_task``, then the
annotation, once a second) while the backend retrains at every milestone, pushes a version to
the whole pool, switches the project to it and cleans up superseded versions, with the
service's default settings. Printed: the annotator's 5xx and latencies, the requests Label
Studio logged as failed on its SQLite lock (and retried) by kind, and milestone-to-fresh times.

    python benchmarks/ls_campaign.py --tasks 1000 --milestones 20
    python benchmarks/ls_campaign.py --tasks 10000 --milestones 3
    python benchmarks/ls_campaign.py --tasks 1000 --postgres postgresql://postgres@127.0.0.1:5432/lsbench

``--postgres`` gives Label Studio that (empty) PostgreSQL database instead of its SQLite file.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis
import requests

from backend.labelstudio.client import LabelStudioClient
from backend.labelstudio.local import LocalLabelStudio
from backend.loop.state import ProjectState
from benchmarks.bench_common import OUT
from benchmarks.loop_data import LABEL_CONFIG, expanded
from benchmarks.loop_project import LsHttp, choice
from benchmarks.loop_stack import backend, redis_server
from tests.ls_log import lock_errors_since


@dataclass
class Annotator:
    url: str
    token: str
    project: int
    gold: dict[int, str]
    calls: list[tuple[float, str, int, float]] = field(default_factory=list)
    saved_at: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    halt: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {self.token}"
        while not self.halt.is_set():
            answer = self._call(session, "next_task", f"/api/dm/actions?id=next_task&project={self.project}", {})
            task = answer.json() if answer is not None and answer.status_code == 200 else {}
            if isinstance(task.get("id"), int):
                saved = self._call(session, "annotate", f"/api/tasks/{task['id']}/annotations",
                                   {"result": choice(self.gold[task["id"]])})
                if saved is not None and saved.status_code == 201:
                    self.saved_at.append(time.time())
            self.halt.wait(1.0)

    def _call(self, session: requests.Session, what: str, path: str, body: Any) -> requests.Response | None:
        start = time.time()
        try:
            answer = session.post(self.url + path, json=body, timeout=120)
        except requests.RequestException:
            self.calls.append((start, what, 599, time.time() - start))
            return None
        self.calls.append((start, what, answer.status_code, time.time() - start))
        if answer.status_code >= 500:
            self.errors.append(f"{what} {answer.status_code}: {answer.text[:200]}")
        return answer


class VersionWatch(threading.Thread):
    """Records when the project's ``model_version`` changes, as Label Studio serves it."""

    def __init__(self, ls: LsHttp, project: int) -> None:
        super().__init__(daemon=True)
        self.ls, self.project = ls, project
        self.changes: list[tuple[float, str]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            with_version = self.ls.model_version(self.project)
            if not self.changes or self.changes[-1][1] != with_version:
                self.changes.append((time.time(), with_version))
            self.halt.wait(0.5)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def freshness(saved_at: list[float], changes: list[tuple[float, str]], every: int, milestones: int) -> list[float]:
    """Per milestone: seconds from its label's save to the next version Label Studio serves."""
    out = []
    for k in range(1, milestones + 1):
        if len(saved_at) < k * every:
            break
        at = saved_at[k * every - 1]
        later = [t for t, v in changes if t > at and v.startswith("ls-active-v")]
        if later:
            out.append(later[0] - at)
    return out


def postgres_env(url: str) -> dict[str, str]:
    """Label Studio's own settings for a PostgreSQL database at ``url``."""
    parts = urlsplit(url)
    return {"DJANGO_DB": "default", "POSTGRE_NAME": parts.path.lstrip("/") or "postgres",
            "POSTGRE_USER": parts.username or "postgres", "POSTGRE_PASSWORD": parts.password or "",
            "POSTGRE_HOST": parts.hostname or "127.0.0.1", "POSTGRE_PORT": str(parts.port or 5432)}


@contextmanager
def local_label_studio(tmp: Path, postgres: str) -> Iterator[LocalLabelStudio]:
    server = LocalLabelStudio(tmp / "label-studio", extra_env=postgres_env(postgres) if postgres else None)
    with server:
        yield server


def run(tasks: int, milestones: int, every: int, tmp: Path, postgres: str = "") -> dict[str, Any]:
    rows = expanded(tasks)
    with local_label_studio(tmp, postgres) as ls_server, redis_server(tmp) as (redis_url, _), \
            backend(redis_url, tmp, every) as service:
        http = LsHttp(ls_server.url, ls_server.token)
        with LabelStudioClient(ls_server.url, ls_server.token) as client:
            project = client.create_project(f"campaign {tasks}", LABEL_CONFIG.read_text())
            ids: list[int] = []
            for start in range(0, tasks, 5000):
                ids += client.import_tasks(project, [{"data": {"text": t}} for t in rows.texts[start:start + 5000]])
        gold = dict(zip(ids, rows.labels, strict=True))
        http.connect_backend(project, service.url)
        state = ProjectState(redis.Redis.from_url(redis_url))
        deadline = time.monotonic() + 900
        while not http.model_version(project).startswith("ls-active-") and time.monotonic() < deadline:
            time.sleep(1)
        log_path = ls_server.log_path
        offset = log_path.stat().st_size
        annotator = Annotator(ls_server.url, ls_server.token, project, gold)
        watch = VersionWatch(http, project)
        threads = [threading.Thread(target=annotator.run, daemon=True), watch]
        for thread in threads:
            thread.start()
        started = time.time()
        deadline = time.monotonic() + 60 * milestones + 600
        while len(state.versions(project)) < milestones and time.monotonic() < deadline:
            time.sleep(2)
        time.sleep(20)  # the last milestone's push, switch and cleanup
        annotator.halt.set()
        watch.halt.set()
        for thread in threads:
            thread.join(timeout=120)
        latencies = [c[3] for c in annotator.calls]
        worker_log = (service.logs / "worker.log").read_text(errors="replace")
        fresh = freshness(annotator.saved_at, watch.changes, every, milestones)
        return {
            "tasks": tasks, "milestones": milestones, "every": every, "seconds": round(time.time() - started, 1),
            "versions": len(state.versions(project)), "labels": len(annotator.saved_at),
            "annotator_calls": len(annotator.calls),
            "annotator_5xx": sum(1 for c in annotator.calls if c[2] >= 500), "errors": annotator.errors[:5],
            "latency_p50": round(percentile(latencies, 0.5), 3), "latency_p99": round(percentile(latencies, 0.99), 3),
            "latency_max": round(max(latencies, default=0.0), 3),
            "waits_over_3s": sum(1 for x in latencies if x >= 3.0),
            "lock_errors": dict(lock_errors_since(log_path, offset)),
            "fresh_median": round(statistics.median(fresh), 2) if fresh else None,
            "fresh_max": round(max(fresh), 2) if fresh else None,
            "deleted": sum(int(n) for n in re.findall(r"cleanup deleted (\d+) predictions", worker_log)),
            "versions_left": len(http.call("GET", f"api/projects/{project}/model-versions/")),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--milestones", type=int, default=20)
    parser.add_argument("--every", type=int, default=10, help="RETRAIN_EVERY (the default is 10)")
    parser.add_argument("--label", default="", help="a name for this run in the output file")
    parser.add_argument("--postgres", default="", help="an empty PostgreSQL database for Label Studio (URL)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ls-campaign-") as tmp:
        result = run(args.tasks, args.milestones, args.every, Path(tmp), args.postgres)
    result["database"] = "PostgreSQL" if args.postgres else "SQLite"
    print(json.dumps(result, indent=2))
    out = OUT / "campaign"
    out.mkdir(parents=True, exist_ok=True)
    name = f"campaign_{args.tasks}_{args.milestones}{'_' + args.label if args.label else ''}.json"
    (out / name).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
