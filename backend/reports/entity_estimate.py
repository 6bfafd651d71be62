"""The audit estimate for named entities: entity-level micro-F1 on the audit sentences.

A sentence's quality is not right-or-wrong, so the accuracy of :mod:`backend.reports.estimate`
does not apply; what a named-entity project reads is entity F1 (seqeval, strict IOB2, as the
version's cross-validated figures). Each labeled audit sentence is tagged by a CRF trained
on every other label (k-fold over the audit sentences, the strategy's labels always train),
then the strict entity matches are counted per sentence and type.

* Micro-F1 pools the counts: ``2 TP / (true entities + predicted entities)``; macro-F1 is
  the mean over the entity types present in the audit truth.
* The 95% interval is a **percentile bootstrap over sentences**: F1 is a ratio of sums, not
  a mean of per-sentence values, so no closed-form interval fits it; resampling whole
  sentences keeps the entities of one sentence together, as the audit drew them.
* No paired gain and no "labels saved" yet: both are built on per-task hits, which F1 does
  not decompose into, so the stop advice's audit criterion stays "does not hold" for spans.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
from seqeval.scheme import IOB2, Entities

from backend.reports.audit import AuditFigures
from backend.reports.estimate import BOOTSTRAP, MIN_AUDIT, Estimate, fold_ids
from backend.reports.saved import Saving

#: (training rows, rows to tag) to one tag list per tagged row.
FitTags = Callable[[npt.NDArray[np.intp], npt.NDArray[np.intp]], list[list[str]]]
MEASURE = "entity_f1"

Counts = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]


def entity_counts(truth: Sequence[Sequence[str]], guess: Sequence[Sequence[str]],
                  types: Sequence[str]) -> Counts:
    """Strict matches, true and predicted entities, per sentence (rows) and type (columns)."""
    if len(truth) != len(guess):
        raise ValueError(f"{len(truth)} true tag lists but {len(guess)} predicted ones")
    column = {t: j for j, t in enumerate(types)}
    shape = (len(truth), len(types))
    tp, n_true, n_pred = np.zeros(shape, np.int64), np.zeros(shape, np.int64), np.zeros(shape, np.int64)
    true_entities = Entities([list(t) for t in truth], IOB2).entities
    guess_entities = Entities([list(g) for g in guess], IOB2).entities
    for i, (t_ents, g_ents) in enumerate(zip(true_entities, guess_entities, strict=True)):
        t_set = {(e.start, e.end, e.tag) for e in t_ents}
        g_set = {(e.start, e.end, e.tag) for e in g_ents}
        for _, _, tag in t_set:
            n_true[i, column[tag]] += 1
        for _, _, tag in g_set:
            if tag in column:
                n_pred[i, column[tag]] += 1
        for _, _, tag in t_set & g_set:
            tp[i, column[tag]] += 1
    return tp, n_true, n_pred


def micro_macro(tp: npt.NDArray[np.int64], n_true: npt.NDArray[np.int64], n_pred: npt.NDArray[np.int64]
                ) -> tuple[float, float]:
    """Micro-F1 and macro-F1 (over the types with a true entity) of summed counts (last axis: types)."""
    denominator = n_true.sum(axis=-1) + n_pred.sum(axis=-1)
    micro = np.where(denominator > 0, 2 * tp.sum(axis=-1) / np.maximum(denominator, 1), 0.0)
    per_type_den = n_true + n_pred
    per_type = np.where(per_type_den > 0, 2 * tp / np.maximum(per_type_den, 1), 0.0)
    present = n_true > 0
    macro = np.where(present.any(axis=-1), (per_type * present).sum(axis=-1) / np.maximum(present.sum(axis=-1), 1),
                     0.0)
    return micro, macro  # type: ignore[return-value]


def entity_estimate(truth: Sequence[Sequence[str]], guess: Sequence[Sequence[str]] | None, *,
                    min_audit: int = MIN_AUDIT, seed: int = 0, bootstrap: int = BOOTSTRAP) -> Estimate:
    """Entity micro-F1 (in ``accuracy``) and macro-F1 with percentile-bootstrap 95% intervals."""
    n = len(truth)
    if guess is None or n < max(1, min_audit):
        return Estimate(None, None, None, None, None, None, n, min_audit, measure=MEASURE)
    types = sorted({e.tag for sent in Entities([list(t) for t in truth], IOB2).entities for e in sent})
    tp, n_true, n_pred = entity_counts(truth, guess, types)
    micro, macro = micro_macro(tp.sum(axis=0), n_true.sum(axis=0), n_pred.sum(axis=0))
    rows = np.random.default_rng(seed).integers(0, n, size=(bootstrap, n))
    micros, macros = micro_macro(tp[rows].sum(axis=1), n_true[rows].sum(axis=1), n_pred[rows].sum(axis=1))
    low, high = np.percentile(micros, [2.5, 97.5])
    macro_low, macro_high = np.percentile(macros, [2.5, 97.5])
    return Estimate(round(float(micro), 6), round(float(low), 6), round(float(high), 6), round(float(macro), 6),
                    round(float(macro_low), 6), round(float(macro_high), 6), n, min_audit, measure=MEASURE)


def out_of_fold_tags(fit_tags: FitTags, train_rows: npt.NDArray[np.intp], audit_rows: npt.NDArray[np.intp],
                     folds: npt.NDArray[np.intp]) -> list[list[str]]:
    """Each audit row's tags from a model trained on ``train_rows`` minus the row's fold."""
    out: list[list[str]] = [[] for _ in range(len(audit_rows))]
    for fold in np.unique(folds):
        where = np.flatnonzero(folds == fold)
        held = audit_rows[where]
        for k, tags in zip(where.tolist(), fit_tags(train_rows[~np.isin(train_rows, held)], held), strict=True):
            out[k] = tags
    return out


def span_audit_figures(fit_tags: FitTags, tags: Sequence[Sequence[str]], train_rows: npt.NDArray[np.intp],
                       audit_rows: npt.NDArray[np.intp], *, seed: int = 0, min_audit: int = MIN_AUDIT
                       ) -> AuditFigures:
    """The audit estimate of the CRF trained on ``train_rows``; ``tags`` are the true tags by row."""
    train_rows = np.asarray(train_rows, dtype=np.intp)
    audit_rows = np.asarray(audit_rows, dtype=np.intp)
    truth = [list(tags[i]) for i in audit_rows.tolist()]
    guess = None
    if len(audit_rows) >= max(1, min_audit):
        folds = fold_ids(len(audit_rows), np.random.default_rng(seed))
        guess = out_of_fold_tags(fit_tags, train_rows, audit_rows, folds)
    saving = Saving(None, None, None, None, None, len(train_rows),
                    "not computed for named entities: the random-order curve is built on per-task hits, "
                    "which entity F1 does not split into.", [])
    return AuditFigures(entity_estimate(truth, guess, min_audit=min_audit, seed=seed), saving=saving)
