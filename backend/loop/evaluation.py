"""Each model version explains itself: its audit estimate, the kind's figures, the curve, when to stop.

Runs as its own job right after a version's rescore (on the maintenance queue, so fresh
scores never wait for it), on exactly the labels the version was trained on: they travel
with the artifact. Everything lands in the version's artifact folder (``metrics.json``,
``learning_curve.png``, ``report.html``, ``stop_predictions.json``) and the headline
figures in its Redis record, where ``/versions`` and ``/metrics`` read them.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from backend.loop.audit_estimate import version_audit
from backend.loop.services import Services
from backend.loop.stopset import read_stop_set
from backend.loop.training import TRAINING_FILE
from backend.reports.estimate import Estimate
from backend.reports.page import learning_curve_png, render_report
from backend.reports.stopping import VersionRecord, suggest_stop
from backend.tasks import kind_of

log = logging.getLogger(__name__)
STOP_PREDICTIONS_FILE = "stop_predictions.json"
METRICS_FILE = "metrics.json"
REPORT_FILE = "report.html"


def iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)) + f"{epoch % 1:.3f}"[1:]


def readable_time(epoch: float) -> str:
    """What the report page shows: ``2026-12-01 22:29 UTC``."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))


def contract(est: Estimate) -> dict[str, Any]:
    """The ``estimate`` field of ``/metrics``: null figures below the minimum audit count."""
    data = est.to_dict()
    return {"accuracy": data["accuracy"], "low": data["low"], "high": data["high"], "macro_f1": data["macro_f1"],
            "n_audit": data["n_audit"], "method": "audit", "macro_f1_low": data["macro_f1_low"],
            "macro_f1_high": data["macro_f1_high"], "needed": data["needed"], "min_audit": data["min_audit"],
            "measure": data["measure"]}


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


def evaluate_version(svc: Services, project: int, version: str, ls_url: str) -> dict[str, Any]:
    """Compute and store the version's report; returns the ``metrics.json`` content."""
    config = svc.state.config(project)
    model = svc.store.load(project, version)
    if config is None:
        raise LookupError(f"project {project} has no stored config; it is set up again at the next /setup")
    kind = kind_of(config.schema)
    training = svc.store.read_json(project, version, TRAINING_FILE)
    figures = kind.evaluate(model, training, read_stop_set(svc, project), config.schema, ls_url=ls_url,
                            project=project)
    svc.store.add_file(project, version, STOP_PREDICTIONS_FILE, json.dumps(figures.stop_predictions).encode())
    before, _ = _history(svc, project)
    audit = version_audit(svc, project, kind, model, training, [r for r in before if r.version != version])
    record = {**svc.state.version_record(project, version), **figures.headline, "metrics_status": figures.status,
              "estimate": audit.estimate.to_dict(), "gain": audit.gain.to_dict() if audit.gain else None}
    svc.state.update_version(project, version, record)
    records, stop_sets = _history(svc, project)
    suggestion = suggest_stop(records, stop_sets, audit.gain, min_audit=audit.estimate.min_audit)
    report = {"version": version, "options": record.get("options"), **figures.sections,
              "estimate": contract(audit.estimate),
              "stop": suggestion.contract(), "labels_saved": audit.saving.to_dict() if audit.saving else None,
              "audit_gain": audit.gain.to_dict() if audit.gain else None,
              "learning_curve": suggestion.curve.to_dict(), "stopping": suggestion.to_dict()}
    svc.store.add_file(project, version, METRICS_FILE, json.dumps(report, default=str).encode())
    svc.store.add_file(project, version, "learning_curve.png", learning_curve_png(suggestion.curve))
    html = render_report(project=project, version=version, ok=figures.ok, summary_html=figures.summary_html,
                         details_html=figures.details_html, footer=figures.footer, stop=suggestion,
                         generated_at=readable_time(time.time()),
                         title=str(svc.state.status(project).get("title") or ""),
                         estimate=audit.estimate, saving=audit.saving, settings=record.get("options"),
                         from_project=record.get("options_from_project") or ())
    svc.store.add_file(project, version, REPORT_FILE, html.encode())
    log.info("project %s: report of %s: %s, stop: %s", project, version, figures.headline, suggestion.stop)
    return report
