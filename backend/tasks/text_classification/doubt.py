"""Which labels deserve a second look, and is the labeled data a fair sample.

Three checks, all cheap and model-agnostic:

* **Contradicted labels** (confident learning): each class gets a threshold, the mean
  out-of-fold probability the model gives that class on the tasks labeled with it. A task
  is doubtful when the model is at least that sure of another class while its given class
  stays below its own threshold. Per-class thresholds keep a class the model is always
  unsure about from flooding the list. Ranked by the probability margin.
* **Annotators who disagree**: tasks labeled differently by several people, and Cohen's
  kappa for every pair of annotators that labeled the same tasks.
* **Class balance**: the labeled classes against the model's predicted classes on the
  unlabeled pool; a large gap means the labels (or the model) over- or under-represent a class.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from backend.tasks.agreement import LabelValue, cohen_kappa

TaskId: TypeAlias = "int | str"
#: An annotation's value: one choice, or several choices for a multi-label project.
#: Pairs of annotators sharing fewer tasks than this get no kappa: it would be noise.
MIN_OVERLAP = 5
#: A class is flagged when its labeled share is this many times its predicted share (or less
#: than its inverse) ...
BALANCE_RATIO = 2.0
#: ... and the two shares differ by at least this much, so tiny classes are not flagged on noise.
BALANCE_MIN_GAP = 0.05


@dataclass(frozen=True)
class DoubtfulLabel:
    """A given label the out-of-fold model contradicts. For multi-label projects ``given``
    and ``suggested`` read "X" / "not X" for the one label in doubt."""

    task_id: TaskId
    given: str
    suggested: str
    given_proba: float
    suggested_proba: float
    margin: float
    text: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def doubtful_labels(
    oof_proba: npt.NDArray[np.float64],
    targets: Sequence[int] | npt.NDArray[Any],
    task_ids: Sequence[TaskId],
    labels: Sequence[str],
    multilabel: bool = False,
    texts: Sequence[str] | None = None,
    limit: int | None = 50,
) -> list[DoubtfulLabel]:
    """Labels to doubt, most contradicted first (at most ``limit``; ``None`` = all)."""
    proba = np.asarray(oof_proba, dtype=np.float64)
    y = np.asarray(targets).astype(int)
    if proba.shape[0] != y.shape[0] or len(task_ids) != y.shape[0]:
        raise ValueError(f"oof_proba ({proba.shape[0]} rows), targets ({y.shape[0]}) and task_ids "
                         f"({len(task_ids)}) must describe the same labeled tasks in one order")
    found = _multilabel_doubts(proba, y, labels) if multilabel else _class_doubts(proba, y, labels)
    found.sort(key=lambda d: -d[3])
    out = [
        DoubtfulLabel(task_ids[row], given, suggested, round(gp, 4), round(sp, 4),
                      round(sp - gp, 4), "" if texts is None else str(texts[row]))
        for row, given, suggested, _, gp, sp in found
    ]
    return out if limit is None else out[:limit]


_Found: TypeAlias = "tuple[int, str, str, float, float, float]"


def _class_doubts(
    proba: npt.NDArray[np.float64], y: npt.NDArray[Any], labels: Sequence[str]
) -> list[_Found]:
    n, k = proba.shape
    thresholds = np.full(k, np.inf)  # a class without labels never suggests itself
    for c in np.unique(y):
        thresholds[c] = proba[y == c, c].mean()
    given = proba[np.arange(n), y]
    above = proba >= thresholds[None, :]
    above[np.arange(n), y] = False
    candidates = np.where(above, proba, -1.0)
    best = candidates.argmax(axis=1)
    flagged = (candidates.max(axis=1) >= 0) & (given < thresholds[y])
    return [
        (int(i), labels[y[i]], labels[best[i]], float(proba[i, best[i]] - given[i]),
         float(given[i]), float(proba[i, best[i]]))
        for i in np.flatnonzero(flagged)
    ]


def _multilabel_doubts(
    proba: npt.NDArray[np.float64], y: npt.NDArray[Any], labels: Sequence[str]
) -> list[_Found]:
    """Per label, a yes/no confident-learning check: 'given but surely absent' or the reverse."""
    found: list[_Found] = []
    for j, name in enumerate(labels):
        p_yes, given_yes = proba[:, j], y[:, j] > 0
        if given_yes.all() or not given_yes.any():
            continue
        t_yes, t_no = p_yes[given_yes].mean(), (1.0 - p_yes[~given_yes]).mean()
        for i in np.flatnonzero(~given_yes & (p_yes >= t_yes) & (1.0 - p_yes < t_no)):
            found.append((int(i), f"not {name}", name, float(2 * p_yes[i] - 1),
                          float(1 - p_yes[i]), float(p_yes[i])))
        for i in np.flatnonzero(given_yes & (1.0 - p_yes >= t_no) & (p_yes < t_yes)):
            found.append((int(i), name, f"not {name}", float(1 - 2 * p_yes[i]),
                          float(p_yes[i]), float(1 - p_yes[i])))
    return found


@dataclass(frozen=True)
class PairAgreement:
    """Two annotators on the tasks both labeled; ``kappa`` is None below ``MIN_OVERLAP`` tasks."""

    annotator_a: str
    annotator_b: str
    n_tasks: int
    agreement: float
    kappa: float | None


@dataclass(frozen=True)
class Disagreement:
    task_id: TaskId
    labels: dict[str, str]


@dataclass
class AgreementReport:
    n_tasks: int
    n_shared_tasks: int
    disagreements: list[Disagreement] = field(default_factory=list)
    pairs: list[PairAgreement] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def annotator_agreement(
    annotations: Iterable[tuple[TaskId, Any, LabelValue]], min_overlap: int = MIN_OVERLAP
) -> AgreementReport:
    """Disagreements and pairwise kappa from ``(task_id, annotator_id, label)`` triples.

    A multi-label value (a list of choices) counts as one category, the set of choices, so
    two annotators agree on a task only when they picked exactly the same choices. When one
    annotator labeled a task twice, the last value counts.
    """
    by_task: dict[TaskId, dict[str, str]] = defaultdict(dict)
    for task_id, annotator, value in annotations:
        by_task[task_id][str(annotator)] = _category(value)
    shared = {t: v for t, v in by_task.items() if len(v) >= 2}
    disagreements = [Disagreement(t, dict(sorted(v.items())))
                     for t, v in shared.items() if len(set(v.values())) > 1]
    disagreements.sort(key=lambda d: (-len(set(d.labels.values())), -len(d.labels), str(d.task_id)))
    annotators = sorted({a for v in shared.values() for a in v})
    pairs = []
    for a, b in combinations(annotators, 2):
        both = [(v[a], v[b]) for v in shared.values() if a in v and b in v]
        if not both:
            continue
        left, right = [x for x, _ in both], [x for _, x in both]
        agree = sum(x == z for x, z in both) / len(both)
        kappa = cohen_kappa(left, right) if len(both) >= min_overlap else None
        pairs.append(PairAgreement(a, b, len(both), round(agree, 4),
                                   None if kappa is None else round(kappa, 4)))
    return AgreementReport(len(by_task), len(shared), disagreements, pairs)


def _category(value: LabelValue) -> str:
    if isinstance(value, str):
        return value
    return " + ".join(sorted(str(v) for v in value)) or "(no choice)"


@dataclass(frozen=True)
class ClassShare:
    """One class: its share of the labels against its share of the pool's predictions."""

    label: str
    labeled: int
    labeled_share: float
    predicted: int
    predicted_share: float
    flag: str  # "over", "under" or ""


@dataclass
class BalanceReport:
    n_labeled: int
    n_pool: int
    classes: list[ClassShare]

    @property
    def flagged(self) -> list[ClassShare]:
        return [c for c in self.classes if c.flag]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "flagged": [c.label for c in self.flagged]}


def class_balance(
    targets: Sequence[int] | npt.NDArray[Any],
    pool_proba: npt.NDArray[np.float64],
    labels: Sequence[str],
    multilabel: bool = False,
    ratio: float = BALANCE_RATIO,
    min_gap: float = BALANCE_MIN_GAP,
) -> BalanceReport:
    """Compare the labeled classes with the current model's predictions on the pool.

    Active learning asks for hard tasks, so some over-representation of confusable classes
    is expected; a flag asks a person to look, it does not say the labels are wrong.
    """
    y = np.asarray(targets).astype(int)
    proba = np.asarray(pool_proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] != len(labels):
        raise ValueError(f"pool_proba must have one column per label ({len(labels)}); "
                         f"got shape {proba.shape}")
    if multilabel:
        labeled = y.sum(axis=0) if y.size else np.zeros(len(labels))
        predicted = (proba >= 0.5).sum(axis=0)
    else:
        labeled = np.bincount(y, minlength=len(labels))
        predicted = np.bincount(proba.argmax(axis=1), minlength=len(labels)) if len(proba) else (
            np.zeros(len(labels)))
    n_lab, n_pool = int(y.shape[0]), int(proba.shape[0])
    classes = []
    for name, lab, pred in zip(labels, labeled, predicted, strict=True):
        ls, ps = float(lab) / max(n_lab, 1), float(pred) / max(n_pool, 1)
        flag = ""
        if n_lab and n_pool and abs(ls - ps) >= min_gap:
            flag = "over" if ls >= ratio * ps else "under" if ls * ratio <= ps else ""
        classes.append(ClassShare(str(name), int(lab), round(ls, 4), int(pred), round(ps, 4), flag))
    return BalanceReport(n_lab, n_pool, classes)
