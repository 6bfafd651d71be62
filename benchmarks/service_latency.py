"""Latency of the web service under gunicorn with a real Redis: /webhook, /setup, /predict.

Starts ``python -m backend.cli web`` (gunicorn, 2 workers) against ``REDIS_URL`` (or the
embedded Redis in a temporary folder), sets up a project with the trec6 label config, and
times sequential requests over one persistent HTTP connection, as Label Studio sends them.
``/predict`` is timed twice: in cold start (no model yet) and with a trained model published
exactly as the retrain job publishes one. ``GET /health`` and an unrouted path give the floor
of HTTP + gunicorn + Flask on this machine, so the ratios stay meaningful when it is busy.

    python -m benchmarks.service_latency            # print the table
    python -m benchmarks.service_latency --write    # and update BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gunicorn
import numpy as np
import redis
import requests
from rq import Queue

from backend.loop.scheduling import SERIALIZER
from backend.loop.state import ProjectState
from backend.loop.store import ArtifactStore
from backend.tasks.records import read_rows
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.model import train_model
from benchmarks import bench_docs
from benchmarks.bench_common import DATASETS_DIR, REPO
from benchmarks.loop_stack import redis_server

PAYLOADS = REPO / "tests" / "data" / "ls_payloads.json"
SECTION = "## Web service latency (issue: service)"
LABELS = ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="label" toName="text">'
    + "".join(f'<Choice value="{c}"/>' for c in LABELS)
    + "</Choices></View>"
)
PROJECT = 4242
#: Queues of their own, so no worker on a shared Redis picks up the jobs the requests enqueue.
QUEUES = {"TRAIN_QUEUE": "ls-active-benchmark-train", "SCORE_QUEUE": "ls-active-benchmark-score"}
#: Targets from the issue: request name -> (percentile, milliseconds).
TARGETS = {
    "POST /webhook": (99, 20.0),
    "POST /setup": (99, 20.0),
    "POST /predict 100 tasks, cold start": (50, 50.0),
    "POST /predict 100 tasks, model": (50, 50.0),
}


@dataclass(frozen=True)
class Result:
    """One endpoint's timings and those of the floor request interleaved with it, in milliseconds."""

    name: str
    samples: list[float]
    floor: list[float]
    tasks: int = 0

    def pct(self, q: float) -> float:
        return float(np.percentile(self.samples, q))

    @property
    def tasks_per_second(self) -> float:
        return self.tasks * len(self.samples) / (sum(self.samples) / 1000.0) if self.tasks else 0.0


def load_rows() -> list[dict[str, Any]]:
    return read_rows(DATASETS_DIR / "trec6.csv")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def web_service(redis_url: str, tmp: Path, workers: int) -> Iterator[str]:
    """gunicorn via the project's own command; yields its base URL and stops it afterwards."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO_", "BASIC_AUTH_"))}
    env.update({"REDIS_URL": redis_url, "MODEL_DIR": str(tmp / "models"), "DATA_DIR": str(tmp / "data"),
                "LOG_LEVEL": "WARNING", **QUEUES})
    log = open(tmp / "web.log", "wb")  # noqa: SIM115 - closed below, after the process
    cmd = [sys.executable, "-m", "backend.cli", "web", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def wait_until_up(base: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the web service exited with {proc.returncode}; see its log")
        try:
            if requests.get(base + "/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{base} did not answer within {timeout} s")


def timed(
    name: str, call: Callable[[], requests.Response], floor: Callable[[], requests.Response], n: int, warmup: int,
    tasks: int = 0, expect: int = 200,
) -> Result:
    """``n`` sequential calls after ``warmup`` untimed ones, each right after one floor request.

    Interleaving puts the endpoint and its floor under the same load, so their ratio holds on a
    busy machine where two separate runs a minute apart would not compare.
    """
    samples: list[float] = []
    floors: list[float] = []
    for i in range(warmup + n):
        for target, out, status in ((floor, floors, 404), (call, samples, expect)):
            start = time.perf_counter()
            response = target()
            took = (time.perf_counter() - start) * 1000.0
            if response.status_code != status:
                raise RuntimeError(f"{name}: HTTP {response.status_code}: {response.text[:300]}")
            if i >= warmup:
                out.append(took)
    return Result(name, samples, floors, tasks)


def warm_every_worker(base: str, path: str, body: bytes, connections: int = 8) -> None:
    """New connections land on any gunicorn worker; warm them all (imports, model load)."""
    for _ in range(connections):
        with requests.Session() as fresh:
            fresh.post(base + path, data=body, headers={"Content-Type": "application/json"}, timeout=120)


def poster(session: requests.Session, url: str, body: bytes) -> Callable[[], requests.Response]:
    headers = {"Content-Type": "application/json"}
    return lambda: session.post(url, data=body, headers=headers, timeout=120)


def bodies(rows: list[dict[str, str]]) -> dict[str, bytes]:
    """Request bodies shaped like Label Studio's captured ones, pointed at our project."""
    captured: dict[str, Any] = json.loads(PAYLOADS.read_text())
    project = f"{PROJECT}.1795269085"
    setup = {**captured["POST /setup"]["body"], "project": project, "schema": CONFIG}
    webhook = copy.deepcopy(captured["POST /webhook ANNOTATION_CREATED"]["body"])
    webhook["project"]["id"] = PROJECT
    webhook["annotation"]["result"][0]["value"]["choices"] = ["HUM"]
    template = captured["POST /predict (Retrieve Predictions action)"]["body"]
    out = {"setup": json.dumps(setup).encode(), "webhook": json.dumps(webhook).encode()}
    for n in (100, 1000):
        tasks = [{**template["tasks"][0], "id": i + 1, "inner_id": i + 1, "data": {"text": r["text"]}}
                 for i, r in enumerate(rows[:n])]
        predict = {**template, "tasks": tasks, "project": project, "label_config": CONFIG}
        out[f"predict{n}"] = json.dumps(predict).encode()
    return out


def publish_model(redis_url: str, model_dir: Path, rows: list[dict[str, str]]) -> str:
    """Train on trec6 rows and make the version current, the way the retrain job does."""
    model = train_model(featurize([r["text"] for r in rows]), [LABELS.index(r["label"]) for r in rows], LABELS)
    version = "ls-active-v1-benchmark"
    record = {"version": version, "project": PROJECT, "created_at": time.time(), "n_labels": len(rows)}
    ArtifactStore(model_dir).write(PROJECT, version, model, record)
    ProjectState(redis.Redis.from_url(redis_url)).publish_version(PROJECT, version, record)
    return version


def forget(redis_url: str) -> None:
    """Leave a shared Redis as it was: our project's keys and our queues' jobs go."""
    conn = redis.Redis.from_url(redis_url)
    for name in QUEUES.values():
        Queue(name, connection=conn, serializer=SERIALIZER).empty()
    stale = list(conn.scan_iter(match=f"lsa:project:{PROJECT}:*"))
    if stale:
        conn.delete(*stale)
    conn.srem("lsa:projects", PROJECT)


def check_predict(base: str, body: bytes, version: str, with_model: bool) -> None:
    """The timed path must be the one we mean: cold start answers no choice, a model answers choices."""
    answer = requests.post(base + "/predict", data=body, headers={"Content-Type": "application/json"}, timeout=120)
    results = answer.json()["results"]
    problems = []
    if len(results) != len(json.loads(body)["tasks"]):
        problems.append(f"{len(results)} predictions for {len(json.loads(body)['tasks'])} tasks")
    if {r["model_version"] for r in results} != {version}:
        problems.append(f"model_version is not {version}: {results[0]}")
    if not all(bool(r["result"]) == with_model for r in results):
        problems.append("prediction results do not match the model state")
    if problems:
        raise RuntimeError("/predict does not take the path being measured: " + "; ".join(problems))


def measure_predict(
    session: requests.Session, base: str, data: dict[str, bytes], args: argparse.Namespace, state: str
) -> list[Result]:
    floor = bare_floor(session, base)
    out = []
    for size, n in ((100, args.n_predict100), (1000, args.n_predict1000)):
        count = n if state == "model" else max(10, n // 4)
        call = poster(session, base + "/predict", data[f"predict{size}"])
        out.append(timed(f"POST /predict {size} tasks, {state}", call, floor, count, args.warmup_predict, size))
    return out


def bare_floor(session: requests.Session, base: str) -> Callable[[], requests.Response]:
    """An unrouted path: Flask's routing and error handler, no Redis, no body."""
    return lambda: session.get(base + "/no-such-path", timeout=30)


def measure(base: str, data: dict[str, bytes], args: argparse.Namespace, publish: Callable[[], str]) -> list[Result]:
    """Every endpoint, sequentially over one keep-alive connection, after a warm-up."""
    with requests.Session() as session:
        floor = bare_floor(session, base)
        results = [
            timed("GET unrouted, 404 (floor)", floor, floor, args.n, args.warmup, expect=404),
            timed("GET /health", lambda: session.get(base + "/health", timeout=30), floor, args.n, args.warmup),
        ]
        for name, key in (("POST /setup", "setup"), ("POST /webhook", "webhook")):
            results.append(timed(name, poster(session, base + f"/{key}", data[key]), floor, args.n, args.warmup))
        check_predict(base, data["predict100"], "ls-active-cold-start", with_model=False)
        results += measure_predict(session, base, data, args, "cold start")
        version = publish()
        for size in (100, 1000):
            warm_every_worker(base, "/predict", data[f"predict{size}"])
        check_predict(base, data["predict100"], version, with_model=True)
        results += measure_predict(session, base, data, args, "model")
    return results


def machine_facts(redis_kind: str, workers: int) -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"nproc {os.cpu_count()} ({cpu}); load average at the end {load} (the machine is shared)",
        f"Python {platform.python_version()}, gunicorn {gunicorn.__version__} "
        f"(gevent workers that close stalled clients, {workers} workers), Redis: {redis_kind}",
    ]


def table(results: list[Result]) -> list[str]:
    lines = [
        "| Request | n | p50 ms | p90 ms | p99 ms | max ms | floor p50 ms | p50 / floor | tasks/s | Target | Met |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        pct, limit = TARGETS.get(r.name, (0, 0.0))
        target = f"p{pct} < {limit:g} ms" if pct else ""
        met = ("yes" if r.pct(pct) < limit else "**no**") if pct else ""
        rate = f"{r.tasks_per_second:,.0f}" if r.tasks else ""
        floor = float(np.percentile(r.floor, 50))
        lines.append(
            f"| {r.name} | {len(r.samples)} | {r.pct(50):.2f} | {r.pct(90):.2f} | {r.pct(99):.2f} | "
            f"{max(r.samples):.2f} | {floor:.2f} | {r.pct(50) / floor:.1f} | {rate} | {target} | {met} |"
        )
    return lines


def section(results: list[Result], facts: list[str], command: str, train_rows: int) -> str:
    notes = [
        *facts,
        "Sequential requests over one keep-alive `requests.Session` after a warm-up, with bodies shaped like "
        "Label Studio 1.23's captured ones (`/predict` carries the label config and full task objects).",
        "Floor: before every timed request, one `GET` of an unrouted path (a 404: HTTP, gunicorn and Flask, "
        "no Redis) on the same connection, so each row's floor saw the same load. `GET /health` also pings "
        "Redis and reads every project's state.",
        f"`/predict` with a model: logistic regression trained on {train_rows} trec6 rows and published as the "
        "retrain job publishes one; strategy `default`; cold start timed with a quarter of the requests. "
        "tasks/s = tasks scored per second by one sequential client.",
    ]
    body = [SECTION, "", f"Command: `{command}` (from the repository root).", "", *[f"- {n}" for n in notes], ""]
    return "\n".join([*body, *table(results), ""])


def write_benchmarks(new_section: str, path: Path = REPO / "BENCHMARKS.md") -> None:
    """Replace this benchmark's section of BENCHMARKS.md; every other section stays as it is."""
    bench_docs.write_section(SECTION, new_section, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500, help="timed /health, /setup and /webhook requests")
    parser.add_argument("--n-predict100", type=int, default=200)
    parser.add_argument("--n-predict1000", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--warmup-predict", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--train-rows", type=int, default=500)
    parser.add_argument("--write", action="store_true", help="update this section of BENCHMARKS.md")
    args = parser.parse_args(argv)
    rows = [r for r in load_rows() if r["split"] == "train"]
    data = bodies(rows[args.train_rows :])
    with tempfile.TemporaryDirectory(prefix="lsa-bench-") as name, redis_server(Path(name)) as (url, kind):
        tmp = Path(name)
        forget(url)
        try:
            with web_service(url, tmp, args.workers) as base:
                publish = lambda: publish_model(url, tmp / "models", rows[: args.train_rows])  # noqa: E731
                results = measure(base, data, args, publish)
        finally:
            forget(url)
    python = Path(sys.executable)
    shown = python.relative_to(REPO) if python.is_relative_to(REPO) else python.name
    command = " ".join([f"{shown} -m benchmarks.service_latency", *(argv if argv is not None else sys.argv[1:])])
    text = section(results, machine_facts(kind, args.workers), command, args.train_rows)
    print(text)
    if args.write:
        write_benchmarks(text)
        print(f"updated {REPO / 'BENCHMARKS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
