"""Text classification as a task kind: the seam's calls, each handed to the module that knows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from label_studio_sdk.label_interface import LabelInterface

from backend.tasks.base import Figures, Model, Ranker, Refit, Schema, Scored, Training
from backend.tasks.text_classification import figures, scoring
from backend.tasks.text_classification.features import clean_text, featurize
from backend.tasks.text_classification.labeled import LabeledData, load_data
from backend.tasks.text_classification.model import LEARNERS, TextModel, calibrate_on_held_out, train_model
from backend.tasks.text_classification.pool import PoolStats, pool_stats
from backend.tasks.text_classification.schema import SUPPORTED, TaskSchema, parse_choices
from backend.tasks.text_classification.targets import TrainingSet, training_set
from strategies import DEFAULT_STRATEGY, STRATEGIES, get_strategy


class TextClassification:
    name = "text_classification"
    control = "Choices"
    supports = SUPPORTED
    default_strategy = DEFAULT_STRATEGY
    model_options: tuple[str, ...] = ("learner", "c", "class_weight", "calibrate")
    learners = LEARNERS

    def parse_config(self, interface: LabelInterface, config: str) -> TaskSchema:
        return parse_choices(interface, config)

    def schema_from_dict(self, data: Mapping[str, Any]) -> TaskSchema:
        return TaskSchema.from_dict(data)

    def has_input(self, task: Mapping[str, Any], schema: Schema) -> bool:
        data = task.get("data")
        return isinstance(data, Mapping) and schema.value_key in data

    def inputs(self, tasks: Sequence[Mapping[str, Any]], schema: Schema, max_chars: int) -> Any:
        return featurize(scoring.task_texts(tasks, _schema(schema), max_chars))

    def training_set(self, tasks: Sequence[Mapping[str, Any]], schema: Schema, max_chars: int) -> TrainingSet:
        return training_set(tasks, _schema(schema), max_chars)

    def train(self, training: Training, schema: Schema, options: Mapping[str, Any] | None = None,
              pool: Any = None) -> TextModel:
        data = cast(TrainingSet, training)
        schema = _schema(schema)
        return train_model(featurize(data.texts), data.target_array(), schema.labels, schema.multilabel,
                           pool=pool if isinstance(pool, PoolStats) else None, **train_options(options))

    def pool_stats(self, inputs: Any, model: Model | None, previous: Any = None) -> PoolStats | None:
        """The unlabeled counts plus the version's labeled ones, when the pool outgrew ``previous``."""
        labeled = getattr(model, "train_counts", None)
        n_docs = inputs.shape[0] + (0 if labeled is None else labeled.shape[0])
        if isinstance(previous, PoolStats) and not previous.needs_refresh(n_docs):
            return None
        return pool_stats(inputs, labeled)

    def training_file(self, training: Training) -> bytes:
        data = cast(TrainingSet, training)
        return figures.training_file(data.task_ids, data.texts, data.votes)

    def strategy(self, name: str | None) -> Ranker:
        return get_strategy(name)

    def strategy_names(self) -> list[str]:
        return sorted(STRATEGIES)

    def score(self, inputs: Any, model: Model | None, schema: Schema, strategy: Ranker, *,
              batch_size: int, seed: int) -> Scored:
        return scoring.score_counts(inputs, cast(TextModel | None, model), _schema(schema), strategy,
                                    batch_size=batch_size, seed=seed)

    def fallback_score(self, inputs: Any, model: Model, schema: Schema) -> Scored:
        return scoring.margin_scores(inputs, cast(TextModel, model), _schema(schema))

    def predictions(self, schema: Schema, scored: Scored, version: str) -> list[dict[str, Any]]:
        return scoring.predictions(_schema(schema), scored, version)

    def evaluate(self, model: Model, training_file: Mapping[str, Any] | None, stop_set: Mapping[str, Any],
                 schema: Schema, *, ls_url: str, project: int) -> Figures:
        return figures.figures(cast(TextModel, model), training_file, stop_set, ls_url, project)

    def refit(self, model: Model) -> Refit:
        return figures.refit(cast(TextModel, model))

    def calibrate(self, model: Model, ranker: Model, held_out: npt.NDArray[np.intp]) -> dict[str, Any] | None:
        served, ranking = cast(TextModel, model), cast(TextModel, ranker)
        if served.train_counts is None or served.targets is None or not len(held_out):
            return None
        fitted = calibrate_on_held_out([served, ranking], ranking, served.train_counts[held_out],
                                       served.targets[held_out], seed=len(held_out))
        return None if fitted is None else fitted.record()

    def stop_set_value(self, task: Mapping[str, Any], schema: Schema, max_chars: int) -> Any:
        return clean_text(task["data"][schema.value_key], schema.object_type, max_chars)[:2000]

    def reads(self, path: Path) -> bool:
        return path.suffix.lower() in (".csv", ".json", ".tsv", "")

    def load_labeled(self, path: Path, options: Mapping[str, Any]) -> LabeledData:
        return load_data(path, options.get("label_column") or "label", options.get("text_column"),
                         options.get("feature_columns"), options.get("split_column"))


def train_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """A project's model settings as :func:`~.model.train_model`'s keyword arguments
    (``class_weight="none"`` is scikit-learn's ``None``)."""
    kwargs = {k: v for k, v in (options or {}).items() if k in TextClassification.model_options}
    if "class_weight" in kwargs:
        kwargs["class_weight"] = None if kwargs["class_weight"] == "none" else kwargs["class_weight"]
    return kwargs


def _schema(schema: Schema) -> TaskSchema:
    if not isinstance(schema, TaskSchema):
        raise TypeError(f"text classification was handed a {type(schema).__name__}")
    return schema


TEXT_CLASSIFICATION = TextClassification()
