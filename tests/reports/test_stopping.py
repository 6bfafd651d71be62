"""Learning curve and stopping criteria, on constructed records and on real trec6 models."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from backend.reports.stopping import (
    VersionRecord,
    learning_curve,
    stop_set_agreement,
    suggest_stop,
)
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.metrics import evaluate
from backend.tasks.text_classification.model import train_model
from tests.conftest import load_rows

STOP_SET = range(4000, 5000)  # rows never used for training below


@pytest.fixture(scope="module")
def trec() -> tuple[sp.csr_matrix, np.ndarray, list[str]]:
    rows = [r for r in load_rows("trec6.csv") if r["split"] == "train"]
    order = np.random.default_rng(1).permutation(len(rows))
    labels = sorted({r["label"] for r in rows})
    y = np.array([labels.index(rows[i]["label"]) for i in order])
    return featurize([rows[i]["text"] for i in order]), y, labels


def records(*points: tuple[int, float | None]) -> list[VersionRecord]:
    return [VersionRecord(f"v{i}", f"2025-01-01T00:{i:02d}:00", n, acc, acc)
            for i, (n, acc) in enumerate(points)]


def run(trec: tuple[Any, ...], sizes: list[int]) -> tuple[list[VersionRecord], dict[str, Any]]:
    """Versions trained on the first ``sizes`` labels, each predicting the same stop set."""
    counts, y, labels = trec
    recs, stop_set = [], {}
    with threadpool_limits(limits=1):
        for i, n in enumerate(sizes):
            pred = train_model(counts[:n], y[:n], labels).predict_proba(counts[STOP_SET])
            stop_set[f"v{i}"] = {t: labels[p] for t, p in zip(STOP_SET, pred.argmax(1), strict=True)}
            recs.append(VersionRecord(f"v{i}", f"2025-01-01T00:{i:02d}:00", n, None, None))
    return recs, stop_set


@pytest.mark.slow
def test_learning_curve_grows_with_versions(trec: tuple[Any, ...]) -> None:
    counts, y, labels = trec
    recs = []
    for i, n in enumerate([40, 80, 160, 320, 640]):
        m = evaluate(counts[:n], y[:n], labels).metrics
        recs.append(VersionRecord(f"v{i}", f"t{i}", n, m["accuracy"], m["macro_f1"]))
    curve = learning_curve(recs)
    acc = [a for _, a in curve.points]
    assert [n for n, _ in curve.points] == [40, 80, 160, 320, 640]
    assert all(b > a - 0.01 for a, b in pairwise(acc)), acc
    assert acc[-1] > acc[0] + 0.15
    assert all(step.gain_per_100 > -2 for step in curve.steps)
    assert curve.trend == "rising" and len(curve.macro_f1_points) == 5


def test_gain_per_100_labels_and_trend() -> None:
    curve = learning_curve(records((100, 0.50), (200, 0.60), (300, 0.62), (400, 0.625)))
    assert [s.gain_per_100 for s in curve.steps] == pytest.approx([10.0, 2.0, 0.5])
    assert curve.recent_span == (100, 400) and curve.trend == "rising"
    flat = learning_curve(records((1000, 0.80), (1100, 0.802), (1200, 0.801), (1300, 0.803)))
    assert flat.trend == "flattening" and abs(flat.recent_gain_per_100 or 0) < 0.5
    falling = learning_curve(records((1000, 0.80), (1100, 0.78), (1200, 0.77), (1300, 0.75)))
    assert falling.trend == "falling"
    assert learning_curve(records((10, None), (20, 0.4))).trend == "unknown"


def test_recent_gain_needs_enough_labels_in_its_window() -> None:
    """Steps of 10 labels are stretched back until the window spans ``min_span`` labels."""
    pts = [(n, 0.5 + n / 10_000) for n in range(1000, 1260, 10)]
    curve = learning_curve(records(*pts), min_span=200)
    assert curve.recent_span is not None
    assert curve.recent_span[1] - curve.recent_span[0] >= 200
    assert curve.recent_gain_per_100 == pytest.approx(1.0)
    short = learning_curve(records(*pts[:5]), min_span=200)
    assert short.recent_gain_per_100 is None and short.trend == "unknown"


def test_records_are_ordered_by_creation_and_read_from_dicts() -> None:
    raw = [{"version": "b", "created_at": "2025-02", "n_labels": 200, "accuracy": 0.7,
            "macro_f1": None},
           {"version": "a", "created_at": "2025-01", "n_labels": 100, "accuracy": 0.6}]
    curve = learning_curve([VersionRecord.from_dict(r) for r in raw])
    assert curve.points == [(100, 0.6), (200, 0.7)] and curve.macro_f1_points == []
    with pytest.raises(ValueError, match="metric"):
        learning_curve([], metric="recall")


@pytest.mark.slow
def test_stabilizing_predictions_fire_on_a_saturated_run(trec: tuple[Any, ...]) -> None:
    # Retrains every 10 labels (the default milestone) after 2,000 labels. Measured on this
    # split: kappa 0.996, 1.0, 0.998; on other splits of trec6 +10-label steps at 2,000-4,000
    # labels gave 0.983-1.0, and +50-label steps about 0.98.
    recs, stop_set = run(trec, [2000, 2010, 2020, 2030])
    suggestion = suggest_stop(recs, stop_set)
    kappas = [a.kappa for a in suggestion.agreements]
    assert all(k is not None and k >= 0.99 for k in kappas), kappas
    assert suggestion.stop
    fired = {c.name: c.fired for c in suggestion.criteria}
    assert fired == {"stabilizing predictions": True, "minimum gain": False}
    assert "kappa 0.99" in suggestion.message or "kappa 1.0" in suggestion.message
    assert suggestion.message.startswith("Labeling can stop")


def test_nothing_fires_early(trec: tuple[Any, ...]) -> None:
    recs, stop_set = run(trec, [30, 60, 90, 120])
    acc = [0.35, 0.45, 0.52, 0.55]
    recs = [VersionRecord(r.version, r.created_at, r.n_labels, a, a)
            for r, a in zip(recs, acc, strict=True)]
    suggestion = suggest_stop(recs, stop_set)
    assert not suggestion.stop
    assert all(a.kappa is not None and a.kappa < 0.9 for a in suggestion.agreements)
    assert suggestion.message.startswith("Keep labeling")
    assert "needs 4 evaluated versions spanning at least 200 labels" in suggestion.message


def test_minimum_gain_fires_on_a_flat_curve_and_says_why() -> None:
    recs = records((1500, 0.840), (1600, 0.842), (1700, 0.841), (1800, 0.843))
    suggestion = suggest_stop(recs)
    assert suggestion.stop
    gain = next(c for c in suggestion.criteria if c.name == "minimum gain")
    assert gain.fired and "from 1500 to 1800 labels" in gain.detail
    stab = next(c for c in suggestion.criteria if c.name == "stabilizing predictions")
    assert not stab.fired and "needs 3 consecutive pairs" in stab.detail


def test_stop_set_agreement_edge_cases() -> None:
    recs = records((100, None), (110, None), (120, None))
    same = {str(t): "A" if t % 2 else "B" for t in range(60)}
    small = {t: "A" for t in range(10)}
    agreements = stop_set_agreement(recs, {"v0": same, "v1": dict(same), "v2": small})
    assert agreements[0].kappa == 1.0 and agreements[0].n_tasks == 60  # ids as text or int
    assert agreements[1].kappa is None and agreements[1].n_tasks == 10  # too few shared
    multi = {"v0": {t: ["A", "B"] if t % 3 else ["A"] for t in range(60)},
             "v1": {t: ["B", "A"] if t % 3 else ["A"] for t in range(60)}}
    assert stop_set_agreement(recs, multi)[0].kappa == 1.0  # order of choices is irrelevant
    # one yes/no decision per (task, choice): 80 of 120 agree, chance agreement 0.5
    dropped = {"v0": multi["v0"], "v1": {t: ["A"] for t in range(60)}}
    assert stop_set_agreement(recs, dropped)[0].kappa == pytest.approx(1 / 3, abs=1e-4)
