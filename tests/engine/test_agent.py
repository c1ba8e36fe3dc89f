"""Agent nodes on the pure engine (SOE_SPEC §14, F-AGENT-1..12), with F-HIST-5, F-SIG-6/7
(DESIGN decision D-4 at finish), F-OPS-4/5/6, Q-11, Q-13 (fixed: every failed model call of
an agent takes the failure path), Q-19 (iteration cap, ``retries: 0``) and Q-37.

The engine is driven by hand: each command it returns is answered with a scripted model
reply or tool outcome. Stages are told apart by the keys of the input document.

Tool functions below deliberately keep real (non-string) annotations: no
``from __future__ import annotations`` in this module.
"""

import json
from typing import Any, Optional

from soe_temporal.engine import EngineSettings, Execution, ToolOutcome
from soe_temporal.engine.commands import CallLlm, CallTool, LlmOutcome
from soe_temporal.engine.signatures import describe_function
from soe_temporal.engine.state import ToolFacts
from soe_temporal.llm.protocol import FORMAT_LEAD

from .helpers import taken_events

ROUTER_KEYS = [
    "instructions",
    "task_description",
    "context",
    "available_tools",
    "conversation_history",
]
PARAMETER_KEYS = ["task_description", "context", "tool_name", "conversation_history"]
RESPONSE_KEYS = ["task_description", "context", "conversation_history"]

NOT_JSON = "I cannot answer that in JSON."


# -- tools ------------------------------------------------------------------------------


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def mul(a: int, b: int) -> int:
    """Multiply two numbers."""
    return a * b


def echo(text, times=2):
    return text * times


def maybe(note: Optional[str] = None) -> str:  # noqa: UP045 - the string form is under test
    """Maybe a note."""
    return str(note)


def _dup(version: int):
    def dup(value: int) -> int:
        return value + version

    dup.__doc__ = f"Version {version}."
    return dup


TOOLS: dict[str, Any] = {"add_tool": add}


def facts_of(tools: dict[str, Any]) -> dict[str, ToolFacts]:
    """What a worker holding ``tools`` reports to the engine (for the plain annotations
    these tools use, the engine's describer gives the worker's Pydantic schema)."""
    facts = {}
    for key, spec in tools.items():
        entry = spec if isinstance(spec, dict) else {"function": spec}
        described = describe_function(entry["function"])
        facts[key] = ToolFacts(
            bool(entry.get("process_accumulated", False)),
            described.function_name,
            described.signature,
            described.arguments_schema,
        )
    return facts


# -- driving the engine -----------------------------------------------------------------


def agent_node(**config: Any) -> dict[str, Any]:
    return {
        "node_type": "agent",
        "event_triggers": ["GO"],
        "prompt": "Add 2 to {{ context.x }}",
        "tools": ["add"],
        **config,
    }


def begin(
    node: dict[str, Any] | None = None,
    tools: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    **kwargs: Any,
) -> tuple[Execution, list[Any]]:
    """Start workflow ``wf`` with agent ``A``; returns the execution and its first commands."""
    execution = Execution.start(
        "e1",
        "wf",
        {"wf": {"A": node if node is not None else agent_node()}},
        {"x": 40} if context is None else context,
        ["GO"],
        **kwargs,
    )
    execution.learn_tools(facts_of(TOOLS if tools is None else tools))
    if history is not None:
        execution.append_conversation(history)
    return execution, execution.process_pending()


def only(commands: list[Any]) -> Any:
    assert len(commands) == 1, commands
    return commands[0]


def reply(execution: Execution, call: CallLlm, text: str) -> list[Any]:
    commands = list(execution.complete_call(call.call_id, LlmOutcome("ok", text=text)))
    commands.extend(execution.process_pending())
    return commands


def model_error(execution: Execution, call: CallLlm, error: str = "model down") -> list[Any]:
    commands = list(execution.complete_call(call.call_id, LlmOutcome("failed", error=error)))
    commands.extend(execution.process_pending())
    return commands


def decide(execution: Execution, call: CallLlm, action: str, tool: str | None = None) -> Any:
    """Answer a router call; returns the single next command (or None when there is none)."""
    assert stage(call) == "router"
    commands = reply(execution, call, json.dumps({"action": action, "tool_name": tool}))
    return only(commands) if commands else None


def tool_result(execution: Execution, call: CallTool, outcome: ToolOutcome) -> Any:
    commands = list(execution.complete_call(call.call_id, outcome))
    commands.extend(execution.process_pending())
    return only(commands) if commands else None


def call_add(execution: Execution, router: CallLlm, result: Any = 42) -> CallLlm:
    """Router -> add, parameters {a: 40, b: 2}, the tool returns ``result``; the next router
    call is returned."""
    parameters = decide(execution, router, "call_tool", "add")
    tool = only(reply(execution, parameters, '{"a": 40, "b": 2}'))
    assert isinstance(tool, CallTool)
    return tool_result(execution, tool, ToolOutcome("ok", result=result))


def add_fails(execution: Execution, router: CallLlm, error: str = "boom") -> Any:
    """Router -> add, parameters given, the tool raises ``error`` (no registry retries)."""
    parameters = decide(execution, router, "call_tool", "add")
    tool = only(reply(execution, parameters, '{"a": 40, "b": 2}'))
    return tool_result(execution, tool, ToolOutcome("failed", error=error))


def document(call: CallLlm) -> dict[str, Any]:
    """F-PROTO-1: the input document is the prompt's first line."""
    return json.loads(call.prompt.splitlines()[0])


def stage(call: CallLlm) -> str:
    keys = list(document(call))
    if "available_tools" in keys:
        return "router"
    if "tool_name" in keys:
        return "parameters"
    return "response"


def response_schema(call: CallLlm) -> dict[str, Any]:
    lines = call.prompt.splitlines()
    return json.loads(lines[lines.index(FORMAT_LEAD) + 1])


def ops(execution: Execution) -> dict[str, Any]:
    return execution.context["__operational__"]


def events_of(events: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    return [event for event in events if event["event_type"] == event_type]


def broadcasts(execution: Execution) -> list[list[str]]:
    return [e["signals"] for e in events_of(taken_events(execution), "signals_broadcast")]


def failure(execution: Execution) -> Any:
    [failed] = execution.state.failures
    return failed


# == F-AGENT-1 / F-PROTO-1: stage documents ==============================================


def test_f_agent_5_router_document_keys_in_order():
    _, commands = begin()
    router = only(commands)
    assert list(document(router)) == ROUTER_KEYS


def test_f_agent_7_parameter_document_keys_in_order_and_tool_name():
    execution, commands = begin()
    parameters = decide(execution, only(commands), "call_tool", "add")
    assert list(document(parameters)) == PARAMETER_KEYS
    assert document(parameters)["tool_name"] == "add"


def test_f_agent_8_response_document_keys_in_order():
    execution, commands = begin()
    response = decide(execution, only(commands), "finish")
    assert list(document(response)) == RESPONSE_KEYS


def test_f_agent_4_task_description_rendered_and_context_json():
    _, commands = begin()
    doc = document(only(commands))
    assert doc["task_description"] == "Add 2 to 40"
    assert json.loads(doc["context"]) == {"x": 40}


def test_f_agent_4_context_is_empty_object_when_prompt_references_nothing():
    _, commands = begin(agent_node(prompt="Say hi"))
    assert document(only(commands))["context"] == "{}"


def test_f_agent_5_router_response_model_is_action_and_optional_tool_name():
    _, commands = begin()
    schema = response_schema(only(commands))
    assert schema["required"] == ["action"]
    assert set(schema["properties"]["action"]["enum"]) == {"call_tool", "finish"}
    assert "tool_name" in schema["properties"]


def test_f_agent_5_invalid_action_is_retried_with_feedback():
    execution, commands = begin()
    router = only(commands)
    retry = only(reply(execution, router, '{"action": "dance"}'))
    assert stage(retry) == "router"
    assert retry.attempt == 2
    assert retry.prompt.startswith(router.prompt)
    assert '{"action": "dance"}' in retry.prompt


def test_f_proto_8_every_stage_gets_node_config_and_name():
    node = agent_node()
    execution, commands = begin(node)
    router = only(commands)
    parameters = decide(execution, router, "call_tool", "add")
    tool = only(reply(execution, parameters, '{"a": 1, "b": 2}'))
    router2 = tool_result(execution, tool, ToolOutcome("ok", result=3))
    response = decide(execution, router2, "finish")
    expected = {**node, "name": "A"}
    assert [c.config for c in (router, parameters, router2, response)] == [expected] * 4


# == F-AGENT-5: instructions per execution state ==========================================


def _instructions(call: CallLlm) -> str:
    return document(call)["instructions"]


def test_f_agent_5_initial_state_instructions():
    _, commands = begin()
    text = _instructions(only(commands)).lower()
    assert "call_tool" in text and "finish" in text
    assert "succeeded" not in text
    assert "failed" not in text
    assert "system error" not in text


def test_f_agent_5_tool_response_state_after_a_successful_call():
    execution, commands = begin()
    router2 = call_add(execution, only(commands))
    text = _instructions(router2).lower()
    assert "succeeded" in text
    assert "failed" not in text


def test_f_agent_5_tool_error_state_after_a_failed_call():
    execution, commands = begin()
    router2 = add_fails(execution, only(commands))
    text = _instructions(router2).lower()
    assert "failed" in text
    assert "succeeded" not in text


def test_f_agent_5_retry_state_after_an_unknown_tool():
    execution, commands = begin()
    router2 = decide(execution, only(commands), "call_tool", "nope")
    text = _instructions(router2).lower()
    assert "system error" in text
    assert "succeeded" not in text


def test_f_agent_5_every_state_shares_the_first_line():
    execution, commands = begin(agent_node(retries=5))
    initial = only(commands)
    after_tool = call_add(execution, initial)
    after_error = add_fails(execution, after_tool)
    after_unknown = decide(execution, after_error, "call_tool", "nope")
    first_lines = {
        _instructions(c).splitlines()[0] for c in (initial, after_tool, after_error, after_unknown)
    }
    assert len(first_lines) == 1
    assert len({_instructions(c) for c in (initial, after_tool, after_error, after_unknown)}) == 4


def test_f_agent_5_persisted_assistant_entry_means_initial_state():
    history = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    _, commands = begin(agent_node(identity="helper"), history=history)
    text = _instructions(only(commands)).lower()
    assert "succeeded" not in text and "failed" not in text and "system error" not in text


def test_f_agent_5_persisted_tool_entry_sets_tool_response_state():
    history = [{"role": "tool", "tool_name": "add", "content": "42"}]
    _, commands = begin(agent_node(identity="helper"), history=history)
    assert "succeeded" in _instructions(only(commands)).lower()


# == F-AGENT-3: signature text ============================================================


def test_f_agent_3_signature_text_with_annotations_and_docstring():
    _, commands = begin()
    assert document(only(commands))["available_tools"] == (
        "add(a: <class 'int'>, b: <class 'int'>)\n  Add two numbers."
    )


def test_f_agent_3_missing_annotation_shows_any_and_no_docstring_no_description():
    _, commands = begin(agent_node(tools=["echo"]), tools={"echo": echo})
    assert document(only(commands))["available_tools"] == (
        "echo(text: Any, times: Any)\n  No description"
    )


def test_f_agent_3_typing_annotation_uses_its_string_form():
    _, commands = begin(agent_node(tools=["maybe"]), tools={"maybe": maybe})
    assert document(only(commands))["available_tools"] == (
        "maybe(note: typing.Optional[str])\n  Maybe a note."
    )


def test_f_agent_3_signatures_joined_by_blank_line_in_tools_order():
    _, commands = begin(agent_node(tools=["mul", "add"]), tools={"add_tool": add, "mul_tool": mul})
    assert document(only(commands))["available_tools"] == (
        "mul(a: <class 'int'>, b: <class 'int'>)\n  Multiply two numbers."
        "\n\n"
        "add(a: <class 'int'>, b: <class 'int'>)\n  Add two numbers."
    )


def test_f_agent_4_no_tools_advertises_empty_text():
    _, commands = begin(agent_node(tools=[]))
    assert document(only(commands))["available_tools"] == ""


def test_f_agent_4_tools_loaded_event():
    execution, _ = begin(agent_node(tools=["add"]), tools={"add_tool": add, "mul_tool": mul})
    [loaded] = events_of(taken_events(execution), "agent_tools_loaded")
    assert loaded["node_name"] == "A"
    assert loaded["agent_tools"] == ["add"]
    assert set(loaded["registry_tools"]) == {"add", "mul"}


# == F-AGENT-2 / Q-11 / F-AGENT-11: the agent registry ====================================


def test_f_agent_2_tool_called_by_function_name_runs_registry_key():
    execution, commands = begin()
    parameters = decide(execution, only(commands), "call_tool", "add")
    tool = only(reply(execution, parameters, '{"a": 40, "b": 2}'))
    assert isinstance(tool, CallTool)
    assert tool.tool_name == "add_tool"
    assert tool.parameters == {"a": 40, "b": 2}


def test_f_agent_2_registry_key_is_not_an_agent_tool_name():
    execution, commands = begin(agent_node(tools=["add_tool"]))
    assert commands == []
    assert failure(execution).error == "Tool 'add_tool' not found in registry or builtins"


def test_q_11_last_same_named_function_wins():
    tools = {"first": _dup(1), "second": _dup(2)}
    execution, commands = begin(agent_node(tools=["dup"]), tools=tools)
    router = only(commands)
    assert document(router)["available_tools"] == "dup(value: <class 'int'>)\n  Version 2."
    parameters = decide(execution, router, "call_tool", "dup")
    tool = only(reply(execution, parameters, '{"value": 1}'))
    assert tool.tool_name == "second"


def test_q_11_f_agent_11_unlisted_registry_tool_is_callable():
    execution, commands = begin(agent_node(tools=["add"]), tools={"add_tool": add, "mul_tool": mul})
    router = only(commands)
    assert "mul(" not in document(router)["available_tools"]
    parameters = decide(execution, router, "call_tool", "mul")
    tool = only(reply(execution, parameters, '{"a": 6, "b": 7}'))
    assert tool.tool_name == "mul_tool"


def test_f_agent_3_unknown_listed_tool_is_an_unhandled_failure_without_model_call():
    execution, commands = begin(agent_node(tools=["add", "ghost"]))
    assert commands == []
    failed = failure(execution)
    assert failed.error == "Tool 'ghost' not found in registry or builtins"
    assert failed.handled is False
    assert failed.node_name == "A"


# == F-AGENT-7: the tool path ============================================================


def test_f_agent_7_parameter_stage_response_model_from_signature():
    execution, commands = begin(agent_node(tools=["echo"]), tools={"echo": echo})
    parameters = decide(execution, only(commands), "call_tool", "echo")
    schema = response_schema(parameters)
    assert set(schema["properties"]) == {"text", "times"}
    assert schema["required"] == ["text"]
    assert schema["properties"]["times"]["default"] == 2


def test_f_agent_7_parameter_stage_invalid_arguments_are_retried():
    execution, commands = begin()
    parameters = decide(execution, only(commands), "call_tool", "add")
    retry = only(reply(execution, parameters, '{"a": "forty"}'))
    assert stage(retry) == "parameters"
    assert retry.attempt == 2


def convert(amount: float, rate: float, rounds: int = 1) -> float:
    """Convert an amount at a rate."""
    return amount * rate


def test_f_agent_7_arguments_are_coerced_to_the_signature_as_pydantic_does():
    """SOE builds a Pydantic model from the signature: ints for float parameters become
    floats, numeric text for an int parameter becomes an int."""
    execution, commands = begin(agent_node(tools=["convert"]), tools={"convert": convert})
    parameters = decide(execution, only(commands), "call_tool", "convert")
    tool = only(reply(execution, parameters, '{"amount": 10, "rate": -1, "rounds": "3"}'))
    assert isinstance(tool, CallTool)
    assert tool.parameters == {"amount": 10.0, "rate": -1.0, "rounds": 3}
    assert [type(tool.parameters[k]) for k in ("amount", "rate", "rounds")] == [float, float, int]


def test_f_agent_7_arguments_the_signature_refuses_get_pydantic_s_feedback():
    """A value no lax conversion fits is refused in the parameter stage, and the retry
    prompt carries the error Pydantic reports for it (F-PROTO-3)."""
    execution, commands = begin(agent_node(tools=["convert"]), tools={"convert": convert})
    parameters = decide(execution, only(commands), "call_tool", "convert")
    retry = only(reply(execution, parameters, '{"amount": "ten", "rate": 1, "rounds": 2.5}'))
    assert stage(retry) == "parameters"
    assert "  - amount: Input should be a valid number, unable to parse string as a number" in (
        retry.prompt
    )
    assert "  - rounds: Input should be a valid integer, got a number with a fractional part" in (
        retry.prompt
    )


def test_f_agent_7_parameter_schema_is_soe_s_pydantic_model_schema():
    """The model is shown the JSON Schema of SOE's ``<function>Schema`` model."""
    execution, commands = begin(agent_node(tools=["convert"]), tools={"convert": convert})
    parameters = decide(execution, only(commands), "call_tool", "convert")
    assert response_schema(parameters) == {
        "properties": {
            "amount": {"title": "Amount", "type": "number"},
            "rate": {"title": "Rate", "type": "number"},
            "rounds": {"default": 1, "title": "Rounds", "type": "integer"},
        },
        "required": ["amount", "rate"],
        "title": "convertSchema",
        "type": "object",
    }


def test_f_agent_7_unknown_tool_system_error_event_and_budget():
    execution, commands = begin(agent_node(retries=2), tools={"add_tool": add, "mul_tool": mul})
    execution.take_events()
    router2 = decide(execution, only(commands), "call_tool", "nope")
    [event] = events_of(taken_events(execution), "agent_tool_not_found")
    assert event["node_name"] == "A"
    assert event["tool_name"] == "nope"
    assert set(event["available_tools"]) == {"add", "mul"}
    assert document(router2)["conversation_history"] == (
        "[System Error]\nTool 'nope' not found or not available."
    )


def test_f_agent_6_unknown_tool_consumes_budget():
    execution, commands = begin(agent_node(retries=1))
    assert decide(execution, only(commands), "call_tool", "nope") is None
    assert failure(execution).error == (
        "Agent execution exceeded max retries (1). "
        "Last error: Tool 'nope' not found or not available."
    )


def test_f_agent_7_missing_tool_name_is_a_system_error():
    execution, commands = begin()
    router2 = decide(execution, only(commands), "call_tool", None)
    assert document(router2)["conversation_history"] == (
        "[System Error]\nTool 'None' not found or not available."
    )


def test_f_agent_7_tool_call_and_result_events():
    execution, commands = begin()
    execution.take_events()
    call_add(execution, only(commands), result=42)
    events = taken_events(execution)
    [called] = events_of(events, "agent_tool_call")
    assert (called["node_name"], called["tool_name"], called["tool_args"]) == (
        "A",
        "add",
        {"a": 40, "b": 2},
    )
    [result] = events_of(events, "agent_tool_result")
    assert (result["tool_name"], result["result_preview"], result["result_length"]) == (
        "add",
        "42",
        2,
    )


def test_f_agent_7_result_preview_truncated_at_1000_characters():
    execution, commands = begin()
    execution.take_events()
    call_add(execution, only(commands), result="x" * 1500)
    [result] = events_of(taken_events(execution), "agent_tool_result")
    assert result["result_preview"] == "x" * 1000 + "..."
    assert result["result_length"] == 1500


def test_f_agent_7_result_preview_of_exactly_1000_characters_not_truncated():
    execution, commands = begin()
    execution.take_events()
    call_add(execution, only(commands), result="y" * 1000)
    [result] = events_of(taken_events(execution), "agent_tool_result")
    assert result["result_preview"] == "y" * 1000


def test_f_agent_7_tool_result_entry_is_python_string_form():
    execution, commands = begin()
    router2 = call_add(execution, only(commands), result={"sum": 42})
    assert document(router2)["conversation_history"] == "[Tool: add]\n{'sum': 42}"


def test_f_agent_7_tool_exception_is_a_tool_error_entry():
    execution, commands = begin()
    router2 = add_fails(execution, only(commands), error="boom")
    assert document(router2)["conversation_history"] == (
        "[Tool Error: add]\nError executing add: boom"
    )


def test_f_agent_7_tool_max_retries_reruns_the_tool():
    execution, commands = begin()
    parameters = decide(execution, only(commands), "call_tool", "add")
    tool = only(reply(execution, parameters, '{"a": 40, "b": 2}'))
    rerun = tool_result(execution, tool, ToolOutcome("failed", error="flaky", max_retries=1))
    assert isinstance(rerun, CallTool)
    assert (rerun.tool_name, rerun.parameters, rerun.attempt) == ("add_tool", {"a": 40, "b": 2}, 2)
    router2 = tool_result(execution, rerun, ToolOutcome("ok", result=42, max_retries=1))
    assert document(router2)["conversation_history"] == "[Tool: add]\n42"


def test_f_agent_7_tool_failing_all_retries_is_one_tool_error():
    execution, commands = begin()
    parameters = decide(execution, only(commands), "call_tool", "add")
    tool = only(reply(execution, parameters, '{"a": 40, "b": 2}'))
    rerun = tool_result(execution, tool, ToolOutcome("failed", error="one", max_retries=1))
    router2 = tool_result(execution, rerun, ToolOutcome("failed", error="two", max_retries=1))
    assert stage(router2) == "router"
    assert document(router2)["conversation_history"] == (
        "[Tool Error: add]\nError executing add: two"
    )


def test_q_13_parameter_stage_exhaustion_is_a_tool_error_entry():
    execution, commands = begin(agent_node(retries=2))
    call = decide(execution, only(commands), "call_tool", "add")
    for _ in range(3):  # retries + 1 attempts
        assert stage(call) == "parameters"
        call = only(reply(execution, call, NOT_JSON))
    assert stage(call) == "router"
    history = document(call)["conversation_history"]
    assert history.startswith("[Tool Error: add]\nError executing add: Max retries (2) exceeded.")
    assert execution.state.failures == []


def test_q_13_parameter_stage_model_exception_is_a_tool_error_entry():
    execution, commands = begin()
    parameters = decide(execution, only(commands), "call_tool", "add")
    router2 = only(model_error(execution, parameters, "model down"))
    assert stage(router2) == "router"
    assert document(router2)["conversation_history"] == (
        "[Tool Error: add]\nError executing add: model down"
    )
    assert execution.state.failures == []


def test_q_13_parameter_stage_failure_consumes_budget():
    execution, commands = begin(agent_node(retries=1, llm_failure_signal="AGENT_FAILED"))
    parameters = decide(execution, only(commands), "call_tool", "add")
    assert model_error(execution, parameters, "model down") == []
    failed = failure(execution)
    assert failed.error == (
        "Agent execution exceeded max retries (1). Last error: Error executing add: model down"
    )
    assert failed.handled is True


# == F-AGENT-6 / F-AGENT-9: error budget and failure ======================================


def test_f_agent_6_successful_tool_calls_do_not_consume_budget():
    execution, commands = begin(agent_node(retries=1, output_field="answer"))
    router = only(commands)
    for _ in range(3):
        router = call_add(execution, router)
    response = decide(execution, router, "finish")
    assert reply(execution, response, '{"answer": "done"}') == []
    assert execution.state.failures == []
    assert execution.context["answer"] == ["done"]


def test_f_agent_9_budget_exhaustion_message_with_last_error():
    execution, commands = begin(agent_node(retries=2))
    router2 = add_fails(execution, only(commands), error="first")
    assert add_fails(execution, router2, error="second") is None
    failed = failure(execution)
    assert failed.error == (
        "Agent execution exceeded max retries (2). Last error: Error executing add: second"
    )
    assert failed.handled is False


def test_f_agent_1_without_retries_an_agent_has_soe_s_default_budget_of_three():
    execution, commands = begin(agent_node())
    router = only(commands)
    for _ in range(2):
        router = add_fails(execution, router)
    assert add_fails(execution, router) is None
    assert failure(execution).error.startswith("Agent execution exceeded max retries (3).")


def test_f_agent_9_budget_exhaustion_message_without_any_error():
    execution, commands = begin(agent_node(retries=0))
    assert commands == []
    assert failure(execution).error == "Agent execution exceeded max retries (0)."


def test_f_agent_9_budget_exhaustion_emits_llm_failure_signal():
    execution, commands = begin(agent_node(retries=1, llm_failure_signal="AGENT_FAILED"))
    execution.take_events()
    assert add_fails(execution, only(commands)) is None
    assert failure(execution).handled is True
    assert broadcasts(execution) == [["AGENT_FAILED"]]


def test_f_agent_9_node_error_event_and_errors_counter():
    execution, commands = begin(agent_node(retries=1))
    execution.take_events()
    add_fails(execution, only(commands))
    [event] = events_of(taken_events(execution), "node_error")
    assert event["node_type"] == "agent"
    assert event["error"].startswith("Agent execution exceeded max retries (1).")
    assert ops(execution)["errors"] == 1


# == Q-13 (fixed): router and response stage failures take the failure path ==============


def test_q_13_router_model_exception_without_failure_signal_is_unhandled():
    execution, commands = begin()
    assert model_error(execution, only(commands), "model down") == []
    failed = failure(execution)
    assert failed.handled is False
    assert "model down" in failed.error
    assert ops(execution)["errors"] == 1


def test_q_13_router_model_exception_emits_llm_failure_signal():
    execution, commands = begin(agent_node(llm_failure_signal="AGENT_FAILED"))
    execution.take_events()
    model_error(execution, only(commands), "model down")
    assert failure(execution).handled is True
    assert broadcasts(execution) == [["AGENT_FAILED"]]


def test_q_13_router_parse_exhaustion_without_failure_signal_is_unhandled():
    execution, commands = begin(agent_node(retries=1))
    retry = only(reply(execution, only(commands), NOT_JSON))
    assert reply(execution, retry, NOT_JSON) == []
    failed = failure(execution)
    assert failed.handled is False
    assert failed.error.startswith("Max retries (1) exceeded. Last error:")


def test_q_13_router_parse_exhaustion_emits_llm_failure_signal():
    execution, commands = begin(agent_node(retries=1, llm_failure_signal="AGENT_FAILED"))
    retry = only(reply(execution, only(commands), NOT_JSON))
    execution.take_events()
    reply(execution, retry, NOT_JSON)
    assert failure(execution).handled is True
    assert broadcasts(execution) == [["AGENT_FAILED"]]


def test_q_13_response_model_exception_without_failure_signal_is_unhandled():
    execution, commands = begin(agent_node(output_field="answer"))
    response = decide(execution, only(commands), "finish")
    assert model_error(execution, response, "model down") == []
    failed = failure(execution)
    assert failed.handled is False
    assert "model down" in failed.error
    assert "answer" not in execution.context


def test_q_13_response_model_exception_emits_llm_failure_signal():
    node = agent_node(llm_failure_signal="AGENT_FAILED", event_emissions=[{"signal_name": "DONE"}])
    execution, commands = begin(node)
    response = decide(execution, only(commands), "finish")
    execution.take_events()
    model_error(execution, response, "model down")
    assert failure(execution).handled is True
    assert broadcasts(execution) == [["AGENT_FAILED"]]


def test_q_13_response_parse_exhaustion_without_failure_signal_is_unhandled():
    execution, commands = begin(agent_node(retries=1, output_field="answer"))
    response = decide(execution, only(commands), "finish")
    retry = only(reply(execution, response, NOT_JSON))
    assert stage(retry) == "response"
    assert reply(execution, retry, NOT_JSON) == []
    failed = failure(execution)
    assert failed.handled is False
    assert failed.error.startswith("Max retries (1) exceeded. Last error:")


def test_q_13_response_parse_exhaustion_emits_llm_failure_signal():
    execution, commands = begin(agent_node(retries=1, llm_failure_signal="AGENT_FAILED"))
    response = decide(execution, only(commands), "finish")
    retry = only(reply(execution, response, NOT_JSON))
    execution.take_events()
    reply(execution, retry, NOT_JSON)
    assert failure(execution).handled is True
    assert broadcasts(execution) == [["AGENT_FAILED"]]
    assert ops(execution)["errors"] == 1


# == Q-19: iteration cap and retries: 0 ===================================================


def test_q_19_default_agent_iteration_limit_is_500():
    assert EngineSettings().agent_iteration_limit == 500


def test_q_19_iteration_cap_is_a_node_error_without_failure_signal():
    execution, commands = begin(settings=EngineSettings(agent_iteration_limit=2))
    router2 = call_add(execution, only(commands))
    assert stage(router2) == "router"
    assert call_add(execution, router2) is None  # a third decision is not asked for
    failed = failure(execution)
    assert failed.handled is False
    assert "limit" in failed.error.lower()
    assert ops(execution)["errors"] == 1


def test_q_19_iteration_cap_emits_llm_failure_signal():
    execution, commands = begin(
        agent_node(llm_failure_signal="AGENT_FAILED"),
        settings=EngineSettings(agent_iteration_limit=1),
    )
    execution.take_events()
    assert call_add(execution, only(commands)) is None
    assert failure(execution).handled is True
    assert broadcasts(execution) == [["AGENT_FAILED"]]


def test_q_19_retries_zero_fails_without_model_call():
    execution, commands = begin(agent_node(retries=0))
    assert commands == []
    assert execution.idle
    assert failure(execution).handled is False


def test_q_19_retries_zero_takes_llm_failure_signal():
    execution, commands = begin(agent_node(retries=0, llm_failure_signal="AGENT_FAILED"))
    assert commands == []
    assert failure(execution).handled is True
    assert ops(execution)["signals"] == ["GO", "AGENT_FAILED"]


# == F-AGENT-12 / F-OPS-4/5/6: counters ===================================================


def test_f_agent_12_one_llm_call_counted_per_agent_run():
    execution, commands = begin()
    router = call_add(execution, only(commands))
    router = decide(execution, router, "call_tool", "nope")
    response = decide(execution, router, "finish")
    reply(execution, response, '{"output": "42"}')
    assert ops(execution)["llm_calls"] == 1
    assert len(events_of(taken_events(execution), "llm_call")) == 1


def test_f_agent_12_llm_call_event_has_router_stage():
    execution, _ = begin()
    [event] = events_of(taken_events(execution), "llm_call")
    assert (event["node_name"], event["stage"]) == ("A", "router")


def test_f_ops_4_retries_zero_still_counts_one_llm_call():
    execution, _ = begin(agent_node(retries=0))
    assert ops(execution)["llm_calls"] == 1


def test_f_ops_5_tool_calls_counted_per_invocation_not_per_retry():
    execution, commands = begin()
    parameters = decide(execution, only(commands), "call_tool", "add")
    tool = only(reply(execution, parameters, '{"a": 40, "b": 2}'))
    assert ops(execution)["tool_calls"] == 1
    rerun = tool_result(execution, tool, ToolOutcome("failed", error="flaky", max_retries=2))
    rerun = tool_result(execution, rerun, ToolOutcome("failed", error="flaky", max_retries=2))
    router2 = tool_result(execution, rerun, ToolOutcome("ok", result=42, max_retries=2))
    assert ops(execution)["tool_calls"] == 1
    call_add(execution, router2)
    assert ops(execution)["tool_calls"] == 2


def test_f_ops_5_unknown_tool_and_failed_parameter_stage_do_not_count_tool_calls():
    execution, commands = begin(agent_node(retries=5))
    router = decide(execution, only(commands), "call_tool", "nope")
    parameters = decide(execution, router, "call_tool", "add")
    model_error(execution, parameters)
    assert ops(execution)["tool_calls"] == 0


def test_f_ops_6_tool_errors_inside_the_loop_are_not_node_errors():
    execution, commands = begin(agent_node(retries=3))
    router = add_fails(execution, only(commands))
    router = decide(execution, router, "call_tool", "nope")
    assert stage(router) == "router"
    assert ops(execution)["errors"] == 0
    assert events_of(taken_events(execution), "node_error") == []


# == F-AGENT-10: conversation text ========================================================


def test_f_agent_10_conversation_text_format():
    history = [
        {"role": "system", "content": "You help."},
        {"role": "user", "content": "question"},
        {"role": "assistant", "content": "answer"},
    ]
    execution, commands = begin(agent_node(identity="helper", retries=5), history=history)
    router = call_add(execution, only(commands), result=42)
    router = add_fails(execution, router, error="boom")
    router = decide(execution, router, "call_tool", "nope")
    assert document(router)["conversation_history"] == (
        "You help.\n\nquestion\n\nanswer\n\n"
        "[Tool: add]\n42\n\n"
        "[Tool Error: add]\nError executing add: boom\n\n"
        "[System Error]\nTool 'nope' not found or not available."
    )


def test_f_agent_10_parameter_and_response_stages_see_the_conversation():
    execution, commands = begin()
    router = call_add(execution, only(commands), result=42)
    parameters = decide(execution, router, "call_tool", "add")
    assert document(parameters)["conversation_history"] == "[Tool: add]\n42"
    tool = only(reply(execution, parameters, '{"a": 1, "b": 1}'))
    router = tool_result(execution, tool, ToolOutcome("ok", result=2))
    response = decide(execution, router, "finish")
    assert document(response)["conversation_history"] == "[Tool: add]\n42\n\n[Tool: add]\n2"


def test_f_agent_10_empty_conversation_is_empty_text():
    _, commands = begin()
    assert document(only(commands))["conversation_history"] == ""


# == F-HIST-5: agents and conversation history ============================================


def test_f_hist_2_agent_inserts_identity_system_prompt():
    execution, commands = begin(agent_node(identity="helper"), identities={"helper": "You help."})
    assert execution.state.conversation_history == [{"role": "system", "content": "You help."}]
    assert document(only(commands))["conversation_history"] == "You help."


def test_f_hist_5_entries_persisted_as_they_are_appended():
    execution, commands = begin(
        agent_node(identity="helper", retries=5), identities={"helper": "You help."}
    )
    router = call_add(execution, only(commands), result=42)
    assert execution.state.conversation_history == [
        {"role": "system", "content": "You help."},
        {"role": "tool", "tool_name": "add", "content": "42"},
    ]
    router = add_fails(execution, router, error="boom")
    decide(execution, router, "call_tool", "nope")
    assert execution.state.conversation_history[2:] == [
        {"role": "tool_error", "tool_name": "add", "content": "Error executing add: boom"},
        {"role": "system_error", "content": "Tool 'nope' not found or not available."},
    ]


def test_f_hist_5_final_answer_not_added_as_a_turn():
    execution, commands = begin(
        agent_node(identity="helper", output_field="answer"), identities={"helper": "You help."}
    )
    router = call_add(execution, only(commands), result=42)
    response = decide(execution, router, "finish")
    reply(execution, response, '{"answer": "42"}')
    roles = [entry["role"] for entry in execution.state.conversation_history]
    assert roles == ["system", "tool"]


def test_f_hist_5_agent_starts_from_the_stored_history():
    history = [{"role": "user", "content": "earlier"}, {"role": "assistant", "content": "reply"}]
    execution, commands = begin(agent_node(identity="helper"), history=history)
    router = call_add(execution, only(commands), result=42)
    assert document(router)["conversation_history"] == "earlier\n\nreply\n\n[Tool: add]\n42"
    assert execution.state.conversation_history == [
        *history,
        {"role": "tool", "tool_name": "add", "content": "42"},
    ]


def test_f_hist_5_no_persistence_without_identity():
    execution, commands = begin(agent_node(), identities={"helper": "You help."})
    router = call_add(execution, only(commands), result=42)
    add_fails(execution, router)
    assert execution.state.conversation_history == []


def test_f_hist_5_without_identity_stored_history_is_not_seen():
    history = [{"role": "user", "content": "earlier"}]
    _, commands = begin(agent_node(), history=history)
    assert document(only(commands))["conversation_history"] == ""


# == F-AGENT-8: finish path ==============================================================


def test_f_agent_8_output_saved_to_output_field():
    execution, commands = begin(agent_node(output_field="answer"))
    router = call_add(execution, only(commands))
    response = decide(execution, router, "finish")
    assert reply(execution, response, '{"answer": "The sum is 42"}') == []
    assert execution.context["answer"] == ["The sum is 42"]
    assert execution.state.failures == []


def test_f_agent_8_without_output_field_the_model_answers_output():
    execution, commands = begin()
    response = decide(execution, only(commands), "finish")
    schema = response_schema(response)
    assert schema["required"] == ["output"]
    reply(execution, response, '{"output": "done"}')
    assert set(execution.context) == {"x", "__operational__"}


def test_f_agent_8_schema_typed_response_is_a_bare_value():
    execution, commands = begin(
        agent_node(output_field="total"), context_schema={"total": "integer"}
    )
    response = decide(execution, only(commands), "finish")
    assert response_schema(response)["type"] == "integer"
    reply(execution, response, "42")
    assert execution.context["total"] == [42]


def test_d_4_finish_unconditional_emission_always_emitted_model_not_asked():
    execution, commands = begin(agent_node(event_emissions=[{"signal_name": "DONE"}]))
    response = decide(execution, only(commands), "finish")
    assert "selected_signals" not in response_schema(response)["properties"]
    execution.take_events()
    reply(execution, response, '{"output": "x"}')
    assert broadcasts(execution) == [["DONE"]]


def test_d_4_finish_single_described_emission_is_offered_to_the_model():
    emissions = [{"signal_name": "URGENT", "condition": "An outage"}]
    execution, commands = begin(agent_node(event_emissions=emissions))
    response = decide(execution, only(commands), "finish")
    selection = response_schema(response)["properties"]["selected_signals"]
    assert selection["items"]["enum"] == ["URGENT"]
    execution.take_events()
    reply(execution, response, '{"output": "x", "selected_signals": []}')
    assert broadcasts(execution) == []


def test_d_4_finish_undescribed_then_model_picks_in_one_broadcast():
    emissions = [
        {"signal_name": "GOOD", "condition": "The answer is good"},
        {"signal_name": "DONE"},
        {"signal_name": "BAD", "condition": "The answer is bad"},
    ]
    execution, commands = begin(agent_node(event_emissions=emissions))
    response = decide(execution, only(commands), "finish")
    selection = response_schema(response)["properties"]["selected_signals"]
    assert selection["items"]["enum"] == ["GOOD", "BAD"]
    execution.take_events()
    reply(execution, response, '{"output": "x", "selected_signals": ["BAD"]}')
    assert broadcasts(execution) == [["DONE", "BAD"]]


def test_f_sig_6_finish_jinja_conditions_see_the_agents_output():
    emissions = [
        {"signal_name": "BIG", "condition": "{{ context.total > 10 }}"},
        {"signal_name": "SMALL", "condition": "{{ context.total <= 10 }}"},
    ]
    execution, commands = begin(
        agent_node(output_field="total", event_emissions=emissions),
        context_schema={"total": "integer"},
    )
    response = decide(execution, only(commands), "finish")
    assert "selected_signals" not in json.dumps(response_schema(response))
    execution.take_events()
    reply(execution, response, "42")
    assert broadcasts(execution) == [["BIG"]]


def test_q_16_finish_jinja_set_emits_plain_text_entries_unconditionally():
    emissions = [
        {"signal_name": "BIG", "condition": "{{ context.total > 100 }}"},
        {"signal_name": "NOTE", "condition": "Always worth a note"},
    ]
    execution, commands = begin(
        agent_node(output_field="total", event_emissions=emissions),
        context_schema={"total": "integer"},
    )
    response = decide(execution, only(commands), "finish")
    execution.take_events()
    reply(execution, response, "42")
    assert broadcasts(execution) == [["NOTE"]]


def test_f_agent_8_finish_emission_triggers_downstream_nodes():
    downstream = {
        "node_type": "router",
        "event_triggers": ["DONE"],
        "event_emissions": [{"signal_name": "AFTER"}],
    }
    execution = Execution.start(
        "e1",
        "wf",
        {"wf": {"A": agent_node(event_emissions=[{"signal_name": "DONE"}]), "R": downstream}},
        {"x": 40},
        ["GO"],
    )
    execution.learn_tools(facts_of(TOOLS))
    response = decide(execution, only(execution.process_pending()), "finish")
    reply(execution, response, '{"output": "x"}')
    assert ops(execution)["signals"] == ["GO", "DONE", "AFTER"]
    assert execution.idle


# == Q-37: the agent's context is computed once per run ===================================


def test_q_37_task_and_context_not_refreshed_between_iterations():
    execution, commands = begin()
    router = only(commands)
    execution.write_output("x", 99)  # e.g. another node writes while the agent runs
    router2 = call_add(execution, router)
    assert document(router2)["task_description"] == "Add 2 to 40"
    assert json.loads(document(router2)["context"]) == {"x": 40}
    response = decide(execution, router2, "finish")
    assert document(response)["task_description"] == "Add 2 to 40"
    assert json.loads(document(response)["context"]) == {"x": 40}


def test_q_37_next_run_sees_the_new_context():
    execution, commands = begin()
    response = decide(execution, only(commands), "finish")
    reply(execution, response, '{"output": "x"}')
    execution.write_output("x", 99)
    execution.deliver(["GO"])
    router = only(execution.process_pending())
    assert document(router)["task_description"] == "Add 2 to 99"


# == continue-as-new: a running agent survives a state round trip =========================


def test_f_agent_8_null_output_not_stored():
    execution, commands = begin(agent_node(output_field="answer"), context={"x": 40})
    response = decide(execution, only(commands), "finish")
    assert reply(execution, response, '{"answer": null}') == []
    assert "answer" not in execution.context
    assert execution.state.failures == []


def test_f_node_2_finish_conditions_do_not_see_the_agents_own_llm_calls_increment():
    emissions = [
        {"signal_name": "UNSEEN", "condition": "{{ context.__operational__.llm_calls == 0 }}"}
    ]
    execution, commands = begin(agent_node(event_emissions=emissions))
    response = decide(execution, only(commands), "finish")
    execution.take_events()
    reply(execution, response, '{"output": "x"}')
    assert broadcasts(execution) == [["UNSEEN"]]


def test_q_34_finish_logs_schema_warning_for_output_field_without_schema_entry():
    execution, commands = begin(agent_node(output_field="answer"))
    execution.take_events()
    decide(execution, only(commands), "finish")
    [warning] = events_of(taken_events(execution), "context_warning")
    assert "answer" in warning["message"]


def test_f_hist_2_system_prompt_kept_even_when_the_agent_fails():
    execution, _ = begin(
        agent_node(identity="helper", retries=0), identities={"helper": "You help."}
    )
    assert failure(execution).error == "Agent execution exceeded max retries (0)."
    assert execution.state.conversation_history == [{"role": "system", "content": "You help."}]
