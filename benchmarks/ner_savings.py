"""Named entities: labels to 95% of full-pool entity F1 on btc.conll, in sentences and tokens.

The service's own CRF and strategies run in the simulation engine (labels as oracle,
batch 10, retrained every batch, entity micro-F1 on held-out sentences of each seed's
split). Two phases keep the choice honest:

    python -m benchmarks.ner_savings choose --sentences 2000 --budget 400   # seeds 100, 101
    python -m benchmarks.ner_savings confirm --sentences 1500 --budget 500  # seeds 0-4

(the runs in BENCHMARKS.md). ``choose`` runs the candidate defaults, ``confirm`` the
default against plain least-confident sequence and random. A fixed random sample of the
corpus (``--sentences``) keeps a phase within half an hour on a busy two-core machine;
every strategy and seed sees the same sample, and each seed holds out 20% of it for
testing. ``--only`` runs some of a phase's strategies (in parallel processes, say); the
table is printed once random has run. Results go to ``benchmarks/out/ner_<phase>.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict

import numpy as np

from backend.simulate.engine import run_all
from backend.simulate.results import Curve, build_results
from backend.tasks.ner.conll import entity_labels, read_conll
from backend.tasks.ner.simulation import SpanData
from benchmarks.bench_common import DATASETS_DIR, OUT
from strategies.sequence import DEFAULT_SEQUENCE_STRATEGY

CANDIDATES = ("entropy_sum", "entropy_mean", "least_confident_per_token", "diverse_entropy_sum", "random")
PHASES = {"choose": (CANDIDATES, [100, 101]),
          "confirm": ((DEFAULT_SEQUENCE_STRATEGY, "least_confident", "random"), [0, 1, 2, 3, 4])}


def sample(n: int) -> SpanData:
    sentences = read_conll(DATASETS_DIR / "btc.conll")
    rows = np.sort(np.random.default_rng(12345).permutation(len(sentences))[:n])
    chosen = tuple(sentences[i] for i in rows)
    return SpanData(chosen, entity_labels(list(sentences)), "btc")


def table(results: dict) -> str:
    rows = results["strategies"]
    base = rows["random"]
    lines = ["| strategy | sentences to 95% | tokens to 95% | x fewer sentences | x fewer tokens | AULC |",
             "|---|---|---|---|---|---|"]
    for name, s in rows.items():
        n, t = s["labels_to_95"], s.get("cost_to_95")
        ratio_n = f"x{base['labels_to_95'] / n:.2f}" if n and base["labels_to_95"] else "–"
        ratio_t = f"x{base['cost_to_95'] / t:.2f}" if t and base.get("cost_to_95") else "–"
        lines.append(f"| {name} | {n or '> budget'} | {int(t) if t else '> budget'} | {ratio_n} | {ratio_t} "
                     f"| {s['aulc']:.3f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("phase", choices=sorted(PHASES))
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--budget", type=int, default=700)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", help="comma list: run these of the phase's strategies now, the rest later "
                                       "(curves are kept per strategy and merged)")
    args = parser.parse_args()
    names, seeds = PHASES[args.phase]
    todo = [n for n in names if not args.only or n in args.only.split(",")]
    data = sample(args.sentences)
    start = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    stored: dict = {"curves": {}, "full": None}
    for path in sorted(OUT.glob(f"ner_{args.phase}_runs*.json")):  # parts run earlier, by other processes
        part = json.loads(path.read_text())
        stored["curves"].update(part["curves"])
        stored["full"] = part["full"]
    if todo:
        curves, full = run_all(data, todo, seeds, 10, args.budget, args.jobs)
        part = {"curves": {n: [asdict(c) for c in cs] for n, cs in curves.items()}, "full": full}
        (OUT / f"ner_{args.phase}_runs_{'-'.join(todo)}.json").write_text(json.dumps(part) + "\n")
        stored["curves"].update(part["curves"])
        stored["full"] = full
    ready = {n: [Curve(**c) for c in stored["curves"][n]] for n in names if n in stored["curves"]}
    if "random" not in ready:
        print(f"ran {todo}; random is still to run")
        return 0
    full = stored["full"]
    results = build_results(ready, full, {"sentences": args.sentences, "seeds": seeds, "batch_size": 10,
                                          "budget": args.budget, "seconds": round(time.perf_counter() - start)})
    (OUT / f"ner_{args.phase}.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"btc sample of {args.sentences} sentences, seeds {seeds}, batch 10, budget {args.budget}: "
          f"full-pool entity micro-F1 {results['full_pool_accuracy']:.3f} (per seed "
          f"{', '.join(f'{x:.3f}' for x in full)}); {results['settings']['seconds']} s")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
