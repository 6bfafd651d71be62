"""A project's model and loop settings: the environment's, overridden by its ``/setup`` extra_params.

Projects differ: a project with a rare class wants balanced class weights, one with long
texts a weaker regularization, one with fast annotators retrains less often. Each setting
has an environment default (:mod:`backend.settings`) and may be overridden per project in
the Model settings' extra params. A project stores only what it overrides (an admin who
changes the environment later changes every project that did not), and every retrain
records the settings it used in its version record.

The model settings are handed to the project's task kind as a plain mapping
(:meth:`ProjectOptions.model`); a kind says which it honours (``TaskKind.model_options``)
and which learners it has (``TaskKind.learners``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from backend import defaults, validation
from backend.errors import ConfigurationError
from backend.settings import Settings
from backend.tasks.registry import KINDS

C_RANGE = defaults.MODEL_C_RANGE
CLASS_WEIGHTS = defaults.CLASS_WEIGHTS
MAX_BATCH = defaults.MAX_BATCH_SIZE
#: extra_params name of each setting (``C`` as in scikit-learn); the others are the field names.
PARAM_NAMES = {"learner": "learner", "c": "C", "class_weight": "class_weight", "calibrate": "calibrate",
               "retrain_every": "retrain_every", "batch_size": "batch_size"}
#: The settings handed to the task kind's training; the rest are the loop's.
MODEL_FIELDS = ("learner", "c", "class_weight", "calibrate")
#: Every extra_params key ``/setup`` understands (the two older ones are read in the routes).
EXTRA_PARAMS = ("strategy", "audit_share", *PARAM_NAMES.values())


@dataclass(frozen=True)
class ProjectOptions:
    """The settings a project trains and ranks with; every value checked on construction."""

    #: The model family (one of the kind's learners; ``auto`` switches by label count).
    learner: str = "logreg"
    #: Inverse regularization strength of the logistic regression (higher: fits the labels closer).
    c: float = 10.0
    #: ``balanced`` weighs each class inversely to its share of the labels; ``none`` does not.
    class_weight: str = "none"
    #: Where the probabilities' temperature is fitted (``audit``, ``folds`` or ``off``: see
    #: :data:`backend.defaults.CALIBRATE_MODES`), when there are enough labels.
    calibrate: str = defaults.CALIBRATE
    #: Retrain milestones: every N label events, or an increasing list then doubling.
    retrain_every: tuple[int, ...] = (10,)
    #: Tasks per ranking batch: a batch strategy picks this many together, and the audit
    #: draws fill the head of the queue this long.
    batch_size: int = 10

    def __post_init__(self) -> None:
        if not isinstance(self.learner, str) or not self.learner:  # which names: the kind's (parse_overrides)
            raise validation.InvalidOption(f"learner must be a learner's name; got {validation.shown(self.learner)}")
        validation.number("C", self.c, *C_RANGE)
        validation.choice("class_weight", self.class_weight, CLASS_WEIGHTS)
        if self.calibrate not in defaults.CALIBRATE_MODES:
            raise validation.InvalidOption(f"calibrate must be one of {', '.join(defaults.CALIBRATE_MODES)}; "
                                           f"got {validation.shown(self.calibrate)}")
        validation.schedule("retrain_every", list(self.retrain_every))
        validation.whole("batch_size", self.batch_size, 1, MAX_BATCH)

    @classmethod
    def defaults(cls, settings: Settings) -> ProjectOptions:
        """The environment's settings (``LEARNER``, ``MODEL_C``, ..., ``RETRAIN_EVERY``, ``BATCH_SIZE``)."""
        return cls(learner=settings.learner, c=settings.model_c, class_weight=settings.class_weight,
                   calibrate=settings.calibrate, retrain_every=settings.retrain_every,
                   batch_size=settings.batch_size or min(settings.retrain_every[0], MAX_BATCH))

    def model(self) -> dict[str, Any]:
        """What the task kind's training receives."""
        return {name: getattr(self, name) for name in MODEL_FIELDS}

    def to_dict(self) -> dict[str, Any]:
        """JSON for the version record, ``/metrics`` and the report, keyed by extra_params names."""
        data = asdict(self)
        data["retrain_every"] = list(self.retrain_every)
        return {PARAM_NAMES[k]: v for k, v in data.items()}


def parse_overrides(params: Mapping[str, Any], learners: tuple[str, ...], model_options: tuple[str, ...],
                    kind_name: str) -> dict[str, Any]:
    """The settings ``params`` (extra_params) override, checked and typed, by field name.

    Raises :class:`~backend.validation.InvalidOption` naming an unknown key, a bad value, or
    a model setting the project's kind does not have.
    """
    unknown = sorted(str(k) for k in params if k not in EXTRA_PARAMS)
    if unknown:
        raise validation.InvalidOption(f"unknown setting {validation.shown(unknown[0])}; "
                                       f"the settings are {', '.join(EXTRA_PARAMS)}")
    out: dict[str, Any] = {}
    for field_name, key in PARAM_NAMES.items():
        raw = params.get(key)
        if raw is None or raw == "":
            continue
        if field_name in MODEL_FIELDS and field_name not in model_options:
            raise validation.InvalidOption(f"{key} does not apply to {kind_name} projects; "
                                           f"remove it from extra_params")
        out[field_name] = _parse(field_name, key, raw, learners)
    return out


def _parse(field_name: str, key: str, raw: Any, learners: tuple[str, ...]) -> Any:
    if field_name == "learner":
        return validation.choice(key, raw, learners)
    if field_name == "c":
        return validation.number(key, raw, *C_RANGE)
    if field_name == "class_weight":
        return validation.choice(key, raw, CLASS_WEIGHTS)
    if field_name == "calibrate":
        return validation.calibration(key, raw)
    if field_name == "retrain_every":
        return list(validation.schedule(key, raw))  # stored as JSON
    return validation.whole(key, raw, 1, MAX_BATCH)


def check_settings(settings: Settings) -> None:
    """Refuse a ``LEARNER`` no task kind has, when the services start (not at the first retrain)."""
    known = sorted({name for kind in KINDS.values() for name in kind.learners})
    if settings.learner not in known:
        raise ConfigurationError(f"LEARNER={validation.shown(settings.learner)} is not a learner; "
                                 f"use one of {', '.join(known)}")


def for_kind(options: ProjectOptions, model_options: tuple[str, ...]) -> dict[str, Any]:
    """What a version record and the report show: the loop's settings and the model settings
    that the project's kind honours, by extra_params name."""
    shown = options.to_dict()
    return {k: v for k, v in shown.items()
            if not any(PARAM_NAMES[f] == k for f in MODEL_FIELDS) or any(PARAM_NAMES[f] == k for f in model_options)}


def resolve(settings: Settings, overrides: Mapping[str, Any]) -> ProjectOptions:
    """The environment's settings with a project's ``overrides`` (field names) on top.

    A project that sets its own ``retrain_every`` but no ``batch_size`` ranks in batches of
    its first step, as the environment's defaults do.
    """
    known = {f.name for f in fields(ProjectOptions)}
    given: dict[str, Any] = {k: (tuple(v) if k == "retrain_every" else v) for k, v in overrides.items()
                             if k in known}
    if isinstance(given.get("calibrate"), bool):  # stored before calibrate had modes: true was folds
        given["calibrate"] = "folds" if given["calibrate"] else "off"
    base = ProjectOptions.defaults(settings)
    if "retrain_every" in given and "batch_size" not in given and not settings.batch_size:
        given["batch_size"] = min(given["retrain_every"][0], MAX_BATCH)
    return replace(base, **given)
