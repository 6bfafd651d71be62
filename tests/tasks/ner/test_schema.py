"""<Labels> configs to a SpanSchema; refusals that name what was found."""

from __future__ import annotations

import pytest

from backend.errors import UnsupportedLabelConfig
from backend.tasks import kind_of, parse_label_config, schema_from_dict
from backend.tasks.ner.schema import SpanSchema

TEXT = '<Text name="text" value="$text"/>'


def labels(*values: str, name: str = "label", to: str = "text") -> str:
    inner = "".join(f'<Label value="{v}" background="red"/>' for v in values)
    return f'<Labels name="{name}" toName="{to}">{inner}</Labels>'


def refusal(body: str) -> str:
    with pytest.raises(UnsupportedLabelConfig) as caught:
        parse_label_config(f"<View>{body}</View>")
    assert caught.value.status == 400
    return caught.value.message


def test_labels_over_text_in_config_order() -> None:
    schema = parse_label_config(f"<View>{labels('PER', 'ORG', 'LOC', 'MISC')}{TEXT}</View>")
    assert schema == SpanSchema("label", "text", "Text", "text", ("PER", "ORG", "LOC", "MISC"))
    assert kind_of(schema).name == "ner"


def test_one_label_is_enough_for_spans() -> None:
    schema = parse_label_config(f'<View><Text name="tweet" value="$body"/>{labels("PER", to="tweet")}</View>')
    assert schema.labels == ("PER",) and schema.value_key == "body" and schema.to_name == "tweet"


def test_schema_round_trips_through_its_dict() -> None:
    schema = parse_label_config(f"<View>{labels('PER', 'ORG')}{TEXT}</View>")
    assert schema_from_dict(schema.to_dict()) == schema


def test_labels_beside_choices_is_refused() -> None:
    choices = '<Choices name="c" toName="text"><Choice value="a"/><Choice value="b"/></Choices>'
    message = refusal(labels("PER") + choices + TEXT)
    assert "1 <Choices>" in message and "1 <Labels>" in message and "two projects" in message


def test_two_labels_controls_are_counted() -> None:
    assert "2 <Labels>" in refusal(labels("PER") + labels("ORG", name="other") + TEXT)


@pytest.mark.parametrize(("body", "found"), [
    (labels() + TEXT, "no <Label>"),
    (labels("PER", "PER") + TEXT, "duplicate label values ['PER']"),
    (labels("PER") + '<HyperText name="text" value="$html"/>', "<HyperText>"),
    (labels("PER", to="nowhere") + TEXT, "toName='nowhere'"),
    (labels("PER") + '<Text name="text" value="fixed"/>', 'value="fixed"'),
    (labels("PER") + TEXT + '<TextArea name="note" toName="text"/>', "<TextArea>"),
])
def test_unsupported_label_configs_name_the_problem(body: str, found: str) -> None:
    message = refusal(body)
    assert found in message and "<Labels>" in message
