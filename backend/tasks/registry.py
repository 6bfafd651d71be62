"""Which task kind serves a label config, and the kind behind a stored schema."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from label_studio_sdk.label_interface import LabelInterface

from backend.errors import SimulationError, UnsupportedLabelConfig
from backend.tasks.base import Schema, TaskKind
from backend.tasks.ner.kind import NAMED_ENTITIES
from backend.tasks.text_classification.kind import TEXT_CLASSIFICATION

#: Every kind, by the one control tag of its label configs (a literal registry, no decorators).
KINDS: dict[str, TaskKind] = {kind.control: kind for kind in (TEXT_CLASSIFICATION, NAMED_ENTITIES)}
_BY_NAME: dict[str, TaskKind] = {kind.name: kind for kind in KINDS.values()}
#: Modules that held model classes in release 0.1, and where those classes live now: stored
#: artifacts name their classes by module path.
LEGACY_MODEL_MODULES = {"backend.model": "backend.tasks.text_classification.model"}


def interface_of(config: Any) -> LabelInterface:
    """Label Studio's own parser over ``config``; a clear error for anything it cannot read."""
    if not isinstance(config, str) or not config.strip():
        raise UnsupportedLabelConfig("the label config (schema) is empty; send the project's XML config")
    try:
        return LabelInterface(config)
    except Exception as exc:  # the SDK raises several unrelated types for bad XML
        raise UnsupportedLabelConfig(f"the label config is not valid XML: {str(exc)[:200]}") from None


def _found(tags: Counter[str]) -> str:
    """``1 <Choices> and <TextArea> controls``: counts of the tags a kind serves, then the rest."""
    known = [f"{tags[tag]} <{tag}>" for tag in KINDS if tags.get(tag)]
    others = [f"<{tag}>" for tag in sorted(set(tags) - set(KINDS))]
    parts = known + others
    if not parts:
        return "no controls"
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{listed} controls"


def parse_label_config(config: Any) -> Schema:
    """The schema of the one kind that serves ``config``, or an error naming what was found.

    A config serves one kind when it has exactly one control, of that kind's tag.
    """
    interface = interface_of(config)
    tags = Counter(str(control.tag) for control in interface.controls)
    supported = "; or ".join(kind.supports for kind in KINDS.values())
    if len([tag for tag in tags if tag in KINDS]) > 1:
        raise UnsupportedLabelConfig(
            f"unsupported labeling config: found {_found(tags)}; ls-active learns one control per project, so "
            f"label these in two projects; it supports {supported}")
    if len(tags) == 1 and sum(tags.values()) == 1:
        (tag,) = tags
        if tag in KINDS:
            return KINDS[tag].parse_config(interface, config)
    raise UnsupportedLabelConfig(f"unsupported labeling config: found {_found(tags)}; ls-active supports {supported}")


def kind_of(schema: Schema) -> TaskKind:
    return _BY_NAME[schema.kind]


def schema_from_dict(data: Mapping[str, Any]) -> Schema:
    """A stored schema back; one stored before kinds existed is text classification."""
    name = str(data.get("kind") or TEXT_CLASSIFICATION.name)
    if name not in _BY_NAME:
        raise UnsupportedLabelConfig(f"a stored project config names task kind {name!r}, which this release "
                                     f"does not know ({', '.join(sorted(_BY_NAME))}); reconnect the project")
    return _BY_NAME[name].schema_from_dict(data)


def kind_for_file(path: Path) -> TaskKind:
    """The kind whose labeled files look like ``path`` (``ls-active simulate --data``)."""
    for kind in KINDS.values():
        if kind.reads(path):
            return kind
    raise SimulationError(f"{path.name}: no task kind reads {path.suffix or 'this'} files; pass a CSV or JSON "
                          "file of texts and labels, or a .conll file of tagged tokens")
