"""Reliability of the web service under load and stalls, the fuzzing budget, and the fault figures.

Runs the project's web server (``ls-active web``: gevent workers with a deadline per socket
operation) and, in the same run, the same app under gunicorn's thread-per-connection worker
(gthread, 2 workers x 4 threads: the server before the change) as the baseline:

- 50 concurrent clients posting Label Studio's ``/webhook`` body over keep-alive connections;
- 100 stalled connections (half stop in the request head, half in a body), then fresh
  ``/health`` and ``/webhook`` requests, and how long the server takes to close the stalled ones;
- the fuzz tests (tests/service/test_fuzz.py: fixed budget and seed) timed as CI runs them;
- with ``--faults``: the fault tests of tests/integration/test_loop.py against a real Label
  Studio, Redis and worker processes, reading the figures they record (tests/figures.py).

    python -m benchmarks.reliability                   # print
    python -m benchmarks.reliability --faults --write  # everything, into BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import requests

from benchmarks import bench_docs
from benchmarks.bench_common import REPO
from benchmarks.loop_stack import redis_server
from benchmarks.service_latency import QUEUES, bodies, forget, free_port, load_rows, wait_until_up

SECTION = "## Reliability (issue: hardening)"
THINK_MS = 50  # the paced wrk run: 50 clients, each pausing 50 ms before its next webhook
STALL_TIMEOUT = 10  # CLIENT_TIMEOUT for this run, so the closing of stalled clients is seen quickly
JSON = {"Content-Type": "application/json"}


@contextmanager
def server(redis_url: str, tmp: Path, kind: str) -> Iterator[str]:
    """``ours``: ``ls-active web``; ``gthread``: the same app under gunicorn's threaded worker."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO_", "BASIC_AUTH_"))}
    env.update({"REDIS_URL": redis_url, "MODEL_DIR": str(tmp / "models"), "DATA_DIR": str(tmp / "data"),
                "LOG_LEVEL": "WARNING", "CLIENT_TIMEOUT": str(STALL_TIMEOUT), **QUEUES})
    if kind == "ours":
        cmd = [sys.executable, "-m", "backend.cli", "web", "--host", "127.0.0.1", "--port", str(port),
               "--workers", "2"]
    else:  # "gthread" (the baseline) or another gunicorn worker class, for comparison
        threads = ["--threads", "4"] if kind == "gthread" else []
        cmd = [sys.executable, "-m", "gunicorn", "backend.service.wsgi:app", "--bind", f"127.0.0.1:{port}",
               "--workers", "2", "--worker-class", kind, *threads, "--log-level", "warning",
               "--access-logfile", "-", "--access-logformat", '%(h)s "%(r)s" %(s)s %(b)s %(M)sms']
    log = open(tmp / f"web-{kind}.log", "wb")  # noqa: SIM115 - closed below, after the process
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
        log.close()


def _client_process(base: str, path: str, body: bytes | None, threads: int, per_client: int,
                    gate: Any, out: Any) -> None:
    """One process of the load: ``threads`` clients, each with its own keep-alive connection."""
    samples: list[float] = []
    errors = [0]
    lock = threading.Lock()
    sessions = [requests.Session() for _ in range(threads)]
    for session in sessions:
        session.get(base + "/no-such-path", timeout=30)  # connected before the clock starts

    def client(session: requests.Session) -> None:
        mine, failed = [], 0
        for _ in range(per_client):
            start = time.perf_counter()
            try:
                if body is None:
                    ok = session.get(base + path, timeout=10).status_code < 500
                else:
                    ok = session.post(base + path, data=body, headers=JSON, timeout=10).status_code == 200
            except requests.RequestException:
                ok = False
            mine.append((time.perf_counter() - start) * 1000)
            failed += not ok
        with lock:
            samples.extend(mine)
            errors[0] += failed

    pool = [threading.Thread(target=client, args=(s,)) for s in sessions]
    gate.wait()  # every process connected: all clients start together
    began = time.time()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put((samples, errors[0], began, time.time()))
    for session in sessions:
        session.close()


def concurrent(base: str, path: str, body: bytes | None, clients: int, per_client: int,
               processes: int = 10) -> dict[str, float]:
    """``clients`` concurrent clients spread over ``processes`` processes (one Python process
    for all of them would measure its own lock, not the server), ``per_client`` requests each."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    threads = [n for n in (clients // processes + (i < clients % processes) for i in range(processes)) if n]
    gate = ctx.Barrier(len(threads))
    procs = [ctx.Process(target=_client_process, args=(base, path, body, n, per_client, gate, out))
             for n in threads]
    for p in procs:
        p.start()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    samples = [x for got, *_ in results for x in got]
    wall = max(r[3] for r in results) - min(r[2] for r in results)
    return {"n": len(samples), "p50": float(np.percentile(samples, 50)), "p99": float(np.percentile(samples, 99)),
            "max": max(samples), "errors": sum(r[1] for r in results), "rate": len(samples) / max(wall, 1e-9)}


def wrk_run(base: str, path: str, body: bytes, clients: int, seconds: int, tmp: Path,
            think_ms: int = 0) -> dict[str, float] | None:
    """The same closed-loop load from ``wrk`` (C, one thread): the Python clients above need
    a core of their own on a 2-core machine, which the servers then lack. None without wrk.

    ``think_ms`` is a pause before each client's next request (wrk's ``delay`` hook): with none
    the clients saturate the machine, which Label Studio (one webhook per save) never does."""
    if shutil.which("wrk") is None:
        return None
    (tmp / "body.json").write_bytes(body)
    script = tmp / "post.lua"
    script.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                      f'local f = io.open("{tmp / "body.json"}", "rb"); wrk.body = f:read("*a"); f:close()\n'
                      + (f"delay = function() return {think_ms} end\n" if think_ms else ""))
    command = ["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "--latency", "-s", str(script), base + path]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    figures: dict[str, float] = {}
    for line in out.splitlines():
        found = re.match(r"\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", line)
        if found:
            figures[f"p{found[1]}"] = float(found[2]) * unit[found[3]]
        elif line.startswith("Requests/sec:"):
            figures["rate"] = float(line.split()[1])
        elif line.strip().startswith("Non-2xx"):  # "Non-2xx or 3xx responses: 12"
            figures["errors"] = figures.get("errors", 0) + int(line.rsplit(":", 1)[1])
        elif line.strip().startswith("Socket errors:"):  # "connect 0, read 0, write 0, timeout 5"
            figures["errors"] = figures.get("errors", 0) + sum(int(n) for n in re.findall(r"\d+", line))
    return figures


def stall(base: str, count: int) -> list[socket.socket]:
    """Open ``count`` connections that stop mid-request: half in the head, half in the body."""
    host, port = base.removeprefix("http://").split(":")
    stalled = []
    for i in range(count):
        sock = socket.create_connection((host, int(port)), timeout=5)
        if i % 2:
            sock.sendall(b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 4000\r\n\r\n{\"action\": ")
        else:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        stalled.append(sock)
    return stalled


def while_stalled(base: str, webhook: bytes, count: int, probes: int) -> dict[str, float]:
    """Fresh /health and /webhook requests while ``count`` connections stall; then their closing."""
    stalled = stall(base, count)
    opened = time.monotonic()
    took, answered = [], 0
    for i in range(probes):
        start = time.perf_counter()
        try:
            if i % 2:
                answer = requests.post(base + "/webhook", data=webhook, headers=JSON, timeout=5)
            else:
                answer = requests.get(base + "/health", timeout=5)
            answered += answer.status_code == 200
        except requests.RequestException:
            pass
        took.append((time.perf_counter() - start) * 1000)
    closed = closing_time(stalled, opened, deadline=3 * STALL_TIMEOUT)
    return {"probes": probes, "answered": answered, "p50": float(np.percentile(took, 50)), "max": max(took),
            **closed}


def closing_time(stalled: list[socket.socket], opened: float, deadline: float) -> dict[str, float]:
    """Seconds until the server closed every stalled connection (or how many it left open)."""
    open_ones = list(stalled)
    last = 0.0
    while open_ones and time.monotonic() - opened < deadline:
        still = []
        for sock in open_ones:
            sock.settimeout(0.05)
            try:
                gone = sock.recv(65536) == b""  # a 400/408 answer, then the close, also counts
                if not gone:
                    gone = sock.recv(65536) == b""
            except TimeoutError:
                gone = False
            except OSError:
                gone = True
            if gone:
                last = time.monotonic() - opened
                sock.close()
            else:
                still.append(sock)
        open_ones = still
    for sock in open_ones:
        sock.close()
    return {"left_open": len(open_ones), "closed_after_s": last if not open_ones else float("nan")}


def fuzz_run() -> dict[str, float]:
    """The suite's fuzz tests as CI runs them (fixed seed and budget); pytest's own pass/fail."""
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/service/test_fuzz.py", "tests/service/test_hostile_input.py"],
                          cwd=REPO, capture_output=True, text=True, check=False)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-300:]
    return {"seconds": time.monotonic() - start, "passed": done.returncode == 0, "summary": summary}


def fault_run(tmp: Path) -> list[dict[str, object]]:
    """The fault tests against a real Label Studio; the figures they recorded."""
    figures = tmp / "figures.jsonl"
    # the whole module: its fault tests need the trained versions its earlier tests make
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/integration/test_loop.py"],
                          cwd=REPO, env={**os.environ, "LS_ACTIVE_FIGURES": str(figures)}, check=False)
    if done.returncode != 0:
        raise RuntimeError("the fault tests failed; see their output above")
    return [json.loads(line) for line in figures.read_text().splitlines()] if figures.exists() else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--per-client", type=int, default=40)
    parser.add_argument("--stalled", type=int, default=100)
    parser.add_argument("--faults", action="store_true", help="also run the fault tests (real Label Studio)")
    parser.add_argument("--write", action="store_true", help="update this section of BENCHMARKS.md")
    args = parser.parse_args(argv)
    data = bodies(load_rows()[:1000])
    webhook = data["webhook"]
    rows: list[str] = []
    wrk_rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lsa-reliability-") as name, redis_server(Path(name)) as (url, _):
        tmp = Path(name)
        for kind in ("gthread", "ours"):
            forget(url)
            with server(url, tmp, kind) as base:
                requests.post(base + "/setup", data=data["setup"], headers=JSON, timeout=30).raise_for_status()
                for _ in range(20):  # warm every worker
                    requests.post(base + "/webhook", data=webhook, headers=JSON, timeout=30)
                floor = concurrent(base, "/no-such-path", None, args.clients, args.per_client)
                hook = concurrent(base, "/webhook", webhook, args.clients, args.per_client)
                fast = wrk_run(base, "/webhook", webhook, args.clients, 10, tmp)
                paced = wrk_run(base, "/webhook", webhook, args.clients, 10, tmp, think_ms=THINK_MS)
                stalled = while_stalled(base, webhook, args.stalled, probes=20)
            forget(url)
            label = "ls-active web (gevent)" if kind == "ours" else "baseline: gthread 2 x 4"
            rows.append(f"| {label} | {hook['n']} | {hook['rate']:.0f} | {hook['p50']:.1f} | {hook['p99']:.1f} | "
                        f"{hook['max']:.1f} | "
                        f"{hook['errors']} | {floor['p99']:.1f} | {stalled['answered']}/{stalled['probes']} | "
                        f"{stalled['max']:.0f} | {stalled['left_open']} | {stalled['closed_after_s']:.1f} |")
            print(rows[-1], flush=True)
            for think, run in ((0, fast), (THINK_MS, paced)):
                if run is not None:  # None without wrk
                    wrk_rows.append(f"| {label} | {think} | {run['rate']:.0f} | {run['p50']:.1f} | "
                                    f"{run['p99']:.1f} | {run.get('errors', 0):.0f} |")
                    print(wrk_rows[-1], flush=True)
        fuzz = fuzz_run()
        print("fuzz:", fuzz, flush=True)
        faults = fault_run(tmp) if args.faults else []
        for figure in faults:
            print("fault:", figure, flush=True)
    text = section(args, rows, wrk_rows, fuzz, faults)
    print(text)
    if args.write:
        bench_docs.write_section(SECTION, text)
    return 0


def section(args: argparse.Namespace, rows: list[str], wrk_rows: list[str], fuzz: dict[str, object],
            faults: list[dict[str, object]]) -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        SECTION, "",
        "Command: `.venv/bin/python -m benchmarks.reliability --faults --write` (from the repository root).", "",
        f"- nproc {os.cpu_count()}; load average at the end {load}. Both servers in the same run, same app, "
        f"same Redis; CLIENT_TIMEOUT={STALL_TIMEOUT} s for this run (default 30 s).",
        f"- {args.clients} concurrent clients x {args.per_client} `POST /webhook` (Label Studio's "
        "ANNOTATION_CREATED body) over keep-alive connections; floor: the same load on an unrouted path (404). "
        "Target: p99 < 200 ms.",
        f"- {args.stalled} stalled connections (half stop in the request head, half in a body), then 20 fresh "
        "`/health` and `/webhook` requests (5 s client time-out each); then the seconds until the server had "
        "closed every stalled connection.",
        "",
        "| Server | webhook n | req/s | p50 ms | p99 ms | max ms | errors | floor p99 ms | answered while stalled | "
        "max ms while stalled | stalled left open | closed after s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows, "",
    ]
    if wrk_rows:
        lines += [f"The same {args.clients} clients from `wrk` (C, one thread, 10 s, after the runs above):", "",
                  f"(think ms: each client's pause before its next request; at {THINK_MS} ms the rate is still "
                  "over 100 times the webhook rate Label Studio on SQLite produced in the storm below)", "",
                  "| Server | think ms | req/s | p50 ms | p99 ms | errors |", "|---|---:|---:|---:|---:|---:|",
                  *wrk_rows, ""]
    lines += [
        f"Fuzzing (tests/service/test_fuzz.py and test_hostile_input.py, fixed seed, 200 examples per "
        f"endpoint test): {fuzz['summary']} in {float(fuzz['seconds']):.0f} s; each asserts no 5xx and a JSON body.",
    ]
    if faults:
        lines += ["", "Faults (tests/integration/test_loop.py; real Label Studio 1.23.2, Redis, worker processes):",
                  "", "| Figure | Value | Context |", "|---|---:|---|"]
        for f in faults:
            context = ", ".join(f"{k} {v}" for k, v in f.items() if k not in ("figure", "value", "at"))
            lines.append(f"| {f['figure']} | {f['value']} | {context} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
