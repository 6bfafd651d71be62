"""The pool-based active-learning loop, with the labels as oracle, run for many seeds.

Each round the strategy ranks the unlabeled pool, the ``batch_size`` lowest scores are
revealed (ties broken at random), the model is retrained and measured on the test rows.
Runs start from zero labels: the cold start is the strategy's job, as in the service.
Runs are independent, so they go to a process pool; each process keeps numerical
libraries to one thread, because on a busy machine a multi-threaded BLAS inside the
optimizer of a small logistic regression is ten times slower than a single thread.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Protocol, cast

import numpy as np
from threadpoolctl import threadpool_limits

from backend.simulate.audit_run import AuditTracker
from backend.simulate.results import Curve
from strategies import IntArray, get_strategy


class Learner(Protocol):
    """One seed's pool and test rows, with the kind's own model retrained each round."""

    @property
    def n_pool(self) -> int: ...

    def fit(self, labeled: IntArray) -> None: ...

    def pool(self, remaining: IntArray, labeled: IntArray) -> Any:
        """What a strategy of the kind sees of the ``remaining`` rows."""
        ...

    def scores(self) -> tuple[float, float]:
        """The last model's headline figures on the test rows (accuracy and macro-F1, say)."""
        ...


class LabeledData(Protocol):
    """A kind's labeled file, as the simulation needs it."""

    name: str

    def split_rows(self, seed: int) -> tuple[IntArray, IntArray]: ...

    def prepare(self) -> Any:
        """Work every seed shares (featurizing), done once."""
        ...

    def learner(self, pool_rows: IntArray, test_rows: IntArray, prepared: Any = None) -> Learner: ...

    def strategy(self, name: str) -> Any: ...

#: (learner, unlabeled pool rows, labeled pool rows, batch size, rng) to the pool rows to reveal.
Chooser = Callable[[Learner, IntArray, IntArray, int, np.random.Generator], IntArray]
#: A strategy name to its chooser; a module-level function so that it pickles to workers.
ChooserFactory = Callable[[str], Chooser]
#: Called once per finished round with the number of rounds done.
Progress = Callable[[int], None]
#: Called with (strategy name, seed, curve) as each run finishes, e.g. to save it.
OnCurve = Callable[[str, int, Curve], None]

_LIMITS: Any = None


def lowest(scores: Any, k: int, rng: np.random.Generator) -> IntArray:
    """Positions of the ``k`` lowest scores; equal scores in random order."""
    scores = np.asarray(scores, dtype=np.float64)
    return np.lexsort((rng.random(len(scores)), scores))[:k].astype(np.intp)


def strategy_chooser(name: str, data: LabeledData | None = None) -> Chooser:
    """The strategy ``name`` of ``data``'s kind (the default registry without data), ranking
    what the service would hand it."""
    strategy = data.strategy(name) if data is not None else get_strategy(name)

    def choose(learner: Learner, remaining: IntArray, labeled: IntArray, k: int,
               rng: np.random.Generator) -> IntArray:
        pool_for = getattr(learner, "pool_for", None)  # a kind whose pool depends on the strategy
        pool = pool_for(strategy, remaining, labeled) if pool_for else learner.pool(remaining, labeled)
        scores = strategy.rank(pool, k, rng)
        return remaining[lowest(scores, k, rng)]

    return choose


def run_curve(learner: Learner, choose: Chooser, batch_size: int, budget: int, seed: int,
              progress: Progress | None = None, audit_share: float = 0.0, audit_every: int = 1,
              blind_selection: bool = True) -> Curve:
    """One learning curve: label ``batch_size`` more rows per round until ``budget``.

    With ``audit_share`` a share of each batch is the audit sample, and every
    ``audit_every`` rounds the curve records the audit estimate beside the true accuracy.
    With ``blind_selection`` (the default, as the service does it:
    :func:`backend.loop.training.selection_model`) the strategy chooses from a model trained
    without the labeled audit rows while the measured model trains on every label. A strategy
    that sees them steers around them and leaves the audit estimate low
    (``benchmarks/audit_selection.py``, BENCHMARKS.md). That model's probabilities of the
    labeled audit rows are held out, so a learner with ``calibrate_on`` fits its temperature
    on them there, as the service's retrain does.
    """
    if not all(hasattr(learner, name) for name in ("proba", "fit_rows", "y_pool")):
        audit_share = 0.0  # named entities: no audit draws (their estimate costs 5 CRF fits a round)
    rng = np.random.default_rng(seed)
    audit_rng = np.random.default_rng([seed, 2])
    tracker = AuditTracker(audit_share, audit_every, seed)
    unlabeled = np.ones(learner.n_pool, dtype=bool)
    labeled: IntArray = np.zeros(0, dtype=np.intp)
    budget = min(budget, learner.n_pool)
    curve = Curve()
    while len(labeled) < budget:
        remaining = np.flatnonzero(unlabeled).astype(np.intp)
        k = min(batch_size, budget - len(labeled))
        if blind_selection and tracker.audit and len(labeled):
            steering = labeled[~np.isin(labeled, tracker.audit)]
            if len(steering):
                learner.fit(steering)
                calibrate_on = getattr(learner, "calibrate_on", None)  # a kind with class probabilities
                if calibrate_on is not None:
                    calibrate_on(np.asarray(tracker.audit, dtype=np.intp))
        start = time.perf_counter()
        picks = np.asarray(choose(learner, remaining, labeled, k, rng), dtype=np.intp)
        picks = tracker.batch(picks, remaining, audit_rng)
        curve.query_seconds += time.perf_counter() - start
        if len(picks) != k or len(np.unique(picks)) != k or not unlabeled[picks].all():
            raise RuntimeError(f"a strategy returned {len(picks)} picks, not {k} distinct new rows")
        unlabeled[picks] = False
        labeled = np.concatenate([labeled, picks]).astype(np.intp)
        learner.fit(labeled)
        accuracy, f1 = learner.scores()
        cost = getattr(learner, "cost", None)  # what the labels cost besides their count (tokens)
        if cost is not None:
            curve.cost.append(int(cost(labeled)))
        test_ece = getattr(learner, "test_ece", None)  # a kind with class probabilities
        if test_ece is not None:
            curve.ece.append(round(float(test_ece()), 6))
        curve.labels.append(len(labeled))
        curve.accuracy.append(accuracy)
        curve.f1_macro.append(f1)
        if audit_share > 0:
            curve.rounds.append(tracker.measure(cast(Any, learner), labeled, len(curve.labels) - 1, accuracy))
        if progress:
            progress(1)
    return curve


@dataclass(frozen=True)
class Task:
    """One unit of work: a strategy's curve under a seed, or (``name=None``) the full pool."""

    data: LabeledData
    prepared: Any
    seed: int
    name: str | None
    batch_size: int
    budget: int
    factory: ChooserFactory | None = None
    audit_share: float = 0.0
    audit_every: int = 1


def _learner(task: Task) -> Learner:
    pool_rows, test_rows = task.data.split_rows(task.seed)
    return task.data.learner(pool_rows, test_rows, task.prepared)


def run_task(task: Task, progress: Progress | None = None) -> tuple[Task, Curve | float]:
    """A curve, or the accuracy of a model trained on the whole pool."""
    learner = _learner(task)
    if task.name is None:
        learner.fit(np.arange(learner.n_pool, dtype=np.intp))
        return task, learner.scores()[0]
    choose = task.factory(task.name) if task.factory else strategy_chooser(task.name, task.data)
    curve = run_curve(learner, choose, task.batch_size, task.budget, task.seed, progress, task.audit_share,
                      task.audit_every)
    return task, curve


def _limit_threads() -> None:
    global _LIMITS
    _LIMITS = threadpool_limits(limits=1)


def pool_size(data: LabeledData, seed: int = 0) -> int:
    return len(data.split_rows(seed)[0])


def _tasks(data: LabeledData, runs: Sequence[tuple[str, int]], seeds: Sequence[int],
           batch_size: int, budget: int, factory: ChooserFactory | None,
           audit: Mapping[str, tuple[float, int]]) -> list[Task]:
    prepared = data.prepare()
    full = [Task(data, prepared, s, None, batch_size, budget, factory) for s in seeds]
    return full + [Task(data, prepared, s, n, batch_size, budget, factory, *audit.get(n, (0.0, 1)))
                   for n, s in runs]


def _results(tasks: Sequence[Task], jobs: int, progress: Progress) -> Iterator[tuple[Task, Any]]:
    if jobs <= 1:
        with threadpool_limits(limits=1):
            for task in tasks:
                yield run_task(task, progress)
        return
    with ProcessPoolExecutor(max_workers=jobs, initializer=_limit_threads) as executor:
        futures = [executor.submit(run_task, task) for task in tasks]
        for future in as_completed(futures):
            task, result = future.result()
            if isinstance(result, Curve):
                progress(len(result.labels))
            yield task, result


def run_all(data: LabeledData, names: Sequence[str], seeds: Sequence[int], batch_size: int,
            budget: int, jobs: int = 1, factory: ChooserFactory | None = None,
            show_progress: bool = True, done: Mapping[tuple[str, int], Curve] | None = None,
            on_curve: OnCurve | None = None, audit: Mapping[str, tuple[float, int]] | None = None,
            ) -> tuple[dict[str, list[Curve]], list[float]]:
    """Every strategy's curves (in seed order) and the full-pool accuracy of every seed.

    ``audit`` maps a run name to its (audit share, rounds between audit estimates); runs
    not named there have no audit sample.

    Runs already in ``done`` (keyed by name and seed) are not run again, so a long
    benchmark that saves each curve through ``on_curve`` can resume where it stopped.
    """
    from tqdm import tqdm

    done = done or {}
    rounds = -(-min(budget, pool_size(data, seeds[0])) // batch_size)
    todo = [(n, s) for n in names for s in seeds if (n, s) not in done]
    tasks = _tasks(data, todo, seeds, batch_size, budget, factory, audit or {})
    curves: dict[str, dict[int, Curve]] = {n: {s: done[n, s] for s in seeds if (n, s) in done}
                                           for n in names}
    full: dict[int, float] = {}
    with tqdm(total=rounds * len(todo), file=sys.stderr, unit="round",
              disable=not show_progress, desc=data.name) as bar:
        for task, result in _results(tasks, jobs, bar.update):
            if isinstance(result, Curve) and task.name is not None:
                curves[task.name][task.seed] = result
                if on_curve:
                    on_curve(task.name, task.seed, result)
            else:
                full[task.seed] = float(result)
    ordered = {name: [runs[s] for s in seeds] for name, runs in curves.items()}
    return ordered, [full[s] for s in seeds]
