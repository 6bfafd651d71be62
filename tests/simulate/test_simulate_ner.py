"""``ls-active simulate`` on a CoNLL file: entity F1 curves, cost in sentences and tokens."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from backend import cli
from backend.simulate.engine import run_curve, strategy_chooser
from backend.tasks.ner.conll import read_conll
from backend.tasks.ner.simulation import SpanData
from tests.conftest import DATA


@pytest.fixture(scope="module")
def small_conll(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 btc tweets, spread over the corpus, written back as a space-separated CoNLL file."""
    sentences = read_conll(DATA / "btc.conll")[::31][:300]
    path = tmp_path_factory.mktemp("conll") / "btc_small.conll"
    path.write_text("\n\n".join("\n".join(f"{w} {t}" for w, t in zip(s.words, s.tags, strict=True))
                                for s in sentences) + "\n", encoding="utf-8")
    return path


def test_simulate_reads_conll_and_counts_tokens(tmp_path: Path, small_conll: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = cli.main(["simulate", "--data", str(small_conll), "--strategies", "default,least_confident",
                     "--seeds", "2", "--batch-size", "10", "--budget", "60", "--output", str(out), "--no-progress"])
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert results["settings"]["kind"] == "ner" and results["settings"]["classes"] == ["LOC", "ORG", "PER"]
    assert set(results["strategies"]) == {"entropy_sum", "least_confident", "random"}
    for s in results["strategies"].values():
        assert s["labels"] == [10, 20, 30, 40, 50, 60]
        assert all(a < b for a, b in zip(s["cost_mean"], s["cost_mean"][1:], strict=False)), "tokens grow"
        assert s["cost_mean"][0] > 10, "ten tweets hold more than ten tokens"
    assert 0.1 < results["full_pool_accuracy"] < 1.0
    assert "entropy_sum" in capsys.readouterr().out


def test_a_seed_reproduces_its_curve_and_entity_f1_grows(small_conll: Path) -> None:
    sentences = read_conll(small_conll)
    data = SpanData(tuple(sentences), ("LOC", "ORG", "PER"), "small")
    prepared = data.prepare()
    curves = []
    for _ in range(2):
        pool, test = data.split_rows(3)
        learner = data.learner(pool, test, prepared)
        curves.append(run_curve(learner, strategy_chooser("least_confident", data), 20, 120, seed=3))
    assert curves[0].accuracy == curves[1].accuracy and curves[0].cost == curves[1].cost
    assert np.mean(curves[0].accuracy[-2:]) > curves[0].accuracy[0]


def test_a_committee_runs_in_the_simulation(small_conll: Path) -> None:
    data = SpanData(tuple(read_conll(small_conll)), ("LOC", "ORG", "PER"), "small")
    pool, test = data.split_rows(0)
    curve = run_curve(data.learner(pool, test), strategy_chooser("committee", data), 10, 30, seed=0)
    assert curve.labels == [10, 20, 30] and len(curve.cost) == 3
