"""Figures measured by the fault tests, kept when ``LS_ACTIVE_FIGURES`` names a file.

The fault tests already run the real thing (worker processes, Redis, Label Studio), so the
reliability benchmark runs them and reads what they measured instead of staging the faults
twice. Without the variable nothing is written.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

ENV = "LS_ACTIVE_FIGURES"


def record_figure(name: str, value: float, **context: Any) -> None:
    """Append one figure as a JSON line to the file ``$LS_ACTIVE_FIGURES`` names, if any."""
    path = os.environ.get(ENV, "").strip()
    if not path:
        return
    line = {"figure": name, "value": round(float(value), 3), "at": time.time(), **context}
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")
