"""The per-version model report: one self-contained HTML page and the learning-curve PNG.

The page carries its CSS inline and the plot as a base64 ``data:`` image, so it shows
with no other request (saved to disk, mailed, or served behind basic auth alike). Its
frame (title, when to stop, the learning curve) is drawn here; the figures of the version's
task kind come rendered by the kind, whose templates autoescape every text from users.
Plots use matplotlib's ``Figure`` with the Agg canvas and never ``pyplot``,
which keeps global state out of worker processes.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from backend.reports.curve import LearningCurve
from backend.reports.estimate import Estimate
from backend.reports.saved import Saving
from backend.reports.stopping import StopSuggestion

#: Line colours of the plot; tests look for ACCURACY_COLOR in a browser screenshot.
ACCURACY_COLOR = "#2563eb"
MACRO_F1_COLOR = "#ea580c"
#: The cross-validated accuracy on all labels, drawn thin and grey: biased, for comparison only.
CV_COLOR = "#9ca3af"
PLOT_SIZE_PX = (960, 400)
_DPI = 100

_ENV = Environment(
    loader=PackageLoader("backend.reports", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def learning_curve_png(curve: LearningCurve | None) -> bytes:
    """Audit-estimated accuracy (95% band) and macro-F1 against labels, the CV figure beside, as PNG."""
    buffer = io.BytesIO()
    curve_figure(curve).savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def curve_figure(curve: LearningCurve | None) -> Figure:
    """The plot of :func:`learning_curve_png`, whole-number label ticks, a legend entry per line."""
    fig = Figure(figsize=(PLOT_SIZE_PX[0] / _DPI, PLOT_SIZE_PX[1] / _DPI), dpi=_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    points = curve.points if curve else []
    if curve and (points or curve.cv_points):
        if curve.intervals:
            ax.fill_between([i[0] for i in curve.intervals], [i[1] for i in curve.intervals],
                            [i[2] for i in curve.intervals], color=ACCURACY_COLOR, alpha=0.15, linewidth=0,
                            label="95% interval (audit)")
        if points:
            _plot_line(ax, points, ACCURACY_COLOR, "Accuracy on the audit sample", "-")
        if curve.macro_f1_points:
            _plot_line(ax, curve.macro_f1_points, MACRO_F1_COLOR, "Macro-F1 on the audit sample", "--")
        if curve.cv_points:
            xs, ys = [p[0] for p in curve.cv_points], [p[1] for p in curve.cv_points]
            ax.plot(xs, ys, ":", color=CV_COLOR, linewidth=1.6, label="Accuracy cross-validated on all labels (biased)")
        ax.legend(loc="lower right", frameon=False, fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        ax.text(0.5, 0.5, "No evaluated version yet", ha="center", va="center",
                transform=ax.transAxes, color="#6b7280", fontsize=13)
        ax.set_xticks([])
    ax.set_xlabel("Labeled tasks")
    ax.set_ylabel("Score")
    ax.set_ylim(0.0, 1.0)
    ax.grid(True, color="#e5e7eb", linewidth=0.8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig


def _plot_line(ax: Any, points: Sequence[tuple[int, float]], color: str, label: str,
               style: str) -> None:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    ax.plot(xs, ys, style, color=color, linewidth=2.6, marker="o", markersize=5, label=label)


def write_learning_curve_png(curve: LearningCurve | None, path: str | Path) -> Path:
    """Write the PNG atomically (temporary file, then rename) and return its path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(learning_curve_png(curve))
    os.replace(tmp, target)
    return target


def render_report(*, project: int | str, version: str, ok: bool, summary_html: str = "", details_html: str = "",
                  footer: str = "", curve: LearningCurve | None = None, stop: StopSuggestion | None = None,
                  title: str = "", generated_at: str = "", estimate: Estimate | None = None,
                  saving: Saving | None = None, settings: Mapping[str, Any] | None = None,
                  from_project: Sequence[str] = ()) -> str:
    """The whole report page as an HTML string: the version's kind renders its own sections.

    ``curve`` defaults to the one inside ``stop``. Sections without data say so instead of
    disappearing; ``title`` is the project's title in Label Studio. ``settings`` are the model
    and loop settings the version was trained with (by extra_params name), ``from_project``
    those the project's extra_params set (the rest came from the environment).
    """
    curve = curve if curve is not None else (stop.curve if stop else None)
    png = base64.b64encode(learning_curve_png(curve)).decode("ascii")
    return _ENV.get_template("report.html").render(
        project=str(project), title=title or f"Project {project}", version=version, generated_at=generated_at,
        ok=ok, summary_html=Markup(summary_html), details_html=Markup(details_html), footer=footer, curve=curve,
        plot_src=f"data:image/png;base64,{png}", plot_size=PLOT_SIZE_PX, stop=stop,
        estimate=estimate, saving=saving, settings=_shown_settings(settings), from_project=set(from_project))


def _shown_settings(settings: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(name, value) in the record's order, lists as ``10, 20, 40`` and booleans as on/off."""
    shown = []
    for name, value in (settings or {}).items():
        if isinstance(value, bool):
            text = "on" if value else "off"
        elif isinstance(value, (list, tuple)):
            text = ", ".join(str(v) for v in value)
        else:
            text = f"{value:g}" if isinstance(value, float) else str(value)
        shown.append((str(name), text))
    return shown
