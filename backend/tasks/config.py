"""Label-config checks every text kind shares: one control over one text object.

Parsing goes through label-studio-sdk's label interface, the same parser Label Studio uses,
so aliases, ``toName`` and ``value="$field"`` mean here what they mean there.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from typing import Any

from label_studio_sdk.label_interface import LabelInterface

from backend.errors import UnsupportedLabelConfig

TEXT_OBJECTS = ("Text", "HyperText")


def unsupported(found: str, supports: str) -> UnsupportedLabelConfig:
    return UnsupportedLabelConfig(f"unsupported labeling config: found {found}; ls-active supports {supports}")


def text_target(interface: LabelInterface, control: Any, supports: str) -> tuple[str, str, str]:
    """The (name, tag, task field) of the one text object ``control`` labels."""
    tag = str(control.tag)
    to_names = list(control.to_name or [])
    if len(to_names) != 1:
        raise unsupported(f"<{tag} name={control.name!r}> pointing at {len(to_names)} objects", supports)
    target = {o.name: o for o in interface.objects}.get(to_names[0])
    if target is None:
        raise unsupported(f"<{tag} toName={to_names[0]!r}> with no object of that name", supports)
    if target.tag not in TEXT_OBJECTS:
        raise unsupported(f"<{tag}> over a <{target.tag}> object", supports)
    value = str(target.value or "")
    if not value.startswith("$") or len(value) < 2:
        raise unsupported(f'<{target.tag} value="{value}"> (it must read a task field, like "$text")', supports)
    return str(target.name), str(target.tag), value[1:]


def duplicate_values(config: str, tag: str, name: str, child: str) -> list[str]:
    """Values written twice among ``<child>`` of ``<tag name=name>``: the SDK drops duplicates,
    which would hide a broken config."""
    try:
        root = ET.fromstring(config)
    except ET.ParseError:
        return []
    for element in root.iter(tag):
        if element.get("name") == name:
            values = Counter(c.get("alias") or c.get("value") or "" for c in element.iter(child))
            return sorted(v for v, n in values.items() if n > 1)
    return []
