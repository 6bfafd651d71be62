"""The loop benchmark's Markdown section, and its atomic replacement inside BENCHMARKS.md."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path

from backend.defaults import MAX_PREDICTIONS_PER_REQUEST
from benchmarks import bench_docs
from benchmarks.bench_common import REPO
from benchmarks.loop_milestone import Milestone
from benchmarks.loop_profile import Step
from benchmarks.loop_throughput import Throughput

SECTION = "## Active-learning loop (issue: loop)"
#: Targets from the issue: the whole pool fresh within this many seconds from this size on; the
#: head fresh within HEAD_TARGET seconds at every size; scoring this fast.
FRESH_TARGET = (10_000, 15.0)
HEAD_TARGET = 5.0
RATE_TARGET = 20_000.0


def _s(value: float) -> str:
    return f"{value:.2f}"


def milestone_table(rows: Sequence[Milestone]) -> list[str]:
    lines = [
        "| Pool | Milestone | Labels | Tasks scored | Pool read | **Head fresh s** | **Whole pool fresh s** | "
        "Train: read labels s | Train: fit s | Rescore: read pool s | Score s | Push s | (of it: head) s | "
        "Queue/other s | Target | Met |",
        "|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for size in sorted({r.size for r in rows}):
        mine = [r for r in rows if r.size == size]
        for r in [*mine, None]:
            cells = _cells(mine, r)
            target = f"head < {HEAD_TARGET:g} s"
            if size >= FRESH_TARGET[0]:
                target += f", whole < {FRESH_TARGET[1]:g} s"
            met = ""
            if r is None:
                head_ok = statistics.median(m.head_total for m in mine) < HEAD_TARGET
                whole_ok = size < FRESH_TARGET[0] or statistics.median(m.total for m in mine) < FRESH_TARGET[1]
                met = "yes" if head_ok and whole_ok else "**no**"
            lines.append(f"| {size:,} | {cells} | {target if r is None else ''} | {met} |")
    return lines


def _cells(mine: Sequence[Milestone], r: Milestone | None) -> str:
    """One repeat's cells, or (``r`` None) the medians over the repeats, the two totals in bold."""
    def pick(get: str) -> float:
        return float(getattr(r, get)) if r is not None else statistics.median(float(getattr(m, get)) for m in mine)

    keys = ("head_total", "total", "train_read", "train_fit", "read", "score", "push", "head_push", "overhead")
    texts = [_s(pick(k)) for k in keys]
    if r is None:
        modes = "/".join(sorted({m.read_mode for m in mine}))
        head = f"median of {len(mine)} | {int(pick('labels'))} | {int(pick('tasks')):,} | {modes}"
        return head + " | " + " | ".join(f"**{t}**" if i < 2 else t for i, t in enumerate(texts))
    return f"{r.repeat} | {r.labels} | {r.tasks:,} | {r.read_mode} | " + " | ".join(texts)


def timeline_table(rows: Sequence[Milestone]) -> list[str]:
    """Medians of where the time between the parts goes, from RQ's own job timestamps."""
    lines = [
        "| Pool | Milestone → retrain starts s | Retrain job s | (of it: not read/fit) s | Retrain end → "
        "rescore starts s | Rescore job s | (of it: not read/score/push) s | Rescore end → fresh in LS s | "
        "Fresh → worker idle s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in sorted({r.size for r in rows}):
        mine = [r for r in rows if r.size == size]

        def med(values: Sequence[float]) -> str:
            return _s(statistics.median(values))

        lines.append(
            f"| {size:,} | {med([m.retrain_wait for m in mine])} | {med([m.retrain_job for m in mine])} | "
            f"{med([m.retrain_job - m.train_read - m.train_fit for m in mine])} | "
            f"{med([m.rescore_wait for m in mine])} | {med([m.rescore_job for m in mine])} | "
            f"{med([m.rescore_job - m.read - m.score - m.push for m in mine])} | "
            f"{med([m.visible_after_job for m in mine])} | {med([m.busy_after for m in mine])} |"
        )
    return lines


def throughput_table(rows: Sequence[Throughput]) -> list[str]:
    lines = [
        "| Texts | Strategy | Per task | Featurize s | Rank s | Build predictions s | Total s | **tasks/s** | "
        "Featurize alone / total | Target | Met |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    floors = {r.n: r.total for r in rows if not r.strategy}
    for r in rows:
        name = r.strategy or "featurize alone (floor)"
        target = f">= {RATE_TARGET:,.0f} tasks/s" if r.strategy else ""
        met = ("yes" if r.rate >= RATE_TARGET else "**no**") if r.strategy else ""
        ratio = f"{floors[r.n] / r.total:.2f}" if r.n in floors else ""
        lines.append(
            f"| {r.n:,} | {name} | {'yes' if r.per_task else 'no'} | {_s(r.featurize)} | {_s(r.score)} | "
            f"{_s(r.build)} | {_s(r.total)} | **{r.rate:,.0f}** | {ratio} | {target} | {met} |"
        )
    return lines


def profile_table(steps: Sequence[Step]) -> list[str]:
    lines = ["| Step | s | CPU s in the client | Note |", "|---|---:|---:|---|"]
    lines += [f"| {s.name} | {_s(s.seconds)} | {_s(s.cpu) if s.cpu == s.cpu else ''} | {s.note} |" for s in steps]
    return lines


def section(command: str, notes: Sequence[str], milestones: Sequence[Milestone], throughput: Sequence[Throughput],
            profile: tuple[int, Sequence[Step]] | None, findings: Sequence[str]) -> str:
    body = [SECTION, "", f"Command: `{command}` (from the repository root).", "", *[f"- {n}" for n in notes], ""]
    if milestones:
        body += ["### Milestone to fresh scores in Label Studio", "", *milestone_table(milestones), "",
                 "Where the queue/other time goes (medians, from RQ's job timestamps):", "",
                 *timeline_table(milestones), ""]
    if profile:
        body += [f"### One rescore of the {profile[0]:,}-task pool, step by step", "",
                 "Each step alone, after the milestones, with the backend's own client and functions "
                 "(nothing else running in the benchmark's stack):", "", *profile_table(profile[1]), ""]
    if throughput:
        body += ["### Scoring throughput without Label Studio I/O", "", *throughput_table(throughput), ""]
    if findings:
        body += ["### Findings", "", *[f"- {f}" for f in findings], ""]
    return "\n".join(body)


def findings(milestones: Sequence[Milestone], profile: tuple[int, Sequence[Step]] | None) -> list[str]:
    """Where the time goes, in numbers from this run (medians over the repeats of the largest pool)."""
    out: list[str] = []
    if milestones:
        size = max(m.size for m in milestones)
        mine = [m for m in milestones if m.size == size]
        total = statistics.median(m.total for m in mine)
        parts = {name: statistics.median(getattr(m, key) for m in mine) for name, key in (
            ("push", "push"), ("reading the pool", "read"), ("queue/other", "overhead"),
            ("reading labels", "train_read"), ("scoring", "score"), ("fitting", "train_fit"))}
        ranked = ", ".join(f"{name} {v:.1f} s ({v / total:.0%})" for name, v in
                           sorted(parts.items(), key=lambda kv: -kv[1]))
        head = statistics.median(m.head_total for m in mine)
        out.append(f"{size:,}-task pool: the head fresh {head:.1f} s after the milestone, the whole pool "
                   f"{total:.1f} s; {ranked}.")
    if profile:
        steps = {s.name: s for s in profile[1]}
        few = steps.get("push: import 10 predictions")
        if few is not None:
            out.append(f"Every import request pays a fixed {few.seconds:.1f} s at {profile[0]:,} tasks, even for 10 "
                       "predictions: Label Studio 1.23 recounts the annotations and predictions of every task of "
                       "the project inside the request (synchronously: its open-source settings disable Redis).")
        chunked, single = steps.get("push: import the predictions"), steps.get(
            "push: import the predictions in ONE request")
        if chunked is not None and single is not None:
            out.append(f"Importing the pool's predictions: {chunked.seconds:.1f} s as requests of up to "
                       f"{MAX_PREDICTIONS_PER_REQUEST:,}, {single.seconds:.1f} s as one request.")
        texts = next((s for s in profile[1] if s.name.startswith("read the unlabeled pool, pages")), None)
        ids = next((s for s in profile[1] if s.name.startswith("read the unlabeled pool's ids only")), None)
        if texts is not None and ids is not None:
            out.append(f"Reading the pool's ids alone took {ids.seconds:.1f} s against {texts.seconds:.1f} s with the "
                       "texts: the Data Manager's task list loads every listed task's annotations and predictions "
                       "(of every kept version) whatever fields are asked for, so its cost is per task, not per byte.")
        horse = next((s for s in profile[1] if s.name.startswith("job start-up")), None)
        if horse is not None:
            out.append(f"Each job's work horse imports the job module anew: {horse.seconds:.1f} s here, paid twice "
                       "per milestone (retrain, rescore) and counted in queue/other.")
    return out


def write_section(new_section: str, path: Path = REPO / "BENCHMARKS.md") -> None:
    """Replace this benchmark's section of BENCHMARKS.md; every other section stays as it is."""
    bench_docs.write_section(SECTION, new_section, path)
