"""Long-lived executions continue as new before their history grows large, losing nothing."""

from __future__ import annotations

import asyncio

from soe_temporal.testing import SoeTestEnvironment

LOOP = """
loop:
  Next:
    node_type: router
    event_triggers: [START, STEPPED]
    event_emissions:
      - signal_name: STEP
        condition: "{{ context.__operational__.nodes.get('Next', 0) <= context.rounds }}"
      - signal_name: FINISHED
        condition: "{{ context.__operational__.nodes.get('Next', 0) > context.rounds }}"
  Step:
    node_type: tool
    event_triggers: [STEP]
    tool_name: step
    parameters: {n: "{{ context.__operational__.nodes.get('Next', 0) }}"}
    output_field: steps
    event_emissions: [{signal_name: STEPPED}]
"""


async def _current_run_is_new(env: SoeTestEnvironment, execution_id: str) -> bool:
    description = await env.client.get_workflow_handle(execution_id).describe()
    return description.raw_info.first_run_id != description.run_id


async def test_state_survives_continue_as_new_mid_cascade_with_no_call_repeated():
    calls: list[str] = []

    def step(n: str) -> str:
        calls.append(n)
        return f"step {n}"

    async with SoeTestEnvironment(
        tools_registry={"step": step}, continue_as_new_after_events=20
    ) as env:
        eid = await env.soe.orchestrate(LOOP, "loop", ["START"], {"rounds": 12})
        context = await env.soe.get_context(eid)
        assert calls == [str(n) for n in range(1, 13)]
        assert context["steps"] == [f"step {n}" for n in range(1, 13)]
        ops = context["__operational__"]
        assert ops["tool_calls"] == 12 and ops["nodes"] == {"Next": 13, "Step": 12}
        assert ops["signals"][-1] == "FINISHED"
        assert await _current_run_is_new(env, eid)
        # Still one execution for SOE: signals and queries reach the newest run.
        await env.soe.broadcast_signals(eid, ["STEPPED"])
        assert (await env.soe.get_context(eid))["__operational__"]["nodes"]["Next"] == 14


async def test_signals_that_arrive_while_draining_are_carried_into_the_new_run():
    release = asyncio.Event()
    started = asyncio.Event()
    handled: list[str] = []

    async def slow(tag: str) -> str:
        handled.append(tag)
        started.set()
        await release.wait()
        return tag

    config = """
inbox:
  Handle:
    node_type: tool
    event_triggers: [PING]
    tool_name: slow
    parameters: {tag: "{{ context.__operational__.signals | length }}"}
    output_field: handled
"""
    async with SoeTestEnvironment(
        tools_registry={"slow": slow}, continue_as_new_after_events=12
    ) as env:
        eid = await env.soe.orchestrate(config, "inbox", ["PING"], {}, wait=False)
        await started.wait()
        for _ in range(5):
            await env.soe.broadcast_signals(eid, ["PONG"], wait=False)
        await env.soe.broadcast_signals(eid, ["PING"], wait=False)
        release.set()
        await env.soe.wait_idle(eid)

        context = await env.soe.get_context(eid)
        assert context["__operational__"]["signals"] == ["PING"] + ["PONG"] * 5 + ["PING"]
        assert context["handled"] == ["1", "7"]
        assert handled == ["1", "7"]
        assert await _current_run_is_new(env, eid)


async def test_a_waiter_does_not_spin_while_the_execution_drains_for_continue_as_new():
    """While running calls finish before continue-as-new, a waiting wait_idle() is answered
    once, not over and over (each answer would add history events to the old run)."""
    release = asyncio.Event()
    started = asyncio.Event()

    async def slow() -> str:
        started.set()
        await release.wait()
        return "done"

    config = (
        "w: {Slow: {node_type: tool, event_triggers: [GO], tool_name: slow, output_field: out}}"
    )
    async with SoeTestEnvironment(
        tools_registry={"slow": slow}, continue_as_new_after_events=12
    ) as env:
        eid = await env.soe.orchestrate(config, "w", ["GO"], {}, wait=False)
        await started.wait()
        for _ in range(3):  # push the history past the threshold: the run starts draining
            await env.soe.broadcast_signals(eid, ["PING"], wait=False)
        waiter = asyncio.create_task(env.soe.wait_idle(eid))
        await asyncio.sleep(0.5)  # a spinning waiter would add dozens of events meanwhile
        release.set()
        await waiter

        description = await env.client.get_workflow_handle(eid).describe()
        first_run = env.client.get_workflow_handle(eid, run_id=description.raw_info.first_run_id)
        history = await first_run.fetch_history()
        updates = [
            e
            for e in history.events
            if e.HasField("workflow_execution_update_accepted_event_attributes")
        ]
        assert len(updates) <= 3
        assert (await env.soe.get_context(eid))["out"] == ["done"]


async def test_close_requested_while_draining_is_carried_into_the_new_run():
    release = asyncio.Event()
    started = asyncio.Event()

    async def slow() -> str:
        started.set()
        await release.wait()
        return "done"

    config = (
        "w: {Slow: {node_type: tool, event_triggers: [GO], tool_name: slow, output_field: out}}"
    )
    async with SoeTestEnvironment(
        tools_registry={"slow": slow}, continue_as_new_after_events=12
    ) as env:
        eid = await env.soe.orchestrate(config, "w", ["GO"], {}, wait=False)
        await started.wait()
        for _ in range(3):
            await env.soe.broadcast_signals(eid, ["PING"], wait=False)
        closing = asyncio.create_task(env.soe.close(eid))
        await asyncio.sleep(0.2)
        release.set()
        final = await closing
        assert final["out"] == ["done"]
        assert (await env.soe.describe(eid))["status"] == "COMPLETED"


async def test_a_node_waiting_for_its_next_call_is_carried_over_and_calls_again():
    """A retry that comes due while the run drains is issued by the new run, once."""
    attempts: list[str] = []
    prompts: list[str] = []

    def flaky(tag: str) -> str:
        attempts.append(tag)
        if len(attempts) == 1:
            raise RuntimeError("first attempt fails")
        return f"ok {tag}"

    def call_llm(prompt: str, config: dict) -> str:
        prompts.append(prompt)
        return "not json" if len(prompts) == 1 else '{"thought": "fine"}'

    config = """
w:
  Flaky:
    node_type: tool
    event_triggers: [GO]
    tool_name: flaky
    parameters: {tag: "x"}
    output_field: out
  Think:
    node_type: llm
    event_triggers: [GO]
    prompt: "Think"
    output_field: thought
"""
    registry = {"flaky": {"function": flaky, "max_retries": 1}}
    async with SoeTestEnvironment(
        call_llm=call_llm, tools_registry=registry, continue_as_new_after_events=8
    ) as env:
        eid = await env.soe.orchestrate(config, "w", ["GO"], {})
        context = await env.soe.get_context(eid)
        assert await _current_run_is_new(env, eid)
    assert attempts == ["x", "x"] and context["out"] == ["ok x"]
    assert len(prompts) == 2 and "Your previous response was:\nnot json" in prompts[1]
    assert context["thought"] == ["fine"]
    assert (
        context["__operational__"]["errors"] == 1 and context["__operational__"]["llm_calls"] == 1
    )


async def test_a_state_of_megabytes_continues_as_new_as_a_claim_on_the_payload_store():
    """The carried state travels as a claim whatever its size (issue: state of any size):
    the run's input in the history is a reference, and the next run has the whole state."""

    def bulky() -> str:
        return "x" * 700_000

    config = """
w:
  Grow: {node_type: tool, event_triggers: [GROW], tool_name: bulky, output_field: blob}
  Ping: {node_type: router, event_triggers: [PING], event_emissions: [{signal_name: PONG}]}
"""
    async with SoeTestEnvironment(
        tools_registry={"bulky": bulky}, continue_as_new_after_events=12
    ) as env:
        eid = await env.soe.orchestrate(config, "w", ["GROW"], {})
        for _ in range(3):
            await env.soe.broadcast_signals(eid, ["GROW"])
        await env.soe.broadcast_signals(eid, ["PING"])
        context = await env.soe.get_context(eid)
        described = await env.soe.describe(eid)
        handle = env.client.get_workflow_handle(eid)
        started = (await handle.fetch_history()).events[0]
    assert [len(blob) for blob in context["blob"]] == [700_000] * 4
    assert described["failures"] == [] and described["idle"] is True
    assert started.workflow_execution_started_event_attributes.continued_execution_run_id
    payloads = started.workflow_execution_started_event_attributes.input.payloads
    # the input, then its large values in 64 KB pieces: claims or small, not megabytes
    assert len(payloads) > 40
    assert all(payload.ByteSize() < 2_100 for payload in payloads)
