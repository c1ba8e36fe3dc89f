"""SOE's LLM call protocol: prompt assembly (F-PROTO-1/2), the retry feedback
(F-PROTO-3) and JSON extraction from a model's reply (F-PROTO-4, Q-18)."""

from __future__ import annotations

import json

import pytest

from soe_temporal.llm.protocol import (
    Issue,
    assemble_prompt,
    extract_json,
    input_document,
    retry_prompt,
)
from soe_temporal.llm.response import InvalidAnswer, llm_response_model, read_answer

SCHEMA = {"properties": {"output": {"type": "string"}}, "required": ["output"], "type": "object"}


def llm_document(prompt: str = "Say hi", context: str = "", history: str = "") -> str:
    return input_document(prompt=prompt, context=context, conversation_history=history)


def invalid(text: str, model) -> InvalidAnswer:
    with pytest.raises(InvalidAnswer) as caught:
        read_answer(text, model)
    return caught.value


# -- F-PROTO-1: the input document ------------------------------------------------------


def test_f_proto_1_document_keys_in_llm_node_order():
    text = llm_document("p", "c", "h")
    assert list(json.loads(text)) == ["prompt", "context", "conversation_history"]


def test_f_proto_1_document_is_compact_json():
    assert llm_document("p", "c", "h") == '{"prompt":"p","context":"c","conversation_history":"h"}'


def test_f_proto_1_document_values_are_strings_even_when_empty():
    assert json.loads(llm_document()) == {
        "prompt": "Say hi",
        "context": "",
        "conversation_history": "",
    }


def test_f_proto_1_outer_document_does_not_escape_non_ascii():
    text = llm_document(prompt="Grüße aus Zürich")
    assert "Grüße aus Zürich" in text
    assert "\\u00fc" not in text


def test_f_proto_1_inner_context_json_keeps_its_escapes():
    context = json.dumps({"city": "Zürich"}, indent=2)
    text = llm_document(context=context)
    assert json.loads(text)["context"] == context
    assert "\\u00fc" in json.loads(text)["context"]


def test_f_proto_1_document_is_one_line_even_with_newlines_in_values():
    text = llm_document(prompt="line 1\nline 2", history="[user]: a\n[assistant]: b")
    assert "\n" not in text


def test_f_proto_1_blank_line_separates_document_from_format_instructions():
    document = llm_document()
    prompt = assemble_prompt(document, SCHEMA)
    assert prompt.startswith(document + "\n\n")
    assert prompt.split("\n")[1] == ""


# -- F-PROTO-2: the three format lines --------------------------------------------------


def format_lines(prompt: str) -> list[str]:
    return prompt.split("\n\n", 1)[1].split("\n")


def test_f_proto_2_exactly_three_format_lines():
    assert len(format_lines(assemble_prompt(llm_document(), SCHEMA))) == 3


def test_f_proto_2_middle_line_is_the_schema_with_default_separators():
    lines = format_lines(assemble_prompt(llm_document(), SCHEMA))
    assert lines[1] == json.dumps(SCHEMA)
    assert ', "' in lines[1] and '": "' in lines[1]


def test_f_proto_2_first_line_asks_for_only_valid_json():
    first = format_lines(assemble_prompt(llm_document(), SCHEMA))[0]
    assert "JSON" in first and "schema" in first.lower()


def test_f_proto_2_last_line_asks_for_an_instance_not_the_schema():
    last = format_lines(assemble_prompt(llm_document(), SCHEMA))[2]
    assert "schema" in last.lower() and "instance" in last.lower()


def test_f_proto_2_same_wording_for_a_bare_scalar_schema():
    object_lines = format_lines(assemble_prompt(llm_document(), SCHEMA))
    scalar_lines = format_lines(assemble_prompt(llm_document(), {"type": "integer"}))
    assert (scalar_lines[0], scalar_lines[2]) == (object_lines[0], object_lines[2])


def test_f_proto_2_schema_with_multiline_description_stays_on_one_line():
    model = llm_response_model(None, None, [("A", "first"), ("B", "second")])
    lines = format_lines(assemble_prompt(llm_document(), model.schema))
    assert len(lines) == 3
    assert json.loads(lines[1]) == model.schema


# -- F-PROTO-3: retry feedback -------------------------------------------------------------


def test_f_proto_3_retry_prompt_keeps_the_previous_prompt_and_response():
    retried = retry_prompt("PROMPT", "bad answer", [Issue("", "Invalid JSON")])
    assert retried.startswith("PROMPT\n\n")
    assert "bad answer" in retried


def test_f_proto_3_feedback_has_one_line_per_error():
    retried = retry_prompt(
        "P", "r", [Issue("person.age", "not an integer"), Issue("name", "required")]
    )
    lines = retried.split("\n")
    assert "  - person.age: not an integer" in lines
    assert "  - name: required" in lines


def test_f_proto_3_feedback_lines_sit_between_announcement_and_json_request():
    retried = retry_prompt("P", "r", [Issue("a", "x")])
    tail = retried.split("\n")[-3:]
    assert tail[1] == "  - a: x"
    assert "valid" in tail[0].lower() or "validation" in tail[0].lower()
    assert "JSON" in tail[2]


def test_f_proto_3_whole_document_error_has_empty_location():
    model = llm_response_model(None)
    error = invalid("not json at all", model)
    assert [issue.location for issue in error.issues] == [""]
    assert retry_prompt("P", "x", error.issues).split("\n")[-2].startswith("  - : ")


def test_f_proto_3_nested_error_location_joined_with_dots():
    model = llm_response_model(
        "person", {"type": "object", "properties": {"age": "int", "name": "string"}}
    )
    error = invalid('{"age": "old", "name": "x"}', model)
    assert [issue.location for issue in error.issues] == ["age"]
    wrapped = llm_response_model(
        "person",
        {"type": "object", "properties": {"age": "int"}},
        [("A", "a")],
    )
    error = invalid('{"person": {"age": "old"}}', wrapped)
    assert [issue.location for issue in error.issues] == ["person.age"]


def test_f_proto_3_missing_field_error_names_the_field():
    model = llm_response_model("summary")
    error = invalid('{"other": 1}', model)
    assert [issue.location for issue in error.issues] == ["summary"]


def test_f_proto_3_feedback_accumulates_over_retries():
    first = retry_prompt("P", "answer one", [Issue("", "error one")])
    second = retry_prompt(first, "answer two", [Issue("", "error two")])
    assert second.startswith(first)
    for text in ("answer one", "error one", "answer two", "error two"):
        assert text in second
    assert second.index("answer one") < second.index("answer two")


# -- F-PROTO-4: JSON extraction ----------------------------------------------------------


def test_f_proto_4_think_block_removed():
    assert extract_json('<think>{"draft": 1}</think>{"final": 2}') == '{"final": 2}'


def test_f_proto_4_think_blocks_removed_non_greedily_across_lines():
    text = '<think>\nplan {a}\n</think>{"x": 1}<think>more [b]</think>'
    assert extract_json(text) == '{"x": 1}'


def test_f_proto_4_surrounding_whitespace_stripped_for_scalars():
    assert extract_json("  \n 42 \n") == "42"


def test_f_proto_4_fenced_json_block():
    assert extract_json('Here you go:\n```json\n{"a": 1}\n```\nBye') == '{"a": 1}'


def test_f_proto_4_fenced_block_without_language_tag():
    assert extract_json("```\n[1, 2]\n```") == "[1, 2]"


def test_f_proto_4_fenced_block_wins_over_an_earlier_bracket():
    assert extract_json('See {note}.\n```json\n{"a": 1}\n```') == '{"a": 1}'


def test_f_proto_4_first_balanced_object_taken_from_prose():
    text = 'Sure! {"a": {"b": 1}} and then {"c": 2}'
    assert extract_json(text) == '{"a": {"b": 1}}'


def test_f_proto_4_brackets_inside_strings_are_ignored():
    assert extract_json('x {"a": "}{", "b": 1} y') == '{"a": "}{", "b": 1}'


def test_f_proto_4_escaped_quotes_inside_strings_respected():
    text = r'{"a": "say \"}\" now"} tail'
    assert extract_json(text) == r'{"a": "say \"}\" now"}'


def test_f_proto_4_only_the_opening_bracket_type_is_counted():
    assert extract_json("{ ] } rest }") == "{ ] }"


def test_f_proto_4_first_bracket_of_either_kind_wins():
    assert extract_json('[1, 2] then {"a": 1}') == "[1, 2]"


def test_f_proto_4_unbalanced_takes_the_rest_of_the_text():
    assert extract_json('prefix {"a": [1, 2') == '{"a": [1, 2'


@pytest.mark.parametrize("scalar", ["42", '"text"', "true", "null", "3.5"])
def test_f_proto_4_bare_scalars_are_taken_whole(scalar):
    assert extract_json(scalar) == scalar


def test_q_18_bare_string_with_a_brace_is_cut_at_the_bracket():
    assert extract_json('"use {x} here"') == "{x}"


def test_q_18_bare_string_with_a_brace_fails_validation():
    model = llm_response_model("out", "string")
    invalid('"use {x} here"', model)


def test_q_18_first_bracket_wins_even_inside_prose():
    assert extract_json('I think [maybe] {"a": 1}') == "[maybe]"
