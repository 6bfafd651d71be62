"""The benchmark's section of BENCHMARKS.md, rendered from the saved results.

Only this section is rewritten: the text from its heading to the next ``## `` heading
(other sections belong to other benchmarks).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from benchmarks import bench_docs

SECTION = "## Query strategies (issue: strategies)"
#: Ours whose selector weighs distances between tasks: the core-set and hybrid selection
#: that the speed target compares with the peers' core-set.
SELECTION = ("coreset", "ranked_batch", "badge", "cluster_margin", "cluster_margin_explore",
             "density_cluster_margin", "density_cluster_margin_explore", "clue", "focused_clue",
             "clue_cluster_margin")


def library(name: str) -> str:
    if name.startswith("modal_"):
        return "modAL"
    if name.startswith("skal_"):
        return "scikit-activeml"
    return "ls-active"


def _num(value: int | None) -> float:
    return math.inf if value is None else float(value)


def _labels(value: int | None, budget: int) -> str:
    return f"> {budget:,}" if value is None else f"{value:,}"


def _saving(value: int | None, random: int | None, budget: int) -> str:
    if value is None:
        return "not reached"
    if random is None:
        return f"≥ x{budget / value:.1f}"
    return f"x{random / value:.2f}"


def best(results: dict[str, Any], names: Iterable[str], key: str = "labels_to_95") -> str:
    """Fewest labels to the target; ties go to the larger AULC."""
    s = results["strategies"]
    return min(names, key=lambda n: (_num(s[n][key]), -s[n]["aulc"]))


def dataset_table(name: str, results: dict[str, Any]) -> list[str]:
    s, st = results["strategies"], results["settings"]
    budget, rnd = st["budget"], s["random"]
    order = sorted(s, key=lambda n: (_num(s[n]["labels_to_95"]), _num(s[n]["labels_to_99"]),
                                     -s[n]["aulc"]))
    lines = [
        f"### {name}",
        "",
        f"{st['n_pool']:,} pool rows, {st['n_test']:,} test rows ({st['kind']}); full-pool "
        f"accuracy {results['full_pool_accuracy']:.3f}; batch {st['batch_size']}, budget "
        f"{budget:,}, {len(st['seeds'])} seeds; {st['seconds'] / 60:.0f} min."
        + (f" Left out of the curves: {', '.join(st['peers_left_out'])} (hours per run on this "
           "pool; its query time is in the timing table)." if st.get("peers_left_out") else ""),
        "",
        "| strategy | library | labels to 95% | fewer than random | labels to 99% "
        "| fewer than random | AULC |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    default = st["default_strategy"]
    for n in order:
        r = s[n]
        shown = f"**{n}** (default)" if n == default else n
        lines.append(
            f"| {shown} | {library(n)} | {_labels(r['labels_to_95'], budget)} | "
            f"{_saving(r['labels_to_95'], rnd['labels_to_95'], budget)} | "
            f"{_labels(r['labels_to_99'], budget)} | "
            f"{_saving(r['labels_to_99'], rnd['labels_to_99'], budget)} | {r['aulc']:.3f} |"
        )
    return [*lines, ""]


def _split(res: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Our strategies (without the random baseline) and the peers'."""
    s = res["strategies"]
    ours = [n for n in s if library(n) == "ls-active" and n != "random"]
    return ours, [n for n in s if library(n) != "ls-active"]


def summary_table(all_results: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| data set | default | random | best peer | default vs best peer | default vs random "
        "| best of ours (labels) | best of ours (AULC) | 1st batch accuracy: default / random |",
        "|---|---:|---:|---|---|---|---|---|---|",
    ]
    for name, res in all_results.items():
        s, st = res["strategies"], res["settings"]
        budget, default = st["budget"], st["default_strategy"]
        ours, peers = _split(res)
        top, peer = best(res, ours), best(res, peers) if peers else None
        by_aulc = max(ours, key=lambda n: s[n]["aulc"])
        d95, r95 = s[default]["labels_to_95"], s["random"]["labels_to_95"]
        p95 = s[peer]["labels_to_95"] if peer else None
        first = f"{s[default]['accuracy_mean'][0]:.2f} / {s['random']['accuracy_mean'][0]:.2f}"
        lines.append(
            f"| {name} | {_labels(d95, budget)} | {_labels(r95, budget)} | "
            f"{peer} ({_labels(p95, budget)}) | {_verdict(d95, p95)} | {_verdict(d95, r95)} | "
            f"{top} ({_labels(s[top]['labels_to_95'], budget)}) | "
            f"{by_aulc} ({s[by_aulc]['aulc']:.3f}) | {first} |"
        )
    return [*lines, ""]


def target_lines(all_results: dict[str, dict[str, Any]],
                 timing: dict[str, dict[str, str]] | None) -> list[str]:
    """The owner's targets, each checked against the figures above."""
    lines = ["### Targets", ""]
    if all_results:
        peer_fail, random_fail = [], []
        for name, res in all_results.items():
            s, default = res["strategies"], res["settings"]["default_strategy"]
            _, peers = _split(res)
            d95 = _num(s[default]["labels_to_95"])
            if peers and d95 > _num(s[best(res, peers)]["labels_to_95"]):
                peer_fail.append(name)
            if d95 > _num(s["random"]["labels_to_95"]):
                random_fail.append(name)
        lines.append("- default needs no more labels to 95% than the best peer on every data set: "
                     + (f"**not met** ({', '.join(peer_fail)})" if peer_fail else "met"))
        lines.append("- default never needs more than random: "
                     + (f"**not met** ({', '.join(random_fail)})" if random_fail else "met"))
        if "synthetic" in all_results:
            res = all_results["synthetic"]
            s, default = res["strategies"], res["settings"]["default_strategy"]
            r95, d95 = s["random"]["labels_to_95"], s[default]["labels_to_95"]
            ratio = _num(r95) / _num(d95) if d95 else math.nan
            lines.append(f"- synthetic: default needs ≥ 3.5x fewer labels than random: "
                         f"x{ratio:.2f}, " + ("met" if ratio >= 3.5 else "**not met**"))
    if timing:
        last = timing[list(timing)[-1]]
        ref = _seconds(last.get("skal_coreset", ""))
        ours = {n: _seconds(v) for n, v in last.items() if library(n) == "ls-active"}
        slow = [n for n, t in ours.items() if t is None or t >= 2.0]
        below = [n for n, t in ours.items() if ref and (t is None or ref / t < 10)]
        lines.append(f"- batch of 100 from {list(timing)[-1]} under 2 s: "
                     + (f"all of ours but {', '.join(slow)}" if slow else "every one of ours"))
        timed = [n for n in SELECTION if n in ours]
        missed = [n for n in timed if n in below]
        slowest = max(timed, key=lambda n: ours[n] or math.inf, default=None)
        verdict = (f"**not met** ({', '.join(missed)})" if missed or not ref or not slowest
                   else f"met (slowest: {slowest}, x{ref / (ours[slowest] or math.inf):.1f})")
        lines.append(f"- core-set and hybrid selection ({', '.join(timed)}) ≥ 10x faster than "
                     f"scikit-activeml's core-set ({ref} s): {verdict}")
        others = [n for n in below if n not in SELECTION]
        if others:
            lines.append(f"- under 10x, outside that target: {', '.join(others)}")
    return [*lines, ""]


def _verdict(ours: int | None, other: int | None) -> str:
    if ours is None and other is None:
        return "neither reached"
    return "no more ✓" if _num(ours) <= _num(other) else "more ✗"


def _seconds(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def timing_table(timing: dict[str, dict[str, str]], reference: str = "skal_coreset") -> list[str]:
    """Seconds per pool shape; ours also as a speed-up over the peers' core-set on the largest."""
    pools = list(timing)
    last = timing[pools[-1]]
    ref = _seconds(last.get(reference, ""))
    names = list(dict.fromkeys(n for row in timing.values() for n in row))
    head = "| strategy | library | " + " | ".join(f"{p} (s)" for p in pools)
    lines = [head + f" | {reference} / this, {pools[-1]} |", "|---|---|" + "---:|" * (len(pools) + 1)]
    for n in names:
        cells = " | ".join(timing[p].get(n, "") for p in pools)
        mine = _seconds(last.get(n, ""))
        ratio = f"x{ref / mine:.1f}" if ref and mine and library(n) == "ls-active" else ""
        lines.append(f"| {n} | {library(n)} | {cells} | {ratio} |")
    return [*lines, ""]


def render(all_results: dict[str, dict[str, Any]], timing: dict[str, dict[str, str]] | None,
           command: str, wall: str, notes: list[str]) -> str:
    lines = [SECTION, "", "Produced by:", "", "```", command, "```", "", wall, "", *notes, ""]
    if all_results or timing:
        lines += target_lines(all_results, timing)
    if all_results:
        lines += ["### Summary: labels to 95% of full-pool accuracy", ""]
        lines += summary_table(all_results)
        for name, res in all_results.items():
            lines += dataset_table(name, res)
    if timing:
        lines += ["### Query time for one batch of 100", "",
                  "float32 pools (make_classification, 10 classes) with 1,000 labeled rows and "
                  "a logistic regression (C=10) fitted on them before the clock starts; "
                  "committees fit inside the clock. Each timing runs in its own process (best "
                  "of up to 3 when fast, 600 s limit); a peer whose known allocation (an n×n "
                  "distance matrix) exceeds half the free memory is skipped.", ""]
        lines += timing_table(timing)
    return "\n".join(lines).rstrip() + "\n"


def write_section(path: Path, section: str) -> None:
    """Replace this benchmark's section of ``path`` (creating the file or section if absent)."""
    bench_docs.write_section(SECTION, section, path)
