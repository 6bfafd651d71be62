"""The task-kind seam: what the service, the jobs, the reports and the simulator may ask a kind.

Everything that depends on the labeling interface sits behind :class:`TaskKind`: which label
configs a kind serves, how Label Studio annotations become training targets, how task data
become model inputs, training, what a strategy sees, how scores become Label Studio
predictions, the figures the version report shows, and how the simulator reads labeled files.
Callers hold a kind and its :class:`Schema` and nothing else of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import numpy.typing as npt
from label_studio_sdk.label_interface import LabelInterface

from strategies import FloatArray


@dataclass(frozen=True)
class Schema:
    """Where a task's input is and how a prediction must be written back; one per project.

    Each kind extends it with what it needs (the choices and single/multiple for text
    classification, the entity labels for spans) and names itself in ``kind``.
    """

    kind: ClassVar[str] = ""
    from_name: str
    to_name: str
    object_type: str
    value_key: str
    labels: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["labels"] = list(self.labels)
        return {"kind": self.kind, **data}


class Training(Protocol):
    """What a kind's training set tells the jobs: how many examples, and a summary to record."""

    task_ids: list[int]

    def __len__(self) -> int: ...

    def record(self) -> dict[str, Any]:
        """Figures for the version record (label counts, ties, unknown labels, ...)."""
        ...


class Model(Protocol):
    """A fitted model, stored as one artifact per version; ``labels`` in config order."""

    labels: tuple[str, ...]
    n_train: int


class Ranker(Protocol):
    """A named strategy of a kind's registry (see :mod:`strategies`)."""

    @property
    def name(self) -> str: ...

    @property
    def per_task(self) -> bool:
        """A task's score depends on that task alone: any subset scores as in the whole pool."""
        ...

    @property
    def refits(self) -> bool:
        """Ranking fits models (a committee, an approximate refit): never inside a request."""
        ...

    def rank(self, pool: Any, batch_size: int = 10, random_state: Any = None) -> FloatArray: ...


@dataclass
class Scored:
    """Scores (lower = label first) and the model's outputs for a batch of tasks, row order."""

    scores: FloatArray
    outputs: Any = None


@dataclass(frozen=True)
class Refit:
    """The kind's own model, retrained on any subset of a version's labels: what the audit needs.

    Rows are the version's labeled examples in training-file order (``task_ids``);
    ``fit_predict(train_rows, test_rows)`` trains on the first and returns probabilities
    for the second, one column per label (multi-label: 0 or 1, the labels the model would
    pre-select, so a figure at 0.5 counts what annotators see).
    """

    fit_predict: Callable[[npt.NDArray[np.intp], npt.NDArray[np.intp]], npt.NDArray[np.float64]]
    targets: npt.NDArray[Any]
    multilabel: bool
    #: For a kind measured on tag sequences (named entities) instead of class probabilities:
    #: ``fit_tags(train_rows, test_rows)`` trains on the first and tags the second, and
    #: ``tags`` holds each row's true tags; the audit is then entity F1, not accuracy.
    fit_tags: Callable[[npt.NDArray[np.intp], npt.NDArray[np.intp]], list[list[str]]] | None = None
    tags: Sequence[Sequence[str]] = ()


@dataclass
class Figures:
    """A version's figures, computed by its kind on the labels it was trained on.

    ``headline`` holds the figures the learning curve and ``/versions`` show (``accuracy``,
    ``macro_f1``, or ``None`` while there are too few labels); ``stop_predictions`` the
    model's answer per task of the project's stop set; ``sections`` everything else the
    report shows, as JSON. ``summary_html`` and ``details_html`` are the kind's parts of the
    report page, rendered (escaped) by the kind; ``footer`` one line about the method.
    """

    headline: dict[str, Any]
    status: str
    ok: bool = False
    stop_predictions: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, Any] = field(default_factory=dict)
    summary_html: str = ""
    details_html: str = ""
    footer: str = ""


class TaskKind(Protocol):
    """One labeling interface, end to end. Implementations are stateless singletons."""

    #: The name stored with each project's schema, e.g. ``"text_classification"``.
    name: str
    #: The one control tag of the label configs it serves (``"Choices"``, ``"Labels"``).
    control: str
    #: What it serves, for the message when a config fits no kind.
    supports: str
    #: Its strategy registry's default.
    default_strategy: str
    #: The model settings it honours from a project's settings (``learner``, ``c``,
    #: ``class_weight``, ``calibrate``; see :mod:`backend.loop.options`), and its learners'
    #: names: a project may not ask a kind for a setting it does not have.
    model_options: tuple[str, ...]
    learners: tuple[str, ...]

    def parse_config(self, interface: LabelInterface, config: str) -> Schema:
        """The schema of a config whose one control is this kind's :attr:`control`.

        Raise :class:`~backend.errors.UnsupportedLabelConfig` naming what cannot work
        (no choices, no text object, ...).
        """
        ...

    def schema_from_dict(self, data: Mapping[str, Any]) -> Schema: ...

    def has_input(self, task: Mapping[str, Any], schema: Schema) -> bool:
        """Whether ``task`` carries the field the config reads."""
        ...

    def inputs(self, tasks: Sequence[Mapping[str, Any]], schema: Schema, max_chars: int) -> Any:
        """The model's inputs for ``tasks``, row order (a 422 ``BadRequest`` if one lacks its field)."""
        ...

    def training_set(self, tasks: Sequence[Mapping[str, Any]], schema: Schema, max_chars: int) -> Training:
        """Labeled tasks to examples: skips, ties, unknown labels and missing inputs left out."""
        ...

    def train(self, training: Training, schema: Schema, options: Mapping[str, Any] | None = None,
              pool: Any = None) -> Model:
        """Fit a model; ``options`` are the project's model settings that the kind honours
        (:attr:`model_options`), already checked (None: the kind's defaults); ``pool`` is what
        :meth:`pool_stats` last returned, or None."""
        ...

    def pool_stats(self, inputs: Any, model: Model | None, previous: Any = None) -> Any:
        """Unsupervised statistics of the whole pool for the next trainings, or None to keep ``previous``.

        ``inputs`` are the unlabeled tasks' inputs and ``model`` the version that scored them
        (its labeled examples are the rest of the pool). A kind without such statistics
        returns None.
        """
        ...

    def training_file(self, training: Training) -> bytes:
        """What the report needs of the labels besides the model, kept beside the artifact."""
        ...

    def strategy(self, name: str | None) -> Ranker:
        """The strategy ``name`` of this kind's registry (``None``/``"default"``: its default)."""
        ...

    def strategy_names(self) -> list[str]: ...

    def score(self, inputs: Any, model: Model | None, schema: Schema, strategy: Ranker, *,
              batch_size: int, seed: int) -> Scored:
        """Rank ``inputs`` with ``strategy`` (the cold start when ``model`` is None)."""
        ...

    def fallback_score(self, inputs: Any, model: Model, schema: Schema) -> Scored:
        """A per-task score for tasks the last push did not cover, computed from the model
        alone (no refit, no whole-pool step): what ``/predict`` answers for them."""
        ...

    def predictions(self, schema: Schema, scored: Scored, version: str) -> list[dict[str, Any]]:
        """One Label Studio prediction (``result``, ``score``, ``model_version``) per row."""
        ...

    def evaluate(self, model: Model, training_file: Mapping[str, Any] | None, stop_set: Mapping[str, Any],
                 schema: Schema, *, ls_url: str, project: int) -> Figures:
        """The version report's figures (see :class:`Figures`); ``ls_url`` for links to tasks."""
        ...

    def refit(self, model: Model) -> Refit:
        """Retraining on subsets of ``model``'s own labels, for the audit estimate."""
        ...

    def calibrate(self, model: Model, ranker: Model, held_out: npt.NDArray[np.intp]) -> dict[str, Any] | None:
        """Fit the probability scale of ``model`` and ``ranker`` on rows ``ranker`` did not see.

        ``held_out`` are rows of ``model``'s training set (the labeled audit tasks) that the
        ranking model was trained without. Returns what the version record shows, or None
        when the kind has no such scale or the rows are too few (nothing changed).
        """
        ...

    def stop_set_value(self, task: Mapping[str, Any], schema: Schema, max_chars: int) -> Any:
        """What the project's stop set keeps of one unlabeled task to predict it later."""
        ...

    def reads(self, path: Path) -> bool:
        """Whether ``ls-active simulate`` should read the labeled file ``path`` as this kind's."""
        ...

    def load_labeled(self, path: Path, options: Mapping[str, Any]) -> Any:
        """The labeled file as the simulator's ``LabeledData`` (see :mod:`backend.simulate.engine`).

        ``options`` are the command's column options; a kind uses those that apply to it.
        """
        ...
