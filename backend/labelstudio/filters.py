"""Data Manager filters: which tasks a read asks Label Studio for."""

from __future__ import annotations

from typing import Any


def number_filter(field: str, operator: str, value: int) -> dict[str, Any]:
    return {"filter": f"filter:tasks:{field}", "operator": operator, "type": "Number", "value": value}


def task_filters(labeled: bool | None, after_id: int) -> dict[str, Any]:
    """Tasks with id > ``after_id``, restricted by ``labeled``.

    Labeled means at least one annotation, a skipped (cancelled) one included, so the two
    sets split the project. Paging by id instead of by page number keeps a read correct while
    annotators label: a task that changes set during the read is neither skipped nor repeated.
    """
    after = number_filter("id", "greater", after_id)
    if labeled is None:
        return {"conjunction": "and", "items": [after]}
    if labeled:
        # (done > 0 AND id > x) OR (skipped > 0 AND id > x): a child filter ANDs with its parent.
        return {"conjunction": "or", "items": [
            {**number_filter("total_annotations", "greater", 0), "child_filter": after},
            {**number_filter("cancelled_annotations", "greater", 0), "child_filter": after},
        ]}
    return {"conjunction": "and", "items": [
        number_filter("total_annotations", "equal", 0),
        number_filter("cancelled_annotations", "equal", 0),
        after,
    ]}


def with_version(version: str, after_id: int) -> dict[str, Any]:
    """Tasks with id > ``after_id`` holding a prediction whose version contains ``version``."""
    return {"conjunction": "and", "items": [
        {"filter": "filter:tasks:predictions_model_versions", "operator": "contains", "type": "List",
         "value": [version]},
        number_filter("id", "greater", after_id),
    ]}


def unlabeled() -> dict[str, Any]:
    """The queue tab's filter: tasks nobody has annotated."""
    return {"conjunction": "and", "items": [number_filter("total_annotations", "equal", 0)]}


def id_range(after_id: int, last_id: int) -> dict[str, Any]:
    """Tasks with ``after_id`` < id <= ``last_id``."""
    return {"conjunction": "and", "items": [number_filter("id", "greater", after_id),
                                            number_filter("id", "less", last_id + 1)]}
