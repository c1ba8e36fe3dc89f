"""SOE's public API (F-API), storage contracts (F-BE) and telemetry (F-TEL) as they map onto
soe_temporal's client and Temporal, on the time-skipping server. soe-ai's own API
(``orchestrate(..., backends, broadcast_signals_caller)``) is ``soe_temporal.soe``'s."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from soe_temporal import (
    ConfigError,
    ExecutionNotFoundError,
    NodeFailedError,
    SoeError,
)
from soe_temporal.engine.events import Event
from soe_temporal.testing import SoeTestEnvironment

PARENT_AND_CHILD = """
workflows:
  main:
    Spawn:
      node_type: child
      event_triggers: [GO]
      child_workflow_name: worker
      child_initial_signals: [WORK]
      signals_to_parent: [DONE]
      context_updates_to_parent: [result]
    Ask:
      node_type: llm
      event_triggers: [DONE]
      prompt: "Sum up {{ context.result }}"
      identity: scribe
      output_field: summary
  worker:
    Work:
      node_type: tool
      event_triggers: [WORK]
      tool_name: work
      output_field: result
      event_emissions: [{signal_name: DONE}]
    Note:
      node_type: llm
      event_triggers: [WORK]
      prompt: "Note it"
      identity: scribe
      output_field: note
identities:
  scribe: "You keep the minutes."
context_schema:
  summary: string
"""


def work() -> str:
    return "forty-two"


def model(prompt: str, config: dict[str, Any]) -> str:
    field = config["output_field"]
    return '"the minutes"' if field == "summary" else f'{{"{field}": "noted"}}'


async def test_f_api_1_f_exec_11_orchestrate_returns_the_id_once_the_whole_tree_is_idle():
    """The whole cascade, the child's work and the parent's reaction to it included."""
    async with SoeTestEnvironment(call_llm=model, tools_registry={"work": work}) as env:
        eid = await env.soe.orchestrate(PARENT_AND_CHILD, "main", ["GO"], {})
        assert isinstance(eid, str)
        context = await env.soe.get_context(eid)
    assert context["result"] == ["forty-two"]
    assert context["summary"] == ["the minutes"]


async def test_f_exec_2_a_root_execution_gets_a_fresh_uuid4_and_children_derived_ids():
    """Children's ids derive from their parent's (README, mapping), so they are unique
    and deterministic on replay."""
    async with SoeTestEnvironment(call_llm=model, tools_registry={"work": work}) as env:
        first = await env.soe.orchestrate(PARENT_AND_CHILD, "main", ["GO"], {})
        second = await env.soe.orchestrate(PARENT_AND_CHILD, "main", ["GO"], {})
        children = (await env.soe.describe(first))["children"]
    assert uuid.UUID(first).version == 4 and first != second
    assert children == [f"{first}/Spawn-1"]


async def test_f_api_2_broadcast_signals_takes_a_list_of_signal_names():
    async with SoeTestEnvironment(call_llm=model, tools_registry={"work": work}) as env:
        eid = await env.soe.orchestrate(PARENT_AND_CHILD, "main", ["NOTHING"], {})
        with pytest.raises(ConfigError, match="signals must be a list"):
            await env.soe.broadcast_signals(eid, "GO")  # type: ignore[arg-type]
        await env.soe.broadcast_signals(eid, ["GO"])
        assert (await env.soe.get_context(eid))["result"] == ["forty-two"]


async def test_f_api_3_a_node_type_without_its_callable_fails_only_that_node():
    """Routers and children need nothing; llm and agent nodes need call_llm, tool nodes a
    tools registry. Without them the node fails with a clear error (our Q-20 fix)."""
    config = """
main:
  Route: {node_type: router, event_triggers: [GO], event_emissions: [{signal_name: ROUTED}]}
  Spawn: {node_type: child, event_triggers: [GO], child_workflow_name: leaf, child_initial_signals: [X]}
  Ask: {node_type: llm, event_triggers: [GO], prompt: "hi"}
  Call: {node_type: tool, event_triggers: [GO], tool_name: work}
leaf:
  Leaf: {node_type: router, event_triggers: [X], event_emissions: [{signal_name: Y}]}
"""
    async with SoeTestEnvironment() as env:
        with pytest.raises(NodeFailedError) as failed:
            await env.soe.orchestrate(config, "main", ["GO"], {})
        eid = failed.value.execution_id
        context = await env.soe.get_context(eid)
    assert sorted(f["node_name"] for f in failed.value.failures) == ["Ask", "Call"]
    assert "no LLM provider" in str(failed.value) and "not found" in str(failed.value)
    assert context["__operational__"]["signals"] == ["GO", "ROUTED"]
    assert context["__operational__"]["nodes"]["Spawn"] == 1


async def test_f_api_7_an_execution_without_identities_or_schema_runs_with_those_features_off():
    """SOE's optional backends turn features off; here they are sections of the config: no
    identities, no system prompt; no schema entry, no validation (a warning instead)."""
    seen: list[str] = []

    def call(prompt: str, config: dict[str, Any]) -> str:
        seen.append(prompt)
        return '{"summary": 7}'

    config = (
        "main:\n  Ask: {node_type: llm, event_triggers: [GO], prompt: hi, output_field: summary}\n"
    )
    async with SoeTestEnvironment(call_llm=call) as env:
        eid = await env.soe.orchestrate(config, "main", ["GO"], {})
        context = await env.soe.get_context(eid)
    assert context["summary"] == [7]  # unvalidated: no schema entry says it is a string
    assert len(seen) == 1


async def test_f_api_8_each_kind_of_failure_has_its_error_type():
    async with SoeTestEnvironment() as env:
        with pytest.raises(ConfigError):  # bad config or parameters, before anything starts
            await env.soe.orchestrate("main: {}", "main", ["GO"], {})
        with pytest.raises(ExecutionNotFoundError) as unknown:
            await env.soe.get_context("nobody")
        with pytest.raises(NodeFailedError) as failed:
            await env.soe.orchestrate(
                "main:\n  T: {node_type: tool, event_triggers: [GO], tool_name: gone}\n",
                "main",
                ["GO"],
                {},
            )
    assert isinstance(unknown.value, ValueError) and isinstance(failed.value, RuntimeError)
    assert all(isinstance(e, SoeError) for e in (unknown.value, failed.value))


async def test_f_cfg_6_f_id_2_identities_and_schema_belong_to_the_tree_and_are_inherited():
    """Saved with the execution at start, read by nodes anywhere in the tree (the child's
    llm node gets the system prompt), copied by config inheritance."""
    async with SoeTestEnvironment(call_llm=model, tools_registry={"work": work}) as env:
        first = await env.soe.orchestrate(PARENT_AND_CHILD, "main", ["GO"], {})
        history = await env.client.get_workflow_handle(first).query("soe_conversation")
        second = await env.soe.orchestrate(
            None, "main", ["NOTHING"], {}, inherit_config_from_id=first
        )
        inherited = await env.client.get_workflow_handle(second).query("soe_config")
    assert history[0] == {"role": "system", "content": "You keep the minutes."}
    assert [e["content"] for e in history[1:]].count("Note it") == 1  # the child's turn
    assert inherited["identities"] == {"scribe": "You keep the minutes."}
    assert inherited["context_schema"] == {"summary": "string"}


async def test_f_be_1_f_be_2_an_execution_s_context_registry_and_workflow_name():
    """get_context is the SOE-shaped context (a copy: changing it changes nothing);
    get_workflows the registry; describe names the current workflow. An unknown id is an
    error, where SOE's storage answers an empty mapping (README, Differences)."""
    async with SoeTestEnvironment(call_llm=model, tools_registry={"work": work}) as env:
        eid = await env.soe.orchestrate(PARENT_AND_CHILD, "main", ["GO"], {"x": 1})
        context = await env.soe.get_context(eid)
        context["x"].append(2)
        assert (await env.soe.get_context(eid))["x"] == [1]
        assert list(await env.soe.get_workflows(eid)) == ["main", "worker"]
        assert (await env.soe.describe(eid))["workflow_name"] == "main"
        with pytest.raises(ExecutionNotFoundError):
            await env.soe.get_workflows("nobody")


async def test_f_be_3_f_be_4_history_is_kept_under_the_main_id_identities_per_tree():
    async with SoeTestEnvironment(call_llm=model, tools_registry={"work": work}) as env:
        eid = await env.soe.orchestrate(PARENT_AND_CHILD, "main", ["GO"], {})
        child = f"{eid}/Spawn-1"
        main_history = await env.client.get_workflow_handle(eid).query("soe_conversation")
        child_history = await env.client.get_workflow_handle(child).query("soe_conversation")
        child_config = await env.client.get_workflow_handle(child).query("soe_config")
    assert len(main_history) == 5 and child_history == []
    assert child_config["identities"] == {"scribe": "You keep the minutes."}


class _Events(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(getattr(record, "soe_event", None), Event):
            self.records.append(record)


async def test_f_tel_1_f_be_5_every_event_is_logged_with_its_execution_and_time():
    """SOE's log_event(execution_id, event_type, timestamp, data): here each event is a
    record of the workflow logger (replay-safe), carrying the event, the execution id and
    the time; with the logger off nothing is logged and the counters are kept all the
    same."""
    logger = logging.getLogger("temporalio.workflow")
    handler, level = _Events(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        async with SoeTestEnvironment(call_llm=model, tools_registry={"work": work}) as env:
            eid = await env.soe.orchestrate(PARENT_AND_CHILD, "main", ["GO"], {})
            logger.setLevel(logging.WARNING)
            logged = len(handler.records)
            await env.soe.broadcast_signals(eid, ["NOTHING"])
            context = await env.soe.get_context(eid)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    mine = [r for r in handler.records if r.temporal_workflow["workflow_id"] == eid]
    kinds = [r.soe_event.event_type for r in mine]
    assert kinds[:2] == ["orchestration_start", "signals_broadcast"]
    assert all(r.created > 0 for r in mine)
    assert len(handler.records) == logged  # nothing while the logger was off
    assert context["__operational__"]["signals"][-1] == "NOTHING"  # counted all the same
