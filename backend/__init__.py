"""ls-active: an active-learning ML backend for Label Studio.

The packages, in the order they may import each other (a package imports only those above
it; :mod:`strategies`, pure numpy and scikit-learn, sits below everything):

* the base: :mod:`backend.errors`, :mod:`backend.defaults`, :mod:`backend.settings`,
  :mod:`backend.logs`;
* :mod:`backend.labelstudio` (Label Studio's side) and :mod:`backend.tasks` (task kinds);
* :mod:`backend.loop` (Redis, RQ, the jobs) and :mod:`backend.reports` (figures and pages);
* :mod:`backend.service` (the HTTP face), :mod:`backend.ops` (demo, check) and
  :mod:`backend.simulate` (offline comparison);
* :mod:`backend.cli`, the ``ls-active`` command.
"""

__version__ = "0.1.0"
