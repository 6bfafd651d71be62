"""Named entities as a task kind: the seam's calls, each handed to the module that knows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from label_studio_sdk.label_interface import LabelInterface

from backend.tasks.base import Figures, Model, Ranker, Refit, Schema, Scored, Training
from backend.tasks.ner import figures, scoring
from backend.tasks.ner.conll import SUFFIXES, entity_labels, read_conll
from backend.tasks.ner.features import token_attributes
from backend.tasks.ner.figures import refit_tags
from backend.tasks.ner.model import SpanModel, train_model
from backend.tasks.ner.schema import SUPPORTED, SpanSchema, parse_labels
from backend.tasks.ner.simulation import SpanData
from backend.tasks.ner.targets import SpanTraining, task_text, training_set
from strategies.sequence import DEFAULT_SEQUENCE_STRATEGY, SEQUENCE_STRATEGIES, SequenceStrategy, get_sequence_strategy


class NamedEntities:
    name = "ner"
    control = "Labels"
    supports = SUPPORTED
    default_strategy = DEFAULT_SEQUENCE_STRATEGY
    #: The CRF has no per-project model settings yet.
    model_options: tuple[str, ...] = ()
    learners: tuple[str, ...] = ()

    def parse_config(self, interface: LabelInterface, config: str) -> SpanSchema:
        return parse_labels(interface, config)

    def schema_from_dict(self, data: Mapping[str, Any]) -> SpanSchema:
        return SpanSchema.from_dict(data)

    def has_input(self, task: Mapping[str, Any], schema: Schema) -> bool:
        data = task.get("data")
        return isinstance(data, Mapping) and schema.value_key in data

    def inputs(self, tasks: Sequence[Mapping[str, Any]], schema: Schema, max_chars: int) -> scoring.Sentences:
        return scoring.task_sentences(tasks, _schema(schema), max_chars)

    def training_set(self, tasks: Sequence[Mapping[str, Any]], schema: Schema, max_chars: int) -> SpanTraining:
        return training_set(tasks, _schema(schema), max_chars)

    def train(self, training: Training, schema: Schema, options: Mapping[str, Any] | None = None,
              pool: Any = None) -> SpanModel:
        data = cast(SpanTraining, training)
        return train_model(data.words, data.tags, _schema(schema).labels)

    def pool_stats(self, inputs: Any, model: Model | None, previous: Any = None) -> None:
        return None  # the CRF's features need no pool statistics

    def training_file(self, training: Training) -> bytes:
        data = cast(SpanTraining, training)
        return figures.training_file(data.task_ids, data.texts)

    def strategy(self, name: str | None) -> Ranker:
        return get_sequence_strategy(name)

    def strategy_names(self) -> list[str]:
        return sorted(SEQUENCE_STRATEGIES)

    def score(self, inputs: Any, model: Model | None, schema: Schema, strategy: Ranker, *,
              batch_size: int, seed: int) -> Scored:
        return scoring.score_sentences(inputs, cast(SpanModel | None, model), cast(SequenceStrategy, strategy),
                                       batch_size=batch_size, seed=seed)

    def fallback_score(self, inputs: Any, model: Model, schema: Schema) -> Scored:
        return scoring.fallback_scores(inputs, cast(SpanModel, model))

    def predictions(self, schema: Schema, scored: Scored, version: str) -> list[dict[str, Any]]:
        return scoring.predictions(_schema(schema), scored, version)

    def refit(self, model: Model) -> Refit:
        """CRFs retrained on subsets of the version's sentences, tagging the others: the audit's entity F1.

        Rows are the model's labeled sentences, in the order of the training file's task ids.
        Token attributes are computed once and shared by every fold's fit.
        """
        span = cast(SpanModel, model)
        attrs = [token_attributes(w) for w in span.train_words]
        return Refit(fit_predict=_no_probabilities, targets=np.arange(len(span.train_words), dtype=np.int64),
                     multilabel=False, fit_tags=partial(refit_tags, span, attrs), tags=span.train_tags)

    def calibrate(self, model: Model, ranker: Model, held_out: npt.NDArray[np.intp]) -> dict[str, Any] | None:
        return None  # a CRF's marginals are not rescaled: its scores are per-token confidences

    def evaluate(self, model: Model, training_file: Mapping[str, Any] | None, stop_set: Mapping[str, Any],
                 schema: Schema, *, ls_url: str, project: int) -> Figures:
        return figures.figures(cast(SpanModel, model), training_file, stop_set)

    def stop_set_value(self, task: Mapping[str, Any], schema: Schema, max_chars: int) -> Any:
        return (task_text(task, _schema(schema), max_chars) or "")[:2000]

    def reads(self, path: Path) -> bool:
        return path.suffix.lower() in SUFFIXES

    def load_labeled(self, path: Path, options: Mapping[str, Any]) -> SpanData:
        sentences = read_conll(path)
        return SpanData(tuple(sentences), entity_labels(sentences), path.stem)


def _schema(schema: Schema) -> SpanSchema:
    if not isinstance(schema, SpanSchema):
        raise TypeError(f"named entities were handed a {type(schema).__name__}")
    return schema


NAMED_ENTITIES = NamedEntities()


def _no_probabilities(train: npt.NDArray[np.intp], test: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
    raise NotImplementedError("named entities are audited on tag sequences (Refit.fit_tags), not probabilities")
