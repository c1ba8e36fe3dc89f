"""Signals under load, and request ids that make sending again harmless (F-API-2).

Each signal is delivered once: a request id an execution has taken is not applied again
(across continue-as-new too), whether it comes back by ``broadcast_signals`` or by a plain
``soe_signal`` from the temporal CLI; and hundreds of callers may wait on one execution at
once, though the server lets only about ten updates be in flight per execution.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

import pytest

from soe_temporal import NodeFailedError, SoeClient, create_worker, load_config
from soe_temporal.temporal.payloads import SIGNAL_NAME
from soe_temporal.testing import SoeTestEnvironment

from .conftest import DevServerInfo

WAITING = [{"signal_name": "WAITING"}]
COUNTED = [{"signal_name": "COUNTED"}]
COUNTER = {
    "counter": {
        "Start": {"node_type": "router", "event_triggers": ["START"], "event_emissions": WAITING},
        "Count": {"node_type": "router", "event_triggers": ["PING"], "event_emissions": COUNTED},
        "Work": {"node_type": "tool", "event_triggers": ["WORK"], "tool_name": "work"},
        # A tool the worker does not have: an unhandled node failure.
        "Bad": {"node_type": "tool", "event_triggers": ["BAD"], "tool_name": "missing"},
    }
}

calls: list[int] = []


def work() -> int:
    calls.append(1)
    return len(calls)


def counted(context: dict, node: str) -> int:
    return context["__operational__"]["nodes"].get(node, 0)


async def test_f_api_2_a_request_id_already_taken_is_not_applied_again():
    calls.clear()
    async with SoeTestEnvironment(tools_registry={"work": work}) as env:
        eid = await env.soe.orchestrate(COUNTER, "counter", ["START"], {})
        await env.soe.broadcast_signals(eid, ["WORK"], request_id="order-17")
        await env.soe.broadcast_signals(eid, ["WORK"], request_id="order-17")
        await env.soe.broadcast_signals(eid, ["WORK"], request_id="order-18")
        context = await env.soe.get_context(eid)
    assert counted(context, "Work") == 2 and len(calls) == 2
    assert context["__operational__"]["signals"].count("WORK") == 2


async def test_f_api_2_a_repeated_request_answers_with_the_first_call_s_failure():
    async with SoeTestEnvironment() as env:
        eid = await env.soe.orchestrate(COUNTER, "counter", ["START"], {})
        for _ in range(2):
            with pytest.raises(NodeFailedError, match="Bad"):
                await env.soe.broadcast_signals(eid, ["BAD"], request_id="bad-1")
        context = await env.soe.get_context(eid)
    assert counted(context, "Bad") == 1


async def test_f_api_2_an_empty_signal_list_is_a_broadcast_of_nothing():
    """As in SOE, where broadcast_signals validates nothing about the list: no node fires,
    no signal is recorded, nothing is refused; with wait=True the call returns once the
    execution is idle. The same from the temporal CLI (--input '[]')."""
    async with SoeTestEnvironment() as env:
        eid = await env.soe.orchestrate(COUNTER, "counter", ["START"], {})
        await env.soe.broadcast_signals(eid, [], wait=True)
        await env.soe.broadcast_signals(eid, [], wait=False, request_id="none")
        await env.client.get_workflow_handle(eid).signal(SIGNAL_NAME, [])
        await env.soe.wait_idle(eid)
        context = await env.soe.get_context(eid)
        described = await env.soe.describe(eid)
    assert context["__operational__"]["signals"] == ["START", "WAITING"]
    assert context["__operational__"]["nodes"] == {"Start": 1}
    assert described["idle"] and not described.get("rejected_inputs")


async def test_a_soe_signal_carrying_a_request_id_is_taken_once():
    """What `temporal workflow signal --name soe_signal --input
    '{"signals": ["PING"], "request_id": "r-1"}'` sends, twice."""
    async with SoeTestEnvironment() as env:
        eid = await env.soe.orchestrate(COUNTER, "counter", ["START"], {})
        handle = env.client.get_workflow_handle(eid)
        for _ in range(2):
            await handle.signal(SIGNAL_NAME, {"signals": ["PING"], "request_id": "r-1"})
        await env.soe.broadcast_signals(eid, ["PING"], request_id="r-1")
        await env.soe.wait_idle(eid)
        assert counted(await env.soe.get_context(eid), "Count") == 1


async def test_request_ids_are_remembered_across_continue_as_new():
    async with SoeTestEnvironment(continue_as_new_after_events=12) as env:
        eid = await env.soe.orchestrate(COUNTER, "counter", ["START"], {})
        await env.soe.broadcast_signals(eid, ["PING"], request_id="first")
        for index in range(8):  # enough to continue as new at least once
            await env.soe.broadcast_signals(eid, ["PING"], request_id=f"more-{index}")
        await env.soe.broadcast_signals(eid, ["PING"], request_id="first")
        history = await env.client.get_workflow_handle(eid).fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        assert started.continued_execution_run_id  # this run is not the first
        assert counted(await env.soe.get_context(eid), "Count") == 9


async def test_wait_false_sends_a_signal_that_a_retry_cannot_double():
    async with SoeTestEnvironment() as env:
        eid = await env.soe.orchestrate(COUNTER, "counter", ["START"], {})
        for _ in range(3):
            await env.soe.broadcast_signals(eid, ["PING"], wait=False, request_id="once")
        await env.soe.wait_idle(eid)
        assert counted(await env.soe.get_context(eid), "Count") == 1


@pytest.mark.devserver
async def test_three_hundred_callers_waiting_on_one_execution_each_count_once(
    dev_server: DevServerInfo,
):
    """Hundreds of `broadcast_signals(wait=True)` at once on one execution: each returns,
    within seconds, and each signal is counted once."""
    client = dev_server.server.client
    queue = f"signals-{uuid.uuid4().hex[:6]}"
    soe = SoeClient(
        client, queue, wait_timeout=timedelta(minutes=2), payload_store=dev_server.payloads
    )
    async with create_worker(client, queue, payload_store=dev_server.payloads):
        eid = await soe.orchestrate(load_config(COUNTER), "counter", ["START"], {})
        started = time.perf_counter()
        await asyncio.gather(*(soe.broadcast_signals(eid, ["PING"]) for _ in range(300)))
        seconds = time.perf_counter() - started
        context = await soe.get_context(eid)
    assert counted(context, "Count") == 300
    assert seconds < 30, seconds
