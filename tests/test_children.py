"""Child nodes as Temporal child workflows, and the seed's ecosystem examples, on the
time-skipping server."""

from __future__ import annotations

import asyncio
import json

import pytest

from examples.tools import TOOLS
from soe_temporal import NodeFailedError
from soe_temporal.testing import SoeTestEnvironment

from .conftest import EXAMPLES


def answer(prompt: str, config: dict) -> str:
    """A model that reports which node asked and what its task said, in the shape the
    prompt's response schema asks for (a bare value, or wrapped in the output field)."""
    lines = prompt.splitlines()
    value = {"node": config["name"], "task": json.loads(lines[0])["prompt"]}
    schema = json.loads(lines[3])
    if schema.get("title", "").endswith("Response"):
        return json.dumps({schema["required"][0]: value})
    return json.dumps(value)


async def test_seed_classifier_delegates_to_the_text_child_and_gets_its_result():
    async with SoeTestEnvironment(call_llm=answer) as env:
        eid = await env.soe.orchestrate(
            EXAMPLES / "classifier_ecosystem.yaml",
            "main_workflow",
            ["START"],
            {"input_type": "text", "content": "hello world"},
        )
        parent = await env.soe.get_context(eid)
        described = await env.soe.describe(eid)
        child_id = described["children"][0]
        child = await env.soe.get_context(child_id)
        history = await env.client.get_workflow_handle(eid).query("soe_conversation")
    assert child_id == f"{eid}/DelegateToTextProcessor-1"
    assert parent["result"] == [{"node": "AnalyzeText", "task": "Analyze this text: hello world"}]
    signals = parent["__operational__"]["signals"]
    assert signals[:4] == ["START", "HANDLE_TEXT", "PROCESSING_COMPLETE", "COMPLETE"]
    assert "DONE" in signals  # forwarded by the child (F-CHILD-8)
    assert child["content"] == ["hello world"]  # input_fields: the latest value (F-CHILD-4)
    assert child["__parent__"] == {
        "parent_execution_id": eid,
        "signals_to_parent": ["DONE"],
        "context_updates_to_parent": ["result"],
        "main_execution_id": eid,
    }
    assert child["__operational__"]["main_execution_id"] == eid  # F-OPS-7
    # F-CHILD-11: one history per tree, kept by the main execution.
    assert history[0] == {
        "role": "system",
        "content": "You are an expert text analyst. Provide detailed, structured analysis.",
    }
    assert history[1]["content"] == "Analyze this text: hello world"


async def test_seed_classifier_routes_images_to_the_image_child():
    async with SoeTestEnvironment(call_llm=answer) as env:
        eid = await env.soe.orchestrate(
            EXAMPLES / "classifier_ecosystem.yaml",
            "main_workflow",
            ["START"],
            {"input_type": "image", "content": "cat.png"},
        )
        parent = await env.soe.get_context(eid)
        described = await env.soe.describe(eid)
    assert parent["result"][0]["node"] == "AnalyzeImage"
    assert described["children"] == [f"{eid}/DelegateToImageProcessor-1"]
    assert (await_child := described["children"][0]).endswith("-1") and await_child


async def test_seed_fanout_aggregate_starts_three_workers_and_aggregates_as_they_start():
    async with SoeTestEnvironment(call_llm=answer) as env:
        eid = await env.soe.orchestrate(
            EXAMPLES / "fanout_aggregate.yaml",
            "orchestrator_workflow",
            ["START"],
            {"chunk_a": {"n": 1}, "chunk_b": {"n": 2}, "chunk_c": {"n": 3}},
        )
        parent = await env.soe.get_context(eid)
        described = await env.soe.describe(eid)
        workers = [await env.soe.get_context(child) for child in described["children"]]
    assert len(described["children"]) == 3
    assert parent["__operational__"]["nodes"]["Aggregate"] == 3
    assert len(parent["final_result"]) == 3
    assert parent["__operational__"]["signals"].count("WORKER_DONE") == 3
    assert [sorted(k for k in w if not k.startswith("__")) for w in workers] == [
        ["chunk_a", "result"],
        ["chunk_b", "result"],
        ["chunk_c", "result"],
    ]
    assert "result_a" not in parent  # as the guide writes it, the worker writes `result`


async def test_the_children_of_a_fan_out_run_at_the_same_time():
    """F-CHILD-7, changed on purpose (README, Differences): children run at once, and fan-in routers still fire once per child. Each of three workers waits until all three have started: run one after another,
    they would time out."""
    started: set[str] = set()
    all_started = asyncio.Event()

    async def fetch_and_summarise(url: str) -> str:
        started.add(url)
        if len(started) == 3:
            all_started.set()
        await asyncio.wait_for(all_started.wait(), timeout=20)
        return f"summary of {url}"

    config = (
        (EXAMPLES / "fanout_field.yaml")
        .read_text()
        .replace("spawn_interval: 0.5", "spawn_interval: 0")
    )
    registry = {"fetch_and_summarise": fetch_and_summarise}
    async with SoeTestEnvironment(tools_registry=registry) as env:
        eid = await env.soe.orchestrate(config, "batch", ["BEGIN"], {"urls": ["a", "b", "c"]})
        context = await env.soe.get_context(eid)
    assert sorted(context["page_summary"]) == ["summary of a", "summary of b", "summary of c"]
    assert context["__operational__"]["signals"].count("ALL_PAGES_DONE") == 1


async def test_f_child_6_fan_out_field_with_a_durable_spawn_interval():
    async with SoeTestEnvironment(tools_registry=TOOLS) as env:
        eid = await env.soe.orchestrate(
            EXAMPLES / "fanout_field.yaml", "batch", ["BEGIN"], {"urls": ["u1", "u2", "u3"]}
        )
        context = await env.soe.get_context(eid)
        described = await env.soe.describe(eid)
        history = await env.client.get_workflow_handle(eid).fetch_history()
        child = await env.soe.get_context(described["children"][1])
    assert described["children"] == [f"{eid}/SpawnWorkers-1-{n}" for n in (1, 2, 3)]
    assert child["url"] == ["u2"]  # child_input_field gets the item
    assert sorted(context["page_summary"]) == ["summary of u1", "summary of u2", "summary of u3"]
    assert context["__operational__"]["signals"][-1] == "ALL_PAGES_DONE"
    timers = [e for e in history.events if e.HasField("timer_started_event_attributes")]
    assert len(timers) == 2  # between the spawns
    assert (
        timers[0].timer_started_event_attributes.start_to_fire_timeout.ToTimedelta().total_seconds()
        == 0.5
    )


async def test_q_27_an_empty_fan_out_starts_one_child_without_the_item():
    async with SoeTestEnvironment(tools_registry=TOOLS) as env:
        eid = await env.soe.orchestrate(
            EXAMPLES / "fanout_field.yaml", "batch", ["BEGIN"], {"urls": []}
        )
        described = await env.soe.describe(eid)
        child = await env.soe.get_context(described["children"][0])
    assert described["children"] == [f"{eid}/SpawnWorkers-1"]
    assert "url" not in child


async def test_seed_fire_and_forget_the_parent_goes_on_and_the_child_runs_by_itself():
    async with SoeTestEnvironment(tools_registry=TOOLS) as env:
        eid = await env.soe.orchestrate(
            EXAMPLES / "fire_and_forget.yaml",
            "main_workflow",
            ["START"],
            {"task_data": {"report": "q3", "rows": 10}},
        )
        parent = await env.soe.get_context(eid)
        child = await env.soe.get_context((await env.soe.describe(eid))["children"][0])
    assert parent["__operational__"]["signals"] == [
        "START",
        "TASK_LAUNCHED",
        "START_BACKGROUND",
        "PARENT_COMPLETE",
    ]
    assert "result" not in parent
    # orchestrate(wait=True) waited for the whole tree: the child has finished too.
    assert child["result"] == [{"processed": ["report", "rows"], "status": "done"}]
    assert child["__operational__"]["signals"] == ["START", "BACKGROUND_DONE"]


@pytest.mark.parametrize(
    ("context", "processor", "expected"),
    [
        ({"api_version": "v1", "request": "r"}, "ProcessOldWay", "V1_DONE"),
        ({"request": "r"}, "ProcessNewWay", "V2_DONE"),
    ],
)
async def test_seed_versioning_by_context_routing(context, processor, expected):
    async with SoeTestEnvironment(call_llm=answer) as env:
        eid = await env.soe.orchestrate(
            EXAMPLES / "versioning.yaml", "entry_workflow", ["START"], context
        )
        parent = await env.soe.get_context(eid)
    assert parent["response"][0]["node"] == processor
    assert parent["__operational__"]["signals"][-2:] == [expected, "COMPLETE"]


THREE_LEVELS = """
top:
  Spawn:
    node_type: child
    event_triggers: [GO]
    child_workflow_name: middle
    child_initial_signals: [GO]
    signals_to_parent: [LEAF_DONE]
    context_updates_to_parent: [leaf]
middle:
  Spawn:
    node_type: child
    event_triggers: [GO]
    child_workflow_name: bottom
    child_initial_signals: [GO]
    signals_to_parent: [LEAF_DONE]
    context_updates_to_parent: [leaf]
bottom:
  Work:
    node_type: tool
    event_triggers: [GO, AGAIN]
    tool_name: work
    output_field: leaf
    event_emissions: [{signal_name: LEAF_DONE}]
"""


async def test_f_child_8_9_signals_and_values_travel_up_to_the_grandparent():
    count = iter(range(1, 100))

    def work() -> int:
        return next(count)

    async with SoeTestEnvironment(tools_registry={"work": work}) as env:
        eid = await env.soe.orchestrate(THREE_LEVELS, "top", ["GO"], {})
        middle_id = (await env.soe.describe(eid))["children"][0]
        bottom_id = (await env.soe.describe(middle_id))["children"][0]
        assert bottom_id == f"{eid}/Spawn-1/Spawn-1"
        top = await env.soe.get_context(eid)
        assert top["leaf"] == [1] and top["__operational__"]["signals"] == ["GO", "LEAF_DONE"]
        assert (await env.soe.get_context(bottom_id))["__operational__"]["main_execution_id"] == eid
        bottom = await env.soe.describe(bottom_id)
        assert (bottom["main_execution_id"], bottom["parent_execution_id"]) == (eid, middle_id)
        assert bottom["workflow_name"] == "bottom"

        # F-CHILD-14: signal a grandchild directly, later; it still reports up the tree.
        await env.soe.broadcast_signals(bottom_id, ["AGAIN"])
        await env.soe.wait_idle(eid)
        top = await env.soe.get_context(eid)
        middle = await env.soe.get_context(middle_id)
    # Q-28 decision: each new value is sent once, not the child's whole history again.
    assert top["leaf"] == [1, 2] and middle["leaf"] == [1, 2]
    assert top["__operational__"]["signals"] == ["GO", "LEAF_DONE", "LEAF_DONE"]


async def test_f_val_12_a_child_of_a_missing_workflow_fails_the_node():
    config = "w: {C: {node_type: child, event_triggers: [GO], child_workflow_name: nowhere, child_initial_signals: [S]}}"
    async with SoeTestEnvironment() as env:
        with pytest.raises(
            NodeFailedError,
            match=r"Workflow 'nowhere' not found in config. Available workflows: \['w'\]",
        ):
            await env.soe.orchestrate(config, "w", ["GO"], {})


async def test_a_failure_in_a_child_is_reported_by_the_call_that_caused_it():
    config = """
parent:
  C: {node_type: child, event_triggers: [GO], child_workflow_name: kid, child_initial_signals: [S]}
kid:
  T: {node_type: tool, event_triggers: [S], tool_name: missing_tool}
"""
    async with SoeTestEnvironment(tools_registry={}) as env:
        with pytest.raises(NodeFailedError) as failure:
            await env.soe.orchestrate(config, "parent", ["GO"], {}, execution_id="fam")
        assert "child execution 'fam/C-1'" in str(failure.value)
        assert "missing_tool" in str(failure.value)
        # A later signal that fails again in the child is reported again, and only then.
        with pytest.raises(NodeFailedError, match="fam/C-2"):
            await env.soe.broadcast_signals("fam", ["GO"])


async def _until_continued_as_new(env: SoeTestEnvironment, execution_id: str) -> None:
    handle = env.client.get_workflow_handle(execution_id)
    for _ in range(400):
        description = await handle.describe()
        if description.raw_info.first_run_id != description.run_id:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{execution_id} did not continue as new")


async def test_children_outlive_their_parent_s_continue_as_new():
    release = asyncio.Event()
    started = asyncio.Event()

    async def slow() -> str:
        started.set()
        await release.wait()
        return "finished"

    config = """
parent:
  C:
    node_type: child
    event_triggers: [GO]
    child_workflow_name: kid
    child_initial_signals: [S]
    signals_to_parent: [KID_DONE]
    context_updates_to_parent: [out]
kid:
  T: {node_type: tool, event_triggers: [S], tool_name: slow, output_field: out, event_emissions: [{signal_name: KID_DONE}]}
"""
    async with SoeTestEnvironment(
        tools_registry={"slow": slow}, continue_as_new_after_events=14
    ) as env:
        eid = await env.soe.orchestrate(config, "parent", ["GO"], {}, wait=False)
        await started.wait()
        for _ in range(4):  # the parent's history grows past 14 events: it continues as new
            await env.soe.broadcast_signals(eid, ["NOISE"], wait=False)
        await _until_continued_as_new(env, eid)
        release.set()
        await env.soe.wait_idle(eid)
        context = await env.soe.get_context(eid)
        description = await env.client.get_workflow_handle(eid).describe()
    assert description.raw_info.first_run_id != description.run_id
    assert context["out"] == ["finished"]
    assert context["__operational__"]["signals"][-1] == "KID_DONE"
