"""Fan-in joins on the time-skipping server (F-EXEC-3, F-PAT-7, F-PAT-8): when several
outcomes reach the workflow in one workflow task, each is applied and its cascade runs to
the end before the next, so the join behind them fires once, in every order.

To hand the workflow its outcomes together, in a chosen order, the calls run on a second
task queue and are completed by the test while the workflow's worker is stopped: one by
one, in the order under test, with no workflow worker to see them; a new workflow worker
then gets them all in one workflow task (the test checks the history for it).
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from typing import Any, NoReturn

import pytest
import pytest_asyncio
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from soe_temporal import SoeClient, create_worker
from soe_temporal.servers.binaries import test_server_path as time_skipping_server
from soe_temporal.temporal.converter import soe_temporal_client
from soe_temporal.temporal.payloads import (
    CHILD_MESSAGE_SIGNAL,
    ChildMessage,
    LlmCallResult,
    ToolCallResult,
)

PARTS = ["weather", "news", "stocks"]
ORDERS = list(itertools.permutations(range(3)))
CALLS_QUEUE = "fan-in-calls"


@pytest_asyncio.fixture(scope="module")
async def server() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=time_skipping_server()
    )
    yield environment
    await environment.shutdown()


def join_nodes() -> str:
    ready = " and ".join(f"context.{part} is defined" for part in PARTS)
    return f"""
  Join:
    node_type: router
    event_triggers: [PART_DONE]
    event_emissions:
      - signal_name: READY
        condition: "{{{{ {ready} }}}}"
  Summarize:
    node_type: llm
    event_triggers: [READY]
    prompt: "Summarize {{{{ context.weather }}}} {{{{ context.news }}}} {{{{ context.stocks }}}}"
    output_field: summary
"""


def tool_config(calls_queue: str) -> str:
    nodes = "".join(
        f"""
  Fetch_{part}:
    node_type: tool
    event_triggers: [START]
    tool_name: fetch_{part}
    output_field: {part}
    event_emissions: [{{signal_name: PART_DONE}}]
    temporal: {{task_queue: {calls_queue}}}
"""
        for part in PARTS
    )
    return "wf:" + nodes + join_nodes()


def llm_config(calls_queue: str) -> str:
    nodes = "".join(
        f"""
  Write_{part}:
    node_type: llm
    event_triggers: [START]
    prompt: "Write the {part}"
    output_field: {part}
    event_emissions: [{{signal_name: PART_DONE}}]
    temporal: {{task_queue: {calls_queue}}}
"""
        for part in PARTS
    )
    return "wf:" + nodes + join_nodes()


class Gates:
    """The calls of the parts, completed by the test, one by one, in the order under test.

    Each call hands its completion over (Temporal's asynchronous activity completion) and
    the test completes it; once the completion's RPC returns, the server has recorded it.
    """

    def __init__(self) -> None:
        self.tokens: dict[str, bytes] = {}
        self.all_started = asyncio.Event()

    def hand_over(self, part: str) -> NoReturn:
        self.tokens[part] = activity.info().task_token
        if len(self.tokens) == len(PARTS):
            self.all_started.set()
        activity.raise_complete_async()

    def tools(self) -> dict[str, Any]:
        def fetch(part: str):
            async def tool() -> str:
                self.hand_over(part)

            return tool

        return {f"fetch_{part}": fetch(part) for part in PARTS}

    async def call_llm(self, prompt: str, config: dict[str, Any]) -> str:
        self.hand_over(next(part for part in PARTS if f"Write the {part}" in prompt))

    async def complete(self, client: Client, part: str, result: Any) -> None:
        await (
            soe_temporal_client(client)
            .get_async_activity_handle(task_token=self.tokens[part])
            .complete(result)
        )


def summarize(prompt: str, config: dict[str, Any]) -> str:
    return '{"summary": "all three parts"}'


async def tasks_that_applied_the_parts(handle: WorkflowHandle) -> int:
    """How many workflow tasks handed the workflow the parts' completed calls."""
    history = await handle.fetch_history()
    tasks, fresh, completed = 0, False, 0
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED and completed < 3:
            fresh, completed = True, completed + 1
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED and fresh:
            tasks, fresh = tasks + 1, False
    return tasks


async def run_with_outcomes_together(
    client: Client,
    config: str,
    order: tuple[int, ...],
    gates: Gates,
    results: list[Any],
    **call_worker: Any,
) -> dict[str, Any]:
    task_queue = f"fan-in-{uuid.uuid4().hex[:8]}"
    soe = SoeClient(client, task_queue)

    def workflow_worker():
        # No cache, so a restarted worker picks the task from the normal queue at once.
        return create_worker(client, task_queue, call_llm=summarize, max_cached_workflows=0)

    async with create_worker(client, CALLS_QUEUE, **call_worker):
        async with workflow_worker():
            eid = await soe.orchestrate(config, "wf", ["START"], {}, wait=False)
            await gates.all_started.wait()
        for index in order:
            await gates.complete(client, PARTS[index], results[index])
        async with workflow_worker():
            await soe.wait_idle(eid)
            context = await soe.get_context(eid)
    handle = client.get_workflow_handle(eid)
    assert await tasks_that_applied_the_parts(handle) == 1, "the outcomes did not arrive together"
    return context


@pytest.mark.parametrize("order", ORDERS)
async def test_f_pat_7_tool_fan_in_fires_once_when_results_arrive_together(server, order):
    gates = Gates()
    context = await run_with_outcomes_together(
        server.client,
        tool_config(CALLS_QUEUE),
        order,
        gates,
        [ToolCallResult(f"{part} of today") for part in PARTS],
        tools_registry=gates.tools(),
    )
    assert context["__operational__"]["nodes"]["Join"] == 3
    assert context["__operational__"]["nodes"]["Summarize"] == 1
    assert context["summary"] == ["all three parts"]


@pytest.mark.parametrize("order", ORDERS)
async def test_f_pat_7_llm_fan_in_fires_once_when_answers_arrive_together(server, order):
    gates = Gates()
    context = await run_with_outcomes_together(
        server.client,
        llm_config(CALLS_QUEUE),
        order,
        gates,
        [LlmCallResult(f'{{"{part}": "{part} of today"}}') for part in PARTS],
        call_llm=gates.call_llm,
    )
    assert context["__operational__"]["nodes"]["Summarize"] == 1
    assert context["__operational__"]["signals"].count("READY") == 1


@pytest.mark.parametrize("order", ORDERS)
async def test_f_pat_8_child_fan_in_fires_once_when_messages_arrive_together(server, order):
    """Three children's messages (a value and the signal announcing it, as a child sends
    them) reach a parent whose worker is down, in every order; the parent's join fires
    once when its worker comes back."""
    client = server.client
    task_queue = f"fan-in-{uuid.uuid4().hex[:8]}"
    soe = SoeClient(client, task_queue)

    def workflow_worker():
        return create_worker(client, task_queue, call_llm=summarize, max_cached_workflows=0)

    async with workflow_worker():
        eid = await soe.orchestrate("wf:" + join_nodes(), "wf", ["START"], {})
    handle = client.get_workflow_handle(eid)
    for index in order:
        message = ChildMessage(
            f"{eid}/Part-{index}", [[PARTS[index], f"part {index}"]], [["PART_DONE"]], []
        )
        await handle.signal(CHILD_MESSAGE_SIGNAL, message)
    async with workflow_worker():
        await soe.wait_idle(eid)
        context = await soe.get_context(eid)
    assert context["__operational__"]["nodes"]["Join"] == 3
    assert context["__operational__"]["nodes"]["Summarize"] == 1
