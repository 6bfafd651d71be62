"""``ls-active simulate`` end to end on small real data, plus its error messages."""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits

from backend import cli
from backend.simulate import command as simulate
from backend.simulate.engine import run_curve, strategy_chooser
from backend.simulate.results import aulc, labels_to
from backend.tasks.text_classification.calibration import ece, scale
from backend.tasks.text_classification.labeled import load_data, split_rows
from backend.tasks.text_classification.learners import TextLearner, make_learner, text_counts
from backend.tasks.text_classification.model import DEFAULT_CALIBRATE
from strategies import DEFAULT_STRATEGY, STRATEGIES
from tests.conftest import DATA, record_fits

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def trec_rows() -> list[dict[str, str]]:
    """240 training rows and 60 test rows of trec6, the same every run."""
    with open(DATA / "trec6.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rng = random.Random(7)
    train = rng.sample([r for r in rows if r["split"] == "train"], 240)
    test = rng.sample([r for r in rows if r["split"] == "test"], 60)
    return train + test


def numeric_rows(x: np.ndarray, y: np.ndarray) -> list[dict[str, Any]]:
    return [{**{f"f{j}": float(v) for j, v in enumerate(row)}, "label": f"class_{t}"}
            for row, t in zip(x, y, strict=True)]


def check_results(out: Path, names: set[str], batch: int, budget: int) -> dict[str, Any]:
    """The promises results.json makes, checked for every strategy."""
    results = json.loads((out / "results.json").read_text())
    full = results["full_pool_accuracy"]
    assert 0.0 < full <= 1.0
    assert set(results["strategies"]) == names
    for name, s in results["strategies"].items():
        labels = s["labels"]
        assert labels == list(range(batch, budget + 1, batch)), name
        n = len(labels)
        assert len(s["accuracy_mean"]) == len(s["accuracy_std"]) == len(s["f1_macro_mean"]) == n
        for key in ("accuracy_mean", "f1_macro_mean"):
            assert all(0.0 <= v <= 1.0 for v in s[key]), (name, key)
        assert all(v >= 0.0 for v in s["accuracy_std"])
        assert len(s["ece_mean"]) == n and all(0.0 <= v <= 1.0 for v in s["ece_mean"]), name
        for pct in (90, 95, 99):
            target, reached = full * pct / 100, s[f"labels_to_{pct}"]
            hits = [lab for lab, acc in zip(labels, s["accuracy_mean"], strict=True)
                    if acc >= target - 1e-9]
            assert reached == (hits[0] if hits else None), (name, pct)
        assert s["aulc"] == pytest.approx(np.trapezoid(s["accuracy_mean"], labels)
                                          / (labels[-1] - labels[0]), abs=1e-5)
    png = (out / "learning_curves.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 5_000
    return results


@pytest.mark.slow
def test_text_run_with_split_column(tmp_path: Path, trec_rows: list[dict[str, str]],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    data = write_csv(tmp_path / "trec.csv", trec_rows)
    out = tmp_path / "out"
    code = cli.main(["simulate", "--data", str(data), "--strategies", "default,entropy", "--seeds", "2",
                          "--batch-size", "20", "--budget", "100", "--output", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    results = check_results(out, {DEFAULT_STRATEGY, "entropy", "random"}, 20, 100)
    assert results["settings"]["n_test"] == 60  # the split column's test rows
    assert results["settings"]["default_strategy"] == DEFAULT_STRATEGY
    assert list(results["strategies"])[-1] == "random"
    assert "round" in captured.err  # the progress bar goes to stderr
    table = captured.out
    assert "saved at 95%" in table and DEFAULT_STRATEGY in table and "random" in table


def test_numeric_csv_breast_cancer(tmp_path: Path) -> None:
    x, y = load_breast_cancer(return_X_y=True)
    data = write_csv(tmp_path / "bc.csv", numeric_rows(x, y))
    out = tmp_path / "out"
    code = cli.main(["simulate", "--data", str(data), "--feature-columns", "all", "--strategies",
                          "margin,coreset", "--seeds", "2", "--batch-size", "10", "--budget", "60",
                          "--output", str(out), "--no-progress"])
    assert code == 0
    results = check_results(out, {"margin", "coreset", "random"}, 10, 60)
    assert results["settings"]["n_test"] == round(0.2 * len(y))  # stratified hold-out
    # Breast cancer is easy: a linear model on 60 labels is far above chance.
    assert results["strategies"]["margin"]["accuracy_mean"][-1] > 0.85


def test_numeric_json_digits_in_parallel(tmp_path: Path) -> None:
    x, y = load_digits(return_X_y=True)
    keep = np.random.default_rng(0).choice(len(y), 400, replace=False)
    path = tmp_path / "digits.json"
    path.write_text(json.dumps(numeric_rows(x[keep], y[keep])))
    out = tmp_path / "out"
    columns = ",".join(f"f{j}" for j in range(64))
    code = cli.main(["simulate", "--data", str(path), "--feature-columns", columns, "--strategies",
                          "default", "--seeds", "2", "--batch-size", "20", "--budget", "80",
                          "--output", str(out), "--jobs", "2", "--no-progress"])
    assert code == 0
    check_results(out, {DEFAULT_STRATEGY, "random"}, 20, 80)


def test_a_seed_reproduces_its_curve() -> None:
    x, y = load_breast_cancer(return_X_y=True)
    from backend.tasks.text_classification.labeled import LabeledData

    data = LabeledData(labels=("a", "b"), targets=y.astype(np.intp), matrix=x, name="bc")
    curves = []
    for _ in range(2):
        pool, test = split_rows(data, 3)
        learner = make_learner(data, pool, test)
        curves.append(run_curve(learner, strategy_chooser(DEFAULT_STRATEGY), 10, 40, 3))
    assert curves[0].accuracy == curves[1].accuracy
    assert curves[0].labels == [10, 20, 30, 40]


def test_the_strategy_chooses_from_a_model_without_audit_labels_and_measures_one_with_all() -> None:
    """As the service does by default: the strategy must not steer by the labels the estimate
    is judged on; the measured model still learns from every label."""
    x, y = load_breast_cancer(return_X_y=True)
    from backend.tasks.text_classification.labeled import LabeledData

    data = LabeledData(labels=("a", "b"), targets=y.astype(np.intp), matrix=x, name="bc")
    pool, test = split_rows(data, 4)
    learner = make_learner(data, pool, test)
    fits = record_fits(learner)
    left_out: list[set[int]] = []
    choose = strategy_chooser(DEFAULT_STRATEGY)

    def spy(learner: Any, remaining: Any, labeled: Any, k: int, rng: Any) -> Any:
        if len(labeled):
            steering = set(fits[-1].tolist())
            assert steering < set(labeled.tolist()), "the choosing model trains on known labels only"
            left_out.append(set(labeled.tolist()) - steering)
        return choose(learner, remaining, labeled, k, rng)

    run_curve(learner, spy, 10, 200, 4, audit_share=0.2, audit_every=5)
    assert [len(rows) for rows in left_out] == [2 * r for r in range(1, 20)], "2 audit draws a round, all left out"
    assert all(a < b for a, b in itertools.pairwise(left_out)), "an audit row stays left out"
    assert len(fits[-1]) == 200, "the measured model trains on every label, audit ones included"


def test_the_audit_rows_calibrate_what_the_strategy_and_the_test_rows_see() -> None:
    """As the service's retrain does by default: one temperature fitted on the choosing model's
    probabilities of the labeled audit rows (which it did not train on)."""
    data = load_data(DATA / "trec6.csv")
    pool, test = split_rows(data, 1)
    counts = text_counts(data)
    learners = {mode: TextLearner(counts, pool, test, data.targets, data.labels, model={"calibrate": mode})
                for mode in ("audit", "off")}
    seen: list[tuple[float, Any, Any]] = []
    choose = strategy_chooser(DEFAULT_STRATEGY)

    def spy(learner: Any, remaining: Any, labeled: Any, k: int, rng: Any) -> Any:
        if learner.proba is not None:
            seen.append((learner.temperature, learner.proba[remaining[:5]].copy(), learner._raw[0][remaining[:5]]))
        return choose(learner, remaining, labeled, k, rng)

    curves = {mode: run_curve(learner, spy if mode == "audit" else choose, 10, 400, 1, audit_share=0.2,
                              audit_every=10**6) for mode, learner in learners.items()}
    calibrated, plain = learners["audit"], learners["off"]
    for mode, curve in curves.items():  # results.json's ece_mean is the mean of these
        assert len(curve.ece) == 40
        assert curve.ece[-1] == pytest.approx(ece(learners[mode].test_proba, learners[mode].y_test), abs=1e-6)
    assert plain.temperature == 1.0 and 0.05 < calibrated.temperature < 0.9  # under-confident, sharpened
    assert ece(calibrated.test_proba, calibrated.y_test) < ece(plain.test_proba, plain.y_test) / 2
    temperature, proba, raw = seen[-1]
    assert temperature == calibrated.temperature != 1.0
    np.testing.assert_allclose(proba, scale(raw, temperature))  # the strategy ranked with the scaled ones
    assert (proba.max(axis=1) > raw.max(axis=1)).all()
    assert DEFAULT_CALIBRATE == "audit" and make_learner(data, pool, test).audit_calibration


def test_all_and_default_resolve_through_the_registry() -> None:
    assert simulate.resolve_strategies("default") == [DEFAULT_STRATEGY, "random"] or (
        DEFAULT_STRATEGY == "random" and simulate.resolve_strategies("default") == ["random"]
    )
    everything = simulate.resolve_strategies("all")
    assert set(everything) == set(STRATEGIES) and everything[-1] == "random"
    assert simulate.resolve_strategies("random,margin,margin") == ["margin", "random"]


def test_add_parser_wires_the_subcommand(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser(prog="ls-active")
    simulate.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["simulate", "--data", "x.csv", "--budget", "40"])
    assert args.func is simulate.run and args.budget == 40 and args.strategies == "default"


def test_labels_to_and_aulc() -> None:
    assert labels_to([10, 20, 30], [0.5, 0.8, 0.9], 0.8) == 20
    assert labels_to([10, 20, 30], [0.5, 0.8, 0.9], 0.95) is None
    assert aulc([10, 20, 30], [0.5, 0.5, 0.5]) == pytest.approx(0.5)
    assert aulc([0, 10], [0.0, 1.0]) == pytest.approx(0.5)


def _error_cases(tmp_path: Path, trec: list[dict[str, str]]) -> dict[str, tuple[list[str], str]]:
    good = write_csv(tmp_path / "good.csv", trec)
    one_class = write_csv(tmp_path / "one.csv", [{**r, "label": "HUM"} for r in trec])
    few = write_csv(tmp_path / "few.csv", [{"text": f"t {i}", "label": "ab"[i % 2]}
                                           for i in range(8)])
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json")
    words = write_csv(tmp_path / "words.csv", [{"a": "x", "label": "ab"[i % 2]} for i in range(30)])
    return {
        "missing text column": (["--data", str(good), "--text-column", "body"], "--text-column"),
        "missing label column": (["--data", str(good), "--label-column", "y"], "--label-column"),
        "missing feature column": (["--data", str(good), "--feature-columns", "f1"],
                                   "--feature-columns"),
        "non-numeric features": (["--data", str(words), "--feature-columns", "a"], "not a number"),
        "single class": (["--data", str(one_class)], "two or more"),
        "too few rows": (["--data", str(few)], "at least 20"),
        "unknown strategy": (["--data", str(good), "--strategies", "nope"], "choose one of"),
        "missing file": (["--data", str(tmp_path / "absent.csv")], "cannot read"),
        "unreadable json": (["--data", str(bad_json)], "cannot read"),
        "budget below batch": (["--data", str(good), "--budget", "5", "--batch-size", "10"],
                               "--budget"),
    }


@pytest.mark.parametrize("case", [
    "missing text column", "missing label column", "missing feature column",
    "non-numeric features", "single class", "too few rows", "unknown strategy", "missing file",
    "unreadable json", "budget below batch",
])
def test_errors_exit_2_with_one_clear_line(case: str, tmp_path: Path,
                                           trec_rows: list[dict[str, str]],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    argv, hint = _error_cases(tmp_path, trec_rows)[case]
    code = cli.main(["simulate", *argv, "--output", str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert hint in err
    assert not (tmp_path / "out").exists()


def test_split_rows_stratified_and_fixed_per_seed() -> None:
    data = load_data(DATA / "subj.csv")
    pool0, test0 = split_rows(data, 0)
    again, _ = split_rows(data, 0)
    pool1, _ = split_rows(data, 1)
    assert np.array_equal(pool0, again) and not np.array_equal(pool0, pool1)
    assert len(test0) == round(0.2 * data.n_rows)
    share = np.bincount(data.targets[test0]) / len(test0)
    assert np.allclose(share, np.bincount(data.targets) / data.n_rows, atol=0.01)


def test_results_give_true_accuracy_and_audit_estimate_per_round(tmp_path: Path) -> None:
    x, y = load_breast_cancer(return_X_y=True)
    data = write_csv(tmp_path / "bc.csv", numeric_rows(x, y))
    out = tmp_path / "out"
    code = cli.main(["simulate", "--data", str(data), "--feature-columns", "all", "--strategies", "margin",
                     "--seeds", "2", "--batch-size", "10", "--budget", "200", "--audit-share", "0.2",
                     "--output", str(out), "--no-progress"])
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert results["settings"]["audit_share"] == 0.2 and "audit_rounds" not in results["strategies"]["random"]
    runs = results["strategies"]["margin"]["audit_rounds"]
    curve = results["strategies"]["margin"]
    assert len(runs) == 2 and [r["labels"] for r in runs[0]] == curve["labels"]
    mean = np.mean([[r["accuracy"] for r in run] for run in runs], axis=0)
    assert mean.tolist() == pytest.approx(curve["accuracy_mean"], abs=1e-5)  # the true test accuracy
    last = runs[0][-1]
    assert last["estimate"]["n_audit"] == 40 and last["estimate"]["method"] == "audit"
    assert last["estimate"]["low"] <= last["estimate"]["accuracy"] <= last["estimate"]["high"]
    assert abs(last["estimate"]["accuracy"] - last["accuracy"]) < 0.15
    assert last["stop"] in ("stop", "continue") and runs[0][0]["estimate"]["accuracy"] is None
