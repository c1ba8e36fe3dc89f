"""soe-ai's telemetry read back from Temporal histories (soe_temporal.soe.telemetry), on the
time-skipping server: every event an execution recorded, in order, in soe-ai's shape."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from soe_temporal import NodeFailedError
from soe_temporal.llm.providers.fake import FakeProvider
from soe_temporal.servers.binaries import test_server_path as time_skipping_server
from soe_temporal.soe.telemetry import execution_events
from soe_temporal.temporal.search_attributes import register_search_attributes
from soe_temporal.testing import SoeTestEnvironment

ROUTER = """
main:
  Route:
    node_type: router
    event_triggers: [START]
    event_emissions: [{signal_name: ROUTED}]
"""

TOOL = """
main:
  Work:
    node_type: tool
    event_triggers: [START]
    tool_name: work
    parameters: {x: 1}
    output_field: result
    event_emissions: [{signal_name: DONE}]
"""

LLM = """
main:
  Ask:
    node_type: llm
    event_triggers: [START]
    prompt: "Say hello to {{ context.name }}"
    identity: helper
    output_field: greeting
    event_emissions: [{signal_name: ANSWERED}]
"""

CHILD = """
parent:
  Spawn:
    node_type: child
    event_triggers: [START]
    child_workflow_name: child
    child_initial_signals: [GO]
    signals_to_parent: [CHILD_DONE]
child:
  Echo:
    node_type: router
    event_triggers: [GO]
    event_emissions: [{signal_name: CHILD_DONE}]
"""

LOOP = """
loop:
  Step:
    node_type: tool
    event_triggers: [START, NEXT]
    tool_name: work
    parameters: {x: 1}
    event_emissions:
      - signal_name: NEXT
        condition: "{{ context.__operational__.nodes.get('Step', 0) < context.rounds }}"
"""


def work(x: int) -> int:
    return x + 1


def broken(x: int) -> int:
    raise RuntimeError("tool down")


@pytest_asyncio.fixture(scope="module")
async def server() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=time_skipping_server()
    )
    await register_search_attributes(environment.client)
    yield environment
    await environment.shutdown()


def shapes(events: list[dict]) -> list[tuple[str, dict]]:
    return [(event["event_type"], event["context"]) for event in events]


def types(events: list[dict]) -> list[str]:
    return [event["event_type"] for event in events]


async def test_f_tel_3_4_a_router_workflow_s_events_come_back_in_order(server):
    """F-TEL-3, F-TEL-4: start, broadcast, the dispatch and the router's own record, then
    the router's emission, as soe-ai logs them."""
    async with SoeTestEnvironment(environment=server) as env:
        eid = await env.soe.orchestrate(ROUTER, "main", ["START"], {})
        events = await execution_events(env.client, eid)
    assert shapes(events) == [
        ("orchestration_start", {"workflow_name": "main"}),
        ("signals_broadcast", {"signals": ["START"]}),
        ("node_execution", {"node_name": "Route", "node_type": "router"}),
        ("node_execution", {"node_type": "router"}),
        ("signals_broadcast", {"signals": ["ROUTED"]}),
    ]


async def test_f_tel_1_each_event_has_soe_s_record_shape_and_a_utc_timestamp(server):
    """F-TEL-1: ``{event_type, timestamp, context}``; the timestamp is UTC ISO-8601 with
    microseconds, no offset, then ``Z`` (workflow time)."""
    async with SoeTestEnvironment(environment=server) as env:
        eid = await env.soe.orchestrate(ROUTER, "main", ["START"], {})
        events = await execution_events(env.client, eid)
    assert all(list(event) == ["event_type", "timestamp", "context"] for event in events)
    pattern = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
    assert all(pattern.fullmatch(event["timestamp"]) for event in events)
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)


async def test_f_tel_3_a_tool_node_logs_tool_call_with_its_max_retries(server):
    """F-TEL-3, F-TEL-4: ``node_execution(name), tool_call, signals_broadcast``."""
    registry = {"work": {"function": work, "max_retries": 2}}
    async with SoeTestEnvironment(environment=server, tools_registry=registry) as env:
        eid = await env.soe.orchestrate(TOOL, "main", ["START"], {})
        events = await execution_events(env.client, eid)
    assert shapes(events)[2:] == [
        ("node_execution", {"node_name": "Work", "node_type": "tool"}),
        ("tool_call", {"tool_name": "work", "max_retries": 2}),
        ("signals_broadcast", {"signals": ["DONE"]}),
    ]


async def test_f_tel_3_a_failing_tool_logs_a_node_error_per_retry_then_the_final_one(server):
    """F-TEL-3, F-TEL-4: ``tool_call, node_error(retry)..., node_error(final),
    signals_broadcast(failure)``."""
    registry = {"work": {"function": broken, "max_retries": 1, "failure_signal": "FAILED"}}
    async with SoeTestEnvironment(environment=server, tools_registry=registry) as env:
        eid = await env.soe.orchestrate(TOOL, "main", ["START"], {})
        events = await execution_events(env.client, eid)
    error = shapes(events)[4][1]["error"]
    assert "tool down" in error
    assert shapes(events)[2:] == [
        ("node_execution", {"node_name": "Work", "node_type": "tool"}),
        ("tool_call", {"tool_name": "work", "max_retries": 1}),
        ("node_error", {"tool_name": "work", "retry_attempt": 1, "error": error}),
        ("node_error", {"tool_name": "work", "error": error}),
        ("signals_broadcast", {"signals": ["FAILED"]}),
    ]


async def test_f_tel_4_an_llm_node_logs_its_schema_warning_then_llm_call(server):
    """F-TEL-3, F-TEL-4: ``node_execution(name), context_warning(schema), llm_call``
    (with the node's identity), then its emission."""
    async with SoeTestEnvironment(environment=server, call_llm=FakeProvider()) as env:
        eid = await env.soe.orchestrate(LLM, "main", ["START"], {"name": "Ada"})
        events = await execution_events(env.client, eid)
    assert shapes(events)[2:] == [
        ("node_execution", {"node_name": "Ask", "node_type": "llm"}),
        (
            "context_warning",
            {
                "message": "Output field 'greeting' not found in context schema",
                "output_field": "greeting",
            },
        ),
        ("llm_call", {"identity": "helper"}),
        ("signals_broadcast", {"signals": ["ANSWERED"]}),
    ]


async def test_f_tel_3_an_llm_failure_logs_node_error_with_node_type(server):
    """F-TEL-3: an LLM node's failure is ``node_error {node_type, error}``."""

    def unreachable(prompt: str, config: dict) -> str:
        raise ConnectionError("model unreachable")

    async with SoeTestEnvironment(environment=server, call_llm=unreachable) as env:
        with pytest.raises(NodeFailedError):
            await env.soe.orchestrate(LLM, "main", ["START"], {"name": "Ada"}, execution_id="x")
        events = await execution_events(env.client, "x")
    event_type, data = shapes(events)[-1]
    assert event_type == "node_error" and list(data) == ["node_type", "error"]
    assert data["node_type"] == "llm" and "model unreachable" in data["error"]


async def test_f_tel_1_a_later_broadcast_s_events_follow_the_first_ones(server):
    """F-TEL-1: a signal broadcast later to the same execution adds its events after
    those already recorded."""
    async with SoeTestEnvironment(environment=server) as env:
        eid = await env.soe.orchestrate(ROUTER, "main", ["START"], {})
        first = await execution_events(env.client, eid)
        await env.soe.broadcast_signals(eid, ["START"])
        events = await execution_events(env.client, eid)
    assert events[: len(first)] == first
    assert shapes(events[len(first) :]) == shapes(first[1:])


async def test_f_tel_1_events_of_every_run_of_a_continued_as_new_execution_are_kept(server):
    """F-TEL-1: continue-as-new starts new runs of the same execution; its events are
    those of all its runs, in order."""
    async with SoeTestEnvironment(
        environment=server, tools_registry={"work": work}, continue_as_new_after_events=20
    ) as env:
        eid = await env.soe.orchestrate(LOOP, "loop", ["START"], {"rounds": 12})
        description = await env.client.get_workflow_handle(eid).describe()
        events = await execution_events(env.client, eid)
    assert description.raw_info.first_run_id != description.run_id
    step = [
        ("signals_broadcast", {"signals": ["NEXT"]}),
        ("node_execution", {"node_name": "Step", "node_type": "tool"}),
        ("tool_call", {"tool_name": "work", "max_retries": 0}),
    ]
    assert shapes(events) == [
        ("orchestration_start", {"workflow_name": "loop"}),
        ("signals_broadcast", {"signals": ["START"]}),
        *step[1:],
        *step * 11,
    ]


async def test_f_tel_1_a_closed_execution_keeps_its_events(server):
    """F-TEL-1: closing (completing) an execution loses none of its events."""
    async with SoeTestEnvironment(environment=server) as env:
        eid = await env.soe.orchestrate(ROUTER, "main", ["START"], {})
        before = await execution_events(env.client, eid)
        await env.soe.close(eid)
        after = await execution_events(env.client, eid)
    assert after == before and len(after) == 5


async def test_f_tel_1_a_terminated_execution_keeps_its_events(server):
    """F-TEL-1: an execution terminated through Temporal keeps the events it recorded."""
    async with SoeTestEnvironment(environment=server) as env:
        eid = await env.soe.orchestrate(ROUTER, "main", ["START"], {})
        await env.client.get_workflow_handle(eid).terminate("test")
        events = await execution_events(env.client, eid)
    assert types(events) == [
        "orchestration_start",
        "signals_broadcast",
        "node_execution",
        "node_execution",
        "signals_broadcast",
    ]


async def test_an_unknown_execution_has_no_events(server):
    """F-BE-5: as soe-ai's telemetry backends, an id with no events gives ``[]``."""
    async with SoeTestEnvironment(environment=server) as env:
        assert await execution_events(env.client, "no-such-execution") == []


async def test_f_tel_4_a_child_s_events_are_under_its_own_id(server):
    """F-TEL-3, F-TEL-4: the parent logs the child node; the child logs its own stream,
    ending with its signals to the parent, under its id."""
    async with SoeTestEnvironment(environment=server) as env:
        eid = await env.soe.orchestrate(CHILD, "parent", ["START"], {})
        child_id = (await env.soe.describe(eid))["children"][0]
        parent_events = await execution_events(env.client, eid)
        child_events = await execution_events(env.client, child_id)
    assert shapes(parent_events)[2:4] == [
        ("node_execution", {"node_name": "Spawn", "node_type": "child"}),
        ("node_execution", {"node_type": "child", "child_workflow": "child", "parent_id": eid}),
    ]
    assert ("signals_broadcast", {"signals": ["CHILD_DONE"]}) in shapes(parent_events)
    assert shapes(child_events) == [
        ("orchestration_start", {"workflow_name": "child"}),
        ("signals_broadcast", {"signals": ["GO"]}),
        ("node_execution", {"node_name": "Echo", "node_type": "router"}),
        ("node_execution", {"node_type": "router"}),
        ("signals_broadcast", {"signals": ["CHILD_DONE"]}),
        ("signals_to_parent", {"signals": ["CHILD_DONE"], "parent_id": eid}),
    ]


async def test_the_events_read_back_are_those_the_worker_logged_as_it_ran(server, caplog):
    """F-TEL-1: replay records the very events the live worker logged, in its order."""
    caplog.set_level(logging.INFO, logger="temporalio.workflow")
    async with SoeTestEnvironment(environment=server) as env:
        eid = await env.soe.orchestrate(CHILD, "parent", ["START"], {})
        events = await execution_events(env.client, eid)
    logged = [
        record.soe_event.event_type
        for record in caplog.records
        if hasattr(record, "soe_event")
        and getattr(record, "temporal_workflow", {}).get("workflow_id") == eid
    ]
    assert logged and types(events) == logged


async def test_f_tel_1_a_running_execution_has_the_events_recorded_so_far(server):
    """F-TEL-1: read while a tool call is still running, the events stop where the
    execution is: the node's dispatch, not yet its tool_call."""
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(x: int) -> int:
        started.set()
        await release.wait()
        return x

    async with SoeTestEnvironment(environment=server, tools_registry={"work": slow}) as env:
        eid = await env.soe.orchestrate(TOOL, "main", ["START"], {}, wait=False)
        await started.wait()
        running = await execution_events(env.client, eid)
        release.set()
        await env.soe.wait_idle(eid)
        done = await execution_events(env.client, eid)
    assert types(running) == ["orchestration_start", "signals_broadcast", "node_execution"]
    assert types(done) == [*types(running), "tool_call", "signals_broadcast"]


async def test_payloads_kept_in_the_payload_store_are_read_from_it(server):
    """F-TEL-1: an execution whose start is too large for its history (a claim on the
    payload store) is replayed from the store's copy."""
    large = {"notes": "x" * 20_000}
    async with SoeTestEnvironment(environment=server) as env:
        eid = await env.soe.orchestrate(ROUTER, "main", ["START"], large)
        history = await env.client.get_workflow_handle(eid).fetch_history()
        events = await execution_events(env.client, eid)
    start = history.events[0].workflow_execution_started_event_attributes
    assert sum(p.ByteSize() for p in start.input.payloads) < 20_000  # a claim, not the data
    assert types(events)[-1] == "signals_broadcast" and len(events) == 5
