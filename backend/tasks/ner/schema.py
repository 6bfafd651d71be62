"""A ``<Labels>`` label config (named entities over one text) to the span schema."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from label_studio_sdk.label_interface import LabelInterface

from backend.tasks.base import Schema
from backend.tasks.config import duplicate_values, text_target, unsupported

SUPPORTED = "one <Labels> control (named entities, any number of <Label>) over one <Text> object"


@dataclass(frozen=True)
class SpanSchema(Schema):
    """Where the text is in a task and the entity labels its spans may carry."""

    kind: ClassVar[str] = "ner"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SpanSchema:
        return cls(
            from_name=str(data["from_name"]),
            to_name=str(data["to_name"]),
            object_type=str(data["object_type"]),
            value_key=str(data["value_key"]),
            labels=tuple(str(x) for x in data["labels"]),
        )


def parse_labels(interface: LabelInterface, config: str) -> SpanSchema:
    """The schema of a config whose one control is ``<Labels>``, or an error naming the problem.

    Spans over ``<HyperText>`` are refused: Label Studio addresses them by XPath into the
    rendered page, which a text model cannot write back faithfully.
    """
    (control,) = list(interface.controls)
    to_name, object_type, value_key = text_target(interface, control, SUPPORTED)
    if object_type != "Text":
        raise unsupported(f"<Labels> over a <{object_type}> object (spans there are XPath ranges)", SUPPORTED)
    name = str(control.name)
    duplicates = duplicate_values(config, "Labels", name, "Label")
    if duplicates:
        raise unsupported(f"<Labels name={name!r}> with duplicate label values {duplicates}", SUPPORTED)
    labels = tuple(str(label) for label in (control.labels or []))
    if not labels:
        raise unsupported(f"<Labels name={name!r}> with no <Label>", SUPPORTED)
    bad = [label for label in labels if not label.strip() or label != label.strip()]
    if bad:
        raise unsupported(f"<Labels name={name!r}> with blank or padded label values {bad}", SUPPORTED)
    return SpanSchema(from_name=name, to_name=to_name, object_type=object_type, value_key=value_key,
                      labels=labels)
