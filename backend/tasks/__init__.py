"""Task kinds: everything that depends on the labeling interface.

A kind says which label configs it serves, turns annotations into training targets and task
data into model inputs, trains its model, shows strategies a pool, writes predictions back
as Label Studio results and reports its figures; the rest of the service calls it through
:class:`~backend.tasks.base.TaskKind` only and finds it with :func:`parse_label_config` (a
project's label config) or :func:`kind_of` (a stored schema). May import the base and
:mod:`strategies`.
"""

from backend.tasks.base import Figures, Model, Ranker, Schema, Scored, TaskKind, Training
from backend.tasks.registry import (
    KINDS,
    LEGACY_MODEL_MODULES,
    interface_of,
    kind_for_file,
    kind_of,
    parse_label_config,
    schema_from_dict,
)

__all__ = [
    "KINDS",
    "LEGACY_MODEL_MODULES",
    "Figures",
    "Model",
    "Ranker",
    "Schema",
    "Scored",
    "TaskKind",
    "Training",
    "interface_of",
    "kind_for_file",
    "kind_of",
    "parse_label_config",
    "schema_from_dict",
]
