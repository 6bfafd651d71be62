"""The benchmark's section of BENCHMARKS.md, rendered from the saved results.

Only this section is rewritten: the text from its heading to the next ``## `` heading
(other sections belong to other benchmarks).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SECTION = "## Query strategies (issue: strategies)"
TITLE = "# Benchmarks"


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


def summary_table(all_results: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| data set | best of ours (labels to 95%) | best peer (labels to 95%) | default "
        "| random | default vs best peer | default vs random |",
        "|---|---|---|---:|---:|---|---|",
    ]
    for name, res in all_results.items():
        s, st = res["strategies"], res["settings"]
        budget, default = st["budget"], st["default_strategy"]
        ours = [n for n in s if library(n) == "ls-active" and n != "random"]
        peers = [n for n in s if library(n) != "ls-active"]
        top, peer = best(res, ours), best(res, peers) if peers else None
        d95, r95 = s[default]["labels_to_95"], s["random"]["labels_to_95"]
        p95 = s[peer]["labels_to_95"] if peer else None
        lines.append(
            f"| {name} | {top} ({_labels(s[top]['labels_to_95'], budget)}) | "
            f"{peer} ({_labels(p95, budget)}) | {_labels(d95, budget)} | {_labels(r95, budget)} | "
            f"{_verdict(d95, p95)} | {_verdict(d95, r95)} |"
        )
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
        ratio = f"x{ref / mine:.0f}" if ref and mine and library(n) == "ls-active" else ""
        lines.append(f"| {n} | {library(n)} | {cells} | {ratio} |")
    return [*lines, ""]


def render(all_results: dict[str, dict[str, Any]], timing: dict[str, dict[str, str]] | None,
           command: str, wall: str, notes: list[str]) -> str:
    lines = [SECTION, "", "Produced by:", "", "```", command, "```", "", wall, "", *notes, ""]
    if all_results:
        lines += ["### Summary: labels to 95% of full-pool accuracy", ""]
        lines += summary_table(all_results)
        for name, res in all_results.items():
            lines += dataset_table(name, res)
    if timing:
        lines += ["### Query time for one batch of 100", ""]
        lines += timing_table(timing)
    return "\n".join(lines).rstrip() + "\n"


def write_section(path: Path, section: str) -> None:
    """Replace this benchmark's section of ``path`` (creating the file or section if absent)."""
    text = path.read_text(encoding="utf-8") if path.exists() else f"{TITLE}\n\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == SECTION), None)
    if start is None:
        path.write_text(text.rstrip("\n") + "\n\n" + section, encoding="utf-8")
        return
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    tail = "".join(lines[end:])
    path.write_text("".join(lines[:start]) + section + ("\n" + tail if tail else ""),
                    encoding="utf-8")
