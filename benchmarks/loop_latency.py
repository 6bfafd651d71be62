"""How long the active-learning loop takes: from the milestone annotation to fresh scores in Label Studio.

Starts a real Label Studio (or uses ``--ls-url``/``--ls-token``), Redis (``REDIS_URL`` or an embedded
server), ``ls-active web`` (gunicorn) and ONE ``ls-active worker`` with ``RETRAIN_EVERY=N``. Per pool
size it creates a project of trec6 questions (a few already labeled at import, the rest the unlabeled
pool), connects the backend through Label Studio's API, waits for the cold-start order, then repeats:
annotate N-1 tasks, wait until nothing runs, annotate the N-th and time until Label Studio's project
``model_version`` is the new version and its Data Manager orders the unlabeled tasks by that version's
scores. Before that it times scoring alone, in this process, without Label Studio.

    python -m benchmarks.loop_latency            # print the section
    python -m benchmarks.loop_latency --write    # and replace it in BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import redis

from backend.defaults import COLD_START_VERSION
from backend.defaults import REDIS_PREFIX as PREFIX
from backend.labelstudio.client import LabelStudioClient
from backend.loop.state import ProjectState
from benchmarks.loop_data import expanded, read_trec6
from benchmarks.loop_milestone import Milestone, run_milestone, wait_quiet
from benchmarks.loop_profile import Step, profile_rescore
from benchmarks.loop_project import LoopProject, LsHttp
from benchmarks.loop_report import REPO, findings, section, write_section
from benchmarks.loop_stack import Service, backend, label_studio, redis_server
from benchmarks.loop_throughput import Throughput, measure_throughput
from benchmarks.peak_memory import PeakMemory


def _sizes(raw: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(x) for x in raw.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r}: use comma-separated whole numbers like 1000,10000") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"{raw!r}: sizes must be positive")
    return sizes


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=_sizes, default=(1000, 10000), help="unlabeled pool sizes")
    parser.add_argument("--repeats", type=int, default=3, help="milestones timed per pool size")
    parser.add_argument("--every", type=int, default=20, help="RETRAIN_EVERY: labels per milestone")
    parser.add_argument("--seed-labels", type=int, default=200, help="tasks imported already labeled")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for one milestone")
    parser.add_argument("--workers", type=int, default=1, help="`ls-active worker` processes")
    parser.add_argument("--throughput-sizes", type=_sizes, default=(10000, 50000))
    parser.add_argument("--throughput-labels", type=int, default=500, help="labels of the scoring model")
    parser.add_argument("--throughput-repeats", type=int, default=3)
    parser.add_argument("--skip-loop", action="store_true", help="only the in-process scoring throughput")
    parser.add_argument("--skip-throughput", action="store_true", help="only the loop through Label Studio")
    parser.add_argument("--no-profile", dest="profile", action="store_false",
                        help="skip timing the largest pool's rescore step by step")
    parser.add_argument("--ls-url", default="", help="a running Label Studio 1.23 (else one is started)")
    parser.add_argument("--ls-token", default="", help="its legacy API token")
    parser.add_argument("--write", action="store_true", help="replace this section of BENCHMARKS.md")
    args = parser.parse_args(argv)
    if args.every < 2 or args.repeats < 1 or args.seed_labels < 0:
        parser.error("--every must be at least 2, --repeats at least 1, --seed-labels not negative")
    if bool(args.ls_url) != bool(args.ls_token):
        parser.error("give both --ls-url and --ls-token, or neither")
    return args


def forget(conn: redis.Redis, project: int) -> None:
    """Drop this project's keys: on a shared Redis an earlier project with the same id may have left some."""
    stale = list(conn.scan_iter(match=f"{PREFIX}:project:{project}:*"))
    if stale:
        conn.delete(*stale)
    conn.srem(f"{PREFIX}:projects", project)


@dataclass(frozen=True)
class Stack:
    """The running parts a project talks to."""

    conn: redis.Redis
    client: LabelStudioClient
    ls: LsHttp
    token: str
    service: Service


@dataclass
class LoopResults:
    milestones: list[Milestone] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    profile: tuple[int, list[Step]] | None = None


def run_size(stack: Stack, size: int, args: argparse.Namespace, out: LoopResults) -> None:
    """One project of ``size`` unlabeled tasks (plus the ones the milestones label): cold start,
    milestones, and the service's peak memory over all of it."""
    with PeakMemory(stack.service.pids) as memory:
        _run_size(stack, size, args, out)
    out.notes.append(f"pool {size:,}, from the import to the last milestone: {memory.summary()}")
    print(out.notes[-1], file=sys.stderr, flush=True)


def _run_size(stack: Stack, size: int, args: argparse.Namespace, out: LoopResults) -> None:
    seed = expanded(args.seed_labels)
    pool = expanded(size + args.repeats * args.every, start=args.seed_labels)
    project = LoopProject.create(stack.client, f"loop benchmark {size}", seed, pool, random_seed=size)
    forget(stack.conn, project.id)
    try:
        connected = time.time()
        stack.ls.connect_backend(project.id, stack.service.url)
        cold = stack.ls.wait_fresh(project.id, COLD_START_VERSION, args.timeout) - connected
        out.notes.append(f"pool {size:,}: cold-start order visible {cold:.1f} s after connecting the backend")
        wait_quiet(stack.conn, stack.ls, project.id)
        if ProjectState(stack.conn).current_version(project.id) != COLD_START_VERSION:
            raise RuntimeError(f"project {project.id}: expected the cold-start version after connecting")
        for repeat in range(1, args.repeats + 1):
            row = run_milestone(stack.conn, stack.client, stack.ls, project, args.every, repeat, size, args.timeout,
                                head=2 * args.every)
            out.milestones.append(row)
            print(f"pool {size:,}, milestone {repeat}: head {row.head_total:.2f} s, whole pool {row.total:.2f} s "
                  f"({row.read_mode} read)", file=sys.stderr, flush=True)
        if args.profile and size == max(args.sizes):
            out.profile = (size, profile_rescore(stack.conn, stack.ls.url, stack.token, project.id,
                                                 stack.service.env))
    finally:
        if args.ls_url:
            stack.ls.delete_project(project.id)
        forget(stack.conn, project.id)


def run_loop(args: argparse.Namespace) -> LoopResults:
    out = LoopResults()
    with tempfile.TemporaryDirectory(prefix="lsa-loop-") as name:
        tmp = Path(name)
        with redis_server(tmp) as (redis_url, redis_kind), label_studio(args.ls_url, args.ls_token, tmp) as lsrv, \
                backend(redis_url, tmp, args.every, workers=args.workers) as service, \
                LabelStudioClient(lsrv.url, lsrv.token) as client:
            workers = "ONE `ls-active worker`" if args.workers == 1 else f"{args.workers} `ls-active worker` processes"
            out.notes.append(f"{lsrv.description}; Redis: {redis_kind}; `ls-active web` (gunicorn, 2 workers) and "
                             f"{workers}, RETRAIN_EVERY={args.every}")
            stack = Stack(redis.Redis.from_url(redis_url), client, LsHttp(lsrv.url, lsrv.token), lsrv.token, service)
            for size in args.sizes:
                run_size(stack, size, args, out)
    return out


def machine(load_start: tuple[float, ...]) -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}; nproc {os.cpu_count()} ({cpu}); Python {platform.python_version()}",
        f"load average at the start {', '.join(f'{x:.2f}' for x in load_start)}, at the end {load}: the machine "
        "is shared with other jobs and noisy, so single figures move by tens of percent between runs",
    ]


def method_notes(args: argparse.Namespace, copies: bool) -> list[str]:
    n_trec = len(read_trec6()[0])
    notes = [
        f"Each project: {args.seed_labels} trec6 questions imported already labeled (they train every model), "
        f"then the unlabeled pool. Per milestone: {args.every - 1} annotations with the true label through "
        "`POST /api/tasks/{id}/annotations`, wait until no job waits or runs, then the milestone annotation. "
        "**Total** = from the instant that annotation's request returns (Label Studio sends its webhook inside "
        "it) to the first poll (every 0.1 s) where the project's `model_version` is the new version AND the "
        "Data Manager's first 50 unlabeled tasks ordered by `tasks:predictions_score` have scores, ascending, "
        "and the first 3 have exactly one prediction of the new version with that score. Label Studio is "
        "polled only once Redis names the new version, and `model_version` is read through "
        "`GET /api/projects/?ids=<id>&include=id,model_version`: the project detail endpoint counts the "
        "project's tasks on every call, and polling it every 0.1 s more than doubled the very pushes being "
        "timed in a first run.",
        "Train = the retrain job's `read_seconds` + `train_seconds` (version record); read pool, score, push = "
        "the rescore job's `read_seconds`, `score_seconds`, `push_seconds` (project status). Push includes "
        "checking the project, importing the predictions, setting `model_version` and saving the scores in "
        "Redis. Queue/other = total - those parts.",
    ]
    if copies:
        notes.append(f"trec6 has {n_trec:,} rows: larger pools reuse them with a \" (copy k)\" suffix, so every "
                     "task's text is distinct but the copies share all other n-grams with their originals.")
    if not args.skip_throughput:
        notes.append(
            f"Throughput: in this process with one BLAS thread, model trained on {args.throughput_labels} "
            f"trec6 labels; `featurize` + `score_counts` + `predictions` (the rescore's score step), median of "
            f"{args.throughput_repeats} interleaved runs; batch size {args.every}.")
    return notes


def command_line(argv: Sequence[str] | None, secret: str) -> str:
    """The command as run, from the repository root, with the Label Studio token masked."""
    python = Path(sys.executable)
    shown = python.relative_to(REPO) if python.is_relative_to(REPO) else python.name
    given = list(argv if argv is not None else sys.argv[1:])
    masked = [a.replace(secret, "***") if secret else a for a in given]
    return " ".join([f"{shown} -m benchmarks.loop_latency", *masked])


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """Leave through the context managers, so every server this run started is stopped."""
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    load_start = os.getloadavg()
    throughput: list[Throughput] = []
    if not args.skip_throughput:
        throughput = measure_throughput(args.throughput_sizes, args.throughput_labels, args.every,
                                        args.throughput_repeats)
    loop = LoopResults() if args.skip_loop else run_loop(args)
    n_trec = len(read_trec6()[0])
    largest = max([0, *([] if args.skip_loop else args.sizes)]) + args.seed_labels + args.repeats * args.every
    largest = max([largest, *([] if args.skip_throughput else [n + args.throughput_labels
                                                               for n in args.throughput_sizes])])
    notes = [*machine(load_start), *loop.notes, *method_notes(args, largest > n_trec)]
    text = section(command_line(argv, args.ls_token), notes, loop.milestones, throughput, loop.profile,
                   findings(loop.milestones, loop.profile))
    print(text)
    if args.write:
        write_section(text)
        print(f"updated {REPO / 'BENCHMARKS.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
