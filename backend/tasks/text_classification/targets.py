"""Label Studio annotations to training targets.

Skipped and cancelled annotations teach nothing and are ignored. When several annotators
labeled a task, the majority wins (per label for multi-label); a tie is left out rather
than guessed. Choices the config does not know are reported, not trained on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from backend.tasks.text_classification.features import clean_text
from backend.tasks.text_classification.schema import TaskSchema


def annotation_choices(annotation: Any, schema: TaskSchema) -> list[str] | None:
    """The choices one annotation gives for our control, or None if it gives no label."""
    if not isinstance(annotation, dict) or annotation.get("was_cancelled"):
        return None
    results = annotation.get("result")
    for item in results if isinstance(results, list) else []:
        if not isinstance(item, dict) or item.get("from_name") != schema.from_name:
            continue
        value = item.get("value")
        choices = value.get("choices") if isinstance(value, dict) else None
        if isinstance(choices, list) and all(isinstance(c, str) for c in choices):
            return list(choices)
    return None


@dataclass
class TrainingSet:
    """Texts and targets ready for :func:`backend.tasks.text_classification.model.train_model`."""

    task_ids: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    targets: list[Any] = field(default_factory=list)
    #: Every usable annotation as (task id, annotator id, choice or list of choices), for agreement.
    votes: list[tuple[int, Any, Any]] = field(default_factory=list)
    unknown_labels: Counter[str] = field(default_factory=Counter)
    ties: int = 0
    without_text: int = 0
    #: The config's choices and whether several may apply (how to read ``targets``).
    labels: tuple[str, ...] = ()
    multilabel: bool = False

    def __len__(self) -> int:
        return len(self.texts)

    def target_array(self) -> npt.NDArray[Any]:
        if self.multilabel:
            return np.asarray(self.targets, dtype=np.int64).reshape(-1, len(self.labels))
        return np.asarray(self.targets, dtype=np.int64)

    def record(self) -> dict[str, Any]:
        """What the version record keeps of the labels: counts per label, what was left out."""
        targets = self.target_array()
        if self.multilabel:
            counts = {label: int(n) for label, n in zip(self.labels, targets.sum(axis=0), strict=True)}
        else:
            counts = dict(Counter(self.labels[int(t)] for t in targets))
        return {"n_labels": len(self), "label_counts": counts, "labels": list(self.labels),
                "multilabel": self.multilabel, "unknown_labels": dict(self.unknown_labels), "ties": self.ties}


def _resolve(votes: list[list[str]], schema: TaskSchema) -> Any:
    if schema.multilabel:
        counts = Counter(label for vote in votes for label in set(vote))
        return [int(counts[label] * 2 > len(votes)) for label in schema.labels]
    singles = Counter(vote[0] for vote in votes if len(vote) == 1)
    ranked = singles.most_common(2)
    if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
        return None
    return schema.labels.index(ranked[0][0])


def training_set(tasks: Iterable[Mapping[str, Any]], schema: TaskSchema, max_chars: int) -> TrainingSet:
    """Every task with at least one usable annotation becomes one training example."""
    out = TrainingSet(labels=schema.labels, multilabel=schema.multilabel)
    known = set(schema.labels)
    for task in tasks:
        data = task.get("data") if isinstance(task, Mapping) else None
        if not isinstance(data, Mapping):
            continue
        votes = []
        for annotation in task.get("annotations") or []:
            choices = annotation_choices(annotation, schema)
            if choices is None:
                continue
            unknown = [c for c in choices if c not in known]
            out.unknown_labels.update(unknown)
            if not unknown:
                votes.append(choices)
                vote = choices if schema.multilabel else (choices[0] if len(choices) == 1 else None)
                if vote is not None:
                    out.votes.append((int(task.get("id", -1)), annotation.get("completed_by"), vote))
        if not votes:
            continue
        if schema.value_key not in data:
            out.without_text += 1
            continue
        target = _resolve(votes, schema)
        if target is None:
            out.ties += 1
            continue
        out.task_ids.append(int(task.get("id", -1)))
        out.texts.append(clean_text(data.get(schema.value_key), schema.object_type, max_chars))
        out.targets.append(target)
    return out
