"""``ls-active simulate``: compare query strategies offline on a labeled file.

The labels in the file play the annotator. For each strategy (and ``random``, always, as
the baseline) and each seed, the pool starts unlabeled; every round the strategy picks a
batch, the batch's labels are revealed, and the service's own featurizer and model are
retrained and measured on the test rows. The output folder gets ``results.json`` and
``learning_curves.png``; the terminal gets a table of labels saved against random.

    ls-active simulate --data trec6.csv --strategies default,entropy --seeds 3
    ls-active simulate --data btc.conll --strategies default,least_confident --seeds 3

For a CoNLL file (named entities) the figures are entity F1 (micro, and macro over types)
and the cost is counted in tokens as well as in sentences.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from backend import defaults
from backend.errors import LsActiveError, SimulationError
from backend.simulate.engine import pool_size, run_all
from backend.simulate.results import build_results, plot_curves, savings_table, write_results
from backend.tasks import KINDS, TaskKind, kind_for_file
from strategies import UnknownStrategyError

__all__ = ["add_parser", "resolve_strategies", "run"]


def resolve_strategies(spec: str, kind: TaskKind | None = None) -> list[str]:
    """Names of ``kind``'s registry for a comma list; ``default`` is its default, ``all`` every one.

    ``random`` is always added last: savings are measured against it.
    """
    kind = kind or next(iter(KINDS.values()))
    names: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        found = kind.strategy_names() if part.lower() == "all" else [kind.strategy(part).name]
        names.extend(n for n in found if n not in names)
    if not names:
        raise SimulationError(f"--strategies names none; e.g. --strategies {kind.default_strategy},random")
    return [n for n in names if n != "random"] + ["random"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``simulate`` subcommand; its handler is ``args.func(args) -> exit code``."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "simulate", help="compare query strategies offline on a labeled CSV, JSON or CoNLL file",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", required=True, type=Path,
                   help="labeled CSV (header row) or JSON list; or a CoNLL file of tagged tokens (.conll)")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--text-column", help="column holding the text (default: text)")
    kind.add_argument("--feature-columns",
                      help="numeric feature columns a,b,c, or 'all' (every column but label/split)")
    p.add_argument("--label-column", default="label", help="column holding the class (default: label)")
    p.add_argument("--split-column",
                   help="column whose 'test' rows are the test set (default: 'split' if present; "
                        "otherwise a stratified 20%% is held out per seed)")
    p.add_argument("--strategies", default="default",
                   help="comma list of registry names, 'default' or 'all'; random is always added")
    p.add_argument("--seeds", type=int, default=3, help="number of seeds (0..N-1; default 3)")
    p.add_argument("--batch-size", type=int, default=10, help="labels revealed per round (default 10)")
    p.add_argument("--budget", type=int, default=500, help="labels per run (default 500)")
    p.add_argument("--audit-share", type=float, default=defaults.AUDIT_SHARE,
                   help="share of each batch drawn at random as the audit sample, as the service does "
                        f"(default {defaults.AUDIT_SHARE}; 0 = none); random runs have none")
    p.add_argument("--audit-every", type=int, default=1,
                   help="rounds between audit estimates in results.json (default 1: every round)")
    p.add_argument("--output", type=Path, default=Path("simulation"), help="folder for the results")
    p.add_argument("--jobs", type=int, default=1, help="runs in parallel processes (default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=run)
    return p


def _check_numbers(args: argparse.Namespace) -> None:
    for option, value in (("--seeds", args.seeds), ("--batch-size", args.batch_size),
                          ("--budget", args.budget), ("--jobs", args.jobs)):
        if value < 1:
            raise SimulationError(f"{option} must be at least 1; got {value}")
    if not 0.0 <= args.audit_share <= 0.5:
        raise SimulationError(f"--audit-share must be between 0 and 0.5; got {args.audit_share}")
    if args.audit_every < 1:
        raise SimulationError(f"--audit-every must be at least 1; got {args.audit_every}")
    if args.budget < args.batch_size:
        raise SimulationError(f"--budget ({args.budget}) must be at least --batch-size ({args.batch_size})")


def run(args: argparse.Namespace) -> int:
    """Run the simulation described by ``args``; 0 on success, 2 on a problem the user can fix."""
    try:
        _check_numbers(args)
        kind = kind_for_file(args.data)
        names = resolve_strategies(args.strategies, kind)
        data = kind.load_labeled(args.data, {"label_column": args.label_column, "text_column": args.text_column,
                                             "feature_columns": args.feature_columns,
                                             "split_column": args.split_column})
    except (LsActiveError, UnknownStrategyError) as exc:
        print(f"ls-active simulate: {exc}", file=sys.stderr)
        return 2
    seeds = list(range(args.seeds))
    n_pool = pool_size(data, seeds[0])
    budget = min(args.budget, n_pool)
    start = time.perf_counter()
    audit = {n: (args.audit_share, args.audit_every) for n in names if n != "random"}
    curves, full = run_all(data, names, seeds, args.batch_size, budget, args.jobs,
                           show_progress=not args.no_progress, audit=audit)
    settings = {
        "data": str(args.data), "kind": data.kind, "n_pool": n_pool,
        "n_test": data.n_rows - n_pool, "classes": list(data.labels), "seeds": seeds,
        "batch_size": args.batch_size, "budget": budget, "audit_share": args.audit_share,
        "audit_every": args.audit_every, "default_strategy": kind.default_strategy,
        "seconds": round(time.perf_counter() - start, 1),
    }
    results = build_results(curves, full, settings)
    write_results(results, args.output)
    plot_curves(results, args.output / "learning_curves.png", f"{data.name}: learning curves")
    print(f"{data.name}: {n_pool} pool rows, {settings['n_test']} test rows, "
          f"full-pool accuracy {results['full_pool_accuracy']:.3f}, {len(seeds)} seeds, "
          f"batch {args.batch_size}, budget {budget}")
    print(savings_table(results, budget))
    print(f"wrote {args.output / 'results.json'} and {args.output / 'learning_curves.png'}")
    return 0
