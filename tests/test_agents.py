"""Agent nodes on Temporal: every model call and tool call an activity, through a
``call_llm`` callable and through the OpenAI-compatible provider; long loops continue as
new; the seed-style example runs offline on the fake provider."""

from __future__ import annotations

import json

import pytest

from examples.tools import TOOLS
from soe_temporal import NodeFailedError
from soe_temporal.llm.providers.fake import FakeProvider
from soe_temporal.llm.providers.openai_compatible import OpenAIProvider
from soe_temporal.testing import SoeTestEnvironment

from .chat_server import Reply, chat_server
from .conftest import EXAMPLES

AGENT = """
workflows:
  solve:
    Solver:
      node_type: agent
      event_triggers: [GO]
      identity: math
      prompt: "Add {{ context.x }} and 2"
      tools: [add]
      output_field: answer
      retries: 2
      llm_failure_signal: GAVE_UP
      event_emissions: [{signal_name: SOLVED}]
context_schema:
  answer: integer
identities:
  math: "You do arithmetic with tools."
"""


def add(a: int, b: int) -> int:
    """Add two whole numbers."""
    return a + b


def stage(prompt: str) -> str:
    keys = list(json.loads(prompt.splitlines()[0]))
    return {"instructions": "router", "tool_name": "parameters"}.get(
        next((k for k in keys if k in ("instructions", "tool_name")), ""), "response"
    )


class AgentModel:
    """Plays the model by stage: a scripted list of router decisions, fixed arguments."""

    def __init__(
        self, decisions: list[str], arguments: str = '{"a": 40, "b": 2}', response: str = "42"
    ):
        self.decisions = list(decisions)
        self.arguments = arguments
        self.response = response
        self.stages: list[str] = []
        self.prompts: list[str] = []

    def __call__(self, prompt: str, config: dict) -> str:
        current = stage(prompt)
        self.stages.append(current)
        self.prompts.append(prompt)
        if current == "router":
            return self.decisions.pop(0)
        if current == "parameters":
            return self.arguments
        return self.response


CALL = '{"action": "call_tool", "tool_name": "add"}'
FINISH = '{"action": "finish"}'


async def test_f_agent_4_a_tool_call_then_an_answer_through_call_llm():
    model = AgentModel([CALL, FINISH])
    async with SoeTestEnvironment(call_llm=model, tools_registry={"add": add}) as env:
        eid = await env.soe.orchestrate(AGENT, "solve", ["GO"], {"x": 40})
        context = await env.soe.get_context(eid)
        history = await env.client.get_workflow_handle(eid).fetch_history()
    assert context["answer"] == [42]
    assert context["__operational__"]["signals"] == ["GO", "SOLVED"]
    ops = context["__operational__"]
    assert (ops["llm_calls"], ops["tool_calls"], ops["errors"]) == (1, 1, 0)
    assert model.stages == ["router", "parameters", "router", "response"]
    second_router = json.loads(model.prompts[2].splitlines()[0])
    assert "[Tool: add]\n42" in second_router["conversation_history"]
    assert "add(a: int, b: int)\n  Add two whole numbers." in second_router["available_tools"]
    activities = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert activities == ["soe.llm", "soe.llm", "soe.tool", "soe.llm", "soe.llm"]


async def test_f_agent_7_a_tool_error_is_fed_back_and_the_model_recovers():
    calls: list[int] = []

    def divide(a: int, b: int) -> float:
        """Divide a by b."""
        calls.append(b)
        return a / b

    config = AGENT.replace("tools: [add]", "tools: [divide]").replace(
        "Add {{ context.x }} and 2", "Divide {{ context.x }} by something"
    )
    model = AgentModel(
        ['{"action": "call_tool", "tool_name": "divide"}', FINISH],
        arguments='{"a": 1, "b": 0}',
        response="0",
    )
    async with SoeTestEnvironment(call_llm=model, tools_registry={"divide": divide}) as env:
        eid = await env.soe.orchestrate(config, "solve", ["GO"], {"x": 1})
        context = await env.soe.get_context(eid)
    assert calls == [0]
    second_router = json.loads(model.prompts[2].splitlines()[0])
    assert (
        "[Tool Error: divide]\nError executing divide: division by zero"
        in second_router["conversation_history"]
    )
    assert "failed" in second_router["instructions"]
    assert context["answer"] == [0]


async def test_f_agent_9_the_error_budget_runs_out_into_the_failure_signal():
    model = AgentModel(['{"action": "call_tool", "tool_name": "nope"}'] * 2)
    async with SoeTestEnvironment(call_llm=model, tools_registry={"add": add}) as env:
        eid = await env.soe.orchestrate(AGENT, "solve", ["GO"], {"x": 40})
        context = await env.soe.get_context(eid)
        described = await env.soe.describe(eid)
    assert context["__operational__"]["signals"] == ["GO", "GAVE_UP"]
    assert described["failures"][0]["error"] == (
        "Agent execution exceeded max retries (2). Last error: Tool 'nope' not found or not available."
    )


async def test_f_agent_9_an_agent_out_of_retries_raises_a_runtime_error_as_soe_does():
    """Without llm_failure_signal SOE raises RuntimeError(message); NodeFailedError is one,
    so a soe-ai caller's ``except RuntimeError`` keeps working, message included."""
    model = AgentModel(['{"action": "call_tool", "tool_name": "nope"}'] * 3)
    config = AGENT.replace("      llm_failure_signal: GAVE_UP\n", "")
    async with SoeTestEnvironment(call_llm=model, tools_registry={"add": add}) as env:
        with pytest.raises(RuntimeError, match=r"Agent execution exceeded max retries \(2\)"):
            await env.soe.orchestrate(config, "solve", ["GO"], {"x": 40})


async def test_q_13_a_router_stage_model_failure_takes_the_failure_path():
    def broken(prompt: str, config: dict) -> str:
        raise TimeoutError("model down")

    async with SoeTestEnvironment(call_llm=broken, tools_registry={"add": add}) as env:
        eid = await env.soe.orchestrate(AGENT, "solve", ["GO"], {"x": 40})
        context = await env.soe.get_context(eid)
    assert context["__operational__"]["signals"] == ["GO", "GAVE_UP"]
    assert context["__operational__"]["errors"] == 1


async def test_q_19_the_iteration_cap_fails_the_node_without_a_failure_signal():
    model = AgentModel([CALL] * 10)
    config = AGENT.replace("      llm_failure_signal: GAVE_UP\n", "")
    async with SoeTestEnvironment(
        call_llm=model, tools_registry={"add": add}, agent_iteration_limit=3
    ) as env:
        with pytest.raises(NodeFailedError, match="Agent iteration limit reached: 3"):
            await env.soe.orchestrate(config, "solve", ["GO"], {"x": 40})
    assert model.stages.count("router") == 3


async def test_the_agent_through_an_openai_compatible_server():
    replies = [
        Reply(CALL),
        Reply('{"a": 40, "b": 2}'),
        Reply(FINISH),
        Reply("42"),
    ]
    with chat_server(*replies) as server:
        provider = OpenAIProvider(default_model="m", api_key="k", base_url=server.base_url)
        async with SoeTestEnvironment(call_llm=provider, tools_registry={"add": add}) as env:
            eid = await env.soe.orchestrate(AGENT, "solve", ["GO"], {"x": 40})
            context = await env.soe.get_context(eid)
    assert context["answer"] == [42]
    assert len(server.requests) == 4
    assert all(
        r["body"]["messages"][0]["content"] == "You do arithmetic with tools."
        for r in server.requests
    )


async def test_the_research_agent_example_runs_offline_on_the_fake_provider():
    async with SoeTestEnvironment(call_llm=FakeProvider(), tools_registry=TOOLS) as env:
        eid = await env.soe.orchestrate(
            EXAMPLES / "research_agent.yaml",
            "research",
            ["START"],
            {"question": "What does Temporal record?"},
        )
        context = await env.soe.get_context(eid)
    assert context["__operational__"]["signals"] == ["START", "ANSWERED"]
    assert context["__operational__"]["tool_calls"] == 2  # each listed tool, once
    assert context["answer"][0].startswith("fake LLM answer to:")


async def _run_sizes(env: SoeTestEnvironment, execution_id: str) -> list[tuple[int, int]]:
    """(events, bytes) of every run of an execution, following continue-as-new back."""
    sizes: list[tuple[int, int]] = []
    run_id: str | None = None
    while True:
        history = await env.client.get_workflow_handle(execution_id, run_id=run_id).fetch_history()
        sizes.append((len(history.events), len(history.to_json().encode())))
        started = history.events[0].workflow_execution_started_event_attributes
        run_id = started.continued_execution_run_id or None
        if run_id is None:
            return sizes


async def test_a_200_iteration_agent_run_continues_as_new_and_keeps_histories_small(capsys):
    """Long loops must not overflow the workflow history: the run continues as new
    (here every 1,000 events) carrying the agent's loop, and completes."""
    iterations = 200
    tool_calls: list[int] = []

    def tick(n: int) -> int:
        """Count one step."""
        tool_calls.append(n)
        return n

    def call_llm(prompt: str, config: dict) -> str:
        current = stage(prompt)
        if current == "router":
            action = "call_tool" if len(tool_calls) < iterations else "finish"
            return json.dumps({"action": action, "tool_name": "tick"})
        if current == "parameters":
            return json.dumps({"n": len(tool_calls) + 1})
        return json.dumps({"answer": len(tool_calls)})

    config = """
loop:
  Counter:
    node_type: agent
    event_triggers: [GO]
    prompt: "Count to 200 with the tick tool"
    tools: [tick]
    output_field: answer
"""
    async with SoeTestEnvironment(
        call_llm=call_llm, tools_registry={"tick": tick}, continue_as_new_after_events=1000
    ) as env:
        eid = await env.soe.orchestrate(config, "loop", ["GO"], {})
        context = await env.soe.get_context(eid)
        runs = await _run_sizes(env, eid)
    assert tool_calls == list(range(1, iterations + 1))
    assert context["answer"] == [iterations]
    assert context["__operational__"]["tool_calls"] == iterations
    assert len(runs) >= 4
    assert max(events for events, _ in runs) < 1100
    assert max(size for _, size in runs) < 4 * 1024 * 1024
    with capsys.disabled():
        total_events = sum(events for events, _ in runs)
        total_bytes = sum(size for _, size in runs)
        print(
            f"\n200-iteration agent: {len(runs)} runs, {total_events} events "
            f"({max(e for e, _ in runs)} at most per run), {total_bytes / 1e6:.1f} MB of history "
            f"({max(s for _, s in runs) / 1e6:.2f} MB at most per run)"
        )


def test_f_agent_3_annotations_are_shown_as_written():
    """SOE shows each annotation's string form: a class as <class 'int'>, and, in a module
    with postponed annotations (like this one), the text as written."""
    from soe_temporal.tools.registry import describe_tool, normalize_registry

    described = describe_tool(normalize_registry({"add": add})["add"])
    assert described.signature == "add(a: int, b: int)\n  Add two whole numbers."
    assert described.arguments_schema["properties"]["a"]["type"] == "integer"


async def test_f_agent_7_an_agent_reads_any_tool_result_as_text():
    def tags() -> set:
        """Some tags."""
        return {"only"}

    config = AGENT.replace("tools: [add]", "tools: [tags]").replace(
        "answer: integer", "answer: string"
    )
    model = AgentModel(
        ['{"action": "call_tool", "tool_name": "tags"}', FINISH], arguments="{}", response='"done"'
    )
    async with SoeTestEnvironment(
        call_llm=model, tools_registry={"tags": {"function": tags, "max_retries": 2}}
    ) as env:
        eid = await env.soe.orchestrate(config, "solve", ["GO"], {"x": 1})
        context = await env.soe.get_context(eid)
    assert (
        "[Tool: tags]\n{'only'}"
        in json.loads(model.prompts[2].splitlines()[0])["conversation_history"]
    )
    assert context["__operational__"]["tool_calls"] == 1


async def test_an_agent_on_another_task_queue_still_knows_its_tools():
    config = AGENT.replace(
        "      retries: 2\n", "      retries: 2\n      temporal: {task_queue: elsewhere}\n"
    )
    model = AgentModel([CALL, FINISH])
    async with SoeTestEnvironment(call_llm=model, tools_registry={"add": add}) as env:
        from soe_temporal import create_worker

        async with create_worker(
            env.client, "elsewhere", call_llm=model, tools_registry={"add": add}
        ):
            eid = await env.soe.orchestrate(config, "solve", ["GO"], {"x": 40})
            assert (await env.soe.get_context(eid))["answer"] == [42]
