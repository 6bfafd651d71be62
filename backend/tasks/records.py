"""Labeled files as records: CSV with a header row, or JSON (a list of objects)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from backend.errors import SimulationError


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The file's records: CSV with a header row, or JSON (a list of objects).

    JSON records exported from Label Studio keep their fields under ``data``; those are
    lifted to the top level so the same column names work for both formats.
    """
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            is_json = path.suffix.lower() == ".json"
            records = json.load(handle) if is_json else list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, csv.Error) as exc:
        raise SimulationError(f"cannot read {path}: {exc}; pass a UTF-8 CSV or JSON file") from None
    if isinstance(records, dict) and isinstance(records.get("data"), list):
        records = records["data"]
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise SimulationError(f"cannot read {path}: JSON must be a list of objects (one per row)")
    return [{**r.get("data", {}), **r} if isinstance(r.get("data"), dict) else r for r in records]
