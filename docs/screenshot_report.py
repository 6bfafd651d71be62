"""The report page of a trained version, from a running ``ls-active demo``.

    ls-active demo --dir demo-data            # in another terminal, until "ready"
    python docs/screenshot_report.py --demo-dir demo-data --labels 200

Labels the tasks Label Studio serves (Uncertainty sampling, as an annotator meets them) with
their true labels from the demo's CSV, through the API, until ``--labels`` tasks are labeled;
waits for the report of the version trained on them, then saves
``docs/img/report.png`` with headless Chromium (no browser driver needed: the page is
server-rendered and its plot is an inline image).
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo_api import OUT, _api, demo_login

TREC6 = Path(__file__).resolve().parents[1] / "datasets" / "trec6.csv"


def gold_by_text(path: Path) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["text"]: row["label"] for row in csv.DictReader(handle)}


def labeled(url: str, token: str, project: int) -> int:
    return int(_api(url, token, "GET", f"/api/projects/{project}/")["num_tasks_with_annotations"])


def label_served(url: str, token: str, project: int, gold: dict[str, str], labels: int) -> None:
    """Label what Label Studio serves next until ``labels`` tasks carry a label."""
    while labeled(url, token, project) < labels:
        task = _api(url, token, "GET", f"/api/projects/{project}/next/")
        choice = gold[task["data"]["text"]]
        result = [{"from_name": "label", "to_name": "text", "type": "choices", "origin": "manual",
                   "value": {"choices": [choice]}}]
        _api(url, token, "POST", f"/api/tasks/{task['id']}/annotations/", {"result": result})


def wait_for_report(backend: str, project: int, labels: int, timeout: float) -> dict[str, Any]:
    """The version record whose report is out, once one was trained on at least ``labels`` labels."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{backend}/metrics?project={project}", timeout=30) as answer:
            metrics = json.loads(answer.read())["projects"][str(project)]
        record = next((r for r in metrics["versions"] if r.get("version") == metrics["report_version"]), {})
        if int(record.get("n_labels") or 0) >= labels:
            return dict(record)
        time.sleep(2)
    raise SystemExit(f"no report of a version trained on {labels} labels within {timeout:.0f} s")


def shoot_page(chromium: str, url: str, out: Path) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={profile}", "--window-size=1200,1500", "--force-device-scale-factor=1",
                        "--hide-scrollbars", "--virtual-time-budget=5000", f"--screenshot={out}", url],
                       check=True, capture_output=True, timeout=120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo-dir", type=Path, default=Path("demo-data"))
    parser.add_argument("--data", type=Path, default=TREC6, help="the CSV the demo imported (text, label)")
    parser.add_argument("--labels", type=int, default=200)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    demo = demo_login(args.demo_dir)
    backend = json.loads((args.demo_dir / "demo.json").read_text())["backend_url"].rstrip("/")
    label_served(demo["url"], demo["token"], demo["project"], gold_by_text(args.data), args.labels)
    record = wait_for_report(backend, demo["project"], args.labels, args.timeout)
    out = OUT / "report.png"
    shoot_page(args.chromium, f"{backend}/report/{demo['project']}", out)
    print(f"saved {out} ({record['version']}, {record['n_labels']} labels)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
