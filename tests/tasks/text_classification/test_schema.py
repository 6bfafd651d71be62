"""Label configs to a TaskSchema: the shapes ls-active learns, and clear refusals for the rest."""

from __future__ import annotations

import json

import pytest

from backend.errors import BadRequest, UnsupportedLabelConfig
from backend.tasks import parse_label_config
from backend.tasks.text_classification.schema import TaskSchema
from tests.conftest import FIXTURES


def config(body: str) -> str:
    return f"<View>{body}</View>"


def choices(*values: str, name: str = "label", to: str = "text", extra: str = "") -> str:
    inner = "".join(f'<Choice value="{v}"/>' for v in values)
    return f'<Choices name="{name}" toName="{to}"{extra}>{inner}</Choices>'


TEXT = '<Text name="text" value="$text"/>'


def refusal(label_config: object) -> str:
    with pytest.raises(UnsupportedLabelConfig) as caught:
        parse_label_config(label_config)
    assert caught.value.status == 400, "a refused config is the sender's error (4xx)"
    return caught.value.message


def test_single_choice_over_text() -> None:
    schema = parse_label_config(config(TEXT + choices("pos", "neg")))
    assert schema == TaskSchema("label", "text", "Text", "text", ("pos", "neg"), False)


def test_labels_keep_config_order() -> None:
    values = ("zeta", "alpha", "mid", "beta", "omega", "a1", "b2", "c3")
    schema = parse_label_config(config(TEXT + choices(*values)))
    assert schema.labels == values


def test_multiple_choice_is_multilabel() -> None:
    control = choices("a", "b", "c", name="tags", to="t", extra=' choice="multiple"')
    xml = config('<Text name="t" value="$body"/>' + control)
    schema = parse_label_config(xml)
    assert schema.multilabel is True
    assert (schema.from_name, schema.to_name, schema.value_key) == ("tags", "t", "body")
    assert schema.labels == ("a", "b", "c")


def test_single_radio_is_single_label() -> None:
    schema = parse_label_config(config(TEXT + choices("a", "b", extra=' choice="single-radio"')))
    assert schema.multilabel is False


def test_hypertext_object() -> None:
    schema = parse_label_config(config('<HyperText name="page" value="$html"/>' + choices("x", "y", to="page")))
    assert schema.object_type == "HyperText"
    assert schema.value_key == "html"
    assert schema.to_name == "page"


def test_aliases_are_the_labels_annotations_carry() -> None:
    """Label Studio writes a choice's alias, not its value, into results; we must match that."""
    xml = config(
        TEXT + '<Choices name="label" toName="text"><Choice value="Positive" alias="pos"/>'
        '<Choice value="Negative" alias="neg"/></Choices>'
    )
    assert parse_label_config(xml).labels == ("pos", "neg")


def test_nested_views_and_decorations_are_fine() -> None:
    xml = config('<Header value="Question"/><View>' + TEXT + "</View><View>" + choices("a", "b") + "</View>")
    assert parse_label_config(xml).labels == ("a", "b")


def test_captured_setup_schema_parses() -> None:
    body = json.loads(FIXTURES.read_text())["POST /setup"]["body"]
    schema = parse_label_config(body["schema"])
    assert schema.labels == ("pos", "neg")
    assert schema.value_key == "text"


def test_roundtrip_through_dict() -> None:
    schema = parse_label_config(config(TEXT + choices("a", "b", extra=' choice="multiple"')))
    assert TaskSchema.from_dict(schema.to_dict()) == schema


def test_unsupported_is_a_bad_request() -> None:
    assert issubclass(UnsupportedLabelConfig, BadRequest)


@pytest.mark.parametrize("value", [None, "", "   ", 42, ["<View/>"]])
def test_empty_or_non_text_config(value: object) -> None:
    assert "empty" in refusal(value)


def test_malformed_xml_names_the_parser_problem() -> None:
    message = refusal('<View><Text name="text"')
    assert "not valid XML" in message


def test_no_control_at_all() -> None:
    message = refusal(config(TEXT))
    assert "found no controls" in message


def test_labels_beside_choices_is_refused_naming_both() -> None:
    spans = '<Labels name="ner" toName="text"><Label value="PER"/></Labels>'
    message = refusal(config(TEXT + choices("a", "b") + spans))
    assert "1 <Choices>" in message and "1 <Labels>" in message and "two projects" in message


def test_two_choices_controls_are_counted() -> None:
    message = refusal(config(TEXT + choices("a", "b", name="one") + choices("a", "b", name="two")))
    assert "found 2 <Choices> controls" in message


@pytest.mark.parametrize(
    ("extra", "tag"),
    [
        ('<TextArea name="note" toName="text"/>', "<TextArea>"),
        ('<Rating name="stars" toName="text"/>', "<Rating>"),
        ('<Taxonomy name="tax" toName="text"><Choice value="a"/></Taxonomy>', "<Taxonomy>"),
    ],
)
def test_choices_with_another_control(extra: str, tag: str) -> None:
    message = refusal(config(TEXT + choices("a", "b") + extra))
    assert "1 <Choices>" in message and tag in message


def test_choices_over_an_image() -> None:
    message = refusal(config('<Image name="img" value="$image"/>' + choices("a", "b", to="img")))
    assert "<Choices> over a <Image> object" in message


def test_choices_over_two_objects() -> None:
    xml = config(TEXT + '<Text name="other" value="$other"/>' + choices("a", "b", to="text,other"))
    assert "pointing at 2 objects" in refusal(xml)


def test_choices_pointing_at_a_missing_object() -> None:
    message = refusal(config(TEXT + choices("a", "b", to="nowhere")))
    assert "'nowhere'" in message and "no object of that name" in message


def test_text_that_reads_no_task_field() -> None:
    message = refusal(config('<Text name="text" value="fixed words"/>' + choices("a", "b")))
    assert 'value="fixed words"' in message and "$text" in message


def test_single_choice_needs_two_options() -> None:
    message = refusal(config(TEXT + choices("only")))
    assert "with 1 <Choice>" in message and "at least two" in message


def test_multilabel_with_one_option_is_accepted() -> None:
    """A lone checkbox ("toxic?") is a legitimate multi-label project."""
    schema = parse_label_config(config(TEXT + choices("toxic", extra=' choice="multiple"')))
    assert schema.labels == ("toxic",) and schema.multilabel


def test_multilabel_with_no_option() -> None:
    message = refusal(config(TEXT + '<Choices name="label" toName="text" choice="multiple"></Choices>'))
    assert "no <Choice>" in message


def test_duplicate_choice_values_are_named() -> None:
    """Two identical options must be reported as duplicates, not as "1 <Choice>; add at least two"."""
    message = refusal(config(TEXT + choices("same", "same")))
    assert "duplicate" in message


def test_every_refusal_says_what_is_supported() -> None:
    message = refusal(config(TEXT))
    assert "one <Choices> control" in message and "<Text> or <HyperText>" in message
