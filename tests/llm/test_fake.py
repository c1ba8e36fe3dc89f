"""The offline fake provider: a valid instance of every response model (F-PROTO-7), with
strings that say they come from a fake and hold no brackets (so Q-18 never cuts them)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from soe_temporal.engine import Execution
from soe_temporal.engine.commands import LlmOutcome
from soe_temporal.llm.protocol import assemble_prompt, input_document
from soe_temporal.llm.providers.fake import FakeProvider, fake_answer
from soe_temporal.llm.response import llm_response_model, read_answer
from soe_temporal.llm.usage import TokenUsage

OPTIONS = [("URGENT", "An outage"), ("ROUTINE", "Anything else")]
BRACKETY_TASK = "Summarise {{ this }} [ticket] {x: [1, 2]} now"

PERSON = {
    "type": "object",
    "properties": {
        "name": "string",
        "age": {"type": "integer", "required": False},
        "tags": {"type": "list", "items": "string"},
        "address": {"type": "object", "properties": {"city": "str", "zip": "int"}},
    },
}

MODELS = {
    "output": (None, None, None),
    "output+selection": (None, None, OPTIONS),
    "untyped": ("summary", None, None),
    "untyped+selection": ("summary", None, OPTIONS),
    "string": ("out", "string", None),
    "integer": ("out", "integer", None),
    "number": ("out", "number", None),
    "boolean": ("out", "boolean", None),
    "list": ("out", "list", None),
    "list of int": ("out", {"type": "list", "items": "int"}, None),
    "list of objects": ("out", {"type": "list", "items": PERSON}, None),
    "dict": ("out", "dict", None),
    "object": ("out", PERSON, None),
    "unknown type": ("out", "mystery", None),
    "typed+selection": ("out", PERSON, OPTIONS),
    "integer+selection": ("out", "integer", OPTIONS),
}


def prompt_for(model, task: str = "Say hi") -> str:
    document = input_document(prompt=task, context="", conversation_history="")
    return assemble_prompt(document, model.schema)


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in strings_in(item)]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings_in(item)]
    return []


@pytest.mark.parametrize("kind", list(MODELS))
def test_fake_answers_every_response_model_with_a_valid_instance(kind):
    model = llm_response_model(*MODELS[kind])
    answer = read_answer(fake_answer(prompt_for(model)), model)
    assert answer.selected_signals == [] or set(answer.selected_signals) <= {"URGENT", "ROUTINE"}


@pytest.mark.parametrize("kind", ["output", "untyped", "string", "unknown type"])
def test_fake_strings_say_they_come_from_a_fake(kind):
    model = llm_response_model(*MODELS[kind])
    output = read_answer(fake_answer(prompt_for(model)), model).output
    assert isinstance(output, str)
    assert "fake" in output.lower()


def test_fake_nested_strings_say_they_come_from_a_fake():
    model = llm_response_model(*MODELS["object"])
    output = read_answer(fake_answer(prompt_for(model)), model).output
    assert strings_in(output)
    assert all("fake" in text.lower() for text in strings_in(output))


@pytest.mark.parametrize("kind", list(MODELS))
def test_fake_strings_contain_no_brackets(kind):
    model = llm_response_model(*MODELS[kind])
    value = json.loads(fake_answer(prompt_for(model, BRACKETY_TASK)))
    for text in strings_in(value):
        assert not set(text) & set("{}[]"), text


def test_fake_bare_string_answer_survives_extraction_despite_brackets_in_the_task():
    model = llm_response_model("out", "string")
    output = read_answer(fake_answer(prompt_for(model, BRACKETY_TASK)), model).output
    assert output.startswith("fake")
    assert "Summarise" in output


def test_fake_selection_picks_only_declared_signals():
    model = llm_response_model(None, None, OPTIONS)
    answer = read_answer(fake_answer(prompt_for(model)), model)
    assert set(answer.selected_signals) <= {"URGENT", "ROUTINE"}


def test_fake_answer_without_an_soe_prompt_is_still_json_with_a_fake_output():
    value = json.loads(fake_answer("just some text"))
    assert "fake" in value["output"].lower()


async def test_fake_provider_complete_answers_like_fake_answer():
    model = llm_response_model("count", "integer")
    prompt = prompt_for(model)
    answer = await FakeProvider().complete(prompt, {"name": "L"}, None)
    assert answer.text == fake_answer(prompt)
    assert read_answer(answer.text, model).output == 1


async def test_the_fake_provider_reports_an_estimate_marked_as_such():
    answer = await FakeProvider().complete("p" * 40, {"name": "L"}, "s" * 8)
    completion = -(-len(answer.text) // 4)  # about four characters a token, rounded up
    assert answer.usage == TokenUsage(12, completion, 12 + completion, "fake", estimated=True)


def test_fake_answers_the_engines_prompts_end_to_end():
    """Prompts as the engine builds them (F-PROTO-1/2) are answered validly first time."""
    nodes = {
        "Typed": {
            "node_type": "llm",
            "event_triggers": ["GO"],
            "prompt": "Describe {{ context.who }} [fully]",
            "output_field": "person",
            "event_emissions": [{"signal_name": "DONE"}, {"signal_name": "PICK", "condition": "x"}],
        },
        "Plain": {"node_type": "llm", "event_triggers": ["GO"], "prompt": "Say {hi}"},
    }
    execution = Execution.start(
        "exec-1", "wf", {"wf": nodes}, {"who": "Ada"}, ["GO"], context_schema={"person": PERSON}
    )
    calls = execution.process_pending()
    assert len(calls) == 2
    for call in calls:
        execution.complete_call(call.call_id, LlmOutcome("ok", text=fake_answer(call.prompt)))
    execution.process_pending()
    assert execution.state.failures == []
    assert execution.context["person"][0]["name"].startswith("fake")
    assert "DONE" in execution.context["__operational__"]["signals"]


def _router_prompt(tools: str, history: str) -> str:
    document = input_document(
        instructions="decide",
        task_description="task",
        context="{}",
        available_tools=tools,
        conversation_history=history,
    )
    return assemble_prompt(document, {"type": "object"})


def test_fake_agent_calls_each_listed_tool_once_in_order_then_finishes():
    tools = "search(query: str)\n  Find.\n\ncount(text: str)\n  Count."
    decisions = [
        json.loads(fake_answer(_router_prompt(tools, history)))
        for history in ("", "[Tool: search]\nfound", "[Tool: search]\nx\n\n[Tool Error: count]\ny")
    ]
    assert decisions == [
        {"action": "call_tool", "tool_name": "search"},
        {"action": "call_tool", "tool_name": "count"},
        {"action": "finish", "tool_name": None},
    ]


def test_fake_agent_takes_a_tools_arguments_from_the_task():
    task = 'Do it.\nsoe_inject_node: {"workflow_name": "main", "node_name": "N"}\nThen finish.'
    document = input_document(
        task_description=task, context="{}", tool_name="soe_inject_node", conversation_history=""
    )
    schema = {"type": "object", "properties": {"workflow_name": {"type": "string"}}}
    answer = json.loads(fake_answer(assemble_prompt(document, schema)))
    assert answer == {"workflow_name": "main", "node_name": "N"}


def test_fake_agent_without_arguments_in_the_task_makes_them_up_from_the_schema():
    document = input_document(
        task_description="Do it.", context="{}", tool_name="count", conversation_history=""
    )
    schema = {"type": "object", "properties": {"text": {"type": "string"}}}
    answer = json.loads(fake_answer(assemble_prompt(document, schema)))
    assert answer["text"].startswith("fake LLM answer to:")
