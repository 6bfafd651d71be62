"""The peers' side of the benchmark; runs inside ``benchmarks/.peers-venv``.

``curves``: modAL's and scikit-activeml's strategies in the project's own simulation loop
(same splits, seeds, featurizer and model: :mod:`backend.simulate.engine` imported from
this work tree). ``time``: one peer query of a batch on a saved timing pool.

The peers' code wants dense rows. For text they get a 256-component SVD of the pool's
TF-IDF (a dense 2^18-wide matrix would not fit in memory); whatever rows they hand to a
classifier are mapped back to pool rows, so the classifier they query is the service's
own model on the full TF-IDF. For numeric data they get the standardized columns ours get.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import warnings
import weakref
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_common import (
    append_run,
    load_arrays,
    load_runs,
    load_timing_pool,
    print_json,
)
from benchmarks.peers_models import RowModel, RowSpace

#: Committee size for both peers' query by committee.
COMMITTEE = 5
SVD_COMPONENTS = 256
_SPACES: weakref.WeakKeyDictionary[Any, RowSpace] = weakref.WeakKeyDictionary()
_EMBEDDINGS: dict[str, Any] = {}


def _geometry(learner: Any) -> Any:
    """Dense rows the peers see: standardized columns, or an SVD of the cold TF-IDF."""
    import scipy.sparse as sp

    if not sp.issparse(learner.features):
        return learner.features
    key = hashlib.sha1(learner.features.indptr.tobytes() + learner.y_pool.tobytes()).hexdigest()
    if key not in _EMBEDDINGS:
        from sklearn.decomposition import TruncatedSVD

        svd = TruncatedSVD(n_components=SVD_COMPONENTS, random_state=0)
        _EMBEDDINGS[key] = svd.fit_transform(learner.features)
    return _EMBEDDINGS[key]


def _space(learner: Any, labeled: Any) -> RowSpace:
    space = _SPACES.get(learner)
    if space is None:
        space = _SPACES[learner] = RowSpace(learner, _geometry(learner))
    if len(labeled) and learner.predictor is not None:
        space.remember(labeled, learner.y_pool[labeled], learner.predictor)
    return space


def _skal_clf(space: RowSpace, rs: int) -> Any:
    from skactiveml.classifier import SklearnClassifier

    return SklearnClassifier(RowModel(space), classes=np.arange(space.n_classes), random_state=rs)


def _skal(name: str, space: RowSpace, y: Any, k: int, rs: int) -> Any:
    from skactiveml import pool as skp
    from sklearn.ensemble import BaggingClassifier

    x = space.x
    if name in ("skal_margin", "skal_entropy"):
        method = "margin_sampling" if name == "skal_margin" else "entropy"
        qs = skp.UncertaintySampling(method=method, random_state=rs)
        return qs.query(x, y, clf=_skal_clf(space, rs), batch_size=k)
    if name == "skal_qbc":
        from skactiveml.classifier import SklearnClassifier

        bag = BaggingClassifier(RowModel(space), n_estimators=COMMITTEE, random_state=rs)
        ensemble = SklearnClassifier(bag, classes=np.arange(space.n_classes), random_state=rs)
        return skp.QueryByCommittee(random_state=rs).query(x, y, ensemble=ensemble, batch_size=k)
    if name == "skal_coreset":
        return skp.CoreSet(random_state=rs).query(x, y, batch_size=k)
    if name == "skal_badge":
        return skp.Badge(random_state=rs).query(x, y, clf=_skal_clf(space, rs), batch_size=k)
    if name == "skal_clue":
        qs = skp.Clue(cluster_algo_dict={"random_state": rs}, random_state=rs)
        return qs.query(x, y, estimator=_skal_clf(space, rs), batch_size=k)
    raise KeyError(name)


def _modal(name: str, space: RowSpace, labeled: Any, remaining: Any, k: int, rs: int) -> Any:
    from modAL.batch import uncertainty_batch_sampling
    from modAL.disagreement import vote_entropy_sampling
    from modAL.models import ActiveLearner, Committee
    from modAL.uncertainty import entropy_sampling, margin_sampling

    x, y = space.x, space.learner.y_pool
    np.random.seed(rs)  # modAL breaks ties with the global generator
    if name == "modal_ranked_batch":
        learner = (ActiveLearner(RowModel(space), X_training=x[labeled], y_training=y[labeled])
                   if len(labeled) else ActiveLearner(RowModel(space)))
        return uncertainty_batch_sampling(learner, x[remaining], n_instances=k)[0]
    if not len(labeled):  # modAL has no cold start: without a model its order is random
        return np.random.permutation(len(remaining))[:k]
    if name == "modal_qbc":
        rng = np.random.default_rng(rs)
        boots = [rng.choice(labeled, len(labeled)) for _ in range(COMMITTEE)]
        committee = Committee([ActiveLearner(RowModel(space), X_training=x[b], y_training=y[b])
                               for b in boots])
        return vote_entropy_sampling(committee, x[remaining], n_instances=k,
                                     random_tie_break=True)[0]
    model = RowModel(space).fit(x[labeled], y[labeled])
    sample = margin_sampling if name == "modal_margin" else entropy_sampling
    return sample(model, x[remaining], n_instances=k, random_tie_break=True)[0]


PEERS = ("modal_margin", "modal_entropy", "modal_qbc", "modal_ranked_batch", "skal_margin",
         "skal_entropy", "skal_qbc", "skal_coreset", "skal_badge", "skal_clue")


def peer_chooser(name: str) -> Any:
    """A chooser for the project's loop (see :data:`backend.simulate.engine.Chooser`)."""
    if name not in PEERS:
        raise KeyError(f"unknown peer strategy {name!r}; known: {', '.join(PEERS)}")

    def choose(learner: Any, remaining: Any, labeled: Any, k: int, rng: Any) -> Any:
        space = _space(learner, labeled)
        rs = int(rng.integers(0, 2**31 - 1))
        if name.startswith("modal_"):
            return remaining[np.asarray(_modal(name, space, labeled, remaining, k, rs), int)]
        y = np.full(learner.n_pool, np.nan)
        y[labeled] = learner.y_pool[labeled]
        return np.asarray(_skal(name, space, y, k, rs), dtype=np.intp)

    return choose


def cmd_curves(args: argparse.Namespace) -> int:
    from backend.simulate.engine import run_all
    from backend.simulate.results import Curve
    from backend.tasks.text_classification.labeled import LabeledData

    a = load_arrays(args.data)
    config = json.loads(Path(args.config).read_text())
    data = LabeledData(
        labels=tuple(str(s) for s in a["labels"]), targets=a["targets"].astype(np.intp),
        texts=tuple(str(s) for s in a["texts"]) if "texts" in a else None,
        matrix=a.get("matrix"), split=tuple(str(s) for s in a["split"]) if "split" in a else None,
        name=config["name"],
    )
    if data.kind == "text":  # embed each seed's pool once, before the clock and the fork
        from backend.tasks.text_classification.labeled import split_rows
        from backend.tasks.text_classification.learners import make_learner, text_counts

        counts = text_counts(data)
        for seed in config["seeds"]:
            _geometry(make_learner(data, *split_rows(data, seed), counts))
    store = Path(config["store"])
    done = {k: Curve(**v) for k, v in load_runs(store).items() if k[0] in config["names"]}
    curves, full = run_all(
        data, config["names"], config["seeds"], config["batch_size"], config["budget"],
        config["jobs"], factory=peer_chooser, done=done,
        on_curve=lambda name, seed, curve: append_run(store, name, seed, vars(curve)),
    )
    out = {"full_pool": full, "curves": {n: [vars(c) for c in runs] for n, runs in curves.items()}}
    Path(args.output).write_text(json.dumps(out))
    return 0


def cmd_time(args: argparse.Namespace) -> int:
    from benchmarks.bench_common import limit_address_space
    from benchmarks.peers_timing import time_peer

    limit_address_space(args.memory_cap)
    pool = load_timing_pool(Path(args.pool))
    print_json({"seconds": time_peer(args.strategy, pool, args.batch_size)})
    return 0


def main() -> int:
    # scikit-activeml warns on every query made before the first label; that is expected.
    warnings.filterwarnings("ignore", category=UserWarning, module="skactiveml")
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("curves")
    c.add_argument("--data", type=Path, required=True)
    c.add_argument("--config", type=Path, required=True)
    c.add_argument("--output", type=Path, required=True)
    t = sub.add_parser("time")
    t.add_argument("--pool", type=Path, required=True)
    t.add_argument("--strategy", required=True)
    t.add_argument("--batch-size", type=int, default=100)
    t.add_argument("--memory-cap", type=int, required=True)
    args = parser.parse_args()
    return cmd_curves(args) if args.command == "curves" else cmd_time(args)


if __name__ == "__main__":
    sys.exit(main())
