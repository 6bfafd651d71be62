"""What a few predictions cost Label Studio 1.23 in a large project, by write path.

The head of the queue (a few dozen tasks) must be fresh within seconds after a retrain, but
one bulk import recounts every task of the project (about 11 s at 10,000 tasks, whatever it
carries). This times, per project size, on a fresh local Label Studio:

* one bulk import (``POST /api/projects/{id}/import/predictions``) of ``--head`` predictions;
* the same predictions one per ``POST /api/predictions`` request, one after another and from
  ``--threads`` threads;
* counting the project's tasks through the project list (``include=id,task_number``), the
  check the cached pool makes before it is used;
* with ``--flag``, all of it on a Label Studio started with its memory-efficient import
  flag on (that import recounts only the tasks it wrote).

One JSON line per size, printed as soon as it is measured.

    python -m benchmarks.ls_head_writes --sizes 1000,10000
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from backend.labelstudio.client import LabelStudioClient
from backend.labelstudio.local import LocalLabelStudio
from benchmarks.loop_data import LABEL_CONFIG, expanded
from benchmarks.loop_project import LsHttp, choice

#: Label Studio's switch for the import path that recounts only the tasks written.
IMPORT_FLAG = "fflag_fix_back_4620_memory_efficient_predictions_import_08012025_short"


def timed(work: Callable[[], Any]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def predictions(task_ids: Sequence[int], version: str) -> list[dict[str, Any]]:
    return [{"task": t, "result": choice("DESC"), "score": round(i / len(task_ids), 6), "model_version": version}
            for i, t in enumerate(task_ids)]


def one_size(client: LabelStudioClient, ls: LsHttp, size: int, head: int, threads: int) -> dict[str, Any]:
    """Time each write path on a new project of ``size`` tasks."""
    project = client.create_project(f"head writes {size}", LABEL_CONFIG.read_text())
    ids = client.import_tasks(project, [{"data": {"text": t}} for t in expanded(size).texts])
    client.import_predictions(project, predictions(ids, "v-old"))
    row: dict[str, Any] = {"tasks": size, "head": head}
    row["count_tasks_s"] = timed(lambda: client.project_fields(project, "task_number"))
    row["bulk_s"] = timed(lambda: client.import_predictions(project, predictions(ids[:head], "v-bulk")))
    row["single_s"] = timed(lambda: [client.create_prediction(project, p) for p in predictions(ids[head:2 * head],
                                                                                               "v-single")])
    chunk = predictions(ids[2 * head:3 * head], "v-threads")
    with ThreadPoolExecutor(threads) as pool:
        row["single_threads_s"] = timed(lambda: list(pool.map(lambda p: client.create_prediction(project, p), chunk)))
    row["set_version_s"] = timed(lambda: client.set_model_version(project, "v-single"))
    head_tasks = ls.queue_head(project, head)
    row["queue_tab_head_is_version"] = all(t.get("predictions_score") is not None for t in head_tasks)
    ls.delete_project(project)
    return row


def measure(url: str, token: str, sizes: Sequence[int], head: int, threads: int, flag: bool) -> list[dict[str, Any]]:
    rows = []
    with LabelStudioClient(url, token) as client:
        ls = LsHttp(url, token)
        for size in sizes:
            row = {**one_size(client, ls, size, head, threads), "flag": flag}
            print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
            rows.append(row)
    return rows


def run(sizes: Sequence[int], head: int, threads: int, extra_env: dict[str, str]) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="lsa-head-") as tmp, \
            LocalLabelStudio(Path(tmp) / "ls", extra_env=extra_env) as server:
        return measure(server.url, server.token, sizes, head, threads, bool(extra_env))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--head", type=int, default=40, help="predictions per write path")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--flag", action="store_true", help="with the memory-efficient import flag on")
    parser.add_argument("--ls-url", default="", help="a running Label Studio 1.23 (else one is started)")
    parser.add_argument("--ls-token", default="", help="its legacy API token")
    parser.add_argument("--ls-flagged", action="store_true",
                        help=f"the given Label Studio runs with {IMPORT_FLAG}=true (for the output only)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.ls_url:
        measure(args.ls_url, args.ls_token, sizes, args.head, args.threads, args.ls_flagged)
    else:
        run(sizes, args.head, args.threads, {IMPORT_FLAG: "true"} if args.flag else {})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
