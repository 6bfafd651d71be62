"""Runs of the audit benchmark: the default strategy with and without the audit sample, and random.

Per data set and seed: ``default+audit`` (the service's share, estimates every
``AUDIT_EVERY`` rounds), ``default`` (no audit: the price of the audit is the difference)
and ``random`` (batch 50, to a larger budget, so that the true saving of each version can
be read off the random curve). Each finished run is appended to a JSON-lines file, so an
interrupted benchmark resumes where it stopped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from backend import defaults
from backend.simulate.engine import Chooser, pool_size, run_all, strategy_chooser
from backend.simulate.results import Curve
from benchmarks.bench_common import OUT, append_run, load_runs
from benchmarks.bench_data import DATASETS

AUDIT = "default+audit"
#: Rounds of 10 labels between audit estimates: a version every 50 labels is measured.
AUDIT_EVERY = 5
BATCH = 10
RANDOM_BATCH = 50
SEEDS = 5


@dataclass(frozen=True)
class Plan:
    """Budget of the active runs and of the random baseline on one data set."""

    budget: int
    random_budget: int


#: Budgets: the active runs reach (or nearly) 95% of full-pool accuracy; random goes further.
PLANS = {"trec6": Plan(1000, 2500), "trec6_pool": Plan(1000, 2500), "subj": Plan(800, 2000),
         "digits": Plan(500, 1000), "synthetic": Plan(800, 2500)}


def chooser(name: str) -> Chooser:
    """``default+audit`` ranks with the default strategy (the audit is added by the engine)."""
    return strategy_chooser(name.split("+")[0])


def runs_dir(share: float = defaults.AUDIT_SHARE) -> Path:
    """Where the runs of one audit share are kept (the service's own share: ``out/audit``)."""
    return OUT / ("audit" if share == defaults.AUDIT_SHARE else f"audit-share-{share:g}")


def runs_file(name: str, share: float = defaults.AUDIT_SHARE) -> Path:
    return runs_dir(share) / f"{name}.jsonl"


def run_set(name: str, jobs: int, seeds: int = SEEDS, share: float = defaults.AUDIT_SHARE,
            ) -> tuple[dict[str, list[Curve]], list[float]]:
    """Every run of one data set (resuming from its file); curves by run name, full-pool accuracies."""
    data = DATASETS[name]()
    plan = PLANS[name]
    seed_list = list(range(seeds))
    path = runs_file(name, share)
    done = {k: Curve(**v) for k, v in load_runs(path).items()}

    def save(run: str, seed: int, curve: Curve) -> None:
        append_run(path, run, seed, asdict(curve))

    budget = min(plan.budget, pool_size(data))
    active, full = run_all(data, [AUDIT, "default"], seed_list, BATCH, budget, jobs, factory=chooser,
                           done=done, on_curve=save, audit={AUDIT: (share, AUDIT_EVERY)})
    random_budget = min(plan.random_budget, pool_size(data))
    baseline, _ = run_all(data, ["random"], seed_list, RANDOM_BATCH, random_budget, jobs, done=done,
                          on_curve=save)
    return {**active, **baseline}, full
