"""A ``<Choices>`` label config to the text classification schema."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from label_studio_sdk.label_interface import LabelInterface

from backend.tasks.base import Schema
from backend.tasks.config import duplicate_values, text_target, unsupported

SUPPORTED = (
    'one <Choices> control (single choice, or choice="multiple" for multi-label) '
    "over one <Text> or <HyperText> object"
)


@dataclass(frozen=True)
class TaskSchema(Schema):
    """Where the text is in a task, its choices, and whether several may apply."""

    kind: ClassVar[str] = "text_classification"
    multilabel: bool

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskSchema:
        return cls(
            from_name=str(data["from_name"]),
            to_name=str(data["to_name"]),
            object_type=str(data["object_type"]),
            value_key=str(data["value_key"]),
            labels=tuple(str(x) for x in data["labels"]),
            multilabel=bool(data["multilabel"]),
        )


def parse_choices(interface: LabelInterface, config: str) -> TaskSchema:
    """The schema of a config whose one control is ``<Choices>``, or an error naming the problem."""
    (control,) = list(interface.controls)
    to_name, object_type, value_key = text_target(interface, control, SUPPORTED)
    name = str(control.name)
    duplicates = duplicate_values(config, "Choices", name, "Choice")
    if duplicates:
        raise unsupported(f"<Choices name={name!r}> with duplicate choice values {duplicates}", SUPPORTED)
    labels = tuple(str(label) for label in (control.labels or []))
    multilabel = str(control.attr.get("choice", "single")).lower() == "multiple"
    if len(labels) < 2 and not multilabel:
        raise unsupported(f"<Choices name={name!r}> with {len(labels)} <Choice>; add at least two", SUPPORTED)
    if not labels:
        raise unsupported(f"<Choices name={name!r}> with no <Choice>", SUPPORTED)
    if len(set(labels)) != len(labels):
        raise unsupported(f"<Choices name={name!r}> with duplicate choice values", SUPPORTED)
    return TaskSchema(from_name=name, to_name=to_name, object_type=object_type, value_key=value_key,
                      labels=labels, multilabel=multilabel)
