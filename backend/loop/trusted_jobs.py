"""Jobs that run only ls-active's own functions, whatever is written into Redis.

RQ stores a job's function (and its success, failure and stop callbacks) as a dotted path and
imports whatever path it finds. JSON keeps Redis from unpickling code, but a job written by
hand could still name ``os.system`` with a command as its argument. The worker therefore runs
only the job functions listed here; anything else fails as that job's error, and the worker
goes on with the next job.
"""

from __future__ import annotations

from typing import Any

from rq.job import Job

from backend.errors import LsActiveError

_FUNCTIONS = ("retrain", "rescore", "score_tasks", "evaluate", "cleanup_versions")
#: The job functions a worker runs: today's paths and those queued by ls-active 0.1.
TRUSTED = frozenset(f"{module}.{name}" for module in ("backend.loop.jobs", "backend.jobs") for name in _FUNCTIONS)


class UntrustedJob(LsActiveError):
    """A job in Redis names a function ls-active does not run."""


def _check(path: str | None, what: str) -> None:
    if path and path not in TRUSTED:
        raise UntrustedJob(f"refusing a job whose {what} is {path[:80]!r}: a worker runs only ls-active's own "
                           "jobs; whoever can write to this Redis wrote it (keep Redis private)")


class TrustedJob(Job):
    """An RQ job that refuses to import any function but ls-active's job functions."""

    @property
    def func(self) -> Any:
        if self.instance is not None:
            raise UntrustedJob("refusing a job that calls a method of a stored object")
        _check(self.func_name, "function")
        return super().func

    @property
    def success_callback(self) -> Any:
        _check(self._success_callback_name, "success callback")
        return super().success_callback

    @property
    def failure_callback(self) -> Any:
        _check(self._failure_callback_name, "failure callback")
        return super().failure_callback

    @property
    def stopped_callback(self) -> Any:
        _check(self._stopped_callback_name, "stop callback")
        return super().stopped_callback
