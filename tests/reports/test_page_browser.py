"""The report as a real browser shows it: headless Chromium decodes the plot and paints it.

Chromium is a test requirement (Debian: ``apt-get install -y chromium``). Without it this
test fails rather than skips, because a report nobody checked in a browser is unchecked.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from backend.reports.page import ACCURACY_COLOR, PLOT_SIZE_PX, render_report
from backend.reports.stopping import VersionRecord, suggest_stop
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.metrics import evaluate
from backend.tasks.text_classification.page import render_sections
from tests.conftest import load_rows

INSTALL = ("Chromium is needed for the browser rendering test and was not found on PATH. "
           "Install it with: apt-get update && apt-get install -y chromium")

#: Appended for the test only: records what the browser made of the plot into the DOM.
PROBE = """<script>
window.addEventListener("load", function () {
  var img = document.getElementById("learning-curve");
  var r = img.getBoundingClientRect();
  document.body.setAttribute("data-probe", [img.complete, img.naturalWidth, img.naturalHeight,
    Math.round(r.left), Math.round(r.top), Math.round(r.width), Math.round(r.height)].join(","));
});
</script>
</body>"""


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(INSTALL)


def chromium(binary: str, profile: Path, page: Path, *mode: str) -> str:
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", f"--user-data-dir={profile}", "--window-size=1200,1600",
               "--force-device-scale-factor=1", "--hide-scrollbars", *mode, page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        pytest.fail(f"chromium exited with {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def report_page() -> str:
    rows = [r for r in load_rows("trec6.csv") if r["split"] == "train"][:300]
    labels = sorted({r["label"] for r in rows})
    y = np.array([labels.index(r["label"]) for r in rows])
    evaluation = evaluate(featurize([r["text"] for r in rows]), y, labels)
    points = [(30, 0.38), (60, 0.47), (120, 0.55), (200, 0.61), (300, 0.66)]
    records = [VersionRecord(f"v{i}", f"t{i}", n, a + 0.1, a + 0.06,
                             {"accuracy": a, "low": a - 0.1, "high": a + 0.1, "macro_f1": a - 0.04, "n_audit": 30 + i})
               for i, (n, a) in enumerate(points)]
    sections = render_sections(evaluation, [], None, None, "http://localhost:8080", 1)
    return render_report(project=1, version="v4", stop=suggest_stop(records), title="trec6", **sections)


@pytest.mark.slow
def test_chromium_decodes_and_paints_the_learning_curve(tmp_path: Path) -> None:
    binary = chromium_binary()
    page = tmp_path / "report.html"
    page.write_text(report_page().replace("</body>", PROBE), encoding="utf-8")

    dom = chromium(binary, tmp_path / "profile-dom", page, "--virtual-time-budget=5000",
                   "--dump-dom")
    probe = re.search(r'data-probe="([^"]+)"', dom)
    assert probe, "the page's load handler did not run; DOM was:\n" + dom[:500]
    complete, width, height, left, top, shown_w, shown_h = probe.group(1).split(",")
    assert complete == "true" and (int(width), int(height)) == PLOT_SIZE_PX
    box = (int(left), int(top), int(left) + int(shown_w), int(top) + int(shown_h))
    assert box[3] <= 1600, f"the plot {box} falls below the 1600 px screenshot"

    shot = tmp_path / "report.png"
    chromium(binary, tmp_path / "profile-shot", page, f"--screenshot={shot}")
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=int)
    target = np.array([int(ACCURACY_COLOR[i : i + 2], 16) for i in (1, 3, 5)])
    matches = np.abs(pixels - target).max(axis=2) <= 12
    plot = matches[box[1] : box[3], box[0] : box[2]]
    assert int(plot.sum()) > 300, f"the accuracy line is not visible in the plot area {box}"
    # a line across the curve's labels (30 to 300), not a spot of the page's accent colour
    columns = np.flatnonzero(plot.any(axis=0))
    assert columns.max() - columns.min() > 0.6 * plot.shape[1]
