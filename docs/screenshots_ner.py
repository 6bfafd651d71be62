"""A pre-annotated named-entity task in Label Studio's labeling screen, from ``ls-active demo``.

    RETRAIN_EVERY=40 ls-active demo --dir demo-ner --data datasets/btc.conll --limit 300
    python docs/screenshots_ner.py --demo-dir demo-ner --chromium /usr/bin/chromium

Labels the sentences Label Studio serves with their true entities from the CoNLL file (as
an annotator would, through the API) until a CRF version replaces the cold start, then opens
the first task of the "Active learning queue" tab whose prediction holds spans and saves
``docs/img/ner-labeling.png``. A CRF on a few hundred tweets predicts spans for few of the
rest: if no queue task has two, import more sentences of the file and run it again. The
tweets are the Broad Twitter Corpus (Derczynski,
Bontcheva and Roberts, COLING 2016; CC BY 4.0).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from screenshots import CHROMIUM_FLAGS, OUT, VIEWPORT, _api, demo_login, log_in, shoot

from backend.tasks.ner.conll import read_conll

BTC = Path(__file__).resolve().parents[1] / "datasets" / "btc.conll"


def label_until_trained(url: str, token: str, project: int, data: Path, labels: int, timeout: float) -> str:
    """Label ``labels`` served sentences with their true spans; the CRF version that follows."""
    gold = {s.text: s for s in read_conll(data)}
    for _ in range(labels):
        task = _api(url, token, "GET", f"/api/projects/{project}/next/")
        sentence = gold[task["data"]["text"]]
        result = [{"from_name": "label", "to_name": "text", "type": "labels", "origin": "manual",
                   "value": {"start": a, "end": b, "text": sentence.text[a:b], "labels": [label]}}
                  for a, b, label in sentence.spans()]
        _api(url, token, "POST", f"/api/tasks/{task['id']}/annotations/", {"result": result})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        version = str(_api(url, token, "GET", f"/api/projects/{project}")["model_version"] or "")
        if version.startswith("ls-active-v"):
            return version
        time.sleep(2)
    raise SystemExit(f"no trained version after {timeout:.0f} s; is RETRAIN_EVERY at most {labels}?")


def first_with_spans(url: str, token: str, view: int, version: str) -> tuple[int, Any]:
    """The first queue task (of 500) whose current prediction shows at least two spans."""
    page = _api(url, token, "GET", f"/api/tasks?view={view}&page=1&page_size=500&fields=all")
    for task in page["tasks"]:
        for prediction in task.get("predictions") or []:
            if prediction.get("model_version") == version and len(prediction.get("result") or []) >= 2:
                return int(task["id"]), prediction["result"]
    raise SystemExit("no task among the first 500 of the queue has a prediction with two spans")


def queue_view(url: str, token: str, project: int) -> int:
    for view in _api(url, token, "GET", f"/api/dm/views/?project={project}"):
        if view["data"].get("title") == "Active learning queue":
            return int(view["id"])
    raise SystemExit("the project has no 'Active learning queue' tab yet; wait for the demo's 'ready' line")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo-dir", type=Path, default=Path("demo-ner"), help="the folder of ls-active demo")
    parser.add_argument("--data", type=Path, default=BTC, help="the CoNLL file the demo imported")
    parser.add_argument("--labels", type=int, default=40, help="sentences to label before the picture")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="the Chromium executable to drive")
    args = parser.parse_args(argv)
    login = demo_login(args.demo_dir)
    url, token, project = login["url"], login["token"], login["project"]
    version = str(_api(url, token, "GET", f"/api/projects/{project}")["model_version"] or "")
    if not version.startswith("ls-active-v"):
        version = label_until_trained(url, token, project, args.data, args.labels, 600)
    view = queue_view(url, token, project)
    task, result = first_with_spans(url, token, view, version)
    print(f"task {task}, {version}: {[r['value']['text'] + '=' + r['value']['labels'][0] for r in result]}")
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": VIEWPORT["width"], "height": VIEWPORT["height"]})
        try:
            log_in(page, url, login["username"], login["password"])
            page.goto(f"{url}/projects/{project}/data?tab={view}&task={task}")
            page.get_by_text("Submit").first.wait_for(timeout=60_000)
            shoot(page, "ner-labeling.png")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
