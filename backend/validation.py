"""Checks for setting values that come from people: the environment and ``/setup`` extra_params.

One parser per type of value, shared by both sources, so ``MODEL_C=0`` and
``{"C": 0}`` are refused with the same words. Each raises :class:`InvalidOption` naming the
setting, a short prefix of the value (a pasted essay is not echoed back) and what is allowed;
the caller adds where the value came from (a variable, or extra_params) and turns it into
its own error (:class:`~backend.errors.ConfigurationError`, a 400).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from backend import defaults

#: Characters of a bad value quoted back in a message.
SHOWN_CHARS = 20


class InvalidOption(ValueError):
    """A setting's value is not allowed; the message names the setting and what is."""


def shown(raw: Any) -> str:
    """A short, quoted prefix of ``raw`` for an error message."""
    text = str(raw)
    return repr(text[:SHOWN_CHARS] + ("..." if len(text) > SHOWN_CHARS else ""))


def choice(name: str, raw: Any, allowed: Sequence[str]) -> str:
    """One of ``allowed`` (case-insensitive, surrounding spaces ignored)."""
    value = raw.strip().lower() if isinstance(raw, str) else None
    if value is None or value not in allowed:
        raise InvalidOption(f"{name} must be one of {', '.join(allowed)}; got {shown(raw)}")
    return value


def number(name: str, raw: Any, low: float, high: float) -> float:
    """A finite number within ``[low, high]`` (a number, or text holding one)."""
    if isinstance(raw, bool):
        raise InvalidOption(f"{name} must be a number from {low:g} to {high:g}; got {shown(raw)}")
    try:
        value = float(raw.strip() if isinstance(raw, str) else raw)
    except (TypeError, ValueError):
        raise InvalidOption(f"{name} must be a number from {low:g} to {high:g}; got {shown(raw)}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidOption(f"{name} must be from {low:g} to {high:g}; got {shown(raw)}")
    return value


def whole(name: str, raw: Any, low: int, high: int) -> int:
    """A whole number within ``[low, high]`` (``10`` or ``"10"``; not ``10.5`` or ``true``)."""
    whole_float = isinstance(raw, float) and raw.is_integer()
    if (isinstance(raw, bool) or not isinstance(raw, (int, str))) and not whole_float:
        raise InvalidOption(f"{name} must be a whole number from {low} to {high}; got {shown(raw)}")
    try:
        value = int(raw.strip() if isinstance(raw, str) else raw)
    except (TypeError, ValueError):
        raise InvalidOption(f"{name} must be a whole number from {low} to {high}; got {shown(raw)}") from None
    if not low <= value <= high:
        raise InvalidOption(f"{name} must be from {low} to {high}; got {shown(raw)}")
    return value


def flag(name: str, raw: Any) -> bool:
    """``true``/``false`` (also ``1``/``0``, ``yes``/``no``, ``on``/``off``, or a JSON boolean)."""
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower() if isinstance(raw, (str, int)) else ""
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise InvalidOption(f"{name} must be true or false; got {shown(raw)}")


def calibration(name: str, raw: Any) -> str:
    """``audit``, ``folds`` or ``off`` (``true``/``false`` and the other :func:`flag` spellings: folds/off)."""
    text = raw.strip().lower() if isinstance(raw, str) else None
    if text in defaults.CALIBRATE_MODES:
        return text
    try:
        return "folds" if flag(name, raw) else "off"
    except InvalidOption:
        raise InvalidOption(f"{name} must be one of {', '.join(defaults.CALIBRATE_MODES)} "
                            f"(true and false mean folds and off); got {shown(raw)}") from None


def schedule(name: str, raw: Any, high: int = 1_000_000) -> tuple[int, ...]:
    """Retrain milestones: ``10`` (every 10 labels), or an increasing list ``[10, 20, 40]`` /
    ``"10,20,40"`` (after the last, each double of it)."""
    parts: list[Any]
    if isinstance(raw, str):
        parts = [p for p in raw.replace(" ", "").split(",") if p]
    elif isinstance(raw, (list, tuple)):
        parts = list(raw)
    else:
        parts = [raw]
    hint = "a number like 10 or an increasing list like 10,20,40"
    if not parts or len(parts) > 50:
        raise InvalidOption(f"{name} must be {hint}; got {shown(raw)}")
    try:
        steps = tuple(whole(name, p, 1, high) for p in parts)
    except InvalidOption:
        raise InvalidOption(f"{name} must be {hint} (each from 1 to {high}); got {shown(raw)}") from None
    if list(steps) != sorted(set(steps)):
        raise InvalidOption(f"{name} must be {hint}: the numbers must increase; got {shown(raw)}")
    return steps
