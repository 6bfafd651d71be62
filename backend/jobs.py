"""The dotted paths that RQ jobs queued by ls-active 0.1 name (``backend.jobs.retrain``, ...).

A queued job names its function by dotted path; these keep such jobs runnable after an
upgrade. New jobs name :mod:`backend.loop.jobs`. To be removed in the release after next.
"""

from backend.loop.jobs import cleanup_versions, evaluate, rescore, retrain, score_tasks

__all__ = ["cleanup_versions", "evaluate", "rescore", "retrain", "score_tasks"]
