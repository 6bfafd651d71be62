"""A project's settings: extra_params checked against its kind, the environment's defaults beneath."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from backend.errors import ConfigurationError
from backend.loop.options import EXTRA_PARAMS, ProjectOptions, check_settings, for_kind, parse_overrides, resolve
from backend.loop.rescoring import head_size
from backend.loop.state import ProjectConfig
from backend.settings import Settings
from backend.tasks.ner.kind import NAMED_ENTITIES as NER
from backend.tasks.text_classification.kind import TEXT_CLASSIFICATION as TEXT
from backend.tasks.text_classification.schema import TaskSchema
from backend.validation import InvalidOption

SCHEMA = TaskSchema("label", "text", "Text", "text", ("a", "b"), False)


def text_overrides(params: dict[str, Any]) -> dict[str, Any]:
    return parse_overrides(params, TEXT.learners, TEXT.model_options, TEXT.name)


def test_every_setting_is_read_and_typed() -> None:
    given = {"learner": "LogReg", "C": "0.5", "class_weight": "balanced", "calibrate": "false",
             "retrain_every": "5,10,20", "batch_size": 25, "strategy": "margin", "audit_share": 0.1}
    assert text_overrides(given) == {"learner": "logreg", "c": 0.5, "class_weight": "balanced",
                                     "calibrate": "off", "retrain_every": [5, 10, 20], "batch_size": 25}
    assert text_overrides({"C": None, "learner": ""}) == {}  # empty means "the environment's"


@pytest.mark.parametrize(("params", "words"), [
    ({"learner": "forest"}, ["learner", "'forest'", "auto, logreg"]),
    ({"C": 0}, ["C must be", "0.0001", "10000"]),
    ({"C": "strong"}, ["C must be a number", "'strong'"]),
    ({"class_weight": "heavy"}, ["class_weight", "none, balanced"]),
    ({"calibrate": "sometimes"}, ["calibrate must be one of audit, folds, off", "'sometimes'"]),
    ({"retrain_every": "20,10"}, ["retrain_every", "increase"]),
    ({"batch_size": 0}, ["batch_size", "from 1 to 1000"]),
    ({"class_weights": "balanced"}, ["unknown setting 'class_weights'", "class_weight", "retrain_every"]),
])
def test_a_bad_value_is_named_with_what_is_allowed(params: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(InvalidOption) as info:
        text_overrides(params)
    for word in words:
        assert word in str(info.value)


def test_a_kind_without_model_settings_refuses_them_but_takes_the_loops() -> None:
    with pytest.raises(InvalidOption, match="C does not apply to ner projects"):
        parse_overrides({"C": 1.0}, NER.learners, NER.model_options, NER.name)
    assert parse_overrides({"batch_size": 5}, NER.learners, NER.model_options, NER.name) == {"batch_size": 5}


def test_environment_defaults_and_project_overrides() -> None:
    env = Settings.from_env({"LEARNER": "logreg", "MODEL_C": "3", "CLASS_WEIGHT": "balanced", "CALIBRATE": "0",
                             "RETRAIN_EVERY": "20", "BATCH_SIZE": "7"})
    base = resolve(env, {})
    assert base == ProjectOptions("logreg", 3.0, "balanced", "off", (20,), 7)
    mine = resolve(env, text_overrides({"C": 0.1, "retrain_every": [5, 50]}))
    assert (mine.c, mine.retrain_every, mine.batch_size, mine.learner) == (0.1, (5, 50), 7, "logreg")
    assert mine.model() == {"learner": "logreg", "c": 0.1, "class_weight": "balanced", "calibrate": "off"}


@pytest.mark.parametrize(("raw", "mode"), [("audit", "audit"), (" Folds ", "folds"), ("off", "off"),
                                           (True, "folds"), ("false", "off"), ("yes", "folds"), (0, "off")])
def test_calibration_modes_and_the_older_true_and_false(raw: Any, mode: str) -> None:
    assert text_overrides({"calibrate": raw}) == {"calibrate": mode}


def test_the_default_calibration_and_a_setting_stored_as_a_boolean() -> None:
    env = Settings.from_env({})
    assert resolve(env, {}).calibrate == "audit"
    # a project whose override was stored before calibrate had modes
    assert resolve(env, {"calibrate": True}).calibrate == "folds"
    assert resolve(env, {"calibrate": False}).calibrate == "off"


def test_a_learner_no_kind_has_is_refused_when_the_services_start() -> None:
    check_settings(Settings.from_env({"LEARNER": "logreg"}))
    known = "auto, cnb, ensemble, logreg, nblr"
    with pytest.raises(ConfigurationError, match=rf"LEARNER='forest' is not a learner; use one of {known}"):
        check_settings(Settings.from_env({"LEARNER": "forest"}))


def test_batch_follows_the_projects_own_schedule_unless_set() -> None:
    env = Settings.from_env({})
    assert resolve(env, {}).batch_size == 10  # the first step of RETRAIN_EVERY, as before
    assert resolve(env, {"retrain_every": [4, 8]}).batch_size == 4
    assert resolve(env, {"retrain_every": [4, 8], "batch_size": 30}).batch_size == 30
    rare = Settings.from_env({"RETRAIN_EVERY": "5000"})  # a first step past the largest batch
    assert resolve(rare, {}).batch_size == resolve(rare, {"retrain_every": [2000]}).batch_size == 1000


def test_options_check_themselves() -> None:
    with pytest.raises(InvalidOption, match="C must be"):
        ProjectOptions(c=-1.0)
    with pytest.raises(InvalidOption, match="retrain_every"):
        ProjectOptions(retrain_every=(10, 5))
    with pytest.raises(InvalidOption, match="calibrate"):
        ProjectOptions(calibrate="yes")  # type: ignore[arg-type]


def test_recorded_settings_leave_out_what_the_kind_does_not_have() -> None:
    options = resolve(Settings.from_env({}), {})
    assert set(for_kind(options, TEXT.model_options)) == {"learner", "C", "class_weight", "calibrate",
                                                          "retrain_every", "batch_size"}
    assert set(for_kind(options, NER.model_options)) == {"retrain_every", "batch_size"}
    assert set(EXTRA_PARAMS) >= set(for_kind(options, TEXT.model_options))


def test_configs_stored_before_settings_existed_still_load() -> None:
    old = ('{"project": 4, "schema": %s, "hostname": "", "access_token": "", "strategy": "margin", '
           '"setup_at": 1.0, "audit_share": null}')
    config = ProjectConfig.from_json(old % json.dumps(SCHEMA.to_dict()))
    assert config.options == {}
    assert resolve(Settings.from_env({}), config.options) == ProjectOptions()
    mine = ProjectConfig(4, SCHEMA, options=text_overrides({"retrain_every": "3,6", "C": 2}))
    assert ProjectConfig.from_json(mine.to_json()) == mine


def test_the_head_follows_the_projects_own_schedule() -> None:
    """Two milestones' worth of the project's ``retrain_every``, from the labels the model had."""
    env = Settings.from_env({"RETRAIN_EVERY": "10"})
    model = SimpleNamespace(n_train=45)
    assert head_size(env, ProjectConfig(4, SCHEMA), None) == 20
    assert head_size(env, ProjectConfig(4, SCHEMA), model) == 15  # to 50, then 60
    mine = ProjectConfig(4, SCHEMA, options=text_overrides({"retrain_every": "25"}))
    assert head_size(env, mine, None) == 50 and head_size(env, mine, model) == 30  # to 50, then 75
    assert head_size(Settings.from_env({"HEAD_TASKS": "7"}), mine, model) == 7
    growing = Settings.from_env({"RETRAIN_EVERY": "15,30"})  # the environment's schedule, no model yet
    assert head_size(growing, ProjectConfig(4, SCHEMA), None) == 30
