"""Per-node Temporal options: the `temporal:` block over the registry entry and the worker."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from temporalio.api.common.v1 import RetryPolicy as RetryPolicyProto
from temporalio.common import RetryPolicy

from soe_temporal import ConfigError, create_worker
from soe_temporal.temporal.activity_options import (
    DEFAULT_TOOL_OPTIONS,
    merge_options,
    parse_duration,
    plan_activity,
)
from soe_temporal.testing import SoeTestEnvironment


def echo(value: str = "x") -> str:
    return value


def _config(temporal_block: str = "") -> str:
    return f"""
work:
  Echo:
    node_type: tool
    event_triggers: [START]
    tool_name: echo
    output_field: echoed
{temporal_block}
"""


async def _events(env: SoeTestEnvironment, execution_id: str) -> list:
    history = await env.client.get_workflow_handle(execution_id).fetch_history()
    return list(history.events)


def _scheduled(events: list) -> list:
    return [
        e.activity_task_scheduled_event_attributes
        for e in events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == "soe.tool"
    ]


async def test_local_true_runs_the_tool_as_a_local_activity():
    block = "    temporal: {local: true, start_to_close_timeout: 5s}"
    async with SoeTestEnvironment(tools_registry={"echo": echo}) as env:
        eid = await env.soe.orchestrate(_config(block), "work", ["START"], {})
        assert (await env.soe.get_context(eid))["echoed"] == ["x"]
        events = await _events(env, eid)
        assert _scheduled(events) == []
        markers = [e for e in events if e.HasField("marker_recorded_event_attributes")]
        assert len(markers) == 2  # the worker's tool options, then the call itself


async def test_each_activity_shows_the_node_it_serves():
    """The activity id names the node and the input its tool; a tool call carries no
    summary (it would be written, and encoded again on every replay, for every call)."""
    async with SoeTestEnvironment(tools_registry={"echo": echo}) as env:
        eid = await env.soe.orchestrate(_config(), "work", ["START"], {})
        events = await _events(env, eid)
        scheduled = [e for e in events if e.HasField("activity_task_scheduled_event_attributes")]
        attributes = scheduled[0].activity_task_scheduled_event_attributes
        assert attributes.activity_id == "Echo/1"
        assert json.loads(attributes.input.payloads[0].data)["tool_name"] == "echo"
        assert not scheduled[0].user_metadata.HasField("summary")


async def test_node_block_overrides_registry_entry_over_worker_defaults():
    registry = {
        "echo": {
            "function": echo,
            "temporal": {"start_to_close_timeout": "7s", "heartbeat_timeout": "4s"},
        }
    }
    block = "    temporal: {start_to_close_timeout: 9, retry_policy: {maximum_attempts: 2}}"
    async with SoeTestEnvironment(
        tools_registry=registry,
        tool_defaults={"heartbeat_timeout": "3s", "schedule_to_close_timeout": "1h"},
    ) as env:
        eid = await env.soe.orchestrate(_config(block), "work", ["START"], {})
        attributes = _scheduled(await _events(env, eid))[0]
        assert attributes.start_to_close_timeout.ToTimedelta() == timedelta(seconds=9)
        assert attributes.heartbeat_timeout.ToTimedelta() == timedelta(seconds=4)
        assert attributes.schedule_to_close_timeout.ToTimedelta() == timedelta(hours=1)
        assert attributes.retry_policy.maximum_attempts == 2


async def test_task_queue_sends_the_call_to_another_worker():
    def gpu_only() -> str:
        return "ran on the gpu worker"

    config = """
work:
  Render:
    node_type: tool
    event_triggers: [START]
    tool_name: gpu_only
    output_field: rendered
    temporal: {task_queue: gpu}
"""
    async with (
        SoeTestEnvironment(tools_registry={}) as env,
        create_worker(env.client, "gpu", tools_registry={"gpu_only": gpu_only}),
    ):
        eid = await env.soe.orchestrate(config, "work", ["START"], {})
        assert (await env.soe.get_context(eid))["rendered"] == ["ran on the gpu worker"]


def test_durations_are_seconds_or_unit_strings():
    assert parse_duration(1.5) == timedelta(seconds=1.5)
    assert parse_duration("500ms") == timedelta(milliseconds=500)
    assert parse_duration("5m") == timedelta(minutes=5)
    assert parse_duration("2h") == timedelta(hours=2)
    assert parse_duration("1d") == timedelta(days=1)
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_retry_policy_merges_key_by_key():
    merged = merge_options(
        {"retry_policy": {"initial_interval": "1s", "maximum_attempts": 5}},
        {"retry_policy": {"maximum_attempts": 2}},
    )
    assert merged == {"retry_policy": {"initial_interval": "1s", "maximum_attempts": 2}}


def test_local_plans_drop_heartbeat_and_task_queue():
    plan = plan_activity({"local": True, "heartbeat_timeout": "3s", "start_to_close_timeout": "4s"})
    assert plan.local is True
    assert plan.kwargs == {"start_to_close_timeout": timedelta(seconds=4)}


def test_a_planned_retry_policy_writes_the_proto_a_retry_policy_writes():
    """A plan's retry policy is written into every call's command from one proto."""
    plan = plan_activity(DEFAULT_TOOL_OPTIONS)
    policy = plan.kwargs["retry_policy"]
    planned, plain = RetryPolicyProto(), RetryPolicyProto()
    policy.apply_to_proto(planned)
    RetryPolicy.apply_to_proto(policy, plain)
    assert planned == plain and planned.maximum_attempts == 5
    again = RetryPolicyProto()
    policy.apply_to_proto(again)
    assert again == plain


def test_an_invalid_planned_retry_policy_is_refused_when_a_call_is_scheduled():
    plan = plan_activity({"retry_policy": {"initial_interval": "2s", "maximum_interval": "1s"}})
    with pytest.raises(ValueError, match="Maximum interval"):
        plan.kwargs["retry_policy"].apply_to_proto(RetryPolicyProto())


async def test_invalid_worker_tool_defaults_are_refused_when_the_worker_is_created():
    async with SoeTestEnvironment() as env:
        with pytest.raises(ConfigError, match="tool_defaults"):
            create_worker(env.client, "x", tool_defaults={"start_to_close_timeout": "forever"})


async def test_llm_calls_take_worker_llm_defaults_under_the_node_block():
    config = """
work:
  Think:
    node_type: llm
    event_triggers: [START]
    prompt: "Think"
    temporal: {heartbeat_timeout: 9s}
"""

    def call_llm(prompt: str, config: dict) -> str:
        return '{"output": "thought"}'

    async with SoeTestEnvironment(
        call_llm=call_llm, llm_defaults={"start_to_close_timeout": "7s", "heartbeat_timeout": "3s"}
    ) as env:
        eid = await env.soe.orchestrate(config, "work", ["START"], {})
        events = await _events(env, eid)
    scheduled = [
        e.activity_task_scheduled_event_attributes
        for e in events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert scheduled[0].activity_type.name == "soe.llm"
    assert scheduled[0].start_to_close_timeout.ToTimedelta() == timedelta(seconds=7)
    assert scheduled[0].heartbeat_timeout.ToTimedelta() == timedelta(seconds=9)
    summary = json.loads(
        [e for e in events if e.HasField("activity_task_scheduled_event_attributes")][
            0
        ].user_metadata.summary.data
    )
    assert summary == "work.Think: LLM call (attempt 1)"


async def test_an_agents_llm_calls_are_summarised_with_the_stage_they_serve():
    """The Temporal UI shows which stage of an agent each model call serves."""
    from examples.tools import TOOLS
    from soe_temporal.llm.providers.fake import FakeProvider

    from .conftest import EXAMPLES

    async with SoeTestEnvironment(call_llm=FakeProvider(), tools_registry=TOOLS) as env:
        eid = await env.soe.orchestrate(
            EXAMPLES / "research_agent.yaml", "research", ["START"], {"question": "Why?"}
        )
        events = await _events(env, eid)
    summaries = [
        json.loads(e.user_metadata.summary.data)
        for e in events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == "soe.llm"
    ]
    assert summaries[0] == "research.Researcher: agent router stage, LLM call (attempt 1)"
    assert "research.Researcher: agent response stage, LLM call (attempt 1)" in summaries
