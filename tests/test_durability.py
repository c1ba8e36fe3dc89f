"""A worker killed in the middle of a tool call loses nothing: a new worker finishes the
execution, and no completed tool call runs again."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
import uuid
from pathlib import Path

from temporalio.client import Client

from soe_temporal import SoeClient

from .conftest import BIN, DevServerInfo, Spawn

CHAIN = """
chain:
  First:
    node_type: tool
    event_triggers: [START]
    tool_name: first
    output_field: first
    event_emissions: [{signal_name: FIRST_DONE}]
  Hold:
    node_type: tool
    event_triggers: [FIRST_DONE]
    tool_name: hold
    output_field: hold
    temporal: {heartbeat_timeout: 2s}
    event_emissions: [{signal_name: HOLD_DONE}]
  Last:
    node_type: tool
    event_triggers: [HOLD_DONE]
    tool_name: last
    output_field: last
    event_emissions: [{signal_name: DONE}]
"""


async def _until(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_killed_worker_mid_tool_call_resumes_on_a_new_worker_without_repeats(
    dev_server: DevServerInfo, spawn: Spawn, tmp_path: Path
):
    ledger, release = tmp_path / "ledger.txt", tmp_path / "release"
    ledger.touch()
    queue = f"durable-{uuid.uuid4().hex[:6]}"
    env = dev_server.env(
        SOE_TASK_QUEUE=queue,
        SOE_TOOLS="tests.durability_tools:TOOLS",
        SOE_TEST_LEDGER=str(ledger),
        SOE_TEST_RELEASE=str(release),
    )
    worker = spawn([str(BIN / "soe-temporal"), "worker"], env, stderr=subprocess.DEVNULL)
    soe = SoeClient(
        await Client.connect(dev_server.address), queue, payload_store=dev_server.payloads
    )
    eid = await soe.orchestrate(CHAIN, "chain", ["START"], {}, wait=False)

    await _until(lambda: "hold started" in ledger.read_text(), "the held call to start")
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    release.touch()
    spawn([str(BIN / "soe-temporal"), "worker"], env, stderr=subprocess.DEVNULL)
    await soe.wait_idle(eid)

    context = await soe.get_context(eid)
    assert context["first"] == ["first done"]
    assert context["hold"] == ["hold done"]
    assert context["last"] == ["last done"]
    assert context["__operational__"]["signals"] == ["START", "FIRST_DONE", "HOLD_DONE", "DONE"]
    assert context["__operational__"]["tool_calls"] == 3
    # The interrupted call ran again; the completed one did not.
    assert ledger.read_text().splitlines() == [
        "first",
        "hold started",
        "hold started",
        "hold finished",
        "last",
    ]


BIG_CHAIN = """
chain:
  First:
    node_type: tool
    event_triggers: [START]
    tool_name: big_first
    output_field: first
    event_emissions: [{signal_name: FIRST_DONE}]
  Hold:
    node_type: tool
    event_triggers: [FIRST_DONE]
    tool_name: big_hold
    parameters: {page: "{{ context.first }}"}
    output_field: hold
    temporal: {heartbeat_timeout: 2s}
"""


async def test_killed_worker_mid_call_with_stored_payloads_resumes_from_the_store(
    dev_server: DevServerInfo, spawn: Spawn, tmp_path: Path
):
    """The held call's 50 KB arguments are a claim in the history: the new worker reads
    them from the payload store, and its 50 KB result goes there too."""
    ledger, release = tmp_path / "ledger.txt", tmp_path / "release"
    ledger.touch()
    queue = f"durable-big-{uuid.uuid4().hex[:6]}"
    env = dev_server.env(
        SOE_TASK_QUEUE=queue,
        SOE_TOOLS="tests.durability_tools:TOOLS",
        SOE_TEST_LEDGER=str(ledger),
        SOE_TEST_RELEASE=str(release),
    )
    worker = spawn([str(BIN / "soe-temporal"), "worker"], env, stderr=subprocess.DEVNULL)
    soe = SoeClient(
        await Client.connect(dev_server.address), queue, payload_store=dev_server.payloads
    )
    eid = await soe.orchestrate(BIG_CHAIN, "chain", ["START"], {}, wait=False)

    await _until(lambda: "hold started" in ledger.read_text(), "the held call to start")
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    release.touch()
    spawn([str(BIN / "soe-temporal"), "worker"], env, stderr=subprocess.DEVNULL)
    await soe.wait_idle(eid)

    context = await soe.get_context(eid)
    assert context["hold"] == [("first " + "p" * 50_000).upper()]
    assert ledger.read_text().splitlines() == [
        "first",
        "hold started with 50006 characters",
        "hold started with 50006 characters",
        "hold finished",
    ]
    history = await soe.temporal.get_workflow_handle(eid).fetch_history()
    scheduled = [
        e.activity_task_scheduled_event_attributes.input.payloads[0]
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert scheduled and all(p.ByteSize() < 1_000 for p in scheduled)  # claims, not 50 KB


LLM_CHAIN = """
chain:
  Fast:
    node_type: llm
    event_triggers: [START]
    prompt: "first"
    output_field: fast
    event_emissions: [{signal_name: FAST_DONE}]
  Slow:
    node_type: llm
    event_triggers: [FAST_DONE]
    prompt: "second"
    output_field: slow
    temporal: {heartbeat_timeout: 2s}
"""


async def test_killed_worker_mid_llm_call_pays_for_no_completed_call_twice(
    dev_server: DevServerInfo, spawn: Spawn, tmp_path: Path
):
    ledger, release = tmp_path / "ledger.txt", tmp_path / "release"
    ledger.touch()
    queue = f"durable-llm-{uuid.uuid4().hex[:6]}"
    env = dev_server.env(
        SOE_TASK_QUEUE=queue,
        SOE_LLM="tests.durability_tools:call_llm",
        SOE_TEST_LEDGER=str(ledger),
        SOE_TEST_RELEASE=str(release),
    )
    worker = spawn([str(BIN / "soe-temporal"), "worker"], env, stderr=subprocess.DEVNULL)
    soe = SoeClient(
        await Client.connect(dev_server.address), queue, payload_store=dev_server.payloads
    )
    eid = await soe.orchestrate(LLM_CHAIN, "chain", ["START"], {}, wait=False)

    await _until(lambda: "llm Slow" in ledger.read_text(), "the held model call to start")
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    release.touch()
    spawn([str(BIN / "soe-temporal"), "worker"], env, stderr=subprocess.DEVNULL)
    await soe.wait_idle(eid)

    context = await soe.get_context(eid)
    assert context["fast"] == ["answered Fast"] and context["slow"] == ["answered Slow"]
    assert context["__operational__"]["llm_calls"] == 2
    assert ledger.read_text().splitlines() == ["llm Fast", "llm Slow", "llm Slow"]


AGENT = """
agent:
  Worker:
    node_type: agent
    event_triggers: [START]
    prompt: "Do the held job"
    tools: [hold]
    temporal: {heartbeat_timeout: 2s}
    event_emissions: [{signal_name: DONE}]
"""


async def test_killed_worker_mid_agent_loop_repeats_no_completed_llm_or_tool_call(
    dev_server: DevServerInfo, spawn: Spawn, tmp_path: Path
):
    ledger, release = tmp_path / "ledger.txt", tmp_path / "release"
    ledger.touch()
    queue = f"durable-agent-{uuid.uuid4().hex[:6]}"
    env = dev_server.env(
        SOE_TASK_QUEUE=queue,
        SOE_TOOLS="tests.durability_tools:TOOLS",
        SOE_LLM="tests.durability_tools:agent_llm",
        SOE_TEST_LEDGER=str(ledger),
        SOE_TEST_RELEASE=str(release),
    )
    worker = spawn([str(BIN / "soe-temporal"), "worker"], env, stderr=subprocess.DEVNULL)
    soe = SoeClient(
        await Client.connect(dev_server.address), queue, payload_store=dev_server.payloads
    )
    eid = await soe.orchestrate(AGENT, "agent", ["START"], {}, wait=False)

    await _until(lambda: "hold started" in ledger.read_text(), "the agent's tool call to start")
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    release.touch()
    spawn([str(BIN / "soe-temporal"), "worker"], env, stderr=subprocess.DEVNULL)
    await soe.wait_idle(eid)

    context = await soe.get_context(eid)
    assert context["__operational__"]["signals"] == ["START", "DONE"]
    assert context["__operational__"]["tool_calls"] == 1
    assert ledger.read_text().splitlines() == [
        "llm router",
        "llm parameters",
        "hold started",
        "hold started",
        "hold finished",
        "llm router",
        "llm response",
    ]
