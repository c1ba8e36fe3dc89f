"""Response models and answer reading: lax coercions (F-PROTO-5), the response model
table (F-PROTO-7), context_schema definitions (F-SCHEMA-1/2/5/6) and the
``selected_signals`` field (F-SIG-7)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from soe_temporal.llm.response import (
    Answer,
    InvalidAnswer,
    field_schema,
    llm_response_model,
    read_answer,
    selection_schema,
)

OPTIONS = [("URGENT", "An outage"), ("ROUTINE", "Anything else")]


def root(definition: Any):
    """The response model of output field ``out`` typed by ``definition``."""
    return llm_response_model("out", definition)


def value_of(text: str, definition: Any) -> Any:
    return read_answer(text, root(definition)).output


def refused(text: str, model) -> InvalidAnswer:
    with pytest.raises(InvalidAnswer) as caught:
        read_answer(text, model)
    return caught.value


# -- F-PROTO-5: lax coercions ---------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [('"42"', 42), ('" 7 "', 7), ("3.0", 3)])
def test_f_proto_5_integer_coercions(text, expected):
    value = value_of(text, "integer")
    assert value == expected and type(value) is int


def test_f_proto_5_true_becomes_one_for_integers():
    value = value_of("true", "integer")
    assert value == 1 and type(value) is int


@pytest.mark.parametrize("text", ["3.5", '"3.5"', '"many"', "[3]"])
def test_f_proto_5_non_integral_values_refused_for_int(text):
    refused(text, root("integer"))


@pytest.mark.parametrize(("text", "expected"), [('"2.5"', 2.5), ("2", 2), ('"-1e2"', -100.0)])
def test_f_proto_5_number_coercions(text, expected):
    assert value_of(text, "number") == expected


def test_f_proto_5_non_numeric_string_refused_for_number():
    refused('"two"', root("number"))


@pytest.mark.parametrize("text", ['"yes"', '"on"', '"t"', '"true"', "1", "true", '"TRUE"'])
def test_f_proto_5_truthy_values_become_true(text):
    assert value_of(text, "boolean") is True


@pytest.mark.parametrize("text", ['"no"', '"off"', '"f"', '"false"', "0", "false"])
def test_f_proto_5_falsy_values_become_false(text):
    assert value_of(text, "boolean") is False


@pytest.mark.parametrize("text", ['"maybe"', "2", "[]"])
def test_f_proto_5_other_values_refused_for_boolean(text):
    refused(text, root("boolean"))


@pytest.mark.parametrize("text", ["42", "3.5", "true"])
def test_f_proto_5_numbers_are_not_coerced_to_strings(text):
    refused(text, root("string"))


def test_f_proto_5_numbers_not_coerced_to_string_output():
    refused('{"output": 42}', llm_response_model(None))


def test_f_proto_5_unknown_top_level_keys_ignored():
    answer = read_answer('{"output": "x", "mood": "happy"}', llm_response_model(None))
    assert answer == Answer("x", [])


def test_f_proto_5_coercion_applies_inside_lists():
    assert value_of('["1", 2.0, true]', {"type": "list", "items": "int"}) == [1, 2, 1]


def test_f_proto_5_coercion_applies_inside_nested_objects():
    definition = {"type": "object", "properties": {"n": "int", "ok": "bool"}}
    assert value_of('{"n": "5", "ok": "yes"}', definition) == {"n": 5, "ok": True}


# -- F-PROTO-7: the response model table ------------------------------------------------


def test_f_proto_7_no_output_field_no_selection_requires_output_string():
    model = llm_response_model(None)
    assert model.schema["required"] == ["output"]
    assert model.schema["properties"]["output"]["type"] == "string"
    assert model.schema["properties"]["output"]["description"] == "The final output/result"
    assert set(model.schema["properties"]) == {"output"}


def test_f_proto_7_output_string_read_from_output_key():
    assert read_answer('{"output": "done"}', llm_response_model(None)).output == "done"


def test_f_proto_7_missing_output_refused():
    refused("{}", llm_response_model(None))


def test_f_proto_7_no_output_field_with_selection_adds_optional_selected_signals():
    model = llm_response_model(None, None, OPTIONS)
    assert set(model.schema["properties"]) == {"output", "selected_signals"}
    assert model.schema["required"] == ["output"]


def test_f_proto_7_untyped_wrapper_for_output_field_without_schema():
    model = llm_response_model("summary")
    assert model.schema["required"] == ["summary"]
    assert model.schema["properties"]["summary"]["description"] == "The summary value"
    assert "type" not in model.schema["properties"]["summary"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [('{"summary": "s"}', "s"), ('{"summary": 3}', 3), ('{"summary": null}', None)],
)
def test_f_proto_7_untyped_wrapper_accepts_any_json_value(text, expected):
    assert read_answer(text, llm_response_model("summary")).output == expected


def test_f_proto_7_untyped_wrapper_key_is_required():
    refused('{"output": "s"}', llm_response_model("summary"))


def test_f_proto_7_untyped_wrapper_with_selection():
    model = llm_response_model("summary", None, OPTIONS)
    answer = read_answer('{"summary": [1], "selected_signals": ["URGENT"]}', model)
    assert answer == Answer([1], ["URGENT"])


def test_f_proto_7_schema_entry_without_selection_is_a_bare_root_value():
    model = llm_response_model("count", "integer")
    assert model.output_key is None
    assert model.schema["type"] == "integer"
    assert read_answer("12", model).output == 12


def test_f_proto_7_root_model_refuses_a_wrapper_object():
    refused('{"count": 12}', llm_response_model("count", "integer"))


def test_f_proto_7_schema_entry_with_selection_is_a_typed_wrapper():
    model = llm_response_model("count", "integer", OPTIONS)
    prop = model.schema["properties"]["count"]
    assert prop["type"] == "integer"
    assert prop["description"] == "The count value matching the expected schema"
    assert model.schema["required"] == ["count"]
    assert read_answer('{"count": "4", "selected_signals": []}', model) == Answer(4, [])


def test_f_proto_7_typed_wrapper_refuses_a_wrong_type():
    refused('{"count": "four"}', llm_response_model("count", "integer", OPTIONS))


def test_f_proto_7_root_object_value_is_a_plain_mapping():
    output = value_of('{"a": 1}', {"type": "object", "properties": {"a": "int"}})
    assert type(output) is dict


# -- F-SCHEMA-1 / F-SCHEMA-2: definitions and type names --------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("string", "string"),
        ("text", "string"),
        ("str", "string"),
        ("integer", "integer"),
        ("int", "integer"),
        ("number", "number"),
        ("float", "number"),
        ("boolean", "boolean"),
        ("bool", "boolean"),
        ("list", "array"),
        ("array", "array"),
        ("dict", "object"),
        ("object", "object"),
    ],
)
def test_f_schema_2_type_names_and_aliases(name, kind):
    assert field_schema(name)["type"] == kind


@pytest.mark.parametrize("name", ["STRING", "Int", "Float", "BOOL", "List", "Object"])
def test_f_schema_2_type_names_are_case_insensitive(name):
    assert field_schema(name)["type"] == field_schema(name.lower())["type"]


@pytest.mark.parametrize("definition", ["banana", "any", "ANY", {}, {"type": None}, {"x": 1}])
def test_f_schema_2_unknown_or_missing_type_is_any(definition):
    assert field_schema(definition) == {}


@pytest.mark.parametrize("text", ['"s"', "1", "[1]", '{"a": 1}', "null", "true"])
def test_f_schema_2_any_accepts_every_json_value(text):
    assert value_of(text, "mystery") == json.loads(text)


def test_f_schema_1_mapping_form_equals_string_form():
    assert field_schema({"type": "integer"}) == field_schema("integer")


def test_f_schema_2_dict_without_properties_accepts_any_mapping():
    assert value_of('{"free": [1, 2]}', "dict") == {"free": [1, 2]}


def test_f_schema_2_dict_refuses_a_non_mapping():
    refused("[1]", root("dict"))


# -- F-SCHEMA-5: nested objects ---------------------------------------------------------------


PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "Full name"},
        "age": {"type": "integer", "required": False},
        "role": {"type": "string", "default": "member"},
        "email": "string",
    },
}


def test_f_schema_5_property_required_by_default():
    refused('{"email": "a@b"}', root(PERSON))


def test_f_schema_5_property_shorthand_string_is_required():
    refused('{"name": "Ada"}', root(PERSON))


def test_f_schema_5_required_false_makes_it_optional_stored_as_null():
    output = value_of('{"name": "Ada", "email": "a@b"}', PERSON)
    assert "age" in output and output["age"] is None


def test_f_schema_5_default_makes_it_optional_stored_as_default():
    assert value_of('{"name": "Ada", "email": "a@b"}', PERSON)["role"] == "member"


def test_f_schema_5_given_value_wins_over_default():
    output = value_of('{"name": "Ada", "email": "a@b", "role": "admin", "age": 3}', PERSON)
    assert (output["role"], output["age"]) == ("admin", 3)


def test_f_schema_5_optional_property_accepts_null():
    assert value_of('{"name": "Ada", "email": "a@b", "age": null}', PERSON)["age"] is None


def test_f_schema_5_optional_property_still_typed():
    refused('{"name": "Ada", "email": "a@b", "age": "old"}', root(PERSON))


def test_f_schema_5_extra_keys_kept():
    output = value_of('{"name": "Ada", "email": "a@b", "title": "Countess"}', PERSON)
    assert output["title"] == "Countess"


def test_f_schema_5_description_annotates_the_property():
    schema = field_schema(PERSON)
    assert schema["properties"]["name"]["description"] == "Full name"


def test_f_schema_5_required_list_in_schema():
    assert sorted(field_schema(PERSON)["required"]) == ["email", "name"]


def test_f_schema_5_nested_objects_recurse():
    definition = {
        "type": "object",
        "properties": {
            "inner": {"type": "object", "properties": {"n": "int", "note": {"required": False}}}
        },
    }
    assert value_of('{"inner": {"n": "2"}}', definition) == {"inner": {"n": 2, "note": None}}


# -- F-SCHEMA-6: lists ---------------------------------------------------------------------


def test_f_schema_6_items_as_type_name():
    assert field_schema({"type": "list", "items": "string"})["items"] == {"type": "string"}


def test_f_schema_6_items_type_enforced():
    refused('["a", "b"]', root({"type": "list", "items": "int"}))


def test_f_schema_6_items_as_mapping_with_properties():
    definition = {
        "type": "list",
        "items": {
            "type": "object",
            "properties": {"sku": "string", "qty": {"type": "integer", "required": False}},
        },
    }
    assert value_of('[{"sku": "A"}, {"sku": "B", "qty": "2"}]', definition) == [
        {"sku": "A", "qty": None},
        {"sku": "B", "qty": 2},
    ]


def test_f_schema_6_items_mapping_required_property_enforced():
    definition = {"type": "list", "items": {"type": "object", "properties": {"sku": "string"}}}
    refused('[{"qty": 1}]', root(definition))


def test_f_schema_6_without_items_any_list_accepted():
    assert value_of('[1, "a", null, {"b": []}]', "list") == [1, "a", None, {"b": []}]


def test_f_schema_6_list_refuses_a_non_list():
    refused('"a"', root("list"))


# -- F-SIG-7: selected_signals --------------------------------------------------------------


def test_f_sig_7_selected_signals_limited_to_the_options():
    model = llm_response_model(None, None, OPTIONS)
    assert model.schema["properties"]["selected_signals"]["items"]["enum"] == [
        "URGENT",
        "ROUTINE",
    ]


def test_f_sig_7_value_outside_the_options_refused():
    refused(
        '{"output": "x", "selected_signals": ["URGENT", "OTHER"]}',
        (llm_response_model(None, None, OPTIONS)),
    )


def test_f_sig_7_selected_signals_read_in_the_models_order():
    model = llm_response_model(None, None, OPTIONS)
    answer = read_answer('{"output": "x", "selected_signals": ["ROUTINE", "URGENT"]}', model)
    assert answer.selected_signals == ["ROUTINE", "URGENT"]


def test_f_sig_7_missing_selected_signals_defaults_to_empty():
    model = llm_response_model(None, None, OPTIONS)
    assert read_answer('{"output": "x"}', model).selected_signals == []


def test_f_sig_7_selected_signals_must_be_a_list():
    refused(
        '{"output": "x", "selected_signals": "URGENT"}', llm_response_model(None, None, OPTIONS)
    )


def test_f_sig_7_description_lists_options_with_and_without_text():
    description = selection_schema([("A", "when a"), ("B", "")])["description"]
    lines = description.split("\n")
    assert lines[-2:] == ["- A: when a", "- B"]
    assert "select" in lines[0].lower()


def test_f_sig_7_no_options_means_no_selected_signals_field():
    assert "selected_signals" not in llm_response_model("summary").schema["properties"]


def test_f_proto_5_pydantic_refuses_what_we_refuse():
    """Checked against Pydantic 2.14: no exponent for integers, no padded booleans."""
    integer = llm_response_model("n", "integer")
    boolean = llm_response_model("b", "boolean")
    for text, model in (('"1e3"', integer), ('" true "', boolean)):
        with pytest.raises(InvalidAnswer):
            read_answer(text, model)
    assert read_answer('"1_000"', integer).output == 1000
    assert read_answer('" 42 "', integer).output == 42


def test_f_proto_4_a_number_too_long_for_python_is_an_invalid_answer_not_a_crash():
    with pytest.raises(InvalidAnswer):
        read_answer("9" * 5000, llm_response_model("n", "integer"))
