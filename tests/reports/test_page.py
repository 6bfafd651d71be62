"""The report page and the learning-curve PNG, rendered from real trec6 evaluations."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from backend.labelstudio.links import task_link
from backend.reports.entity_estimate import entity_estimate
from backend.reports.estimate import Estimate, estimate
from backend.reports.page import (
    ACCURACY_COLOR,
    PLOT_SIZE_PX,
    curve_figure,
    learning_curve_png,
    render_report,
    write_learning_curve_png,
)
from backend.reports.stopping import VersionRecord, learning_curve, suggest_stop
from backend.tasks.text_classification.doubt import DoubtfulLabel, annotator_agreement, class_balance
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.metrics import Evaluation, evaluate
from backend.tasks.text_classification.page import render_sections
from tests.conftest import load_rows

#: trec6's six classes renamed to names a careless page would execute or break on.
HOSTILE = ["<script>alert(1)</script>", "A&B", "DESC", "ENTY", "HUM", '"LOC"']
LS = "http://ls.example:8080"


def color_pixels(png: bytes, hex_color: str, tolerance: int = 12) -> int:
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)
    target = np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(rgb - target).max(axis=2) <= tolerance).sum())


@pytest.fixture(scope="module")
def parts() -> dict[str, Any]:
    rows = [r for r in load_rows("trec6.csv") if r["split"] == "train"][:400]
    names = sorted({r["label"] for r in rows})
    y = np.array([names.index(r["label"]) for r in rows])
    texts = [r["text"] for r in rows]
    counts = featurize(texts)
    ev = evaluate(counts, y, HOSTILE)
    recs = [VersionRecord(f"v{i}", f"t{i}", n, a, a - 0.03, audit_estimate(a - 0.1, 30 + n // 10))
            for i, (n, a) in enumerate([(50, 0.4), (100, 0.5), (200, 0.6), (400, 0.66)])]
    doubts = [DoubtfulLabel(123, HOSTILE[0], "A&B", 0.05, 0.9, 0.85,
                            "<img src=x onerror=alert(2)> what?")]
    agreement = annotator_agreement([(5, "<b>ann</b>", "A&B"), (5, "bob", "HUM")])
    assert ev.oof_proba is not None
    balance = class_balance(y, ev.oof_proba, HOSTILE)
    return {"ev": ev, "stop": suggest_stop(recs), "doubts": doubts, "agreement": agreement,
            "balance": balance, "estimate": Estimate.from_dict(audit_estimate(0.56, 40))}


def audit_estimate(accuracy: float, n_audit: int) -> dict[str, Any]:
    """An audit estimate as the report stores it (``None`` figures below the minimum count)."""
    y = np.r_[np.ones(round(accuracy * n_audit)), np.zeros(n_audit - round(accuracy * n_audit))].astype(int)
    proba = np.c_[1 - y, y].astype(float)  # predicts class 1 everywhere: right where y is 1
    proba[:] = [0.0, 1.0]
    return estimate(y, proba).to_dict()


def page(parts: dict[str, Any], **changes: Any) -> str:
    """A text classification version's page: the kind's sections in the report's frame."""
    args = {"project": 7, "version": "v3", "ls_url": LS, "evaluation": parts["ev"],
            "stop": parts["stop"], "doubts": parts["doubts"], "agreement": parts["agreement"],
            "balance": parts["balance"], "title": "Questions <&>", "estimate": parts["estimate"]}
    args.update(changes)
    sections = render_sections(args.pop("evaluation"), args.pop("doubts"), args.pop("agreement"),
                               args.pop("balance"), args.pop("ls_url"), args["project"])
    return render_report(**args, **sections)


def test_page_embeds_the_plot_as_a_png(parts: dict[str, Any]) -> None:
    html = page(parts)
    found = re.search(r'<img id="learning-curve"[^>]*src="data:image/png;base64,([^"]+)"', html)
    assert found, "the learning-curve <img> with an inline PNG is missing"
    png = base64.b64decode(found.group(1))
    assert Image.open(io.BytesIO(png)).size == PLOT_SIZE_PX
    assert color_pixels(png, ACCURACY_COLOR) > 300


def test_page_needs_no_other_request(parts: dict[str, Any]) -> None:
    html = page(parts)
    assert "<link" not in html and "@import" not in html and "url(" not in html
    assert not re.search(r'src="(?!data:)', html)
    assert re.findall(r'href="([^"]+)"', html) == [f"{LS}/projects/7/data?task=123",
                                                    f"{LS}/projects/7/data?task=5"]


def test_user_text_is_escaped(parts: dict[str, Any]) -> None:
    html = page(parts)
    assert "<script>" not in html and "<img src=x" not in html and "<b>ann</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "A&amp;B" in html and "&#34;LOC&#34;" in html
    assert "&lt;img src=x onerror=alert(2)&gt; what?" in html
    assert "&lt;b&gt;ann&lt;/b&gt;" in html
    assert "Questions &lt;&amp;&gt;" in html


def test_page_shows_every_section(parts: dict[str, Any]) -> None:
    html = page(parts)
    for section in ("stopping", "curve", "classes", "confusion", "calibration", "doubts",
                    "agreement", "balance"):
        assert f'id="{section}"' in html, section
    assert 'id="not-enough"' not in html
    m = parts["ev"].metrics
    assert f"{100 * m['accuracy']:.1f}%" in html
    assert "Keep labeling" in html and "Minimum gain on the audit sample" in html
    assert 'id="audit"' in html and "Audit tasks labeled" in html and "95% interval" in html
    assert "<h1>Questions &lt;&amp;&gt;</h1>" in html  # the project's title, escaped
    assert html.count('style="background:rgba(37,99,235,') == 36  # the 6 x 6 confusion matrix


def test_not_enough_labels_page(parts: dict[str, Any]) -> None:
    rows = [r for r in load_rows("trec6.csv") if r["split"] == "train"][:6]
    names = sorted({r["label"] for r in rows})
    thin = evaluate(featurize([r["text"] for r in rows]),
                    [names.index(r["label"]) for r in rows], names)
    html = page(parts, evaluation=thin.to_dict(), stop=None, doubts=[], balance=None,
                agreement=None)
    assert 'id="not-enough"' in html and "Not enough labels yet" in html
    assert "6 labeled tasks so far; metrics need at least 10." in html
    assert 'id="confusion"' not in html and 'id="classes"' not in html
    assert 'id="learning-curve"' in html and "Available once there are enough labels." in html


def test_multilabel_page_has_its_own_figures(parts: dict[str, Any]) -> None:
    rows = [r for r in load_rows("trec6.csv") if r["split"] == "train"][:200]
    names = sorted({r["label"] for r in rows})
    targets = np.zeros((200, len(names)), dtype=int)
    targets[np.arange(200), [names.index(r["label"]) for r in rows]] = 1
    ev = evaluate(featurize([r["text"] for r in rows]), targets, names, multilabel=True)
    html = page(parts, evaluation=ev)
    assert "Hamming loss" in html and "Subset accuracy" in html
    assert 'id="confusion"' not in html and 'id="classes"' in html


def test_task_links_only_for_web_addresses() -> None:
    assert task_link("https://ls.example/", 3, "a b") == "https://ls.example/projects/3/data?task=a%20b"
    assert task_link("javascript:alert(1)//", 3, 1) is None
    assert task_link("", 3, 1) is None


def test_page_without_links_when_the_address_is_not_http(parts: dict[str, Any]) -> None:
    html = page(parts, ls_url="javascript:alert(1)")
    assert "href=" not in html and "#123" in html


def test_audit_section_says_how_many_audit_labels_it_needs(parts: dict[str, Any]) -> None:
    html = page(parts, estimate=Estimate.from_dict(audit_estimate(0.5, 12)))
    assert "12 audit task(s) labeled so far: the estimate needs 18 more audit label(s) (30 in all)" in html
    assert "Cannot tell without an audit sample." in html
    off = page(parts, estimate=None)
    assert "its audit share is 0" in off


def test_plot_has_whole_number_label_ticks_and_a_legend_for_every_line() -> None:
    curve = learning_curve([VersionRecord(f"v{i}", f"t{i}", n, a, a, audit_estimate(a, 30 + i))
                            for i, (n, a) in enumerate([(30, 0.5), (31, 0.55), (33, 0.6)])])
    fig = curve_figure(curve)
    ax = fig.axes[0]
    ticks = [t for t in ax.get_xticks() if 30 <= t <= 33]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    names = [t.get_text() for t in ax.get_legend().get_texts()]
    assert names == ["95% interval (audit)", "Accuracy on the audit sample", "Macro-F1 on the audit sample",
                     "Accuracy cross-validated on all labels (biased)"]


def test_write_learning_curve_png(tmp_path: Path) -> None:
    curve = learning_curve([VersionRecord(f"v{i}", f"t{i}", n, a, a, audit_estimate(a, 40)) for i, (n, a) in
                            enumerate([(20, 0.3), (40, 0.45), (80, 0.6)])])
    target = write_learning_curve_png(curve, tmp_path / "v3" / "learning_curve.png")
    assert target.is_file() and list(tmp_path.joinpath("v3").iterdir()) == [target]
    png = target.read_bytes()
    assert Image.open(io.BytesIO(png)).size == PLOT_SIZE_PX
    assert color_pixels(png, ACCURACY_COLOR) > 300
    assert color_pixels(learning_curve_png(None), ACCURACY_COLOR) == 0  # nothing to draw yet


def test_render_accepts_stored_metrics(parts: dict[str, Any]) -> None:
    stored = Evaluation.from_dict(parts["ev"].to_dict())
    assert page(parts, evaluation=stored) == page(parts, evaluation=parts["ev"].to_dict())


def test_a_span_estimate_is_shown_as_entity_f1_not_accuracy(parts: dict[str, Any]) -> None:
    truth = [["B-PER", "O"], ["B-LOC", "O"], ["O", "O"]] * 12
    guess = [["B-PER", "O"], ["O", "O"], ["O", "O"]] * 12
    html = page(parts, estimate=entity_estimate(truth, guess))
    assert "Entity F1 (micro)" in html and "Entity F1 (macro over types)" in html and ">66.7%<" in html
    assert "Accuracy</div>" not in html and "bootstrap over the audit sentences" in html


def test_page_shows_the_versions_settings_and_which_the_project_set(parts: dict[str, Any]) -> None:
    settings = {"learner": "logreg", "C": 0.5, "class_weight": "balanced", "calibrate": False,
                "retrain_every": [5, 20], "batch_size": 20}
    html = page(parts, settings=settings, from_project=["C", "retrain_every"])
    section = html[html.index('<section id="settings">'):]
    section = section[:section.index("</section>")]
    assert "C: <b>0.5</b> (project)" in section and "retrain_every: <b>5, 20</b> (project)" in section
    assert "class_weight: <b>balanced</b></span>" in section and "calibrate: <b>off</b>" in section
    assert "(project)" not in section.split("learner:")[1].split("</span>")[0]
    older = page(parts)
    assert "trained before per-project settings were recorded" in older


def test_the_calibration_section_says_what_scaled_the_probabilities(parts: dict[str, Any]) -> None:
    audit = {"method": "temperature", "fitted_on": "audit", "temperature": 0.31, "ece_before": 0.214,
             "ece_after": 0.041, "folds": 0, "rows": 47}
    sections = render_sections(parts["ev"], [], None, None, LS, 7, scaled=audit, calibrate="audit")
    html = sections["details_html"]
    assert "temperature of <b>0.31</b>" in html and "47 labeled audit tasks" in html
    assert "0.214 before, <b>0.041</b> after" in html
    summary = sections["summary_html"]  # the card shows what the served probabilities' error is
    assert "0.041" in summary and "ECE on 47 audit tasks, scaled (unscaled 0.214)" in summary
    unscaled = render_sections(parts["ev"], [], None, None, LS, 7)["summary_html"]
    assert f'{parts["ev"].metrics["calibration"]["ece"]:.3f}' in unscaled and "on all labels (CV), unscaled" in unscaled
    older = {"method": "temperature", "temperature": 0.5, "ece_before": 0.2, "ece_after": 0.1, "folds": 5}
    assert "out of fold on the labels" in render_sections(parts["ev"], [], None, None, LS, 7,
                                                          scaled=older)["details_html"]
    waiting = render_sections(parts["ev"], [], None, None, LS, 7, calibrate="audit")["details_html"]
    assert "not rescaled (too few labeled audit tasks" in waiting
    assert "not rescaled." in render_sections(parts["ev"], [], None, None, LS, 7, calibrate="off")["details_html"]
