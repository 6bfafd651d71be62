"""The active-learning loop on Redis and RQ: connection and embedded server, project state,
the artifact store, milestones, scheduling, the jobs and the worker.

May import the base, :mod:`backend.labelstudio`, :mod:`backend.tasks` and
:mod:`backend.reports`; knows a task kind only through :mod:`backend.tasks`' interface.
"""
