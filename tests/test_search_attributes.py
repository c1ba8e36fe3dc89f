"""SOE's search attributes and UI details on a running execution (time-skipping server):
an operator finds executions by SOE workflow, status and last signals, with the
attributes upserted only when a value changes."""

from __future__ import annotations

import asyncio
import logging

import pytest
from temporalio.api.enums.v1 import EventType

from soe_temporal import NodeFailedError
from soe_temporal import workflow as soe_workflow
from soe_temporal.client import soe_client as soe_client_module
from soe_temporal.llm.providers.fake import FakeProvider
from soe_temporal.temporal.search_attributes import (
    FAILED_NODES,
    LAST_SIGNALS,
    MAIN_EXECUTION_ID,
    PARENT_EXECUTION_ID,
    STATUS,
    TOOL_CALLS,
    WORKFLOW_NAME,
)
from soe_temporal.testing import SoeTestEnvironment

from .conftest import EXAMPLES
from .test_continue_as_new import LOOP
from .test_workflow import APPROVAL, APPROVAL_TOOLS


async def attributes(env: SoeTestEnvironment, execution_id: str):
    return (await env.client.get_workflow_handle(execution_id).describe()).typed_search_attributes


async def upserts(env: SoeTestEnvironment, execution_id: str) -> int:
    history = await env.client.get_workflow_handle(execution_id).fetch_history()
    upsert = EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    return sum(1 for event in history.events if event.event_type == upsert)


async def start_a_tree(env: SoeTestEnvironment) -> tuple[str, str]:
    """The classifier ecosystem: a main execution and the child it starts; their ids."""
    eid = await env.soe.orchestrate(
        EXAMPLES / "classifier_ecosystem.yaml",
        "main_workflow",
        ["START"],
        {"input_type": "text", "content": "hello"},
    )
    [child] = (await env.soe.describe(eid))["children"]
    return eid, child


async def test_an_approval_waiting_for_a_decision_is_idle_with_waiting_for_approval():
    async with SoeTestEnvironment(tools_registry=APPROVAL_TOOLS) as env:
        eid = await env.soe.orchestrate(APPROVAL, "waiting_workflow", ["START"], {})
        found = await attributes(env, eid)
        assert found.get(WORKFLOW_NAME) == "waiting_workflow"
        assert found.get(STATUS) == "idle"
        assert list(found.get(LAST_SIGNALS)) == ["START", "WAITING_FOR_APPROVAL"]
        assert found.get(MAIN_EXECUTION_ID) == eid
        assert found.get(PARENT_EXECUTION_ID) is None


async def test_the_signals_of_the_last_turn_and_the_calls_counted_replace_the_earlier_ones():
    async with SoeTestEnvironment(tools_registry=APPROVAL_TOOLS) as env:
        eid = await env.soe.orchestrate(APPROVAL, "waiting_workflow", ["START"], {})
        await env.soe.broadcast_signals(eid, ["APPROVED"])
        found = await attributes(env, eid)
        assert list(found.get(LAST_SIGNALS)) == ["APPROVED", "PROCESS_APPROVED", "COMPLETE"]
        assert found.get(TOOL_CALLS) == 1


async def test_a_turn_with_a_call_upserts_twice_and_a_turn_of_routers_once():
    """Running when the call starts, idle when the turn ends; nothing per call."""
    async with SoeTestEnvironment(tools_registry=APPROVAL_TOOLS) as env:
        eid = await env.soe.orchestrate(APPROVAL, "waiting_workflow", ["START"], {})
        assert await upserts(env, eid) == 1  # the start carried "running"
        await env.soe.broadcast_signals(eid, ["APPROVED"])
        assert await upserts(env, eid) == 3


async def test_a_chain_of_calls_upserts_when_it_starts_and_when_it_ends():
    async with SoeTestEnvironment(tools_registry={"step": lambda n: n}) as env:
        eid = await env.soe.orchestrate(LOOP, "loop", ["START"], {"rounds": 8})
        assert (await attributes(env, eid)).get(TOOL_CALLS) == 8
        assert await upserts(env, eid) == 1


async def test_an_execution_is_running_while_its_node_waits_for_a_call():
    started, release = asyncio.Event(), asyncio.Event()

    async def finalize_approved() -> str:
        started.set()
        await release.wait()
        return "approved"

    tools = {**APPROVAL_TOOLS, "finalize_approved": finalize_approved}
    async with SoeTestEnvironment(tools_registry=tools) as env:
        eid = await env.soe.orchestrate(APPROVAL, "waiting_workflow", ["START"], {})
        await env.soe.broadcast_signals(eid, ["APPROVED"], wait=False)
        await started.wait()
        assert (await attributes(env, eid)).get(STATUS) == "running"
        described = await env.soe.describe(eid)
        assert described["soe_status"] == "running"
        assert described["running_nodes"] == ["ProcessApproved"]
        release.set()
        await env.soe.wait_idle(eid)
        assert (await attributes(env, eid)).get(STATUS) == "idle"


async def test_a_turn_ending_in_an_unhandled_failure_is_failed_with_the_node_named():
    config = """
fragile:
  Work:
    node_type: tool
    event_triggers: [START]
    tool_name: missing_tool
    output_field: result
"""
    async with SoeTestEnvironment() as env:
        with pytest.raises(NodeFailedError, match="missing_tool"):
            await env.soe.orchestrate(config, "fragile", ["START"], {}, execution_id="fragile")
        eid = "fragile"
        found = await attributes(env, eid)
        assert found.get(STATUS) == "failed"
        assert list(found.get(FAILED_NODES)) == ["Work"]
        described = await env.soe.describe(eid)
        assert described["soe_status"] == "failed" and described["failed_nodes"] == ["Work"]


async def test_a_closed_execution_says_closed():
    async with SoeTestEnvironment(tools_registry=APPROVAL_TOOLS) as env:
        eid = await env.soe.orchestrate(APPROVAL, "waiting_workflow", ["START"], {})
        await env.soe.close(eid)
        assert (await attributes(env, eid)).get(STATUS) == "closed"


async def test_a_child_carries_its_soe_workflow_its_parent_and_its_main_execution():
    async with SoeTestEnvironment(call_llm=FakeProvider()) as env:
        eid, child = await start_a_tree(env)
        found = await attributes(env, child)
        assert found.get(WORKFLOW_NAME) == "text_workflow"
        assert found.get(PARENT_EXECUTION_ID) == eid
        assert found.get(MAIN_EXECUTION_ID) == eid
        assert found.get(STATUS) == "idle"


async def test_the_attributes_carry_over_continue_as_new():
    async with SoeTestEnvironment(
        tools_registry={"step": lambda n: n}, continue_as_new_after_events=12
    ) as env:
        eid = await env.soe.orchestrate(LOOP, "loop", ["START"], {"rounds": 10})
        description = await env.client.get_workflow_handle(eid).describe()
        assert description.raw_info.first_run_id != description.run_id  # a new run
        found = description.typed_search_attributes
        assert found.get(WORKFLOW_NAME) == "loop"
        assert found.get(STATUS) == "idle" and found.get(TOOL_CALLS) == 10


async def test_the_ui_summary_names_the_soe_workflow_and_its_config_file():
    async with SoeTestEnvironment(tools_registry=APPROVAL_TOOLS) as env:
        eid = await env.soe.orchestrate(str(APPROVAL), "waiting_workflow", ["START"], {})
        handle = env.client.get_workflow_handle(eid)
        description = await handle.describe()
        assert await description.static_summary() == (f"SOE workflow waiting_workflow ({APPROVAL})")
        metadata = await handle.query("__temporal_workflow_metadata")
        assert "WAITING_FOR_APPROVAL" in metadata.current_details


async def test_without_registered_attributes_executions_still_run_and_the_worker_says_how(
    caplog, monkeypatch
):
    """A client that finds them missing starts executions without them (and says how to
    register them); the worker says it too, once."""
    monkeypatch.setattr(soe_workflow, "_registration_said", [])

    async def not_registered(client) -> bool:
        return False

    monkeypatch.setattr(soe_client_module, "search_attributes_available", not_registered)
    async with SoeTestEnvironment(tools_registry=APPROVAL_TOOLS) as env:
        with caplog.at_level(logging.WARNING):
            eid = await env.soe.orchestrate(APPROVAL, "waiting_workflow", ["START"], {})
            await env.soe.broadcast_signals(eid, ["APPROVED"])
        assert (await env.soe.get_context(eid))["final_result"]
        assert (await attributes(env, eid)).get(WORKFLOW_NAME) is None
        assert await upserts(env, eid) == 0
        assert "namespace 'default' has no SOE search attributes" in caplog.text
        assert f"Execution {eid} was started without SOE's search attributes" in caplog.text
        assert "temporal operator search-attribute create" in caplog.text


async def test_describe_says_which_signals_an_idle_execution_waits_for():
    """The signals that start something in its workflow and that none of its nodes
    emits: for the waiting approval, its decisions (and START, which began it)."""
    async with SoeTestEnvironment(tools_registry=APPROVAL_TOOLS) as env:
        eid = await env.soe.orchestrate(APPROVAL, "waiting_workflow", ["START"], {})
        described = await env.soe.describe(eid)
        assert described["waits_for"] == ["START", "APPROVED", "REJECTED"]
        assert described["soe_status"] == "idle"
        assert described["last_signals"] == ["START", "WAITING_FOR_APPROVAL"]


async def test_a_tree_started_without_them_by_choice_hears_nothing_about_registering(
    caplog, monkeypatch
):
    """SoeClient(search_attributes=False) on a server that has them: neither the root nor
    its child says how to register them (the worker's hint is for executions started
    without them by other means)."""
    monkeypatch.setattr(soe_workflow, "_registration_said", [])
    async with SoeTestEnvironment(call_llm=FakeProvider(), search_attributes=False) as env:
        with caplog.at_level(logging.WARNING):
            _, child = await start_a_tree(env)
        assert (await attributes(env, child)).get(WORKFLOW_NAME) is None
        assert "was started without SOE's search attributes" not in caplog.text


async def test_the_choice_carries_over_continue_as_new(caplog, monkeypatch):
    monkeypatch.setattr(soe_workflow, "_registration_said", [])
    async with SoeTestEnvironment(
        tools_registry={"step": lambda n: n},
        continue_as_new_after_events=12,
        search_attributes=False,
    ) as env:
        with caplog.at_level(logging.WARNING):
            eid = await env.soe.orchestrate(LOOP, "loop", ["START"], {"rounds": 10})
        description = await env.client.get_workflow_handle(eid).describe()
        assert description.raw_info.first_run_id != description.run_id  # a new run
        assert "was started without SOE's search attributes" not in caplog.text


async def test_a_client_may_start_executions_without_them():
    """For trees that need no finding (a large fan-out): no attributes, no upserts."""
    async with SoeTestEnvironment(call_llm=FakeProvider(), search_attributes=False) as env:
        eid, child = await start_a_tree(env)
        for execution_id in (eid, child):
            assert (await attributes(env, execution_id)).get(WORKFLOW_NAME) is None
            assert await upserts(env, execution_id) == 0
