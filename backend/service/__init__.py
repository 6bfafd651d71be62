"""The HTTP face Label Studio talks to: the app factory, auth, the routes and webhook events.

Handlers are thin: they parse, read state and enqueue; all work happens in :mod:`backend.loop`
jobs. May import the base, :mod:`backend.labelstudio`, :mod:`backend.tasks`,
:mod:`backend.loop` and :mod:`backend.reports`.
"""
