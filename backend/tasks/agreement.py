"""Agreement between two labelings of the same tasks, whatever the kind of label."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

from sklearn.metrics import cohen_kappa_score

#: One task's label as compared: a choice, or several choices (multi-label).
LabelValue: TypeAlias = "str | Sequence[str]"


def cohen_kappa(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Cohen's kappa of two label sequences; 1.0 when they agree everywhere.

    scikit-learn answers NaN when both raters used one and the same class throughout
    (chance agreement is then 1), yet perfect agreement is what happened.
    """
    left, right = [str(x) for x in a], [str(x) for x in b]
    if len(left) != len(right):
        raise ValueError(f"kappa needs paired ratings; got {len(left)} and {len(right)}")
    if not left:
        raise ValueError("kappa needs at least one paired rating; got none")
    if left == right:
        return 1.0
    return float(cohen_kappa_score(left, right))
