"""A named-entity version's figures: entity-level precision, recall and F1, cross-validated.

The labels a strategy chose are not a random sample, so these figures are named for what
they are: k-fold cross-validation over the labeled sentences (seqeval, strict IOB2, per
entity type, micro and macro). The learning curve's ``accuracy`` line carries entity
micro-F1 for these projects and its ``macro_f1`` line the macro-F1 over types.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from seqeval.metrics import classification_report
from seqeval.scheme import IOB2

from backend.tasks.base import Figures
from backend.tasks.ner.bio import tags_to_ranges
from backend.tasks.ner.features import token_attributes
from backend.tasks.ner.model import SpanModel, train_model
from backend.tasks.ner.tokens import tokenize

#: Folds of the cross-validation, and the fewest labeled sentences to attempt it.
N_SPLITS, MIN_SENTENCES = 3, 9


def training_file(task_ids: Sequence[int], texts: Sequence[str]) -> bytes:
    """What the report needs of the labels besides the model: which tasks, which texts."""
    return json.dumps({"task_ids": list(task_ids), "texts": [t[:500] for t in texts]}).encode()


def entity_scores(truth: Sequence[Sequence[str]], guess: Sequence[Sequence[str]]) -> dict[str, Any]:
    """Precision, recall, F1 and support per entity type, and their micro and macro averages."""
    report = classification_report([list(t) for t in truth], [list(g) for g in guess], mode="strict",
                                   scheme=IOB2, output_dict=True, zero_division=0)
    per_type = {k: {m: round(float(v[m]), 6) for m in ("precision", "recall", "f1-score", "support")}
                for k, v in report.items() if "avg" not in k}
    average = {k.split()[0]: {m: round(float(v[m]), 6) for m in ("precision", "recall", "f1-score")}
               for k, v in report.items() if k in ("micro avg", "macro avg")}
    return {"per_type": per_type, **average}


def cross_validate(model: SpanModel, seed: int = 0) -> dict[str, Any]:
    """Entity scores of models trained on the other folds, over every labeled sentence."""
    n = len(model.train_words)
    if n < MIN_SENTENCES:
        return {"status": f"too few labels for cross-validation ({n} sentences; {MIN_SENTENCES} needed)",
                "n_labels": n}
    folds = np.random.default_rng(seed).permutation(n) % N_SPLITS
    attrs = [token_attributes(w) for w in model.train_words]
    guess: list[list[str]] = [[] for _ in range(n)]
    for fold in range(N_SPLITS):
        train = np.flatnonzero(folds != fold)
        test = np.flatnonzero(folds == fold)
        sub = train_model([model.train_words[i] for i in train], [model.train_tags[i] for i in train],
                          model.labels, [attrs[i] for i in train])
        decoded = sub.decode_attributes([a for i in test for a in attrs[i]], [len(model.train_words[i]) for i in test])
        start = 0
        for i in test.tolist():
            stop = start + len(model.train_words[i])
            guess[i] = [sub.tags[j] for j in decoded.best_tags[start:stop].tolist()]
            start = stop
    scores = entity_scores(model.train_tags, guess)
    return {"status": "ok", "n_labels": n, "n_splits": N_SPLITS, **scores}


def refit_tags(model: SpanModel, attrs: Sequence[list[list[str]]], train: npt.NDArray[np.intp],
               test: npt.NDArray[np.intp]) -> list[list[str]]:
    """Tags of ``model``'s labeled sentences ``test`` by a CRF trained on its sentences ``train`` only.

    ``attrs`` are the token attributes of every labeled sentence, computed once by the caller
    so that the folds of one audit do not compute them again.
    """
    words, tags = model.train_words, model.train_tags
    sub = train_model([words[i] for i in train.tolist()], [tags[i] for i in train.tolist()], model.labels,
                      [attrs[i] for i in train.tolist()])
    decoded = sub.decode_attributes([a for i in test.tolist() for a in attrs[i]], [len(words[i]) for i in test])
    out, start = [], 0
    for i in test.tolist():
        stop = start + len(words[i])
        out.append([sub.tags[j] for j in decoded.best_tags[start:stop].tolist()])
        start = stop
    return out


def stop_set_entities(model: SpanModel, texts: Sequence[str]) -> list[str]:
    """Each stop-set text's predicted entities as one comparable string (start-end label; ...)."""
    tokens = [tokenize(t) for t in texts]
    decoded = model.decode_words([[t.text for t in s] for s in tokens])
    out, start = [], 0
    for sentence in tokens:
        stop = start + len(sentence)
        tags = [model.tags[j] for j in decoded.best_tags[start:stop].tolist()]
        out.append("; ".join(f"{sentence[a].start}-{sentence[b - 1].end} {label}"
                             for a, b, label in tags_to_ranges(tags)))
        start = stop
    return out


def _table(scores: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(label)}</td><td>{v['precision']:.3f}</td><td>{v['recall']:.3f}</td>"
        f"<td>{v['f1-score']:.3f}</td><td>{int(v['support'])}</td></tr>"
        for label, v in scores.get("per_type", {}).items())
    return ("<table><tr><th>entity type</th><th>precision</th><th>recall</th><th>F1</th><th>entities</th></tr>"
            f"{rows}</table>")


def figures(model: SpanModel, training: Mapping[str, Any] | None, stop_set: Mapping[str, str]) -> Figures:
    evaluation = cross_validate(model)
    ok = evaluation["status"] == "ok"
    micro = evaluation.get("micro", {}).get("f1-score") if ok else None
    macro = evaluation.get("macro", {}).get("f1-score") if ok else None
    summary = (f"<p>Entity F1 (micro) <b>{micro:.3f}</b>, macro over types <b>{macro:.3f}</b>, "
               f"from {evaluation['n_labels']} labeled sentences.</p>" if ok
               else f"<p>{html.escape(str(evaluation['status']))}.</p>")
    stop_values = stop_set_entities(model, list(stop_set.values())) if stop_set else []
    return Figures(
        headline={"accuracy": micro, "macro_f1": macro},
        status=str(evaluation["status"]), ok=ok,
        stop_predictions=dict(zip(stop_set, stop_values, strict=True)),
        sections={"evaluation": evaluation, "training_tasks": len((training or {}).get("task_ids", []))},
        summary_html=summary, details_html=_table(evaluation) if ok else "",
        footer=(f"{N_SPLITS}-fold cross-validation on {evaluation['n_labels']} labeled sentences; entity-level "
                "scores (seqeval, strict IOB2); the curve's accuracy line is entity micro-F1" if ok else ""),
    )
