"""The texts the loop benchmark labels and scores: trec6 questions, repeated with a suffix when short.

trec6 has 5,952 rows; a pool of 10,000 reuses them as "<text> (copy 2)", "<text> (copy 3)", ...
so every task's text stays distinct (a copy shares all but the suffix's n-grams with its original).
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.tasks.records import read_rows
from benchmarks.bench_common import DATASETS_DIR, REPO

LABEL_CONFIG = REPO / "label_config.xml"


@dataclass(frozen=True)
class Rows:
    """Texts with their true labels; ``copies`` = how many of them carry a " (copy k)" suffix."""

    texts: list[str]
    labels: list[str]
    copies: int


def read_trec6() -> tuple[list[str], list[str]]:
    path = DATASETS_DIR / "trec6.csv"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the benchmark reads trec6 from the repository's datasets folder")
    rows = read_rows(path)
    return [r["text"] for r in rows], [r["label"] for r in rows]


def expanded(n: int, start: int = 0) -> Rows:
    """``n`` distinct texts from row ``start`` on, cycling through trec6 with a copy suffix."""
    texts, labels = read_trec6()
    out_texts: list[str] = []
    out_labels: list[str] = []
    copies = 0
    for i in range(start, start + n):
        round_, row = divmod(i, len(texts))
        suffix = f" (copy {round_ + 1})" if round_ else ""
        copies += bool(round_)
        out_texts.append(texts[row] + suffix)
        out_labels.append(labels[row])
    return Rows(out_texts, out_labels, copies)
