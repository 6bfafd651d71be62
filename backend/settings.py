"""Configuration, read once from the environment and passed down explicitly.

Every setting is documented here and in the README's configuration table. Names follow
label-studio-ml's (``LABEL_STUDIO_URL``, ``LABEL_STUDIO_API_KEY``, ``BASIC_AUTH_USER``,
``BASIC_AUTH_PASS``, ``MODEL_DIR``) so admins who know it feel at home.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from backend import defaults, validation
from backend.errors import ConfigurationError


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}; got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name}={raw!r} is not a boolean; use true or false")


def _schedule(env: Mapping[str, str], name: str, default: str, increasing: bool = True) -> tuple[int, ...]:
    """``10`` (every 10 labels) or ``10,20,40`` (milestones; the last gap then repeats doubled)."""
    raw = env.get(name, "").strip() or default
    try:
        steps = tuple(int(part) for part in raw.replace(" ", "").split(",") if part)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r}: use a number or a comma list like 10,20,40") from None
    if not steps or any(s < 1 for s in steps) or (increasing and list(steps) != sorted(set(steps))):
        order = "positive and increasing" if increasing else "positive"
        raise ConfigurationError(f"{name}={raw!r}: numbers must be {order}")
    return steps


def _share(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a number; give a share like 0.1") from None
    if not 0.0 <= value <= 0.5:
        raise ConfigurationError(f"{name} must be between 0 (off) and 0.5; got {raw}")
    return value


def _memory(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip().lower() or default
    if not re.fullmatch(r"[1-9]\d{0,5}(kb|mb|gb)", raw):
        raise ConfigurationError(f"{name}={raw!r}: give a size like 512mb or 2gb")
    return raw


def _strategy(name: str) -> str:
    from strategies import UnknownStrategyError, get_strategy

    try:
        get_strategy(name)
    except UnknownStrategyError as exc:
        raise ConfigurationError(f"STRATEGY={name!r}: {exc}") from None
    return name


def _checked(env: Mapping[str, str], name: str, default: object, parse: Callable[[str, str], object]) -> Any:
    """``parse(name, raw)`` of the variable, or ``default`` when it is unset or empty."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return parse(name, raw)
    except validation.InvalidOption as exc:
        raise ConfigurationError(str(exc)) from None


def _learner(name: str, raw: str) -> str:
    """A learner's name; which names exist is the task kinds' to say (checked by
    :func:`backend.loop.options.check_settings` when the services start)."""
    value = raw.strip().lower()
    if not re.fullmatch(r"[a-z][a-z0-9_-]{0,39}", value):
        raise validation.InvalidOption(f"{name} must be a learner's name like logreg; got {validation.shown(raw)}")
    return value


@dataclass(frozen=True)
class Settings:
    """All of ls-active's configuration. Build it with :meth:`from_env`."""

    #: Redis to use; empty = start the embedded Redis (Valkey) under ``data_dir``.
    redis_url: str = ""
    #: The embedded Redis's memory cap (``512mb``, ``2gb``, ...); past it writes are refused.
    redis_maxmemory: str = defaults.EMBEDDED_REDIS_MAXMEMORY
    #: Where model artifacts live: one immutable folder per project and version.
    model_dir: Path = Path("./data/models")
    #: Where the embedded Redis keeps its database and socket, and other local state.
    data_dir: Path = Path("./data")
    #: Label Studio's address and token for jobs; empty = use what ``/setup`` received.
    label_studio_url: str = ""
    label_studio_api_key: str = field(default="", repr=False)
    #: When both are set, every endpoint requires HTTP basic auth with them.
    basic_auth_user: str = ""
    basic_auth_pass: str = field(default="", repr=False)
    #: Query strategy used unless a project's ``/setup`` extra_params name another.
    strategy: str = "default"
    #: Share of the queue drawn at random as the audit sample (0 turns it off), unless a
    #: project's ``/setup`` extra_params give ``audit_share``.
    audit_share: float = defaults.AUDIT_SHARE
    log_level: str = "INFO"
    #: Retrain milestones: every N labels, or an increasing list (10,20,40 then doubling),
    #: unless a project's extra_params give ``retrain_every``.
    retrain_every: tuple[int, ...] = (10,)
    #: Tasks per ranking batch (``BATCH_SIZE``); 0: the first retrain step.
    batch_size: int = 0
    #: The model's settings unless a project's extra_params give them (``learner``, ``C``,
    #: ``class_weight``, ``calibrate``): see :mod:`backend.loop.options`.
    learner: str = "logreg"
    model_c: float = 10.0
    class_weight: str = "none"
    calibrate: str = defaults.CALIBRATE
    #: Set "Uncertainty sampling" and create the "Active learning queue" tab per project.
    configure_project: bool = True
    #: RQ queue names: training and scoring can run on separate worker pools.
    train_queue: str = "ls-active-train"
    score_queue: str = "ls-active-score"
    #: Slow housekeeping (deleting superseded predictions) waits behind training and scoring.
    maintenance_queue: str = "ls-active-maintenance"
    #: Seconds a job may run before RQ stops it, and how often a failed job is retried.
    job_timeout: int = 1800
    job_retries: int = 3
    #: Seconds to wait before each retry (the last value repeats): Label Studio may be restarting.
    retry_backoff: tuple[int, ...] = (5, 30, 120)
    #: Prediction versions kept in Label Studio besides the current one.
    keep_versions: int = 2
    #: gunicorn worker processes for ``ls-active serve``.
    web_workers: int = 2
    #: Seconds a connection may wait on one read or write before it is closed (stalled clients).
    client_timeout: float = defaults.CLIENT_TIMEOUT
    max_body_bytes: int = defaults.MAX_BODY_BYTES
    max_text_chars: int = defaults.MAX_TEXT_CHARS
    #: Tasks per page when reading from and writing to Label Studio.
    page_size: int = 1000
    #: Predictions per import request; Label Studio recounts the project after each request,
    #: so smaller requests each hold its database for less time but cost more in total.
    push_batch: int = defaults.MAX_PREDICTIONS_PER_REQUEST
    #: Redis memory the cached unlabeled pools may take, per project (MB); past it that
    #: project's pool is read from Label Studio in full at every rescore (0: never cached).
    pool_cache_max_mb: int = defaults.POOL_CACHE_MAX_MB
    #: Seconds after which the cached pool is read in full again: Label Studio sends no event
    #: when a task's data is edited, so an edit reaches the scores within this time.
    pool_cache_max_age: int = defaults.POOL_CACHE_MAX_AGE
    #: Tasks at the head of the order pushed first, one prediction per request, and served
    #: before the rest of the pool is brought up to date; 0 = two milestones' worth.
    head_tasks: int = 0
    #: Unlabeled tasks from which the head goes first; below it one bulk import is faster
    #: than the head's requests (Label Studio's fixed cost per import grows with the project).
    head_first_min_tasks: int = defaults.HEAD_FIRST_MIN_TASKS
    #: Push the head as one bulk import: set it when Label Studio runs with its memory-efficient
    #: import flag on, which recounts only the tasks written (0.25 s for 40 predictions at
    #: 10,000 tasks, against 10 s one request each); without the flag it would recount the project.
    head_bulk: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read every setting once; raise :class:`ConfigurationError` naming a bad variable."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("DATA_DIR", "").strip() or "./data").expanduser()
        model_dir = Path(env.get("MODEL_DIR", "").strip() or str(data_dir / "models")).expanduser()
        user = env.get("BASIC_AUTH_USER", "")
        password = env.get("BASIC_AUTH_PASS", "")
        if bool(user) != bool(password):
            raise ConfigurationError("set both BASIC_AUTH_USER and BASIC_AUTH_PASS, or neither")
        level = (env.get("LOG_LEVEL", "") or "INFO").upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ConfigurationError(f"LOG_LEVEL={level!r}: use DEBUG, INFO, WARNING or ERROR")
        return cls(
            redis_url=env.get("REDIS_URL", "").strip(),
            redis_maxmemory=_memory(env, "REDIS_MAXMEMORY", defaults.EMBEDDED_REDIS_MAXMEMORY),
            model_dir=model_dir.resolve(),
            data_dir=data_dir.resolve(),
            label_studio_url=env.get("LABEL_STUDIO_URL", "").strip().rstrip("/"),
            label_studio_api_key=env.get("LABEL_STUDIO_API_KEY", "").strip(),
            basic_auth_user=user,
            basic_auth_pass=password,
            strategy=_strategy(env.get("STRATEGY", "").strip() or "default"),
            audit_share=_share(env, "AUDIT_SHARE", defaults.AUDIT_SHARE),
            log_level=level,
            retrain_every=_schedule(env, "RETRAIN_EVERY", "10"),
            batch_size=_checked(env, "BATCH_SIZE", 0, lambda n, r: validation.whole(n, r, 1, defaults.MAX_BATCH_SIZE)),
            learner=_checked(env, "LEARNER", "logreg", _learner),
            model_c=_checked(env, "MODEL_C", 10.0, lambda n, r: validation.number(n, r, *defaults.MODEL_C_RANGE)),
            class_weight=_checked(env, "CLASS_WEIGHT", "none",
                                  lambda n, r: validation.choice(n, r, defaults.CLASS_WEIGHTS)),
            calibrate=_checked(env, "CALIBRATE", defaults.CALIBRATE, validation.calibration),
            configure_project=_bool(env, "CONFIGURE_PROJECT", True),
            train_queue=env.get("TRAIN_QUEUE", "").strip() or "ls-active-train",
            score_queue=env.get("SCORE_QUEUE", "").strip() or "ls-active-score",
            maintenance_queue=env.get("MAINTENANCE_QUEUE", "").strip() or "ls-active-maintenance",
            job_timeout=_int(env, "JOB_TIMEOUT", 1800, minimum=10),
            job_retries=_int(env, "JOB_RETRIES", 3),
            retry_backoff=_schedule(env, "RETRY_BACKOFF", "5,30,120", increasing=False),
            keep_versions=_int(env, "KEEP_VERSIONS", 2),
            web_workers=_int(env, "WEB_WORKERS", 2, minimum=1),
            client_timeout=float(_int(env, "CLIENT_TIMEOUT", int(defaults.CLIENT_TIMEOUT), minimum=1)),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", defaults.MAX_BODY_BYTES, minimum=1024),
            max_text_chars=_int(env, "MAX_TEXT_CHARS", defaults.MAX_TEXT_CHARS, minimum=1),
            page_size=_int(env, "PAGE_SIZE", 1000, minimum=1),
            push_batch=_int(env, "PUSH_BATCH", defaults.MAX_PREDICTIONS_PER_REQUEST, minimum=1),
            pool_cache_max_mb=_int(env, "POOL_CACHE_MAX_MB", defaults.POOL_CACHE_MAX_MB),
            pool_cache_max_age=_int(env, "POOL_CACHE_MAX_AGE", defaults.POOL_CACHE_MAX_AGE),
            head_tasks=_int(env, "HEAD_TASKS", 0),
            head_first_min_tasks=_int(env, "HEAD_FIRST_MIN_TASKS", defaults.HEAD_FIRST_MIN_TASKS),
            head_bulk=_bool(env, "HEAD_BULK", False),
        )

    def with_redis_url(self, url: str) -> Settings:
        """The same settings pointing at another Redis (the embedded server's socket)."""
        return replace(self, redis_url=url)

    @property
    def queues(self) -> tuple[str, ...]:
        """Queue names in the order a worker serves them: training first, housekeeping last."""
        return (self.train_queue, self.score_queue, self.maintenance_queue)

    @property
    def basic_auth(self) -> bool:
        return bool(self.basic_auth_user and self.basic_auth_pass)
