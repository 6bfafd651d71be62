"""Each version explains itself: the learning curve, when to stop, and the report page.

Pure computation and rendering: no Redis, no Label Studio calls. May import the base and
:mod:`backend.tasks`.
"""
