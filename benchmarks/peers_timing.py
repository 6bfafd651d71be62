"""Query time of one peer strategy for one batch on a saved timing pool.

The classifier is the service's logistic regression (``C=10``), fitted on the labeled
rows before the clock starts, as ours receives the model's probabilities; committees fit
their members inside the timed call, as ours do. :func:`peak_bytes` is the memory a
peer's query needs at least, so the benchmark can skip one that would not fit rather
than run the machine out of memory (several build an n x n distance matrix).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.bench_common import best_time

COMMITTEE = 5
#: Peers timed on the large pools: the curve peers plus two that are n x n by design.
TIMED_PEERS = ("modal_margin", "modal_entropy", "modal_qbc", "modal_ranked_batch",
               "modal_density", "skal_margin", "skal_entropy", "skal_qbc", "skal_coreset",
               "skal_badge", "skal_clue", "skal_probcover")
#: Peers that compute all pairwise distances of the pool.
N_BY_N = {"modal_density": "information_density", "skal_probcover": "ProbCover"}


def peak_bytes(name: str, n: int, d: int, n_classes: int, itemsize: int = 4) -> int:
    """A lower bound of what the query allocates at once."""
    if name in N_BY_N:
        return 2 * n * n * itemsize  # the distance matrix and one transform of it
    if name == "skal_badge":
        return 2 * n * n_classes * d * 8  # gradient embeddings, and the product building them
    return 4 * n * d * 8


def _lr() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=10.0, max_iter=1000)


def _skal_query(name: str, x: Any, y: Any, clf: Any, k: int) -> Callable[[], Any]:
    from skactiveml import pool as skp
    from skactiveml.classifier import SklearnClassifier
    from sklearn.ensemble import BaggingClassifier

    if name in ("skal_margin", "skal_entropy"):
        method = "margin_sampling" if name == "skal_margin" else "entropy"
        qs = skp.UncertaintySampling(method=method, random_state=0)
        return lambda: qs.query(x, y, clf=clf, fit_clf=False, batch_size=k)
    if name == "skal_qbc":
        bag = SklearnClassifier(BaggingClassifier(_lr(), n_estimators=COMMITTEE, random_state=0),
                                classes=clf.classes, random_state=0)
        qbc = skp.QueryByCommittee(random_state=0)
        return lambda: qbc.query(x, y, ensemble=bag, batch_size=k)
    if name == "skal_coreset":
        return lambda: skp.CoreSet(random_state=0).query(x, y, batch_size=k)
    if name == "skal_badge":
        return lambda: skp.Badge(random_state=0).query(x, y, clf=clf, fit_clf=False, batch_size=k)
    if name == "skal_clue":
        clue = skp.Clue(cluster_algo_dict={"random_state": 0}, random_state=0)
        return lambda: clue.query(x, y, estimator=clf, fit_estimator=False, batch_size=k)
    if name == "skal_probcover":
        return lambda: skp.ProbCover(random_state=0).query(x, y, batch_size=k)
    raise KeyError(name)


def _modal_query(name: str, pool: dict[str, Any], k: int) -> Callable[[], Any]:
    from modAL.batch import uncertainty_batch_sampling
    from modAL.density import information_density
    from modAL.disagreement import vote_entropy_sampling
    from modAL.models import ActiveLearner, Committee
    from modAL.uncertainty import entropy_sampling, margin_sampling

    xl, yl, xp = pool["x_labeled"], pool["y_labeled"], pool["x_pool"]
    if name == "modal_density":
        return lambda: np.argsort(-information_density(xp))[:k]
    if name == "modal_qbc":
        rng = np.random.default_rng(0)

        def committee_query() -> Any:
            boots = [rng.choice(len(yl), len(yl)) for _ in range(COMMITTEE)]
            members = [ActiveLearner(_lr(), X_training=xl[b], y_training=yl[b]) for b in boots]
            return vote_entropy_sampling(Committee(members), xp, n_instances=k)

        return committee_query
    learner = ActiveLearner(_lr(), X_training=xl, y_training=yl)
    if name == "modal_ranked_batch":
        return lambda: uncertainty_batch_sampling(learner, xp, n_instances=k)
    sample = {"modal_margin": margin_sampling, "modal_entropy": entropy_sampling}[name]
    return lambda: sample(learner.estimator, xp, n_instances=k)


def time_peer(name: str, pool: dict[str, Any], batch_size: int) -> float:
    """Seconds for one query of ``batch_size`` (best of up to three when fast)."""
    if name.startswith("modal_"):
        return best_time(_modal_query(name, pool, batch_size))
    from skactiveml.classifier import SklearnClassifier

    x = np.vstack([pool["x_labeled"], pool["x_pool"]])
    y = np.concatenate([pool["y_labeled"].astype(float), np.full(len(pool["x_pool"]), np.nan)])
    classes = np.unique(pool["y_labeled"])
    clf = SklearnClassifier(_lr(), classes=classes, random_state=0).fit(x, y)
    return best_time(_skal_query(name, x, y, clf, batch_size))
