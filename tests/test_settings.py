"""Settings from the environment: documented defaults, every variable, and errors that name it."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.defaults import MAX_BODY_BYTES as DEFAULT_MAX_BODY_BYTES
from backend.defaults import MAX_TEXT_CHARS as DEFAULT_MAX_TEXT_CHARS
from backend.errors import ConfigurationError
from backend.settings import Settings


def test_defaults_from_an_empty_environment() -> None:
    s = Settings.from_env({})
    assert s.redis_url == ""
    assert s.data_dir == Path("./data").resolve()
    assert s.model_dir == (Path("./data") / "models").resolve()
    assert (s.label_studio_url, s.label_studio_api_key) == ("", "")
    assert (s.basic_auth_user, s.basic_auth_pass, s.basic_auth) == ("", "", False)
    assert s.strategy == "default"
    assert s.log_level == "INFO"
    assert s.retrain_every == (10,)
    assert s.configure_project is True
    assert (s.train_queue, s.score_queue) == ("ls-active-train", "ls-active-score")
    assert (s.job_timeout, s.job_retries, s.keep_versions, s.web_workers) == (1800, 3, 2, 2)
    assert s.retry_backoff == (5, 30, 120)
    assert s.max_body_bytes == DEFAULT_MAX_BODY_BYTES
    assert s.max_text_chars == DEFAULT_MAX_TEXT_CHARS
    assert s.page_size == 1000
    assert (s.learner, s.model_c, s.class_weight, s.calibrate, s.batch_size) == ("logreg", 10.0, "none", "audit", 0)


def test_blank_values_mean_the_default() -> None:
    blank = {name: "  " for name in ("REDIS_URL", "JOB_TIMEOUT", "RETRAIN_EVERY", "CONFIGURE_PROJECT", "STRATEGY")}
    assert Settings.from_env(blank) == Settings.from_env({})


def test_every_variable_is_read(tmp_path: Path) -> None:
    env = {
        "REDIS_URL": " redis://cache:6380/2 ",
        "DATA_DIR": str(tmp_path / "state"),
        "MODEL_DIR": str(tmp_path / "artifacts"),
        "LABEL_STUDIO_URL": "http://ls.example:8080/",
        "LABEL_STUDIO_API_KEY": " secret-key ",
        "BASIC_AUTH_USER": "admin",
        "BASIC_AUTH_PASS": "pw",
        "STRATEGY": "margin",
        "LOG_LEVEL": "debug",
        "RETRAIN_EVERY": "5, 20,50",
        "CONFIGURE_PROJECT": "off",
        "TRAIN_QUEUE": "t",
        "SCORE_QUEUE": "s",
        "JOB_TIMEOUT": "60",
        "JOB_RETRIES": "0",
        "RETRY_BACKOFF": "60,10,10",
        "KEEP_VERSIONS": "5",
        "WEB_WORKERS": "4",
        "MAX_BODY_BYTES": "2048",
        "MAX_TEXT_CHARS": "300",
        "PAGE_SIZE": "250",
        "AUDIT_SHARE": "0.05",
        "LEARNER": "LogReg",
        "MODEL_C": "0.5",
        "CLASS_WEIGHT": "balanced",
        "CALIBRATE": "no",
        "BATCH_SIZE": "25",
    }
    s = Settings.from_env(env)
    assert (s.learner, s.model_c, s.class_weight, s.calibrate, s.batch_size) == ("logreg", 0.5, "balanced", "off", 25)
    assert s.audit_share == 0.05
    assert s.redis_url == "redis://cache:6380/2"
    assert s.data_dir == tmp_path / "state"
    assert s.model_dir == tmp_path / "artifacts"
    assert s.label_studio_url == "http://ls.example:8080"
    assert s.label_studio_api_key == "secret-key"
    assert (s.basic_auth_user, s.basic_auth_pass, s.basic_auth) == ("admin", "pw", True)
    assert s.strategy == "margin"
    assert s.log_level == "DEBUG"
    assert s.retrain_every == (5, 20, 50)
    assert s.configure_project is False
    assert (s.train_queue, s.score_queue) == ("t", "s")
    assert (s.job_timeout, s.job_retries, s.keep_versions, s.web_workers) == (60, 0, 5, 4)
    assert s.retry_backoff == (60, 10, 10), "back-off steps need not increase"
    assert (s.max_body_bytes, s.max_text_chars, s.page_size) == (2048, 300, 250)


def test_model_dir_follows_data_dir(tmp_path: Path) -> None:
    assert Settings.from_env({"DATA_DIR": str(tmp_path)}).model_dir == tmp_path / "models"


def test_home_is_expanded() -> None:
    s = Settings.from_env({"DATA_DIR": "~/lsa-data"})
    assert s.data_dir == (Path.home() / "lsa-data").resolve()


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("TRUE", True), ("yes", True), ("on", True),
                                               ("0", False), ("False", False), ("no", False), ("off", False)])
def test_boolean_spellings(raw: str, expected: bool) -> None:
    assert Settings.from_env({"CONFIGURE_PROJECT": raw}).configure_project is expected


def test_secrets_stay_out_of_repr() -> None:
    s = Settings.from_env({"LABEL_STUDIO_API_KEY": "k-123456", "BASIC_AUTH_USER": "u", "BASIC_AUTH_PASS": "p-987654"})
    assert "k-123456" not in repr(s) and "p-987654" not in repr(s)


def test_with_redis_url_changes_only_that() -> None:
    s = Settings.from_env({"RETRAIN_EVERY": "7"})
    moved = s.with_redis_url("unix:///tmp/r.sock")
    assert moved.redis_url == "unix:///tmp/r.sock"
    assert moved.retrain_every == (7,) and s.redis_url == ""


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("JOB_TIMEOUT", "soon"),
        ("JOB_TIMEOUT", "5"),
        ("JOB_RETRIES", "-1"),
        ("JOB_RETRIES", "2.5"),
        ("KEEP_VERSIONS", "-3"),
        ("WEB_WORKERS", "0"),
        ("MAX_BODY_BYTES", "100"),
        ("MAX_TEXT_CHARS", "0"),
        ("PAGE_SIZE", "zero"),
        ("CONFIGURE_PROJECT", "maybe"),
        ("LOG_LEVEL", "loud"),
        ("RETRAIN_EVERY", "ten"),
        ("RETRAIN_EVERY", "0"),
        ("RETRAIN_EVERY", "20,10"),
        ("RETRAIN_EVERY", "10,10"),
        ("RETRAIN_EVERY", ","),
        ("RETRAIN_EVERY", "-5"),
        ("RETRY_BACKOFF", "soon"),
        ("RETRY_BACKOFF", "-1"),
        ("LEARNER", "random forest!"),
        ("MODEL_C", "0"),
        ("MODEL_C", "strong"),
        ("CLASS_WEIGHT", "heavy"),
        ("CALIBRATE", "sometimes"),
        ("BATCH_SIZE", "0"),
        ("BATCH_SIZE", "5000"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({name: value})
    assert name in str(caught.value)


@pytest.mark.parametrize("env", [{"BASIC_AUTH_USER": "admin"}, {"BASIC_AUTH_PASS": "pw"}])
def test_basic_auth_needs_both(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(env)
    assert "BASIC_AUTH_USER" in str(caught.value) and "BASIC_AUTH_PASS" in str(caught.value)


def test_unknown_strategy_names_the_variable() -> None:
    """A misspelt STRATEGY must fail at start-up, not later as a /setup error about extra_params."""
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({"STRATEGY": "marginn"})
    assert "STRATEGY" in str(caught.value)


def test_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGE_SIZE", "123")
    assert Settings.from_env().page_size == 123


@pytest.mark.parametrize("raw", ["0.6", "-0.1", "some"])
def test_audit_share_is_a_share_the_audit_can_afford(raw: str) -> None:
    with pytest.raises(ConfigurationError, match="AUDIT_SHARE"):
        Settings.from_env({"AUDIT_SHARE": raw})
    assert Settings.from_env({"AUDIT_SHARE": "0"}).audit_share == 0.0
    assert Settings.from_env({}).audit_share == 0.1


def test_the_pool_cache_and_head_settings() -> None:
    s = Settings.from_env({"RETRAIN_EVERY": "15,30"})
    assert (s.pool_cache_max_mb, s.pool_cache_max_age, s.head_first_min_tasks) == (256, 3600, 3000)
    assert s.head_bulk is False and Settings.from_env({"HEAD_BULK": "true"}).head_bulk is True
    s = Settings.from_env({"HEAD_TASKS": "7", "POOL_CACHE_MAX_MB": "0", "POOL_CACHE_MAX_AGE": "60",
                           "HEAD_FIRST_MIN_TASKS": "0"})
    assert (s.head_tasks, s.pool_cache_max_mb, s.pool_cache_max_age, s.head_first_min_tasks) == (7, 0, 60, 0)
    with pytest.raises(ConfigurationError, match="HEAD_TASKS"):
        Settings.from_env({"HEAD_TASKS": "-1"})
