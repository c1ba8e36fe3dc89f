"""What continue-as-new carries (the engine's state, waiting agents included) comes back
intact through Temporal's JSON converter: an agent waiting at any stage resumes where it
was (F-AGENT-4..8 across runs)."""

import dataclasses
import json

from temporalio.converter import value_to_type

from soe_temporal.engine import Execution, ExecutionState, ToolOutcome

from .engine.test_agent import (
    TOOLS,
    _instructions,
    add_fails,
    agent_node,
    begin,
    broadcasts,
    decide,
    document,
    facts_of,
    failure,
    only,
    reply,
    tool_result,
)


def _round_trip(execution: Execution) -> Execution:
    data = json.loads(json.dumps(dataclasses.asdict(execution.state_to_carry_over())))
    resumed = Execution(value_to_type(ExecutionState, data))
    resumed.learn_tools(facts_of(TOOLS))
    return resumed


def test_running_agent_survives_round_trip_at_a_router_call():
    execution, commands = begin(agent_node(retries=2, output_field="answer"))
    router = add_fails(execution, only(commands), error="boom")
    resumed = _round_trip(execution)
    assert resumed.resume_commands() == [router]
    response = decide(resumed, router, "finish")
    assert document(response)["conversation_history"] == (
        "[Tool Error: add]\nError executing add: boom"
    )
    assert reply(resumed, response, '{"answer": "42"}') == []
    assert resumed.context["answer"] == ["42"]
    assert resumed.state.failures == []


def test_running_agent_survives_round_trip_at_a_tool_call():
    execution, commands = begin(agent_node(output_field="answer"))
    parameters = decide(execution, only(commands), "call_tool", "add")
    tool = only(reply(execution, parameters, '{"a": 40, "b": 2}'))
    resumed = _round_trip(execution)
    assert resumed.resume_commands() == [tool]
    router = tool_result(resumed, tool, ToolOutcome("ok", result=42))
    assert document(router)["conversation_history"] == "[Tool: add]\n42"
    assert "succeeded" in _instructions(router).lower()


def test_running_agent_round_trip_keeps_the_budget_spent():
    execution, commands = begin(agent_node(retries=2))
    router = add_fails(execution, only(commands), error="first")
    resumed = _round_trip(execution)
    assert add_fails(resumed, router, error="second") is None
    assert failure(resumed).error == (
        "Agent execution exceeded max retries (2). Last error: Error executing add: second"
    )


def test_running_agent_round_trip_at_response_keeps_emission_plan():
    emissions = [
        {"signal_name": "DONE"},
        {"signal_name": "BAD", "condition": "The answer is bad"},
    ]
    execution, commands = begin(agent_node(event_emissions=emissions))
    response = decide(execution, only(commands), "finish")
    resumed = _round_trip(execution)
    assert resumed.resume_commands() == [response]
    resumed.take_events()
    reply(resumed, response, '{"output": "x", "selected_signals": ["BAD"]}')
    assert broadcasts(resumed) == [["DONE", "BAD"]]


# == F-AGENT-8 details: null output, snapshot, schema warning; F-HIST-2 on failure ========
