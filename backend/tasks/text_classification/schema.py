"""A project's label config to the one thing ls-active learns: a text to choice(s) task.

Parsing goes through label-studio-sdk's label interface, the same parser Label Studio
uses, so aliases, ``toName`` and ``value="$field"`` mean here what they mean there.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from label_studio_sdk.label_interface import LabelInterface

from backend.errors import UnsupportedLabelConfig

SUPPORTED_OBJECTS = ("Text", "HyperText")
SUPPORTED = (
    'one <Choices> control (single choice, or choice="multiple" for multi-label) '
    "over one <Text> or <HyperText> object"
)


@dataclass(frozen=True)
class TaskSchema:
    """Where the text is in a task and how a prediction must be written back."""

    from_name: str
    to_name: str
    object_type: str
    value_key: str
    labels: tuple[str, ...]
    multilabel: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskSchema:
        return cls(
            from_name=str(data["from_name"]),
            to_name=str(data["to_name"]),
            object_type=str(data["object_type"]),
            value_key=str(data["value_key"]),
            labels=tuple(str(x) for x in data["labels"]),
            multilabel=bool(data["multilabel"]),
        )


def _unsupported(found: str) -> UnsupportedLabelConfig:
    return UnsupportedLabelConfig(f"unsupported labeling config: found {found}; ls-active supports {SUPPORTED}")


def _raw_choice_values(config: str, control_name: str) -> list[str]:
    """The choices as written: the SDK drops duplicates, which would hide a broken config."""
    try:
        root = ET.fromstring(config)
    except ET.ParseError:
        return []
    for element in root.iter("Choices"):
        if element.get("name") == control_name:
            return [c.get("alias") or c.get("value") or "" for c in element.iter("Choice")]
    return []


def parse_label_config(config: Any) -> TaskSchema:
    """Validate a label config and return its :class:`TaskSchema`, or raise naming what was found."""
    if not isinstance(config, str) or not config.strip():
        raise UnsupportedLabelConfig("the label config (schema) is empty; send the project's XML config")
    try:
        interface = LabelInterface(config)
    except Exception as exc:  # the SDK raises several unrelated types for bad XML
        raise UnsupportedLabelConfig(f"the label config is not valid XML: {exc}") from None
    controls = list(interface.controls)
    choices = [c for c in controls if c.tag == "Choices"]
    others = sorted({c.tag for c in controls if c.tag != "Choices"})
    if len(choices) != 1 or others:
        parts = [f"{len(choices)} <Choices>"] + [f"<{tag}>" for tag in others]
        raise _unsupported(" and ".join(parts) + " controls")
    control = choices[0]
    to_names = list(control.to_name or [])
    if len(to_names) != 1:
        raise _unsupported(f"<Choices name={control.name!r}> pointing at {len(to_names)} objects")
    objects = {o.name: o for o in interface.objects}
    target = objects.get(to_names[0])
    if target is None:
        raise _unsupported(f"<Choices toName={to_names[0]!r}> with no object of that name")
    if target.tag not in SUPPORTED_OBJECTS:
        raise _unsupported(f"<Choices> over a <{target.tag}> object")
    value = str(target.value or "")
    if not value.startswith("$") or len(value) < 2:
        raise _unsupported(f'<{target.tag} value="{value}"> (it must read a task field, like "$text")')
    duplicates = sorted(v for v, n in Counter(_raw_choice_values(config, str(control.name))).items() if n > 1)
    if duplicates:
        raise _unsupported(f"<Choices name={control.name!r}> with duplicate choice values {duplicates}")
    labels = tuple(str(label) for label in (control.labels or []))
    if len(labels) < 2 and control.attr.get("choice") != "multiple":
        raise _unsupported(f"<Choices name={control.name!r}> with {len(labels)} <Choice>; add at least two")
    if not labels:
        raise _unsupported(f"<Choices name={control.name!r}> with no <Choice>")
    if len(set(labels)) != len(labels):
        raise _unsupported(f"<Choices name={control.name!r}> with duplicate choice values")
    return TaskSchema(
        from_name=str(control.name),
        to_name=str(target.name),
        object_type=str(target.tag),
        value_key=value[1:],
        labels=labels,
        multilabel=str(control.attr.get("choice", "single")).lower() == "multiple",
    )
