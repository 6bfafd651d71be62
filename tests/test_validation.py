"""Setting values from people: each parser accepts the usual spellings and names what is allowed."""

from __future__ import annotations

from typing import Any

import pytest

from backend import validation
from backend.validation import InvalidOption


def test_choice_is_case_insensitive_and_lists_the_choices() -> None:
    assert validation.choice("class_weight", " Balanced ", ("none", "balanced")) == "balanced"
    with pytest.raises(InvalidOption, match=r"class_weight must be one of none, balanced; got 'heavy'"):
        validation.choice("class_weight", "heavy", ("none", "balanced"))
    with pytest.raises(InvalidOption, match="one of"):
        validation.choice("learner", 3, ("auto",))


@pytest.mark.parametrize("raw", [0, -1, 1e5, "nan", "inf", "ten", True, None, [1]])
def test_number_refuses_what_is_outside_its_range_or_not_a_number(raw: Any) -> None:
    with pytest.raises(InvalidOption, match=r"C must be .*from 0\.0001 to 10000"):
        validation.number("C", raw, 1e-4, 1e4)


def test_number_reads_numbers_and_text() -> None:
    assert validation.number("C", "2.5", 1e-4, 1e4) == 2.5
    assert validation.number("C", 3, 1e-4, 1e4) == 3.0


@pytest.mark.parametrize(("raw", "expected"), [(10, 10), ("25", 25), (12.0, 12)])
def test_whole_numbers(raw: Any, expected: int) -> None:
    assert validation.whole("batch_size", raw, 1, 1000) == expected


@pytest.mark.parametrize("raw", [0, 1001, 2.5, "2.5", True, "", None])
def test_whole_refuses(raw: Any) -> None:
    with pytest.raises(InvalidOption, match="batch_size must be"):
        validation.whole("batch_size", raw, 1, 1000)


@pytest.mark.parametrize(("raw", "expected"), [(True, True), ("off", False), ("Yes", True), (0, False), ("1", True)])
def test_flags(raw: Any, expected: bool) -> None:
    assert validation.flag("calibrate", raw) is expected


@pytest.mark.parametrize("raw", ["maybe", 2, None, [True]])
def test_flag_refuses(raw: Any) -> None:
    with pytest.raises(InvalidOption, match="calibrate must be true or false"):
        validation.flag("calibrate", raw)


@pytest.mark.parametrize("raw", ["sometimes", 2, None, ["audit"]])
def test_calibration_refuses(raw: Any) -> None:
    with pytest.raises(InvalidOption, match="calibrate must be one of audit, folds, off"):
        validation.calibration("calibrate", raw)


@pytest.mark.parametrize(("raw", "expected"), [(10, (10,)), ("10, 20,40", (10, 20, 40)), ([5, 15], (5, 15)),
                                               ("7", (7,))])
def test_schedules(raw: Any, expected: tuple[int, ...]) -> None:
    assert validation.schedule("retrain_every", raw) == expected


@pytest.mark.parametrize(("raw", "words"), [("20,10", "increase"), ([10, 10], "increase"), (0, "from 1"),
                                            ("ten", "a number like 10"), ([], "a number like 10"),
                                            ([1.5], "from 1"), ({"every": 3}, "a number like 10")])
def test_schedule_refuses(raw: Any, words: str) -> None:
    with pytest.raises(InvalidOption, match="retrain_every") as info:
        validation.schedule("retrain_every", raw)
    assert words in str(info.value)


def test_a_long_value_is_quoted_short() -> None:
    with pytest.raises(InvalidOption) as info:
        validation.choice("learner", "x" * 10_000, ("auto", "logreg"))
    message = str(info.value)
    assert len(message) < 120 and "x" * validation.SHOWN_CHARS + "..." in message
