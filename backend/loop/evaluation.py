"""Each model version explains itself: metrics, learning curve, when to stop, labels to doubt.

Runs as its own job right after a version's rescore (on the maintenance queue, so fresh
scores never wait for it), on exactly the labels the version was trained on: they travel
inside the artifact. Everything lands in the version's artifact folder (``metrics.json``,
``learning_curve.png``, ``report.html``, ``stop_predictions.json``) and the version's
accuracy and macro-F1 in its Redis record, where ``/versions`` and ``/metrics`` read them.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import numpy as np

from backend.loop.services import Services
from backend.reports.page import learning_curve_png, render_report
from backend.reports.stopping import VersionRecord, suggest_stop
from backend.tasks.text_classification.doubt import annotator_agreement, class_balance, doubtful_labels
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.metrics import evaluate
from backend.tasks.text_classification.model import TextModel

log = logging.getLogger(__name__)
TRAINING_FILE = "training.json"
STOP_SET_FILE = "stop_set.json"
STOP_PREDICTIONS_FILE = "stop_predictions.json"
METRICS_FILE = "metrics.json"
#: Unlabeled tasks sampled once per project: consecutive versions' predictions on them show
#: whether the model has stopped changing (stabilizing predictions).
STOP_SET_SIZE = 1000


def iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)) + f"{epoch % 1:.3f}"[1:]


def training_record(task_ids: list[int], texts: list[str], votes: list[tuple[int, Any, Any]]) -> bytes:
    """What the evaluation needs of the labels besides the model: ids, texts, who said what."""
    return json.dumps({"task_ids": task_ids, "texts": [t[:500] for t in texts],
                       "votes": [[t, str(a), v] for t, a, v in votes]}).encode()


def ensure_stop_set(svc: Services, project: int, tasks: list[dict[str, Any]], texts: list[str]) -> None:
    """Pick the project's stop set once, from the unlabeled pool, reproducibly."""
    path = svc.store.root / f"project-{project}" / STOP_SET_FILE
    if path.exists() or not tasks:
        return
    rng = np.random.default_rng(project)
    chosen = rng.choice(len(tasks), size=min(STOP_SET_SIZE, len(tasks)), replace=False)
    data = {str(tasks[i]["id"]): texts[i][:2000] for i in sorted(chosen)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def _stop_predictions(svc: Services, project: int, model: TextModel) -> tuple[dict[str, Any], np.ndarray | None]:
    path = svc.store.root / f"project-{project}" / STOP_SET_FILE
    if not path.exists():
        return {}, None
    stop_set: dict[str, str] = json.loads(path.read_text())
    proba = model.predict_proba(featurize(list(stop_set.values())))
    if model.multilabel:
        values: list[Any] = [[model.labels[j] for j in np.flatnonzero(row >= 0.5)] for row in proba]
    else:
        values = [model.labels[int(j)] for j in proba.argmax(axis=1)]
    return dict(zip(stop_set, values, strict=True)), proba


def _history(svc: Services, project: int) -> tuple[list[VersionRecord], dict[str, Any]]:
    records, stop_sets = [], {}
    for record in svc.state.versions(project):
        if record.get("n_labels") is None:
            continue
        records.append(VersionRecord.from_dict({**record, "created_at": iso(float(record.get("created_at", 0)))}))
        predictions = svc.store.read_json(project, record["version"], STOP_PREDICTIONS_FILE)
        if predictions is not None:
            stop_sets[record["version"]] = predictions
    return records, stop_sets


def evaluate_version(project: int, version: str, ls_url: str, svc: Services) -> dict[str, Any]:
    """Compute and store the version's report; returns the ``metrics.json`` content."""
    model = svc.store.load(project, version)
    training = svc.store.read_json(project, version, TRAINING_FILE) or {}
    targets = model.targets if model.targets is not None else np.zeros(0, dtype=int)
    counts = model.train_counts if model.train_counts is not None else featurize([])
    evaluation = evaluate(counts, targets, model.labels, model.multilabel, random_state=0)
    task_ids = training.get("task_ids") or list(range(len(targets)))
    texts = training.get("texts") or None
    doubts = (doubtful_labels(evaluation.oof_proba, targets, task_ids, model.labels, model.multilabel, texts)
              if evaluation.oof_proba is not None else [])
    agreement = annotator_agreement([tuple(v) for v in training.get("votes", [])])
    stop_predictions, stop_proba = _stop_predictions(svc, project, model)
    balance = (class_balance(targets, stop_proba, model.labels, model.multilabel)
               if stop_proba is not None and len(targets) else None)
    svc.store.add_file(project, version, STOP_PREDICTIONS_FILE, json.dumps(stop_predictions).encode())
    record = {**svc.state.version_record(project, version), "accuracy": evaluation.metrics.get("accuracy"),
              "macro_f1": evaluation.metrics.get("macro_f1"), "metrics_status": evaluation.metrics.get("status")}
    svc.state.update_version(project, version, record)
    records, stop_sets = _history(svc, project)
    suggestion = suggest_stop(records, stop_sets)
    report = {
        "version": version, "evaluation": evaluation.to_dict(), "learning_curve": suggestion.curve.to_dict(),
        "stopping": suggestion.to_dict(), "doubtful_labels": [d.to_dict() for d in doubts],
        "annotator_agreement": agreement.to_dict(), "class_balance": balance.to_dict() if balance else None,
    }
    svc.store.add_file(project, version, METRICS_FILE, json.dumps(report, default=str).encode())
    svc.store.add_file(project, version, "learning_curve.png", learning_curve_png(suggestion.curve))
    html = render_report(project=project, version=version, ls_url=ls_url, evaluation=evaluation,
                         stop=suggestion, doubts=doubts, agreement=agreement, balance=balance,
                         generated_at=iso(time.time()))
    svc.store.add_file(project, version, "report.html", html.encode())
    log.info("project %s: report of %s: accuracy %s, stop: %s", project, version,
             evaluation.metrics.get("accuracy"), suggestion.stop)
    return report
