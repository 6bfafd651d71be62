"""Labeled rows for ``ls-active simulate``: a CSV or JSON file of texts (or numbers) and classes.

Every problem a user can fix (a wrong column name, one class only, too few rows, a file
that is not a table) raises :class:`SimulationError` with one line saying what to do, so
the command can exit with code 2 instead of a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.model_selection import train_test_split

from backend.errors import SimulationError
from backend.tasks.records import read_rows
from backend.tasks.text_classification.learners import Learner, make_learner, text_counts
from strategies import IntArray, Strategy, get_strategy

#: Fewest labeled rows a simulation accepts: below this a learning curve says nothing.
MIN_ROWS = 20
#: Share of rows held out for testing when the file has no ``test`` split.
TEST_FRACTION = 0.2
#: The split value that marks a test row.
TEST_SPLIT = "test"


@dataclass(frozen=True)
class LabeledData:
    """A labeled table: texts *or* a numeric matrix, one class index per row.

    ``split`` holds the split column's value per row (empty when the file has none).
    """

    labels: tuple[str, ...]
    targets: IntArray
    texts: tuple[str, ...] | None = None
    matrix: npt.NDArray[np.float64] | None = None
    split: tuple[str, ...] | None = None
    name: str = "data"

    @property
    def n_rows(self) -> int:
        return len(self.targets)

    @property
    def kind(self) -> str:
        return "text" if self.texts is not None else "numeric"

    def split_rows(self, seed: int) -> tuple[IntArray, IntArray]:
        return split_rows(self, seed)

    def prepare(self) -> Any:
        """What every seed's learner shares: the hashed counts of the texts (None when numeric)."""
        return text_counts(self) if self.texts is not None else None

    def learner(self, pool_rows: IntArray, test_rows: IntArray, prepared: Any = None) -> Learner:
        return make_learner(self, pool_rows, test_rows, prepared)

    def strategy(self, name: str) -> Strategy:
        return get_strategy(name)


def _require(rows: list[dict[str, Any]], column: str, option: str, path: Path) -> None:
    columns = list(rows[0]) if rows else []
    if column not in columns:
        shown = ", ".join(str(c) for c in columns[:20]) or "none"
        raise SimulationError(
            f"column {column!r} is not in {path.name} (columns: {shown}); fix {option}"
        )


def _numbers(rows: list[dict[str, Any]], columns: list[str]) -> npt.NDArray[np.float64]:
    out = np.empty((len(rows), len(columns)))
    for i, row in enumerate(rows):
        for j, column in enumerate(columns):
            value = row.get(column)
            try:
                out[i, j] = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise SimulationError(
                    f"column {column!r} row {i + 1} is not a number ({value!r}); "
                    "pass only numeric columns to --feature-columns"
                ) from None
    if not np.isfinite(out).all():
        raise SimulationError("--feature-columns hold NaN or infinite values; clean them first")
    return out


def _feature_list(spec: str, rows: list[dict[str, Any]], skip: set[str]) -> list[str]:
    if spec.strip().lower() == "all":
        return [c for c in (rows[0] if rows else {}) if c not in skip]
    return [c.strip() for c in spec.split(",") if c.strip()]


def load_data(
    path: Path,
    label_column: str = "label",
    text_column: str | None = None,
    feature_columns: str | None = None,
    split_column: str | None = None,
) -> LabeledData:
    """Read and check ``path``; rows without a label are left out (they cannot be an oracle)."""
    rows = read_rows(path)
    if not rows:
        raise SimulationError(f"{path} has no rows; a simulation needs labeled rows")
    _require(rows, label_column, "--label-column", path)
    if split_column is None and "split" in rows[0] and label_column != "split":
        split_column = "split"
    if split_column:
        _require(rows, split_column, "--split-column", path)
    rows = [r for r in rows if str(r.get(label_column) or "").strip()]
    if feature_columns:
        columns = _feature_list(feature_columns, rows, {label_column, split_column or ""})
        if not columns:
            raise SimulationError("--feature-columns names no column; list them as a,b,c or 'all'")
        for column in columns:
            _require(rows, column, "--feature-columns", path)
        matrix, texts = _numbers(rows, columns), None
    else:
        text_column = text_column or "text"
        _require(rows, text_column, "--text-column (or pass --feature-columns)", path)
        matrix, texts = None, tuple(str(r.get(text_column) or "") for r in rows)
    names = [str(r[label_column]).strip() for r in rows]
    labels = tuple(sorted(set(names)))
    targets = np.asarray([labels.index(n) for n in names], dtype=np.intp)
    split = tuple(str(r.get(split_column) or "").strip().lower() for r in rows) if split_column else None
    data = LabeledData(labels, targets, texts, matrix, split, path.stem)
    check_data(data)
    return data


def check_data(data: LabeledData) -> None:
    """Refuse data a learning curve cannot be drawn from, saying what to add."""
    if data.n_rows < MIN_ROWS:
        raise SimulationError(
            f"{data.name} has {data.n_rows} labeled rows; a simulation needs at least {MIN_ROWS}"
        )
    counts = np.bincount(data.targets, minlength=len(data.labels))
    if len(data.labels) < 2:
        raise SimulationError(
            f"{data.name} has one class only ({data.labels[0]!r}); a classifier needs two or more"
        )
    if data.split and TEST_SPLIT in data.split:
        pool = sum(1 for s in data.split if s != TEST_SPLIT)
        if pool < MIN_ROWS // 2:
            raise SimulationError(
                f"{data.name} has {pool} non-test rows; mark fewer rows as test or add rows"
            )
    elif counts.min() < 2:
        rare = data.labels[int(np.argmin(counts))]
        raise SimulationError(
            f"class {rare!r} has {counts.min()} row; a held-out test split needs two per class "
            "(add rows or give a split column with test rows)"
        )


def split_rows(data: LabeledData, seed: int) -> tuple[IntArray, IntArray]:
    """Pool and test row indices: the split column's test rows, else a stratified 20% per seed."""
    if data.split and TEST_SPLIT in data.split:
        is_test = np.asarray([s == TEST_SPLIT for s in data.split])
        return np.flatnonzero(~is_test).astype(np.intp), np.flatnonzero(is_test).astype(np.intp)
    rows = np.arange(data.n_rows)
    n_classes = len(data.labels)
    n_test = max(round(TEST_FRACTION * data.n_rows), n_classes)
    pool, test = train_test_split(
        rows, test_size=n_test, stratify=data.targets, random_state=seed
    )
    return np.sort(pool).astype(np.intp), np.sort(test).astype(np.intp)
