"""The service against a real Label Studio 1.23: connect, retrieve predictions, train, order.

Label Studio itself calls ``/health``, ``/setup`` and ``/predict`` here; only the training
step is run by hand (``ls-active train``), as an admin would before the loop is automatic.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from backend.defaults import COLD_START_VERSION
from backend.loop.store import ArtifactStore
from backend.tasks.text_classification.features import featurize
from strategies import measures
from tests.conftest import ROOT, Backend, backend_env
from tests.ls_fixtures import LsProject, MakeProject
from tests.lsapi import LsApi


@pytest.fixture
def backend(redis_url: str, tmp_path: Path) -> Iterator[Backend]:
    """A backend of its own: its models are those of a real Label Studio project, whose id
    the session's shared backend may meet again in tests that make up project ids."""
    server = Backend(backend_env(redis_url, tmp_path), tmp_path)
    yield server
    server.stop()


def test_retrieve_predictions_then_train_orders_least_confident_first(
    backend: Backend, label_studio: object, make_project: MakeProject
) -> None:
    ls = LsApi(label_studio.url, label_studio.token)  # type: ignore[attr-defined]
    project: LsProject = make_project(300)
    ml = ls.connect_backend(project.id, backend.url, extra_params={"strategy": "least_confidence"})
    assert ml["state"] == "CO", ml
    assert ml["model_version"] == COLD_START_VERSION
    webhooks = ls.call("GET", f"api/webhooks/?project={project.id}")
    assert any(w["url"].startswith(backend.url) for w in webhooks), "Label Studio created no webhook"

    ls.retrieve_predictions(project.id)
    first = ls.predictions(project.id)
    assert sorted(first) == sorted(project.task_ids)
    assert all(len(preds) == 1 and 0.0 <= preds[0]["score"] <= 1.0 for preds in first.values())
    assert {preds[0]["model_version"] for preds in first.values()} == {COLD_START_VERSION}

    labeled = project.task_ids[:40]
    for task_id in labeled:
        project.annotate(task_id)
    env = {**backend.env, "LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-m", "backend.cli", "train", "--project", str(project.id)],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "published ls-active-v1-" in done.stdout
    version = done.stdout.split("published ")[1].split()[0]

    ls.retrieve_predictions(project.id)  # Label Studio asks /setup for the version, then /predict
    latest = {t: [p for p in preds if p["model_version"] == version] for t, preds in ls.predictions(project.id).items()}
    unlabeled = [t for t in project.task_ids if t not in labeled]
    assert all(len(latest[t]) == 1 for t in unlabeled)
    ls.call("PATCH", f"api/projects/{project.id}", json={"model_version": version})

    order = ls.unlabeled_by_score(project.id)
    scores = [t["predictions_score"] for t in order]
    assert scores == sorted(scores)
    model = ArtifactStore(backend.model_dir).load(project.id, version)
    texts = dict(zip(project.task_ids, project.texts, strict=True))
    proba = model.predict_proba(featurize([texts[t] for t in unlabeled]))
    least_confident = unlabeled[int(np.argmax(measures.least_confidence(proba)))]
    top_score = order[0]["predictions_score"]
    tied = [t["id"] for t in order if t["predictions_score"] == top_score]
    assert least_confident in tied
    # and its prediction names a class
    (pred,) = latest[order[0]["id"]]
    assert pred["result"][0]["value"]["choices"][0] in project.labels
